"""The position store (the seeds' GPS): positions, their fills, the trades they produce.

A position is keyed by (``position_id``, ``re_entry_num``): ``entry-2-pos1`` re-entered twice is three
positions, re_entry_num 0, 1 and 2. The store numbers positions per entry node (``new_position_id``)
and keeps the entry node and that number as data on each position and trade (``entry_node_id``,
``position_num``), so nothing downstream parses them back out of the id. ``PositionStore.apply(fill)`` is the only way a position changes.
An opening fill creates the position; closing fills reduce it (partial closes) and each produces a
``Trade`` for the quantity it closed.

Money is integer paise throughout. Gross P&L is the price difference times the quantity; charges are
carried separately and folded into the net figures: a position's ``realized_pnl`` is net (its entry
charges count from the moment it opens, as a broker debits them), ``realized_gross`` is not.
Unrealized P&L is a query at a price and never stored.
"""

from __future__ import annotations

from dataclasses import dataclass

from live_trading.engine.charges import Charges
from live_trading.engine.money import percent

OPEN = "OPEN"
PARTIAL = "PARTIAL"
CLOSED = "CLOSED"


@dataclass(frozen=True, slots=True)
class Fill:
    """An executed order as the position store sees it. ``opening`` fills create the position with
    ``flow_ids`` as its entry flow; closing fills carry the exit flow and the exit reason."""

    position_id: str
    re_entry_num: int
    symbol: str
    side: str  # of this order: "buy" or "sell"
    quantity: int  # units (lots x lot size)
    price: int  # paise
    ts: int
    charges: Charges
    execution_id: str
    order_id: str
    opening: bool
    flow_ids: tuple = ()
    entry_node_id: str = ""
    entry_trigger: str = ""
    exit_reason: str | None = None
    lot_size: int = 1


@dataclass(frozen=True, slots=True)
class Trade:
    """The closed part of a position: one per closing fill. Money in paise (see ``events`` for the
    Decimal form). ``pnl`` is gross; ``charges`` are this close's exit charges plus the closed
    quantity's share of the entry charges; ``net_pnl = pnl - charges``."""

    trade_id: str
    position_id: str
    position_num: int
    re_entry_num: int
    entry_node_id: str
    symbol: str
    side: str
    quantity: int
    entry_price: int
    entry_time: int
    exit_price: int
    exit_time: int
    pnl: int
    charges: int
    net_pnl: int
    status: str  # CLOSED when this close emptied the position, else PARTIAL
    entry_flow_ids: tuple
    exit_flow_ids: tuple
    entry_trigger: str
    exit_reason: str
    entry_execution_id: str
    exit_execution_id: str

    @property
    def pnl_percent(self):
        """Gross P&L as a percentage of the entry value (Decimal, two places)."""
        return percent(self.pnl, self.entry_price * self.quantity)


class Position:
    """One position's state. Read freely; change only through ``PositionStore.apply``."""

    __slots__ = (
        "closes",
        "entry_charges",
        "entry_charges_allocated",
        "entry_execution_id",
        "entry_flow_ids",
        "entry_node_id",
        "entry_price",
        "entry_time",
        "entry_trigger",
        "exit_charges",
        "exit_flow_ids",
        "exit_price",
        "exit_reason",
        "exit_time",
        "lot_size",
        "position_id",
        "position_num",
        "quantity_closed",
        "quantity_total",
        "re_entry_num",
        "realized_gross",
        "side",
        "sign",
        "symbol",
    )  # fmt: skip

    def __init__(self, fill: Fill, position_num: int):
        self.position_id = fill.position_id
        self.position_num = position_num
        self.re_entry_num = fill.re_entry_num
        self.entry_node_id = fill.entry_node_id
        self.symbol = fill.symbol
        self.side = fill.side
        self.sign = 1 if fill.side == "buy" else -1
        self.lot_size = fill.lot_size
        self.quantity_total = fill.quantity
        self.quantity_closed = 0
        self.entry_price = fill.price
        self.entry_time = fill.ts
        self.entry_execution_id = fill.execution_id
        self.entry_flow_ids = fill.flow_ids
        self.entry_trigger = fill.entry_trigger
        self.entry_charges = fill.charges.total
        self.entry_charges_allocated = 0
        self.exit_charges = 0
        self.realized_gross = 0
        self.exit_price = None  # of the latest close
        self.exit_time = None
        self.exit_reason = None
        self.exit_flow_ids = ()
        self.closes = 0

    @property
    def key(self) -> tuple[str, int]:
        return (self.position_id, self.re_entry_num)

    @property
    def quantity_remaining(self) -> int:
        return self.quantity_total - self.quantity_closed

    @property
    def is_open(self) -> bool:
        return self.quantity_closed < self.quantity_total

    @property
    def status(self) -> str:
        if self.quantity_closed == 0:
            return OPEN
        return CLOSED if self.quantity_closed == self.quantity_total else PARTIAL

    @property
    def charges(self) -> int:
        return self.entry_charges + self.exit_charges

    @property
    def realized_pnl(self) -> int:
        """Realized P&L net of every charge paid so far, in paise."""
        return self.realized_gross - self.entry_charges - self.exit_charges

    def unrealized_pnl(self, price: int) -> int:
        """Gross P&L of the open quantity at ``price`` (paise); 0 when there is no price yet."""
        if not price:
            return 0
        return self.sign * (price - self.entry_price) * (self.quantity_total - self.quantity_closed)


