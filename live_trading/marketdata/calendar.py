"""Exchange time and the trading calendar.

Timestamps everywhere in the market-data layer are int64 epoch seconds (UTC). The exchange runs on
Asia/Kolkata time (+05:30, no daylight saving since 1945), so converting between the two is a fixed
offset; `EXCHANGE_TZ` is only needed for formatting.

Trading days come from the `exchange_calendars` package (calendar ``XBOM``), which ships the Indian
exchange holidays offline; NSE and BSE share the equity-derivatives holiday list. The package is
imported lazily because it takes over half a second to load. Days outside the range the package
covers fall back to Monday-Friday, which is stated in docs/marketdata.md.
"""

from __future__ import annotations

import functools
import time as time_module
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from live_trading.marketdata.universe import calendar_overrides, on_change

EXCHANGE_TZ = ZoneInfo("Asia/Kolkata")
IST_OFFSET_SECONDS = 5 * 3600 + 30 * 60

MARKET_OPEN = time(9, 15)
MARKET_CLOSE = time(15, 30)
"""The first second after the session: the last tick of a day is at 15:29:59."""

TRADING_SECONDS = 22_500
"""09:15:00 to 15:29:59 inclusive, one row per second."""

OPEN_SECOND = MARKET_OPEN.hour * 3600 + MARKET_OPEN.minute * 60
"""09:15:00 as seconds after exchange midnight."""
LAST_SECOND = OPEN_SECOND + TRADING_SECONDS - 1
"""15:29:59, the last second with a tick, as seconds after exchange midnight."""
_CALENDAR_NAME = "XBOM"


def market_open_ts(day: date) -> int:
    """Epoch seconds of 09:15:00 IST on `day`."""
    midnight_utc = (day - date(1970, 1, 1)).days * 86_400
    return midnight_utc - IST_OFFSET_SECONDS + OPEN_SECOND


def market_close_ts(day: date) -> int:
    """Epoch seconds of 15:30:00 IST on `day` (one second after the last tick)."""
    return market_open_ts(day) + TRADING_SECONDS


def trading_timestamps(day: date) -> np.ndarray:
    """The 22,500 per-second timestamps 09:15:00 to 15:29:59 IST of `day`, int64."""
    return np.arange(TRADING_SECONDS, dtype=np.int64) + market_open_ts(day)


def exchange_datetime(ts: int) -> datetime:
    """An aware datetime in exchange time for epoch seconds `ts`."""
    return datetime.fromtimestamp(int(ts), tz=EXCHANGE_TZ)


def exchange_date(ts: int) -> date:
    """The exchange (IST) calendar date of epoch seconds `ts`."""
    return date(1970, 1, 1) + timedelta(days=(int(ts) + IST_OFFSET_SECONDS) // 86_400)


def exchange_today() -> date:
    """The exchange's calendar date now (the server's own time zone plays no part)."""
    return exchange_date(int(time_module.time()))


@functools.cache
def _calendar_days() -> tuple[date, date, frozenset[date]]:
    import exchange_calendars

    cal = exchange_calendars.get_calendar(_CALENDAR_NAME)
    sessions = {ts.date() for ts in cal.sessions}
    extra = calendar_overrides()
    sessions |= set(extra.extra_sessions)
    sessions -= set(extra.extra_holidays)
    return cal.first_session.date(), cal.last_session.date(), frozenset(sessions)


on_change(_calendar_days.cache_clear)


def calendar_covers(d: date) -> bool:
    """Whether the exchange calendar package has holiday data for `d`."""
    first, last, _ = _calendar_days()
    return first <= d <= last


def is_trading_day(d: date) -> bool:
    """Whether the exchange holds a regular session on `d`.

    Outside the calendar package's range every Monday-Friday counts as a trading day.
    """
    first, last, sessions = _calendar_days()
    if first <= d <= last:
        return d in sessions
    return d.weekday() < 5


def previous_trading_day(d: date) -> date:
    """The last trading day strictly before `d`."""
    d -= timedelta(days=1)
    while not is_trading_day(d):
        d -= timedelta(days=1)
    return d


def next_trading_day(d: date) -> date:
    """The first trading day strictly after `d`."""
    d += timedelta(days=1)
    while not is_trading_day(d):
        d += timedelta(days=1)
    return d


def trading_days(start: date, end: date) -> list[date]:
    """Trading days from `start` to `end`, both inclusive."""
    days = []
    d = start
    while d <= end:
        if is_trading_day(d):
            days.append(d)
        d += timedelta(days=1)
    return days
