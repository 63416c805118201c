"""Condition groups compiled to closures, once, when a strategy is loaded.

A signal node's conditions become one zero-argument function that returns a bool, built from small
closures over the market state (``MarketState``) so that evaluating an active node on a tick costs a
handful of list lookups and comparisons: no dict building, no parsing, no dispatch on strings.

Values are compared in the engine's units: prices and P&L in integer paise, time of day in seconds,
weekdays 0-6, indicator values as floats. An operand with no value yet (a candle not yet complete,
an indicator warming up, an option without a trade) makes its condition false.

``crosses_above``: on the previous evaluation left <= right and now left > right (``crosses_below``
mirrors it). Crossing conditions keep the previous values, so they are evaluated on every tick the
node is active even where a group could short-circuit, and their memory is cleared when the node is
activated again.
"""

from __future__ import annotations

import operator

from strategies.graph import schema
from strategies.graph.model import Condition, ConditionGroup, Operand, format_time

_COMPARE = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le, "==": operator.eq, "!=": operator.ne}


class Compiled:
    """A compiled condition tree: ``evaluate()`` for the hot loop, ``describe()`` for node events."""

    __slots__ = ("_describe", "_resets", "evaluate", "stateful")

    def __init__(self, evaluate, describe, resets, stateful):
        self.evaluate = evaluate
        self._describe = describe
        self._resets = resets
        self.stateful = stateful

    def reset(self) -> None:
        """Forget crossing memory (on node activation)."""
        for r in self._resets:
            r()

    def describe(self) -> list:
        """Return each leaf condition with its current values, threshold and result (JSON-ready).
        Call it on the tick the signal fired, after ``evaluate``."""
        out = []
        self._describe(out)
        return out


def compile_group(group: ConditionGroup, market, book) -> Compiled:
    """Compile a condition group against ``market`` (a MarketState) and ``book`` (positions' P&L)."""
    parts = [
        compile_group(x, market, book) if isinstance(x, ConditionGroup) else compile_condition(x, market, book)
        for x in group.items
    ]
    stateful = [p.evaluate for p in parts if p.stateful]
    plain = [p.evaluate for p in parts if not p.stateful]
    resets = [r for p in parts for r in p._resets]
    is_all = group.mode == "all"

    if not stateful:
        if len(plain) == 1:
            ev = plain[0]
        elif len(plain) == 2:
            a, b = plain
            ev = (lambda: a() and b()) if is_all else (lambda: a() or b())
        elif is_all:
            def ev():
                return all(f() for f in plain)
        else:
            def ev():
                return any(f() for f in plain)
    else:
        # Stateful children must all see this tick, so they run first and without short-circuit.
        def ev():
            results = [f() for f in stateful]
            if is_all:
                return all(results) and all(f() for f in plain)
            return any(results) or any(f() for f in plain)

    def describe(out):
        for p in parts:
            p._describe(out)

    return Compiled(ev, describe, resets, bool(stateful))


def compile_condition(c: Condition, market, book) -> Compiled:
    """Compile one leaf condition."""
    left = operand_getter(c.left, market, book)
    label = condition_label(c)
    if c.operator in schema.RANGES:
        low, high = operand_getter(c.low, market, book), operand_getter(c.high, market, book)
        inside = c.operator == "within_range"

        def ev():
            v = left()
            if v is None:
                return False
            lo, hi = low(), high()
            if lo is None or hi is None:
                return False
            return (lo <= v <= hi) == inside

        def describe(out):
            out.append({
                "condition_type": label, "operator": c.operator, "result": ev(),
                "current_value": display(left(), c.left.kind),
                "threshold": [display(low(), c.low.kind), display(high(), c.high.kind)],
            })

        return Compiled(ev, describe, [], False)

    right = operand_getter(c.right, market, book)
    if c.operator in schema.CROSSES:
        above = c.operator == "crosses_above"
        mem = [None, None, None, None]  # previous left, previous right, current left, current right

        def ev():
            lv, rv = left(), right()
            pl, pr = mem[2], mem[3]
            mem[0], mem[1], mem[2], mem[3] = pl, pr, lv, rv
            if lv is None or rv is None or pl is None or pr is None:
                return False
            if above:
                return pl <= pr and lv > rv
            return pl >= pr and lv < rv

        def reset():
            mem[0] = mem[1] = mem[2] = mem[3] = None

        def describe(out):
            pl, pr, lv, rv = mem
            result = None not in mem and ((pl <= pr and lv > rv) if above else (pl >= pr and lv < rv))
            out.append({
                "condition_type": label, "operator": c.operator, "result": result,
                "current_value": display(lv, c.left.kind), "threshold": display(rv, c.right.kind),
                "previous_value": display(pl, c.left.kind), "previous_threshold": display(pr, c.right.kind),
            })

        return Compiled(ev, describe, [reset], True)

    cmp = _COMPARE[c.operator]
    if c.right.type == "value":
        const = c.right.value

        def ev():
            v = left()
            return v is not None and cmp(v, const)
    else:
        def ev():
            v = left()
            if v is None:
                return False
            w = right()
            return w is not None and cmp(v, w)

    def describe(out):
        out.append({
            "condition_type": label, "operator": c.operator, "result": ev(),
            "current_value": display(left(), c.left.kind), "threshold": display(right(), c.right.kind),
        })

    return Compiled(ev, describe, [], False)


