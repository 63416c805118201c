"""Reading one file to import (CSV or Parquet, ticks or 1-minute candles) and checking every field.

``parse_file`` reads a file as text (Parquet values become the text a CSV would hold, so both formats
go one validation path), checks the columns, then every row's timestamp, symbol, prices and counts,
the rows' day, session times and order, and each option against the contract facts of that day. It
reports every problem as an ``ImportIssue`` (file, line or row, field, message) and returns the
parsed rows only when there is none. The importer (``importer.py``) checks the files against each
other and against the stored data, and writes. Column formats are in ``importer.py``'s docstring.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from live_trading.marketdata import instruments
from live_trading.marketdata.broker_symbols import from_broker_symbol
from live_trading.marketdata.calendar import (
    IST_OFFSET_SECONDS,
    NSE,
    TradingCalendar,
    calendar_of,
    describe_hours,
    is_trading_day,
    session_rows,
)
from live_trading.marketdata.candles import timeframe_name
from live_trading.marketdata.symbols import OptionSymbol, SymbolError, parse_symbol

TICK_COLUMNS = ("timestamp", "symbol", "price", "volume", "oi")
CANDLE_COLUMNS = ("timestamp", "symbol", "open", "high", "low", "close", "volume", "oi")
KNOWN_COLUMNS = frozenset(TICK_COLUMNS + CANDLE_COLUMNS)

_TS_RE = re.compile(
    r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})?$", re.ASCII
)
# re.ASCII: \d would match any script's digit ("٢٤٣٠٠.15", "７５"), which int() and Decimal() then read (config.ascii)
_PRICE_RE = re.compile(r"^(\d+)(?:\.(\d+))?$", re.ASCII)
_INT_RE = re.compile(r"^(\d+)(?:\.0+)?$", re.ASCII)


@dataclass(frozen=True, order=True)
class ImportIssue:
    """One problem in an input file."""

    path: str
    line: int
    field: str
    message: str
    row_word: str = "line"

    def __str__(self) -> str:
        where = f"{self.row_word} {self.line}" if self.line else "whole file"
        return f"{self.path}, {where}, field {self.field!r}: {self.message}"


@dataclass
class ParsedFile:
    """Validated ticks of one input file, all of one exchange day (a file of a market on a data calendar
    may hold several days: one ParsedFile each)."""

    path: Path
    day: date
    kind: str  # "ticks" or "candles"
    symbols: list[str]  # per row, canonical
    ts: np.ndarray
    price: np.ndarray  # ticks only
    ohlc: np.ndarray | None  # candles only, shape (rows, 4)
    volume: np.ndarray
    oi: np.ndarray
    timeframe: int = 60  # candles: their length in seconds
    lines: np.ndarray | None = None  # the file's line (row) of each row, when not all of the file's
    lengths: np.ndarray | None = None  # candles: seconds of each inside its session (None: all `timeframe`)

    def line_of(self, symbol: str) -> int:
        """The line (CSV; the header is line 1) or row (Parquet) of `symbol`'s first row."""
        index = self.symbols.index(symbol)
        if self.lines is not None:
            return int(self.lines[index])
        return index + (1 if self.path.suffix.lower() == ".parquet" else 2)


