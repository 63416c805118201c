"""The sessions running in this process, and their orderly end when the process stops."""

from __future__ import annotations

import atexit
import logging
import threading

from live_trading.runner.thread import Control, SessionThread

log = logging.getLogger(__name__)


class Registry:
    """Every session thread of this process, by session id.

    A session's thread is the only writer of its running state; everything else talks to it
    through ``send``.
    """

    def __init__(self):
        self._threads: dict[str, SessionThread] = {}
        self._lock = threading.Lock()
        self._atexit_registered = False

    def start(self, thread: SessionThread) -> SessionThread:
        with self._lock:
            if thread.session_id in self._threads:
                raise RuntimeError(f"session {thread.session_id} is already running in this process")
            self._threads[thread.session_id] = thread
            if not self._atexit_registered:
                # Registered after the database started (the session row exists), so it runs before the
                # embedded database's own exit handler stops the server: atexit runs handlers in reverse.
                atexit.register(self.shutdown, "the server process stopped")
                self._atexit_registered = True
        thread.start()
        return thread

    def forget(self, thread: SessionThread) -> None:
        with self._lock:
            if self._threads.get(thread.session_id) is thread:
                del self._threads[thread.session_id]

    def __len__(self) -> int:
        """How many session threads this process runs now."""
        return len(self._threads)

    def get(self, session_id: str) -> SessionThread | None:
        return self._threads.get(session_id)

    def send(self, session_id: str, message: Control) -> bool:
        """Deliver to a session running here; False if it does not run in this process."""
        thread = self._threads.get(session_id)
        if thread is None:
            return False
        thread.send(message)
        return True

    def shutdown(self, reason: str = "the server process stopped", timeout: float = 10.0) -> list[str]:
        """Stop every thread at a tick boundary, let each flush, and mark its session interrupted."""
        with self._lock:
            threads = list(self._threads.values())
        for thread in threads:
            thread.send(Control("interrupt", reason))
        for thread in threads:
            thread.join(timeout)
            if thread.is_alive():
                log.error("session %s did not stop within %ss", thread.session_id, timeout)
        return [t.session_id for t in threads]


registry = Registry()
