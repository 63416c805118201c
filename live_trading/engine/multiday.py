"""A session over several trading days: one event stream, one summary, the P&L of every day.

An intraday strategy runs one ``Engine`` per day: every day ends squared off, so days are independent
except for what a ``Carry`` passes on: the position store (trade list, totals, position numbering), the
execution counter, the drawdown, the daily P&L and progress counts. A positional strategy
(``holding: positional``) runs one ``Engine`` over all the days, moved from each day's close to the next
day's open (``Engine.next_day``): positions, node states, candles, indicators and re-entry counts carry
over; each day's ``DayPlan`` says whether the controller starts and when it squares off that day (its
``positional_square_off`` rule). Days are loaded lazily, when the previous one ends, so the cost per day
does not grow with the number of days. ``MultiDayEngine`` has the single-day engine's stepping API, so
the session runner drives either.

It also samples the session's P&L for its curve: an ``EquitySample`` at the close of every exchange
minute (found when the first tick of a later minute comes, so the sample holds the figures after the
minute's last tick, at that tick's prices) and one at the end, after ``SessionComplete``. Each sample
also carries the range of the P&L the engine's drawdown tracker saw since the one before
(``engine.DrawdownMeter``), so its tick-level maximum drawdown can be recomputed from the samples.
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections.abc import Callable, Sequence

from live_trading.engine.engine import Carry, DayPlan, Engine, EngineSettings
from live_trading.engine.events import EquitySample, NullSink, Summary
from live_trading.marketdata.calendar import calendar_of
from live_trading.marketdata.candles import bucket_start
from live_trading.marketdata.instruments import get_underlying
from live_trading.marketdata.store import load_day


class MultiDayEngine:
    """Steps a strategy through ``days`` (dates, loaded with ``load(underlying, date)``, or MarketDays).

    Progress (``total_ticks``) counts every day before it is loaded: ``count(underlying, date)`` ticks
    (``store.day_ticks`` with the session's data folder: the seconds of the day's windows, or on a calendar
    replayed tick by tick the seconds with a tick of the imported file); without ``count``, what the
    calendar alone knows (``TradingCalendar.expected_rows``; 0 for a tick-by-tick calendar). A day's own
    count replaces the estimate when it is loaded.

    Raises ``NoChargeRates`` for a day the charge schedule does not cover (fee model ``nse_fo`` only),
    ``fees.InvalidFees`` for a fee model the instrument's money cannot take (``FeeModel.for_day``: ``nse_fo``
    on money not in rupees and paise),
    and whatever ``count`` raises (``MarketDataMissing`` for a day of an imported-only instrument that
    was not imported), before loading any day: loading may generate (and store) market data, which a
    refused session must not leave behind.
    """

    def __init__(self, graph, days: Sequence, sink=None, settings: EngineSettings | None = None,
                 load: Callable | None = None, count: Callable | None = None):
        if not days:
            raise ValueError("a session needs at least one day")
        settings = settings or EngineSettings()
        instrument = get_underlying(graph.underlying)
        for day in days:
            settings.fees.for_day(getattr(day, "date", day), settings.charge_schedule,
                                  places=instrument.price_decimals, currency=instrument.currency)
        if load is None:
            load = load_day
        self.graph = graph
        self.days = list(days)
        self.sink = sink if sink is not None else NullSink()
        self.settings = settings
        self._load = load
        self._count = count
        self._calendar = calendar_of(graph.underlying)
        self._expected = [self._expected_ticks(day) for day in self.days]
        # corrected as days are loaded
        self.carry = Carry(total_ticks=sum(self._expected), multi_day=True)
        self.positional = graph.start.config.holding == "positional"
        self._day_index = -1
        self.load_seconds = 0.0
        self.engine: Engine | None = None
        self.status = "not_started"
        self._last_ts: int | None = None  # the last tick processed
        self._minute_end = float("-inf")  # when the exchange minute of that tick ends
        self._upcoming = None  # (day, plan, last) a positional engine moves on to at its first tick
        self._next_engine()
        self.calendar = self.engine.market.calendar  # its market's: the days and windows it is replayed in

    def _next_engine(self) -> bool:
        if self._day_index + 1 >= len(self.days):
            return False
        self._day_index += 1
        day = self.days[self._day_index]
        if not hasattr(day, "prices"):
            started = time.perf_counter()  # measured only, so that ticks per second can leave loading out
            day = self._load(self.graph.underlying, day)
            self.load_seconds += time.perf_counter() - started
        self.carry.total_ticks += day.n_ticks - self._expected[self._day_index]
        last = self._day_index == len(self.days) - 1
        if not self.positional:
            self.engine = Engine(self.graph, day, self.sink, self.settings, carry=self.carry, final=last)
        elif self.engine is None:
            self.engine = Engine(self.graph, day, self.sink, self.settings, carry=self.carry, final=last,
                                 plan=self._plan(0))
        else:
            # Moved onto it by the step that processes its first tick: until then the engine stays at
            # the last day's close (where a session stopped between two days ends).
            self._upcoming = (day, self._plan(self._day_index), last)
        return True

    def _plan(self, index: int) -> DayPlan:
        """A positional strategy's controller on day ``index``: it starts on the first day and squares
        off at ``square_off_time`` on the last (``end_of_range``), at the rule's time on the rule's day
        (the last when that day is not one of the session's), or not at all (``at_expiry``: what is open
        at the end of the last day closes at ``session_end``)."""
        config = self.graph.start.config
        rule = config.positional_square_off
        last = len(self.days) - 1
        square_off = None
        if rule.rule == "end_of_range" and index == last:
            square_off = config.square_off_time
        elif rule.rule == "day":
            dates = [getattr(day, "date", day) for day in self.days]
            on = dates.index(rule.day) if rule.day in dates else last
            if index == on:
                square_off = rule.time
        return DayPlan(index == 0, square_off)

    def _expected_ticks(self, day) -> int:
        """Ticks a day is expected to have before it is loaded (a MarketDay's own)."""
        if hasattr(day, "n_ticks"):
            return day.n_ticks
        if self._count is not None:
            return self._count(self.graph.underlying, day)
        return self._calendar.expected_rows(day) or 0

    @property
    def done(self) -> bool:
        return self.status in ("completed", "stopped")

    @property
    def ticks_processed(self) -> int:
        return self.engine.ticks_before + self.engine.ticks_processed

    @property
    def total_ticks(self) -> int:
        return self.carry.total_ticks

    def next_timestamp(self) -> int | None:
        """Epoch seconds of the next tick across days; None when every day is done."""
        while True:
            if self._upcoming is not None:
                return int(self._upcoming[0].timestamps[0])
            ts = self.engine.next_timestamp()
            if ts is not None or self.done:
                return ts
            more = self._day_index + 1 < len(self.days)
            if more and self._last_ts is not None and self._minute_end != float("-inf"):
                # The day's last minute is sampled before the next day replaces its prices (a
                # positional session holds positions over the night).
                self._sample(self._minute_end)
                self._minute_end = float("-inf")
            if not self._next_engine():
                self.status = self.engine.status
                return None

    def step(self) -> bool:
        """Process the next tick (moving to the next day when one ends); False when all are done."""
        ts = self.next_timestamp()
        if ts is None:
            return False
        if self._upcoming is not None:
            day, plan, last = self._upcoming
            self._upcoming = None
            self.engine.next_day(day, plan, final=last)
        if ts >= self._minute_end:
            if self._last_ts is not None and self._minute_end != float("-inf"):
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
        """Step through every day (or until ``should_stop()``, asked between ticks); return the summary.

        Without ``should_stop``, stretches of ticks on which nothing can happen (``Engine.quiet_until``:
        flat, nothing to evaluate) are passed in one go, with the same events as stepping them."""
        if should_stop is None:
            while self.advance():
                pass
        else:
            while not should_stop() and self.step():
                pass
        self.finish()
        return self.summary()

    def advance(self) -> bool:
        """Process the next tick, or the quiet stretch of ticks that starts there (``run``'s way: the
        same events as stepping them one by one); False when every day is done."""
        return self._pass_quiet() or self.step()

    def _pass_quiet(self) -> bool:
        """Pass the quiet ticks ahead of today's engine, sampling each minute they close as ``step``
        does; return whether there were any."""
        if self._upcoming is not None or self._last_ts is None:
            return False
        engine = self.engine
        row = engine.ticks_processed
        end = engine.quiet_until()
        if end <= row:
            return False
        timestamps = engine.market.timestamps
        while row < end:
            ts = timestamps[row]
            if ts >= self._minute_end:
                if self._minute_end != float("-inf"):
                    self._sample(self._minute_end)  # the previous tick was its minute's last
                self._minute_end = bucket_start(ts, 60) + 60
            # up to the next minute's first tick, where the next sample is due
            upto = bisect_left(timestamps, self._minute_end, row + 1, end)
            engine.pass_quiet(upto)
            self._last_ts = timestamps[upto - 1]
            row = upto
        return True

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
        if self._last_ts is not None and self._minute_end != float("-inf"):  # (else sampled at the day's close)
            self._sample(self._last_ts + 1)

    def stop(self) -> None:
        self.finish()

    def summary(self) -> Summary:
        return self.engine.summary()

    def _sample(self, ts: int) -> None:
        # The day's engine holds the prices of the tick just processed (between two days, the last day's
        # closing prices); the store, carried across days, every charge paid.
        # The meter holds the range of the P&L the drawdown tracker saw since the previous sample.
        realized, unrealized = self.engine.pnl_parts()
        low, high, drop = self.carry.meter.take()
        market = self.engine.market
        self.sink.emit(EquitySample(ts, realized, unrealized, self.carry.store.charges, low, high, drop,
                                    market.places, market.zone))

    def snapshot(self) -> dict:
        return self.engine.snapshot()