def operand_getter(o: Operand, m, book):
    """Return a zero-argument function giving the operand's current value (None: no value yet)."""
    t = o.type
    if t == "value":
        v = o.value
        return lambda: v
    if t == "underlying_ltp":
        col = m.underlying_prices

        def get():
            return col[m.row] or None

        return get
    if t == "time_of_day":
        return lambda: m.time_of_day
    if t == "day_of_week":
        return lambda: m.dow
    if t == "candle":
        m.require_timeframe(o.timeframe)
        field = operator.attrgetter(o.field)
        if o.at is not None:
            by_start = m.candles_by_start(o.timeframe)
            at = o.at

            def get():
                c = by_start.get(at)
                return None if c is None else field(c)

            return get
        candles = m.candle_list(o.timeframe)
        back = -1 - o.offset
        need = o.offset + 1

        def get():
            return field(candles[back]) if len(candles) >= need else None

        return get
    if t == "indicator":
        values, key = m.indicator_slot(o.name, dict(o.params), o.timeframe, o.output)

        def get():
            return values[key]

        return get
    if t == "option_ltp":
        return m.option_ltp_getter(o.expiry, o.strike, o.right)
    if t == "position_pnl":
        entries = frozenset(o.entries) if o.entries else None
        percent = o.unit == "percent"
        return lambda: book.positions_pnl(entries, percent)
    if t == "strategy_pnl":
        return book.strategy_pnl
    raise ValueError(f"unknown operand type {t!r}")


def display(v, kind):
    """Return a value in the units a person reads (rupees, HH:MM:SS, weekday names)."""
    if v is None:
        return None
    if kind in (schema.KIND_PRICE, schema.KIND_MONEY):
        return round(v / 100, 2)
    if kind == schema.KIND_TIME:
        return format_time(v)
    if kind == schema.KIND_DAY:
        return schema.WEEKDAYS[v]
    return round(float(v), 4)


def operand_label(o: Operand) -> str:
    """Name an operand the way the node event's ``condition_type`` shows it."""
    t = o.type
    if t == "candle":
        where = f"@{format_time(o.at)[:5]}" if o.at is not None else (f"[-{o.offset}]" if o.offset else "")
        return f"candle_{o.timeframe}_{o.field}{where}"
    if t == "indicator":
        params = ",".join(str(v) for _, v in o.params)
        out = f".{o.output}" if o.output else ""
        return f"{o.name}({params}){out}_{o.timeframe}"
    if t == "option_ltp":
        return f"option_ltp_{o.expiry}_{o.strike.rule}{o.strike.offset or ''}_{o.right}"
    return t


def condition_label(c: Condition) -> str:
    """Return ``<left>_<operator>`` e.g. ``underlying_ltp_crosses_above``."""
    names = {">": "above", ">=": "at_or_above", "<": "below", "<=": "at_or_below", "==": "equal", "!=": "not_equal"}
    return f"{operand_label(c.left)}_{names.get(c.operator, c.operator)}"