class PositionStore:
    """All positions of a session, their trades, and running totals (paise)."""

    def __init__(self):
        self.positions: dict[tuple[str, int], Position] = {}
        self.open: list[Position] = []  # in opening order
        self.trades: list[Trade] = []
        self.realized_gross = 0
        self.charges = 0
        self.wins = 0
        self.losses = 0
        self._numbers: dict[str, int] = {}  # entry node id -> the last position number it was given
        self._issued: dict[str, int] = {}  # position id -> its number

    def new_position_id(self, entry_node_id: str) -> str:
        """Return the next ``<entry-node-id>-pos<N>`` for a fresh (not re-entered) position; N counts
        from 1 per entry node and becomes the position's ``position_num``."""
        n = self._numbers.get(entry_node_id, 0) + 1
        self._numbers[entry_node_id] = n
        position_id = f"{entry_node_id}-pos{n}"
        self._issued[position_id] = n
        return position_id

    @property
    def realized_net(self) -> int:
        return self.realized_gross - self.charges

    def apply(self, fill: Fill) -> tuple[Position, Trade | None]:
        """Apply a fill: open a position or close (part of) one. Return the position and, for a close,
        the trade it produced."""
        self.charges += fill.charges.total
        if fill.opening:
            key = (fill.position_id, fill.re_entry_num)
            if key in self.positions:
                raise ValueError(f"position {key} already exists")
            if fill.position_id not in self._issued:
                raise ValueError(f"position id {fill.position_id!r} was not issued by new_position_id")
            if any(p.position_id == fill.position_id for p in self.open):
                # A re-entry opens after the position it re-enters closed, so a position id names at
                # most one open position (the stream's ticks key open positions by id alone).
                raise ValueError(f"position {fill.position_id} is still open; it cannot be re-entered")
            pos = Position(fill, self._issued[fill.position_id])
            self.positions[key] = pos
            self.open.append(pos)
            return pos, None

        pos = self.positions[(fill.position_id, fill.re_entry_num)]
        if fill.side == pos.side:
            raise ValueError(f"a closing fill must be opposite to the position's side ({pos.side})")
        qty = fill.quantity
        if not 0 < qty <= pos.quantity_remaining:
            raise ValueError(f"cannot close {qty} of {pos.quantity_remaining} open in {pos.key}")
        closes_all = qty == pos.quantity_remaining
        # Entry charges are shared out by closed quantity, the last close taking the remainder so
        # that the trades' charges add up to the position's to the paisa.
        if closes_all:
            entry_share = pos.entry_charges - pos.entry_charges_allocated
        else:
            entry_share = pos.entry_charges * qty // pos.quantity_total
        pos.entry_charges_allocated += entry_share
        gross = pos.sign * (fill.price - pos.entry_price) * qty
        pos.quantity_closed += qty
        pos.realized_gross += gross
        pos.exit_charges += fill.charges.total
        pos.exit_price = fill.price
        pos.exit_time = fill.ts
        pos.exit_reason = fill.exit_reason
        pos.exit_flow_ids = fill.flow_ids
        pos.closes += 1
        self.realized_gross += gross
        if closes_all:
            self.open.remove(pos)

        trade_id = pos.position_id if pos.re_entry_num == 0 else f"{pos.position_id}-re{pos.re_entry_num}"
        if pos.closes > 1 or not closes_all:
            trade_id = f"{trade_id}-x{pos.closes}"  # one position, several partial closes
        charges = entry_share + fill.charges.total
        trade = Trade(
            trade_id=trade_id,
            position_id=pos.position_id,
            position_num=pos.position_num,
            re_entry_num=pos.re_entry_num,
            entry_node_id=pos.entry_node_id,
            symbol=pos.symbol,
            side=pos.side,
            quantity=qty,
            entry_price=pos.entry_price,
            entry_time=pos.entry_time,
            exit_price=fill.price,
            exit_time=fill.ts,
            pnl=gross,
            charges=charges,
            net_pnl=gross - charges,
            status=CLOSED if closes_all else PARTIAL,
            entry_flow_ids=pos.entry_flow_ids,
            exit_flow_ids=fill.flow_ids,
            entry_trigger=pos.entry_trigger,
            exit_reason=fill.exit_reason or "",
            entry_execution_id=pos.entry_execution_id,
            exit_execution_id=fill.execution_id,
        )
        self.trades.append(trade)
        if trade.net_pnl > 0:
            self.wins += 1
        else:
            self.losses += 1
        return pos, trade
