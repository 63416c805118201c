"""Typed domain events the engine emits, and the sink interface that receives them.

The engine knows nothing of Django, SSE or databases: it hands each event to a ``Sink``. Events are
frozen dataclasses. Money in node, position, trade and summary events is ``Decimal`` amounts with the
instrument's places (``places``: two for rupees); timestamps are int epoch seconds (``timestamp`` and
``to_dict`` give ISO 8601 on the market's clock, ``zone``: its calendar's time zone, IST for the NSE). The two
per-tick kinds, ``TickSnapshot`` and ``CandleCompleted``, carry integer paise instead, because a
stream may coalesce most of them away and building Decimals nobody reads would cost the hot loop.

``kind`` is the name of the wire event the stream sends an event as. Each wire kind has one encoder:
``to_dict()`` of ``NodeExecuted`` (an entry of ``node_events``), ``PositionEvent``, ``TradeClosed``
and ``CandleCompleted`` is what the stream sends for it (docs/protocol.md; money as two-place strings,
candle prices and the prices in node details as JSON numbers), and what the persistence writer keeps.
``tick_update`` is encoded by the stream sink, which coalesces ``TickSnapshot``s into it, and
``session_complete`` by the sink from the session's final state; those two events have no ``to_dict``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import tzinfo
from decimal import Decimal
from typing import Any, ClassVar, Protocol, runtime_checkable

from live_trading.engine.money import iso, money_str, price_number, rupees_str
from live_trading.marketdata.calendar import EXCHANGE_TZ


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
    zone: tzinfo = EXCHANGE_TZ  # the market's clock (its calendar's time zone), which times render on; not on the wire

    @property
    def timestamp(self) -> str:
        return iso(self.ts, self.zone)

    def to_dict(self) -> dict:
        payload = {
            "execution_id": self.execution_id,
            "parent_execution_id": self.parent_execution_id,
            "timestamp": self.timestamp,
            "event_type": self.event_type,
            "node_id": self.node_id,
            "node_name": self.node_name,
            "node_type": self.node_type,
        }
        payload.update(self.details)
        return payload


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
    places: int = 2  # the instrument's price_decimals, which to_dict renders; not on the wire
    zone: tzinfo = EXCHANGE_TZ  # the market's clock (its calendar's time zone), which times render on; not on the wire

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
            "entry_price": money_str(self.entry_price, self.places),
            "entry_time": iso(self.entry_time, self.zone),
            "exit_price": None if self.exit_price is None else money_str(self.exit_price, self.places),
            "exit_time": None if self.exit_time is None else iso(self.exit_time, self.zone),
            "current_price": None if self.current_price is None else money_str(self.current_price, self.places),
            "status": self.status,
            "realized_pnl": money_str(self.realized_pnl, self.places),
            "realized_pnl_gross": money_str(self.realized_pnl_gross, self.places),
            "unrealized_pnl": money_str(self.unrealized_pnl, self.places),
            "charges": money_str(self.charges, self.places),
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
    places: int = 2  # the instrument's price_decimals, which to_dict renders; not on the wire
    zone: tzinfo = EXCHANGE_TZ  # the market's clock (its calendar's time zone), which times render on; not on the wire

    @property
    def timestamp(self) -> str:
        return iso(self.ts, self.zone)

    def to_dict(self) -> dict:
        return {
            "event_type": "position_event",
            "action": self.action,
            "timestamp": self.timestamp,
            "execution_id": self.execution_id,
            "quantity": self.quantity,
            "position": self.position.to_dict(),
            "pnl": {
                "realized_pnl": money_str(self.realized_pnl, self.places),
                "unrealized_pnl": money_str(self.unrealized_pnl, self.places),
                "total_pnl": money_str(self.realized_pnl + self.unrealized_pnl, self.places),
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
    # A multi-day session's P&L per trading day so far: (trading day of its market, net P&L in Decimal)
    daily_pnl: tuple = ()
    places: int = 2  # the instrument's price_decimals, which to_dict renders; not on the wire

    def to_dict(self) -> dict:
        """The wire form; ``daily_pnl`` (``[{"date", "pnl"}]``) only for a session over several days."""
        daily = {"daily_pnl": [{"date": d.isoformat(), "pnl": money_str(pnl, self.places)} for d, pnl in self.daily_pnl]
                 } if self.daily_pnl else {}
        return {
            "total_trades": self.total_trades,
            "total_pnl": money_str(self.net_pnl, self.places),
            "gross_pnl": money_str(self.gross_pnl, self.places),
            "charges": money_str(self.charges, self.places),
            "net_pnl": money_str(self.net_pnl, self.places),
            "winning_trades": self.winning_trades,
            "losing_trades": self.losing_trades,
            "win_rate": money_str(self.win_rate),
            "max_drawdown": money_str(self.max_drawdown, self.places),
            **daily,
        }


@dataclass(frozen=True, slots=True)
class TradeRecord:
    """A closed (or partly closed) position's trade, money in Decimal rupees. ``pnl`` is gross
    (price difference x quantity, as the seeds compute it); ``net_pnl = pnl - charges``.

    ``to_dict()`` is the one trade dict: the stream's ``trade_update``, ``initial_state`` and
    ``session_complete``, the dashboard's ``gps_data.trades``, the REST trade list, its CSV export and
    ``manage.py simulate --json`` all give a trade as it returns it. A stored trade becomes a
    ``TradeRecord`` through ``sessions_app.models.Trade.record()``. The shape, field by field, is
    ``live_trading.stream.events.TradeData`` (documented in docs/protocol.md, ``trade_update``).
    """

    trade_id: str
    position_id: str
    position_num: int
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
    places: int = 2  # the instrument's price_decimals, which to_dict renders; not on the wire
    zone: tzinfo = EXCHANGE_TZ  # the market's clock (its calendar's time zone), which times render on; not on the wire

    @property
    def duration_minutes(self) -> float:
        return (self.exit_time - self.entry_time) / 60

    def to_dict(self) -> dict:
        return {
            "trade_id": self.trade_id,
            "position_id": self.position_id,
            "position_num": self.position_num,
            "re_entry_num": self.re_entry_num,
            "entry_node_id": self.entry_node_id,
            "symbol": self.symbol,
            "side": self.side,
            "quantity": self.quantity,
            "entry_price": money_str(self.entry_price, self.places),
            "entry_time": iso(self.entry_time, self.zone),
            "exit_price": money_str(self.exit_price, self.places),
            "exit_time": iso(self.exit_time, self.zone),
            "pnl": money_str(self.pnl, self.places),
            "pnl_percent": money_str(self.pnl_percent),
            "charges": money_str(self.charges, self.places),
            "net_pnl": money_str(self.net_pnl, self.places),
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


@dataclass(frozen=True, slots=True)
class TickSnapshot:
    """What changed on a tick (emitted only to sinks with ``wants_ticks``). ``ltp_updates`` holds
    (symbol, paise) for the symbols whose price changed on this tick (all of them on the first).
    ``node_diagnostics`` (only for sinks with ``wants_node_diagnostics``; seed 001's per-tick node
    diagnostics) holds (node_id, {"mode", "condition_results"}) for each active signal node: its
    conditions' current values, as a ``signal_emitted`` execution's ``evaluated_conditions`` has them."""

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
    node_diagnostics: tuple = ()
    places: int = 2  # the instrument's price_decimals, which to_dict renders; not on the wire
    zone: tzinfo = EXCHANGE_TZ  # the market's clock (its calendar's time zone), which times render on; not on the wire


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
    places: int = 2  # the instrument's price_decimals, which to_dict renders; not on the wire
    zone: tzinfo = EXCHANGE_TZ  # the market's clock (its calendar's time zone), which times render on; not on the wire

    def to_dict(self) -> dict:
        """The ``candle_update`` payload: prices as rupee numbers, ``timestamp`` the opening time."""
        return {
            "symbol": self.symbol,
            "timeframe": self.timeframe,
            "timestamp": iso(self.start, self.zone),
            "open": price_number(self.open, self.places),
            "high": price_number(self.high, self.places),
            "low": price_number(self.low, self.places),
            "close": price_number(self.close, self.places),
            "volume": self.volume,
            "indicators": dict(self.indicators),
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

    ``low_pnl_paise``, ``high_pnl_paise`` and ``drop_paise`` are the range of the net P&L the engine's
    drawdown tracker saw since the previous sample (``engine.DrawdownMeter``: the lowest, the highest,
    and the deepest fall within them), from which the report recomputes the engine's tick-level
    maximum drawdown exactly. They are not in ``to_dict`` (the curve's wire form).
    """

    ts: int
    realized_pnl_paise: int
    unrealized_pnl_paise: int
    charges_paise: int
    low_pnl_paise: int
    high_pnl_paise: int
    drop_paise: int
    places: int = 2  # the instrument's price_decimals, which to_dict renders; not on the wire
    zone: tzinfo = EXCHANGE_TZ  # the market's clock (its calendar's time zone), which times render on; not on the wire

    @property
    def net_pnl_paise(self) -> int:
        return self.realized_pnl_paise + self.unrealized_pnl_paise

    def to_dict(self) -> dict:
        return {
            "timestamp": iso(self.ts, self.zone),
            "net_pnl": rupees_str(self.net_pnl_paise, self.places),
            "realized_pnl": rupees_str(self.realized_pnl_paise, self.places),
            "unrealized_pnl": rupees_str(self.unrealized_pnl_paise, self.places),
            "charges": rupees_str(self.charges_paise, self.places),
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
        return [event for event in self.events if isinstance(event, cls)]


class FanoutSink:
    """Passes each event to several sinks (persistence and stream, say) in order."""

    def __init__(self, *sinks):
        self.sinks = sinks
        self.wants_ticks = any(sink.wants_ticks for sink in sinks)
        self.wants_node_diagnostics = any(getattr(sink, "wants_node_diagnostics", False) for sink in sinks)
        self._tick_sinks = tuple(sink for sink in sinks if sink.wants_ticks)
        dues = [getattr(sink, "tick_due", None) for sink in self._tick_sinks]
        if dues and all(dues):
            self._dues = tuple(dues)
            self.tick_due = self._any_tick_due

    def _any_tick_due(self) -> bool:
        return any(due() for due in self._dues)

    def emit(self, event) -> None:
        targets = self._tick_sinks if isinstance(event, TickSnapshot) else self.sinks
        for sink in targets:
            sink.emit(event)
