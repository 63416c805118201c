"""Strategy graph format version 1 as typed, immutable Python objects, and the scalar readers the
validator and the parser share.

Constants are read into the units the engine computes in: prices and money in integers of the underlying's
minor unit (``Precision``: paise on the NSE, 10^-5 dollars for EURUSD), times in seconds after midnight
(exchange time), weekdays as 0 (Monday) to 6. ``parse.parse_graph`` builds these
objects from a graph ``validate`` passed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from strategies.graph import schema


class InvalidGraph(ValueError):
    """A graph failed validation; ``errors`` lists every problem found, each naming its path."""

    def __init__(self, errors):
        self.errors = tuple(errors)
        super().__init__("; ".join(str(e) for e in self.errors))


@dataclass(frozen=True, slots=True)
class GraphError:
    """One validation problem: ``path`` like ``nodes[3].config.strike.offset`` and a message."""

    path: str
    message: str

    def __str__(self):
        return f"{self.path}: {self.message}" if self.path else self.message


# ---------------------------------------------------------------------------------------------
# Scalars. Each parser raises ValueError with a message fit to follow the path in an error.


def is_int(v) -> bool:
    """Tell whether ``v`` is an int and not a bool (JSON true would otherwise pass as 1)."""
    return isinstance(v, int) and not isinstance(v, bool)


def is_number(v) -> bool:
    """Tell whether ``v`` is a JSON number (int or float, not bool)."""
    return isinstance(v, int | float) and not isinstance(v, bool)


def parse_time(v) -> int:
    """Read ``"HH:MM"`` or ``"HH:MM:SS"`` as seconds after midnight."""
    if not isinstance(v, str):
        raise ValueError('must be a time "HH:MM" or "HH:MM:SS"')
    parts = v.split(":")
    if len(parts) not in (2, 3) or not all(len(p) == 2 and p.isdigit() for p in parts):
        raise ValueError('must be a time "HH:MM" or "HH:MM:SS"')
    h, m = int(parts[0]), int(parts[1])
    s = int(parts[2]) if len(parts) == 3 else 0
    if h > 23 or m > 59 or s > 59:
        raise ValueError(f"{v!r} is not a time of day")
    return h * 3600 + m * 60 + s


def format_time(seconds: int) -> str:
    """Write seconds after midnight as ``HH:MM:SS``."""
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


# Far above any price, amount or count in a strategy (10^15 rupees), far below what strains Decimal or int.
MAX_DIGITS_BEFORE_POINT = 15


def parse_decimal(v) -> Decimal:
    """Read a JSON number or numeric string as an exact Decimal (floats via their shortest repr); ValueError
    for anything else, for infinities and NaN, and for numbers of 10^15 or more in size."""
    if isinstance(v, bool) or not isinstance(v, int | float | str):
        raise ValueError("must be a number")
    try:
        d = Decimal(str(v).strip())
    except InvalidOperation:
        raise ValueError("must be a number") from None
    if not d.is_finite():
        raise ValueError("must be a finite number")
    if d and d.adjusted() >= MAX_DIGITS_BEFORE_POINT:
        # "1e9999999" is short text but overflows the decimal context (or takes minutes) when scaled to paise.
        raise ValueError(f"must be a number with at most {MAX_DIGITS_BEFORE_POINT} digits before the decimal point")
    return d


@dataclass(frozen=True, slots=True)
class Precision:
    """How money and price constants of a strategy are written: with at most ``places`` decimals of the
    underlying's currency (its ``price_decimals``: two for the NSE's rupees, five for EURUSD), read as
    integers of its minor unit, the unit the engine computes in. ``underlying`` names it in errors."""

    places: int = 2
    underlying: str | None = None

    def minor(self, v) -> int:
        """Read an amount or price (number or string) as an integer of the minor unit; ValueError when it
        has more decimals than the instrument's."""
        d = parse_decimal(v)
        self.check_places(d)
        return int(d.scaleb(self.places))

    def check_places(self, d: Decimal) -> None:
        """Refuse a Decimal with more decimals than the instrument's prices have."""
        # quantize, not scaling: a tiny "1e-999999999" would underflow to 0 and pass as a whole minor unit.
        if d != d.quantize(Decimal(1).scaleb(-self.places)):
            raise ValueError(self.too_many_places())

    def too_many_places(self) -> str:
        if self.places == 2:
            return "must have at most two decimal places"
        of = f" for {self.underlying}" if self.underlying else ""
        return f"must have at most {self.places} decimal places{of}"


# The NSE's: rupees and paise. A graph whose underlying is unknown is read so too (the validator reports it).
RUPEES = Precision()


def precision_of(underlying) -> Precision:
    """The precision of a strategy's constants on ``underlying`` (its ``price_decimals``)."""
    places = schema.price_decimals(underlying)
    return RUPEES if places == 2 else Precision(places, underlying)


# ---------------------------------------------------------------------------------------------
# The typed graph.


@dataclass(frozen=True, slots=True)
class StrikeRule:
    """How an option strike is chosen: ``atm`` with a signed offset in strike steps, ``itm``/``otm``
    n steps away from the money, or ``premium``: the strike whose LTP is closest to a premium."""

    rule: str
    offset: int = 0
    premium: int | None = None  # minor units (paise), for rule "premium"


