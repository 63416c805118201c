"""The instrument universe as data: the underlyings' dated contract facts, the calendar corrections and
the risk-free rate, read from ``data/underlyings.toml`` (sources in docs/marketdata.md).

A leaf of the market-data layer: it imports only `symbols`, so the trading calendar (`sessions`) and the
contract rules (`instruments`) both read it without importing each other.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

from live_trading.marketdata.symbols import parse_symbol
from live_trading.refusals import Refused

DATA_FILE = Path(__file__).with_name("data") / "underlyings.toml"
_WEEKDAYS = {"MON": 0, "TUE": 1, "WED": 2, "THU": 3, "FRI": 4, "NONE": None}


class InstrumentError(Refused, ValueError):
    """An unknown underlying (subject ``underlying``), or a date the contract facts do not cover."""

    subject = "date"


@dataclass(frozen=True)
class LotRevision:
    lot: int
    first_weekly_expiry: date | None
    first_monthly_expiry: date | None
    long_dated_switch: date | None
    source: str


@dataclass(frozen=True)
class Margin:
    """What an open position blocks of the account, as fractions of notional (a documented approximation,
    not SPAN; docs/marketdata.md, "Margin"): ``underlying`` of a position in the underlying itself (price x
    quantity; an NSE index is traded as its futures), ``short_option`` of a sold option (of the underlying's
    notional, underlying LTP x quantity); a bought option always blocks its premium. ``source`` says where
    the rates come from. Without a ``margin`` table an instrument is fully paid (1: no leverage)."""

    underlying: Decimal = Decimal(1)
    short_option: Decimal = Decimal(1)
    source: str = "no margin rates in the data file: fully paid, no leverage"


FULLY_PAID = Margin()


@dataclass(frozen=True)
class Underlying:
    """One underlying and its dated contract facts, as read from the data file."""

    name: str
    description: str
    kind: str
    exchange: str
    tick_size_paise: int
    spot_tick_paise: int
    annual_vol: float
    level_anchors: tuple[tuple[date, float], ...]
    strike_steps: tuple[tuple[date, Decimal], ...]
    weekly_rules: tuple[tuple[date, int | None], ...]
    monthly_rules: tuple[tuple[date, int | None], ...]
    lot_revisions: tuple[LotRevision, ...] = field(default=())
    price_decimals: int = 2
    """Prices are integers of 10**-price_decimals of `currency` inside the engine and the day files: paise
    for the rupee (2), 0.00001 for an FX pair quoted to five places. Every ``*_paise`` field counts these
    minor units."""
    currency: str = "INR"
    calendar: str = "NSE"
    """The trading calendar (`calendar.calendar_of`): ``NSE``, or a ``[calendars.NAME]`` table of the data file."""
    contract_size: int | None = None
    """Units in one lot when the underlying itself is traded; None: the current monthly option's lot (NSE
    index futures)."""
    margin: Margin = FULLY_PAID
    """Its margin rates (``[underlyings.NAME.margin]``)."""

    @property
    def has_options(self) -> bool:
        return bool(self.monthly_rules)

    @property
    def synthetic(self) -> bool:
        """Whether the synthetic market can generate its days: NSE instruments with ``level_anchors`` (the
        levels its daily process follows); another market's days, and an NSE stock given without them,
        are imported only (a day not imported is refused with `store.MarketDataMissing`)."""
        return self.calendar == "NSE" and bool(self.level_anchors)


@dataclass(frozen=True)
class SpecialSession:
    """A day the exchange traded with hours of its own (a Saturday, a DR drill, a Muhurat evening).

    ``windows`` are the normal-market windows as (open, close) seconds after exchange midnight, close
    exclusive (the last tick of 09:15-10:00 is at 09:59:59). ``expiries`` says whether contracts may
    expire that day (a full trading day); an expiry falling on a day without them moves back.
    """

    date: date
    windows: tuple[tuple[int, int], ...]
    kind: str = "regular"
    expiries: bool = True
    source: str = ""


@dataclass(frozen=True)
class SessionCalendar:
    """A market's calendar as data (``[calendars.NAME]``): its time zone, the weekdays it trades, its
    holidays and the hours of a trading day.

    ``windows`` are (open, close) seconds after midnight of the trading day in ``time_zone``, close
    exclusive; an open below zero is on the evening before (spot FX: -7 h, 17:00 New York the day before,
    to 17:00). ``clock`` says which seconds a replay visits: ``seconds`` every second of the windows (the
    NSE's, where the synthetic market ticks every second) or ``ticks`` only those with a tick (a market
    open around the clock, replayed from bars).
    """

    name: str
    time_zone: str
    weekdays: frozenset[int]
    windows: tuple[tuple[int, int], ...]
    holidays: frozenset[date] = frozenset()
    clock: str = "ticks"
    description: str = ""
    source: str = ""
    special: Mapping[date, SpecialSession] = field(default_factory=dict, hash=False)
    """Days with hours of their own (``extra_sessions``: an early close, a trading Saturday), by date; their
    windows count as ``windows`` do, from midnight of that day in ``time_zone``. Such a day trades whatever
    its weekday and the holidays say."""


@dataclass(frozen=True)
class CalendarOverrides:
    extra_holidays: tuple[date, ...]
    extra_sessions: tuple[SpecialSession, ...]


@dataclass(frozen=True)
class Universe:
    """Everything in one data file: the underlyings, the calendar corrections and the rate."""

    underlyings: Mapping[str, Underlying]
    calendar: CalendarOverrides
    risk_free_rate: float
    calendars: Mapping[str, SessionCalendar] = field(default_factory=dict)

    @classmethod
    def from_file(cls, path: Path) -> Universe:
        with open(path, "rb") as fh:
            raw = tomllib.load(fh)
        cal = raw.get("calendar", {})
        calendars = {name: _session_calendar(name, spec) for name, spec in raw.get("calendars", {}).items()}
        underlyings = {name: _underlying(name, spec) for name, spec in raw["underlyings"].items()}
        for u in underlyings.values():
            if u.calendar != "NSE" and u.calendar not in calendars:
                raise InstrumentError(f"{u.name}.calendar: no calendar {u.calendar!r} (known: NSE, "
                                      f"{', '.join(sorted(calendars)) or 'no [calendars] tables'})", subject="calendar")
        return cls(
            underlyings=underlyings,
            calendars=calendars,
            calendar=CalendarOverrides(
                tuple(cal.get("extra_holidays", ())),
                tuple(_special_session(item) for item in cal.get("extra_sessions", ())),
            ),
            risk_free_rate=float(raw.get("risk_free_rate", 0.0)),
        )


REGULAR_HOURS = ((9 * 3600 + 15 * 60, 15 * 3600 + 30 * 60),)
"""09:15:00 to 15:30:00 (the last tick at 15:29:59), as (open, close) seconds after exchange midnight."""


def _clock(text: str, where: str, upto: int = 24) -> int:
    try:
        hours, minutes = (int(part) for part in str(text).split(":"))
    except ValueError:
        raise InstrumentError(f"{where}: {text!r} is not a time HH:MM", subject="calendar") from None
    if not (0 <= hours < upto and 0 <= minutes < 60) or hours * 60 + minutes > 24 * 60:
        raise InstrumentError(f"{where}: {text!r} is not a time HH:MM", subject="calendar")
    return hours * 3600 + minutes * 60


def _special_session(item) -> SpecialSession:
    """An ``extra_sessions`` entry: a plain date (regular hours) or a table with ``date``, ``hours``
    (a list of ["HH:MM", "HH:MM"] windows, in order, not overlapping), ``kind``, ``expiries``, ``source``."""
    if isinstance(item, date):
        return SpecialSession(item, REGULAR_HOURS)
    day = item["date"]
    where = f"calendar.extra_sessions {day}"
    windows = tuple((_clock(a, where), _clock(b, where)) for a, b in item.get("hours", ()))
    if not windows:
        windows = REGULAR_HOURS
    previous_close = 0
    for open_, close in windows:
        if not previous_close <= open_ < close:
            raise InstrumentError(f"{where}: hours must be increasing, non-overlapping windows", subject="calendar")
        previous_close = close
    kind = item.get("kind", "regular")
    return SpecialSession(day, windows, kind, bool(item.get("expiries", kind == "regular")), item.get("source", ""))


def _calendar_session(name: str, item, regular: tuple[tuple[int, int], ...]) -> SpecialSession:
    """An ``extra_sessions`` entry of a ``[calendars.NAME]`` table: a plain date (a day with the calendar's
    own hours, on a weekday it does not trade or a holiday) or a table with ``date``, ``hours`` (windows as
    the calendar's ``hours`` are written: the first may open the evening before, "24:00" ends the day),
    ``kind`` and ``source``. An early close is the regular hours with an earlier close."""
    if isinstance(item, date):
        return SpecialSession(item, regular)
    if not isinstance(item, dict) or not isinstance(item.get("date"), date):
        raise InstrumentError(f"calendars.{name}.extra_sessions: each entry needs a date (YYYY-MM-DD)",
                              subject="calendar")
    day = item["date"]
    hours = item.get("hours")
    windows = _windows(hours, f"calendars.{name}.extra_sessions {day}.hours") if hours else regular
    kind = item.get("kind", "regular")
    return SpecialSession(day, windows, kind, bool(item.get("expiries", kind == "regular")), item.get("source", ""))


def _windows(hours, where: str) -> tuple[tuple[int, int], ...]:
    """A data calendar's ``hours``: ["HH:MM", "HH:MM"] windows in order, "24:00" the end of the day, and a
    first window whose open is not before its close opening the evening before; as (open, close) seconds
    after midnight, the open of such a first window negative."""
    windows = []
    for i, pair in enumerate(hours or ()):
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            raise InstrumentError(f"{where}: each window is [\"HH:MM\", \"HH:MM\"]", subject="calendar")
        open_, close = _clock(pair[0], where, 25), _clock(pair[1], where, 25)
        if i == 0 and open_ >= close:
            open_ -= 86_400  # the evening before
        windows.append((open_, close))
    if not windows:
        raise InstrumentError(f"{where}: at least one window is needed", subject="calendar")
    previous = -86_400
    for open_, close in windows:
        if not previous <= open_ < close or close - windows[0][0] > 86_400:
            raise InstrumentError(f"{where}: windows must be increasing, not overlapping, within 24 hours",
                                  subject="calendar")
        previous = close
    return tuple(windows)


_WEEKDAY_NUMBERS = {"MON": 0, "TUE": 1, "WED": 2, "THU": 3, "FRI": 4, "SAT": 5, "SUN": 6}
CLOCKS = ("seconds", "ticks")


def _session_calendar(name: str, spec: dict) -> SessionCalendar:
    """A ``[calendars.NAME]`` table: ``time_zone`` (IANA), ``weekdays`` (["MON", ... "SUN"]), ``hours``
    (["HH:MM", "HH:MM"] windows in order; "24:00" is the end of the day, and a first window whose open is
    not before its close opens the evening before: ["17:00", "17:00"] is 24 hours from 17:00 the day
    before), ``holidays`` (dates), ``extra_sessions`` (days with hours of their own, `_calendar_session`),
    ``clock`` (``seconds`` or ``ticks``, default ``ticks``), ``source``. `InstrumentError` (subject
    ``calendar``) naming the field for anything else."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    where = f"calendars.{name}"
    try:
        ZoneInfo(str(spec.get("time_zone", "")))
    except (ZoneInfoNotFoundError, ValueError):
        raise InstrumentError(f"{where}.time_zone: {spec.get('time_zone')!r} is not an IANA time zone such as "
                              "America/New_York", subject="calendar") from None
    days = spec.get("weekdays", ())
    unknown = [d for d in days if d not in _WEEKDAY_NUMBERS]
    if unknown or not days:
        raise InstrumentError(f"{where}.weekdays: give some of {list(_WEEKDAY_NUMBERS)}", subject="calendar")
    windows = _windows(spec.get("hours", ()), f"{where}.hours")
    clock = spec.get("clock", "ticks")
    if clock not in CLOCKS:
        raise InstrumentError(f"{where}.clock: {clock!r} is not one of {', '.join(CLOCKS)}", subject="calendar")
    special: dict[date, SpecialSession] = {}
    for item in spec.get("extra_sessions", ()):
        session = _calendar_session(name, item, windows)
        if session.date in special:
            raise InstrumentError(f"{where}.extra_sessions: {session.date} is listed twice", subject="calendar")
        special[session.date] = session
    return SessionCalendar(
        name=name,
        time_zone=spec["time_zone"],
        weekdays=frozenset(_WEEKDAY_NUMBERS[d] for d in days),
        windows=tuple(windows),
        holidays=frozenset(spec.get("holidays", ())),
        clock=clock,
        description=spec.get("description", name),
        source=spec.get("source", ""),
        special=special,
    )


def _underlying(name: str, spec: dict) -> Underlying:
    parse_symbol(name)  # the table name must be a valid underlying symbol

    def rules(key: str) -> tuple[tuple[date, int | None], ...]:
        periods = []
        for item in spec.get(key, ()):
            if item["weekday"] not in _WEEKDAYS:
                raise InstrumentError(f"{name}.{key}: weekday {item['weekday']!r} is not one of {list(_WEEKDAYS)}")
            periods.append((item["from"], _WEEKDAYS[item["weekday"]]))
        return tuple(sorted(periods))

    return Underlying(
        name=name,
        description=spec.get("description", name),
        kind=spec.get("kind", "index"),
        exchange=spec.get("exchange", "NSE"),
        tick_size_paise=int(spec.get("tick_size_paise", 5)),
        spot_tick_paise=int(spec.get("spot_tick_paise", spec.get("tick_size_paise", 5))),
        annual_vol=float(spec.get("annual_vol", 0.15)),
        level_anchors=tuple((d, float(v)) for d, v in spec.get("level_anchors", ())),
        strike_steps=tuple(sorted((s["from"], Decimal(str(s["step"]))) for s in spec.get("strike_steps", ()))),
        weekly_rules=rules("weekly_expiry"),
        monthly_rules=rules("monthly_expiry"),
        price_decimals=_decimals(name, spec.get("price_decimals", 2)),
        currency=str(spec.get("currency", "INR")),
        calendar=str(spec.get("calendar", "NSE")),
        contract_size=int(spec["contract_size"]) if "contract_size" in spec else None,
        margin=_margin(name, spec.get("margin")),
        lot_revisions=tuple(
            LotRevision(
                lot=int(r["lot"]),
                first_weekly_expiry=r.get("first_weekly_expiry"),
                first_monthly_expiry=r.get("first_monthly_expiry"),
                long_dated_switch=r.get("long_dated_switch"),
                source=r.get("source", ""),
            )
            for r in spec.get("lot_sizes", ())
        ),
    )


def _margin(name: str, spec) -> Margin:
    """A ``[underlyings.NAME.margin]`` table: ``underlying`` and ``short_option`` rates (fractions of notional
    above 0 and at most 1, as strings such as ``"0.12"`` or numbers; each defaults to 1, fully paid) and
    ``source``. None: fully paid."""
    if spec is None:
        return FULLY_PAID
    if not isinstance(spec, dict):
        raise InstrumentError(f"{name}.margin: a table with underlying, short_option and source", subject="underlying")
    unknown = sorted(set(spec) - {"underlying", "short_option", "source"})
    if unknown:
        raise InstrumentError(f"{name}.margin.{unknown[0]}: not a margin field (underlying, short_option, source)",
                              subject="underlying")
    rates = {}
    for field_name in ("underlying", "short_option"):
        value = spec.get(field_name, 1)
        try:
            rate = Decimal(str(value)) if not isinstance(value, bool) else None
        except ArithmeticError:
            rate = None
        if rate is None or not rate.is_finite() or not 0 < rate <= 1:
            raise InstrumentError(f"{name}.margin.{field_name}: {value!r} is not a fraction of notional above 0 "
                                  "and at most 1 (0.12 is 12%)", subject="underlying")
        rates[field_name] = rate
    return Margin(rates["underlying"], rates["short_option"], str(spec.get("source", "")))


def _decimals(name: str, value) -> int:
    if not isinstance(value, int) or not 0 <= value <= 8:
        raise InstrumentError(f"{name}.price_decimals: {value!r} is not a whole number from 0 to 8", subject="underlying")
    return value


_universe: Universe | None = None
_on_change: list[Callable[[], None]] = []


def universe() -> Universe:
    """The universe in use (the package data file unless `use_universe` replaced it)."""
    global _universe
    if _universe is None:
        _universe = Universe.from_file(DATA_FILE)
    return _universe


def use_universe(new: Universe | None) -> None:
    """Replace the universe (tests, or a deployment with its own data file); None restores the default.

    Every cache registered with `on_change` is cleared.
    """
    global _universe
    _universe = new
    for clear in _on_change:
        clear()


def on_change(clear: Callable[[], None]) -> None:
    """Call `clear` whenever the universe is replaced: the modules above this one cache what they
    derive from it (the trading calendar, monthly expiries) and register their cache's ``cache_clear``."""
    _on_change.append(clear)


def calendar_overrides() -> CalendarOverrides:
    return universe().calendar


def risk_free_rate() -> float:
    return universe().risk_free_rate
