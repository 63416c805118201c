"""The strategy form <-> graph translations (strategies/graph/form.py), without Django or a database."""

import copy
import json
from dataclasses import replace

import pytest

from strategies.graph import parse_graph, validate_graph
from strategies.graph.describe import describe
from strategies.graph.examples import example_names, load_example
from strategies.graph.form import (
    Condition,
    Exit,
    Leg,
    NotRepresentable,
    Operand,
    ReEntry,
    Risk,
    SquareOff,
    StrategyForm,
    form_from_graph,
    graph_from_form,
)

STRADDLE = StrategyForm(
    name="Straddle",
    underlying="NIFTY",
    start_time="09:15",
    no_new_entries_after="14:30",
    square_off_time="15:15",
    legs=(
        Leg(side="sell", lots=1, right="CE", stop_loss=Risk("percent", "25")),
        Leg(side="sell", lots=1, right="PE", stop_loss=Risk("percent", "25")),
    ),
    entry=Condition(Operand("time_of_day"), ">=", Operand("value", value="09:20")),
    re_entry=ReEntry(max_re_entries=2, on=("stop_loss",), wait_seconds=60),
    max_loss="6000",
)

# Written by hand from docs/strategies.md for the form above.
STRADDLE_GRAPH = {
    "format_version": 1,
    "name": "Straddle",
    "nodes": [
        {"id": "strategy-controller", "type": "start", "name": "Strategy Controller",
         "config": {"underlying": "NIFTY", "start_time": "09:15", "no_new_entries_after": "14:30",
                    "square_off_time": "15:15", "max_loss": "6000"}},
        {"id": "entry-condition", "type": "entry_signal", "name": "At 09:20",
         "config": {"conditions": {"all": [
             {"left": {"type": "time_of_day"}, "operator": ">=", "right": {"type": "value", "value": "09:20"}}]}}},
        {"id": "leg-1", "type": "entry", "name": "Sell 1 lot ATM CE",
         "config": {"instrument": "option", "expiry": "current_weekly", "strike": {"rule": "atm", "offset": 0},
                    "right": "CE", "side": "sell", "lots": 1, "stop_loss": {"type": "percent", "value": "25"}}},
        {"id": "leg-2", "type": "entry", "name": "Sell 1 lot ATM PE",
         "config": {"instrument": "option", "expiry": "current_weekly", "strike": {"rule": "atm", "offset": 0},
                    "right": "PE", "side": "sell", "lots": 1, "stop_loss": {"type": "percent", "value": "25"}}},
        {"id": "re-entry-1", "type": "re_entry", "name": "Re-enter leg 1",
         "config": {"max_re_entries": 2, "on": ["stop_loss"], "wait_seconds": 60}},
        {"id": "re-entry-2", "type": "re_entry", "name": "Re-enter leg 2",
         "config": {"max_re_entries": 2, "on": ["stop_loss"], "wait_seconds": 60}},
    ],
    "edges": [
        {"from": "strategy-controller", "to": "entry-condition"},
        {"from": "entry-condition", "to": "leg-1"},
        {"from": "entry-condition", "to": "leg-2"},
        {"from": "leg-1", "to": "re-entry-1"},
        {"from": "re-entry-1", "to": "leg-1"},
        {"from": "leg-2", "to": "re-entry-2"},
        {"from": "re-entry-2", "to": "leg-2"},
    ],
}

RSI_EXIT = Exit(
    Condition(Operand("indicator", name="rsi", timeframe="5m", params=(("period", 14),)), "crosses_below",
              Operand("value", value=30)),
    quantity="percent", quantity_value=50,
)
BREAKOUT = Condition(Operand("underlying_ltp"), "crosses_above",
                     Operand("candle", timeframe="15m", field="high", at="09:15"))


def test_a_two_leg_straddle_builds_the_graph_written_by_hand():
    assert graph_from_form(STRADDLE) == STRADDLE_GRAPH
    assert validate_graph(STRADDLE_GRAPH) == []


