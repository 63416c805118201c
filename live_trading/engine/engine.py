"""The strategy engine: one strategy replayed over one day, tick by tick, deterministically.

Build an ``Engine`` with a parsed strategy graph, a ``MarketDay`` and a sink; call ``step()`` to
process one tick (it returns whether ticks remain) or ``run()`` to go to the end; read ``snapshot()``
between steps. Everything the engine does is reported to the sink as typed events (``events.py``);
what it shows (the snapshot, the records and details its events carry) is rendered by ``readout.py``.

Per tick, in this order: candles that completed are published (indicators updated, one
``CandleCompleted`` each); the controller's timers run (start, no new entries, square-off time);
each open position's stop loss / target / trailing stop is checked; the strategy's P&L limits and
drawdown are updated; then every active node is evaluated, in activation order; finally a
``TickSnapshot`` goes to sinks that want ticks. Nodes activated during a tick start being evaluated
on the next tick, except action nodes, which act at once.

Deterministic: no wall clock, no unseeded randomness, no iteration over unordered sets. Execution
ids are ``exec_<node-id>_<YYYYMMDD>_<HHMMSS>_<6 hex>`` in exchange time, the hex a BLAKE2b hash of
the session seed, node id, timestamp and a per-session counter.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_left
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from live_trading.engine import charges as charges_mod
from live_trading.engine.broker import BrokerSettings, PaperBroker
from live_trading.engine.events import (
    CandleCompleted,
    NodeExecuted,
    NullSink,
    PositionEvent,
    SessionComplete,
    Summary,
    TradeClosed,
)
from live_trading.engine.fees import NSE_FO_FEES, FeeModel
from live_trading.engine.market import TF_NAMES, InstrumentUnavailable, MarketState
from live_trading.engine.money import compact_stamp, iso, price_number, rupees, rupees_str
from live_trading.engine.nodes import (
    ACTIVE,
    COMPLETED,
    NODE_CLASSES,
    Execution,
    RiskMonitor,
    exit_quantity,
    limit_details,
)
from live_trading.engine.positions import Fill, PositionStore
from live_trading.engine.readout import Readout, closed_position, order_details, session_summary, trade_record
from live_trading.marketdata.symbols import OptionSymbol, parse_symbol
from strategies.graph.model import StrategyGraph


@dataclass(frozen=True)
class EngineSettings:
    """How a session trades. Money in paise.

    ``seed`` feeds execution ids (same seed, same ids). ``candle_timeframes`` are published as
    ``CandleCompleted`` besides those the strategy's conditions use. ``fees`` is what each order pays
    (``fees.FeeModel``; ``nse_fo`` reads its rates from ``charge_schedule``); ``slippage_ticks`` moves
    every fill against the trader (``broker.PaperBroker.fill_price``).
    """

    seed: str = "0"
    starting_capital: int = 10_00_000_00
    slippage_ticks: int = 0
    candle_timeframes: tuple = ("1m",)
    charge_schedule: tuple = field(default=charges_mod.SCHEDULE)
    fees: FeeModel = NSE_FO_FEES
    fills_at: str = "next_open"
    """When a condition on a candle can first act, and so at what price an order it places fills on bar
    data: ``next_open``, at the first tick after the candle (an imported bar's next open), or
    ``bar_close``, at the candle's last second when the data has a tick there (an imported bar's close
    tick), at its close. backtesting.py's ``trade_on_close`` False and True (docs/strategies.md)."""


FILLS_AT = ("next_open", "bar_close")


@dataclass(slots=True)
class DrawdownMeter:
    """The range of the net P&L the engine's drawdown tracker saw since the last equity sample, in
    paise: what an ``EquitySample`` carries so that the report recomputes the tick-level maximum
    drawdown exactly from the samples alone (docs/reports.md, "The equity curve and drawdown").

    ``see(pnl)`` is called wherever the engine tracks its drawdown (each tick with a position open,
    after each exit fill). ``take()`` returns ``(low, high, drop)`` of the figures seen since the last
    ``take``: the lowest, the highest, and the deepest fall within them (the largest of ``max(figures up
    to f) - f`` over the figures f). The stretch starts from the figure seen last before it (``last``,
    0 before any), so a stretch in which nothing was tracked (no position open) is that figure alone;
    counting it changes no drawdown, as it was seen before.
    """

    last: int = 0
    low: int = 0
    high: int = 0
    drop: int = 0

    def see(self, pnl: int) -> None:
        self.last = pnl
        if pnl < self.low:
            self.low = pnl
        if pnl > self.high:
            self.high = pnl
        elif self.high - pnl > self.drop:
            self.drop = self.high - pnl

    def take(self) -> tuple[int, int, int]:
        """``(low, high, drop)`` since the last take; the next stretch starts at ``last``."""
        reading = (self.low, self.high, self.drop)
        self.low = self.high = self.last
        self.drop = 0
        return reading


