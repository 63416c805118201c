"""Replay of a `MarketDay`: ticks in exchange-time order, an LTP store, and what changed at each tick.

The day is already a dense forward-filled price matrix, so the LTP store is simply "the current row":
reading an LTP is an index into numpy, and advancing a tick is an integer assignment. Which columns
ticked at each second is precomputed once from the day's tick mask.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

import numpy as np

from live_trading.marketdata.day import MarketDay


class ReplayFeed:
    """Replays `day` for `symbols` (default: every column of the day, in the day's order).

    Iterating yields ``(index, ts, changed)`` for every second at which at least one of the feed's
    symbols ticked: `index` is the row in the day's matrices, `ts` the epoch seconds (int) and `changed`
    a list of the positions in `feed.symbols` that ticked (ascending). During the iteration `ltp(symbol)` and the
    mapping `ltps` give each symbol's last traded price in paise as of that tick (0 = no trade yet).
    `start_ts` skips ticks before it; the LTP store still reflects everything traded before.
    """

    def __init__(self, day: MarketDay, symbols: Iterable[str] | None = None, start_ts: int | None = None):
        self.day = day
        self.symbols: list[str] = list(day.symbols if symbols is None else symbols)
        columns = [day.column(s) for s in self.symbols]
        self._positions = {s: i for i, s in enumerate(self.symbols)}
        # Contiguous copies of the feed's columns: row reads and slices stay cache-friendly.
        self.prices = np.ascontiguousarray(day.prices[:, columns])
        mask = np.ascontiguousarray(day.tick_mask[:, columns])
        first = 0 if start_ts is None else int(np.searchsorted(day.timestamps, start_ts))
        rows, cols = np.nonzero(mask[first:])
        rows += first
        self._changed_cols = cols.tolist()  # Python ints: slicing a list per tick beats numpy here
        self._rows = np.unique(rows)
        self._bounds = [*np.searchsorted(rows, self._rows).tolist(), len(rows)]
        self._timestamps = day.timestamps
        self._index = max(first - 1, -1)
        self._row_index: int | None = None  # the row `_row` was converted from
        self._row: list[int] = []
        self.ltps: Mapping[str, int] = _LtpView(self)

    @property
    def index(self) -> int:
        """Row of the current tick (-1 before the first)."""
        return self._index

    @property
    def ts(self) -> int | None:
        """Epoch seconds of the current tick, None before the first."""
        return int(self._timestamps[self._index]) if self._index >= 0 else None

    def __len__(self) -> int:
        """Number of ticks the iteration yields."""
        return len(self._rows)

    def __iter__(self) -> Iterator[tuple[int, int, list[int]]]:
        rows = self._rows.tolist()
        stamps = self._timestamps[self._rows].tolist()
        bounds = self._bounds
        cols = self._changed_cols
        for k, row in enumerate(rows):
            self._index = row
            yield row, stamps[k], cols[bounds[k] : bounds[k + 1]]

    def ltp(self, symbol: str) -> int:
        """Last traded price of `symbol` in paise at the current tick (0 if it has not traded yet)."""
        position = self._positions[symbol]
        index = self._index
        if index != self._row_index:
            if index < 0:
                return 0
            # The first read at a tick converts the row once; further reads are list lookups.
            self._row = self.prices[index].tolist()
            self._row_index = index
        return self._row[position]

    def ltp_row(self) -> np.ndarray:
        """All LTPs at the current tick, in `symbols` order (a read-only view; zeros before the first tick)."""
        row = self.prices[self._index].view() if self._index >= 0 else np.zeros(len(self.symbols), np.int64)
        row.flags.writeable = False
        return row

    def changed_symbols(self, changed: list[int]) -> list[str]:
        """The symbols behind a `changed` list yielded by the iteration."""
        return [self.symbols[i] for i in changed]

    def position(self, symbol: str) -> int:
        """Position of `symbol` in `symbols` (as used in `changed` lists)."""
        return self._positions[symbol]


class _LtpView(Mapping):
    """Read-only mapping symbol -> LTP in paise at the feed's current tick."""

    def __init__(self, feed: ReplayFeed):
        self._feed = feed
        self._ltp = feed.ltp

    def __getitem__(self, symbol: str) -> int:
        return self._ltp(symbol)

    def __iter__(self) -> Iterator[str]:
        return iter(self._feed.symbols)

    def __len__(self) -> int:
        return len(self._feed.symbols)
