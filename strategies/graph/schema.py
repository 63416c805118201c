"""The vocabulary of strategy graph format version 1: node types, fields, operands and operators.

Everything the validator checks against and the engine dispatches on is named here once, so the
documentation (docs/strategies.md), the validator and the engine cannot drift apart silently.
"""

import re
from dataclasses import dataclass

from live_trading.marketdata import calendar, candles, instruments

FORMAT_VERSION = 1

# The start node's ``holding``: intraday squares off every day; positional holds across the days of
# a session until its ``positional_square_off`` rule (docs/strategies.md, "Positional strategies").
HOLDINGS = ("intraday", "positional")
POSITIONAL_SQUARE_OFF_RULES = ("at_expiry", "end_of_range")
POSITIONAL_SQUARE_OFF_KEYS = frozenset({"day", "time"})

# The exchange session (seconds after midnight, exchange time) and the candle timeframes are market
# facts; the vocabulary names them, market data defines them.
MARKET_OPEN = calendar.OPEN_SECOND
MARKET_CLOSE = calendar.LAST_SECOND
TIMEFRAMES = candles.TIMEFRAMES
DAY_SECONDS = candles.TIMEFRAMES["1d"]

# Node types as written in the JSON, and the class-like names the seeds show in node events.
NODE_TYPES = ("start", "entry_signal", "entry", "exit_signal", "exit", "square_off", "re_entry")
NODE_TYPE_LABELS = {
    "start": "StartNode",
    "entry_signal": "EntrySignalNode",
    "entry": "EntryNode",
    "exit_signal": "ExitSignalNode",
    "exit": "ExitNode",
    "square_off": "SquareOffNode",
    "re_entry": "ReEntryNode",
}

# Which node types may follow which. Re-entry is the only way back up the graph (a cycle through it
# is how a strategy enters again); every other edge points downstream.
ALLOWED_CHILDREN = {
    "start": frozenset({"entry_signal", "entry", "square_off"}),
    "entry_signal": frozenset({"entry"}),
    "entry": frozenset({"exit_signal", "re_entry"}),
    "exit_signal": frozenset({"exit", "square_off"}),
    "exit": frozenset(),
    "square_off": frozenset(),
    "re_entry": frozenset({"entry", "entry_signal"}),
}

NODE_KEYS = frozenset({"id", "type", "name", "config", "position"})
EDGE_KEYS = frozenset({"from", "to"})
GRAPH_KEYS = frozenset({"format_version", "name", "description", "nodes", "edges"})
NODE_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")

# Fields each node type's config accepts (required ones are checked by the validator).
CONFIG_KEYS = {
    "start": frozenset({"underlying", "start_time", "no_new_entries_after", "square_off_time", "max_loss", "max_profit",
                        "holding", "positional_square_off"}),
    "entry_signal": frozenset({"conditions"}),
    "exit_signal": frozenset({"conditions"}),
    "entry": frozenset(
        {"instrument", "expiry", "strike", "right", "side", "lots", "stop_loss", "target", "trailing_stop"}
    ),
    "exit": frozenset({"positions", "quantity"}),
    "square_off": frozenset({"time", "max_loss", "max_profit"}),
    "re_entry": frozenset({"max_re_entries", "on", "wait_seconds"}),
}




def underlyings() -> tuple[str, ...]:
    """Underlyings a strategy may trade: every one the market-data layer knows (option entries only on
    those with listed options, ``has_options``)."""
    return tuple(instruments.underlying_names())


@dataclass(frozen=True)
class Session:
    """The clock times a strategy on an underlying may name: ``first``..``last`` (seconds after midnight,
    the market's time zone), candles cut from ``grid_origin``, trading on ``weekdays`` (0 = Monday)."""

    first: int
    last: int
    grid_origin: int
    weekdays: frozenset[int]
    label: str
    origin_label: str


def has_options(underlying: str) -> bool:
    """Whether `underlying` has listed options (the data file's expiry rules)."""
    return instruments.get_underlying(underlying).has_options


def price_decimals(underlying) -> int:
    """The decimals of `underlying`'s prices and money (its data's ``price_decimals``); two, the NSE's, for
    an unknown one (reported elsewhere)."""
    try:
        return instruments.get_underlying(underlying).price_decimals
    except (instruments.InstrumentError, TypeError):
        return 2


NSE_SESSION = Session(MARKET_OPEN, MARKET_CLOSE, MARKET_OPEN, frozenset(range(5)), "09:15:00-15:29:59", "09:15")


def session_of(underlying) -> Session:
    """The session of `underlying`'s calendar (the NSE's for an unknown one, reported elsewhere). A market
    open around the clock (a data calendar) accepts any time of day: its trading day runs from its first
    window's open, which may be the evening before."""
    try:
        cal = calendar.calendar_of(underlying)
    except (instruments.InstrumentError, TypeError):
        return NSE_SESSION
    if cal is calendar.NSE:
        return NSE_SESSION
    origin = cal.spec.windows[0][0] % 86_400
    return Session(0, 86_399, origin, cal.spec.weekdays, f"00:00:00-23:59:59 ({cal.spec.time_zone})",
                   f"{origin // 3600:02d}:{origin % 3600 // 60:02d}")

