"""Node runtimes: what each node type does when it is activated and, while active, on each tick.

Lifecycle (the seeds'): a node is ``inactive`` until a parent's execution activates it; ``active``
nodes that wait for something (signals, timed or P&L square-offs, re-entries with a wait) are
evaluated on every tick; when a node executes it records a ``NodeExecuted`` whose
``parent_execution_id`` is the execution that activated it, becomes ``completed`` and activates its
children. Action nodes (entry, exit, an untimed square-off) execute the moment they are activated.
The engine (``engine.py``) owns the shared machinery: executions and their ids, orders, positions,
the sink; the classes here only decide when and what.
"""

from __future__ import annotations

from decimal import Decimal
from math import ceil

from live_trading.engine.conditions import compile_group, display
from live_trading.engine.money import rupees_str
from strategies.graph import schema
from strategies.graph.model import format_time

INACTIVE = "inactive"
ACTIVE = "active"
COMPLETED = "completed"


class Execution:
    """One node execution: its id and the chain of execution ids from the controller to it."""

    __slots__ = ("chain", "id")

    def __init__(self, id: str, chain: tuple):
        self.id = id
        self.chain = chain


class NodeRuntime:
    """Base: state, the activating execution, and the default activate/complete behaviour."""

    __slots__ = ("engine", "id", "label", "name", "node", "parent", "polled", "state")

    def __init__(self, node, engine):
        self.node = node
        self.id = node.id
        self.name = node.name
        self.label = node.label
        self.engine = engine
        self.state = INACTIVE
        self.parent: Execution | None = None
        self.polled = False  # evaluated on every tick while active

    def activate(self, parent: Execution | None) -> None:
        """Become active under ``parent``; waiting nodes join the per-tick list."""
        if self.state == ACTIVE:
            return
        self.state = ACTIVE
        self.parent = parent
        self.on_activate()

    def on_activate(self) -> None:
        self.engine.poll(self)

    def on_tick(self) -> None:  # pragma: no cover - overridden by polled nodes
        pass

    def wakes_at(self) -> float | None:
        """The first exchange time (epoch seconds) at which ``on_tick`` may act, when the node knows
        it; None: it must see every tick. The engine skips the ticks before it (``Engine.quiet_until``)."""
        return None

    def deactivate(self) -> None:
        if self.state == ACTIVE:
            self.state = INACTIVE
            self.engine.unpoll(self)


class StartNode(NodeRuntime):
    """The strategy controller: executes once at the start time; its timed duties (no new entries,
    square-off, strategy max loss / profit) are run by the engine in its name."""

    __slots__ = ()

    def on_activate(self) -> None:
        config = self.node.config
        places = self.engine.market.places
        details = {
            "strategy": {
                "underlying": config.underlying,
                "start_time": format_time(config.start_time),
                "no_new_entries_after": format_time(config.no_new_entries_after),
                "square_off_time": format_time(config.square_off_time),
                "max_loss": None if config.max_loss is None else rupees_str(config.max_loss, places),
                "max_profit": None if config.max_profit is None else rupees_str(config.max_profit, places),
            }
        }
        execution = self.engine.execute(self, "strategy_started", details)
        self.engine.complete(self, execution)


class SignalNode(NodeRuntime):
    """Entry and exit signals: fire when the condition group holds, then activate their children."""

    __slots__ = ("conditions", "evaluate")

    def __init__(self, node, engine):
        super().__init__(node, engine)
        self.conditions = compile_group(node.config.conditions, engine.market, engine)
        self.evaluate = self.conditions.evaluate

    def on_activate(self) -> None:
        self.conditions.reset()
        self.engine.poll(self)

    def wakes_at(self) -> float | None:
        return self.conditions.wakes_at()

    def on_tick(self) -> None:
        if self.evaluate():
            details = {
                "signal_emitted": True,
                "evaluated_conditions": {
                    "mode": self.node.config.conditions.mode,
                    "condition_results": self.conditions.describe(),
                },
            }
            execution = self.engine.execute(self, "signal_emitted", details)
            self.engine.complete(self, execution)


