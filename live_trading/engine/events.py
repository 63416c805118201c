"""Typed domain events the engine emits, and the sink interface that receives them.

The engine knows nothing of Django, SSE or databases: it hands each event to a ``Sink``. Events are
frozen dataclasses. Money in node, position, trade and summary events is ``Decimal`` rupees with two
places; timestamps are int epoch seconds (``timestamp`` gives ISO 8601 in exchange time). The two
per-tick kinds, ``TickSnapshot`` and ``CandleCompleted``, carry integer paise instead, because a
stream may coalesce most of them away and building Decimals nobody reads would cost the hot loop.

``to_dict()`` on every event returns its JSON-ready form with the field names of the product's seeds
(money as two-place strings, prices in node details and ticks as JSON numbers). ``kind`` is the name
of the wire event the stream sends it as.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar, Protocol, runtime_checkable

from live_trading.engine.money import iso, money_str, rupees_str


def progress(ticks_processed: int, total_ticks: int) -> dict:
    """The progress dict every view of a session shows: ticks done, ticks in all, and the percentage
    (two places, 0 when the total is not known yet)."""
    return {"ticks_processed": ticks_processed, "total_ticks": total_ticks,
            "progress_percentage": round(100 * ticks_processed / total_ticks, 2) if total_ticks else 0}


@dataclass(frozen=True, slots=True)
class NodeExecuted:
    """A node ran: a signal emitted, an order placed, an exit or square-off triggered, a re-entry.

    ``details`` is read-only by contract and JSON-ready; what it holds depends on ``event_type``
    (docs/strategies.md lists them): ``evaluated_conditions`` for signals, ``order_details`` and
    ``position`` for orders, ``exit_reason`` and ``positions`` for exits.
    """

    kind: ClassVar[str] = "node_events"
    execution_id: str
    parent_execution_id: str | None
    ts: int
    node_id: str
    node_name: str
    node_type: str
    event_type: str
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def timestamp(self) -> str:
        return iso(self.ts)

    def to_dict(self) -> dict:
        d = {
            "execution_id": self.execution_id,
            "parent_execution_id": self.parent_execution_id,
            "timestamp": self.timestamp,
            "event_type": self.event_type,
            "node_id": self.node_id,
            "node_name": self.node_name,
            "node_type": self.node_type,
        }
        d.update(self.details)
        return d


@dataclass(frozen=True, slots=True)
class PositionState:
    """A position as it stands after an entry or exit (money in Decimal rupees)."""

    position_id: str
    re_entry_num: int
    entry_node_id: str
    symbol: str
    side: str
    quantity_total: int
    quantity_closed: int
    quantity_remaining: int
    entry_price: Decimal
    entry_time: int
    exit_price: Decimal | None
    exit_time: int | None
    current_price: Decimal | None
    status: str
    realized_pnl: Decimal
    realized_pnl_gross: Decimal
    unrealized_pnl: Decimal
    charges: Decimal
    entry_flow_ids: tuple
    exit_flow_ids: tuple
    entry_trigger: str
    exit_reason: str | None

    def to_dict(self) -> dict:
        return {
            "position_id": self.position_id,
            "re_entry_num": self.re_entry_num,
            "entry_node_id": self.entry_node_id,
            "symbol": self.symbol,
            "side": self.side,
            "quantity": self.quantity_total,
            "quantity_total": self.quantity_total,
            "quantity_closed": self.quantity_closed,
            "quantity_remaining": self.quantity_remaining,
            "entry_price": money_str(self.entry_price),
            "entry_time": iso(self.entry_time),
            "exit_price": None if self.exit_price is None else money_str(self.exit_price),
            "exit_time": None if self.exit_time is None else iso(self.exit_time),
            "current_price": None if self.current_price is None else money_str(self.current_price),
            "status": self.status,
            "realized_pnl": money_str(self.realized_pnl),
            "realized_pnl_gross": money_str(self.realized_pnl_gross),
            "unrealized_pnl": money_str(self.unrealized_pnl),
            "charges": money_str(self.charges),
            "entry_flow_ids": list(self.entry_flow_ids),
            "exit_flow_ids": list(self.exit_flow_ids),
            "entry_trigger": self.entry_trigger,
            "exit_reason": self.exit_reason,
        }


@dataclass(frozen=True, slots=True)
class PositionEvent:
    """A position was entered, partly exited or fully exited (``action``: entry, partial_exit, exit).

    ``quantity`` is what this event opened or closed; ``exit_price`` in ``position`` is this close's."""

    kind: ClassVar[str] = "position_event"
    action: str
    ts: int
    execution_id: str
    quantity: int
    position: PositionState
    realized_pnl: Decimal
    unrealized_pnl: Decimal

    @property
    def timestamp(self) -> str:
        return iso(self.ts)

    def to_dict(self) -> dict:
        return {
            "event_type": "position_event",
            "action": self.action,
            "timestamp": self.timestamp,
            "execution_id": self.execution_id,
            "quantity": self.quantity,
            "position": self.position.to_dict(),
            "pnl": {
                "realized_pnl": money_str(self.realized_pnl),
                "unrealized_pnl": money_str(self.unrealized_pnl),
                "total_pnl": money_str(self.realized_pnl + self.unrealized_pnl),
            },
        }