@dataclass
class Carry:
    """What a multi-day session carries from one day's engine to the next (``multiday.py``): the
    position store (so trades, totals and position numbers continue), the execution counter, the
    drawdown so far (and its meter since the last equity sample), and tick counts for progress. A
    single-day engine makes its own."""

    store: PositionStore = field(default_factory=PositionStore)
    counter: int = 0
    peak: int = 0
    max_drawdown: int = 0
    meter: DrawdownMeter = field(default_factory=DrawdownMeter)
    ticks_before: int = 0
    total_ticks: int | None = None
    multi_day: bool = False  # the summary gives the P&L of each day
    daily: list = field(default_factory=list)  # (exchange date, net P&L of the day in paise) per closed day
    close_value: int = 0  # the net P&L (realized net + unrealized) at the last day's close, paise


class DayPlan(NamedTuple):
    """What the controller does on one day: ``first`` (the session's first day for a positional
    strategy, every day for an intraday one) runs the start time; ``square_off`` (seconds after
    midnight, exchange time, or None: hold over the close) squares off, with ``no_new_entries_after``
    before it that day."""

    first: bool
    square_off: int | None


class Engine:
    """Runs one strategy over one market day. Not thread-safe: one thread steps it and reads it.

    ``final=False`` (multi-day sessions) leaves ``SessionComplete`` to the caller. Read by
    ``readout.Readout``: ``ticks_processed`` (today), ``ticks_before`` (earlier days of the session),
    ``session_ticks`` (the whole session's), ``active_nodes`` (node id -> node, in activation order),
    ``last_executions`` (node id -> (execution id, epoch seconds, event type)).
    """

    def __init__(self, graph: StrategyGraph, day, sink=None, settings: EngineSettings | None = None,
                 carry: Carry | None = None, final: bool = True, plan: DayPlan | None = None):
        self.graph = graph
        self.settings = settings or EngineSettings()
        self.sink = sink if sink is not None else NullSink()
        self._emit = self.sink.emit
        self._wants_ticks = bool(getattr(self.sink, "wants_ticks", False))
        # the active signal nodes' condition values in each TickSnapshot (Readout.tick_snapshot)
        self.wants_node_diagnostics = self._wants_ticks and bool(getattr(self.sink, "wants_node_diagnostics", False))
        # A sink that coalesces ticks (the stream keeps a few a second) says when one is due, so the
        # engine builds a TickSnapshot only then; its LTP changes are those since the last one built.
        self._tick_due = getattr(self.sink, "tick_due", None)
        if self.settings.fills_at not in FILLS_AT:
            raise ValueError(f"fills_at must be one of {', '.join(FILLS_AT)}, not {self.settings.fills_at!r}")
        self.market = market = MarketState(day, candles_at_close=self.settings.fills_at == "bar_close")
        if graph.underlying != market.underlying:
            raise ValueError(f"the strategy trades {graph.underlying} but the market day is {market.underlying}'s")
        self.carry = carry = carry or Carry()
        self.final = final
        self.positional = graph.start.config.holding == "positional"
        self._day_recorded = False
        self.store = carry.store
        fees = self.settings.fees.for_day(market.date, self.settings.charge_schedule, places=market.places,
                                          currency=market.currency)
        self.broker = PaperBroker(fees, market.tick_size, BrokerSettings(
            starting_capital=self.settings.starting_capital,
            slippage_ticks=self.settings.slippage_ticks,
            # the instrument's margin rates (the data file's, universe.Margin)
            short_option_margin_rate=market.margin.short_option,
            underlying_margin_rate=market.margin.underlying,
        ))
        self._day_ticks = market.tick_count
        self._timestamps = market.timestamps
        self._processed = 0  # ticks processed today: the row of the next tick
        self._snapshot_at = 0  # the tick (1-based) whose TickSnapshot was emitted last
        self.status = "not_started"
        self._counter = carry.counter
        self.pending_reentry: dict[str, tuple] = {}
        self.entries_closed = False
        self.strategy_stopped = False
        self.active_nodes: dict[str, object] = {}
        self._active_in_order: tuple = ()
        self._monitors: dict[tuple, RiskMonitor] = {}
        self._monitors_in_order: tuple = ()
        self.last_executions: dict[str, tuple] = {}
        self._start_execution: Execution | None = None
        self._quiet_pnl = None  # (first row, the strategy's P&L by row) of a quiet stretch with positions open
        self._pnl_row = -1  # the row strategy_pnl() last computed for
        self._pnl_value = 0
        self._peak = carry.peak
        self._max_drawdown = carry.max_drawdown
        self._see_pnl = carry.meter.see
        self.ticks_before = carry.ticks_before
        self.session_ticks = carry.total_ticks or self._day_ticks
        self._readout = Readout(self)

        # Node runtimes (compiling conditions registers the candles and indicators they read).
        self.nodes = {spec.id: NODE_CLASSES[spec.type](spec, self) for spec in graph.nodes}
        self._children = {node_id: tuple(self.nodes[child] for child in graph.children[node_id])
                          for node_id in self.nodes}
        self._reentry_watchers: dict[str, tuple] = {}
        self._exit_signals_of: dict[str, tuple] = {}
        for node_id, node in self.nodes.items():
            if node.node.type == "re_entry":
                for parent in graph.parents[node_id]:
                    if graph.by_id[parent].type == "entry":
                        self._reentry_watchers[parent] = (*self._reentry_watchers.get(parent, ()), node)
            if node.node.type == "exit_signal":
                for parent in graph.parents[node_id]:
                    if graph.by_id[parent].type == "entry":
                        self._exit_signals_of[parent] = (*self._exit_signals_of.get(parent, ()), node)
        self._exit_signal_entries = {
            node_id: frozenset(parent for parent in graph.parents[node_id] if graph.by_id[parent].type == "entry")
            for node_id, node in self.nodes.items() if node.node.type == "exit_signal"
        }
        for timeframe in self.settings.candle_timeframes:
            market.require_timeframe(timeframe)
        market.build_candles()
        self._candles_on_tick = market.on_tick

        start = graph.start
        self._controller = self.nodes[start.id]
        config = start.config
        self._plan_day(plan or DayPlan(True, config.square_off_time))
        self._limits = (config.max_loss, config.max_profit) if (config.max_loss or config.max_profit) else None

    def _plan_day(self, plan: DayPlan) -> None:
        """Set the controller's timers for the day, as epoch seconds."""
        config = self.graph.start.config
        calendar = self.market.calendar
        midnight = calendar.midnight_ts(self.market.date)
        timers = [(midnight + config.start_time, "start")] if plan.first else []
        if plan.square_off is not None and not self.strategy_stopped:
            if config.no_new_entries_after < plan.square_off:
                timers.append((midnight + config.no_new_entries_after, "no_new_entries"))
            # A day whose session ends before the square-off time (a DR drill, a Muhurat evening: the
            # calendar's windows) squares off at its last second.
            last_second = calendar.windows_ts(self.market.date)[-1][1] - 1
            timers.append((min(midnight + plan.square_off, last_second), "square_off"))
        timers.sort(key=lambda timer: timer[0])  # stable: a start at the square-off time starts first
        self._timers = timers
        self._next_timer = timers[0][0] if timers else float("inf")

    def next_day(self, day, plan: DayPlan, final: bool) -> None:
        """Carry a positional session over to ``day``, the next trading day (after the last one's close,
        ``_close_day``): positions, node states, candles and indicators, re-entry counts and P&L go on;
        today's prices, option chain, charge rates and the controller's timers are the new day's."""
        self.ticks_before += self._processed
        self.carry.ticks_before = self.ticks_before
        market = self.market
        held = {p.symbol: market.price(p.symbol) for p in self.store.open}
        market.next_day(day, held)
        self.broker.fees = self.settings.fees.for_day(market.date, self.settings.charge_schedule,
                                                    places=market.places, currency=market.currency)
        self._day_ticks = market.tick_count
        self._timestamps = market.timestamps
        self.session_ticks = self.carry.total_ticks or self.ticks_before + self._day_ticks  # as corrected by now
        self._processed = 0
        self._snapshot_at = 0
        self._pnl_row = -1
        self._day_recorded = False
        self.final = final
        self._candles_on_tick = market.on_tick  # today's candle builder
        for monitor in self._monitors_in_order:
            monitor.prices = market.column_of(monitor.position.symbol)
        self._readout.next_day()
        self._plan_day(plan)

    # ------------------------------------------------------------------------------------------
    # Stepping

    @property
    def ticks_processed(self) -> int:
        return self._processed

    @property
    def total_ticks(self) -> int:
        return self._day_ticks

    @property
    def done(self) -> bool:
        return self.status in ("completed", "stopped")

    def next_timestamp(self) -> int | None:
        """Epoch seconds of the tick ``step()`` would process next; None when the session is over."""
        return None if self.done or self._processed >= self._day_ticks else self._timestamps[self._processed]

    def finish(self) -> None:
        """End the session: a no-op after the last tick (``step`` already finished it), else ``stop``."""
        if not self.done:
            self._finish("completed" if self._processed >= self._day_ticks else "stopped")

    def step(self) -> bool:
        """Process the next tick; return True while ticks remain (False once the session is over)."""
        row = self._processed
        if row >= self._day_ticks or self.done:
            return False
        if row == 0:
            self.status = "running"
        market = self.market
        ts = market.move_to(row)
        candles = self._candles_on_tick(row)
        if candles:
            self._publish_candles(candles)
        if ts >= self._next_timer:
            self._run_timers(ts)
        if self._monitors_in_order:
            for monitor in self._monitors_in_order:
                reason = monitor.check(row)
                if reason is not None:
                    self._risk_exit(monitor, reason)
        if self.store.open:
            self._track_pnl()
        for node in self._active_in_order:
            if node.state is ACTIVE:
                node.on_tick()
        if self._wants_ticks and (self._tick_due is None or self._tick_due()):
            self._emit(self._readout.tick_snapshot(row + 1))
            self._snapshot_at = row + 1
        self._processed = row + 1
        if self._processed >= self._day_ticks:
            if self.positional and not self.final:
                self._close_day()
            else:
                self._finish("completed")
            return False
        return True

    def quiet_until(self) -> int:
        """The row (exclusive) up to which the coming ticks would do nothing but complete candles and,
        with positions open, track the P&L's drawdown: no tick snapshot wanted, no node to evaluate
        before it wakes (``wakes_at``), no controller timer due, no stop, target or P&L limit reached
        (a trailing stop moves: not quiet); never the day's last row (its close is ``step``'s). The
        current row when the next tick is not quiet. ``pass_quiet`` passes them."""
        row = self._processed
        self._quiet_pnl = None
        if row == 0 or self.done or self._wants_ticks:
            return row
        wake = self._next_timer
        for node in self._active_in_order:
            if node.state is ACTIVE:
                at = node.wakes_at()
                if at is None:
                    return row
                if at < wake:
                    wake = at
        end = self._day_ticks - 1
        if wake != float("inf"):
            end = bisect_left(self._timestamps, wake, row, end)
        if end > row and self.store.open:
            end = self._quiet_positions(row, end)
        return max(end, row)

    def _quiet_positions(self, row: int, end: int) -> int:
        """Cut the stretch ``row..end`` at the first row a stop, a target or a P&L limit is reached, and
        keep the strategy's P&L over the rest for ``pass_quiet``'s drawdown tracking (numpy, exact in
        integer paise: each row as ``strategy_pnl`` computes it)."""
        market = self.market
        for monitor in self._monitors_in_order:
            if monitor.trail is not None:
                return row
            prices = market.column_array(monitor.position.symbol)[row:end]
            stop, target = monitor.stop, monitor.target
            hit = np.zeros(len(prices), bool)
            if monitor.sign > 0:
                if stop is not None:
                    hit |= prices <= stop
                if target is not None:
                    hit |= prices >= target
            else:
                if stop is not None:
                    hit |= prices >= stop
                if target is not None:
                    hit |= prices <= target
            first = int(hit.argmax()) if hit.any() else len(hit)
            end = row + first
            if end <= row:
                return row
        pnl = np.full(end - row, self.store.realized_net, np.int64)
        for position in self.store.open:
            prices = market.column_array(position.symbol)[row:end]
            open_quantity = position.quantity_total - position.quantity_closed
            pnl += np.where(prices != 0, position.sign * (prices - position.entry_price) * open_quantity, 0)
        limits = self._limits
        if limits is not None and not self.strategy_stopped and self._start_execution is not None:
            max_loss, max_profit = limits
            hit = np.zeros(len(pnl), bool)
            if max_loss is not None:
                hit |= pnl <= -max_loss
            if max_profit is not None:
                hit |= pnl >= max_profit
            if hit.any():
                end = row + int(hit.argmax())
                pnl = pnl[: end - row]
        self._quiet_pnl = (row, pnl.tolist())
        return end

    def pass_quiet(self, end: int) -> None:
        """Process the rows up to ``end`` (exclusive, at most ``quiet_until()``): their candles complete,
        in the order ``step`` would publish them, and the P&L of open positions goes through the drawdown
        tracker (peak, maximum drawdown, the equity samples' meter) row by row, as ``step`` feeds it."""
        market = self.market
        start = self._processed
        edge = market.next_candle_row()
        while edge < end:
            market.move_to(edge)
            candles = self._candles_on_tick(edge)
            if candles:
                self._publish_candles(candles)
            edge = market.next_candle_row()
        if self._quiet_pnl is not None and end > start:
            first, values = self._quiet_pnl
            peak, max_drawdown = self._peak, self._max_drawdown
            meter = self.carry.meter
            low, high, drop = meter.low, meter.high, meter.drop
            value = meter.last
            for value in values[start - first: end - first]:
                if value > peak:
                    peak = value
                elif peak - value > max_drawdown:
                    max_drawdown = peak - value
                if value < low:
                    low = value
                if value > high:
                    high = value
                elif high - value > drop:
                    drop = high - value
            self._peak, self._max_drawdown = peak, max_drawdown
            meter.last, meter.low, meter.high, meter.drop = value, low, high, drop
        market.move_to(end - 1)
        self._processed = end
        self._pnl_row = -1

    def run(self, should_stop=None) -> Summary:
        """Step to the end (or until ``should_stop()`` is true between ticks); return the summary."""
        step = self.step
        if should_stop is None:
            while step():
                pass
        else:
            while not should_stop() and step():
                pass
            if not self.done:
                self.stop()
        return self.summary()

    def stop(self) -> None:
        """End the session now, at the last processed tick: close what is open (``session_end``)
        and emit ``SessionComplete`` with status ``stopped``."""
        if not self.done:
            self._finish("stopped")

    def _finish(self, status: str) -> None:
        market = self.market
        if self._processed > 0:
            market.move_to(self._processed - 1)
        if status == "completed" and not self._day_recorded:
            self._publish_candles(market.final_candles())
            if self.positional:
                self._settle_expiries()
        self._stop_strategy()
        squared_off = bool(self.store.open)
        if squared_off:
            execution = self._new_execution(self._controller, self._start_execution)
            events, closed = self._close_all_events(execution, "session_end")
            self._emit_node(self._controller, execution, "session_end",
                            {"exit_reason": "session_end", "positions": closed})
            self._flush(events)
        self.status = status
        if self._day_recorded and squared_off:
            # stopped after a positional day's close: what the square-off cost counts on that day
            _, pnl = self.carry.daily.pop()
            self.carry.close_value -= pnl
            self._day_recorded = False
        if not self._day_recorded and self._processed > 0:
            self._record_day()
        carry = self.carry
        carry.counter, carry.peak, carry.max_drawdown = self._counter, self._peak, self._max_drawdown
        carry.ticks_before = self.ticks_before + self._processed
        if self.final:
            if self._wants_ticks and self._processed > 0 and (squared_off or self._snapshot_at != self._processed):
                # The state the session ended in (square-off included) unless the last tick's snapshot
                # already is it, whether or not the sink found a tick due: a client that follows ticks
                # alone (seed 004's card) ends on the final figures.
                self._emit(self._readout.tick_snapshot(self._processed))
            self._emit(SessionComplete(market.ts, status, self.ticks_before + self._processed, self.session_ticks,
                                       self.summary()))

    def snapshot(self) -> dict:
        """The session's state now, JSON-ready, in the dashboard's shape (``Readout.snapshot``).
        Call it on the engine's thread (between steps)."""
        return self._readout.snapshot()

    # ------------------------------------------------------------------------------------------
    # Node machinery (called by node runtimes)

    def poll(self, node) -> None:
        """Evaluate ``node`` on every tick from the next one on."""
        if node.id not in self.active_nodes:
            self.active_nodes[node.id] = node
            self._active_in_order = tuple(self.active_nodes.values())

    def unpoll(self, node) -> None:
        if self.active_nodes.pop(node.id, None) is not None:
            self._active_in_order = tuple(self.active_nodes.values())

    def execute(self, node, event_type: str, details: dict, parent: Execution | None = None) -> Execution:
        """Record an execution of ``node`` (under ``parent``, default: what activated it) and emit it."""
        execution = self._new_execution(node, parent if parent is not None else node.parent)
        self._emit_node(node, execution, event_type, details)
        return execution

    def _new_execution(self, node, parent: Execution | None) -> Execution:
        ts = self.market.ts
        self._counter += 1
        digest = hashlib.blake2b(f"{self.settings.seed}|{node.id}|{ts}|{self._counter}".encode(), digest_size=3)
        execution_id = f"exec_{node.id}_{compact_stamp(ts, self.market.zone)}_{digest.hexdigest()}"
        return Execution(execution_id, (parent.chain if parent is not None else ()) + (execution_id,))

    def _emit_node(self, node, execution: Execution, event_type: str, details: dict) -> None:
        parent_id = execution.chain[-2] if len(execution.chain) > 1 else None
        ts = self.market.ts
        self.last_executions[node.id] = (execution.id, ts, event_type)
        self._emit(NodeExecuted(execution.id, parent_id, ts, node.id, node.name, node.label, event_type, details,
                                self.market.zone))

    def complete(self, node, execution: Execution) -> None:
        """Mark ``node`` completed after ``execution`` and activate its children under it."""
        node.state = COMPLETED
        self.unpoll(node)
        if node is self._controller:
            self._start_execution = execution
        if self.strategy_stopped:
            return
        for child in self._children[node.id]:
            child.activate(execution)

    # ------------------------------------------------------------------------------------------
    # Controller

    def _run_timers(self, ts: int) -> None:
        while self._timers and ts >= self._timers[0][0]:
            _, what = self._timers.pop(0)
            if self.strategy_stopped:
                continue
            if what == "start":
                self._controller.activate(None)
            elif what == "no_new_entries":
                self._close_entries()
            else:
                self.square_off(self._controller, "square_off", {"trigger": "time", "time": iso(ts, self.market.zone)[11:19]},
                                parent=self._start_execution)
        self._next_timer = self._timers[0][0] if self._timers else float("inf")

    def _close_day(self) -> None:
        """The close of a day a positional session holds over: the day's last candles, the settlement
        of options expiring today, the day's P&L marked to market at the close. With ``at_expiry`` the
        strategy ends once what it held has settled and nothing is open."""
        market = self.market
        market.move_to(self._processed - 1)
        self._publish_candles(market.final_candles())
        settled = self._settle_expiries()
        rule = self.graph.start.config.positional_square_off
        if settled and not self.store.open and rule is not None and rule.rule == "at_expiry":
            self._stop_strategy()
        self._record_day()

    def _record_day(self) -> None:
        """Add the day's net P&L (realized net of charges + the change in unrealized, at the last
        tick's prices) to ``carry.daily``."""
        self._pnl_row = -1
        value = self.strategy_pnl()
        carry = self.carry
        carry.daily.append((self.market.date, value - carry.close_value))
        carry.close_value = value
        self._day_recorded = True

    def _settle_expiries(self) -> bool:
        """Settle every open option expiring today at its intrinsic value against the settlement price,
        the underlying's last price of the day (docs/strategies.md, "Expiry settlement"): exit reason
        ``settled`` (in the money) or ``expired`` (worthless, at zero); the holder of one settled in the
        money pays STT on exercise under ``nse_fo`` (``FeeModel.settlement_charges``). Return whether any settled."""
        market = self.market
        expiring = []
        for position in self.store.open:
            symbol = parse_symbol(position.symbol)
            if isinstance(symbol, OptionSymbol) and symbol.expiry == market.date:
                expiring.append((position, symbol))
        if not expiring:
            return False
        settlement = market.underlying_prices[market.row]
        execution = self._new_execution(self._controller, self._start_execution)
        events, closed = [], []
        for position, symbol in expiring:
            strike = int(symbol.strike * 100)
            value = max(settlement - strike, 0) if symbol.right == "CE" else max(strike - settlement, 0)
            quantity = position.quantity_remaining
            charges = self.settings.fees.settlement_charges(market.date, holder=position.side == "buy",
                                                            intrinsic_value=value * quantity,
                                                            schedule=self.settings.charge_schedule)
            order = self.broker.settle(ts=market.ts, symbol=position.symbol,
                                       side="sell" if position.side == "buy" else "buy", quantity=quantity,
                                       value=value, charges=charges, execution_id=execution.id)
            events.extend(self._close(position, quantity, "settled" if value else "expired", execution, closed,
                                      order))
        self._emit_node(self._controller, execution, "expiry_settlement", {
            "expiry": market.date.isoformat(), "settlement_price": rupees_str(settlement, market.places),
            "positions": closed})
        self._flush(events)
        return True

    def _close_entries(self) -> None:
        self.entries_closed = True
        closed = []
        for node in self.nodes.values():
            if node.node.type in ("entry_signal", "re_entry") and node.state == ACTIVE:
                node.deactivate()
                closed.append(node.id)
        self.execute(self._controller, "entries_closed", {"deactivated_nodes": closed}, parent=self._start_execution)

    def _stop_strategy(self) -> None:
        self.strategy_stopped = True
        for node in self.nodes.values():
            if node.state == ACTIVE:
                node.deactivate()
        self.active_nodes.clear()
        self._active_in_order = ()
        self._timers.clear()
        self._next_timer = float("inf")

    def square_off(self, node, reason: str, details: dict, parent: Execution | None = None) -> None:
        """Close every open position with exit reason ``reason`` and end the strategy."""
        if self.strategy_stopped:
            return
        self._stop_strategy()
        execution = self._new_execution(node, parent if parent is not None else node.parent)
        events, closed = self._close_all_events(execution, reason)
        self._emit_node(node, execution, "square_off", {"exit_reason": reason, **details, "positions": closed})
        if node is not self._controller:
            node.state = COMPLETED
        self._flush(events)

    def _close_all_events(self, execution: Execution, reason: str):
        events, closed = [], []
        for position in list(self.store.open):
            events.extend(self._close(position, position.quantity_remaining, reason, execution, closed))
        return events, closed

    # ------------------------------------------------------------------------------------------
    # P&L

    def strategy_pnl(self) -> int:
        """Net P&L so far (realized net of charges + unrealized), paise; computed once per tick."""
        row = self.market.row
        if self._pnl_row != row:
            self._pnl_row = row
            price = self.market.price
            self._pnl_value = self.store.realized_net + sum(p.unrealized_pnl(price(p.symbol)) for p in self.store.open)
        return self._pnl_value

    def pnl_parts(self) -> tuple[int, int]:
        """``(realized net of charges, unrealized)`` now, paise: the P&L figures of ``account()``
        without its margin arithmetic (an equity sample a minute needs only these)."""
        price = self.market.price
        return self.store.realized_net, sum(p.unrealized_pnl(price(p.symbol)) for p in self.store.open)

    def positions_pnl(self, entries, percent_unit: bool):
        """Net P&L of open positions (of ``entries`` if given), paise; or gross P&L as a percentage
        of their entry value. None when there is no such position."""
        price = self.market.price
        total = 0
        base = 0
        found = False
        for position in self.store.open:
            if entries is not None and position.entry_node_id not in entries:
                continue
            found = True
            if percent_unit:
                total += position.realized_gross + position.unrealized_pnl(price(position.symbol))
                base += position.entry_price * position.quantity_total
            else:
                total += position.realized_pnl + position.unrealized_pnl(price(position.symbol))
        if not found:
            return None
        if percent_unit:
            return total * 100 / base if base else None
        return total

    def _track_pnl(self) -> None:
        pnl = self._track_drawdown()
        limits = self._limits
        if limits is not None and not self.strategy_stopped and self._start_execution is not None:
            max_loss, max_profit = limits
            if max_loss is not None and pnl <= -max_loss:
                self.square_off(self._controller, "max_loss", limit_details("strategy_pnl", pnl, -max_loss, self.market.places),
                                parent=self._start_execution)
            elif max_profit is not None and pnl >= max_profit:
                self.square_off(self._controller, "max_profit", limit_details("strategy_pnl", pnl, max_profit, self.market.places),
                                parent=self._start_execution)

    def _track_drawdown(self) -> int:
        """Update the peak and the maximum drawdown (and the equity samples' meter) with the strategy's
        P&L now; return that P&L."""
        pnl = self.strategy_pnl()
        if pnl > self._peak:
            self._peak = pnl
        elif self._peak - pnl > self._max_drawdown:
            self._max_drawdown = self._peak - pnl
        self._see_pnl(pnl)
        return pnl

    def summary(self) -> Summary:
        """Results so far: trades, gross and net P&L, charges, win rate, max drawdown."""
        carry = self.carry
        if not carry.multi_day:
            return session_summary(self.store, self._max_drawdown, places=self.market.places)
        daily = carry.daily
        if not self._day_recorded and self._processed > 0:  # today so far
            daily = [*daily, (self.market.date, self.strategy_pnl() - carry.close_value)]
        return session_summary(self.store, self._max_drawdown, daily, self.market.places)

    # ------------------------------------------------------------------------------------------
    # Orders and positions

    def account(self) -> dict:
        """Capital, margin used and available, total value and P&L (paise) now (``PaperBroker.account``)."""
        return self.broker.account(self.store, self.market)

    def enter(self, node) -> None:
        """Run an entry node: pick the instrument, place the order, open the position."""
        market = self.market
        config = node.node.config
        if self.entries_closed or self.strategy_stopped:
            self.execute(node, "order_skipped", {"reason": "no new entries are taken after the cut-off time"})
            node.state = COMPLETED
            return
        try:
            if config.instrument == "option":
                symbol, expiry = market.resolve_option(config.expiry, config.strike, config.right)
            else:
                symbol, expiry = market.underlying, None
            lot_size = market.lot_size(expiry)
        except InstrumentUnavailable as e:
            self.execute(node, "order_rejected", {"reason": str(e)})
            node.state = COMPLETED
            return
        reentry = self.pending_reentry.pop(node.id, None)
        position_id, re_entry_num = reentry if reentry else (self.store.new_position_id(node.id), 0)
        quantity = config.lots * lot_size
        execution = self._new_execution(node, node.parent)
        order = self.broker.submit(
            ts=market.ts, symbol=symbol, side=config.side, quantity=quantity, ltp=market.price(symbol),
            option=symbol != market.underlying, available_margin=self.account()["available_margin"],
            underlying_price=market.underlying_prices[market.row], execution_id=execution.id,
        )
        details = {"order_details": order_details(order, config.lots, lot_size, market.places)}
        if order.status != "FILLED":
            self._emit_node(node, execution, "order_rejected", {**details, "reason": order.reason})
            node.state = COMPLETED
            return
        fill = Fill(position_id, re_entry_num, symbol, config.side, quantity, order.fill_price, market.ts,
                    order.charges, execution.id, order.order_id, True, execution.chain, node.id, node.id, None,
                    lot_size)
        position, _ = self.store.apply(fill)
        self._pnl_row = -1  # the entry's charges change this tick's P&L
        monitor = None
        if config.stop_loss or config.target or config.trailing_stop:
            monitor = RiskMonitor(position, market.column_of(symbol), config, market.places)
            self._monitors[position.key] = monitor
            self._monitors_in_order = tuple(self._monitors.values())
        details["position"] = {"position_id": position_id, "re_entry_num": re_entry_num,
                               "entry_price": price_number(position.entry_price, market.places), "quantity": quantity,
                               **(monitor.levels() if monitor else {})}
        details["entry_config"] = {"position_num": position.position_num, "re_entry_num": re_entry_num}
        self._emit_node(node, execution, "order_placed", details)
        self._emit(PositionEvent("entry", market.ts, execution.id, quantity, self._readout.position_state(position),
                                 rupees(position.realized_pnl, market.places), rupees(0, market.places),
                                 market.places, market.zone))
        self.complete(node, execution)

    def exit_positions(self, node) -> None:
        """Run an exit node: close its positions fully or partly."""
        config = node.node.config
        targets = [p for p in self.store.open if config.entries is None or p.entry_node_id in config.entries]
        execution = self._new_execution(node, node.parent)
        events, closed = [], []
        for position in targets:
            events.extend(self._close(position, exit_quantity(position, config), "exit_condition_met", execution,
                                      closed))
        self._emit_node(node, execution, "exit_triggered", {"exit_reason": "exit_condition_met", "positions": closed})
        node.state = COMPLETED
        self.unpoll(node)
        self._flush(events)

    def _risk_exit(self, monitor: RiskMonitor, reason: str) -> None:
        position = monitor.position
        if not position.is_open:
            return
        entry_node = self.nodes[position.entry_node_id]
        parent = Execution(position.entry_execution_id, position.entry_flow_ids)
        execution = self._new_execution(entry_node, parent)
        levels = monitor.levels()
        closed = []
        events = self._close(position, position.quantity_remaining, reason, execution, closed)
        self._emit_node(entry_node, execution, "exit_triggered", {
            "exit_reason": reason, "ltp": price_number(self.market.price(position.symbol), self.market.places), "levels": levels,
            "positions": closed,
        })
        self._flush(events)

    def _close(self, position, quantity: int, reason: str, execution: Execution, closed: list,
               order=None) -> list:
        """Close ``quantity`` of ``position`` (at market, or by ``order``, a settlement's); append its
        node event entry to ``closed`` and return the position and trade events to emit after the
        node event."""
        market = self.market
        side = "sell" if position.side == "buy" else "buy"
        if order is None:
            order = self.broker.submit(ts=market.ts, symbol=position.symbol, side=side, quantity=quantity,
                                       ltp=market.price(position.symbol),
                                       option=position.symbol != market.underlying, execution_id=execution.id)
        entry_ids = set(position.entry_flow_ids)
        flow = position.entry_flow_ids + tuple(x for x in execution.chain if x not in entry_ids)
        fill = Fill(position.position_id, position.re_entry_num, position.symbol, side, quantity, order.fill_price,
                    market.ts, order.charges, execution.id, order.order_id, False, flow, exit_reason=reason)
        position, trade = self.store.apply(fill)
        if not position.is_open and self._monitors.pop(position.key, None) is not None:
            self._monitors_in_order = tuple(self._monitors.values())
        self._pnl_row = -1
        self._track_drawdown()
        closed.append(closed_position(position, quantity, order, reason, market.places))
        action = "exit" if not position.is_open else "partial_exit"
        places = market.places
        unrealized = rupees(position.unrealized_pnl(market.price(position.symbol)), places)
        return [
            PositionEvent(action, market.ts, execution.id, quantity, self._readout.position_state(position),
                          rupees(position.realized_pnl, places), unrealized, places, market.zone),
            TradeClosed(market.ts, trade_record(trade, places, market.zone), self.summary()),
            _Closed(position, reason, execution),
        ]

    def _flush(self, events: list) -> None:
        """Emit a batch of close events, then react to the closes (re-entries fire only after every
        position and trade event of the batch went out)."""
        closes = []
        for event in events:
            if isinstance(event, _Closed):
                closes.append(event)
            else:
                self._emit(event)
        for close in closes:
            if not close.position.is_open:
                self._on_position_closed(close.position, close.reason, close.execution)

    def _on_position_closed(self, position, reason: str, execution: Execution) -> None:
        # An exit signal with nothing left to exit goes idle rather than fire on an empty book.
        for signal in self._exit_signals_of.get(position.entry_node_id, ()):
            if signal.state == ACTIVE:
                entries = self._exit_signal_entries[signal.id]
                if not any(p.entry_node_id in entries for p in self.store.open):
                    signal.deactivate()
        for watcher in self._reentry_watchers.get(position.entry_node_id, ()):
            watcher.on_position_closed(position, reason, execution)

    def _publish_candles(self, candles) -> None:
        market = self.market
        market.publish_candles(candles)
        for candle in candles:
            self._emit(CandleCompleted(candle.symbol, TF_NAMES[candle.timeframe], candle.start, candle.end,
                                       candle.open, candle.high, candle.low, candle.close, candle.volume,
                                       market.indicators_of(candle.timeframe), market.places, market.zone))


class _Closed(NamedTuple):
    """Internal marker in a close's event list: the position closed; not emitted."""

    position: object
    reason: str
    execution: Execution
