"""A session over several trading days: one ``Engine`` per day, one event stream, one summary.

Positions are intraday (every day ends squared off), so days are independent except for what a
``Carry`` passes on: the position store (trade list, totals, position numbering), the execution
counter, the drawdown and progress counts. Days are loaded lazily, when the previous one ends.
``MultiDayEngine`` has the single-day engine's stepping API, so the session runner drives either.

It also samples the session's P&L for its curve: an ``EquitySample`` at the close of every exchange
minute (found when the first tick of a later minute comes, so the sample holds the figures after the
minute's last tick, at that tick's prices) and one at the end, after ``SessionComplete``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from live_trading.engine import charges
from live_trading.engine.engine import Carry, Engine, EngineSettings
from live_trading.engine.events import EquitySample, NullSink, Summary
from live_trading.marketdata.calendar import TRADING_SECONDS
from live_trading.marketdata.candles import bucket_start
from live_trading.marketdata.store import load_day


class MultiDayEngine:
    """Steps a strategy through ``days`` (dates, loaded with ``load(underlying, date)``, or MarketDays).

    Raises ``NoChargeRates`` for a day the charge schedule does not cover, before loading any day:
    loading may generate (and store) market data, which a refused session must not leave behind.
    """

    def __init__(self, graph, days: Sequence, sink=None, settings: EngineSettings | None = None,
                 load: Callable | None = None):
        if not days:
            raise ValueError("a session needs at least one day")
        settings = settings or EngineSettings()
        for day in days:
            charges.rates_on(getattr(day, "date", day), settings.charge_schedule)
        if load is None:
            load = load_day
        self.graph = graph
        self.days = list(days)
        self.sink = sink if sink is not None else NullSink()
        self.settings = settings
        self._load = load
        # Every day is a full session of TRADING_SECONDS ticks; corrected as days are loaded.
        self.carry = Carry(total_ticks=TRADING_SECONDS * len(self.days))
        self._k = -1
        self.load_seconds = 0.0
        self.engine: Engine | None = None
        self.status = "not_started"
        self._last_ts: int | None = None  # the last tick processed
        self._minute_end = float("-inf")  # when the exchange minute of that tick ends
        self._next_engine()

    def _next_engine(self) -> bool:
        if self._k + 1 >= len(self.days):
            return False
        self._k += 1
        day = self.days[self._k]
        if not hasattr(day, "prices"):
            t0 = time.perf_counter()  # measured only, so that ticks per second can leave loading out
            day = self._load(self.graph.underlying, day)
            self.load_seconds += time.perf_counter() - t0
        self.carry.total_ticks += day.n_ticks - TRADING_SECONDS if hasattr(day, "n_ticks") else 0
        last = self._k == len(self.days) - 1
        self.engine = Engine(self.graph, day, self.sink, self.settings, carry=self.carry, final=last)
        return True

    @property
    def done(self) -> bool:
        return self.status in ("completed", "stopped")

    @property
    def ticks_processed(self) -> int:
        return self.engine._tick_base + self.engine.ticks_processed

    @property
    def total_ticks(self) -> int:
        return self.carry.total_ticks

    def next_timestamp(self) -> int | None:
        """Epoch seconds of the next tick across days; None when every day is done."""
        while True:
            ts = self.engine.next_timestamp()
            if ts is not None or self.done:
                return ts
            if not self._next_engine():
                self.status = self.engine.status
                return None

    def step(self) -> bool:
        """Process the next tick (moving to the next day when one ends); False when all are done."""
        ts = self.next_timestamp()
        if ts is None:
            return False
        if ts >= self._minute_end:
            if self._last_ts is not None:
                self._sample(self._minute_end)  # the previous tick was its minute's last
            self._minute_end = bucket_start(ts, 60) + 60
        self.status = "running"
        self.engine.step()
        self._last_ts = ts
        if self.next_timestamp() is None:
            self._sample(ts + 1)
            return False
        return True

    def run(self, should_stop=None) -> Summary:
        """Step through every day (or until ``should_stop()``); return the summary."""
        while (should_stop is None or not should_stop()) and self.step():
            pass
        self.finish()
        return self.summary()

    def finish(self) -> None:
        """End the session: after the last tick of the last day a no-op, else stop where it is."""
        if self.done:
            return
        if self.next_timestamp() is None:
            self.status = "completed"
            return
        self.engine.final = True
        self.engine.stop()
        self.status = "stopped"
        if self._last_ts is not None:
            self._sample(self._last_ts + 1)

    def stop(self) -> None:
        self.finish()

    def summary(self) -> Summary:
        return self.engine.summary()

    def _sample(self, ts: int) -> None:
        # The day's engine holds the prices of the tick just processed (or, between two days, no open
        # position: every day ends squared off); the store, carried across days, every charge paid.
        account = self.engine.account()
        self.sink.emit(EquitySample(ts, account["realized_pnl"], account["unrealized_pnl"], self.carry.store.charges))

    def snapshot(self) -> dict:
        return self.engine.snapshot()