@pytest.mark.parametrize("form", [
    STRADDLE,
    StrategyForm(name="At start", underlying="BANKNIFTY", start_time="09:20", square_off_time="15:00",
                 legs=(Leg(side="buy", lots=2, expiry="next_weekly", strike_rule="otm", strike_offset=3, right="PE",
                           target=Risk("points", 40), trailing_stop=Risk("percent", 10)),)),
    StrategyForm(name="Breakout", underlying="NIFTY", start_time="09:15", square_off_time="15:15",
                 legs=(Leg(instrument="underlying", side="buy", lots=1, expiry=None, strike_rule=None,
                           strike_offset=None, right=None, stop_loss=Risk("points", 30)),),
                 entry=BREAKOUT, exit=RSI_EXIT, max_profit="2500.50", description="text"),
    StrategyForm(name="Premium", underlying="NIFTY", start_time="09:30", square_off_time="15:10",
                 legs=(Leg(strike_rule="premium", strike_offset=None, strike_premium="100"),
                       Leg(strike_rule="itm", strike_offset=1, right="PE"),
                       Leg(strike_rule="atm", strike_offset=-2, side="buy", lots=3)),
                 entry=Condition(Operand("indicator", name="rsi", timeframe="5m", params=(("period", 14),)),
                                 "crosses_below", Operand("value", value="30")),
                 exit=Exit(Condition(Operand("position_pnl"), "<=", Operand("value", value="-1500"))),
                 re_entry=ReEntry(3, ("stop_loss", "trailing_stop"), 0)),
], ids=["straddle", "at-start", "breakout", "premium"])
def test_form_to_graph_to_form_is_the_identity_and_the_graph_is_valid(form):
    graph = graph_from_form(form)
    assert validate_graph(graph) == []
    assert form_from_graph(graph) == form


# Each shipped example either round-trips (ids renamed as below, names ignored) or says why not.
EXAMPLE_OUTCOMES = {
    "nifty_short_straddle": {"strategy-controller": "strategy-controller", "entry-condition-1": "entry-condition",
                             "entry-ce": "leg-1", "entry-pe": "leg-2", "re-entry-ce": "re-entry-1",
                             "re-entry-pe": "re-entry-2", "exit-condition-1": "exit-condition", "exit-1": "exit"},
    "nifty_opening_range_breakout": "the graph has 2 entry signals",
    "nifty_rsi_reversal": "the graph has 2 entry signals",
    "banknifty_iron_condor": "square-off node",
}


def _renamed(graph, ids):
    text = json.dumps(graph)
    for old, new in ids.items():
        text = text.replace(f'"{old}"', f'"{new}"')
    g = json.loads(text)
    nodes = sorted((n["id"], n["type"], json.dumps(n["config"], sort_keys=True)) for n in g["nodes"])
    edges = sorted((e["from"], e["to"]) for e in g["edges"])
    return g["name"], g.get("description"), nodes, edges


def test_every_shipped_example_is_listed_here():
    assert sorted(EXAMPLE_OUTCOMES) == example_names()


@pytest.mark.parametrize("name", sorted(EXAMPLE_OUTCOMES))
def test_each_example_round_trips_or_says_why_not(name):
    graph = load_example(name)
    outcome = EXAMPLE_OUTCOMES[name]
    if isinstance(outcome, str):
        with pytest.raises(NotRepresentable) as e:
            form_from_graph(graph)
        assert outcome in e.value.reason
    else:
        assert _renamed(graph_from_form(form_from_graph(graph)), {}) == _renamed(graph, outcome)


def _straddle_with(change):
    g = copy.deepcopy(STRADDLE_GRAPH)
    change(g)
    assert validate_graph(g) == [], "the changed graph must stay valid: only the form cannot show it"
    return g


def _nested(g):
    g["nodes"][1]["config"]["conditions"] = {"all": [{"any": [g["nodes"][1]["config"]["conditions"]["all"][0]]}]}


