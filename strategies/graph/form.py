"""The strategy form (docs/pages.md, "Build in a form") as plain data, and its two translations:
``graph_from_form(form) -> graph`` and ``form_from_graph(graph) -> form``.

Django-free, like the rest of ``strategies.graph``. The form holds the common case: one underlying with
its timing, 1..N legs entered together (at the start time, or when one condition holds), an optional exit
condition closing all legs (in full or in part), per-leg re-entries alike for every leg, the
strategy's max loss / profit, and how it is held: intraday, or positional with its square-off rule
(at expiry, at the end of the session's range, or on a chosen day at a time; docs/strategies.md). Scalars are kept as the JSON values they become (rupees and condition
values as typed, strings or numbers), so ``form_from_graph(graph_from_form(f)) == f`` exactly.

The graph ``graph_from_form`` builds has readable, stable node ids: ``strategy-controller``,
``entry-condition``, ``leg-1``.., ``re-entry-1``.., ``exit-condition``, ``exit``; names in words.
A graph read back with ``form_from_graph`` and built again equals the original up to node ids, names and
positions (and an exit's ``"positions": "all"`` or a P&L operand without ``entries`` written as the list
of every leg); anything the form cannot show raises ``NotRepresentable`` with the reason.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from strategies.graph import schema
from strategies.graph.validate import validate_graph

START_ID = "strategy-controller"
ENTRY_CONDITION_ID = "entry-condition"
EXIT_CONDITION_ID = "exit-condition"
EXIT_ID = "exit"

# Operand types the form offers (option LTP and weekday are graph-only).
FORM_OPERANDS = ("value", "underlying_ltp", "indicator", "candle", "time_of_day", "strategy_pnl", "position_pnl")
# Operators the form offers: one comparison or cross (ranges need two bounds, graph-only).
FORM_OPERATORS = schema.COMPARISONS + schema.CROSSES
OPERATOR_WORDS = {
    ">": "is above", ">=": "is at or above", "<": "is below", "<=": "is at or below", "==": "equals",
    "!=": "is not", "crosses_above": "crosses above", "crosses_below": "crosses below",
}


class NotRepresentable(ValueError):
    """The graph is valid but the form cannot show it; ``reason`` says what, in words."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


def leg_id(n: int) -> str:
    """The node id of the n-th leg (1-based)."""
    return f"leg-{n}"


def re_entry_id(n: int) -> str:
    """The node id of the n-th leg's re-entry (1-based)."""
    return f"re-entry-{n}"


@dataclass(frozen=True, slots=True)
class Risk:
    """A stop loss, target or trailing stop: ``type`` ``points`` (rupees of price) or ``percent`` (of the
    entry price); ``value`` as written in the graph (number or numeric string)."""

    type: str
    value: object


@dataclass(frozen=True, slots=True)
class Leg:
    """One entry node. Options need ``expiry``, ``strike_rule`` and ``right``; ``strike_offset`` is in
    strike steps (atm: -20..20, itm/otm: 1..20), ``strike_premium`` rupees for the ``premium`` rule."""

    instrument: str = "option"
    side: str = "sell"
    lots: object = 1
    expiry: str | None = "current_weekly"
    strike_rule: str | None = "atm"
    strike_offset: object = 0
    strike_premium: object = None
    right: str | None = "CE"
    stop_loss: Risk | None = None
    target: Risk | None = None
    trailing_stop: Risk | None = None


@dataclass(frozen=True, slots=True)
class Operand:
    """One side of a condition, of a type in ``FORM_OPERANDS``. ``params`` is the indicator's
    ``((name, value), ...)`` in the graph's order; a ``position_pnl`` is of every leg."""

    type: str
    value: object = None
    name: str | None = None
    timeframe: str | None = None
    params: tuple = ()
    output: str | None = None
    field: str | None = None
    offset: object = None
    at: str | None = None
    unit: str | None = None


@dataclass(frozen=True, slots=True)
class Condition:
    """``left operator right`` with an operator in ``FORM_OPERATORS``."""

    left: Operand
    operator: str
    right: Operand


@dataclass(frozen=True, slots=True)
class Exit:
    """An exit condition closing every leg: ``quantity`` ``all``, ``percent`` (of each position's original
    quantity, ``quantity_value`` 0-100) or ``lots``."""

    condition: Condition
    quantity: str = "all"
    quantity_value: object = None


