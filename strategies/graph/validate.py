"""Validation of strategy graphs, format version 1: one pure function, ``validate_graph``.

It never raises on bad input and never stops at the first problem: it returns every error it can
find, each with the path of the offending value (``nodes[3].config.strike.offset: must be an integer
between -20 and 20``), so an editor can mark them all at once. The API and the admin call it; the
engine only ever sees graphs it passed (through ``parse_graph``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from strategies.graph import schema
from strategies.graph.model import (
    RUPEES,
    GraphError,
    is_int,
    is_number,
    operand_kind,
    parse_constant,
    parse_decimal,
    parse_time,
    precision_of,
)


def validate_graph(data) -> list[GraphError]:
    """Return every problem with ``data`` (a graph as decoded JSON); an empty list means valid."""
    v = _Validator()
    v.graph(data)
    return v.errors


def _session_time(v, session: schema.Session = schema.NSE_SESSION) -> int:
    t = parse_time(v)
    if not session.first <= t <= session.last:
        raise ValueError(f"{v!r} is outside the exchange session {session.label}")
    return t


class _Validator:
    def __init__(self):
        self.errors: list[GraphError] = []
        self.types: dict[str, str] = {}  # node id -> type, for references
        self.deferred: list = []  # checks that need every node's id and type first
        self.start_times = None  # (start, no_new_entries_after, square_off) of the start node
        self.underlying = None  # the start node's, when it names a known one
        self.session = schema.NSE_SESSION  # the clock of the start node's underlying
        self.precision = RUPEES  # how its money and prices are written (its price_decimals)

    def err(self, path, message):
        self.errors.append(GraphError(path, message))

    # -- helpers ---------------------------------------------------------------------------

    def mapping(self, v, path) -> bool:
        if not isinstance(v, Mapping):
            self.err(path, "must be an object")
            return False
        return True

    def keys(self, v, allowed, path, required=()):
        for k in v:
            if k not in allowed:
                self.err(f"{path}.{k}" if path else str(k), "unknown field")
        self.require(v, required, path)

    def require(self, v, required, path):
        for k in required:
            if k not in v:
                self.err(f"{path}.{k}" if path else k, "is required")

    def choice(self, v, choices, path) -> bool:
        if v not in choices:
            self.err(path, f"must be one of {', '.join(choices)}")
            return False
        return True

    def int_between(self, v, lo, hi, path) -> bool:
        if not is_int(v) or not lo <= v <= hi:
            self.err(path, f"must be an integer between {lo} and {hi}")
            return False
        return True

    def number_between(self, v, lo, hi, path, exclusive_low=False):
        try:
            d = parse_decimal(v)
        except ValueError as e:
            self.err(path, str(e))
            return None
        if d < lo or d > hi or (exclusive_low and d == lo):
            low = f"greater than {lo}" if exclusive_low else f"at least {lo}"
            self.err(path, f"must be a number {low} and at most {hi}")
            return None
        return d

    def money(self, v, path, positive=True):
        """An amount or price at the underlying's precision."""
        try:
            p = self.precision.minor(v)
        except ValueError as e:
            self.err(path, str(e))
            return None
        if positive and p <= 0:
            self.err(path, "must be an amount greater than 0")
            return None
        return p

    def time(self, v, path):
        try:
            return _session_time(v, self.session)
        except ValueError as e:
            self.err(path, str(e))
            return None

    # -- the graph -------------------------------------------------------------------------

    def graph(self, data):
        if not self.mapping(data, ""):
            return
        self.keys(data, schema.GRAPH_KEYS, "", required=("format_version", "name", "nodes"))
        # Integers are checked with is_int, never by equality alone: JSON true == 1 and 1.0 == 1 in Python.
        if "format_version" in data and not (is_int(data["format_version"]) and data["format_version"] == schema.FORMAT_VERSION):
            self.err("format_version", f"must be {schema.FORMAT_VERSION}")
        name = data.get("name")
        if "name" in data and (not isinstance(name, str) or not name.strip() or len(name) > 120):
            self.err("name", "must be a non-empty string of at most 120 characters")
        if "description" in data and not isinstance(data["description"], str):
            self.err("description", "must be a string")
        nodes = data.get("nodes")
        if "nodes" in data and (not isinstance(nodes, list) or not nodes):
            self.err("nodes", "must be a non-empty list")
            nodes = None
        edges = data.get("edges", [])
        if not isinstance(edges, list):
            self.err("edges", "must be a list")
            edges = None
        if not nodes:
            return
        index = self.node_ids(nodes)
        for node in nodes:
            config = node.get("config") if isinstance(node, Mapping) and node.get("type") == "start" else None
            if isinstance(config, Mapping) and config.get("underlying") in schema.underlyings():
                self.underlying = config["underlying"]
                self.session = schema.session_of(self.underlying)
                self.precision = precision_of(self.underlying)
        for i, node in enumerate(nodes):
            self.node(node, f"nodes[{i}]")
        for check in self.deferred:
            check()
        if edges is not None:
            self.structure(nodes, edges, index)

    def node_ids(self, nodes) -> dict:
        index = {}
        for i, node in enumerate(nodes):
            if not isinstance(node, Mapping):
                continue
            nid = node.get("id")
            if not isinstance(nid, str) or not schema.NODE_ID_RE.match(nid):
                continue  # reported by node()
            if nid in index:
                self.err(f"nodes[{i}].id", f"duplicate id {nid!r} (also nodes[{index[nid]}])")
                continue
            index[nid] = i
            if node.get("type") in schema.NODE_TYPES:
                self.types[nid] = node["type"]
        return index

    def node(self, node, path):
        if not self.mapping(node, path):
            return
        self.keys(node, schema.NODE_KEYS, path, required=("id", "type"))
        nid = node.get("id")
        if "id" in node and (not isinstance(nid, str) or not schema.NODE_ID_RE.match(nid)):
            self.err(f"{path}.id", "must be lowercase letters, digits and hyphens, starting with a letter or digit")
        if "name" in node and (not isinstance(node["name"], str) or len(node["name"]) > 120):
            self.err(f"{path}.name", "must be a string of at most 120 characters")
        t = node.get("type")
        if "type" in node and not self.choice(t, schema.NODE_TYPES, f"{path}.type"):
            return
        if t is None:
            return
        config = node.get("config", {})
        cpath = f"{path}.config"
        if not self.mapping(config, cpath):
            return
        self.keys(config, schema.CONFIG_KEYS[t], cpath)
        getattr(self, f"config_{t}")(config, cpath)

    # -- node configs ----------------------------------------------------------------------

    def config_start(self, c, path):
        self.require(c, ("underlying", "start_time", "square_off_time"), path)
        if "underlying" in c:
            self.choice(c["underlying"], schema.underlyings(), f"{path}.underlying")
        start = self.time(c["start_time"], f"{path}.start_time") if "start_time" in c else None
        square = self.time(c["square_off_time"], f"{path}.square_off_time") if "square_off_time" in c else None
        nne = None
        if c.get("no_new_entries_after") is not None:
            nne = self.time(c["no_new_entries_after"], f"{path}.no_new_entries_after")
        if start is not None and square is not None and square <= start:
            self.err(f"{path}.square_off_time", "must be after start_time")
        elif start is not None and square is not None:
            if nne is not None and not start < nne <= square:
                self.err(f"{path}.no_new_entries_after", "must be after start_time and not after square_off_time")
            else:
                self.start_times = (start, nne if nne is not None else square, square)
        for k in ("max_loss", "max_profit"):
            if c.get(k) is not None:
                self.money(c[k], f"{path}.{k}")
        self.holding(c, path)

    def holding(self, c, path):
        """``holding`` and, for a positional strategy, its required ``positional_square_off``: one of
        ``POSITIONAL_SQUARE_OFF_RULES`` or ``{"day": "last" | "YYYY-MM-DD", "time": "HH:MM[:SS]"}``."""
        holding = c.get("holding", "intraday")
        if not self.choice(holding, schema.HOLDINGS, f"{path}.holding"):
            return
        rule = c.get("positional_square_off")
        rpath = f"{path}.positional_square_off"
        if holding == "intraday":
            if rule is not None:
                self.err(rpath, "is only for a positional strategy (holding: positional)")
            return
        if rule is None:
            self.err(rpath, f"is required for a positional strategy: {', '.join(schema.POSITIONAL_SQUARE_OFF_RULES)}"
                            " or {\"day\": \"last\" or a date, \"time\": \"HH:MM\"}")
        elif isinstance(rule, str):
            self.choice(rule, schema.POSITIONAL_SQUARE_OFF_RULES, rpath)
        elif self.mapping(rule, rpath):
            self.keys(rule, schema.POSITIONAL_SQUARE_OFF_KEYS, rpath, required=("day", "time"))
            if "day" in rule and rule["day"] != "last":
                try:
                    date.fromisoformat(rule["day"] if isinstance(rule["day"], str) else "")
                except ValueError:
                    self.err(f"{rpath}.day", "must be \"last\" or a date YYYY-MM-DD")
            if "time" in rule:
                self.time(rule["time"], f"{rpath}.time")

    def config_entry_signal(self, c, path):
        if "conditions" not in c:
            self.err(f"{path}.conditions", "is required")
            return
        self.group(c["conditions"], f"{path}.conditions", 1)

    config_exit_signal = config_entry_signal

    def config_entry(self, c, path):
        self.require(c, ("instrument", "side", "lots"), path)
        instrument = c.get("instrument")
        if "instrument" in c:
            self.choice(instrument, schema.INSTRUMENTS, f"{path}.instrument")
        if instrument == "option" and self.underlying is not None and not schema.has_options(self.underlying):
            self.err(f"{path}.instrument", f"{self.underlying} has no options; trade it with \"underlying\"")
        elif instrument == "option":
            for k in ("expiry", "strike", "right"):
                if k not in c:
                    self.err(f"{path}.{k}", "is required for an option")
            if "expiry" in c:
                self.choice(c["expiry"], schema.EXPIRY_RULES, f"{path}.expiry")
            if "strike" in c:
                self.strike(c["strike"], f"{path}.strike")
            if "right" in c:
                self.choice(c["right"], schema.RIGHTS, f"{path}.right")
        elif instrument == "underlying":
            for k in ("expiry", "strike", "right"):
                if k in c:
                    self.err(f"{path}.{k}", "only applies to options")
        side = c.get("side")
        if "side" in c:
            self.choice(side, schema.SIDES, f"{path}.side")
        if "lots" in c:
            self.int_between(c["lots"], 1, schema.MAX_LOTS, f"{path}.lots")
        for k in ("stop_loss", "target", "trailing_stop"):
            if c.get(k) is not None:
                # A bought option cannot lose more than its premium; a sold one can lose many times it.
                cap = 100 if (k == "stop_loss" and side == "buy") or k == "trailing_stop" else 1000
                self.risk(c[k], f"{path}.{k}", cap)

    def strike(self, s, path):
        if not self.mapping(s, path):
            return
        rule = s.get("rule")
        if not self.choice(rule, schema.STRIKE_RULES, f"{path}.rule"):
            return
        if rule == "premium":
            self.keys(s, ("rule", "value"), path, required=("value",))
            if "value" in s:
                self.money(s["value"], f"{path}.value")
        elif rule == "atm":
            self.keys(s, ("rule", "offset"), path)
            if "offset" in s:
                m = schema.MAX_STRIKE_OFFSET
                self.int_between(s["offset"], -m, m, f"{path}.offset")
        else:
            self.keys(s, ("rule", "offset"), path, required=("offset",))
            if "offset" in s:
                self.int_between(s["offset"], 1, schema.MAX_STRIKE_OFFSET, f"{path}.offset")

    def risk(self, r, path, percent_cap):
        if not self.mapping(r, path):
            return
        self.keys(r, ("type", "value"), path, required=("type", "value"))
        if "type" in r and self.choice(r["type"], schema.RISK_TYPES, f"{path}.type") and "value" in r:
            hi = percent_cap if r["type"] == "percent" else 100000
            d = self.number_between(r["value"], 0, hi, f"{path}.value", exclusive_low=True)
            if d is not None and r["type"] == "points":
                # Points are a price distance: no finer than the instrument's prices.
                try:
                    self.precision.check_places(d)
                except ValueError as e:
                    self.err(f"{path}.value", str(e))

    def config_exit(self, c, path):
        pos = c.get("positions", "all")
        if pos != "all":
            if not isinstance(pos, list) or not pos:
                self.err(f"{path}.positions", 'must be "all" or a non-empty list of entry node ids')
            else:
                for j, ref in enumerate(pos):
                    self.defer_entry_ref(ref, f"{path}.positions[{j}]")
        q = c.get("quantity")
        if q is None:
            return
        qpath = f"{path}.quantity"
        if not self.mapping(q, qpath):
            return
        qt = q.get("type")
        if not self.choice(qt, schema.EXIT_QUANTITY_TYPES, f"{qpath}.type"):
            return
        if qt == "all":
            self.keys(q, ("type",), qpath)
        elif qt == "percent":
            self.keys(q, ("type", "value"), qpath, required=("value",))
            if "value" in q:
                self.number_between(q["value"], 0, 100, f"{qpath}.value", exclusive_low=True)
        else:
            self.keys(q, ("type", "value"), qpath, required=("value",))
            if "value" in q:
                self.int_between(q["value"], 1, schema.MAX_LOTS, f"{qpath}.value")

    def config_square_off(self, c, path):
        if c.get("time") is not None:
            t = self.time(c["time"], f"{path}.time")

            def check():
                st = self.start_times
                if t is not None and st is not None and not st[0] < t <= st[2]:
                    self.err(f"{path}.time", "must be after the start node's start_time and not after its square_off_time")

            self.deferred.append(check)
        for k in ("max_loss", "max_profit"):
            if c.get(k) is not None:
                self.money(c[k], f"{path}.{k}")
    def config_re_entry(self, c, path):
        if "max_re_entries" not in c:
            self.err(f"{path}.max_re_entries", "is required")
        else:
            self.int_between(c["max_re_entries"], 1, schema.MAX_RE_ENTRIES, f"{path}.max_re_entries")
        on = c.get("on")
        if on is not None:
            if not isinstance(on, list) or not on:
                self.err(f"{path}.on", f"must be a non-empty list of {', '.join(schema.RE_ENTRY_REASONS)}")
            else:
                for j, r in enumerate(on):
                    self.choice(r, schema.RE_ENTRY_REASONS, f"{path}.on[{j}]")
        if "wait_seconds" in c:
            self.int_between(c["wait_seconds"], 0, schema.MAX_WAIT_SECONDS, f"{path}.wait_seconds")

    def defer_entry_ref(self, ref, path):
        def check():
            if not isinstance(ref, str) or self.types.get(ref) != "entry":
                self.err(path, f"{ref!r} is not the id of an entry node")

        self.deferred.append(check)

    # -- conditions ------------------------------------------------------------------------

    def group(self, g, path, depth):
        if not self.mapping(g, path):
            return
        modes = [k for k in schema.GROUP_KEYS if k in g]
        if len(modes) != 1 or len(g) != 1:
            self.err(path, 'must be a group with exactly one of "all" or "any"')
            return
        mode = modes[0]
        items = g[mode]
        ipath = f"{path}.{mode}"
        if not isinstance(items, list) or not items:
            self.err(ipath, "must be a non-empty list of conditions or groups")
            return
        if depth >= schema.MAX_CONDITION_DEPTH and any(isinstance(x, Mapping) and ("all" in x or "any" in x) for x in items):
            self.err(ipath, f"groups may nest at most {schema.MAX_CONDITION_DEPTH} deep")
            return
        for j, item in enumerate(items):
            p = f"{ipath}[{j}]"
            if isinstance(item, Mapping) and ("all" in item or "any" in item):
                self.group(item, p, depth + 1)
            else:
                self.condition(item, p)

    def condition(self, c, path):
        if not self.mapping(c, path):
            return
        op = c.get("operator")
        if not self.choice(op, schema.OPERATORS, f"{path}.operator"):
            return
        sides = ("left", "low", "high") if op in schema.RANGES else ("left", "right")
        self.keys(c, ("operator", *sides), path, required=sides)
        kinds = {}
        for s in sides:
            if s in c:
                kinds[s] = self.operand(c[s], f"{path}.{s}")
        if any(k is False for k in kinds.values()) or len(kinds) != len(sides):
            return  # the operand's own errors say enough
        known = [k for k in kinds.values() if k is not None]
        if not known:
            self.err(path, "compares only constants; at least one side must be a market, time or P&L operand")
            return
        if op in schema.RANGES and kinds["left"] is None:
            self.err(f"{path}.left", "must not be a constant in a range condition")
            return
        if op in schema.CROSSES and kinds["left"] in (schema.KIND_TIME, schema.KIND_DAY):
            self.err(f"{path}.operator", "crossing applies to prices, P&L and numbers, not to time or weekday")
        kind = kinds["left"] or known[0]
        for s in sides:
            k = kinds[s]
            if k is None:
                self.constant(c[s].get("value"), kind, f"{path}.{s}.value")
            elif k not in schema.COMPATIBLE_KINDS[kind]:
                self.err(f"{path}.{s}", f"a {k} cannot be compared with a {kind}")

    def constant(self, v, kind, path):
        try:
            parsed = parse_constant(v, kind, self.precision)
        except ValueError as e:
            self.err(path, f"{e} (compared with a {kind})")
            return
        if kind == schema.KIND_TIME and not self.session.first <= parsed <= self.session.last:
            self.err(path, f"{v!r} is outside the exchange session {self.session.label}, so the condition cannot change")
        if kind == schema.KIND_DAY and parsed not in self.session.weekdays:
            self.err(path, "the exchange is closed on weekends")

    def operand(self, o, path):
        """Check an operand; return its kind, None for a constant, False if it is invalid."""
        if not self.mapping(o, path):
            return False
        t = o.get("type")
        if not self.choice(t, tuple(schema.OPERANDS), f"{path}.type"):
            return False
        before = len(self.errors)
        self.keys(o, schema.OPERANDS[t][0], path)
        if t == "value":
            if "value" not in o:
                self.err(f"{path}.value", "is required")
        elif t == "option_ltp" and self.underlying is not None and not schema.has_options(self.underlying):
            self.err(f"{path}.type", f"{self.underlying} has no options")
        elif t == "option_ltp":
            self.require(o, ("expiry", "strike", "right"), path)
            if "expiry" in o:
                self.choice(o["expiry"], schema.EXPIRY_RULES, f"{path}.expiry")
            if "strike" in o:
                self.strike(o["strike"], f"{path}.strike")
            if "right" in o:
                self.choice(o["right"], schema.RIGHTS, f"{path}.right")
        elif t == "candle":
            self.candle(o, path)
        elif t == "indicator":
            self.indicator(o, path)
        elif t == "position_pnl":
            entries = o.get("entries")
            if entries is not None:
                if not isinstance(entries, list) or not entries:
                    self.err(f"{path}.entries", "must be a non-empty list of entry node ids")
                else:
                    for j, ref in enumerate(entries):
                        self.defer_entry_ref(ref, f"{path}.entries[{j}]")
            if "unit" in o:
                self.choice(o["unit"], schema.PNL_UNITS, f"{path}.unit")
        if len(self.errors) != before:
            return False
        return operand_kind(o)

    def candle(self, o, path):
        self.require(o, ("timeframe", "field"), path)
        tf = o.get("timeframe")
        if "timeframe" in o:
            self.choice(tf, tuple(schema.TIMEFRAMES), f"{path}.timeframe")
        if "field" in o:
            self.choice(o["field"], schema.CANDLE_FIELDS, f"{path}.field")
        if "offset" in o and "at" in o:
            self.err(path, 'give either "offset" (candles back from the latest) or "at" (the candle opening at a time), not both')
        if "offset" in o:
            self.int_between(o["offset"], 0, schema.MAX_CANDLE_OFFSET, f"{path}.offset")
        if "at" in o:
            t = self.time(o["at"], f"{path}.at")
            secs = schema.TIMEFRAMES.get(tf)
            if secs == schema.DAY_SECONDS:
                # The day's candle completes at its close, after every condition of the day.
                self.err(f"{path}.at", f'a {tf} candle completes at the day\'s close; read the last one with "offset": 0')
            elif t is not None and secs and (t - self.session.grid_origin) % secs:
                self.err(f"{path}.at", f"no {tf} candle opens at {o['at']}; {tf} candles open every {secs // 60} minutes "
                         f"from {self.session.origin_label}")

    def indicator(self, o, path):
        self.require(o, ("name", "timeframe"), path)
        if "timeframe" in o:
            self.choice(o["timeframe"], tuple(schema.TIMEFRAMES), f"{path}.timeframe")
        name = o.get("name")
        if not self.choice(name, tuple(schema.INDICATORS), f"{path}.name"):
            return
        spec = schema.INDICATORS[name]
        params = o.get("params", {})
        if not self.mapping(params, f"{path}.params"):
            return
        self.keys(params, spec["params"], f"{path}.params", required=tuple(spec["params"]))
        for k, (lo, hi, integer) in spec["params"].items():
            if k not in params:
                continue
            if integer:
                self.int_between(params[k], lo, hi, f"{path}.params.{k}")
            elif not is_number(params[k]) or not lo <= params[k] <= hi:
                self.err(f"{path}.params.{k}", f"must be a number between {lo} and {hi}")
        outputs = spec["outputs"]
        if spec.get("output_required") and "output" not in o:
            self.err(f"{path}.output", f"is required for {name}: one of {', '.join(outputs)}")
        elif "output" in o:
            if not outputs:
                self.err(f"{path}.output", f"{name} has a single value")
            else:
                self.choice(o["output"], outputs, f"{path}.output")

    # -- structure -------------------------------------------------------------------------

    def structure(self, nodes, edges, index):
        children = {nid: [] for nid in index}
        all_edges = {nid: [] for nid in index}
        parents = {nid: [] for nid in index}
        seen = {}
        for j, e in enumerate(edges):
            path = f"edges[{j}]"
            if not self.mapping(e, path):
                continue
            self.keys(e, schema.EDGE_KEYS, path, required=("from", "to"))
            a, b = e.get("from"), e.get("to")
            ok = True
            for k, ref in (("from", a), ("to", b)):
                if k in e and (not isinstance(ref, str) or ref not in index):  # a dict or list is unhashable
                    self.err(f"{path}.{k}", f"{ref!r} is not a node id")
                    ok = False
            if not ok or "from" not in e or "to" not in e:
                continue
            if a == b:
                self.err(path, "a node cannot lead to itself")
                continue
            if (a, b) in seen:
                self.err(path, f"duplicate of edges[{seen[a, b]}]")
                continue
            seen[a, b] = j
            all_edges[a].append((b, j))
            ta, tb = self.types.get(a), self.types.get(b)
            if ta and tb and tb not in schema.ALLOWED_CHILDREN[ta]:
                allowed = ", ".join(sorted(schema.ALLOWED_CHILDREN[ta])) or "nothing"
                self.err(path, f"{ta} -> {tb} is not allowed ({ta} may lead to: {allowed})")
                continue
            children[a].append((b, j))
            parents[b].append(a)

        starts = [nid for nid, t in self.types.items() if t == "start"]
        if not starts:
            self.err("nodes", "there must be a start node")
            return
        if len(starts) > 1:
            for nid in starts[1:]:
                self.err(f"nodes[{index[nid]}].type", f"there must be exactly one start node (the first is {starts[0]!r})")
            return
        start = starts[0]
        for nid in parents[start]:
            self.err(f"nodes[{index[start]}]", f"the start node cannot have incoming edges (from {nid!r})")

        reached = {start}
        todo = [start]
        while todo:
            for b, _ in children[todo.pop()]:
                if b not in reached:
                    reached.add(b)
                    todo.append(b)
        for nid, i in index.items():
            if nid not in reached:
                self.err(f"nodes[{i}]", f"{nid!r} is unreachable from the start node")

        self.cycles(all_edges)
        self.node_roles(children, parents, index)

    def cycles(self, children):
        """Report one edge per cycle that does not pass through a re-entry node."""
        WHITE, GREY, BLACK = 0, 1, 2
        colour = dict.fromkeys(children, WHITE)

        def visit(root):
            stack = [(root, iter(children[root]))]
            colour[root] = GREY
            while stack:
                nid, it = stack[-1]
                if self.types.get(nid) == "re_entry":
                    it = iter(())  # edges out of re-entry may lead back: they are how strategies re-enter
                for b, j in it:
                    if colour[b] == GREY:
                        self.err(f"edges[{j}]", f"creates a cycle ({nid!r} -> {b!r}); only re-entry nodes may lead back")
                    elif colour[b] == WHITE:
                        colour[b] = GREY
                        stack.append((b, iter(children[b])))
                        break
                else:
                    colour[nid] = BLACK
                    stack.pop()

        for nid in children:
            if colour[nid] == WHITE:
                visit(nid)

    def node_roles(self, children, parents, index):
        for nid, t in self.types.items():
            path = f"nodes[{index[nid]}]"
            if t in ("entry_signal", "exit_signal", "re_entry") and not children[nid]:
                self.err(path, f"{t} nodes must lead somewhere")
            if t == "exit_signal" and not any(self.types.get(p) == "entry" for p in self._ancestors(nid, parents)):
                self.err(path, "an exit_signal node must come after an entry node")
            if t == "re_entry" and not any(self.types.get(p) == "entry" for p in parents[nid]):
                self.err(path, "a re_entry node must follow an entry node (whose positions it re-enters)")

    @staticmethod
    def _ancestors(nid, parents):
        seen, todo = set(), list(parents[nid])
        while todo:
            p = todo.pop()
            if p not in seen:
                seen.add(p)
                todo.extend(parents[p])
        return seen
