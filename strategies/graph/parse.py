"""Parsing strategy graphs: ``parse_graph(data)`` validates a graph (the JSON a user drew, as a dict)
and returns a ``StrategyGraph``; an invalid graph raises ``InvalidGraph`` carrying every error with its
path. It sits above both the model and the validator, so neither imports the other back.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from strategies.graph import schema
from strategies.graph.model import (
    Condition,
    ConditionGroup,
    Edge,
    EntryConfig,
    ExitConfig,
    InvalidGraph,
    Node,
    Operand,
    PositionalSquareOff,
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
    parse_rupees,
    parse_time,
)
from strategies.graph.validate import validate_graph


def parse_graph(data: Mapping) -> StrategyGraph:
    """Validate ``data`` and return the typed graph; raise ``InvalidGraph`` listing all errors."""
    errors = validate_graph(data)
    if errors:
        raise InvalidGraph(errors)
    nodes = tuple(
        Node(n["id"], n["type"], n.get("name") or n["id"], _CONFIG_PARSERS[n["type"]](n.get("config") or {}), i)
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


def _opt_rupees(v):
    return None if v is None else parse_rupees(v)


def _start(c):
    sq = parse_time(c["square_off_time"])
    nne = c.get("no_new_entries_after")
    return StartConfig(
        underlying=c["underlying"],
        start_time=parse_time(c["start_time"]),
        no_new_entries_after=sq if nne is None else parse_time(nne),
        square_off_time=sq,
        max_loss=_opt_rupees(c.get("max_loss")),
        max_profit=_opt_rupees(c.get("max_profit")),
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


def _signal(c):
    return SignalConfig(parse_group(c["conditions"]))


def parse_strike(s) -> StrikeRule:
    """Build a StrikeRule from its (validated) JSON form."""
    if s["rule"] == "premium":
        return StrikeRule("premium", premium=parse_rupees(s["value"]))
    return StrikeRule(s["rule"], offset=s.get("offset", 0))


def _risk(r):
    return None if r is None else Risk(r["type"], parse_decimal(r["value"]))


def _entry(c):
    option = c["instrument"] == "option"
    return EntryConfig(
        instrument=c["instrument"],
        side=c["side"],
        lots=c["lots"],
        expiry=c["expiry"] if option else None,
        strike=parse_strike(c["strike"]) if option else None,
        right=c["right"] if option else None,
        stop_loss=_risk(c.get("stop_loss")),
        target=_risk(c.get("target")),
        trailing_stop=_risk(c.get("trailing_stop")),
    )


def _exit(c):
    pos = c.get("positions", "all")
    q = c.get("quantity") or {"type": "all"}
    return ExitConfig(
        entries=None if pos == "all" else tuple(pos),
        quantity_type=q["type"],
        quantity_value=None if q["type"] == "all" else parse_decimal(q["value"]),
    )


def _square_off(c):
    t = c.get("time")
    return SquareOffConfig(
        time=None if t is None else parse_time(t),
        max_loss=_opt_rupees(c.get("max_loss")),
        max_profit=_opt_rupees(c.get("max_profit")),
    )


def _re_entry(c):
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


def parse_group(g) -> ConditionGroup:
    """Build a ConditionGroup from its (validated) JSON form."""
    mode = "all" if "all" in g else "any"
    return ConditionGroup(mode, tuple(parse_group(x) if _is_group(x) else parse_condition(x) for x in g[mode]))


def _is_group(x) -> bool:
    return isinstance(x, Mapping) and ("all" in x or "any" in x)


def parse_condition(c) -> Condition:
    """Build a Condition, reading constants in the unit of the operand they are compared with."""
    left_kind = operand_kind(c["left"])
    if c["operator"] in schema.RANGES:
        kind = left_kind
        return Condition(
            parse_operand(c["left"], kind), c["operator"], low=parse_operand(c["low"], kind),
            high=parse_operand(c["high"], kind),
        )
    kind = left_kind or operand_kind(c["right"])
    return Condition(parse_operand(c["left"], kind), c["operator"], right=parse_operand(c["right"], kind))


def parse_operand(o, kind: str) -> Operand:
    """Build an Operand; ``kind`` is what a constant must be read as."""
    t = o["type"]
    if t == "value":
        return Operand("value", kind, value=parse_constant(o["value"], kind))
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
        return Operand(t, own, expiry=o["expiry"], strike=parse_strike(o["strike"]), right=o["right"])
    if t == "position_pnl":
        return Operand(t, own, entries=tuple(o.get("entries") or ()), unit=o.get("unit", "rupees"))
    return Operand(t, own)
