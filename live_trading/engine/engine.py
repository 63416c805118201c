"""The strategy engine: one strategy replayed over one day, tick by tick, deterministically.

Build an ``Engine`` with a parsed strategy graph, a ``MarketDay`` and a sink; call ``step()`` to
process one tick (it returns whether ticks remain) or ``run()`` to go to the end; read ``snapshot()``
between steps. Everything the engine does is reported to the sink as typed events (``events.py``).

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
from dataclasses import dataclass, field
from decimal import Decimal

from live_trading.engine import charges as charges_mod
from live_trading.engine.broker import BrokerSettings, PaperBroker
from live_trading.engine.events import (
    CandleCompleted,
    NodeExecuted,
    NullSink,
    OpenPositionTick,
    PositionEvent,
    PositionState,
    SessionComplete,
    Summary,
    TickSnapshot,
    TradeClosed,
    TradeRecord,
    progress,
)
from live_trading.engine.market import TF_NAMES, InstrumentUnavailable, MarketState
from live_trading.engine.money import compact_stamp, iso, percent, rupees
from live_trading.engine.nodes import ACTIVE, COMPLETED, NODE_CLASSES, Execution, RiskMonitor
from live_trading.engine.positions import Fill, PositionStore
from live_trading.marketdata.calendar import IST_OFFSET_SECONDS
from strategies.graph.model import StrategyGraph


@dataclass(frozen=True)
class EngineSettings:
    """How a session trades. Money in paise.

    ``seed`` feeds execution ids (same seed, same ids). ``candle_timeframes`` are published as
    ``CandleCompleted`` besides those the strategy's conditions use.
    """

    seed: str = "0"
    starting_capital: int = 10_00_000_00
    slippage_ticks: int = 0
    short_option_margin_rate: Decimal = Decimal("0.15")
    futures_margin_rate: Decimal = Decimal("0.12")
    candle_timeframes: tuple = ("1m",)
    charge_schedule: tuple = field(default=charges_mod.SCHEDULE)


@dataclass
class Carry:
    """What a multi-day session carries from one day's engine to the next (``session.py``): the
    position store (so trades, totals and position numbers continue), the execution counter, the
    drawdown so far, and tick counts for progress. A single-day engine makes its own."""

    store: PositionStore = field(default_factory=PositionStore)
    counter: int = 0
    peak: int = 0
    max_drawdown: int = 0
    ticks_before: int = 0
    total_ticks: int | None = None


class Engine:
    """Runs one strategy over one market day. Not thread-safe: one thread steps it and reads it.

    ``final=False`` (multi-day sessions) leaves ``SessionComplete`` to the caller.
    """

    def __init__(self, graph: StrategyGraph, day, sink=None, settings: EngineSettings | None = None,
                 carry: Carry | None = None, final: bool = True):
        self.graph = graph
        self.settings = settings or EngineSettings()
        self.sink = sink if sink is not None else NullSink()
        self._emit = self.sink.emit
        self._wants_ticks = bool(getattr(self.sink, "wants_ticks", False))
        # A sink that coalesces ticks (the stream keeps a few a second) says when one is due, so the
        # engine builds a TickSnapshot only then; its LTP changes are those since the last one built.
        self._tick_due = getattr(self.sink, "tick_due", None)
        self._last_tick_row = -1
        self._watched: list[int] = [0]
        self._watched_for = 0  # how many positions the watched columns were worked out for
        self.market = m = MarketState(day)
        if graph.underlying != m.underlying:
            raise ValueError(f"the strategy trades {graph.underlying} but the market day is {m.underlying}'s")
        self.carry = carry = carry or Carry()
        self.final = final
        self.store = carry.store
        rates = charges_mod.rates_on(m.date, self.settings.charge_schedule)
        self.broker = PaperBroker(rates, m.tick_size, BrokerSettings(
            starting_capital=self.settings.starting_capital,
            slippage_ticks=self.settings.slippage_ticks,
            short_option_margin_rate=self.settings.short_option_margin_rate,
            futures_margin_rate=self.settings.futures_margin_rate,
        ))
        self.n = m.n
        self._timestamps = m.timestamps
        self._i = 0
        self.status = "not_started"
        self._counter = carry.counter
        self.pending_reentry: dict[str, tuple] = {}
        self.entries_closed = False
        self.strategy_stopped = False
        self._active: dict[str, object] = {}
        self._active_view: tuple = ()
        self._monitors: dict[tuple, RiskMonitor] = {}
        self._monitor_view: tuple = ()
        self._last_exec: dict[str, tuple] = {}  # node id -> (execution id, ts)
        self._start_exec: Execution | None = None
        self._pnl_tick = -1
        self._pnl_value = 0
        self._peak = carry.peak
        self._max_drawdown = carry.max_drawdown
        self._tick_base = carry.ticks_before
        self._tick_total = carry.total_ticks or self.n

        # Node runtimes (compiling conditions registers the candles and indicators they read).
        self.nodes = {n.id: NODE_CLASSES[n.type](n, self) for n in graph.nodes}
        self._children = {nid: tuple(self.nodes[c] for c in graph.children[nid]) for nid in self.nodes}
        self._reentry_watchers: dict[str, tuple] = {}
        self._exit_signals_of: dict[str, tuple] = {}
        for nid, node in self.nodes.items():
            if node.node.type == "re_entry":
                for p in graph.parents[nid]:
                    if graph.by_id[p].type == "entry":
                        self._reentry_watchers[p] = (*self._reentry_watchers.get(p, ()), node)
            if node.node.type == "exit_signal":
                for p in graph.parents[nid]:
                    if graph.by_id[p].type == "entry":
                        self._exit_signals_of[p] = (*self._exit_signals_of.get(p, ()), node)
        self._exit_signal_entries = {
            nid: frozenset(p for p in graph.parents[nid] if graph.by_id[p].type == "entry")
            for nid, node in self.nodes.items() if node.node.type == "exit_signal"
        }
        for tf in self.settings.candle_timeframes:
            m.require_timeframe(tf)
        m.build_candles()
        self._candles_on_tick = m.on_tick

        # The controller's timers, as epoch seconds on this day.
        start = graph.start
        self._controller = self.nodes[start.id]
        c = start.config
        midnight = self._timestamps[0] - (self._timestamps[0] + IST_OFFSET_SECONDS) % 86400
        self._timers = [(midnight + c.start_time, "start")]
        if c.no_new_entries_after < c.square_off_time:
            self._timers.append((midnight + c.no_new_entries_after, "no_new_entries"))
        self._timers.append((midnight + c.square_off_time, "square_off"))
        self._next_timer = self._timers[0][0]
        self._limits = (c.max_loss, c.max_profit) if (c.max_loss or c.max_profit) else None

    # ------------------------------------------------------------------------------------------
    # Stepping

    @property
    def ticks_processed(self) -> int:
        return self._i

    @property
    def total_ticks(self) -> int:
        return self.n

    @property
    def done(self) -> bool:
        return self.status in ("completed", "stopped")

    def next_timestamp(self) -> int | None:
        """Epoch seconds of the tick ``step()`` would process next; None when the session is over."""
        return None if self.done or self._i >= self.n else self._timestamps[self._i]

    def finish(self) -> None:
        """End the session: a no-op after the last tick (``step`` already finished it), else ``stop``."""
        if not self.done:
            self._finish("completed" if self._i >= self.n else "stopped")

    def step(self) -> bool:
        """Process the next tick; return True while ticks remain (False once the session is over)."""
        i = self._i
        if i >= self.n or self.done:
            return False
        if i == 0:
            self.status = "running"
        m = self.market
        m.i = i
        ts = m.ts = self._timestamps[i]
        m.tod = (ts + IST_OFFSET_SECONDS) % 86400
        candles = self._candles_on_tick(i)
        if candles:
            self._publish_candles(candles)
        if ts >= self._next_timer:
            self._run_timers(ts)
        if self._monitor_view:
            for mon in self._monitor_view:
                reason = mon.check(i)
                if reason is not None:
                    self._risk_exit(mon, reason)
        if self.store.open:
            self._track_pnl()
        for node in self._active_view:
            if node.state is ACTIVE:
                node.on_tick()
        if self._wants_ticks and (self._tick_due is None or self._tick_due()):
            self._emit(self._tick_snapshot(i + 1))
        self._i = i + 1
        if self._i >= self.n:
            self._finish("completed")
            return False
        return True

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
        m = self.market
        if self._i > 0:
            m.i = self._i - 1
            m.ts = self._timestamps[m.i]
        if status == "completed":
            self._publish_candles(m.final_candles())
        self._stop_strategy()
        if self.store.open:
            ex = self._new_execution(self._controller, self._start_exec)
            events, closed = self._close_all_events(ex, "session_end")
            self._emit_node(self._controller, ex, "session_end", {"exit_reason": "session_end", "positions": closed})
            self._flush(events)
        self.status = status
        c = self.carry
        c.counter, c.peak, c.max_drawdown = self._counter, self._peak, self._max_drawdown
        c.ticks_before = self._tick_base + self._i
        if self.final:
            self._emit(SessionComplete(m.ts, status, self._tick_base + self._i, self._tick_total, self.summary()))

    # ------------------------------------------------------------------------------------------
    # Node machinery (called by node runtimes)

    def poll(self, node) -> None:
        """Evaluate ``node`` on every tick from the next one on."""
        if node.id not in self._active:
            self._active[node.id] = node
            self._active_view = tuple(self._active.values())

    def unpoll(self, node) -> None:
        if self._active.pop(node.id, None) is not None:
            self._active_view = tuple(self._active.values())

    def execute(self, node, event_type: str, details: dict, parent: Execution | None = None) -> Execution:
        """Record an execution of ``node`` (under ``parent``, default: what activated it) and emit it."""
        ex = self._new_execution(node, parent if parent is not None else node.parent)
        self._emit_node(node, ex, event_type, details)
        return ex

    def _new_execution(self, node, parent: Execution | None) -> Execution:
        ts = self.market.ts
        self._counter += 1
        digest = hashlib.blake2b(f"{self.settings.seed}|{node.id}|{ts}|{self._counter}".encode(), digest_size=3)
        eid = f"exec_{node.id}_{compact_stamp(ts)}_{digest.hexdigest()}"
        return Execution(eid, (parent.chain if parent is not None else ()) + (eid,))

    def _emit_node(self, node, ex: Execution, event_type: str, details: dict) -> None:
        parent_id = ex.chain[-2] if len(ex.chain) > 1 else None
        ts = self.market.ts
        self._last_exec[node.id] = (ex.id, ts, event_type)
        self._emit(NodeExecuted(ex.id, parent_id, ts, node.id, node.name, node.label, event_type, details))

    def complete(self, node, ex: Execution) -> None:
        """Mark ``node`` completed after execution ``ex`` and activate its children under it."""
        node.state = COMPLETED
        self.unpoll(node)
        if node is self._controller:
            self._start_exec = ex
        if self.strategy_stopped:
            return
        for child in self._children[node.id]:
            child.activate(ex)

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
                self.square_off(self._controller, "square_off", {"trigger": "time", "time": iso(ts)[11:19]},
                                parent=self._start_exec)
        self._next_timer = self._timers[0][0] if self._timers else float("inf")

    def _close_entries(self) -> None:
        self.entries_closed = True
        closed = []
        for node in self.nodes.values():
            if node.node.type in ("entry_signal", "re_entry") and node.state == ACTIVE:
                node.deactivate()
                closed.append(node.id)
        self.execute(self._controller, "entries_closed", {"deactivated_nodes": closed}, parent=self._start_exec)

    def _stop_strategy(self) -> None:
        self.strategy_stopped = True
        for node in self.nodes.values():
            if node.state == ACTIVE:
                node.deactivate()
        self._active.clear()
        self._active_view = ()
        self._timers.clear()
        self._next_timer = float("inf")

    def square_off(self, node, reason: str, details: dict, parent: Execution | None = None) -> None:
        """Close every open position with exit reason ``reason`` and end the strategy."""
        if self.strategy_stopped:
            return
        self._stop_strategy()
        ex = self._new_execution(node, parent if parent is not None else node.parent)
        events, closed = self._close_all_events(ex, reason)
        self._emit_node(node, ex, "square_off", {"exit_reason": reason, **details, "positions": closed})
        if node is not self._controller:
            node.state = COMPLETED
        self._flush(events)

    def _close_all_events(self, ex: Execution, reason: str):
        events, closed = [], []
        for pos in list(self.store.open):
            events.extend(self._close(pos, pos.quantity_remaining, reason, ex, closed))
        return events, closed

    # ------------------------------------------------------------------------------------------
    # P&L

    def strategy_pnl(self) -> int:
        """Net P&L so far (realized net of charges + unrealized), paise; computed once per tick."""
        i = self.market.i
        if self._pnl_tick != i:
            self._pnl_tick = i
            price = self.market.price
            self._pnl_value = self.store.realized_net + sum(p.unrealized_pnl(price(p.symbol)) for p in self.store.open)
        return self._pnl_value

    def positions_pnl(self, entries, percent_unit: bool):
        """Net P&L of open positions (of ``entries`` if given), paise; or gross P&L as a percentage
        of their entry value. None when there is no such position."""
        price = self.market.price
        total = 0
        base = 0
        found = False
        for p in self.store.open:
            if entries is not None and p.entry_node_id not in entries:
                continue
            found = True
            if percent_unit:
                total += p.realized_gross + p.unrealized_pnl(price(p.symbol))
                base += p.entry_price * p.quantity_total
            else:
                total += p.realized_pnl + p.unrealized_pnl(price(p.symbol))
        if not found:
            return None
        if percent_unit:
            return total * 100 / base if base else None
        return total

    def _track_pnl(self) -> None:
        pnl = self.strategy_pnl()
        if pnl > self._peak:
            self._peak = pnl
        elif self._peak - pnl > self._max_drawdown:
            self._max_drawdown = self._peak - pnl
        limits = self._limits
        if limits is not None and not self.strategy_stopped and self._start_exec is not None:
            max_loss, max_profit = limits
            if max_loss is not None and pnl <= -max_loss:
                self.square_off(self._controller, "max_loss", _limit(pnl, -max_loss), parent=self._start_exec)
            elif max_profit is not None and pnl >= max_profit:
                self.square_off(self._controller, "max_profit", _limit(pnl, max_profit), parent=self._start_exec)

    def summary(self) -> Summary:
        """Results so far: trades, gross and net P&L, charges, win rate, max drawdown."""
        s = self.store
        n = len(s.trades)
        gross = sum(t.pnl for t in s.trades)
        charges = sum(t.charges for t in s.trades)
        return Summary(
            total_trades=n,
            winning_trades=s.wins,
            losing_trades=s.losses,
            win_rate=percent(s.wins, n),
            gross_pnl=rupees(gross),
            charges=rupees(charges),
            net_pnl=rupees(gross - charges),
            max_drawdown=rupees(self._max_drawdown),
        )

    # ------------------------------------------------------------------------------------------
    # Orders and positions

    def account(self) -> dict:
        """Capital, margin used and available (paise), per the broker's margin approximation."""
        m = self.market
        used = 0
        unrealized = 0
        spot = m.underlying_prices[m.i]
        for p in self.store.open:
            price = m.price(p.symbol)
            unrealized += p.unrealized_pnl(price)
            option = p.symbol != m.underlying
            basis = p.entry_price if option and p.side == "buy" else price
            used += self.broker.margin(option=option, side=p.side, price=basis, quantity=p.quantity_remaining,
                                       underlying_price=spot)
        capital = self.settings.starting_capital
        value = capital + self.store.realized_net + unrealized
        return {"starting_capital": capital, "used_margin": used, "available_margin": value - used,
                "total_value": value, "realized_pnl": self.store.realized_net, "unrealized_pnl": unrealized}

    def enter(self, node) -> None:
        """Run an entry node: pick the instrument, place the order, open the position."""
        m = self.market
        c = node.node.config
        if self.entries_closed or self.strategy_stopped:
            self.execute(node, "order_skipped", {"reason": "no new entries are taken after the cut-off time"})
            node.state = COMPLETED
            return
        try:
            if c.instrument == "option":
                symbol, expiry = m.resolve_option(c.expiry, c.strike, c.right)
            else:
                symbol, expiry = m.underlying, None
            lot = m.lot_size(expiry)
        except InstrumentUnavailable as e:
            self.execute(node, "order_rejected", {"reason": str(e)})
            node.state = COMPLETED
            return
        reentry = self.pending_reentry.pop(node.id, None)
        position_id, re_entry_num = reentry if reentry else (self.store.new_position_id(node.id), 0)
        qty = c.lots * lot
        ltp = m.price(symbol)
        option = symbol != m.underlying
        ex = self._new_execution(node, node.parent)
        order = self.broker.submit(
            ts=m.ts, symbol=symbol, side=c.side, quantity=qty, ltp=ltp, option=option,
            available_margin=self.account()["available_margin"], underlying_price=m.underlying_prices[m.i],
            execution_id=ex.id,
        )
        details = {"order_details": _order_details(order, c.lots, lot)}
        if order.status != "FILLED":
            self._emit_node(node, ex, "order_rejected", {**details, "reason": order.reason})
            node.state = COMPLETED
            return
        fill = Fill(position_id, re_entry_num, symbol, c.side, qty, order.fill_price, m.ts, order.charges, ex.id,
                    order.order_id, True, ex.chain, node.id, node.id, None, lot)
        pos, _ = self.store.apply(fill)
        self._pnl_tick = -1  # the entry's charges change this tick's P&L
        mon = None
        if c.stop_loss or c.target or c.trailing_stop:
            mon = RiskMonitor(pos, m.column_of(symbol), c)
            self._monitors[pos.key] = mon
            self._monitor_view = tuple(self._monitors.values())
        details["position"] = {"position_id": position_id, "re_entry_num": re_entry_num, "entry_price": pos.entry_price / 100,
                               "quantity": qty, **(mon.levels() if mon else {})}
        details["entry_config"] = {"position_num": int(position_id.rsplit("pos", 1)[1]), "re_entry_num": re_entry_num}
        self._emit_node(node, ex, "order_placed", details)
        self._emit(PositionEvent("entry", m.ts, ex.id, qty, self._position_state(pos), rupees(pos.realized_pnl),
                                 Decimal("0.00")))
        self.complete(node, ex)

    def exit_positions(self, node) -> None:
        """Run an exit node: close its positions fully or partly."""
        c = node.node.config
        targets = [p for p in self.store.open if c.entries is None or p.entry_node_id in c.entries]
        ex = self._new_execution(node, node.parent)
        events, closed = [], []
        for pos in targets:
            qty = _exit_quantity(pos, c)
            events.extend(self._close(pos, qty, "exit_condition_met", ex, closed))
        self._emit_node(node, ex, "exit_triggered", {"exit_reason": "exit_condition_met", "positions": closed})
        node.state = COMPLETED
        self.unpoll(node)
        self._flush(events)

    def _risk_exit(self, mon: RiskMonitor, reason: str) -> None:
        pos = mon.position
        if not pos.is_open:
            return
        entry_node = self.nodes[pos.entry_node_id]
        parent = Execution(pos.entry_execution_id, pos.entry_flow_ids)
        ex = self._new_execution(entry_node, parent)
        m = self.market
        levels = mon.levels()
        closed = []
        events = self._close(pos, pos.quantity_remaining, reason, ex, closed)
        self._emit_node(entry_node, ex, "exit_triggered", {
            "exit_reason": reason, "ltp": m.price(pos.symbol) / 100, "levels": levels, "positions": closed,
        })
        self._flush(events)

    def _close(self, pos, qty: int, reason: str, ex: Execution, closed: list) -> list:
        """Close ``qty`` of ``pos``; return the position and trade events to emit after the node event."""
        m = self.market
        side = "sell" if pos.side == "buy" else "buy"
        order = self.broker.submit(ts=m.ts, symbol=pos.symbol, side=side, quantity=qty, ltp=m.price(pos.symbol),
                                   option=pos.symbol != m.underlying, execution_id=ex.id)
        entry_ids = set(pos.entry_flow_ids)
        flow = pos.entry_flow_ids + tuple(x for x in ex.chain if x not in entry_ids)
        fill = Fill(pos.position_id, pos.re_entry_num, pos.symbol, side, qty, order.fill_price, m.ts, order.charges,
                    ex.id, order.order_id, False, flow, exit_reason=reason)
        pos, trade = self.store.apply(fill)
        if not pos.is_open and self._monitors.pop(pos.key, None) is not None:
            self._monitor_view = tuple(self._monitors.values())
        self._track_after_close()
        closed.append({
            "position_id": pos.position_id, "re_entry_num": pos.re_entry_num, "symbol": pos.symbol,
            "quantity": qty, "price": order.fill_price / 100, "order_id": order.order_id,
            "exit_reason": reason, "status": pos.status,
        })
        action = "exit" if not pos.is_open else "partial_exit"
        unreal = rupees(pos.unrealized_pnl(m.price(pos.symbol)))
        summary = self.summary()
        return [
            PositionEvent(action, m.ts, ex.id, qty, self._position_state(pos), rupees(pos.realized_pnl), unreal),
            TradeClosed(m.ts, _trade_record(trade), summary),
            _Closed(pos, reason, ex),
        ]

    def _track_after_close(self) -> None:
        self._pnl_tick = -1
        pnl = self.strategy_pnl()
        if pnl > self._peak:
            self._peak = pnl
        elif self._peak - pnl > self._max_drawdown:
            self._max_drawdown = self._peak - pnl

    def _flush(self, events: list) -> None:
        """Emit a batch of close events, then react to the closes (re-entries fire only after every
        position and trade event of the batch went out)."""
        closes = []
        for e in events:
            if isinstance(e, _Closed):
                closes.append(e)
            else:
                self._emit(e)
        for c in closes:
            if not c.pos.is_open:
                self._on_position_closed(c.pos, c.reason, c.ex)

    def _on_position_closed(self, pos, reason: str, ex: Execution) -> None:
        # An exit signal with nothing left to exit goes idle rather than fire on an empty book.
        for sig in self._exit_signals_of.get(pos.entry_node_id, ()):
            if sig.state == ACTIVE:
                entries = self._exit_signal_entries[sig.id]
                if not any(p.entry_node_id in entries for p in self.store.open):
                    sig.deactivate()
        for watcher in self._reentry_watchers.get(pos.entry_node_id, ()):
            watcher.on_position_closed(pos, reason, ex)

    # ------------------------------------------------------------------------------------------
    # Snapshots

    def snapshot(self) -> dict:
        """The session's state now, JSON-ready, in the dashboard's shape (seed 004): progress, node
        states, positions with realized and unrealized P&L, trades with flow ids, orders, account,
        LTP store and latest candles. Call it on the engine's thread (between steps); the dict it
        returns is a copy the caller may hand to other threads."""
        m = self.market
        acc = self.account() if self._i else None
        unreal = acc["unrealized_pnl"] if acc else 0
        realized = self.store.realized_net
        processed = self._tick_base + self._i
        return {
            "status": self.status,
            "timestamp": iso(m.ts) if self._i else None,
            "progress": progress(processed, self._tick_total),
            "strategy": {"name": self.graph.name, "underlying": m.underlying, "date": m.date.isoformat()},
            "nodes": {
                nid: {"status": node.state, "node_type": node.label, "node_name": node.name,
                      **_last_execution(self._last_exec.get(nid))}
                for nid, node in self.nodes.items()
            },
            "active_nodes": list(self._active),
            "gps_data": {
                "positions": [self._position_state(p).to_dict() for p in self.store.positions.values()],
                "trades": [_trade_record(t).to_dict() for t in self.store.trades],
                "pnl": {"realized_pnl": _m(realized), "unrealized_pnl": _m(unreal), "total_pnl": _m(realized + unreal),
                        "closed_trades": len(self.store.trades), "open_trades": len(self.store.open)},
            },
            "broker_data": {
                "orders": [_order_dict(o) for o in self.broker.orders],
                "account_info": {k: _m(v) for k, v in acc.items()} if acc else None,
            },
            "market_data": {
                "ltp_store": {s: p / 100 for s, p in m.ltps_of(self._watched_columns()).items()} if self._i else {},
                "candle_data": {tf: _candle_dict(c) for tf, c in m.latest_candles().items()},
            },
            "summary": self.summary().to_dict(),
        }

    def _position_state(self, pos) -> PositionState:
        # Closed positions of earlier days (multi-day sessions) have no column in today's market.
        price = self.market.price(pos.symbol) if pos.is_open else 0
        return PositionState(
            position_id=pos.position_id, re_entry_num=pos.re_entry_num, entry_node_id=pos.entry_node_id,
            symbol=pos.symbol, side=pos.side, quantity_total=pos.quantity_total,
            quantity_closed=pos.quantity_closed, quantity_remaining=pos.quantity_remaining,
            entry_price=rupees(pos.entry_price), entry_time=pos.entry_time,
            exit_price=None if pos.exit_price is None else rupees(pos.exit_price), exit_time=pos.exit_time,
            current_price=rupees(price) if price else None, status=pos.status,
            realized_pnl=rupees(pos.realized_pnl), realized_pnl_gross=rupees(pos.realized_gross),
            unrealized_pnl=rupees(pos.unrealized_pnl(price)), charges=rupees(pos.charges),
            entry_flow_ids=pos.entry_flow_ids, exit_flow_ids=pos.exit_flow_ids, entry_trigger=pos.entry_trigger,
            exit_reason=pos.exit_reason,
        )

    def _watched_columns(self) -> list[int]:
        """The columns a client is shown LTPs of: the underlying and every symbol the session has
        held. The rest of the option chain (a hundred-odd symbols) would make every tick heavy."""
        positions = self.store.positions
        if len(positions) != self._watched_for:
            index = self.market.col_index
            cols = {0} | {index[p.symbol] for p in positions.values() if p.symbol in index}
            self._watched = sorted(cols)
            self._watched_for = len(positions)
        return self._watched

    def _tick_snapshot(self, processed: int) -> TickSnapshot:
        m = self.market
        opens = []
        unreal = 0
        for p in self.store.open:
            price = m.price(p.symbol)
            u = p.unrealized_pnl(price)
            unreal += u
            opens.append(OpenPositionTick(p.position_id, p.re_entry_num, p.symbol, p.side, p.quantity_remaining,
                                          p.entry_price, price, u))
        changed = m.changed_since(self._last_tick_row, self._watched_columns())
        self._last_tick_row = m.i
        return TickSnapshot(m.ts, self._tick_base + processed, self._tick_total, tuple(self._active),
                            changed, tuple(opens),
                            self.store.realized_net, unreal, len(self.store.trades))

    def _publish_candles(self, candles) -> None:
        m = self.market
        m.publish_candles(candles)
        for c in candles:
            self._emit(CandleCompleted(c.symbol, TF_NAMES[c.timeframe], c.start, c.end, c.open, c.high, c.low,
                                       c.close, c.volume, m.indicators_of(c.timeframe)))


