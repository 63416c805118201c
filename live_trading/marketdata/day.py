"""`MarketDay`, one underlying's trading day as dense per-second matrices, and its Parquet file format.

On disk a day is a long table with one row per tick, sorted by time then column:

    ts      int64   epoch seconds (UTC), inside the day's session windows (09:15:00-15:29:59 IST on a
                    regular day; `calendar.session_windows`)
    symbol  dictionary<string>   canonical symbol
    price   int64   last traded price in paise
    volume  int64   quantity traded in this tick (not cumulative)
    oi      int64   open interest after this tick (0 for the underlying)

plus key/value metadata (``marketdata.*``) naming the underlying, date, source, seed and the column order.
In memory the same data is a dense matrix per field with one row per second of the day's windows, prices
and open interest forward-filled, so the feed and the candle builder work on numpy slices.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from live_trading.marketdata.calendar import TRADING_SECONDS, calendar_of, trading_timestamps

FORMAT = "ticks-v1"
_META_PREFIX = "marketdata."


@dataclass(eq=False)
class MarketDay:
    """One trading day of an underlying and its options.

    Rows are the seconds of the day's session windows (the 22,500 seconds 09:15:00-15:29:59 IST of a
    regular day; `calendar.trading_timestamps`); columns are `symbols`, column 0 being the
    underlying itself. `prices` and `oi` are forward-filled (0 = no price yet); `volumes` is the quantity
    traded in that second; `tick_mask` is True where the instrument ticked in that second.
    """

    underlying: str
    date: date
    timestamps: np.ndarray
    symbols: list[str]
    prices: np.ndarray
    volumes: np.ndarray
    oi: np.ndarray
    tick_mask: np.ndarray
    source: str = "synthetic"
    seed: int | None = None
    bar_symbols: frozenset[str] = frozenset()
    """Symbols imported as candles (their ticks are the candles' open, low/high, close)."""
    bar_seconds: dict[str, int] = field(default_factory=dict)
    """The timeframe in seconds of each of `bar_symbols` whose candles were not 1-minute ones."""
    _columns: dict[str, int] = field(default_factory=dict, repr=False)
    _lists: dict = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.symbols or self.symbols[0] != self.underlying:
            raise ValueError("column 0 of a MarketDay must be its underlying")
        self._columns = {s: i for i, s in enumerate(self.symbols)}
        shape = (len(self.timestamps), len(self.symbols))
        for name in ("prices", "volumes", "oi", "tick_mask"):
            if getattr(self, name).shape != shape:
                raise ValueError(f"MarketDay.{name} has shape {getattr(self, name).shape}, expected {shape}")

    def column(self, symbol: str) -> int:
        """Column index of `symbol`; KeyError naming the day if it is not part of it."""
        try:
            return self._columns[symbol]
        except KeyError:
            raise KeyError(f"{symbol!r} is not in the {self.underlying} data of {self.date.isoformat()}") from None

    def __contains__(self, symbol: str) -> bool:
        return symbol in self._columns

    def price_list(self, j: int) -> list[int]:
        """Column `j`'s prices as a Python list (paise), built once and shared by every reader of this
        day: read-only by contract. Engines index lists far faster than numpy scalars, and sessions
        replaying the same day share one copy instead of each building (and the garbage collector
        each walking) their own."""
        lst = self._lists.get(j)
        if lst is None:
            lst = self._lists[j] = self.prices[:, j].tolist()
        return lst

    def timestamp_list(self) -> list[int]:
        """`timestamps` as a Python list, shared like `price_list`."""
        lst = self._lists.get("ts")
        if lst is None:
            lst = self._lists["ts"] = self.timestamps.tolist()
        return lst

    @property
    def n_ticks(self) -> int:
        return len(self.timestamps)

    def head(self, rows: int) -> MarketDay:
        """The day's first `rows` rows (views of these arrays, read-only by contract): the day as far as a
        replay that has processed that many ticks has seen it."""
        return replace(self, timestamps=self.timestamps[:rows], prices=self.prices[:rows],
                       volumes=self.volumes[:rows], oi=self.oi[:rows], tick_mask=self.tick_mask[:rows],
                       _columns={}, _lists={})


def empty_arrays(n_symbols: int, n_rows: int = TRADING_SECONDS) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                                          np.ndarray]:
    """Zeroed (prices, volumes, oi, tick_mask) for a session of `n_rows` seconds (a regular day's)."""
    shape = (n_rows, n_symbols)
    return (
        np.zeros(shape, np.int64),
        np.zeros(shape, np.int64),
        np.zeros(shape, np.int64),
        np.zeros(shape, bool),
    )


def from_ticks(
    underlying: str,
    day: date,
    symbols: list[str],
    rows: np.ndarray,
    cols: np.ndarray,
    price: np.ndarray,
    volume: np.ndarray,
    oi: np.ndarray,
    timestamps: np.ndarray | None = None,
    **attrs,
) -> MarketDay:
    """Build a `MarketDay` from ticks given as (row, column) coordinates, a row being one of the day's
    `timestamps` (default: every second of the NSE day's windows, `calendar.session_rows`; another
    calendar's from `TradingCalendar.grid`)."""
    m = len(symbols)
    if timestamps is None:
        timestamps = trading_timestamps(day)
    n = len(timestamps)
    prices, volumes, ois, mask = empty_arrays(m, n)
    # Flat indices: scattering into a raveled matrix is several times faster than 2-D fancy indexing.
    flat = rows * m + cols
    prices.ravel()[flat] = price
    volumes.ravel()[flat] = volume
    ois.ravel()[flat] = oi
    mask.ravel()[flat] = True
    last = np.where(mask, np.arange(0, n * m, m)[:, None], 0)
    np.maximum.accumulate(last, axis=0, out=last)
    last += np.arange(m)
    return MarketDay(
        underlying=underlying,
        date=day,
        timestamps=timestamps,
        symbols=list(symbols),
        prices=prices.ravel()[last],
        volumes=volumes,
        oi=ois.ravel()[last],
        tick_mask=mask,
        **attrs,
    )