def parse_file(path: Path, issues: list[ImportIssue], timeframe: int = 60) -> list[ParsedFile] | None:
    """Read one CSV or Parquet file and check every field of every row; return its rows (one ParsedFile
    per exchange day), or None when anything is wrong (each problem appended to ``issues``, naming file,
    line or row and field). Candles are `timeframe` seconds long (1-minute by default)."""
    suffix = path.suffix.lower()
    row_word = "row" if suffix == ".parquet" else "line"
    first_line = 1 if suffix == ".parquet" else 2  # a CSV's first data row is line 2, after the header
    header = 0 if suffix == ".parquet" else 1  # 0: the Parquet schema, shown as "whole file"

    issue = _Reporter(str(path), row_word, issues)

    if not path.is_file():
        issue(0, "-", "no such file")
        return None
    try:
        frame = _read(path, suffix)
    except Exception as exc:  # any reader failure means unreadable input, reported like other problems
        issue(0, "-", f"cannot read the file as {suffix.lstrip('.') or 'CSV'}: {exc}")
        return None

    frame.columns = [str(c).strip().lower() for c in frame.columns]
    before = len(issues)
    for name in frame.columns:
        if name not in KNOWN_COLUMNS:
            issue(header, name, "unknown column; expected timestamp, symbol, price or open/high/low/close, "
                  "and optionally volume, oi")
    if len(set(frame.columns)) != len(frame.columns):
        issue(header, "-", "a column name appears twice")
    has_price = "price" in frame.columns
    ohlc_present = [c for c in ("open", "high", "low", "close") if c in frame.columns]
    for required in ("timestamp", "symbol"):
        if required not in frame.columns:
            issue(header, required, "required column is missing")
    if has_price and ohlc_present:
        issue(header, "price", "give either price (ticks) or open/high/low/close (candles), not both")
    elif not has_price and len(ohlc_present) != 4:
        missing = [c for c in ("open", "high", "low", "close") if c not in frame.columns]
        issue(header, "price" if not ohlc_present else missing[0],
              "need a price column (ticks) or open, high, low and close (candles)")
    if len(issues) > before:
        return None
    if frame.empty:
        issue(first_line, "-", "no data rows")
        return None

    lines = np.arange(len(frame)) + first_line
    kind = "ticks" if has_price else "candles"
    symbols, ticks_of = _parse_symbols(frame["symbol"], lines, issue)
    calendar = _file_calendar(symbols, lines, issue)
    ts, ts_ok = _parse_timestamps(frame["timestamp"], lines, issue, calendar)
    row_ticks = np.array([ticks_of[s] if s else 0 for s in symbols], np.int64)
    decimals = np.array([_decimals_of(s) if s else 2 for s in symbols], np.int64)
    price_cols = ["price"] if kind == "ticks" else ["open", "high", "low", "close"]
    prices = np.column_stack([_parse_prices(frame[c], c, lines, row_ticks, issue, decimals) for c in price_cols])
    zeros = np.zeros(len(frame), np.int64)
    volume = _parse_counts(frame["volume"], "volume", lines, issue) if "volume" in frame else zeros
    oi = _parse_counts(frame["oi"], "oi", lines, issue) if "oi" in frame else zeros

    if kind == "candles":
        o, h, lo, c = prices.T
        priced = (prices > 0).all(axis=1)
        bad_high = priced & (h < np.maximum(o, c))
        bad_low = priced & (lo > np.minimum(o, c)) & ~bad_high
        for line in lines[bad_high]:
            issue(line, "high", "high is below the open or the close")
        for line in lines[bad_low]:
            issue(line, "low", "low is above the open or the close")
    # Time and order checks look at every row whose fields parsed, so one run reports all problems.
    lengths = None
    if calendar is NSE and timeframe == 60:
        day = _check_times(ts[ts_ok], kind, lines[ts_ok], issue) if ts_ok.any() else None
        days = np.full(len(ts), day.toordinal() if day else 0, np.int64)
    elif calendar is NSE:
        day = _check_times(ts[ts_ok], "ticks", lines[ts_ok], issue) if ts_ok.any() else None
        days = np.full(len(ts), day.toordinal() if day else 0, np.int64)
        if day is not None and kind == "candles":
            lengths = _check_bars(calendar, ts, days, timeframe, lines, ts_ok, issue)
    else:
        days = _trading_days(calendar, ts, ts_ok, lines, issue)
        day = date.fromordinal(int(days[ts_ok][0])) if ts_ok.any() and days[ts_ok].all() else None
        if day is not None and kind == "candles":
            lengths = _check_bars(calendar, ts, days, timeframe, lines, ts_ok, issue)
    known = ts_ok & np.array([bool(s) for s in symbols])
    _check_order([s for s, k in zip(symbols, known, strict=True) if k], ts[known], lines[known], issue)
    for sym, line in _first_lines(symbols, lines):
        parsed_sym = parse_symbol(sym) if sym else None
        if day is not None and isinstance(parsed_sym, OptionSymbol):
            problem = _contract_problem(parsed_sym, day)
            if problem:
                issue(line, "symbol", problem)
    if len(issues) > before or day is None:
        return None
    parts = []
    whole = len(np.unique(days)) == 1
    for ordinal in np.unique(days).tolist():
        mine = days == ordinal
        parts.append(ParsedFile(
            path=path,
            day=date.fromordinal(ordinal),
            kind=kind,
            symbols=[s for s, keep in zip(symbols, mine, strict=True) if keep],
            ts=ts[mine],
            price=prices[mine, 0] if kind == "ticks" else np.zeros(0, np.int64),
            ohlc=prices[mine] if kind == "candles" else None,
            volume=volume[mine],
            oi=oi[mine],
            timeframe=timeframe,
            lines=None if whole else lines[mine],
            lengths=None if lengths is None else lengths[mine],
        ))
    return parts