def _two_conditions(g):
    cond = g["nodes"][1]["config"]["conditions"]["all"]
    cond.append({"left": {"type": "day_of_week"}, "operator": "!=", "right": {"type": "value", "value": "thu"}})


def _range(g):
    g["nodes"][1]["config"]["conditions"]["all"][0] = {
        "left": {"type": "time_of_day"}, "operator": "within_range",
        "low": {"type": "value", "value": "09:20"}, "high": {"type": "value", "value": "10:00"}}


def _re_entries_differ(g):
    g["nodes"][5]["config"]["max_re_entries"] = 3


def _re_entry_to_signal(g):
    g["edges"][4] = {"from": "re-entry-1", "to": "entry-condition"}


def _leg_from_start(g):
    g["edges"][2] = {"from": "strategy-controller", "to": "leg-2"}


@pytest.mark.parametrize(("change", "reason"), [
    (_nested, "a condition group nested two deep"),
    (_two_conditions, "the entry signal has 2 conditions; the form holds one"),
    (_range, "the entry signal uses the within_range operator"),
    (_re_entries_differ, "the legs re-enter differently"),
    (_re_entry_to_signal, "does not lead back to the one leg it follows"),
    (_leg_from_start, "connected in a way the form does not build"),
])
def test_a_graph_the_form_cannot_show_names_what(change, reason):
    with pytest.raises(NotRepresentable) as e:
        form_from_graph(_straddle_with(change))
    assert reason in e.value.reason


def test_an_invalid_graph_is_not_representable_and_says_where():
    g = copy.deepcopy(STRADDLE_GRAPH)
    g["nodes"][2]["config"]["lots"] = 0
    with pytest.raises(NotRepresentable) as e:
        form_from_graph(g)
    assert "nodes[2].config.lots" in e.value.reason


# -- positional strategies -------------------------------------------------------------------------

# The short strangle of docs/strategies.md ("Positional strategies"), as the form holds it: sold at 09:20
# on the session's first day and held to the weekly expiry.
STRANGLE = StrategyForm(
    name="Positional NIFTY strangle", underlying="NIFTY", start_time="09:15", square_off_time="15:15",
    legs=(Leg(strike_rule="otm", strike_offset=4, right="CE"), Leg(strike_rule="otm", strike_offset=4, right="PE")),
    entry=Condition(Operand("time_of_day"), ">=", Operand("value", value="09:20")),
    holding="positional", square_off=SquareOff("at_expiry"),
)

# Written by hand from docs/strategies.md for the form above.
STRANGLE_GRAPH = {
    "format_version": 1,
    "name": "Positional NIFTY strangle",
    "nodes": [
        {"id": "strategy-controller", "type": "start", "name": "Strategy Controller",
         "config": {"underlying": "NIFTY", "start_time": "09:15", "square_off_time": "15:15",
                    "holding": "positional", "positional_square_off": "at_expiry"}},
        {"id": "entry-condition", "type": "entry_signal", "name": "At 09:20",
         "config": {"conditions": {"all": [
             {"left": {"type": "time_of_day"}, "operator": ">=", "right": {"type": "value", "value": "09:20"}}]}}},
        {"id": "leg-1", "type": "entry", "name": "Sell 1 lot OTM4 CE",
         "config": {"instrument": "option", "expiry": "current_weekly", "strike": {"rule": "otm", "offset": 4},
                    "right": "CE", "side": "sell", "lots": 1}},
        {"id": "leg-2", "type": "entry", "name": "Sell 1 lot OTM4 PE",
         "config": {"instrument": "option", "expiry": "current_weekly", "strike": {"rule": "otm", "offset": 4},
                    "right": "PE", "side": "sell", "lots": 1}},
    ],
    "edges": [
        {"from": "strategy-controller", "to": "entry-condition"},
        {"from": "entry-condition", "to": "leg-1"},
        {"from": "entry-condition", "to": "leg-2"},
    ],
}