class EntryNode(NodeRuntime):
    """Places a market order for its instrument when activated and opens a position."""

    __slots__ = ()

    def on_activate(self) -> None:
        self.engine.enter(self)


class ExitNode(NodeRuntime):
    """Closes the selected open positions, fully or partly (``exit_quantity``), when activated."""

    __slots__ = ()

    def on_activate(self) -> None:
        self.engine.exit_positions(self)


def exit_quantity(position, config) -> int:
    """Units an exit node (``config``) closes of ``position``: all, a percentage of the original
    quantity or a number of lots, rounded down to whole lots (at least one) and never more than
    what is open."""
    remaining = position.quantity_remaining
    if config.quantity_type == "all":
        return remaining
    lot_size = position.lot_size
    if config.quantity_type == "lots":
        lots = int(config.quantity_value)
    else:
        lots = int(Decimal(position.quantity_total // lot_size) * config.quantity_value / 100)
    return min(max(lots, 1) * lot_size, remaining)


class SquareOffNode(NodeRuntime):
    """Closes everything and ends the strategy: at a time, on a strategy P&L limit, or at once
    when activated without either (under an exit signal)."""

    __slots__ = ()

    def on_activate(self) -> None:
        config = self.node.config
        if config.time is None and config.max_loss is None and config.max_profit is None:
            self.engine.square_off(self, "square_off", {"trigger": "activated"})
        else:
            self.engine.poll(self)

    def on_tick(self) -> None:
        config = self.node.config
        if config.time is not None and self.engine.market.time_of_day >= config.time:
            self.engine.square_off(self, "square_off", {"trigger": "time", "time": format_time(config.time)})
            return
        if config.max_loss is None and config.max_profit is None:
            return
        pnl = self.engine.strategy_pnl()
        if config.max_loss is not None and pnl <= -config.max_loss:
            self.engine.square_off(self, "max_loss", limit_details("max_loss", pnl, -config.max_loss, self.engine.market.places))
        elif config.max_profit is not None and pnl >= config.max_profit:
            self.engine.square_off(self, "max_profit", limit_details("max_profit", pnl, config.max_profit, self.engine.market.places))


def limit_details(trigger: str, pnl: int, threshold: int, places: int) -> dict:
    """A P&L limit's square-off details: what triggered it, the P&L and the limit (numbers of the
    currency, from minor units with ``places`` decimals)."""
    return {"trigger": trigger, "current_value": display(pnl, schema.KIND_MONEY, places),
            "threshold": display(threshold, schema.KIND_MONEY, places)}


class ReEntryNode(NodeRuntime):
    """Watches the positions of the entry nodes before it; when one closes for a reason in ``on``
    and has re-entered fewer than ``max_re_entries`` times, it fires (after ``wait_seconds``),
    marking the entry node to reuse the position id with the next ``re_entry_num``."""

    __slots__ = ("pending",)

    def __init__(self, node, engine):
        super().__init__(node, engine)
        self.pending = None  # (due ts, position, closing execution)

    def on_activate(self) -> None:
        self.pending = None  # waits for a close; polled only while a wait runs

    def deactivate(self) -> None:
        self.pending = None
        super().deactivate()

    def on_position_closed(self, position, reason: str, closing: Execution) -> None:
        config = self.node.config
        if self.state != ACTIVE or self.pending is not None:
            return
        if reason not in config.on or position.re_entry_num >= config.max_re_entries:
            return
        if config.wait_seconds:
            self.pending = (self.engine.market.ts + config.wait_seconds, position, reason, closing)
            self.engine.poll(self)
        else:
            self.fire(position, reason, closing)

    def wakes_at(self) -> float:
        return float("inf") if self.pending is None else self.pending[0]

    def on_tick(self) -> None:
        if self.pending is not None and self.engine.market.ts >= self.pending[0]:
            _, position, reason, closing = self.pending
            self.pending = None
            self.engine.unpoll(self)
            self.fire(position, reason, closing)

    def fire(self, position, reason, closing: Execution) -> None:
        config = self.node.config
        re_entry_num = position.re_entry_num + 1
        details = {
            "re_entry": {
                "position_id": position.position_id,
                "re_entry_num": re_entry_num,
                "after": reason,
                "closed_re_entry_num": position.re_entry_num,
                "max_re_entries": config.max_re_entries,
                "re_entries_left": config.max_re_entries - re_entry_num,
            }
        }
        execution = self.engine.execute(self, "re_entry", details, parent=closing)
        self.engine.pending_reentry[position.entry_node_id] = (position.position_id, re_entry_num)
        self.engine.complete(self, execution)


NODE_CLASSES = {
    "start": StartNode,
    "entry_signal": SignalNode,
    "exit_signal": SignalNode,
    "entry": EntryNode,
    "exit": ExitNode,
    "square_off": SquareOffNode,
    "re_entry": ReEntryNode,
}


class RiskMonitor:
    """A position's stop loss, target and trailing stop, checked on every tick while it is open.

    Trigger levels are integer paise. Distances are exact (percent of the entry price may be a
    fraction of a paisa) and rounded up, so a level is hit exactly when the price has moved at least
    the configured distance: a long stop at ``entry - ceil(d)`` triggers when ``price <= entry - d``.
    A stop and a trailing stop combine into the tighter of the two; a stop hit while the trailing
    level is the tighter one is reported as ``trailing_stop``. Stops are checked before the target.
    """

    __slots__ = ("best", "initial_stop", "places", "position", "prices", "sign", "stop", "stop_reason", "target",
                 "trail")

    def __init__(self, position, prices: list, config, places: int = 2):
        self.position = position
        self.places = places  # of the prices, for levels()
        self.prices = prices  # the position's symbol's price column (paise by row)
        self.sign = sign = position.sign
        entry = position.entry_price
        self.stop = None
        self.stop_reason = "stop_loss"
        if config.stop_loss is not None:
            self.stop = entry - sign * _ceil_paise(config.stop_loss.distance(entry))
        self.initial_stop = self.stop
        self.target = None
        if config.target is not None:
            self.target = entry + sign * _ceil_paise(config.target.distance(entry))
        self.trail = None
        self.best = entry
        if config.trailing_stop is not None:
            self.trail = _ceil_paise(config.trailing_stop.distance(entry))
            self._move_trail(entry)

    def _move_trail(self, best) -> None:
        level = best - self.sign * self.trail
        if self.stop is None or (level - self.stop) * self.sign > 0:
            self.stop = level
            self.stop_reason = "trailing_stop"

    def check(self, row: int):
        """Return the exit reason if the price at tick ``row`` triggers an exit, else None."""
        price = self.prices[row]
        if self.sign > 0:
            if self.trail is not None and price > self.best:
                self.best = price
                self._move_trail(price)
            if self.stop is not None and price <= self.stop:
                return self.stop_reason
            if self.target is not None and price >= self.target:
                return "target"
        else:
            if self.trail is not None and price < self.best:
                self.best = price
                self._move_trail(price)
            if self.stop is not None and price >= self.stop:
                return self.stop_reason
            if self.target is not None and price <= self.target:
                return "target"
        return None

    def levels(self) -> dict:
        """The current levels as numbers of the currency (node event details, snapshots)."""
        scale = 10**self.places
        return {
            "stop_loss": None if self.initial_stop is None else self.initial_stop / scale,
            "target": None if self.target is None else self.target / scale,
            "trailing_stop": None if self.trail is None else (self.best - self.sign * self.trail) / scale,
            "effective_stop": None if self.stop is None else self.stop / scale,
        }


def _ceil_paise(d: Decimal) -> int:
    return ceil(d)
