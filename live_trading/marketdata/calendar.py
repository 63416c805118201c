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

from live_trading.marketdata.universe import (
    REGULAR_HOURS,
    InstrumentError,
    SpecialSession,
    calendar_overrides,
    on_change,
    universe,
)

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


# ---------------------------------------------------------------------------------------------------
# Calendars of other markets, as data (``[calendars.NAME]`` in the data file)


class TradingCalendar:
    """One market's trading days and hours, for an underlying (`calendar_of`).

    Times are epoch seconds; a trading day is a date, its windows (open, close) epoch seconds with the
    close exclusive. ``clock`` is ``seconds`` (a day's rows are every second of its windows) or ``ticks``
    (only the seconds with a tick). The NSE's calendar is the functions above; `DataCalendar` is any
    other market's, read from the data file.
    """

    name = "NSE"
    clock = "seconds"
    time_zone = EXCHANGE_TZ

    def is_trading_day(self, d: date) -> bool:
        return is_trading_day(d)

    def trading_days(self, start: date, end: date) -> list[date]:
        return [d for d in _dates(start, end) if self.is_trading_day(d)]

    def windows_ts(self, d: date) -> tuple[tuple[int, int], ...]:
        """The day's windows as (open, close) epoch seconds, close exclusive."""
        midnight = exchange_midnight_ts(d)
        return tuple((midnight + a, midnight + b) for a, b in session_windows(d))

    def midnight_ts(self, d: date) -> int:
        """Epoch seconds of 00:00 on `d` in the market's time zone: clock times of the day (a strategy's
        start and square-off) count from it."""
        return exchange_midnight_ts(d)

    def utc_offset(self, d: date) -> int:
        """Seconds the market's clock is ahead of UTC on trading day `d` (+19,800 for IST)."""
        return IST_OFFSET_SECONDS

    def anchor_ts(self, d: date) -> int:
        """Where the day's candle grid starts (`candles.bucket_start`): 09:15 IST on an NSE day, even on a
        special session; a data calendar's first window's open."""
        return exchange_midnight_ts(d) + OPEN_SECOND

    def trading_date(self, ts: int) -> date | None:
        """The trading day whose windows hold epoch second `ts`, or None."""
        d = exchange_date(ts)
        return d if self.is_trading_day(d) and session_rows(d, np.array([ts]))[0] >= 0 else None

    def describe_hours(self, d: date) -> str:
        return f"{describe_hours(d)} IST"

    def grid(self, d: date, ts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The rows of trading day `d` for ticks at epoch seconds `ts`: (the day's row timestamps, the row
        of each tick, -1 outside the windows). With the ``seconds`` clock the rows are every second of
        the windows; with ``ticks`` the distinct seconds of `ts` inside them."""
        return trading_timestamps(d), session_rows(d, ts)


class DataCalendar(TradingCalendar):
    """A calendar of the data file (`universe.SessionCalendar`): its weekdays less its holidays, the same
    windows every trading day, in its time zone (daylight saving included: a window's clock times stay,
    its epoch seconds move)."""

    def __init__(self, spec):
        self.spec = spec
        self.name = spec.name
        self.clock = spec.clock
        self.time_zone = ZoneInfo(spec.time_zone)

    def is_trading_day(self, d: date) -> bool:
        return d.weekday() in self.spec.weekdays and d not in self.spec.holidays

    def _at(self, d: date, second: int) -> int:
        """Epoch seconds of the wall-clock time `second` seconds after midnight of `d` (may be negative)."""
        wall = datetime.combine(d, time(), tzinfo=self.time_zone) + timedelta(seconds=second)
        return int(wall.timestamp())

    def windows_ts(self, d: date) -> tuple[tuple[int, int], ...]:
        return tuple((self._at(d, a), self._at(d, b)) for a, b in self.spec.windows)

    def midnight_ts(self, d: date) -> int:
        return self._at(d, 0)

    def utc_offset(self, d: date) -> int:
        return int(datetime.fromtimestamp(self.windows_ts(d)[0][0], self.time_zone).utcoffset().total_seconds())

    def anchor_ts(self, d: date) -> int:
        return self.windows_ts(d)[0][0]

    def trading_date(self, ts: int) -> date | None:
        local = datetime.fromtimestamp(int(ts), self.time_zone).date()
        for d in (local, local + timedelta(days=1), local - timedelta(days=1)):
            if self.is_trading_day(d) and any(a <= ts < b for a, b in self.windows_ts(d)):
                return d
        return None

    def describe_hours(self, d: date) -> str:
        def clock(second: int) -> str:
            second %= 86_400
            return f"{second // 3600:02d}:{second % 3600 // 60:02d}:{second % 60:02d}"

        return ", ".join(f"{clock(a)}-{clock(b - 1)}" for a, b in self.spec.windows) + f" {self.spec.time_zone}"

    def grid(self, d: date, ts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ts = np.asarray(ts, dtype=np.int64)
        inside = np.zeros(len(ts), bool)
        for a, b in self.windows_ts(d):
            inside |= (ts >= a) & (ts < b)
        if self.clock == "seconds":
            stamps = np.concatenate([np.arange(a, b, dtype=np.int64) for a, b in self.windows_ts(d)])
        else:
            stamps = np.unique(ts[inside])
        rows = np.searchsorted(stamps, ts)
        return stamps, np.where(inside, rows, -1)


def _dates(start: date, end: date):
    d = start
    while d <= end:
        yield d
        d += timedelta(days=1)


NSE = TradingCalendar()


@functools.cache
def _calendars() -> dict[str, TradingCalendar]:
    return {"NSE": NSE, **{name: DataCalendar(spec) for name, spec in universe().calendars.items()}}


on_change(_calendars.cache_clear)


def calendar_of(underlying: str) -> TradingCalendar:
    """The trading calendar of `underlying` (its ``calendar`` in the data file; NSE by default)."""
    try:
        return _calendars()[universe().underlyings[underlying].calendar]
    except KeyError:
        raise InstrumentError(f"unknown underlying {underlying!r}", subject="underlying") from None


def trading_days_of(underlying: str, start: date, end: date) -> list[date]:
    """The trading days of `underlying`'s calendar from `start` to `end`; the NSE's for an underlying the
    data file no longer has (a stored session of it is still shown)."""
    try:
        calendar = calendar_of(underlying)
    except InstrumentError:
        return trading_days(start, end)
    return calendar.trading_days(start, end)


def time_zone_of(underlying: str) -> str:
    """The IANA name of the clock `underlying`'s market keeps (its calendar's ``time_zone``): ``Asia/Kolkata``
    on the NSE, ``America/New_York`` for ``FX_24X5``; the NSE's for an underlying the data file no longer
    has (a stored session of it is still shown)."""
    try:
        return calendar_of(underlying).time_zone.key
    except InstrumentError:
        return EXCHANGE_TZ.key