def ticks(day: MarketDay) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The ticks of `day` as (row, column, price, volume, oi) arrays, in time then column order."""
    rows, cols = np.nonzero(day.tick_mask)
    return rows, cols, day.prices[rows, cols], day.volumes[rows, cols], day.oi[rows, cols]


def to_table(day: MarketDay) -> pa.Table:
    """The long tick table of `day`, with its metadata."""
    rows, cols, price, volume, oi = ticks(day)
    symbol = pa.DictionaryArray.from_arrays(
        pa.array(cols.astype(np.int32)), pa.array(day.symbols, type=pa.string())
    )
    table = pa.table(
        {
            "ts": pa.array(day.timestamps[rows]),
            "symbol": symbol,
            "price": pa.array(price),
            "volume": pa.array(volume),
            "oi": pa.array(oi),
        }
    )
    meta = {
        "format": FORMAT,
        "underlying": day.underlying,
        "date": day.date.isoformat(),
        "source": day.source,
        "seed": "" if day.seed is None else str(day.seed),
        "symbols": json.dumps(day.symbols),
        "bar_symbols": json.dumps(sorted(day.bar_symbols)),
    }
    if day.bar_seconds:
        meta["bar_seconds"] = json.dumps(dict(sorted(day.bar_seconds.items())))
    return table.replace_schema_metadata({_META_PREFIX + k: v for k, v in meta.items()})


def write_day(day: MarketDay, path: Path) -> None:
    """Write `day` to `path` atomically (temporary file in the same folder, then rename)."""
    write_table_atomically(to_table(day), path)


def write_table_atomically(table: pa.Table, path: Path) -> None:
    """Write `table` to `path` through a temporary file in the same folder and a rename."""
    tmp = write_temporary(table, path)
    os.replace(tmp, path)


def write_temporary(table: pa.Table, path: Path) -> Path:
    """Write `table` to a new temporary file beside `path` and return it (rename it to publish)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        # Fixed writer options: the same table always gives the same bytes.
        pq.write_table(table, tmp, compression="zstd", compression_level=3, row_group_size=4_000_000)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


def read_day(path: Path, symbols: Sequence[str] | None = None) -> MarketDay:
    """Read a day file written by `write_day` (or by the importer).

    With `symbols`, only those columns and the underlying's (in the file's column order, the underlying
    first; a symbol the file does not hold is left out): a reader that wants the underlying's prices
    alone, a chart's candles, then builds one column instead of every instrument's."""
    table = pq.read_table(path) if symbols is None else None
    meta = _metadata(pq.read_schema(path) if table is None else table.schema)
    if meta.get("format") != FORMAT:
        raise ValueError(f"{path} is not a market-data day file ({FORMAT})")
    day = date.fromisoformat(meta["date"])
    stored = json.loads(meta["symbols"])
    if table is None:
        wanted = {meta["underlying"], *symbols}
        stored = [s for s in stored if s in wanted]
        table = pq.read_table(path, filters=[("symbol", "in", stored)])
    stamps, rows = _rows(meta["underlying"], day, table["ts"].to_numpy(), path)
    return from_ticks(
        meta["underlying"],
        day,
        stored,
        rows=rows,
        timestamps=stamps,
        cols=_symbol_codes(table["symbol"], stored),
        price=table["price"].to_numpy(),
        volume=table["volume"].to_numpy(),
        oi=table["oi"].to_numpy(),
        source=meta["source"],
        seed=int(meta["seed"]) if meta.get("seed") else None,
        bar_symbols=frozenset(json.loads(meta.get("bar_symbols", "[]"))),
        bar_seconds=json.loads(meta.get("bar_seconds", "{}")),
    )


def _rows(underlying: str, day: date, ts: np.ndarray, path: Path) -> tuple[np.ndarray, np.ndarray]:
    stamps, rows = calendar_of(underlying).grid(day, ts)
    if len(rows) and rows.min() < 0:
        raise ValueError(f"{path} has ticks outside the session hours of {day.isoformat()}")
    return stamps, rows


def _metadata(schema: pa.Schema) -> dict[str, str]:
    return {
        k.decode()[len(_META_PREFIX) :]: v.decode()
        for k, v in (schema.metadata or {}).items()
        if k.decode().startswith(_META_PREFIX)
    }


def day_symbols(path: Path) -> list[str]:
    """The symbols of the day file at `path` (column order, the underlying first), from its metadata alone."""
    return json.loads(_metadata(pq.read_schema(path)).get("symbols", "[]"))


def _symbol_codes(column: pa.ChunkedArray, symbols: list[str]) -> np.ndarray:
    position = {s: i for i, s in enumerate(symbols)}
    parts = []
    for chunk in column.chunks:
        # A file read for some symbols keeps every symbol in its dictionary: the others map nowhere.
        lookup = np.array([position.get(s, -1) for s in chunk.dictionary.to_pylist()], dtype=np.int64)
        parts.append(lookup[chunk.indices.to_numpy(zero_copy_only=False)])
    return np.concatenate(parts) if parts else np.zeros(0, np.int64)