@dataclass(frozen=True, slots=True)
class ReEntry:
    """Every leg re-enters (back to itself) up to ``max_re_entries`` times after a close for one of ``on``
    (schema.RE_ENTRY_REASONS), ``wait_seconds`` later."""

    max_re_entries: object = 1
    on: tuple = ("stop_loss",)
    wait_seconds: object = 0


@dataclass(frozen=True, slots=True)
class SquareOff:
    """A positional strategy's square-off (the start node's ``positional_square_off``): ``rule``
    ``at_expiry``, ``end_of_range`` or ``day``; for ``day``, ``day`` is ``"last"`` (the session's last
    day) or a date ``"YYYY-MM-DD"`` and ``time`` is ``"HH:MM[:SS]"`` exchange time, as written."""

    rule: str = "at_expiry"
    day: str | None = None
    time: str | None = None


@dataclass(frozen=True, slots=True)
class StrategyForm:
    """The whole form. Times are ``"HH:MM"`` exchange time; ``entry`` None means the legs are entered at
    ``start_time``; money (``max_loss``, ``max_profit``) in rupees as written. ``holding`` is
    ``intraday`` (squared off every day) or ``positional``, which needs ``square_off`` (a ``SquareOff``)."""

    name: str
    underlying: str
    start_time: str
    square_off_time: str
    legs: tuple = field(default_factory=tuple)
    description: str = ""
    no_new_entries_after: str | None = None
    entry: Condition | None = None
    exit: Exit | None = None
    re_entry: ReEntry | None = None
    max_loss: object = None
    max_profit: object = None
    holding: str = "intraday"
    square_off: SquareOff | None = None


# ---------------------------------------------------------------------------------------------
# Form -> graph


def _operand_json(o: Operand, leg_ids: list[str]) -> dict:
    d = {"type": o.type}
    if o.type == "value":
        d["value"] = o.value
    elif o.type == "indicator":
        d["name"] = o.name
        if o.params:
            d["params"] = dict(o.params)
        d["timeframe"] = o.timeframe
        if o.output is not None:
            d["output"] = o.output
    elif o.type == "candle":
        d.update(timeframe=o.timeframe, field=o.field)
        if o.offset is not None:
            d["offset"] = o.offset
        if o.at is not None:
            d["at"] = o.at
    elif o.type == "position_pnl":
        d["entries"] = list(leg_ids)
        if o.unit is not None:
            d["unit"] = o.unit
    return d


def _condition_json(c: Condition, leg_ids) -> dict:
    return {"all": [{"left": _operand_json(c.left, leg_ids), "operator": c.operator,
                     "right": _operand_json(c.right, leg_ids)}]}


def _risk_json(r: Risk | None):
    return None if r is None else {"type": r.type, "value": r.value}


def _leg_config(leg: Leg) -> dict:
    c = {"instrument": leg.instrument}
    if leg.instrument == "option":
        c["expiry"] = leg.expiry
        if leg.strike_rule == "premium":
            c["strike"] = {"rule": "premium", "value": leg.strike_premium}
        else:
            c["strike"] = {"rule": leg.strike_rule, "offset": leg.strike_offset}
        c["right"] = leg.right
    c.update(side=leg.side, lots=leg.lots)
    for k in ("stop_loss", "target", "trailing_stop"):
        if getattr(leg, k) is not None:
            c[k] = _risk_json(getattr(leg, k))
    return c


def describe_operand(o: Operand) -> str:
    """An operand in words: ``RSI(14) 5m``, ``the 15m candle high at 09:15``, ``09:20``."""
    if o.type == "value":
        return str(o.value)
    if o.type == "indicator":
        args = ", ".join(str(v) for _, v in o.params)
        out = f" {o.output}" if o.output else ""
        return f"{o.name.upper()}({args}) {o.timeframe}{out}" if args else f"{o.name.upper()} {o.timeframe}{out}"
    if o.type == "candle":
        when = f"at {o.at}" if o.at is not None else ("latest" if not o.offset else f"{o.offset} back")
        return f"{o.timeframe} candle {o.field} ({when})"
    return {"underlying_ltp": "the underlying", "time_of_day": "the time", "strategy_pnl": "strategy P&L",
            "position_pnl": "legs' P&L"}.get(o.type, o.type)


def describe_condition(c: Condition) -> str:
    """A condition in words: ``RSI(14) 5m crosses below 30``; a time condition as ``At 09:20``."""
    if c.left.type == "time_of_day" and c.operator == ">=" and c.right.type == "value":
        return f"At {c.right.value}"
    text = f"{describe_operand(c.left)} {OPERATOR_WORDS.get(c.operator, c.operator)} {describe_operand(c.right)}"
    return text[0].upper() + text[1:]


