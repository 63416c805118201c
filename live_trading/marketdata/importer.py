"""Import real market data (CSV or Parquet, ticks or 1-minute candles) into the market-data folder.

All files of one call are validated completely before anything is written; any problem raises
`ImportFailed` listing each one as file, line (CSV; the header is line 1) or row (Parquet), field and
what is wrong, and nothing is written. Valid data is merged into ``imported/<UNDERLYING>/<day>.parquet``
(one file per underlying and exchange day): the imported symbols replace whatever that file held for
them, other symbols stay. Importing the same file twice therefore gives the same bytes.

Columns (names case-insensitive; docs/marketdata.md has examples):

    timestamp   ISO 8601, e.g. 2024-10-29 09:15:00, 2024-10-29T09:15:00+05:30 or ...03:45:00Z.
                Without an offset it is exchange time (IST). Whole seconds. Candles are labelled by
                their start minute.
    symbol      canonical (NIFTY, NIFTY:2024-11-07:OPT:24250:PE) or broker form (NIFTY24N0724250PE)
    price       ticks: last traded price in rupees, e.g. 24250.05
    open, high, low, close      candles instead of price
    volume      optional, quantity traded in the tick or candle (not cumulative)
    oi          optional, open interest
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from live_trading.marketdata import instruments
from live_trading.marketdata.broker_symbols import from_broker_symbol
from live_trading.marketdata.calendar import (
    IST_OFFSET_SECONDS,
    TRADING_SECONDS,
    is_trading_day,
    market_open_ts,
)
from live_trading.marketdata.day import (
    MarketDay,
    day_symbols,
    from_ticks,
    read_day,
    ticks,
    to_table,
    write_temporary,
)
from live_trading.marketdata.store import imported_path, synthetic_path
from live_trading.marketdata.symbols import OptionSymbol, SymbolError, parse_symbol
from live_trading.refusals import Refused

TICK_COLUMNS = ("timestamp", "symbol", "price", "volume", "oi")
CANDLE_COLUMNS = ("timestamp", "symbol", "open", "high", "low", "close", "volume", "oi")
KNOWN_COLUMNS = frozenset(TICK_COLUMNS + CANDLE_COLUMNS)
MAX_REPORTED = 25
# Seconds into a candle's minute at which its open, first extreme, second extreme and close ticks sit.
BAR_TICK_OFFSETS = (0, 20, 40, 59)

_TS_RE = re.compile(
    r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})?$"
)
_PRICE_RE = re.compile(r"^(\d+)(?:\.(\d+))?$")
_INT_RE = re.compile(r"^(\d+)(?:\.0+)?$")


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


class ImportFailed(Refused, ValueError):
    """Input rejected; nothing was written. `issues` lists every problem found (the message the first ones)."""

    subject = "file"

    def __init__(self, issues: Sequence[ImportIssue]):
        self.issues = list(issues)
        shown = [str(i) for i in self.issues[:MAX_REPORTED]]
        more = len(self.issues) - len(shown)
        if more:
            shown.append(f"... and {more} more problems")
        super().__init__("import refused, nothing written:\n" + "\n".join(shown))


@dataclass
class _Parsed:
    """Validated ticks of one input file, all of one exchange day."""

    path: Path
    day: date
    kind: str  # "ticks" or "candles"
    symbols: list[str]  # per row, canonical
    ts: np.ndarray
    price: np.ndarray  # ticks only
    ohlc: np.ndarray | None  # candles only, shape (rows, 4)
    volume: np.ndarray
    oi: np.ndarray


@dataclass(frozen=True)
class Shadowed:
    """A day this import made imported that also has a synthetic day, which sessions no longer replay.

    Counts are instruments: those of the new imported day, those of the synthetic day it hides, and
    how many of the synthetic day's the import has no prices for (a strategy that selects one of
    those finds no price and places no order).
    """

    underlying: str
    day: date
    synthetic: Path
    imported_symbols: int
    synthetic_symbols: int
    missing_symbols: int

    def __str__(self) -> str:
        return (
            f"{self.underlying} {self.day.isoformat()} also has a synthetic day ({self.synthetic.name}); sessions "
            f"started on that day now replay the imported data ({self.imported_symbols} instruments) instead of "
            f"the synthetic day ({self.synthetic_symbols} instruments, {self.missing_symbols} of them not in the "
            f"import, so strategies that select those find no price and place no order)"
        )


@dataclass
class ImportResult:
    """What an import wrote: one entry per (underlying, day) file, and the synthetic days it now hides."""

    written: list[Path] = field(default_factory=list)
    rows: int = 0
    shadowed: list[Shadowed] = field(default_factory=list)


def import_files(paths: Iterable[Path | str], data_dir: Path | str | None = None) -> ImportResult:
    """Validate every file in `paths`, then merge them into the imported data; all or nothing."""
    paths = [Path(p) for p in paths]
    if not paths:
        raise ValueError("no files to import")
    issues: list[ImportIssue] = []
    parsed: list[_Parsed] = []
    for path in paths:
        result = _parse_file(path, issues)
        if result is not None:
            parsed.append(result)
    _check_overlaps(parsed, issues)
    if not issues:
        _check_underlyings_present(parsed, data_dir, issues)
    if issues:
        raise ImportFailed(sorted(issues))
    return _write(parsed, data_dir)


# ---------------------------------------------------------------------------------------------------
# Reading and validation


def _parse_file(path: Path, issues: list[ImportIssue]) -> _Parsed | None:
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
    ts, ts_ok = _parse_timestamps(frame["timestamp"], lines, issue)
    symbols, ticks_of = _parse_symbols(frame["symbol"], lines, issue)
    row_ticks = np.array([ticks_of[s] if s else 0 for s in symbols], np.int64)
    price_cols = ["price"] if kind == "ticks" else ["open", "high", "low", "close"]
    prices = np.column_stack([_parse_prices(frame[c], c, lines, row_ticks, issue) for c in price_cols])
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
    day = _check_times(ts[ts_ok], kind, lines[ts_ok], issue) if ts_ok.any() else None
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
    return _Parsed(
        path=path,
        day=day,
        kind=kind,
        symbols=symbols,
        ts=ts,
        price=prices[:, 0] if kind == "ticks" else np.zeros(0, np.int64),
        ohlc=prices if kind == "candles" else None,
        volume=volume,
        oi=oi,
    )


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


def _parse_timestamps(column: pd.Series, lines: np.ndarray, issue) -> tuple[np.ndarray, np.ndarray]:
    """Epoch seconds per row, and which rows parsed."""
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
    offsets = parts[3].fillna("").map(_offset_seconds).to_numpy(np.int64)
    ok = ~(unparsed | invalid | fraction)
    seconds = np.zeros(len(column), np.int64)
    seconds[ok] = naive[ok].to_numpy().astype("datetime64[s]").astype(np.int64) - offsets[ok]
    return seconds, ok


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


def _tick_of(symbol: str) -> int:
    sym = parse_symbol(symbol)
    info = instruments.get_underlying(sym.underlying)
    return info.tick_size_paise if isinstance(sym, OptionSymbol) else info.spot_tick_paise


def _parse_prices(column: pd.Series, name: str, lines: np.ndarray, row_ticks: np.ndarray, issue) -> np.ndarray:
    out = np.zeros(len(column), np.int64)
    for i, text in enumerate(column.tolist()):
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
    second = ts - market_open_ts(first_day)
    outside = ((second < 0) | (second >= TRADING_SECONDS)) & ~mixed
    for line in lines[outside]:
        issue(line, "timestamp", "outside the session 09:15:00-15:29:59 IST")
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


def _check_overlaps(parsed: list[_Parsed], issues: list[ImportIssue]) -> None:
    """Two files of one import must not both hold the same symbol on the same day."""
    owner: dict[tuple[str, date], Path] = {}
    for item in parsed:
        for sym in dict.fromkeys(item.symbols):
            key = (sym, item.day)
            if key in owner and owner[key] != item.path:
                line = item.symbols.index(sym) + (1 if item.path.suffix.lower() == ".parquet" else 2)
                issues.append(ImportIssue(str(item.path), line, "symbol",
                                          f"{sym} on {item.day.isoformat()} is also in {owner[key]}; import it once"))
            owner.setdefault(key, item.path)


def _check_underlyings_present(parsed: list[_Parsed], data_dir, issues: list[ImportIssue]) -> None:
    """Every imported day must hold its underlying's own prices: from this import, or kept from an earlier
    one of the same day. Options alone would leave the underlying column empty and replay a day that
    never trades (imported data hides the synthetic day)."""
    underlying_of: dict[str, str] = {}
    groups: dict[tuple[str, date], list[tuple[_Parsed, str]]] = {}
    for item in parsed:
        for sym in dict.fromkeys(item.symbols):
            underlying = underlying_of.setdefault(sym, parse_symbol(sym).underlying)
            entries = groups.setdefault((underlying, item.day), [])
            if not any(other is item for other, _ in entries):
                entries.append((item, sym))  # the file's first symbol of this underlying
    for (underlying, day), entries in sorted(groups.items(), key=lambda kv: kv[0]):
        if any(underlying in set(item.symbols) for item, _ in entries):
            continue
        if _has_underlying_rows(imported_path(underlying, day, data_dir), underlying):
            continue
        for item, sym in entries:
            parquet = item.path.suffix.lower() == ".parquet"
            line = item.symbols.index(sym) + (1 if parquet else 2)
            issues.append(ImportIssue(
                str(item.path), line, "symbol",
                f"no rows for the underlying {underlying} on {day.isoformat()}, only its options: an imported "
                f"day replaces the synthetic one, so it must include {underlying} itself (add its rows to "
                "this import)",
                "row" if parquet else "line",
            ))


def _has_underlying_rows(path: Path, underlying: str) -> bool:
    """Whether the imported day file at `path` exists and has ticks of `underlying` itself."""
    if not path.exists():
        return False
    return pq.read_table(path, columns=["symbol"], filters=[("symbol", "==", underlying)]).num_rows > 0


# ---------------------------------------------------------------------------------------------------
# Writing


def _write(parsed: list[_Parsed], data_dir) -> ImportResult:
    groups: dict[tuple[str, date], list[_Parsed]] = {}
    for item in parsed:
        for underlying in dict.fromkeys(parse_symbol(s).underlying for s in item.symbols):
            groups.setdefault((underlying, item.day), []).append(item)
    staged: list[tuple[Path, Path]] = []
    result = ImportResult()
    try:
        for (underlying, day), items in sorted(groups.items()):
            merged = _merge(underlying, day, items, data_dir)
            path = imported_path(underlying, day, data_dir)
            if not path.exists():
                result.shadowed.extend(_shadowed(merged, data_dir))
            staged.append((write_temporary(to_table(merged), path), path))
            result.rows += int(merged.tick_mask.sum())
        for tmp, path in staged:
            os.replace(tmp, path)
            result.written.append(path)
    finally:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
    return result


def _shadowed(imported: MarketDay, data_dir) -> list[Shadowed]:
    """The synthetic day that `imported`, a new imported day, hides (none or one: the default seed's if any)."""
    default = synthetic_path(imported.underlying, imported.date, data_dir=data_dir)
    others = sorted(default.parent.glob(f"{imported.date.isoformat()}.seed*.parquet"))
    candidates = [default] if default.exists() else others
    if not candidates:
        return []
    synthetic = day_symbols(candidates[0])
    missing = len(set(synthetic) - set(imported.symbols))
    return [Shadowed(imported.underlying, imported.date, candidates[0], len(imported.symbols), len(synthetic), missing)]


def _merge(underlying: str, day: date, items: list[_Parsed], data_dir) -> MarketDay:
    """The existing imported day with the symbols of `items` replaced by their new ticks."""
    new_rows, new_syms, new_price, new_volume, new_oi = [], [], [], [], []
    bar_symbols: set[str] = set()
    replaced: set[str] = set()
    open_ts = market_open_ts(day)
    for item in items:
        mine = np.array([parse_symbol(s).underlying == underlying for s in item.symbols])
        syms = [s for s, keep in zip(item.symbols, mine, strict=True) if keep]
        replaced.update(syms)
        seconds = item.ts[mine] - open_ts
        if item.kind == "ticks":
            new_rows.append(seconds)
            new_syms.extend(syms)
            new_price.append(item.price[mine])
            new_volume.append(item.volume[mine])
            new_oi.append(item.oi[mine])
            continue
        bar_symbols.update(syms)
        o, h, lo, c = item.ohlc[mine].T
        up = c >= o
        # Open, then the extreme the bar moved away from first, then the other, then the close.
        path = (o, np.where(up, lo, h), np.where(up, h, lo), c)
        zero = np.zeros(len(o), np.int64)
        for offset, price in zip(BAR_TICK_OFFSETS, path, strict=True):
            new_rows.append(seconds + offset)
            new_syms.extend(syms)
            new_price.append(price)
            new_volume.append(item.volume[mine] if offset == BAR_TICK_OFFSETS[-1] else zero)
            new_oi.append(item.oi[mine])

    old_syms: list[str] = []
    old = None
    path = imported_path(underlying, day, data_dir)
    if path.exists():
        old = read_day(path)
        bar_symbols |= set(old.bar_symbols) - replaced
        old_syms = [s for s in old.symbols if s not in replaced]
    symbols = [underlying, *sorted(set(old_syms + sorted(replaced)) - {underlying}, key=_symbol_order)]
    column = {s: i for i, s in enumerate(symbols)}

    rows = [np.concatenate(new_rows)]
    cols = [np.array([column[s] for s in new_syms], np.int64)]
    price, volume, oi = [np.concatenate(new_price)], [np.concatenate(new_volume)], [np.concatenate(new_oi)]
    if old is not None:
        o_rows, o_cols, o_price, o_volume, o_oi = ticks(old)
        remap = np.array([column.get(s, -1) for s in old.symbols], np.int64)[o_cols]
        keep = remap >= 0
        rows.append(o_rows[keep])
        cols.append(remap[keep])
        price.append(o_price[keep])
        volume.append(o_volume[keep])
        oi.append(o_oi[keep])
    return from_ticks(
        underlying,
        day,
        symbols,
        rows=np.concatenate(rows),
        cols=np.concatenate(cols),
        price=np.concatenate(price),
        volume=np.concatenate(volume),
        oi=np.concatenate(oi),
        source="imported",
        bar_symbols=frozenset(bar_symbols & set(symbols)),
    )


def _symbol_order(text: str):
    sym = parse_symbol(text)
    if isinstance(sym, OptionSymbol):
        return (1, sym.underlying, sym.expiry, sym.strike, sym.right)
    return (0, sym.underlying, date.min, 0, "")
