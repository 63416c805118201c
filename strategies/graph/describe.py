"""A strategy in words: plain English generated from a parsed graph, for a trader to read beside its drawing.

``describe(graph)`` takes a ``StrategyGraph`` (``parse.parse_graph``) and returns one sentence per line:
the controller's window and limits first, then each leg (entry node, in graph order) with what starts
it, its stops and its re-entries, then each exit signal with what it closes, then the square-off nodes.
Times are exchange time (IST) as the graph gives them; money is rupees with Indian digit grouping
("Rs 6,000", "Rs 1,500.50"), or on an underlying quoted in another currency or to other places its
currency code with its places ("USD 30", "USD 1.07250"). Plain Python: no Django.
"""

from __future__ import annotations

from decimal import Decimal

from live_trading.engine.money import indian_group
from live_trading.marketdata import instruments
from strategies.graph import schema
from strategies.graph.model import Condition, ConditionGroup, Operand, Risk, StrategyGraph, StrikeRule

EXPIRIES = {
    "current_weekly": "the current weekly",
    "next_weekly": "the next weekly",
    "current_monthly": "the current monthly",
    "next_monthly": "the next monthly",
}
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
REASONS = {
    "stop_loss": "a stop",
    "target": "a target",
    "trailing_stop": "a trailing stop",
    "exit_condition_met": "an exit signal",
}
COMPARE = {
    ">": "is above",
    ">=": "is at least",
    "<": "is below",
    "<=": "is at most",
    "==": "is",
    "!=": "is not",
    "crosses_above": "crosses above",
    "crosses_below": "crosses below",
}
# A time reads better as "09:30 or later" than "at or above 09:30".
COMPARE_TIME = {
    ">": "is after {}",
    ">=": "is {} or later",
    "<": "is before {}",
    "<=": "is {} or earlier",
    "==": "is {}",
    "!=": "is not {}",
}
INDICATOR_NAMES = {"sma": "SMA", "ema": "EMA", "atr": "ATR", "rsi": "RSI", "vwap": "VWAP", "bb": "Bollinger",
                   "supertrend": "Supertrend"}


def describe(graph: StrategyGraph) -> list[str]:
    """Return ``graph`` in plain English, one sentence per line (see the module's docstring for the order)."""
    words = _Words(graph)
    lines = [words.controller()]
    lines += [words.leg(node) for node in graph.nodes if node.type == "entry"]
    lines += [words.exit_signal(node) for node in graph.nodes if node.type == "exit_signal"]
    lines += [words.square_off(node) for node in graph.nodes
              if node.type == "square_off" and graph.start.id in graph.parents[node.id]]
    return lines


# -- values ----------------------------------------------------------------------------------------


def rupees(paise: int) -> str:
    """``600000`` -> ``"Rs 6,000"``; paise shown only when there are some (``"Rs 1,500.50"``)."""
    sign = "-" if paise < 0 else ""
    whole, part = divmod(abs(paise), 100)
    return f"{sign}Rs {indian_group(str(whole))}" + (f".{part:02d}" if part else "")


def money(minor: int, places: int = 2, currency: str = "INR") -> str:
    """An amount in minor units of ``currency`` (``places`` decimals): rupees as ``rupees`` writes them,
    others as ``"USD 1,030"``, ``"USD 1.07250"`` (the places shown only when the amount has a fraction)."""
    if (places, currency) == (2, "INR"):
        return rupees(minor)
    sign = "-" if minor < 0 else ""
    whole, part = divmod(abs(minor), 10**places)
    return f"{sign}{currency} {whole:,}" + (f".{part:0{places}d}" if part else "")


def clock(seconds: int) -> str:
    """Seconds after midnight as ``HH:MM``, or ``HH:MM:SS`` when the seconds are not zero."""
    hh, mm, ss = seconds // 3600, seconds // 60 % 60, seconds % 60
    return f"{hh:02d}:{mm:02d}" + (f":{ss:02d}" if ss else "")


def number(value) -> str:
    """A number without a trailing ``.0`` (``35.0`` -> ``"35"``, ``Decimal("2.5")`` -> ``"2.5"``)."""
    d = Decimal(str(value)).normalize()
    return f"{d:f}"


def lots(n: int) -> str:
    return f"{n} lot" if n == 1 else f"{n} lots"