@dataclass(frozen=True, slots=True)
class Summary:
    """Running or final results of a session. ``net_pnl`` (``total_pnl`` on the wire) is net of charges;
    wins and losses are counted on each trade's net P&L (a trade that nets zero counts as a loss)."""

    total_trades: int
    winning_trades: int
    losing_trades: int
    win_rate: Decimal
    gross_pnl: Decimal
    charges: Decimal
    net_pnl: Decimal
    max_drawdown: Decimal

    def to_dict(self) -> dict:
        return {
            "total_trades": self.total_trades,
            "total_pnl": money_str(self.net_pnl),
            "gross_pnl": money_str(self.gross_pnl),
            "charges": money_str(self.charges),
            "net_pnl": money_str(self.net_pnl),
            "winning_trades": self.winning_trades,
            "losing_trades": self.losing_trades,
            "win_rate": money_str(self.win_rate),
            "max_drawdown": money_str(self.max_drawdown),
        }


@dataclass(frozen=True, slots=True)
class TradeRecord:
    """A closed (or partly closed) position's trade, money in Decimal rupees. ``pnl`` is gross
    (price difference x quantity, as the seeds compute it); ``net_pnl = pnl - charges``."""

    trade_id: str
    position_id: str
    re_entry_num: int
    entry_node_id: str
    symbol: str
    side: str
    quantity: int
    entry_price: Decimal
    entry_time: int
    exit_price: Decimal
    exit_time: int
    pnl: Decimal
    pnl_percent: Decimal
    charges: Decimal
    net_pnl: Decimal
    status: str
    entry_flow_ids: tuple
    exit_flow_ids: tuple
    entry_trigger: str
    exit_reason: str

    @property
    def duration_minutes(self) -> float:
        return (self.exit_time - self.entry_time) / 60

    def to_dict(self) -> dict:
        return {
            "trade_id": self.trade_id,
            "position_id": self.position_id,
            "re_entry_num": self.re_entry_num,
            "entry_node_id": self.entry_node_id,
            "symbol": self.symbol,
            "side": self.side,
            "quantity": self.quantity,
            "entry_price": money_str(self.entry_price),
            "entry_time": iso(self.entry_time),
            "exit_price": money_str(self.exit_price),
            "exit_time": iso(self.exit_time),
            "pnl": money_str(self.pnl),
            "pnl_percent": money_str(self.pnl_percent),
            "charges": money_str(self.charges),
            "net_pnl": money_str(self.net_pnl),
            "duration_minutes": round(self.duration_minutes, 2),
            "status": self.status,
            "entry_flow_ids": list(self.entry_flow_ids),
            "exit_flow_ids": list(self.exit_flow_ids),
            "entry_trigger": self.entry_trigger,
            "exit_reason": self.exit_reason,
        }


@dataclass(frozen=True, slots=True)
class TradeClosed:
    """A trade completed (a full or partial close), with the session summary after it."""

    kind: ClassVar[str] = "trade_update"
    ts: int
    trade: TradeRecord
    summary: Summary

    def to_dict(self) -> dict:
        return {"trade": self.trade.to_dict(), "summary": self.summary.to_dict()}


@dataclass(frozen=True, slots=True)
class OpenPositionTick:
    """An open position on a tick, prices and P&L in paise."""

    position_id: str
    re_entry_num: int
    symbol: str
    side: str
    quantity: int
    entry_price_paise: int
    current_price_paise: int
    unrealized_pnl_paise: int

    def to_dict(self) -> dict:
        return {
            "position_id": self.position_id,
            "re_entry_num": self.re_entry_num,
            "symbol": self.symbol,
            "side": self.side,
            "quantity": self.quantity,
            "entry_price": self.entry_price_paise / 100,
            "current_price": self.current_price_paise / 100,
            "unrealized_pnl": self.unrealized_pnl_paise / 100,
        }


@dataclass(frozen=True, slots=True)
class TickSnapshot:
    """What changed on a tick (emitted only to sinks with ``wants_ticks``). ``ltp_updates`` holds
    (symbol, paise) for the symbols whose price changed on this tick (all of them on the first)."""

    kind: ClassVar[str] = "tick_update"
    ts: int
    ticks_processed: int
    total_ticks: int
    active_nodes: tuple
    ltp_updates: tuple
    open_positions: tuple
    realized_pnl_paise: int
    unrealized_pnl_paise: int
    closed_trades: int

    def to_dict(self) -> dict:
        t = iso(self.ts)
        total = self.realized_pnl_paise + self.unrealized_pnl_paise
        return {
            "timestamp": t,
            "current_time": t,
            "progress": progress(self.ticks_processed, self.total_ticks),
            "active_nodes": list(self.active_nodes),
            "ltp_updates": {s: p / 100 for s, p in self.ltp_updates},
            "open_positions": [p.to_dict() for p in self.open_positions],
            "pnl_summary": {
                "realized_pnl": self.realized_pnl_paise / 100,
                "unrealized_pnl": self.unrealized_pnl_paise / 100,
                "total_pnl": total / 100,
                "closed_trades": self.closed_trades,
                "open_trades": len(self.open_positions),
            },
        }


