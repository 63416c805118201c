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

    __slots__ = ("_describe", "_resets", "evaluate", "stateful", "wake")

    def __init__(self, evaluate, describe, resets, stateful, wake=None):
        self.evaluate = evaluate
        self._describe = describe
        self._resets = resets
        self.stateful = stateful
        # () -> the earliest exchange time (epoch seconds) after the current tick at which the condition
        # can hold (0: any time); stateless conditions on the clock alone know it (``wakes_at``)
        self.wake = wake or _ANY_TIME

    def wakes_at(self) -> float | None:
        """A lower bound on the exchange time (epoch seconds) of the next tick on which ``evaluate``
        can be true, for a node whose evaluation just gave False; None when the conditions keep a memory
        (crossings) and so must see every tick."""
        return None if self.stateful else self.wake()

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
        compile_group(item, market, book) if isinstance(item, ConditionGroup) else compile_condition(item, market, book)
        for item in group.items
    ]
    stateful = [part.evaluate for part in parts if part.stateful]
    plain = [part.evaluate for part in parts if not part.stateful]
    resets = [reset for part in parts for reset in part._resets]
    is_all = group.mode == "all"

    if not stateful:
        if len(plain) == 1:
            evaluate = plain[0]
        elif len(plain) == 2:
            first, second = plain
            evaluate = (lambda: first() and second()) if is_all else (lambda: first() or second())
        elif is_all:
            def evaluate():
                return all(check() for check in plain)
        else:
            def evaluate():
                return any(check() for check in plain)
    else:
        # Stateful children must all see this tick, so they run first and without short-circuit.
        def evaluate():
            results = [check() for check in stateful]
            if is_all:
                return all(results) and all(check() for check in plain)
            return any(results) or any(check() for check in plain)

    def describe(out):
        for part in parts:
            part._describe(out)

    wakes = [part.wake for part in parts]
    if is_all:  # true once every part is: not before the latest of their earliest times
        def wake():
            return max(w() for w in wakes)
    else:
        def wake():
            return min(w() for w in wakes)

    return Compiled(evaluate, describe, resets, bool(stateful), wake)


def compile_condition(condition: Condition, market, book) -> Compiled:
    """Compile one leaf condition."""
    places = market.places
    left = operand_getter(condition.left, market, book)
    label = condition_label(condition)
    if condition.operator in schema.RANGES:
        low, high = operand_getter(condition.low, market, book), operand_getter(condition.high, market, book)
        inside = condition.operator == "within_range"

        def evaluate():
            value = left()
            if value is None:
                return False
            low_value, high_value = low(), high()
            if low_value is None or high_value is None:
                return False
            return (low_value <= value <= high_value) == inside

        def describe(out):
            out.append({
                "condition_type": label, "operator": condition.operator, "result": evaluate(),
                "current_value": display(left(), condition.left.kind, places),
                "threshold": [display(low(), condition.low.kind, places), display(high(), condition.high.kind, places)],
            })

        return Compiled(evaluate, describe, [], False)

    right = operand_getter(condition.right, market, book)
    if condition.operator in schema.CROSSES:
        above = condition.operator == "crosses_above"
        memory = [None, None, None, None]  # previous left, previous right, current left, current right

        def evaluate():
            left_now, right_now = left(), right()
            left_before, right_before = memory[2], memory[3]
            memory[0], memory[1], memory[2], memory[3] = left_before, right_before, left_now, right_now
            if left_now is None or right_now is None or left_before is None or right_before is None:
                return False
            if above:
                return left_before <= right_before and left_now > right_now
            return left_before >= right_before and left_now < right_now

        def reset():
            memory[0] = memory[1] = memory[2] = memory[3] = None

        def describe(out):
            left_before, right_before, left_now, right_now = memory
            result = None not in memory and (
                (left_before <= right_before and left_now > right_now) if above
                else (left_before >= right_before and left_now < right_now))
            out.append({
                "condition_type": label, "operator": condition.operator, "result": result,
                "current_value": display(left_now, condition.left.kind, places),
                "threshold": display(right_now, condition.right.kind, places),
                "previous_value": display(left_before, condition.left.kind, places),
                "previous_threshold": display(right_before, condition.right.kind, places),
            })

        return Compiled(evaluate, describe, [reset], True)

    compare = _COMPARE[condition.operator]
    if condition.right.type == "value":
        constant = condition.right.value

        def evaluate():
            value = left()
            return value is not None and compare(value, constant)
    else:
        def evaluate():
            value = left()
            if value is None:
                return False
            other = right()
            return other is not None and compare(value, other)

    def describe(out):
        out.append({
            "condition_type": label, "operator": condition.operator, "result": evaluate(),
            "current_value": display(left(), condition.left.kind, places), "threshold": display(right(), condition.right.kind, places),
        })

    return Compiled(evaluate, describe, [], False, _clock_wake(condition, market))


