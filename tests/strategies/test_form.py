"""The strategy form <-> graph translations (strategies/graph/form.py), without Django or a database."""

import copy
import json

import pytest

from strategies.graph import validate_graph
from strategies.graph.examples import example_names, load_example
from strategies.graph.form import (
    Condition,
    Exit,
    Leg,
    NotRepresentable,
    Operand,
    ReEntry,
    Risk,
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


def _positional(g):
    g["nodes"][0]["config"].update(holding="positional", positional_square_off="at_expiry")


@pytest.mark.parametrize(("change", "reason"), [
    (_positional, "the strategy is positional; the form builds intraday strategies only"),
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