def test_a_positional_strangle_builds_the_graph_written_by_hand():
    assert graph_from_form(STRANGLE) == STRANGLE_GRAPH
    assert validate_graph(STRANGLE_GRAPH) == []
    assert form_from_graph(STRANGLE_GRAPH) == STRANGLE


@pytest.mark.parametrize(("square_off", "rule"), [
    (SquareOff("at_expiry"), "at_expiry"),
    (SquareOff("end_of_range"), "end_of_range"),
    (SquareOff("day", "last", "14:45"), {"day": "last", "time": "14:45"}),
    (SquareOff("day", "2024-10-30", "11:00:30"), {"day": "2024-10-30", "time": "11:00:30"}),
], ids=["at-expiry", "end-of-range", "last-day", "a-date"])
def test_each_positional_square_off_goes_both_ways(square_off, rule):
    form = replace(STRANGLE, square_off=square_off, no_new_entries_after="14:30", max_loss="5000")
    graph = graph_from_form(form)
    assert validate_graph(graph) == []
    assert graph["nodes"][0]["config"] == {
        "underlying": "NIFTY", "start_time": "09:15", "no_new_entries_after": "14:30", "square_off_time": "15:15",
        "max_loss": "5000", "holding": "positional", "positional_square_off": rule}
    assert form_from_graph(graph) == form


def test_the_docs_positional_strangle_reads_into_the_form_and_builds_back():
    # docs/strategies.md's JSON (node ids of its own, legs straight under the start): the form shows it
    # with the legs entered at the start time, and builds the same graph up to ids and names.
    graph = {"format_version": 1, "name": "Positional NIFTY strangle", "nodes": [
        {"id": "start", "type": "start", "config": {"underlying": "NIFTY", "start_time": "09:20",
         "square_off_time": "15:15", "holding": "positional", "positional_square_off": "at_expiry"}},
        {"id": "short-ce", "type": "entry", "config": {"instrument": "option", "expiry": "current_weekly",
         "strike": {"rule": "otm", "offset": 4}, "right": "CE", "side": "sell", "lots": 1}},
        {"id": "short-pe", "type": "entry", "config": {"instrument": "option", "expiry": "current_weekly",
         "strike": {"rule": "otm", "offset": 4}, "right": "PE", "side": "sell", "lots": 1}}],
        "edges": [{"from": "start", "to": "short-ce"}, {"from": "start", "to": "short-pe"}]}
    form = form_from_graph(graph)
    assert (form.holding, form.square_off, form.entry) == ("positional", SquareOff("at_expiry"), None)
    ids = {"start": "strategy-controller", "short-ce": "leg-1", "short-pe": "leg-2"}
    built = graph_from_form(form)
    assert {n["id"]: (n["type"], n["config"]) for n in built["nodes"]} == {
        ids[n["id"]]: (n["type"], n["config"]) for n in graph["nodes"]}
    assert built["edges"] == [{"from": ids[e["from"]], "to": ids[e["to"]]} for e in graph["edges"]]


def test_an_intraday_graph_that_says_so_reads_into_the_form():
    g = copy.deepcopy(STRADDLE_GRAPH)
    g["nodes"][0]["config"]["holding"] = "intraday"
    assert form_from_graph(g) == STRADDLE  # the default, which the form's graph leaves unsaid


def test_a_positional_form_without_its_square_off_builds_a_graph_the_validator_refuses_at_that_field():
    graph = graph_from_form(replace(STRANGLE, square_off=None))
    assert [e.path for e in validate_graph(graph)] == ["nodes[0].config.positional_square_off"]


@pytest.mark.parametrize(("square_off", "words"), [
    (SquareOff("at_expiry"), "NIFTY, positional, from 09:15 on the first day; held to expiry, options settling there."),
    (SquareOff("day", "last", "14:45"), "NIFTY, positional, from 09:15 on the first day; square off 14:45 on the last day."),
])
def test_the_strategy_in_words_says_a_form_built_strategy_is_positional(square_off, words):
    graph = parse_graph(graph_from_form(replace(STRANGLE, square_off=square_off)))
    assert describe(graph)[0] == words