def _ANY_TIME() -> float:
    return 0


def _clock_wake(condition: Condition, market):
    """The earliest time a comparison of the clock with a constant can next hold, as a function, for
    the forms that say it (``time_of_day`` at or after a time, ``day_of_week`` equal to a day); None
    (any time) for the others. Asked between ticks: ``market`` holds the last tick processed."""
    if condition.right.type != "value":
        return None
    constant, op = condition.right.value, condition.operator
    if condition.left.type == "time_of_day" and op in (">", ">="):
        at = constant + (op == ">")

        def wake():
            if market.time_of_day >= at:
                return 0
            return market.ts - market.time_of_day + at  # today at that time (later ticks are later)

        return wake
    if condition.left.type == "day_of_week" and op == "==":
        def wake():
            # every tick of a market day has its weekday: another day's comes after this day's last tick
            return 0 if market.dow == constant else float("inf")

        return wake
    return None


def operand_getter(operand: Operand, market, book):
    """Return a zero-argument function giving the operand's current value (None: no value yet)."""
    kind = operand.type
    if kind == "value":
        value = operand.value
        return lambda: value
    if kind == "underlying_ltp":
        # read through the market: a positional session replaces the day's price lists

        def get():
            return market.underlying_prices[market.row] or None

        return get
    if kind == "time_of_day":
        return lambda: market.time_of_day
    if kind == "day_of_week":
        return lambda: market.dow
    if kind == "candle":
        market.require_timeframe(operand.timeframe)
        field = operator.attrgetter(operand.field)
        if operand.at is not None:
            by_start = market.candles_by_start(operand.timeframe)
            at = operand.at

            def get():
                candle = by_start.get(at)
                return None if candle is None else field(candle)

            return get
        candles = market.candle_list(operand.timeframe)
        back = -1 - operand.offset
        need = operand.offset + 1

        def get():
            return field(candles[back]) if len(candles) >= need else None

        return get
    if kind == "indicator":
        values, key = market.indicator_slot(operand.name, dict(operand.params), operand.timeframe, operand.output)

        def get():
            return values[key]

        return get
    if kind == "option_ltp":
        return market.option_ltp_getter(operand.expiry, operand.strike, operand.right)
    if kind == "position_pnl":
        entries = frozenset(operand.entries) if operand.entries else None
        percent = operand.unit == "percent"
        return lambda: book.positions_pnl(entries, percent)
    if kind == "strategy_pnl":
        return book.strategy_pnl
    raise ValueError(f"unknown operand type {kind!r}")


def display(value, kind, places: int = 2):
    """Return a value in the units a person reads (rupees or the instrument's currency with its ``places``,
    HH:MM:SS, weekday names)."""
    if value is None:
        return None
    if kind in (schema.KIND_PRICE, schema.KIND_MONEY):
        return round(value / 10**places, places)
    if kind == schema.KIND_TIME:
        return format_time(value)
    if kind == schema.KIND_DAY:
        return schema.WEEKDAYS[value]
    return round(float(value), 4)


def operand_label(operand: Operand) -> str:
    """Name an operand the way the node event's ``condition_type`` shows it."""
    kind = operand.type
    if kind == "candle":
        where = f"@{format_time(operand.at)[:5]}" if operand.at is not None else (f"[-{operand.offset}]" if operand.offset else "")
        return f"candle_{operand.timeframe}_{operand.field}{where}"
    if kind == "indicator":
        params = ",".join(str(value) for _, value in operand.params)
        out = f".{operand.output}" if operand.output else ""
        return f"{operand.name}({params}){out}_{operand.timeframe}"
    if kind == "option_ltp":
        return f"option_ltp_{operand.expiry}_{operand.strike.rule}{operand.strike.offset or ''}_{operand.right}"
    return kind


def condition_label(condition: Condition) -> str:
    """Return ``<left>_<operator>`` e.g. ``underlying_ltp_crosses_above``."""
    names = {">": "above", ">=": "at_or_above", "<": "below", "<=": "at_or_below", "==": "equal", "!=": "not_equal"}
    return f"{operand_label(condition.left)}_{names.get(condition.operator, condition.operator)}"
