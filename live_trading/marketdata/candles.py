"""Candles (1m, 3m, 5m, 15m) completed as a replay crosses bucket boundaries.

Buckets are aligned to exchange midnight, which also aligns them to the 09:15 session open for every
supported timeframe (09:15, 09:18, 09:20, 09:30 ...). A bucket's candle holds the ticks inside it:
open = first tick, high/low = extreme ticks, close = last tick, volume = sum of the ticks' quantities.
A bucket without ticks has no candle. A candle is emitted when it completes: at the first tick of a
later bucket, or by `CandleBuilder.finish` at the end of the day.

Because a `MarketDay` is a dense per-second matrix, a completed bucket is computed from numpy slices of
the rows it spans (the same values a tick-by-tick builder would accumulate), for all subscribed
symbols of a timeframe at once.

Imported 1-minute candles are stored as four ticks per minute (open, then low and high in the order
that matches the bar's direction, then close with the bar's volume), so building 1-minute candles from
them gives the imported candles back exactly and higher timeframes aggregate them; `aggregate` does the
same from a list of 1-minute candles directly.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from live_trading.marketdata.calendar import IST_OFFSET_SECONDS
from live_trading.marketdata.day import MarketDay

TIMEFRAMES: dict[str, int] = {"1m": 60, "3m": 180, "5m": 300, "15m": 900}
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
    """Seconds of a timeframe given as ``"1m"``, ``"3m"``, ``"5m"``, ``"15m"`` or as seconds."""
    if isinstance(timeframe, str):
        try:
            return TIMEFRAMES[timeframe]
        except KeyError:
            raise ValueError(f"unknown timeframe {timeframe!r}; use one of {', '.join(TIMEFRAMES)}") from None
    if timeframe not in TIMEFRAMES.values():
        raise ValueError(f"unsupported timeframe of {timeframe} s; use one of {sorted(TIMEFRAMES.values())}")
    return int(timeframe)


def timeframe_name(seconds: int) -> str:
    for name, value in TIMEFRAMES.items():
        if value == seconds:
            return name
    raise ValueError(f"unsupported timeframe of {seconds} s")


def bucket_start(ts: int, timeframe: int) -> int:
    """Start (epoch seconds) of the `timeframe`-second bucket containing `ts`, aligned to IST midnight."""
    return ts - (ts + IST_OFFSET_SECONDS) % timeframe


class CandleBuilder:
    """Builds the candles of `subscriptions` (pairs of symbol and timeframe) over one `MarketDay`.

    Call `on_tick(index)` with each row the replay reaches (rows must not go backwards); it returns
    the candles completed before that row, shortest timeframe first, then in subscription order.
    `finish()` returns the rest at the end of the day.
    """

    def __init__(self, day: MarketDay, subscriptions: Iterable[tuple[str, str | int]]):
        by_timeframe: dict[int, list[str]] = {}
        for symbol, timeframe in subscriptions:
            day.column(symbol)
            symbols = by_timeframe.setdefault(timeframe_seconds(timeframe), [])
            if symbol not in symbols:
                symbols.append(symbol)
        self._groups = [_Group(day, tf, syms) for tf, syms in sorted(by_timeframe.items())]

    def on_tick(self, index: int) -> Sequence[Candle]:
        """Candles completed by reaching row `index` (usually none)."""
        out = None
        for group in self._groups:
            if index >= group.next_edge:
                if out is None:
                    out = []
                group.complete_until(index, out)
        return _NO_CANDLES if out is None else out

    def finish(self) -> list[Candle]:
        """Close every remaining bucket of the day."""
        out: list[Candle] = []
        for group in self._groups:
            group.complete_until(group.n_rows, out)
        return out


class _Group:
    """The symbols of one timeframe, with contiguous copies of their columns."""

    def __init__(self, day: MarketDay, timeframe: int, symbols: list[str]):
        columns = [day.column(s) for s in symbols]
        self.timeframe = timeframe
        self.symbols = symbols
        self.prices = np.ascontiguousarray(day.prices[:, columns])
        self.mask = np.ascontiguousarray(day.tick_mask[:, columns])
        self.volumes = np.ascontiguousarray(day.volumes[:, columns])
        ts = day.timestamps
        buckets = (ts + IST_OFFSET_SECONDS) // timeframe
        self.edges = [0, *(np.flatnonzero(np.diff(buckets)) + 1).tolist(), len(ts)]
        self.starts = (buckets[self.edges[:-1]] * timeframe - IST_OFFSET_SECONDS).tolist() if len(ts) else []
        self.n_rows = len(ts)
        self.k = 0
        self.next_edge = self.edges[1] if len(self.edges) > 1 else 0
        self._cols = np.arange(len(symbols))

    def complete_until(self, index: int, out: list[Candle]) -> None:
        while self.k < len(self.edges) - 1 and self.edges[self.k + 1] <= index:
            self._emit(self.edges[self.k], self.edges[self.k + 1], self.starts[self.k], out)
            self.k += 1
        self.next_edge = self.edges[self.k + 1] if self.k < len(self.edges) - 1 else _INT64_MAX

    def _emit(self, s: int, e: int, start: int, out: list[Candle]) -> None:
        mask = self.mask[s:e]
        ticked = mask.any(axis=0)
        if not ticked.any():
            return
        prices = self.prices[s:e]
        opens = prices[mask.argmax(axis=0), self._cols].tolist()
        highs = np.where(mask, prices, 0).max(axis=0).tolist()
        lows = np.where(mask, prices, _INT64_MAX).min(axis=0).tolist()
        # Prices are forward-filled, so the last row holds each symbol's last tick in the bucket.
        closes = prices[-1].tolist()
        volumes = self.volumes[s:e].sum(axis=0).tolist()
        tf = self.timeframe
        for j in np.flatnonzero(ticked).tolist():
            out.append(Candle(self.symbols[j], tf, start, opens[j], highs[j], lows[j], closes[j], volumes[j]))


def day_candles(day: MarketDay, symbol: str, timeframe: str | int) -> list[Candle]:
    """Every candle of `symbol` on `day` at once (for history and indicator warm-up)."""
    return CandleBuilder(day, [(symbol, timeframe)]).finish()


def aggregate(candles: Sequence[Candle], timeframe: str | int) -> list[Candle]:
    """Combine candles of one symbol (e.g. imported 1-minute ones) into a longer `timeframe`."""
    tf = timeframe_seconds(timeframe)
    out: list[Candle] = []
    current: Candle | None = None
    for c in candles:
        if tf % c.timeframe:
            raise ValueError(f"cannot build {tf} s candles from {c.timeframe} s candles")
        start = bucket_start(c.start, tf)
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