def describe_leg(leg: Leg) -> str:
    """A leg in words: ``Sell 1 lot ATM CE``, ``Buy 2 lots OTM3 PE``, ``Buy 1 lot of the underlying``."""
    lots = f"{leg.lots} lot{'' if str(leg.lots) == '1' else 's'}"
    if leg.instrument != "option":
        return f"{leg.side.capitalize()} {lots} of the underlying"
    if leg.strike_rule == "premium":
        strike = f"premium {leg.strike_premium}"
    elif leg.strike_rule == "atm":
        strike = "ATM" if not leg.strike_offset else f"ATM{int(leg.strike_offset):+d}"
    else:
        strike = f"{str(leg.strike_rule).upper()}{leg.strike_offset}"
    return f"{leg.side.capitalize()} {lots} {strike} {leg.right}"


def _square_off_json(s: SquareOff | None):
    """The start node's ``positional_square_off``; None stays None (the validator asks for it)."""
    if s is None:
        return None
    if s.rule == "day":
        return {"day": s.day, "time": s.time}
    return s.rule


def graph_from_form(form: StrategyForm) -> dict:
    """Build the graph (docs/strategies.md, format version 1) the form describes. Not validated here:
    pass the result to ``validate_graph``, which names paths in it (``nodes[2].config.lots``)."""
    legs = list(form.legs)
    leg_ids = [leg_id(i) for i in range(1, len(legs) + 1)]
    start = {"underlying": form.underlying, "start_time": form.start_time}
    if form.no_new_entries_after:
        start["no_new_entries_after"] = form.no_new_entries_after
    start["square_off_time"] = form.square_off_time
    for k in ("max_loss", "max_profit"):
        if getattr(form, k) is not None:
            start[k] = getattr(form, k)
    if form.holding != "intraday":
        start["holding"] = form.holding
        start["positional_square_off"] = _square_off_json(form.square_off)
    nodes = [{"id": START_ID, "type": "start", "name": "Strategy Controller", "config": start}]
    edges = []
    parent = START_ID
    if form.entry is not None:
        nodes.append({"id": ENTRY_CONDITION_ID, "type": "entry_signal", "name": describe_condition(form.entry),
                      "config": {"conditions": _condition_json(form.entry, leg_ids)}})
        edges.append({"from": START_ID, "to": ENTRY_CONDITION_ID})
        parent = ENTRY_CONDITION_ID
    for i, leg in enumerate(legs):
        nodes.append({"id": leg_ids[i], "type": "entry", "name": describe_leg(leg), "config": _leg_config(leg)})
        edges.append({"from": parent, "to": leg_ids[i]})
    if form.re_entry is not None:
        r = form.re_entry
        for i in range(len(legs)):
            rid = re_entry_id(i + 1)
            nodes.append({"id": rid, "type": "re_entry", "name": f"Re-enter leg {i + 1}",
                          "config": {"max_re_entries": r.max_re_entries, "on": list(r.on),
                                     "wait_seconds": r.wait_seconds}})
            edges += [{"from": leg_ids[i], "to": rid}, {"from": rid, "to": leg_ids[i]}]
    if form.exit is not None:
        x = form.exit
        nodes.append({"id": EXIT_CONDITION_ID, "type": "exit_signal", "name": describe_condition(x.condition),
                      "config": {"conditions": _condition_json(x.condition, leg_ids)}})
        exit_config = {"positions": list(leg_ids)}
        if x.quantity != "all":
            exit_config["quantity"] = {"type": x.quantity, "value": x.quantity_value}
        name = "Close all legs" if x.quantity == "all" else "Close part of every leg"
        nodes.append({"id": EXIT_ID, "type": "exit", "name": name, "config": exit_config})
        edges += [{"from": lid, "to": EXIT_CONDITION_ID} for lid in leg_ids]
        edges.append({"from": EXIT_CONDITION_ID, "to": EXIT_ID})
    graph = {"format_version": schema.FORMAT_VERSION, "name": form.name}
    if form.description:
        graph["description"] = form.description
    graph.update(nodes=nodes, edges=edges)
    return graph


# ---------------------------------------------------------------------------------------------
# Graph -> form


