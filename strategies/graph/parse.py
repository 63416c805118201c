"""Parsing strategy graphs: ``parse_graph(data)`` validates a graph (the JSON a user drew, as a dict)
and returns a ``StrategyGraph``; an invalid graph raises ``InvalidGraph`` carrying every error with its
path. It sits above both the model and the validator, so neither imports the other back.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from strategies.graph import schema
from strategies.graph.model import (
    RUPEES,
    Condition,
    ConditionGroup,
    Edge,
    EntryConfig,
    ExitConfig,
    InvalidGraph,
    Node,
    Operand,
    PositionalSquareOff,
    Precision,
    ReEntryConfig,
    Risk,
    SignalConfig,
    SquareOffConfig,
    StartConfig,
    StrategyGraph,
    StrikeRule,
    operand_kind,
    parse_constant,
    parse_decimal,
    parse_time,
    precision_of,
)
from strategies.graph.validate import validate_graph


def parse_graph(data: Mapping) -> StrategyGraph:
    """Validate ``data`` and return the typed graph; raise ``InvalidGraph`` listing all errors.

    Money and price constants are read here, once, at the precision of the start node's underlying."""
    errors = validate_graph(data)
    if errors:
        raise InvalidGraph(errors)
    start = next(n for n in data["nodes"] if n["type"] == "start")
    precision = precision_of(start["config"]["underlying"])
    nodes = tuple(
        Node(n["id"], n["type"], n.get("name") or n["id"],
             _CONFIG_PARSERS[n["type"]](n.get("config") or {}, precision), i)
        for i, n in enumerate(data["nodes"])
    )
    edges = tuple(Edge(e["from"], e["to"]) for e in data.get("edges", ()))
    children = {n.id: [] for n in nodes}
    parents = {n.id: [] for n in nodes}
    for e in edges:
        children[e.source].append(e.target)
        parents[e.target].append(e.source)
    return StrategyGraph(
        name=data["name"],
        description=data.get("description", ""),
        nodes=nodes,
        edges=edges,
        by_id={n.id: n for n in nodes},
        children={k: tuple(v) for k, v in children.items()},
        parents={k: tuple(v) for k, v in parents.items()},
    )


def _opt_money(v, precision: Precision):
    return None if v is None else precision.minor(v)


def _start(c, precision):
    sq = parse_time(c["square_off_time"])
    nne = c.get("no_new_entries_after")
    return StartConfig(
        underlying=c["underlying"],
        start_time=parse_time(c["start_time"]),
        no_new_entries_after=sq if nne is None else parse_time(nne),
        square_off_time=sq,
        max_loss=_opt_money(c.get("max_loss"), precision),
        max_profit=_opt_money(c.get("max_profit"), precision),
        holding=c.get("holding", "intraday"),
        positional_square_off=_positional_square_off(c.get("positional_square_off")),
    )


def _positional_square_off(v):
    if v is None:
        return None
    if isinstance(v, str):
        return PositionalSquareOff(v)
    day = v["day"]
    return PositionalSquareOff("day", day if day == "last" else date.fromisoformat(day), parse_time(v["time"]))


def _signal(c, precision):
    return SignalConfig(parse_group(c["conditions"], precision))


def parse_strike(s, precision: Precision = RUPEES) -> StrikeRule:
    """Build a StrikeRule from its (validated) JSON form."""
    if s["rule"] == "premium":
        return StrikeRule("premium", premium=precision.minor(s["value"]))
    return StrikeRule(s["rule"], offset=s.get("offset", 0))


def _risk(r, precision):
    return None if r is None else Risk(r["type"], parse_decimal(r["value"]), precision.places)


def _entry(c, precision):
    option = c["instrument"] == "option"
    return EntryConfig(
        instrument=c["instrument"],
        side=c["side"],
        lots=c["lots"],
        expiry=c["expiry"] if option else None,
        strike=parse_strike(c["strike"], precision) if option else None,
        right=c["right"] if option else None,
        stop_loss=_risk(c.get("stop_loss"), precision),
        target=_risk(c.get("target"), precision),
        trailing_stop=_risk(c.get("trailing_stop"), precision),
    )


def _exit(c, precision):
    pos = c.get("positions", "all")
    q = c.get("quantity") or {"type": "all"}
    return ExitConfig(
        entries=None if pos == "all" else tuple(pos),
        quantity_type=q["type"],
        quantity_value=None if q["type"] == "all" else parse_decimal(q["value"]),
    )


def _square_off(c, precision):
    t = c.get("time")
    return SquareOffConfig(
        time=None if t is None else parse_time(t),
        max_loss=_opt_money(c.get("max_loss"), precision),
        max_profit=_opt_money(c.get("max_profit"), precision),
    )


def _re_entry(c, precision):
    return ReEntryConfig(
        max_re_entries=c["max_re_entries"],
        on=frozenset(c.get("on") or schema.RE_ENTRY_REASONS),
        wait_seconds=c.get("wait_seconds", 0),
    )


_CONFIG_PARSERS = {
    "start": _start,
    "entry_signal": _signal,
    "exit_signal": _signal,
    "entry": _entry,
    "exit": _exit,
    "square_off": _square_off,
    "re_entry": _re_entry,
}


def parse_group(g, precision: Precision = RUPEES) -> ConditionGroup:
    """Build a ConditionGroup from its (validated) JSON form."""
    mode = "all" if "all" in g else "any"
    return ConditionGroup(
        mode, tuple(parse_group(x, precision) if _is_group(x) else parse_condition(x, precision) for x in g[mode])
    )


def _is_group(x) -> bool:
    return isinstance(x, Mapping) and ("all" in x or "any" in x)


def parse_condition(c, precision: Precision = RUPEES) -> Condition:
    """Build a Condition, reading constants in the unit of the operand they are compared with."""
    left_kind = operand_kind(c["left"])
    if c["operator"] in schema.RANGES:
        kind = left_kind
        return Condition(
            parse_operand(c["left"], kind, precision), c["operator"], low=parse_operand(c["low"], kind, precision),
            high=parse_operand(c["high"], kind, precision),
        )
    kind = left_kind or operand_kind(c["right"])
    return Condition(
        parse_operand(c["left"], kind, precision), c["operator"], right=parse_operand(c["right"], kind, precision)
    )


def parse_operand(o, kind: str, precision: Precision = RUPEES) -> Operand:
    """Build an Operand; ``kind`` is what a constant must be read as (money and prices at ``precision``)."""
    t = o["type"]
    if t == "value":
        return Operand("value", kind, value=parse_constant(o["value"], kind, precision))
    own = operand_kind(o)
    if t == "candle":
        at = o.get("at")
        return Operand(
            t, own, timeframe=o["timeframe"], field=o["field"], offset=o.get("offset", 0),
            at=None if at is None else parse_time(at),
        )
    if t == "indicator":
        return Operand(
            t, own, name=o["name"], timeframe=o["timeframe"], params=tuple(sorted((o.get("params") or {}).items())),
            output=o.get("output"),
        )
    if t == "option_ltp":
        return Operand(t, own, expiry=o["expiry"], strike=parse_strike(o["strike"], precision), right=o["right"])
    if t == "position_pnl":
        return Operand(t, own, entries=tuple(o.get("entries") or ()), unit=o.get("unit", "rupees"))
    return Operand(t, own)