EXPIRY_RULES = ("current_weekly", "next_weekly", "current_monthly", "next_monthly")
STRIKE_RULES = ("atm", "itm", "otm", "premium")
MAX_STRIKE_OFFSET = 20
RIGHTS = ("CE", "PE")
SIDES = ("buy", "sell")
INSTRUMENTS = ("option", "underlying")
RISK_TYPES = ("points", "percent")
EXIT_QUANTITY_TYPES = ("all", "percent", "lots")
MAX_LOTS = 100
MAX_RE_ENTRIES = 10
MAX_WAIT_SECONDS = 3600
RE_ENTRY_REASONS = ("stop_loss", "target", "trailing_stop", "exit_condition_met")

# Exit reasons a trade can carry.
EXIT_REASONS = (
    "stop_loss",
    "target",
    "trailing_stop",
    "exit_condition_met",
    "square_off",
    "max_loss",
    "max_profit",
    "session_end",
    "settled",  # an option settled at expiry in the money (positional sessions)
    "expired",  # an option that expired worthless, at zero
)

# Conditions
GROUP_KEYS = ("all", "any")
COMPARISONS = (">", ">=", "<", "<=", "==", "!=")
CROSSES = ("crosses_above", "crosses_below")
RANGES = ("within_range", "outside_range")
OPERATORS = COMPARISONS + CROSSES + RANGES
MAX_CONDITION_DEPTH = 5

# The kind of value an operand yields decides what it may be compared with and how a constant
# ("value") on the other side is read: price and money constants are rupees, time is "HH:MM[:SS]",
# day is a weekday name, number is a plain number.
KIND_PRICE = "price"
KIND_MONEY = "money"
KIND_NUMBER = "number"
KIND_PERCENT = "percent"
KIND_TIME = "time"
KIND_DAY = "day"

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# Operand type -> (allowed keys, kind). Indicator kinds come from INDICATORS.
OPERANDS = {
    "value": (frozenset({"type", "value"}), None),
    "underlying_ltp": (frozenset({"type"}), KIND_PRICE),
    "option_ltp": (frozenset({"type", "expiry", "strike", "right"}), KIND_PRICE),
    "candle": (frozenset({"type", "timeframe", "field", "offset", "at"}), KIND_PRICE),
    "indicator": (frozenset({"type", "name", "timeframe", "params", "output"}), None),
    "time_of_day": (frozenset({"type"}), KIND_TIME),
    "day_of_week": (frozenset({"type"}), KIND_DAY),
    "position_pnl": (frozenset({"type", "entries", "unit"}), KIND_MONEY),
    "strategy_pnl": (frozenset({"type"}), KIND_MONEY),
}
CANDLE_FIELDS = ("open", "high", "low", "close")
MAX_CANDLE_OFFSET = 50
PNL_UNITS = ("rupees", "percent")

# Indicators on the underlying's completed candles (the market-data layer's, talipp's math).
# params: name -> (min, max, integer?), in the order the market-data layer takes them positionally.
# kind: what the value compares with; outputs: named values of multi-valued indicators (the first is
# the default), output_kinds: outputs whose kind differs from ``kind``.
INDICATORS = {
    "sma": {"params": {"period": (1, 500, True)}, "kind": KIND_PRICE, "outputs": ()},
    "ema": {"params": {"period": (1, 500, True)}, "kind": KIND_PRICE, "outputs": ()},
    "rsi": {"params": {"period": (2, 500, True)}, "kind": KIND_NUMBER, "outputs": ()},
    "atr": {"params": {"period": (1, 500, True)}, "kind": KIND_PRICE, "outputs": ()},
    "vwap": {"params": {}, "kind": KIND_PRICE, "outputs": ()},
    "bb": {
        "params": {"period": (2, 500, True), "stddev": (0.1, 10, False)},
        "kind": KIND_PRICE,
        "outputs": ("upper", "middle", "lower"),
        "output_required": True,
    },
    "supertrend": {
        "params": {"period": (1, 500, True), "multiplier": (0.1, 20, False)},
        "kind": KIND_PRICE,
        "outputs": ("value", "direction"),
        "output_kinds": {"direction": KIND_NUMBER},
    },
}

# Which kinds may stand on the two sides of a comparison (a "value" constant takes the other side's kind).
COMPATIBLE_KINDS = {
    KIND_PRICE: {KIND_PRICE},
    KIND_MONEY: {KIND_MONEY},
    KIND_NUMBER: {KIND_NUMBER},
    KIND_PERCENT: {KIND_PERCENT},
    KIND_TIME: {KIND_TIME},
    KIND_DAY: {KIND_DAY},
}