def _operand_from_json(o: dict, leg_ids: list[str], where: str) -> Operand:
    t = o["type"]
    if t not in FORM_OPERANDS:
        raise NotRepresentable(f"{where} uses a {t.replace('_', ' ')} operand, which the form does not offer")
    if t == "value":
        return Operand("value", value=o["value"])
    if t == "indicator":
        return Operand("indicator", name=o["name"], timeframe=o["timeframe"],
                       params=tuple(o.get("params", {}).items()), output=o.get("output"))
    if t == "candle":
        return Operand("candle", timeframe=o["timeframe"], field=o["field"], offset=o.get("offset"), at=o.get("at"))
    if t == "position_pnl":
        if o.get("entries") is not None and list(o["entries"]) != leg_ids:
            raise NotRepresentable(f"{where} watches the P&L of some legs only; the form watches all legs")
        return Operand("position_pnl", unit=o.get("unit"))
    return Operand(t)


def _condition_from_json(group: dict, leg_ids, where: str) -> Condition:
    mode = next(iter(group))
    items = group[mode]
    if len(items) != 1:
        raise NotRepresentable(f"{where} has {len(items)} conditions; the form holds one")
    item = items[0]
    if mode != "all":
        raise NotRepresentable(f'{where} is an "{mode}" group; the form writes one condition as "all"')
    if "operator" not in item:
        raise NotRepresentable(f"{where} has a condition group nested two deep")
    if item["operator"] not in FORM_OPERATORS:
        raise NotRepresentable(f"{where} uses the {item['operator']} operator, which the form does not offer")
    return Condition(_operand_from_json(item["left"], leg_ids, where), item["operator"],
                     _operand_from_json(item["right"], leg_ids, where))


def _risk(d) -> Risk | None:
    return None if d is None else Risk(d["type"], d["value"])


def _leg_from_json(c: dict) -> Leg:
    option = c["instrument"] == "option"
    strike = c.get("strike") or {}
    return Leg(
        instrument=c["instrument"], side=c["side"], lots=c["lots"],
        expiry=c.get("expiry") if option else None,
        strike_rule=strike.get("rule") if option else None,
        strike_offset=strike.get("offset", 0) if option and strike.get("rule") != "premium" else None,
        strike_premium=strike.get("value") if option and strike.get("rule") == "premium" else None,
        right=c.get("right") if option else None,
        stop_loss=_risk(c.get("stop_loss")), target=_risk(c.get("target")),
        trailing_stop=_risk(c.get("trailing_stop")),
    )


def _canonical(graph: dict, ids: dict) -> tuple:
    """The graph with node ids renamed by ``ids`` and names, positions and edge order dropped."""

    def rename(v):
        if isinstance(v, dict):
            return {k: [ids.get(r, r) for r in x] if k in ("entries", "positions") and isinstance(x, list)
                    else rename(x) for k, x in v.items()}
        if isinstance(v, list):
            return [rename(x) for x in v]
        return v

    nodes = sorted((ids.get(n["id"], n["id"]), n["type"], json.dumps(rename(n.get("config", {})), sort_keys=True))
                   for n in graph["nodes"])
    edges = sorted((ids.get(e["from"], e["from"]), ids.get(e["to"], e["to"])) for e in graph["edges"])
    return nodes, edges


def form_from_graph(graph: dict) -> StrategyForm:
    """Read a graph into the form, or raise ``NotRepresentable(reason)`` naming what the form cannot show.

    An invalid graph is not representable either (the reason lists its first errors)."""
    errors = validate_graph(graph)
    if errors:
        raise NotRepresentable("the graph is not valid: " + "; ".join(str(e) for e in errors[:3]))
    nodes = graph["nodes"]
    by_type: dict[str, list[dict]] = {t: [] for t in schema.NODE_TYPES}
    for n in nodes:
        by_type[n["type"]].append(n)
    counts = {"entry_signal": "entry signals", "exit_signal": "exit signals", "exit": "exit nodes"}
    for t, words in counts.items():
        if len(by_type[t]) > 1:
            raise NotRepresentable(f"the graph has {len(by_type[t])} {words}; the form holds one")
    if by_type["square_off"]:
        raise NotRepresentable("the graph has a square-off node; the form squares off by the start's time and limits")
    entries = by_type["entry"]
    if not entries:
        raise NotRepresentable("the graph has no entry (leg)")
    old_leg_ids = [n["id"] for n in entries]
    start = by_type["start"][0]["config"]
    entry = None
    if by_type["entry_signal"]:
        entry = _condition_from_json(by_type["entry_signal"][0]["config"]["conditions"], old_leg_ids, "the entry signal")
    exit_ = None
    if by_type["exit_signal"]:
        if not by_type["exit"]:
            raise NotRepresentable("the exit signal leads to no exit node")
        condition = _condition_from_json(by_type["exit_signal"][0]["config"]["conditions"], old_leg_ids,
                                         "the exit signal")
        xc = by_type["exit"][0]["config"]
        if xc.get("positions", "all") not in ("all", old_leg_ids):
            raise NotRepresentable("the exit closes some legs only; the form's exit closes all legs")
        q = xc.get("quantity") or {"type": "all"}
        exit_ = Exit(condition, q["type"], q.get("value"))
    re_entry = None
    if by_type["re_entry"]:
        configs = [n["config"] for n in by_type["re_entry"]]
        if len(configs) != len(entries) or any(c != configs[0] for c in configs):
            raise NotRepresentable("the legs re-enter differently; the form re-enters every leg alike")
        c = configs[0]
        re_entry = ReEntry(c["max_re_entries"], tuple(c.get("on", schema.RE_ENTRY_REASONS)), c.get("wait_seconds", 0))
    form = StrategyForm(
        name=graph["name"], description=graph.get("description", ""), underlying=start["underlying"],
        start_time=start["start_time"], square_off_time=start["square_off_time"],
        no_new_entries_after=start.get("no_new_entries_after"),
        legs=tuple(_leg_from_json(n["config"]) for n in entries),
        entry=entry, exit=exit_, re_entry=re_entry,
        max_loss=start.get("max_loss"), max_profit=start.get("max_profit"),
        holding=start.get("holding", "intraday"), square_off=_square_off_from_json(start.get("positional_square_off")),
    )
    _check_same_structure(graph, form, old_leg_ids, by_type)
    return form