class _Reporter:
    """Records problems of one file: ``issue(line, field, message)``."""

    def __init__(self, path: str, row_word: str, issues: list[ImportIssue]):
        self.path = path
        self.row_word = row_word
        self._issues = issues

    def __call__(self, line: int, field_: str, message: str) -> None:
        self._issues.append(ImportIssue(self.path, int(line), field_, message, self.row_word))


def _read(path: Path, suffix: str) -> pd.DataFrame:
    if suffix == ".parquet":
        frame = pq.read_table(path).to_pandas()
        return frame.apply(_column_as_text)
    return pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)


def _column_as_text(column: pd.Series) -> pd.Series:
    """One validation path for both formats: Parquet values become the text a CSV would hold."""
    if pd.api.types.is_datetime64_any_dtype(column):
        return column.map(lambda v: "" if pd.isna(v) else v.isoformat(sep=" "))
    return column.map(_value_as_text)


def _value_as_text(value) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    # repr() gives the shortest text that reads back as the same float: 24250.05, not 24250.049999...
    return repr(float(value)) if isinstance(value, float) else str(value)


def _parse_timestamps(column: pd.Series, lines: np.ndarray, issue,
                      calendar: TradingCalendar = NSE) -> tuple[np.ndarray, np.ndarray]:
    """Epoch seconds per row, and which rows parsed. A time without an offset is on the clock of the
    file's market (`calendar`: IST for the NSE)."""
    parts = column.str.strip().str.extract(_TS_RE)
    unparsed = parts[0].isna().to_numpy()
    for line, text in zip(lines[unparsed], column[unparsed], strict=True):
        issue(line, "timestamp", f"{text!r} is not an ISO 8601 time such as 2024-10-29 09:15:00[+05:30]")
    naive = pd.to_datetime(parts[0] + " " + parts[1], format="%Y-%m-%d %H:%M:%S", errors="coerce")
    invalid = naive.isna().to_numpy() & ~unparsed
    for line, text in zip(lines[invalid], column[invalid], strict=True):
        issue(line, "timestamp", f"{text!r} is not a valid date and time")
    fraction = parts[2].fillna("").str.strip("0").str.len().to_numpy() > 0
    for line, text in zip(lines[fraction], column[fraction], strict=True):
        issue(line, "timestamp", f"{text!r} has a fraction of a second; timestamps are whole seconds")
    # a copy of its own: the rows without an offset get their market's below (pandas hands out read-only views)
    offsets = np.array(parts[3].fillna("").map(_offset_seconds).to_numpy(np.int64))
    ok = ~(unparsed | invalid | fraction)
    if calendar is not NSE:
        ok &= ~_local_offsets(naive, parts[3].isna().to_numpy(), ok, offsets, lines, column, calendar, issue)
    seconds = np.zeros(len(column), np.int64)
    seconds[ok] = naive[ok].to_numpy().astype("datetime64[s]").astype(np.int64) - offsets[ok]
    return seconds, ok


