"""A simulation session's statuses and which it may move to from which: the one list the model's
choices, its partial index, every query and the actions use. Plain data."""

CREATED, RUNNING, PAUSED = "created", "running", "paused"
COMPLETED, STOPPED, FAILED, INTERRUPTED = "completed", "stopped", "failed", "interrupted"

STATUSES = (CREATED, RUNNING, PAUSED, COMPLETED, STOPPED, FAILED, INTERRUPTED)
"""Every status, in the order a session meets them (the model's choices keep this order)."""
ACTIVE = frozenset({CREATED, RUNNING, PAUSED})
FINAL = frozenset(STATUSES) - ACTIVE

RESUMABLE = frozenset({INTERRUPTED})
"""Final for now, but not an end: a resume replays the session to where it stopped and goes on."""

# target status -> statuses it may be reached from
ALLOWED_FROM: dict[str, frozenset[str]] = {
    RUNNING: frozenset({CREATED, PAUSED}) | RESUMABLE,
    PAUSED: frozenset({RUNNING}),
    COMPLETED: frozenset({RUNNING}),
    STOPPED: ACTIVE,
    FAILED: ACTIVE,
    INTERRUPTED: ACTIVE,
}


class IllegalTransition(ValueError):
    """The session is not in a status from which the requested move is allowed."""