def _square_off_from_json(v) -> SquareOff | None:
    if v is None:
        return None
    if isinstance(v, str):
        return SquareOff(v)
    return SquareOff("day", v["day"], v["time"])


def _check_same_structure(graph, form, old_leg_ids, by_type):
    """Raise NotRepresentable unless the form builds the graph back (up to ids, names, positions)."""
    ids = {by_type["start"][0]["id"]: START_ID}
    ids.update({old: leg_id(i + 1) for i, old in enumerate(old_leg_ids)})
    if by_type["entry_signal"]:
        ids[by_type["entry_signal"][0]["id"]] = ENTRY_CONDITION_ID
    if by_type["exit_signal"]:
        ids[by_type["exit_signal"][0]["id"]] = EXIT_CONDITION_ID
        ids[by_type["exit"][0]["id"]] = EXIT_ID
    children = {}
    for e in graph["edges"]:
        children.setdefault(e["from"], []).append(e["to"])
    for r in by_type["re_entry"]:
        parents = [e["from"] for e in graph["edges"] if e["to"] == r["id"]]
        if len(parents) != 1 or children.get(r["id"]) != parents or parents[0] not in old_leg_ids:
            raise NotRepresentable(f"the re-entry {r['id']!r} does not lead back to the one leg it follows; "
                                   "the form re-enters each leg by itself")
        ids[r["id"]] = re_entry_id(old_leg_ids.index(parents[0]) + 1)
    built = graph_from_form(form)
    original = _normalized(graph, old_leg_ids)
    if _canonical(original, ids) != _canonical(built, {}):
        raise NotRepresentable("the graph's nodes are connected in a way the form does not build "
                               "(the form: start, one entry condition, legs, their re-entries, one exit condition)")


def _normalized(graph: dict, leg_ids: list[str]) -> dict:
    """The graph with the form's equivalent spellings: exits closing "all" and P&L of every entry written
    as the list of the legs, re-entry defaults written out, an explicit ``"holding": "intraday"`` left out."""

    def fix(v):
        if isinstance(v, dict):
            v = {k: fix(x) for k, x in v.items()}
            if v.get("type") == "position_pnl" and "entries" not in v:
                v["entries"] = list(leg_ids)
            return v
        if isinstance(v, list):
            return [fix(x) for x in v]
        return v

    nodes = []
    for n in graph["nodes"]:
        config = fix(n.get("config", {}))
        if n["type"] == "start" and config.get("holding") == "intraday":
            del config["holding"]
        if n["type"] == "exit" and config.get("positions", "all") == "all":
            config["positions"] = list(leg_ids)
        if n["type"] == "exit" and config.get("quantity") == {"type": "all"}:
            del config["quantity"]
        if n["type"] == "re_entry":
            config = {"max_re_entries": config["max_re_entries"],
                      "on": list(config.get("on", schema.RE_ENTRY_REASONS)),
                      "wait_seconds": config.get("wait_seconds", 0)}
        nodes.append({**n, "config": config})
    return {**graph, "nodes": nodes}