class _Closed:
    """Internal marker in a close's event list: the position closed; not emitted."""

    __slots__ = ("ex", "pos", "reason")

    def __init__(self, pos, reason, ex):
        self.pos = pos
        self.reason = reason
        self.ex = ex


def _m(paise: int) -> str:
    return str(rupees(paise))


def _last_execution(last) -> dict:
    if last is None:
        return {"last_execution_id": None, "last_execution_time": None, "last_event_type": None}
    eid, ts, event_type = last
    return {"last_execution_id": eid, "last_execution_time": iso(ts), "last_event_type": event_type}


def _order_dict(o) -> dict:
    return {
        "order_id": o.order_id, "timestamp": iso(o.ts), "symbol": o.symbol, "side": o.side, "quantity": o.quantity,
        "order_type": "MARKET", "ltp": _m(o.ltp), "fill_price": None if o.fill_price is None else _m(o.fill_price),
        "status": o.status, "reason": o.reason, "execution_id": o.execution_id,
        "charges": None if o.charges is None else _m(o.charges.total),
    }


def _candle_dict(c) -> dict:
    return {"symbol": c.symbol, "timestamp": iso(c.start), "open": c.open / 100, "high": c.high / 100,
            "low": c.low / 100, "close": c.close / 100, "volume": c.volume}