@dataclass(frozen=True, slots=True)
class CandleCompleted:
    """A candle of the underlying completed; ``indicators`` maps names like ``rsi(14)`` to values
    (None while warming up). Prices in paise; ``start``/``end`` epoch seconds (end exclusive)."""

    kind: ClassVar[str] = "candle_update"
    symbol: str
    timeframe: str
    start: int
    end: int
    open: int
    high: int
    low: int
    close: int
    volume: int
    indicators: Mapping[str, float | None] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "symbol": self.symbol,
            "timeframe": self.timeframe,
            "timestamp": iso(self.start),
            "open": self.open / 100,
            "high": self.high / 100,
            "low": self.low / 100,
            "close": self.close / 100,
            "volume": self.volume,
            **self.indicators,
        }


@dataclass(frozen=True, slots=True)
class SessionComplete:
    """The replay ended (``status`` ``completed``) or was stopped early (``stopped``)."""

    kind: ClassVar[str] = "session_complete"
    ts: int
    status: str
    ticks_processed: int
    total_ticks: int
    summary: Summary

    def to_dict(self) -> dict:
        return {
            "timestamp": iso(self.ts),
            "status": self.status,
            "ticks_processed": self.ticks_processed,
            "total_ticks": self.total_ticks,
            "summary": self.summary.to_dict(),
        }


@dataclass(frozen=True, slots=True)
class EquitySample:
    """The session's P&L at exchange time ``ts``, after every tick before it, in paise: taken at the
    close of each exchange minute the session replays (``ts`` is the minute's end: 09:16:00 holds the
    figures after the last tick of 09:15) and once at its end (one second after its last tick, after
    the positions the end closed), so the last sample is the session's final net P&L.

    ``realized_pnl_paise`` is net of ``charges_paise``, every charge paid so far (an open position's
    entry charges included); ``unrealized_pnl_paise`` is the open positions' gross P&L at their LTPs.
    ``net_pnl_paise`` is their sum: the dashboard's ``total_pnl``. Persisted for the session's P&L
    curve; not a stream event (ticks carry the live P&L). Emitted by the session's ``MultiDayEngine``.
    """

    ts: int
    realized_pnl_paise: int
    unrealized_pnl_paise: int
    charges_paise: int

    @property
    def net_pnl_paise(self) -> int:
        return self.realized_pnl_paise + self.unrealized_pnl_paise

    def to_dict(self) -> dict:
        return {
            "timestamp": iso(self.ts),
            "net_pnl": rupees_str(self.net_pnl_paise),
            "realized_pnl": rupees_str(self.realized_pnl_paise),
            "unrealized_pnl": rupees_str(self.unrealized_pnl_paise),
            "charges": rupees_str(self.charges_paise),
        }


Event = (NodeExecuted | PositionEvent | TradeClosed | TickSnapshot | CandleCompleted | SessionComplete
         | EquitySample)


@runtime_checkable
class Sink(Protocol):
    """Where an engine's events go. ``emit`` is called on the engine's thread, synchronously, in event
    order; it must not block for long (queue and do I/O elsewhere). ``wants_ticks`` is read once,
    when the engine is built: with it false no ``TickSnapshot`` is ever built. A sink that keeps only
    some ticks may also have ``tick_due() -> bool``, asked on each tick before a snapshot is built;
    a snapshot's ``ltp_updates`` are then the changes since the previous snapshot built."""

    wants_ticks: bool

    def emit(self, event: Event) -> None: ...


class NullSink:
    """Discards everything (benchmarks, runs that only want the final summary)."""

    wants_ticks = False

    def emit(self, event) -> None:
        pass


class ListSink:
    """Keeps every event in ``events`` (tests)."""

    def __init__(self, wants_ticks: bool = False):
        self.wants_ticks = wants_ticks
        self.events: list = []

    def emit(self, event) -> None:
        self.events.append(event)

    def of(self, cls) -> list:
        """Return the events of one class, in order."""
        return [e for e in self.events if isinstance(e, cls)]


class FanoutSink:
    """Passes each event to several sinks (persistence and stream, say) in order."""

    def __init__(self, *sinks):
        self.sinks = sinks
        self.wants_ticks = any(s.wants_ticks for s in sinks)
        self._tick_sinks = tuple(s for s in sinks if s.wants_ticks)
        dues = [getattr(s, "tick_due", None) for s in self._tick_sinks]
        if dues and all(dues):
            self._dues = tuple(dues)
            self.tick_due = self._any_tick_due

    def _any_tick_due(self) -> bool:
        return any(due() for due in self._dues)

    def emit(self, event) -> None:
        targets = self._tick_sinks if isinstance(event, TickSnapshot) else self.sinks
        for s in targets:
            s.emit(event)