def _local_offsets(naive, no_offset, ok, offsets, lines, column, calendar: TradingCalendar, issue) -> np.ndarray:
    """Set `offsets` of the rows without one to the UTC offset of the market's time zone at that wall
    time; return the rows whose wall time does not exist or happens twice there (a daylight-saving
    change), each reported."""
    local = no_offset & ok
    bad = np.zeros(len(ok), bool)
    if not local.any():
        return bad
    zone = str(calendar.time_zone)
    aware = naive[local].dt.tz_localize(zone, ambiguous="NaT", nonexistent="NaT")
    missing = aware.isna().to_numpy()
    where = np.flatnonzero(local)
    for i in where[missing]:
        issue(lines[i], "timestamp", f"{column.iloc[i]!r} does not exist or happens twice in {zone} (a daylight-saving "
              "change); give its UTC offset, e.g. +00:00")
    bad[where[missing]] = True
    good = where[~missing]
    utc = aware[~missing].dt.tz_convert("UTC").dt.tz_localize(None)
    offsets[good] = (naive[local][~missing].to_numpy().astype("datetime64[s]").astype(np.int64)
                     - utc.to_numpy().astype("datetime64[s]").astype(np.int64))
    return bad


def _offset_seconds(text: str) -> int:
    if text == "":
        return IST_OFFSET_SECONDS  # naive times are exchange time
    if text == "Z":
        return 0
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)


def _parse_symbols(column: pd.Series, lines: np.ndarray, issue) -> tuple[list[str], dict[str, int]]:
    """Canonical symbol per row ("" where unknown) and the price tick in paise of each symbol."""
    canonical: dict[str, str | None] = {}
    ticks_of: dict[str, int] = {}
    out = []
    for line, text in zip(lines, column.tolist(), strict=True):
        if text not in canonical:
            canonical[text] = _canonical_symbol(text, line, issue)
        sym = canonical[text]
        out.append(sym or "")
        if sym and sym not in ticks_of:
            ticks_of[sym] = _tick_of(sym)
    return out, ticks_of


def _canonical_symbol(text: str, line: int, issue) -> str | None:
    text = text.strip()
    known = instruments.underlying_names()
    try:
        sym = parse_symbol(text) if ":" in text or text in known else from_broker_symbol(text)
    except SymbolError as exc:
        if ":" not in text:
            issue(line, "symbol", f"unknown symbol {text!r}: neither a known underlying ({', '.join(known)}) "
                  "nor a broker symbol of one")
        else:
            issue(line, "symbol", f"unknown symbol: {exc}")
        return None
    try:
        underlying = instruments.get_underlying(sym.underlying)
    except instruments.InstrumentError as exc:
        issue(line, "symbol", f"unknown symbol {text!r}: {exc}")
        return None
    if isinstance(sym, OptionSymbol) and not underlying.has_options:
        issue(line, "symbol", f"unknown symbol {text!r}: {sym.underlying} has no options")
        return None
    return str(sym)


def _contract_problem(sym: OptionSymbol, day: date) -> str | None:
    """Why the option `sym` did not trade on `day`, or None: its expiry must be one the contract facts
    list on that day (weeklies of the next five weeks, the next three monthlies) and its strike must sit
    on the strike grid in force."""
    if sym.expiry < day:
        return f"{sym} expired on {sym.expiry.isoformat()}, before {day.isoformat()}"
    try:
        listed = instruments.expiries(sym.underlying, day)
        step = instruments.strike_step_paise(sym.underlying, day)
    except instruments.InstrumentError as exc:
        return f"{sym} cannot be checked against the contract facts: {exc}"
    if sym.expiry not in listed:
        shown = ", ".join(d.isoformat() for d in listed) or "none"
        return (f"{sym}: {sym.expiry.isoformat()} ({sym.expiry:%A}) is not a {sym.underlying} expiry listed on "
                f"{day.isoformat()} (listed: {shown})")
    if sym.strike_paise % step:
        return f"{sym}: strike {sym.strike} is off {sym.underlying}'s strike step of {step / 100:g} rupees"
    return None


def _file_calendar(symbols: list[str], lines: np.ndarray, issue) -> TradingCalendar:
    """The one calendar of the file's underlyings (NSE when none parsed); a file mixing markets is refused."""
    found: dict[str, tuple[str, int]] = {}
    calendar = NSE
    for sym, line in _first_lines(symbols, lines):
        if not sym:
            continue
        cal = calendar_of(parse_symbol(sym).underlying)
        if not found:
            calendar = cal
        elif cal.name not in found:
            first, first_line = next(iter(found.values()))
            issue(line, "symbol", f"{sym} trades on the {cal.name} calendar but {first} ({issue.row_word} {first_line}) "
                  f"on {calendar.name}'s; import one market per file")
        found.setdefault(cal.name, (sym, line))
    return calendar


