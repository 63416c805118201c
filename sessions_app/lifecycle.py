"""Which status a simulation session may move to from which. Plain data, shared by actions and tests."""

CREATED, RUNNING, PAUSED = "created", "running", "paused"
COMPLETED, STOPPED, FAILED, INTERRUPTED = "completed", "stopped", "failed", "interrupted"

ACTIVE = frozenset({CREATED, RUNNING, PAUSED})
FINAL = frozenset({COMPLETED, STOPPED, FAILED, INTERRUPTED})

# target status -> statuses it may be reached from
ALLOWED_FROM: dict[str, frozenset[str]] = {
    RUNNING: frozenset({CREATED, PAUSED}),
    PAUSED: frozenset({RUNNING}),
    COMPLETED: frozenset({RUNNING}),
    STOPPED: ACTIVE,
    FAILED: ACTIVE,
    INTERRUPTED: ACTIVE,
}


class IllegalTransition(ValueError):
    """The session is not in a status from which the requested move is allowed."""
