"""How many streams this server process holds open now: a process-local gauge for the operations page.

Each process counts only its own connections (several daphne processes each have their own count);
the operations page shows the count of the process that answered it, named by its ``host:pid``.
"""

from __future__ import annotations

import threading


class Gauge:
    """A counter that goes up and down; safe to use from any thread."""

    def __init__(self):
        self._value = 0
        self._lock = threading.Lock()

    def up(self) -> None:
        with self._lock:
            self._value += 1

    def down(self) -> None:
        with self._lock:
            self._value -= 1

    @property
    def value(self) -> int:
        return self._value


open_streams = Gauge()  # SSE responses between their first byte and their end, in this process