@dataclass(frozen=True, slots=True)
class Operand:
    """One side of a condition. ``kind`` is the resolved kind of value (schema.KIND_*); for a
    constant (``type == "value"``) ``value`` is already in the engine's unit for that kind."""

    type: str
    kind: str
    value: object = None
    timeframe: str | None = None
    field: str | None = None
    offset: int = 0
    at: int | None = None
    name: str | None = None
    params: tuple = ()
    output: str | None = None
    expiry: str | None = None
    strike: StrikeRule | None = None
    right: str | None = None
    entries: tuple = ()
    unit: str = "rupees"


@dataclass(frozen=True, slots=True)
class Condition:
    """``left operator right``, or for range operators ``left within/outside [low, high]``."""

    left: Operand
    operator: str
    right: Operand | None = None
    low: Operand | None = None
    high: Operand | None = None


@dataclass(frozen=True, slots=True)
class ConditionGroup:
    """``mode`` is ``all`` (AND) or ``any`` (OR) over conditions and nested groups."""

    mode: str
    items: tuple


@dataclass(frozen=True, slots=True)
class Risk:
    """A stop loss, target or trailing distance: ``points`` (price in the underlying's currency, at most
    ``places`` decimals) or ``percent`` of the entry price."""

    type: str
    value: Decimal
    places: int = 2

    def distance(self, entry_price: int) -> Decimal:
        """Return the distance in minor units (exact, maybe fractional) from an entry price in minor units."""
        if self.type == "points":
            return self.value.scaleb(self.places)
        return Decimal(entry_price) * self.value / 100


@dataclass(frozen=True, slots=True)
class StartConfig:
    underlying: str
    start_time: int
    no_new_entries_after: int
    square_off_time: int
    max_loss: int | None = None  # minor units (paise)
    max_profit: int | None = None
    holding: str = "intraday"  # or "positional": held across the days of a session
    positional_square_off: PositionalSquareOff | None = None  # positional only


@dataclass(frozen=True, slots=True)
class PositionalSquareOff:
    """When a positional strategy squares off: ``rule`` ``at_expiry``, ``end_of_range`` or ``day``; for
    ``day``, ``day`` is ``"last"`` (the range's last day) or a date, and ``time`` seconds after
    midnight (exchange time). Parsed from the start node's ``positional_square_off``."""

    rule: str
    day: date | str | None = None
    time: int | None = None


@dataclass(frozen=True, slots=True)
class SignalConfig:
    conditions: ConditionGroup


@dataclass(frozen=True, slots=True)
class EntryConfig:
    instrument: str
    side: str
    lots: int
    expiry: str | None = None
    strike: StrikeRule | None = None
    right: str | None = None
    stop_loss: Risk | None = None
    target: Risk | None = None
    trailing_stop: Risk | None = None


@dataclass(frozen=True, slots=True)
class ExitConfig:
    entries: tuple | None  # None: every open position
    quantity_type: str = "all"
    quantity_value: Decimal | None = None


@dataclass(frozen=True, slots=True)
class SquareOffConfig:
    time: int | None = None
    max_loss: int | None = None
    max_profit: int | None = None


@dataclass(frozen=True, slots=True)
class ReEntryConfig:
    max_re_entries: int
    on: frozenset = frozenset(schema.RE_ENTRY_REASONS)
    wait_seconds: int = 0


@dataclass(frozen=True, slots=True)
class Node:
    id: str
    type: str
    name: str
    config: object
    index: int

    @property
    def label(self) -> str:
        """The class-like type name node events carry (``EntryNode``)."""
        return schema.NODE_TYPE_LABELS[self.type]


@dataclass(frozen=True, slots=True)
class Edge:
    source: str
    target: str


@dataclass(frozen=True, slots=True)
class StrategyGraph:
    """A validated strategy. ``children``/``parents`` map node ids to node ids in edge order."""

    name: str
    description: str
    nodes: tuple
    edges: tuple
    by_id: Mapping = field(repr=False, compare=False)
    children: Mapping = field(repr=False, compare=False)
    parents: Mapping = field(repr=False, compare=False)

    @property
    def start(self) -> Node:
        return next(n for n in self.nodes if n.type == "start")

    @property
    def underlying(self) -> str:
        return self.start.config.underlying


def operand_kind(o) -> str | None:
    """Return the kind of value an operand's JSON form yields, None for a constant."""
    t = o.get("type")
    if t == "value":
        return None
    if t == "indicator":
        spec = schema.INDICATORS[o["name"]]
        return spec.get("output_kinds", {}).get(o.get("output"), spec["kind"])
    if t == "position_pnl" and o.get("unit") == "percent":
        return schema.KIND_PERCENT
    return schema.OPERANDS[t][1]


def parse_constant(v, kind: str, precision: Precision = RUPEES):
    """Read a constant in the unit of ``kind``: minor units of ``precision`` for price/money, seconds for
    time, 0-6 for day."""
    if kind in (schema.KIND_PRICE, schema.KIND_MONEY):
        return precision.minor(v)
    if kind == schema.KIND_TIME:
        return parse_time(v)
    if kind == schema.KIND_DAY:
        if not isinstance(v, str) or v.lower()[:3] not in schema.WEEKDAYS:
            raise ValueError(f"must be a weekday: {', '.join(schema.WEEKDAYS)}")
        return schema.WEEKDAYS.index(v.lower()[:3])
    return float(parse_decimal(v))