def _limit(pnl, threshold):
    return {"trigger": "strategy_pnl", "current_value": pnl / 100, "threshold": threshold / 100}


def _exit_quantity(pos, c) -> int:
    """Units an exit closes: all, a percentage of the original quantity or a number of lots, rounded
    down to whole lots (at least one) and never more than what is open."""
    remaining = pos.quantity_remaining
    if c.quantity_type == "all":
        return remaining
    lot = pos.lot_size
    if c.quantity_type == "lots":
        lots = int(c.quantity_value)
    else:
        lots = int(Decimal(pos.quantity_total // lot) * c.quantity_value / 100)
    return min(max(lots, 1) * lot, remaining)


def _order_details(order, lots, lot) -> dict:
    d = {
        "order_id": order.order_id,
        "symbol": order.symbol,
        "side": order.side,
        "quantity": order.quantity,
        "lots": lots,
        "lot_size": lot,
        "order_type": "MARKET",
        "ltp": order.ltp / 100,
        "status": order.status,
    }
    if order.fill_price is not None:
        d["price"] = order.fill_price / 100
        d["charges"] = order.charges.as_rupees()
    return d


def _trade_record(t) -> TradeRecord:
    return TradeRecord(
        trade_id=t.trade_id, position_id=t.position_id, position_num=t.position_num, re_entry_num=t.re_entry_num,
        entry_node_id=t.entry_node_id,
        symbol=t.symbol, side=t.side, quantity=t.quantity, entry_price=rupees(t.entry_price),
        entry_time=t.entry_time, exit_price=rupees(t.exit_price), exit_time=t.exit_time, pnl=rupees(t.pnl),
        pnl_percent=t.pnl_percent, charges=rupees(t.charges), net_pnl=rupees(t.net_pnl), status=t.status,
        entry_flow_ids=t.entry_flow_ids, exit_flow_ids=t.exit_flow_ids, entry_trigger=t.entry_trigger,
        exit_reason=t.exit_reason,
    )
