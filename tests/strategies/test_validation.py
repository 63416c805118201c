"""Every validation error path of the strategy graph format, each with the path it must name."""

import copy
from datetime import date

import pytest

from strategies.graph import InvalidGraph, parse_graph, validate_graph
from strategies.graph.examples import example_names, load_example


def base():
    return copy.deepcopy(load_example("nifty_short_straddle"))


def node(g, node_id):
    return next(n for n in g["nodes"] if n["id"] == node_id)


def cond(g, node_id="entry-condition-1"):
    return node(g, node_id)["config"]["conditions"]["all"][0]


def errors_of(g):
    return [str(e) for e in validate_graph(g)]


def test_the_examples_are_valid():
    assert example_names() == ["banknifty_iron_condor", "nifty_opening_range_breakout", "nifty_rsi_reversal",
                               "nifty_short_straddle"]
    for name in example_names():
        assert validate_graph(load_example(name)) == []


def test_parse_raises_with_every_error():
    g = base()
    node(g, "entry-ce")["config"]["strike"]["offset"] = 21
    node(g, "entry-pe")["config"]["lots"] = 0
    with pytest.raises(InvalidGraph) as e:
        parse_graph(g)
    assert [str(x) for x in e.value.errors] == [
        "nodes[2].config.strike.offset: must be an integer between -20 and 20",
        "nodes[3].config.lots: must be an integer between 1 and 100",
    ]


def _set(path, value):
    """A mutation setting ``path`` (a list of keys) on the graph."""

    def mutate(g):
        target = g
        for k in path[:-1]:
            target = target[k]
        target[path[-1]] = value

    return mutate


def _del(path):
    def mutate(g):
        target = g
        for k in path[:-1]:
            target = target[k]
        del target[path[-1]]

    return mutate


START = ["nodes", 0, "config"]
SIGNAL_COND = ["nodes", 1, "config", "conditions", "all", 0]
ENTRY = ["nodes", 2, "config"]
REENTRY = ["nodes", 4, "config"]
EXIT = ["nodes", 7, "config"]
C = "nodes[1].config.conditions.all[0]"


def _operand(o):
    return _set([*SIGNAL_COND, "left"], o)


