"""Adopting sessions whose owner process is gone: a thread of every serving process (docs/runner.md).

Every ``SIM_LEASE_RENEW_SECONDS`` it calls ``actions.adopt_expired_sessions``: a running or paused session
whose lease expired past the grace period (or whose owner was a process of this host that no longer
exists) is taken over here and resumed from its last commit. Several processes may look at once; the
conditional UPDATE that takes a lease lets exactly one of them have it.
"""

from __future__ import annotations

import logging
import threading

from django.conf import settings
from django.db import connection

log = logging.getLogger(__name__)


class Adopter(threading.Thread):
    """Look for sessions to adopt, now and then, until the process ends."""

    def __init__(self):
        super().__init__(name="session-adopter", daemon=True)
        self.stopping = threading.Event()

    def run(self) -> None:
        from live_trading.actions import adopt_expired_sessions

        refused: dict[str, str] = {}  # sessions this process could not rebuild, tried again once their lease changes
        while not self.stopping.wait(settings.SIM_LEASE_RENEW_SECONDS):
            try:
                # "adopted" is logged the moment the lease is ours, before the session runs here: a
                # reader who sees it running in this process finds the line already written.
                for session, outcome in adopt_expired_sessions(taken=_adopted, refused=refused):
                    if outcome != "resumed":
                        log.warning("session %s (%s): %s", session.id, session.strategy_name, outcome)
            except Exception:  # the database away for a moment: look again at the next turn
                log.exception("looking for sessions to adopt failed")
            finally:
                connection.close()


def _adopted(session) -> None:
    log.warning("session %s (%s): adopted", session.id, session.strategy_name)


_adopter: Adopter | None = None
_lock = threading.Lock()


def start_adopter() -> None:
    """Start this process's adopter once (when ``SIM_ADOPT`` is on); the ASGI server calls it at start."""
    global _adopter
    if not settings.SIM_ADOPT:
        return
    with _lock:
        if _adopter is None:
            _adopter = Adopter()
            _adopter.start()


def stop_adopter() -> None:
    """Stop looking (the process is shutting down: it must not adopt what it is about to interrupt)."""
    if _adopter is not None:
        _adopter.stopping.set()
