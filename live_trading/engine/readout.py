"""What an engine shows: the dashboard snapshot, and the records and details its events carry.

The engine (``engine.py``) steps the strategy and trades in integer paise on its own objects
(positions, trades, broker orders, candles). This module turns those into what leaves it:

* the records events carry (``position_state``, ``trade_record``, ``session_summary``: ``Decimal``
  rupees), and the ``TickSnapshot`` a sink that wants ticks gets (paise);
* the node event details of an order (``order_details``, ``closed_position``);
* the dashboard snapshot (``Readout.snapshot``, seed 004), JSON-ready.

Orders render money one way wherever they appear (the dashboard's ``broker_data.orders``, an
``order_placed`` node event's ``order_details``, an exit's closed positions): two-place rupee
strings (``money.rupees_str``), the wire's form of money.
"""

from __future__ import annotations

from datetime import tzinfo

from live_trading.engine.events import (
    OpenPositionTick,
    PositionState,
    Summary,
    TickSnapshot,
    TradeRecord,
    progress,
)
from live_trading.engine.money import iso, percent, price_number, rupees, rupees_str
from live_trading.marketdata.calendar import EXCHANGE_TZ


class Readout:
    """The read side of one ``Engine``: its snapshot and its tick snapshots.

    Call it on the engine's thread, between steps. It keeps what makes ticks cheap: the columns a
    client is shown LTPs of, and the row of the last tick snapshot built (LTP changes are those since).
    """

    def __init__(self, engine):
        self._engine = engine
        self._market = engine.market
        self._watched: list[int] = [0]
        self._watched_for = 0  # how many positions the watched columns were worked out for
        self._last_tick_row = -1

    def next_day(self) -> None:
        """A positional session moved to its next day: columns and rows are that day's now."""
        self._watched = [0]
        self._watched_for = 0
        self._last_tick_row = -1

    def position_state(self, position) -> PositionState:
        """The position as it stands at the current tick, money in Decimal rupees."""
        # Closed positions of earlier days (multi-day sessions) have no column in today's market.
        market = self._market
        return position_state(position, market.price(position.symbol) if position.is_open else 0, market.places,
                              market.zone)

    def snapshot(self) -> dict:
        """The session's state now, JSON-ready, in the dashboard's shape (seed 004): progress, node
        states, positions with realized and unrealized P&L, trades with flow ids, orders, account,
        LTP store and latest candles. Money in ``gps_data`` and ``broker_data`` is two-place strings;
        LTPs and candles are rupee numbers. The dict is a copy the caller may hand to other threads."""
        engine = self._engine
        market = self._market
        store = engine.store
        started = engine.ticks_processed > 0
        account = engine.account() if started else None
        unrealized = account["unrealized_pnl"] if account else 0
        realized = store.realized_net
        places, zone = market.places, market.zone
        return {
            "status": engine.status,
            "timestamp": iso(market.ts, zone) if started else None,
            "progress": progress(engine.ticks_before + engine.ticks_processed, engine.session_ticks),
            "strategy": {"name": engine.graph.name, "underlying": market.underlying, "date": market.date.isoformat()},
            "nodes": {
                node_id: {"status": node.state, "node_type": node.label, "node_name": node.name,
                          **last_execution(engine.last_executions.get(node_id), zone)}
                for node_id, node in engine.nodes.items()
            },
            "active_nodes": list(engine.active_nodes),
            "gps_data": {
                "positions": [self.position_state(p).to_dict() for p in store.positions.values()],
                "trades": [trade_record(t, places, zone).to_dict() for t in store.trades],
                "pnl": {"realized_pnl": rupees_str(realized, places),
                        "unrealized_pnl": rupees_str(unrealized, places),
                        "total_pnl": rupees_str(realized + unrealized, places),
                        "closed_trades": len(store.trades), "open_trades": len(store.open)},
            },
            "broker_data": {
                "orders": [order_dict(o, places, zone) for o in engine.broker.orders],
                "account_info": {k: rupees_str(v, places) for k, v in account.items()} if account else None,
            },
            "market_data": {
                "ltp_store": ({symbol: price_number(paise, places)
                               for symbol, paise in market.ltps_of(self.watched_columns()).items()}
                              if started else {}),
                "candle_data": {timeframe: candle_dict(c, places, zone)
                                for timeframe, c in market.latest_candles().items()},
            },
            "summary": engine.summary().to_dict(),
        }

    def tick_snapshot(self, ticks_processed: int) -> TickSnapshot:
        """What a sink that wants ticks gets on this tick (paise); its LTP changes are those since
        the previous tick snapshot, of the watched columns."""
        engine = self._engine
        market = self._market
        store = engine.store
        opens = []
        unrealized = 0
        for position in store.open:
            price = market.price(position.symbol)
            position_unrealized = position.unrealized_pnl(price)
            unrealized += position_unrealized
            opens.append(OpenPositionTick(position.position_id, position.re_entry_num, position.symbol, position.side,
                                          position.quantity_remaining, position.entry_price, price,
                                          position_unrealized))
        changed = market.changed_since(self._last_tick_row, self.watched_columns())
        self._last_tick_row = market.row
        diagnostics = ()
        if engine.wants_node_diagnostics:
            diagnostics = tuple((node_id, {"mode": node.node.config.conditions.mode,
                                           "condition_results": node.conditions.describe()})
                                for node_id, node in engine.active_nodes.items() if hasattr(node, "conditions"))
        return TickSnapshot(market.ts, engine.ticks_before + ticks_processed, engine.session_ticks,
                            tuple(engine.active_nodes), changed, tuple(opens),
                            store.realized_net, unrealized, len(store.trades), diagnostics, market.places,
                            market.zone)

    def watched_columns(self) -> list[int]:
        """The columns a client is shown LTPs of: the underlying and every symbol the session has
        held. The rest of the option chain (a hundred-odd symbols) would make every tick heavy."""
        positions = self._engine.store.positions
        if len(positions) != self._watched_for:
            index = self._market.col_index
            # (not a held symbol the day's data lacks: MarketState.next_day gives it a column of its own)
            width = len(self._market.symbols)
            columns = {0} | {index[p.symbol] for p in positions.values() if index.get(p.symbol, width) < width}
            self._watched = sorted(columns)
            self._watched_for = len(positions)
        return self._watched