CASES = [
    # the graph
    (_set(["colour"], "red"), "colour: unknown field"),
    (_del(["format_version"]), "format_version: is required"),
    (_set(["format_version"], 2), "format_version: must be 1"),
    (_set(["name"], " "), "name: must be a non-empty string of at most 120 characters"),
    (_set(["description"], 3), "description: must be a string"),
    (_set(["nodes"], []), "nodes: must be a non-empty list"),
    (_set(["edges"], {}), "edges: must be a list"),
    # nodes
    (_set(["nodes", 1], "x"), "nodes[1]: must be an object"),
    (_set(["nodes", 1, "colour"], 1), "nodes[1].colour: unknown field"),
    (_set(["nodes", 1, "id"], "Entry_1"), "nodes[1].id: must be lowercase letters, digits and hyphens, starting with a letter or digit"),
    (_set(["nodes", 1, "id"], "entry-ce"), "nodes[2].id: duplicate id 'entry-ce' (also nodes[1])"),
    (_set(["nodes", 1, "type"], "filter"), "nodes[1].type: must be one of start, entry_signal, entry, exit_signal, exit, square_off, re_entry"),
    (_set(["nodes", 1, "name"], 5), "nodes[1].name: must be a string of at most 120 characters"),
    (_set(["nodes", 1, "config"], []), "nodes[1].config: must be an object"),
    (_set([*ENTRY, "colour"], "red"), "nodes[2].config.colour: unknown field"),
    # start
    (_del([*START, "underlying"]), "nodes[0].config.underlying: is required"),
    (_set([*START, "underlying"], "SENSEX50"), "nodes[0].config.underlying: must be one of BANKNIFTY, NIFTY"),
    (_set([*START, "start_time"], "9:20"), 'nodes[0].config.start_time: must be a time "HH:MM" or "HH:MM:SS"'),
    (_set([*START, "start_time"], "25:00"), "nodes[0].config.start_time: '25:00' is not a time of day"),
    (_set([*START, "square_off_time"], "15:45"), "nodes[0].config.square_off_time: '15:45' is outside the exchange session 09:15:00-15:29:59"),
    (_set([*START, "square_off_time"], "09:15"), "nodes[0].config.square_off_time: must be after start_time"),
    (_set([*START, "no_new_entries_after"], "15:20"), "nodes[0].config.no_new_entries_after: must be after start_time and not after square_off_time"),
    (_set([*START, "max_loss"], "-5"), "nodes[0].config.max_loss: must be an amount greater than 0"),
    (_set([*START, "max_profit"], "10.005"), "nodes[0].config.max_profit: must have at most two decimal places"),
    (_set([*START, "max_profit"], "lots"), "nodes[0].config.max_profit: must be a number"),
    # conditions
    (_del(["nodes", 1, "config", "conditions"]), "nodes[1].config.conditions: is required"),
    (_set(["nodes", 1, "config", "conditions"], {"all": [], "any": []}), 'nodes[1].config.conditions: must be a group with exactly one of "all" or "any"'),
    (_set(["nodes", 1, "config", "conditions"], {"any": []}), "nodes[1].config.conditions.any: must be a non-empty list of conditions or groups"),
    (_set(["nodes", 1, "config", "conditions"], {"all": [{"all": [{"all": [{"all": [{"all": [{"all": []}]}]}]}]}]}),
     "nodes[1].config.conditions.all[0].all[0].all[0].all[0].all: groups may nest at most 5 deep"),
    (_set([*SIGNAL_COND, "operator"], "above"), f"{C}.operator: must be one of >, >=, <, <=, ==, !=, crosses_above, crosses_below, within_range, outside_range"),
    (_del([*SIGNAL_COND, "right"]), f"{C}.right: is required"),
    (_set([*SIGNAL_COND, "left"], {"type": "value", "value": "09:20"}), f"{C}: compares only constants; at least one side must be a market, time or P&L operand"),
    (_set(["nodes", 1, "config", "conditions", "all", 0], {"left": {"type": "value", "value": 3}, "operator": "within_range", "low": {"type": "underlying_ltp"}, "high": {"type": "underlying_ltp"}}),
     f"{C}.left: must not be a constant in a range condition"),
    (_set([*SIGNAL_COND, "operator"], "crosses_above"), f"{C}.operator: crossing applies to prices, P&L and numbers, not to time or weekday"),
    (_set([*SIGNAL_COND, "right"], {"type": "underlying_ltp"}), f"{C}.right: a price cannot be compared with a time"),
    (_set([*SIGNAL_COND, "right", "value"], "15:45"), f"{C}.right.value: '15:45' is outside the exchange session 09:15:00-15:29:59, so the condition cannot change"),
    (_set([*SIGNAL_COND, "right", "value"], 920), f'{C}.right.value: must be a time "HH:MM" or "HH:MM:SS" (compared with a time)'),
    (_set(["nodes", 1, "config", "conditions", "all", 0], {"left": {"type": "day_of_week"}, "operator": "==", "right": {"type": "value", "value": "sun"}}),
     f"{C}.right.value: the exchange is closed on weekends"),
    (_set(["nodes", 1, "config", "conditions", "all", 0], {"left": {"type": "underlying_ltp"}, "operator": ">", "right": {"type": "value", "value": "24500.001"}}),
     f"{C}.right.value: must have at most two decimal places (compared with a price)"),
    (_del([*SIGNAL_COND, "right", "value"]), f"{C}.right.value: is required"),
    # operands
    (_operand({"type": "vix"}), f"{C}.left.type: must be one of value, underlying_ltp, option_ltp, candle, indicator, time_of_day, day_of_week, position_pnl, strategy_pnl"),
    (_operand({"type": "time_of_day", "zone": "IST"}), f"{C}.left.zone: unknown field"),
    (_operand({"type": "option_ltp", "strike": {"rule": "atm"}, "right": "CE"}), f"{C}.left.expiry: is required"),
    (_operand({"type": "option_ltp", "expiry": "weekly", "strike": {"rule": "atm"}, "right": "CE"}), f"{C}.left.expiry: must be one of current_weekly, next_weekly, current_monthly, next_monthly"),
    (_operand({"type": "candle", "timeframe": "2m", "field": "close"}), f"{C}.left.timeframe: must be one of 1m, 3m, 5m, 10m, 15m, 30m, 1h, 1d"),
    (_operand({"type": "indicator", "name": "sma", "timeframe": "4h", "params": {"period": 3}}), f"{C}.left.timeframe: must be one of 1m, 3m, 5m, 10m, 15m, 30m, 1h, 1d"),
    (_operand({"type": "candle", "timeframe": "1h", "field": "high", "at": "10:00"}), f"{C}.left.at: no 1h candle opens at 10:00; 1h candles open every 60 minutes from 09:15"),
    (_operand({"type": "candle", "timeframe": "1d", "field": "high", "at": "09:15"}), f"""{C}.left.at: a 1d candle completes at the day's close; read the last one with "offset": 0"""),
    (_operand({"type": "candle", "timeframe": "5m", "field": "vol"}), f"{C}.left.field: must be one of open, high, low, close"),
    (_operand({"type": "candle", "timeframe": "5m", "field": "close", "offset": 1, "at": "09:15"}), f'{C}.left: give either "offset" (candles back from the latest) or "at" (the candle opening at a time), not both'),
    (_operand({"type": "candle", "timeframe": "5m", "field": "close", "offset": 51}), f"{C}.left.offset: must be an integer between 0 and 50"),
    (_operand({"type": "candle", "timeframe": "15m", "field": "high", "at": "09:20"}), f"{C}.left.at: no 15m candle opens at 09:20; 15m candles open every 15 minutes from 09:15"),
    (_operand({"type": "indicator", "name": "macd", "timeframe": "5m"}), f"{C}.left.name: must be one of sma, ema, rsi, atr, vwap, bb, supertrend"),
    (_operand({"type": "indicator", "name": "rsi", "timeframe": "5m", "params": {"period": 14, "k": 1}}), f"{C}.left.params.k: unknown field"),
    (_operand({"type": "indicator", "name": "rsi", "timeframe": "5m", "params": {}}), f"{C}.left.params.period: is required"),
    (_operand({"type": "indicator", "name": "rsi", "timeframe": "5m", "params": {"period": 1}}), f"{C}.left.params.period: must be an integer between 2 and 500"),
    (_operand({"type": "indicator", "name": "bb", "timeframe": "5m", "params": {"period": 20, "stddev": 11}, "output": "upper"}), f"{C}.left.params.stddev: must be a number between 0.1 and 10"),
    (_operand({"type": "indicator", "name": "bb", "timeframe": "5m", "params": {"period": 20, "stddev": 2}}), f"{C}.left.output: is required for bb: one of upper, middle, lower"),
    (_operand({"type": "indicator", "name": "rsi", "timeframe": "5m", "params": {"period": 14}, "output": "value"}), f"{C}.left.output: rsi has a single value"),
    (_operand({"type": "indicator", "name": "supertrend", "timeframe": "5m", "params": {"period": 10, "multiplier": 3}, "output": "line"}), f"{C}.left.output: must be one of value, direction"),
    (_operand({"type": "position_pnl", "entries": ["exit-1"]}), f"{C}.left.entries[0]: 'exit-1' is not the id of an entry node"),
    (_operand({"type": "position_pnl", "entries": []}), f"{C}.left.entries: must be a non-empty list of entry node ids"),
    (_operand({"type": "position_pnl", "unit": "lots"}), f"{C}.left.unit: must be one of rupees, percent"),
    # entry
    (_del([*ENTRY, "side"]), "nodes[2].config.side: is required"),
    (_set([*ENTRY, "instrument"], "future"), "nodes[2].config.instrument: must be one of option, underlying"),
    (_del([*ENTRY, "right"]), "nodes[2].config.right: is required for an option"),
    (_set([*ENTRY, "instrument"], "underlying"), "nodes[2].config.expiry: only applies to options"),
    (_set([*ENTRY, "side"], "short"), "nodes[2].config.side: must be one of buy, sell"),
    (_set([*ENTRY, "right"], "CALL"), "nodes[2].config.right: must be one of CE, PE"),
    (_set([*ENTRY, "strike"], {"rule": "delta"}), "nodes[2].config.strike.rule: must be one of atm, itm, otm, premium"),
    (_set([*ENTRY, "strike"], {"rule": "atm", "offset": -21}), "nodes[2].config.strike.offset: must be an integer between -20 and 20"),
    (_set([*ENTRY, "strike"], {"rule": "otm", "offset": 0}), "nodes[2].config.strike.offset: must be an integer between 1 and 20"),
    (_set([*ENTRY, "strike"], {"rule": "itm"}), "nodes[2].config.strike.offset: is required"),
    (_set([*ENTRY, "strike"], {"rule": "premium", "value": 0}), "nodes[2].config.strike.value: must be an amount greater than 0"),
    (_set([*ENTRY, "stop_loss"], {"type": "ticks", "value": 5}), "nodes[2].config.stop_loss.type: must be one of points, percent"),
    (_set([*ENTRY, "stop_loss"], {"type": "percent", "value": 0}), "nodes[2].config.stop_loss.value: must be a number greater than 0 and at most 1000"),
    # points are a price distance: no finer than the underlying's prices (two places on the NSE)
    (_set([*ENTRY, "target"], {"type": "points", "value": "12.505"}), "nodes[2].config.target.value: must have at most two decimal places"),
    (_set([*ENTRY, "trailing_stop"], {"type": "percent", "value": 150}), "nodes[2].config.trailing_stop.value: must be a number greater than 0 and at most 100"),
    (_set([*ENTRY, "target"], {"type": "points"}), "nodes[2].config.target.value: is required"),
    # exit
    (_set([*EXIT, "positions"], []), 'nodes[7].config.positions: must be "all" or a non-empty list of entry node ids'),
    (_set([*EXIT, "positions"], ["entry-condition-1"]), "nodes[7].config.positions[0]: 'entry-condition-1' is not the id of an entry node"),
    (_set([*EXIT, "quantity"], {"type": "half"}), "nodes[7].config.quantity.type: must be one of all, percent, lots"),
    (_set([*EXIT, "quantity"], {"type": "percent", "value": 150}), "nodes[7].config.quantity.value: must be a number greater than 0 and at most 100"),
    (_set([*EXIT, "quantity"], {"type": "lots", "value": 0}), "nodes[7].config.quantity.value: must be an integer between 1 and 100"),
    (_set([*EXIT, "quantity"], {"type": "all", "value": 1}), "nodes[7].config.quantity.value: unknown field"),
    # re-entry
    (_del([*REENTRY, "max_re_entries"]), "nodes[4].config.max_re_entries: is required"),
    (_set([*REENTRY, "max_re_entries"], 11), "nodes[4].config.max_re_entries: must be an integer between 1 and 10"),
    (_set([*REENTRY, "on"], "stop_loss"), "nodes[4].config.on: must be a non-empty list of stop_loss, target, trailing_stop, exit_condition_met"),
    (_set([*REENTRY, "on"], ["square_off"]), "nodes[4].config.on[0]: must be one of stop_loss, target, trailing_stop, exit_condition_met"),
    (_set([*REENTRY, "wait_seconds"], -1), "nodes[4].config.wait_seconds: must be an integer between 0 and 3600"),
    # edges and structure
    (_set(["edges", 0], "a->b"), "edges[0]: must be an object"),
    (_set(["edges", 0, "via"], "x"), "edges[0].via: unknown field"),
    (_set(["edges", 0, "to"], "nowhere"), "edges[0].to: 'nowhere' is not a node id"),
    (_set(["edges", 0, "to"], {}), "edges[0].to: {} is not a node id"),  # once a TypeError (unhashable): a 500
    (_set(["edges", 0, "from"], ["a"]), "edges[0].from: ['a'] is not a node id"),
    (_set(["edges", 0, "to"], "strategy-controller"), "edges[0]: a node cannot lead to itself"),
    (_set(["edges", 1], {"from": "strategy-controller", "to": "entry-condition-1"}), "edges[1]: duplicate of edges[0]"),
    (_set(["nodes", 0, "type"], "entry_signal"), "nodes: there must be a start node"),
    # JSON true/false where a number is expected: Python reads them as 1 and 0, the graph never does
    (_set(["format_version"], True), "format_version: must be 1"),
    (_set(["format_version"], 1.0), "format_version: must be 1"),
    (_set(["format_version"], "1"), "format_version: must be 1"),
    (_set([*ENTRY, "lots"], True), "nodes[2].config.lots: must be an integer between 1 and 100"),
    (_set([*ENTRY, "strike"], {"rule": "otm", "offset": True}), "nodes[2].config.strike.offset: must be an integer between 1 and 20"),
    (_set([*ENTRY, "stop_loss"], {"type": "points", "value": True}), "nodes[2].config.stop_loss.value: must be a number"),
    (_set([*START, "max_loss"], True), "nodes[0].config.max_loss: must be a number"),
    (_set([*EXIT, "quantity"], {"type": "lots", "value": True}), "nodes[7].config.quantity.value: must be an integer between 1 and 100"),
    (_set([*EXIT, "quantity"], {"type": "percent", "value": True}), "nodes[7].config.quantity.value: must be a number"),
    (_set([*REENTRY, "max_re_entries"], True), "nodes[4].config.max_re_entries: must be an integer between 1 and 10"),
    (_set([*REENTRY, "wait_seconds"], False), "nodes[4].config.wait_seconds: must be an integer between 0 and 3600"),
    (_operand({"type": "candle", "timeframe": "5m", "field": "close", "offset": True}), f"{C}.left.offset: must be an integer between 0 and 50"),
    (_operand({"type": "indicator", "name": "rsi", "timeframe": "5m", "params": {"period": True}}), f"{C}.left.params.period: must be an integer between 2 and 500"),
    (_operand({"type": "indicator", "name": "bb", "timeframe": "5m", "params": {"period": 20, "stddev": True}, "output": "upper"}), f"{C}.left.params.stddev: must be a number between 0.1 and 10"),
    (_set(["nodes", 1, "config", "conditions", "all", 0], {"left": {"type": "underlying_ltp"}, "operator": ">", "right": {"type": "value", "value": True}}),
     f"{C}.right.value: must be a number (compared with a price)"),
]


