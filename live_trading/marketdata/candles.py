"""Candles (1m, 3m, 5m, 10m, 15m, 30m, 1h, 1d) completed as a replay crosses bucket boundaries.

`TIMEFRAMES` is the one list of timeframes (name -> seconds): the strategy validator, the engine, the
candles REST endpoint and the session page all take theirs from it.

Intraday buckets are aligned to the 09:15 session open, in IST, as brokers' NSE charts are: a bucket
starts at 09:15 + k x its length (a 10m bar 09:15-09:25, a 30m bar 09:15-09:45, 1h bars 09:15-10:15
... 14:15-15:15 and a last, shorter one 15:15-15:30). For 1m, 3m, 5m and 15m this is the same grid as
alignment to exchange midnight. Every intraday length divides a day, so the grid is the same every day;
a special session (a Muhurat evening) is cut on that grid too. A `1d` bucket is a whole trading day,
starting at its 09:15 (`start`) and holding all its ticks: open at the first tick, close at the last.
A builder works on one day, so no candle spans a night; a positional session builds each day's in turn
and its candles and indicators run on across days. A bucket's candle holds the ticks inside it:
open = first tick, high/low = extreme ticks, close = last tick, volume = sum of the ticks' quantities.
A bucket without ticks has no candle. A candle is emitted when it completes: at the first tick of a
later bucket, or by `CandleBuilder.finish` at the end of the day.

Because a `MarketDay` is a dense per-second matrix, every bucket of the day is computed when the builder
is built, by whole-column reductions over the rows each spans (the same values a tick-by-tick builder
would accumulate), for all subscribed symbols of a timeframe at once; reaching a bucket's end only
hands its candles out.

Imported 1-minute candles are stored as four ticks per minute (open, then low and high in the order
that matches the bar's direction, then close with the bar's volume), so building 1-minute candles from
them gives the imported candles back exactly and higher timeframes aggregate them; `aggregate` does the
same from a list of 1-minute candles directly.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from live_trading.marketdata.calendar import IST_OFFSET_SECONDS, NSE, OPEN_SECOND, calendar_of
from live_trading.marketdata.day import MarketDay

TIMEFRAMES: dict[str, int] = {
    "1m": 60, "3m": 180, "5m": 300, "10m": 600, "15m": 900, "30m": 1800, "1h": 3600, "1d": 86_400,
}
"""Timeframe name -> bucket length in seconds, shortest first (``1d``: one bucket per trading day)."""
ANCHOR_SECOND = OPEN_SECOND
"""Seconds after exchange midnight that every bucket grid starts from: 09:15, the session open."""
_ANCHOR_SHIFT = IST_OFFSET_SECONDS - ANCHOR_SECOND
_NO_CANDLES: tuple = ()
_INT64_MAX = np.iinfo(np.int64).max


@dataclass(frozen=True, slots=True)
class Candle:
    """One completed candle; prices in paise, `start` in epoch seconds, `timeframe` in seconds."""

    symbol: str
    timeframe: int
    start: int
    open: int
    high: int
    low: int
    close: int
    volume: int

    @property
    def end(self) -> int:
        """Epoch seconds at which the bucket ends (exclusive)."""
        return self.start + self.timeframe


def timeframe_seconds(timeframe: str | int) -> int:
    """Seconds of a timeframe given by name (a key of ``TIMEFRAMES``: ``"1m"`` ... ``"1h"``, ``"1d"``) or
    as seconds; ValueError naming the choices for any other."""
    if isinstance(timeframe, str):
        try:
            return TIMEFRAMES[timeframe]
        except KeyError:
            raise ValueError(f"unknown timeframe {timeframe!r}; use one of {', '.join(TIMEFRAMES)}") from None
    if timeframe not in TIMEFRAMES.values():
        raise ValueError(f"unsupported timeframe of {timeframe} s; use one of {sorted(TIMEFRAMES.values())}")
    return int(timeframe)


def timeframe_name(seconds: int) -> str:
    """The name (``"1h"``) of a timeframe of ``seconds``; ValueError if there is none."""
    for name, value in TIMEFRAMES.items():
        if value == seconds:
            return name
    raise ValueError(f"unsupported timeframe of {seconds} s")


def bucket_start(ts: int, timeframe: int, anchor: int | None = None) -> int:
    """Start (epoch seconds) of the `timeframe`-second bucket containing `ts` (epoch seconds), on the grid
    from 09:15 IST (``ANCHOR_SECOND``): 10:20 is in the 1h bucket of 10:15, 15:20 in that of 15:15, and
    any time of a trading day in the 1d bucket of its 09:15. With `anchor` (epoch seconds: a data
    calendar's session open, `TradingCalendar.anchor_ts`), on the grid from it."""
    if anchor is not None:
        return ts - (ts - anchor) % timeframe
    return ts - (ts + _ANCHOR_SHIFT) % timeframe


class CandleBuilder:
    """Builds the candles of `subscriptions` (pairs of symbol and timeframe) over one `MarketDay`.

    Call `on_tick(index)` with each row the replay reaches (rows must not go backwards); it returns
    the candles completed before that row, shortest timeframe first, then in subscription order.
    `finish()` returns the rest at the end of the day. With `at_close`, a candle whose bucket has a row
    at its last second (an imported bar's close tick, or any second of a per-second day) completes at
    that row, its close then known, instead of at the first row after it.
    """

    def __init__(self, day: MarketDay, subscriptions: Iterable[tuple[str, str | int]], at_close: bool = False):
        by_timeframe: dict[int, list[str]] = {}
        for symbol, timeframe in subscriptions:
            day.column(symbol)
            symbols = by_timeframe.setdefault(timeframe_seconds(timeframe), [])
            if symbol not in symbols:
                symbols.append(symbol)
        self._groups = [_Group(day, tf, syms, at_close) for tf, syms in sorted(by_timeframe.items())]
        self.next_edge = self._next_edge()  # the first row whose `on_tick` may return candles

    def on_tick(self, index: int) -> Sequence[Candle]:
        """Candles completed by reaching row `index` (usually none)."""
        if index < self.next_edge:
            return _NO_CANDLES
        out: list[Candle] = []
        for group in self._groups:
            if index >= group.next_edge:
                group.complete_until(index, out)
        self.next_edge = self._next_edge()
        return out or _NO_CANDLES

    def _next_edge(self) -> int:
        return min((group.next_edge for group in self._groups), default=_INT64_MAX)

    def finish(self) -> list[Candle]:
        """Close every remaining bucket of the day."""
        out: list[Candle] = []
        for group in self._groups:
            group.complete_until(group.n_rows, out)
        self.next_edge = self._next_edge()
        return out


class _Group:
    """The symbols of one timeframe, with every bucket of the day computed at once when the group is
    built (a few whole-column reductions instead of one set of numpy calls per bucket, which cost more
    than the rest of a quiet tick's work): completing a bucket is then building its `Candle`s."""

    def __init__(self, day: MarketDay, timeframe: int, symbols: list[str], at_close: bool = False):
        columns = [day.column(s) for s in symbols]
        self.timeframe = timeframe
        self.symbols = symbols
        ts = day.timestamps
        calendar = calendar_of(day.underlying)
        # The grid of `bucket_start`: from 09:15 IST on NSE days, from the session open on a data calendar's.
        shift = _ANCHOR_SHIFT if calendar is NSE else -calendar.anchor_ts(day.date)
        buckets = (ts + shift) // timeframe
        self.edges = [0, *(np.flatnonzero(np.diff(buckets)) + 1).tolist(), len(ts)]
        self.starts = (buckets[self.edges[:-1]] * timeframe - shift).tolist() if len(ts) else []
        self.n_rows = len(ts)
        # The row at which each bucket completes: the first after it, or with `at_close` its last row when
        # that row is the bucket's last second.
        self.done_at = self.edges[1:]
        if at_close and len(ts):
            last = np.array(self.edges[1:]) - 1
            self.done_at = np.where(ts[last] == np.array(self.starts) + timeframe - 1, last, last + 1).tolist()
        self.k = 0
        self.next_edge = self.done_at[0] if self.done_at else 0
        self._rows: list = []
        if len(ts):
            self._rows = self._buckets(day, columns)

    def _buckets(self, day: MarketDay, columns: list[int]) -> list:
        """Per bucket, per symbol: None (no tick in it) or (open, high, low, close, volume)."""
        prices = day.prices[:, columns]
        mask = day.tick_mask[:, columns]
        starts = np.asarray(self.edges[:-1])
        n = len(prices)
        ticks = np.add.reduceat(mask, starts, axis=0)
        first = np.minimum.reduceat(np.where(mask, np.arange(n)[:, None], n - 1), starts, axis=0)
        opens = np.take_along_axis(prices, first, axis=0)
        highs = np.maximum.reduceat(np.where(mask, prices, 0), starts, axis=0)
        lows = np.minimum.reduceat(np.where(mask, prices, _INT64_MAX), starts, axis=0)
        # Prices are forward-filled, so a bucket's last row holds each symbol's last tick in it.
        closes = prices[np.asarray(self.edges[1:]) - 1]
        volumes = np.add.reduceat(day.volumes[:, columns], starts, axis=0)
        return [
            [(o, h, lo, c, v) if t else None for t, o, h, lo, c, v in zip(*row, strict=True)]
            for row in zip(ticks.tolist(), opens.tolist(), highs.tolist(), lows.tolist(), closes.tolist(),
                           volumes.tolist(), strict=True)
        ]

    def complete_until(self, index: int, out: list[Candle]) -> None:
        while self.k < len(self.edges) - 1 and self.done_at[self.k] <= index:
            self._emit(self.k, out)
            self.k += 1
        self.next_edge = self.done_at[self.k] if self.k < len(self.edges) - 1 else _INT64_MAX

    def _emit(self, k: int, out: list[Candle]) -> None:
        start, tf = self.starts[k], self.timeframe
        for symbol, values in zip(self.symbols, self._rows[k], strict=True):
            if values is not None:
                out.append(Candle(symbol, tf, start, *values))


def day_candles(day: MarketDay, symbol: str, timeframe: str | int) -> list[Candle]:
    """Every candle of `symbol` on `day` at once (for history and indicator warm-up)."""
    return CandleBuilder(day, [(symbol, timeframe)]).finish()


def aggregate(candles: Sequence[Candle], timeframe: str | int, anchor: int | None = None) -> list[Candle]:
    """Combine candles of one symbol (e.g. imported 1-minute ones) into a longer `timeframe`, on the grid
    `bucket_start` cuts: from 09:15 IST, or with `anchor` (epoch seconds, `TradingCalendar.anchor_ts` of
    the candles' trading day) from that day's session open, as `CandleBuilder` cuts a data calendar's."""
    tf = timeframe_seconds(timeframe)
    out: list[Candle] = []
    current: Candle | None = None
    for c in candles:
        if tf % c.timeframe:
            raise ValueError(f"cannot build {tf} s candles from {c.timeframe} s candles")
        start = bucket_start(c.start, tf, anchor)
        if current is not None and current.symbol != c.symbol:
            raise ValueError("aggregate() takes candles of one symbol")
        if current is not None and start == current.start:
            current = Candle(
                c.symbol,
                tf,
                start,
                current.open,
                max(current.high, c.high),
                min(current.low, c.low),
                c.close,
                current.volume + c.volume,
            )
        else:
            if current is not None:
                if start < current.start:
                    raise ValueError("aggregate() needs candles in time order")
                out.append(current)
            current = Candle(c.symbol, tf, start, c.open, c.high, c.low, c.close, c.volume)
    if current is not None:
        out.append(current)
    return out