def listing(items: list[str], last: str = "and") -> str:
    """``["a", "b", "c"]`` -> ``"a, b and c"``."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {last} {items[-1]}"


def contract(rule: StrikeRule, right: str, expiry: str, amount=rupees) -> str:
    """``ATM CE of the current weekly``; strikes ``ATM+2`` / ``ATM-1`` (strike steps), ``OTM2``, ``ITM1``, or
    ``CE nearest Rs 100 premium of ...`` (the premium written by ``amount``)."""
    if rule.rule == "premium":
        return f"{right} nearest {amount(rule.premium)} premium of {EXPIRIES[expiry]}"
    if rule.rule == "atm":
        name = "ATM" if rule.offset == 0 else f"ATM{rule.offset:+d}"
    else:
        name = f"{rule.rule.upper()}{rule.offset}"
    return f"{name} {right} of {EXPIRIES[expiry]}"


# -- the graph -------------------------------------------------------------------------------------


class _Words:
    def __init__(self, graph: StrategyGraph):
        self.graph = graph
        self.underlying = graph.underlying
        info = instruments.get_underlying(graph.underlying)
        self.places, self.currency = info.price_decimals, info.currency

    def amount(self, minor: int) -> str:
        return money(minor, self.places, self.currency)

    def name(self, node_id: str) -> str:
        return self.graph.by_id[node_id].name

    # the controller

    def controller(self) -> str:
        c = self.graph.start.config
        if c.holding == "positional":
            return self.positional(c)
        parts = [f"{self.underlying}, from {clock(c.start_time)}"]
        if c.no_new_entries_after != c.square_off_time:
            parts.append(f"no new entries after {clock(c.no_new_entries_after)}")
        parts.append("square off " + listing([clock(c.square_off_time), *self.limits(c)], "or"))
        return "; ".join(parts) + "."

    def positional(self, c) -> str:
        """A positional controller: held across days until its ``positional_square_off`` rule."""
        rule = c.positional_square_off
        parts = [f"{self.underlying}, positional, from {clock(c.start_time)} on the first day"]
        if rule.rule == "at_expiry":
            parts.append("held to expiry, options settling there")
            timed = []
        else:
            time = c.square_off_time if rule.rule == "end_of_range" else rule.time
            day = "the last day" if rule.rule == "end_of_range" or rule.day == "last" else rule.day.isoformat()
            if c.no_new_entries_after < time:
                parts.append(f"no new entries after {clock(c.no_new_entries_after)} on {day}")
            timed = [f"{clock(time)} on {day}"]
        limits = self.limits(c)
        if timed or limits:
            parts.append("square off " + listing([*timed, *limits], "or"))
        return "; ".join(parts) + "."

    def limits(self, c) -> list[str]:
        out = []
        if c.max_loss is not None:
            out.append(f"at a loss of {self.amount(c.max_loss)}")
        if c.max_profit is not None:
            out.append(f"at a profit of {self.amount(c.max_profit)}")
        return out

    # legs

    def leg(self, node) -> str:
        c = node.config
        return f"{self.trigger(node)}: " + "; ".join([self.order(c), *self.risks(c), *self.re_entries(node)]) + "."

    def trigger(self, node) -> str:
        """What starts an entry: its signals' conditions, the controller's start, or only a re-entry."""
        parents = [self.graph.by_id[p] for p in self.graph.parents[node.id]]
        said = []
        for p in parents:
            if p.type == "entry_signal":
                said.append(self.when(p.config.conditions))
            elif p.type == "start":
                said.append(f"At {clock(self.graph.start.config.start_time)}")
        if not said:
            return "On a re-entry only"
        return listing(said, "or") if len(said) > 1 else said[0]

    def order(self, c) -> str:
        if c.instrument == "underlying":
            return f"{c.side} {lots(c.lots)} of {self.underlying} (as futures)"
        return f"{c.side} {lots(c.lots)} {contract(c.strike, c.right, c.expiry, self.amount)}"

    def risks(self, c) -> list[str]:
        of = "premium" if c.instrument == "option" else "price"
        out = []
        for label, risk in (("stop", c.stop_loss), ("target", c.target), ("trailing stop", c.trailing_stop)):
            if risk is not None:
                out.append(f"{label} {self.distance(risk, of)}")
        return out

    @staticmethod
    def distance(risk: Risk, of: str) -> str:
        if risk.type == "percent":
            return f"{number(risk.value)}% of {of}"
        return f"{number(risk.value)} points"

    def re_entries(self, node) -> list[str]:
        out = []
        for child_id in self.graph.children[node.id]:
            child = self.graph.by_id[child_id]
            if child.type != "re_entry":
                continue
            c = child.config
            reasons = ("any exit" if c.on == frozenset(schema.RE_ENTRY_REASONS)
                       else listing([REASONS[r] for r in schema.RE_ENTRY_REASONS if r in c.on], "or"))
            times = "once" if c.max_re_entries == 1 else f"up to {c.max_re_entries} times"
            targets = [self.graph.by_id[t] for t in self.graph.children[child.id]]
            if all(t.id == node.id for t in targets):
                text = f"re-enter {times} after {reasons}"
            else:
                again = listing([("this leg" if t.id == node.id else f"'{t.name}'") for t in targets])
                text = f"after {reasons}, watch {again} again, {times}"
            if c.wait_seconds:
                text += f", {self.wait(c.wait_seconds)} later"
            out.append(text)
        return out

    @staticmethod
    def wait(seconds: int) -> str:
        minutes, rest = divmod(seconds, 60)
        if rest == 0:
            return "a minute" if minutes == 1 else f"{minutes} minutes"
        return f"{seconds} seconds"

    # exits

    def exit_signal(self, node) -> str:
        after = listing([self.name(p) for p in self.graph.parents[node.id]])
        actions = [self.exit_action(self.graph.by_id[c]) for c in self.graph.children[node.id]]
        return f"{self.when(node.config.conditions)} (after {after}): {'; '.join(actions)}."

    def exit_action(self, node) -> str:
        if node.type == "square_off":
            return "square off everything"
        c = node.config
        which = "every open position" if c.entries is None else listing([self.name(e) for e in c.entries])
        if c.quantity_type == "all":
            return f"close {which}"
        if c.quantity_type == "percent":
            return f"close {number(c.quantity_value)}% of {which}"
        return f"close {lots(int(c.quantity_value))} of {which}"

    def square_off(self, node) -> str:
        c = node.config
        if c.time is None and c.max_loss is None and c.max_profit is None:
            return "Square off everything at once."
        at = [f"at {clock(c.time)}"] if c.time is not None else []
        return "Square off everything " + listing([*at, *self.limits(c)], "or") + "."

    # conditions

    def when(self, group: ConditionGroup) -> str:
        """``At 09:20`` for a lone "time >= 09:20"; otherwise ``When <the group in words>``."""
        items = group.items
        if len(items) == 1 and isinstance(items[0], Condition):
            c = items[0]
            if c.left.type == "time_of_day" and c.operator == ">=" and c.right.type == "value":
                return f"At {clock(c.right.value)}"
        return f"When {self.group(group, top=True)}"

    def group(self, group: ConditionGroup, top: bool = False) -> str:
        parts = [self.group(i) if isinstance(i, ConditionGroup) else self.condition(i) for i in group.items]
        text = listing(parts, "and" if group.mode == "all" else "or")
        return text if top or len(parts) == 1 else f"({text})"

    def condition(self, c: Condition) -> str:
        left = self.operand(c.left)
        if c.operator in schema.RANGES:
            low, high = self.operand(c.low), self.operand(c.high)
            if c.left.kind == schema.KIND_DAY:
                return f"{left} is {'' if c.operator == 'within_range' else 'not '}{low} to {high}"
            if c.operator == "within_range":
                return f"{left} is between {low} and {high}"
            return f"{left} is outside {low} to {high}"
        right = self.operand(c.right)
        if c.left.kind == schema.KIND_TIME and c.operator in COMPARE_TIME:
            return f"{left} {COMPARE_TIME[c.operator].format(right)}"
        return f"{left} {COMPARE[c.operator]} {right}"

    def operand(self, o: Operand) -> str:
        t = o.type
        if t == "value":
            return self.constant(o)
        if t == "underlying_ltp":
            return self.underlying
        if t == "option_ltp":
            return f"the {contract(o.strike, o.right, o.expiry, self.amount)}"
        if t == "candle":
            if o.at is not None:
                return f"the {o.timeframe} candle's {o.field} at {clock(o.at)}"
            if o.offset == 0:
                return f"the last {o.timeframe} candle's {o.field}"
            back = "1 candle" if o.offset == 1 else f"{o.offset} candles"
            return f"the {o.timeframe} {o.field} {back} back"
        if t == "indicator":
            return self.indicator(o)
        if t == "time_of_day":
            return "the time"
        if t == "day_of_week":
            return "the day"
        if t == "position_pnl":
            whose = "the open positions" if not o.entries else listing([self.name(e) for e in o.entries])
            return f"the P&L of {whose}" + (" in % of entry value" if o.unit == "percent" else "")
        return "the strategy's P&L"  # strategy_pnl

    @staticmethod
    def indicator(o: Operand) -> str:
        params = dict(o.params)
        args = [number(params[k]) for k in ("period", "stddev", "multiplier") if k in params]
        name = INDICATOR_NAMES[o.name] + (f"({', '.join(args)})" if args else "")
        if o.name == "bb":
            name = f"the {o.output} {name} band"
        elif o.name == "supertrend" and o.output == "direction":
            name = f"the {name} direction"
        return f"{name} on {o.timeframe}"

    def constant(self, o: Operand) -> str:
        if o.kind in (schema.KIND_PRICE, schema.KIND_MONEY):
            return self.amount(o.value)
        if o.kind == schema.KIND_TIME:
            return clock(o.value)
        if o.kind == schema.KIND_DAY:
            return WEEKDAY_NAMES[o.value]
        if o.kind == schema.KIND_PERCENT:
            return f"{number(o.value)}%"
        return number(o.value)