@pytest.mark.parametrize(("mutate", "expected"), CASES, ids=[c[1][:60] for c in CASES])
def test_each_error_names_its_path(mutate, expected):
    g = base()
    mutate(g)
    assert expected in errors_of(g)


def test_it_rejects_a_second_start_node_and_edges_into_the_start():
    g = base()
    g["nodes"].append({"id": "second", "type": "start", "config": node(g, "strategy-controller")["config"]})
    g["edges"].append({"from": "re-entry-ce", "to": "strategy-controller"})
    errs = errors_of(g)
    assert "nodes[8].type: there must be exactly one start node (the first is 'strategy-controller')" in errs
    assert "edges[10]: re_entry -> start is not allowed (re_entry may lead to: entry, entry_signal)" in errs


def test_it_rejects_unreachable_nodes_and_cycles_other_than_re_entry():
    g = base()
    g["nodes"].append({"id": "orphan", "type": "exit", "config": {}})
    g["edges"].append({"from": "exit-1", "to": "entry-condition-1"})
    errs = errors_of(g)
    assert "nodes[8]: 'orphan' is unreachable from the start node" in errs
    assert "edges[10]: exit -> entry_signal is not allowed (exit may lead to: nothing)" in errs
    assert "edges[10]: creates a cycle ('exit-1' -> 'entry-condition-1'); only re-entry nodes may lead back" in errs