def position_state(position, price: int, places: int = 2, zone: tzinfo = EXCHANGE_TZ) -> PositionState:
    """A store position (minor units) as the record events carry, at ``price`` (0: no current price),
    money with ``places`` places (the instrument's ``price_decimals``), times on ``zone`` (its market's clock)."""
    return PositionState(
        position_id=position.position_id, re_entry_num=position.re_entry_num, entry_node_id=position.entry_node_id,
        symbol=position.symbol, side=position.side, quantity_total=position.quantity_total,
        quantity_closed=position.quantity_closed, quantity_remaining=position.quantity_remaining,
        entry_price=rupees(position.entry_price, places), entry_time=position.entry_time,
        exit_price=None if position.exit_price is None else rupees(position.exit_price, places),
        exit_time=position.exit_time, current_price=rupees(price, places) if price else None, status=position.status,
        realized_pnl=rupees(position.realized_pnl, places), realized_pnl_gross=rupees(position.realized_gross, places),
        unrealized_pnl=rupees(position.unrealized_pnl(price), places), charges=rupees(position.charges, places),
        entry_flow_ids=position.entry_flow_ids, exit_flow_ids=position.exit_flow_ids,
        entry_trigger=position.entry_trigger, exit_reason=position.exit_reason, places=places, zone=zone,
    )


def trade_record(trade, places: int = 2, zone: tzinfo = EXCHANGE_TZ) -> TradeRecord:
    """A store trade (minor units) as the record ``TradeClosed`` and snapshots carry (Decimal, ``places``
    places; times on ``zone``, its market's clock)."""
    return TradeRecord(
        trade_id=trade.trade_id, position_id=trade.position_id, position_num=trade.position_num,
        re_entry_num=trade.re_entry_num,
        entry_node_id=trade.entry_node_id, symbol=trade.symbol, side=trade.side, quantity=trade.quantity,
        entry_price=rupees(trade.entry_price, places), entry_time=trade.entry_time,
        exit_price=rupees(trade.exit_price, places), exit_time=trade.exit_time, pnl=rupees(trade.pnl, places),
        pnl_percent=trade.pnl_percent, charges=rupees(trade.charges, places), net_pnl=rupees(trade.net_pnl, places),
        status=trade.status,
        entry_flow_ids=trade.entry_flow_ids, exit_flow_ids=trade.exit_flow_ids, entry_trigger=trade.entry_trigger,
        exit_reason=trade.exit_reason, places=places, zone=zone,
    )