def _decimals_of(symbol: str) -> int:
    return instruments.get_underlying(parse_symbol(symbol).underlying).price_decimals


def _tick_of(symbol: str) -> int:
    sym = parse_symbol(symbol)
    info = instruments.get_underlying(sym.underlying)
    return info.tick_size_paise if isinstance(sym, OptionSymbol) else info.spot_tick_paise


def _parse_prices(column: pd.Series, name: str, lines: np.ndarray, row_ticks: np.ndarray, issue,
                  row_decimals: np.ndarray | None = None) -> np.ndarray:
    """Prices in minor units: paise for a two-place instrument, 0.00001 for one quoted to five places."""
    out = np.zeros(len(column), np.int64)
    for i, text in enumerate(column.tolist()):
        places = 2 if row_decimals is None else int(row_decimals[i])
        if places != 2:
            out[i] = _minor_units(text.strip(), name, lines[i], int(row_ticks[i]), places, issue)
            continue
        text = text.strip()
        match = _PRICE_RE.match(text)
        if not match:
            if text.startswith("-"):
                issue(lines[i], name, f"{text!r} is negative; prices must be positive")
            else:
                issue(lines[i], name, f"{text!r} is not a price in rupees such as 24250.05")
            continue
        whole, frac = match.group(1), match.group(2) or ""
        if len(frac) > 2 and frac[2:].strip("0"):
            issue(lines[i], name, f"{text} has more than two decimals, so it is off the tick")
            continue
        paise = int(whole) * 100 + int((frac + "00")[:2])
        tick = int(row_ticks[i])
        if paise <= 0:
            issue(lines[i], name, f"{text} is not positive; prices must be positive")
        elif tick and paise % tick:
            issue(lines[i], name, f"{text} is off the {tick / 100:.2f} tick")
        out[i] = paise
    return out


def _minor_units(text: str, name: str, line: int, tick: int, places: int, issue) -> int:
    """`text` as an integer of 10**-places (0 when refused, reported naming the line)."""
    match = _PRICE_RE.match(text)
    if not match:
        if text.startswith("-"):
            issue(line, name, f"{text!r} is negative; prices must be positive")
        else:
            issue(line, name, f"{text!r} is not a price such as {'1.' + '0' * (places - 1) + '7' if places else '7'}")
        return 0
    whole, frac = match.group(1), match.group(2) or ""
    if len(frac) > places and frac[places:].strip("0"):
        issue(line, name, f"{text} has more than {places} decimals, so it is off the tick")
        return 0
    units = int(whole) * 10**places + int((frac + "0" * places)[:places] or 0)
    if units <= 0:
        issue(line, name, f"{text} is not positive; prices must be positive")
    elif tick and units % tick:
        issue(line, name, f"{text} is off the {tick / 10**places:.{places}f} tick")
    return units


def _trading_days(calendar: TradingCalendar, ts: np.ndarray, ok: np.ndarray, lines: np.ndarray, issue) -> np.ndarray:
    """The trading day (ordinal) of each row of a market on a data calendar; 0 where the time is in none
    of its sessions (reported)."""
    days = np.zeros(len(ts), np.int64)
    for i in np.flatnonzero(ok):
        d = calendar.trading_date(int(ts[i]))
        if d is None:
            local = datetime.fromtimestamp(int(ts[i]), calendar.time_zone)
            issue(lines[i], "timestamp", f"{local.isoformat(sep=' ')} is outside the sessions of the {calendar.name} "
                  f"calendar ({calendar.describe_hours(local.date())}, its trading days and holidays)")
        else:
            days[i] = d.toordinal()
    return days