def test_it_accepts_cycles_through_re_entry():
    assert validate_graph(base()) == []  # entry-ce -> re-entry-ce -> entry-ce


def test_it_requires_signals_to_lead_somewhere_and_re_entries_to_follow_entries():
    g = base()
    g["edges"] = [e for e in g["edges"] if e["from"] != "exit-condition-1" and e["to"] != "re-entry-pe"]
    g["edges"].append({"from": "strategy-controller", "to": "re-entry-pe"})
    errs = errors_of(g)
    assert "nodes[6]: exit_signal nodes must lead somewhere" in errs
    assert "edges[8]: start -> re_entry is not allowed (start may lead to: entry, entry_signal, square_off)" in errs
    assert "nodes[5]: a re_entry node must follow an entry node (whose positions it re-enters)" in errs


def test_an_exit_signal_must_come_after_an_entry():
    g = base()
    g["edges"] = [e for e in g["edges"] if e["to"] != "exit-condition-1"]
    g["edges"].append({"from": "strategy-controller", "to": "exit-condition-1"})
    errs = errors_of(g)
    assert "nodes[6]: an exit_signal node must come after an entry node" in errs


def test_a_square_off_time_outside_the_strategy_window_is_impossible():
    g = base()
    g["nodes"].append({"id": "sq", "type": "square_off", "config": {"time": "15:20", "max_profit": "0"}})
    g["edges"].append({"from": "strategy-controller", "to": "sq"})
    errs = errors_of(g)
    assert "nodes[8].config.time: must be after the start node's start_time and not after its square_off_time" in errs
    assert "nodes[8].config.max_profit: must be an amount greater than 0" in errs