def session_summary(store, max_drawdown: int, daily=(), places: int = 2) -> Summary:
    """A position store's results (trades, gross and net P&L, charges, win rate) with the session's
    maximum drawdown (paise) and ``daily`` ((date, net P&L paise) per trading day), in Decimal rupees."""
    trade_count = len(store.trades)
    gross = sum(t.pnl for t in store.trades)
    charges = sum(t.charges for t in store.trades)
    return Summary(
        total_trades=trade_count,
        winning_trades=store.wins,
        losing_trades=store.losses,
        win_rate=percent(store.wins, trade_count),
        gross_pnl=rupees(gross, places),
        charges=rupees(charges, places),
        net_pnl=rupees(gross - charges, places),
        max_drawdown=rupees(max_drawdown, places),
        daily_pnl=tuple((day, rupees(pnl, places)) for day, pnl in daily),
        places=places,
    )


def order_dict(order, places: int = 2, zone: tzinfo = EXCHANGE_TZ) -> dict:
    """A broker order as the dashboard's ``broker_data.orders`` lists it; ``charges`` is the total."""
    return {
        "order_id": order.order_id, "timestamp": iso(order.ts, zone), "symbol": order.symbol, "side": order.side,
        "quantity": order.quantity, "order_type": "MARKET", "ltp": rupees_str(order.ltp, places),
        "fill_price": None if order.fill_price is None else rupees_str(order.fill_price, places),
        "status": order.status, "reason": order.reason, "execution_id": order.execution_id,
        "charges": None if order.charges is None else rupees_str(order.charges.total, places),
    }


def order_details(order, lots: int, lot_size: int, places: int = 2) -> dict:
    """An entry order as an ``order_placed`` / ``order_rejected`` node event's ``order_details``;
    a filled one adds ``price`` (its fill) and ``charges`` (each component and the total)."""
    details = {
        "order_id": order.order_id,
        "symbol": order.symbol,
        "side": order.side,
        "quantity": order.quantity,
        "lots": lots,
        "lot_size": lot_size,
        "order_type": "MARKET",
        "ltp": rupees_str(order.ltp, places),
        "status": order.status,
    }
    if order.fill_price is not None:
        details["price"] = rupees_str(order.fill_price, places)
        details["charges"] = order.charges.as_rupees(places)
    return details


def closed_position(position, quantity: int, order, reason: str, places: int = 2) -> dict:
    """One position an exit or square-off closed (fully or ``quantity`` of it), as the node event's
    ``positions`` lists it; ``price`` is the closing order's fill."""
    return {
        "position_id": position.position_id, "re_entry_num": position.re_entry_num, "symbol": position.symbol,
        "quantity": quantity, "price": rupees_str(order.fill_price, places), "order_id": order.order_id,
        "exit_reason": reason, "status": position.status,
    }


def candle_dict(candle, places: int = 2, zone: tzinfo = EXCHANGE_TZ) -> dict:
    """A completed candle as the dashboard's ``market_data.candle_data`` shows it (price numbers)."""
    return {"symbol": candle.symbol, "timestamp": iso(candle.start, zone), "open": price_number(candle.open, places),
            "high": price_number(candle.high, places), "low": price_number(candle.low, places),
            "close": price_number(candle.close, places), "volume": candle.volume}


def last_execution(last: tuple | None, zone: tzinfo = EXCHANGE_TZ) -> dict:
    """A node's last execution, ``(execution id, epoch seconds, event type)``, as its snapshot fields (the
    time on ``zone``, its market's clock)."""
    if last is None:
        return {"last_execution_id": None, "last_execution_time": None, "last_event_type": None}
    execution_id, ts, event_type = last
    return {"last_execution_id": execution_id, "last_execution_time": iso(ts, zone), "last_event_type": event_type}
