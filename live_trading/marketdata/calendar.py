"""Exchange time and the trading calendar.

Timestamps everywhere in the market-data layer are int64 epoch seconds (UTC). The exchange runs on
Asia/Kolkata time (+05:30, no daylight saving since 1945), so converting between the two is a fixed
offset; `EXCHANGE_TZ` is only needed for formatting.

Trading days come from the `exchange_calendars` package (calendar ``XBOM``), which ships the Indian
exchange holidays offline; NSE and BSE share the equity-derivatives holiday list. The package is
imported lazily because it takes over half a second to load. Days outside the range the package
covers fall back to Monday-Friday, which is stated in docs/marketdata.md.

A trading day has a list of session windows: 09:15:00-15:29:59 on a regular day, the hours of its own
on a special session of the data file (``[[calendar.extra_sessions]]``: a Saturday, the two windows of
a DR drill, a Muhurat evening). A day's rows are the seconds of its windows, in order; the gap between
two windows has no rows.
"""

from __future__ import annotations

import functools
import time as time_module
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from live_trading.marketdata.universe import REGULAR_HOURS, SpecialSession, calendar_overrides, on_change

EXCHANGE_TZ = ZoneInfo("Asia/Kolkata")
IST_OFFSET_SECONDS = 5 * 3600 + 30 * 60

MARKET_OPEN = time(9, 15)
MARKET_CLOSE = time(15, 30)
"""The first second after the session: the last tick of a day is at 15:29:59."""

TRADING_SECONDS = 22_500
"""A regular session, 09:15:00 to 15:29:59 inclusive, one row per second (`trading_seconds(day)` gives a
day's own count)."""

OPEN_SECOND = MARKET_OPEN.hour * 3600 + MARKET_OPEN.minute * 60
"""09:15:00 as seconds after exchange midnight."""
LAST_SECOND = OPEN_SECOND + TRADING_SECONDS - 1
"""15:29:59, the last second with a tick, as seconds after exchange midnight."""
_CALENDAR_NAME = "XBOM"

LAST_DAY = date(2099, 12, 31)
"""The last day the market data models. The synthetic market walks its daily process one year after
another from 2010 and looks months ahead for expiries, so a day centuries on would take minutes, exhaust
the recursion of that walk or run past the end of Python's dates (9999); `generate_day` and the commands'
``--date``/``--to`` refuse days after it."""


def exchange_midnight_ts(day: date) -> int:
    """Epoch seconds of 00:00:00 IST on `day`."""
    return (day - date(1970, 1, 1)).days * 86_400 - IST_OFFSET_SECONDS


def special_session(day: date) -> SpecialSession | None:
    """The data file's special session on `day`, if it has one."""
    return _special_sessions().get(day)


def session_windows(day: date) -> tuple[tuple[int, int], ...]:
    """The day's normal-market windows as (open, close) seconds after exchange midnight, close exclusive:
    ``((33300, 55800),)`` (09:15-15:30) on a regular day; a special session's own hours otherwise."""
    special = _special_sessions().get(day)
    return special.windows if special is not None else REGULAR_HOURS


def trading_seconds(day: date) -> int:
    """How many one-second rows `day` has: 22,500 on a regular day."""
    return sum(close - open_ for open_, close in session_windows(day))


def market_open_ts(day: date) -> int:
    """Epoch seconds of the day's first second of trading (09:15:00 IST on a regular day)."""
    return exchange_midnight_ts(day) + session_windows(day)[0][0]


def market_close_ts(day: date) -> int:
    """Epoch seconds of the end of the day's last window (15:30:00 IST on a regular day), one second
    after its last tick."""
    return exchange_midnight_ts(day) + session_windows(day)[-1][1]


def trading_timestamps(day: date) -> np.ndarray:
    """The per-second timestamps of the day's windows, in order, int64: the 22,500 seconds 09:15:00 to
    15:29:59 IST of a regular day."""
    midnight = exchange_midnight_ts(day)
    return np.concatenate([np.arange(midnight + a, midnight + b, dtype=np.int64) for a, b in session_windows(day)])


def session_rows(day: date, ts: np.ndarray) -> np.ndarray:
    """The row of each epoch second of `ts` in the day's matrices (`trading_timestamps(day)`), -1 for a
    time outside the day's windows."""
    ts = np.asarray(ts, dtype=np.int64)
    windows = session_windows(day)
    if len(windows) == 1:  # every regular day: an offset (a search would slow reading a day file down)
        (open_, close), = windows
        rows = ts - (exchange_midnight_ts(day) + open_)
        return np.where((rows >= 0) & (rows < close - open_), rows, -1)
    stamps = trading_timestamps(day)
    rows = np.searchsorted(stamps, ts)
    inside = rows < len(stamps)
    inside[inside] = stamps[rows[inside]] == ts[inside]
    return np.where(inside, rows, -1)


def elapsed_trading_seconds(ts: int) -> int:
    """Trading seconds of its exchange day before epoch second `ts` (0 before the open, the day's
    `trading_seconds` after its close; the gap between two windows does not count)."""
    day = exchange_date(ts)
    second = int(ts) - exchange_midnight_ts(day)
    return sum(max(0, min(second, close) - open_) for open_, close in session_windows(day))


def describe_hours(day: date) -> str:
    """The day's windows as exchange clock times of their first and last second:
    ``09:15:00-15:29:59`` on a regular day, ``09:15:00-09:59:59, 11:30:00-12:29:59`` on a DR drill."""
    def clock(second: int) -> str:
        return f"{second // 3600:02d}:{second % 3600 // 60:02d}:{second % 60:02d}"

    return ", ".join(f"{clock(a)}-{clock(b - 1)}" for a, b in session_windows(day))


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
    sessions |= {s.date for s in extra.extra_sessions}
    sessions -= set(extra.extra_holidays)
    return cal.first_session.date(), cal.last_session.date(), frozenset(sessions)


@functools.cache
def _special_sessions() -> dict[date, SpecialSession]:
    return {s.date: s for s in calendar_overrides().extra_sessions}


on_change(_calendar_days.cache_clear)
on_change(_special_sessions.cache_clear)


def calendar_covers(d: date) -> bool:
    """Whether the exchange calendar package has holiday data for `d`."""
    first, last, _ = _calendar_days()
    return first <= d <= last


def is_trading_day(d: date) -> bool:
    """Whether the exchange trades on `d`: a regular session or a special one (`session_windows`).

    Outside the calendar package's range every Monday-Friday counts as a trading day, plus the data
    file's special sessions.
    """
    first, last, sessions = _calendar_days()
    if first <= d <= last:
        return d in sessions
    return d.weekday() < 5 or d in _special_sessions()


def holds_expiries(d: date) -> bool:
    """Whether a contract may expire on `d`: a trading day that is not a short special session (a DR
    drill or a Muhurat evening; NSE moves such an expiry to the previous trading day)."""
    special = _special_sessions().get(d)
    return is_trading_day(d) and (special is None or special.expiries)


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