def test_it_never_raises_on_garbage():
    for garbage in (None, [], "graph", 3, {"nodes": [None, 1, "x"], "edges": [None]}):
        assert validate_graph(garbage)


# A number written with a huge exponent is short text but an enormous value: turning it into paise or an
# int must not overflow the decimal context (an exception) or take minutes (a worker held), and it must not
# be stored as an amount no market has.
HUGE = [
    (_set([*START, "max_loss"], "1e9999999"), "nodes[0].config.max_loss"),
    (_set([*START, "max_loss"], "1e5000"), "nodes[0].config.max_loss"),
    (_set([*ENTRY, "strike"], {"rule": "premium", "value": "1e5000"}), "nodes[2].config.strike.value"),
    (_set([*ENTRY, "stop_loss"], {"type": "points", "value": "1e9999999"}), "nodes[2].config.stop_loss.value"),
    (_set(["nodes", 1, "config", "conditions", "all", 0],
          {"left": {"type": "underlying_ltp"}, "operator": ">", "right": {"type": "value", "value": "1e9999999"}}),
     f"{C}.right.value"),
]


@pytest.mark.parametrize(("mutate", "path"), HUGE, ids=[f"{c[1]}-{i}" for i, c in enumerate(HUGE)])
def test_a_number_with_a_huge_exponent_is_refused_at_its_path(mutate, path):
    g = base()
    mutate(g)
    assert f"{path}: must be a number with at most 15 digits before the decimal point" in " ".join(errors_of(g))


