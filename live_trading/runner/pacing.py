"""Pacing a replay: exchange time divided by the speed multiplier. Plain Python, no threads, no Django."""

from __future__ import annotations

import time
from collections.abc import Callable

from live_trading.marketdata.calendar import NSE, TradingCalendar

MAX_SPEED = 0.0  # a multiplier of 0 means "as fast as possible"


class Pacer:
    """Say how long to wait before a tick with exchange timestamp ``ts`` (seconds) is due.

    The replay is anchored at a (wall time, exchange time) pair; a tick is due at
    ``anchor_wall + (ts - anchor_ts) / speed``. Changing the speed or resuming after a pause
    re-anchors at the current point, so neither makes the replay jump to catch up. The gap between two
    session windows of a day (a DR drill's 10:00-11:30) takes no wall time: the anchor moves over it;
    nor does the night (with weekends and holidays) between two days of a multi-day session: the next
    day's open follows the last day's close one second later, as the next tick of a day would.
    Days and windows are the session's market's (``calendar``: the NSE's 09:15-15:30 IST days; an FX
    day's 24 hours from 17:00 New York, so its weekend is skipped and its hours are not).
    """

    def __init__(self, speed: float, clock: Callable[[], float] = time.monotonic, calendar: TradingCalendar = NSE):
        if speed < 0:
            raise ValueError("speed must be >= 0 (0 is as fast as possible)")
        self.speed = speed
        self._clock = clock
        self._calendar = calendar
        self._anchor_wall: float | None = None
        self._anchor_ts: float | None = None
        self._last_ts: float | None = None

    def delay(self, ts: float) -> float:
        """Seconds to wait before processing the tick at ``ts``; 0 when it is due or overdue."""
        if self.speed == MAX_SPEED:
            return 0.0
        now = self._clock()
        last, self._last_ts = self._last_ts, ts
        if self._anchor_wall is None:
            self._anchor_wall, self._anchor_ts = now, ts
            return 0.0
        if last is not None and ts - last > 1:
            calendar = self._calendar
            day = calendar.day_of(ts)
            if calendar.day_of(last) == day:
                # Seconds between the two ticks that lie outside the day's windows are skipped.
                closed = (ts - last) - (calendar.elapsed_seconds(ts, day) - calendar.elapsed_seconds(last, day))
            else:
                # A later day: all but one second to its open, and its trading seconds before ``ts``.
                closed = (ts - last) - 1 - calendar.elapsed_seconds(ts, day)
            self._anchor_ts += max(0, closed)
        due = self._anchor_wall + (ts - self._anchor_ts) / self.speed
        return max(0.0, due - now)

    def reanchor(self) -> None:
        """Forget the anchor: the next tick is due at once and later ticks are paced from it."""
        self._anchor_wall = self._anchor_ts = None

    def set_speed(self, speed: float) -> None:
        if speed < 0:
            raise ValueError("speed must be >= 0 (0 is as fast as possible)")
        self.speed = speed
        self.reanchor()