def _check_bars(calendar: TradingCalendar, ts: np.ndarray, days: np.ndarray, timeframe: int, lines: np.ndarray,
                ok: np.ndarray, issue) -> np.ndarray:
    """Each candle (the rows of `ok`) starts on its timeframe's grid from the session open, inside one of
    its day's windows. Return each candle's length inside the session, in seconds: `timeframe`, or less
    for one the window's close cuts short (the NSE's last hourly bar, 15:15-15:30; a daily bar of a
    market that trades part of the day; the last bar before an early close)."""
    name = timeframe_name(timeframe)
    lengths = np.full(len(ts), timeframe, np.int64)
    for i in np.flatnonzero(ok).tolist():
        stamp, day, line = int(ts[i]), date.fromordinal(int(days[i])), int(lines[i])
        anchor = calendar.anchor_ts(day)
        if (stamp - anchor) % timeframe:
            opening = datetime.fromtimestamp(anchor, calendar.time_zone).strftime("%H:%M")
            issue(line, "timestamp", f"a {name} candle must start on the {name} grid from the session open "
                  f"({opening} {calendar.time_zone})")
            continue
        window = next(((a, b) for a, b in calendar.windows_ts(day) if a <= stamp < b), None)
        if window is None:
            issue(line, "timestamp", f"this {name} candle does not start inside the session "
                  f"{calendar.describe_hours(day)} of {day.isoformat()}")
            continue
        lengths[i] = min(timeframe, window[1] - stamp)
    return lengths


def _parse_counts(column: pd.Series, name: str, lines: np.ndarray, issue) -> np.ndarray:
    out = np.zeros(len(column), np.int64)
    for i, text in enumerate(column.tolist()):
        text = text.strip()
        if text == "":
            continue  # an empty volume or oi means none given
        match = _INT_RE.match(text)
        if not match:
            issue(lines[i], name, f"{text!r} is not a non-negative whole number")
            continue
        out[i] = int(match.group(1))
    return out


def _check_times(ts: np.ndarray, kind: str, lines: np.ndarray, issue) -> date | None:
    """All rows on one trading day, inside the session; candles start on a whole minute."""
    local = ts + IST_OFFSET_SECONDS
    days = local // 86_400
    first_day = date.fromordinal(date(1970, 1, 1).toordinal() + int(days[0]))
    mixed = days != days[0]
    for line, d in zip(lines[mixed], days[mixed], strict=True):
        other = date.fromordinal(date(1970, 1, 1).toordinal() + int(d))
        issue(line, "timestamp", f"mixed days: this row is on {other.isoformat()} but {issue.row_word} "
              f"{lines[0]} is on {first_day.isoformat()}; import one exchange day per file")
    if not is_trading_day(first_day):
        issue(lines[0], "timestamp", f"{first_day.isoformat()} is not a trading day")
        return None
    outside = (session_rows(first_day, ts) < 0) & ~mixed
    hours = describe_hours(first_day)
    for line in lines[outside]:
        issue(line, "timestamp", f"outside the session {hours} IST of {first_day.isoformat()}")
    if kind == "candles":
        off_minute = (local % 60 != 0) & ~outside
        for line in lines[off_minute]:
            issue(line, "timestamp", "a 1-minute candle must start on a whole minute (seconds 00)")
    return None if mixed.any() else first_day


def _check_order(symbols: list[str], ts: np.ndarray, lines: np.ndarray, issue) -> None:
    """Per symbol, timestamps must strictly increase down the file."""
    frame = pd.DataFrame({"symbol": symbols, "ts": ts, "line": lines})
    previous = frame.groupby("symbol", sort=False)[["ts", "line"]].shift()
    has_prev = previous["ts"].notna().to_numpy()
    prev_ts = previous["ts"].fillna(0).to_numpy(np.int64)
    prev_line = previous["line"].fillna(0).to_numpy(np.int64)
    duplicate = has_prev & (ts == prev_ts)
    backwards = has_prev & (ts < prev_ts)
    for line, before, sym in zip(lines[duplicate], prev_line[duplicate], frame["symbol"][duplicate], strict=True):
        issue(line, "timestamp", f"duplicate: {sym} already has a row at this time ({issue.row_word} {before})")
    for line, before, sym in zip(lines[backwards], prev_line[backwards], frame["symbol"][backwards], strict=True):
        issue(line, "timestamp", f"out of order: earlier than {sym}'s previous row ({issue.row_word} {before})")


def _first_lines(symbols: list[str], lines: np.ndarray) -> list[tuple[str, int]]:
    seen: dict[str, int] = {}
    for sym, line in zip(symbols, lines.tolist(), strict=True):
        seen.setdefault(sym, line)
    return list(seen.items())