def test_a_tiny_amount_is_not_rounded_to_zero_paise():
    g = base()
    cond(g)["left"] = {"type": "underlying_ltp"}
    cond(g)["operator"] = ">"
    cond(g)["right"] = {"type": "value", "value": "1e-999999999"}
    assert f"{C}.right.value: must have at most two decimal places (compared with a price)" in errors_of(g)


# -- positional holding -------------------------------------------------------------------------


@pytest.mark.parametrize(("holding", "rule", "expected"), [
    ("swing", None, ["nodes[0].config.holding: must be one of intraday, positional"]),
    ("intraday", "at_expiry",
     ["nodes[0].config.positional_square_off: is only for a positional strategy (holding: positional)"]),
    ("positional", None, ['nodes[0].config.positional_square_off: is required for a positional strategy: '
                          'at_expiry, end_of_range or {"day": "last" or a date, "time": "HH:MM"}']),
    ("positional", "at_close", ["nodes[0].config.positional_square_off: must be one of at_expiry, end_of_range"]),
    ("positional", ["at_expiry"], ["nodes[0].config.positional_square_off: must be an object"]),
    ("positional", {"day": "last"}, ["nodes[0].config.positional_square_off.time: is required"]),
    ("positional", {"day": "2024-02-30", "time": "15:00", "at": 1}, [
        "nodes[0].config.positional_square_off.at: unknown field",
        'nodes[0].config.positional_square_off.day: must be "last" or a date YYYY-MM-DD']),
    ("positional", {"day": 20240229, "time": "15:45"}, [
        'nodes[0].config.positional_square_off.day: must be "last" or a date YYYY-MM-DD',
        "nodes[0].config.positional_square_off.time: '15:45' is outside the exchange session 09:15:00-15:29:59"]),
])
def test_holding_and_positional_square_off_errors_name_their_path(holding, rule, expected):
    g = base()
    assert g["nodes"][0]["type"] == "start"
    g["nodes"][0]["config"]["holding"] = holding
    if rule is not None:
        g["nodes"][0]["config"]["positional_square_off"] = rule
    assert errors_of(g) == expected


@pytest.mark.parametrize(("rule", "parsed"), [
    ("at_expiry", ("at_expiry", None, None)),
    ("end_of_range", ("end_of_range", None, None)),
    ({"day": "last", "time": "15:00"}, ("day", "last", 15 * 3600)),
    ({"day": "2024-02-29", "time": "14:30:15"}, ("day", date(2024, 2, 29), 14 * 3600 + 30 * 60 + 15)),
])
def test_a_positional_strategy_parses_its_square_off_rule(rule, parsed):
    g = base()
    g["nodes"][0]["config"].update(holding="positional", positional_square_off=rule)
    config = parse_graph(g).start.config
    assert config.holding == "positional"
    sq = config.positional_square_off
    assert (sq.rule, sq.day, sq.time) == parsed


def test_an_existing_strategy_stays_intraday():
    config = parse_graph(base()).start.config
    assert (config.holding, config.positional_square_off) == ("intraday", None)


@pytest.mark.parametrize("tf", ["1m", "3m", "5m", "10m", "15m", "30m", "1h", "1d"])
def test_every_timeframe_is_accepted_for_candles_and_indicators(tf):
    for operand in ({"type": "candle", "timeframe": tf, "field": "close", "offset": 1},
                    *([{"type": "candle", "timeframe": tf, "field": "close", "at": "09:15"}] if tf != "1d" else []),
                    {"type": "indicator", "name": "sma", "timeframe": tf, "params": {"period": 3}}):
        g = base()
        _set(SIGNAL_COND, {"left": operand, "operator": ">", "right": {"type": "value", "value": 24000}})(g)
        assert errors_of(g) == [], operand
