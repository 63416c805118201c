"""The paper broker: market orders filled at the LTP, slippage, charges, a margin approximation.

A market order fills completely at the last traded price moved against the trader by
``slippage_ticks`` of the instrument's price ticks (a buy pays more, a sell gets less, never below one
tick). There is no order book, so no partial fills and no latency: the fill happens on the tick the
order is placed. Each fill pays what the session's fee model charges on its turnover (``fees.py``).

Margin is a documented approximation, not SPAN, with the instrument's rates (the data file's
``[underlyings.NAME.margin]``, ``universe.Margin``; docs/marketdata.md, "Margin"): a bought option blocks
its premium (price x quantity at entry); a sold option blocks ``short_option_margin_rate`` of the
underlying's notional (underlying LTP x quantity) at the current price; a trade on the underlying itself
(an NSE index as its futures, an FX pair, a stock) blocks ``underlying_margin_rate`` of its notional. An
order whose margin exceeds what is available is rejected.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from live_trading.engine.charges import Charges
from live_trading.engine.fees import OrderFees


@dataclass(frozen=True, slots=True)
class Order:
    """One order and what became of it (prices in paise)."""

    order_id: str
    ts: int
    symbol: str
    side: str
    quantity: int
    ltp: int
    fill_price: int | None
    status: str  # FILLED or REJECTED
    charges: Charges | None
    reason: str = ""
    execution_id: str = ""


@dataclass(frozen=True, slots=True)
class BrokerSettings:
    """Paper trading settings. Money in minor units (paise); rates as fractions of notional, the
    instrument's (``universe.Margin``; 1 by default: fully paid)."""

    starting_capital: int = 10_00_000_00  # Rs 10 lakh
    slippage_ticks: int = 0
    short_option_margin_rate: Decimal = Decimal(1)
    underlying_margin_rate: Decimal = Decimal(1)


class PaperBroker:
    """Fills market orders and keeps the order book of a session."""

    def __init__(self, fees: OrderFees, tick_size: int, settings: BrokerSettings | None = None):
        """``fees``: the day's charges function (``FeeModel.for_day``); ``tick_size``: the instrument's
        price tick in paise (``instruments.tick_size_paise``), the unit of slippage."""
        self.fees = fees
        self.tick_size = tick_size
        self.settings = settings or BrokerSettings()
        self.orders: list[Order] = []

    def fill_price(self, side: str, ltp: int) -> int:
        """Return the fill price of a market order at ``ltp`` after slippage (paise)."""
        slip = self.settings.slippage_ticks * self.tick_size
        if side == "buy":
            return ltp + slip
        return max(ltp - slip, self.tick_size)

    def margin(self, *, option: bool, side: str, price: int, quantity: int, underlying_price: int) -> int:
        """Return the margin (paise) a position blocks, per the approximation in the module doc."""
        if option and side == "buy":
            return price * quantity
        rate = self.settings.short_option_margin_rate if option else self.settings.underlying_margin_rate
        base = underlying_price if option else price
        return int(Decimal(base * quantity) * rate)

    def account(self, store, market) -> dict:
        """The account with the positions of ``store`` at ``market``'s current tick (paise): starting
        capital, margin used (per the approximation above) and available, total value, realized (net
        of charges) and unrealized P&L."""
        used = 0
        unrealized = 0
        spot = market.underlying_prices[market.row]
        for position in store.open:
            price = market.price(position.symbol)
            unrealized += position.unrealized_pnl(price)
            option = position.symbol != market.underlying
            basis = position.entry_price if option and position.side == "buy" else price
            used += self.margin(option=option, side=position.side, price=basis,
                                quantity=position.quantity_remaining, underlying_price=spot)
        capital = self.settings.starting_capital
        value = capital + store.realized_net + unrealized
        return {"starting_capital": capital, "used_margin": used, "available_margin": value - used,
                "total_value": value, "realized_pnl": store.realized_net, "unrealized_pnl": unrealized}

    def submit(
        self, *, ts: int, symbol: str, side: str, quantity: int, ltp: int, option: bool,
        available_margin: int | None = None, underlying_price: int = 0, execution_id: str = "",
    ) -> Order:
        """Execute a market order. Pass ``available_margin`` to check margin (opening orders only)."""
        order_id = f"ord-{len(self.orders) + 1}"
        if ltp <= 0:
            return self._record(Order(order_id, ts, symbol, side, quantity, ltp, None, "REJECTED", None,
                                      "no price for the instrument yet", execution_id))
        price = self.fill_price(side, ltp)
        if available_margin is not None:
            need = self.margin(option=option, side=side, price=price, quantity=quantity, underlying_price=underlying_price)
            if need > available_margin:
                return self._record(Order(order_id, ts, symbol, side, quantity, ltp, None, "REJECTED", None,
                                          f"insufficient margin: needs {need} paise, {available_margin} available",
                                          execution_id))
        charges = self.fees(option=option, side=side, turnover=price * quantity)
        return self._record(Order(order_id, ts, symbol, side, quantity, ltp, price, "FILLED", charges, "", execution_id))

    def settle(self, *, ts: int, symbol: str, side: str, quantity: int, value: int, charges: Charges,
               execution_id: str = "") -> Order:
        """Record an option's settlement at expiry as a filled closing order at ``value`` paise a unit
        (its intrinsic value) with ``charges`` (``charges.exercise_charges``); reason ``expiry settlement``.
        Not sent to any market: no slippage, no margin check."""
        order_id = f"ord-{len(self.orders) + 1}"
        return self._record(Order(order_id, ts, symbol, side, quantity, value, value, "FILLED", charges,
                                  "expiry settlement", execution_id))

    def _record(self, order: Order) -> Order:
        self.orders.append(order)
        return order
