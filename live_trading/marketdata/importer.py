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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from live_trading.marketdata.calendar import calendar_of
from live_trading.marketdata.candles import timeframe_seconds
from live_trading.marketdata.day import (
    MarketDay,
    day_symbols,
    from_ticks,
    read_day,
    ticks,
    to_table,
    write_temporary,
)
from live_trading.marketdata.import_validation import ImportIssue, ParsedFile, parse_file
from live_trading.marketdata.store import imported_path, synthetic_path
from live_trading.marketdata.symbols import OptionSymbol, parse_symbol
from live_trading.refusals import Refused

MAX_REPORTED = 25
# Seconds into a candle's minute at which its open, first extreme, second extreme and close ticks sit.
BAR_TICK_OFFSETS = (0, 20, 40, 59)


def bar_tick_offsets(length):
    """Seconds into a candle of `length` seconds (an int, or a numpy array of them) of its four ticks: its
    open at the start, the extremes a third and two thirds in, its close at its last second
    (`BAR_TICK_OFFSETS` for 1m). A candle the session's close cuts short (the NSE's last hourly bar,
    15:15-15:30) spreads them over its part inside the session."""
    return (0 * length, length // 3, 2 * length // 3, length - 1)


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


def import_files(paths: Iterable[Path | str], data_dir: Path | str | None = None,
                 timeframe: str | int = "1m") -> ImportResult:
    """Validate every file in `paths` (each on its own: ``import_validation.parse_file``; then against each
    other and the stored days), then merge them into the imported data; all or nothing. Candles are of
    `timeframe` (``1m`` ... ``1d``, `candles.TIMEFRAMES`), stored as four ticks each over their own length.
    Raises ``ImportFailed`` listing every problem."""
    paths = [Path(p) for p in paths]
    if not paths:
        raise ValueError("no files to import")
    seconds = timeframe_seconds(timeframe)
    issues: list[ImportIssue] = []
    parsed: list[ParsedFile] = []
    for path in paths:
        result = parse_file(path, issues, seconds)
        if result is not None:
            parsed.extend(result)
    _check_overlaps(parsed, issues)
    if not issues:
        _check_underlyings_present(parsed, data_dir, issues)
    if issues:
        raise ImportFailed(sorted(issues))
    return _write(parsed, data_dir)


# ---------------------------------------------------------------------------------------------------
# Checks across files


def _check_overlaps(parsed: list[ParsedFile], issues: list[ImportIssue]) -> None:
    """Two files of one import must not both hold the same symbol on the same day."""
    owner: dict[tuple[str, date], Path] = {}
    for item in parsed:
        for sym in dict.fromkeys(item.symbols):
            key = (sym, item.day)
            if key in owner and owner[key] != item.path:
                line = item.line_of(sym)
                issues.append(ImportIssue(str(item.path), line, "symbol",
                                          f"{sym} on {item.day.isoformat()} is also in {owner[key]}; import it once"))
            owner.setdefault(key, item.path)


def _check_underlyings_present(parsed: list[ParsedFile], data_dir, issues: list[ImportIssue]) -> None:
    """Every imported day must hold its underlying's own prices: from this import, or kept from an earlier
    one of the same day. Options alone would leave the underlying column empty and replay a day that
    never trades (imported data hides the synthetic day)."""
    underlying_of: dict[str, str] = {}
    groups: dict[tuple[str, date], list[tuple[ParsedFile, str]]] = {}
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
            line = item.line_of(sym)
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


def _write(parsed: list[ParsedFile], data_dir) -> ImportResult:
    groups: dict[tuple[str, date], list[ParsedFile]] = {}
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


def _merge(underlying: str, day: date, items: list[ParsedFile], data_dir) -> MarketDay:
    """The existing imported day with the symbols of `items` replaced by their new ticks."""
    new_ts, new_syms, new_price, new_volume, new_oi = [], [], [], [], []
    bar_symbols: set[str] = set()
    bar_seconds: dict[str, int] = {}
    replaced: set[str] = set()
    for item in items:
        mine = np.array([parse_symbol(s).underlying == underlying for s in item.symbols])
        syms = [s for s, keep in zip(item.symbols, mine, strict=True) if keep]
        replaced.update(syms)
        stamps = item.ts[mine]  # validated: inside the day's windows
        if item.kind == "ticks":
            new_ts.append(stamps)
            new_syms.extend(syms)
            new_price.append(item.price[mine])
            new_volume.append(item.volume[mine])
            new_oi.append(item.oi[mine])
            continue
        bar_symbols.update(syms)
        bar_seconds.update({s: item.timeframe for s in syms if item.timeframe != 60})
        o, h, lo, c = item.ohlc[mine].T
        up = c >= o
        # Open, then the extreme the bar moved away from first, then the other, then the close.
        path = (o, np.where(up, lo, h), np.where(up, h, lo), c)
        zero = np.zeros(len(o), np.int64)
        lengths = item.lengths[mine] if item.lengths is not None else np.full(len(o), item.timeframe, np.int64)
        for k, (offset, price) in enumerate(zip(bar_tick_offsets(lengths), path, strict=True)):
            new_ts.append(stamps + offset)
            new_syms.extend(syms)
            new_price.append(price)
            new_volume.append(item.volume[mine] if k == 3 else zero)  # the close carries the bar's volume
            new_oi.append(item.oi[mine])

    old_syms: list[str] = []
    old = None
    path = imported_path(underlying, day, data_dir)
    if path.exists():
        old = read_day(path)
        bar_symbols |= set(old.bar_symbols) - replaced
        bar_seconds = {**{s: t for s, t in old.bar_seconds.items() if s not in replaced}, **bar_seconds}
        old_syms = [s for s in old.symbols if s not in replaced]
    symbols = [underlying, *sorted(set(old_syms + sorted(replaced)) - {underlying}, key=_symbol_order)]
    column = {s: i for i, s in enumerate(symbols)}

    stamps = [np.concatenate(new_ts)]
    cols = [np.array([column[s] for s in new_syms], np.int64)]
    price, volume, oi = [np.concatenate(new_price)], [np.concatenate(new_volume)], [np.concatenate(new_oi)]
    if old is not None:
        o_rows, o_cols, o_price, o_volume, o_oi = ticks(old)
        remap = np.array([column.get(s, -1) for s in old.symbols], np.int64)[o_cols]
        keep = remap >= 0
        stamps.append(old.timestamps[o_rows[keep]])
        cols.append(remap[keep])
        price.append(o_price[keep])
        volume.append(o_volume[keep])
        oi.append(o_oi[keep])
    timestamps, rows = calendar_of(underlying).grid(day, np.concatenate(stamps))  # validated: all inside
    return from_ticks(
        underlying,
        day,
        symbols,
        rows=rows,
        timestamps=timestamps,
        cols=np.concatenate(cols),
        price=np.concatenate(price),
        volume=np.concatenate(volume),
        oi=np.concatenate(oi),
        source="imported",
        bar_symbols=frozenset(bar_symbols & set(symbols)),
        bar_seconds={s: t for s, t in sorted(bar_seconds.items()) if s in symbols},
    )


def _symbol_order(text: str):
    sym = parse_symbol(text)
    if isinstance(sym, OptionSymbol):
        return (1, sym.underlying, sym.expiry, sym.strike, sym.right)
    return (0, sym.underlying, date.min, 0, "")
