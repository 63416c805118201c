"""The builder's Django form without a browser: what a trader types becomes the graph written by hand, and
each validator error lands on the field it is about (pages/strategy_form.py)."""

from datetime import date

from pages.strategy_form import LegFormSet, StrategyFields, build_graph

BASE = {
    "name": "One leg", "underlying": "NIFTY", "start_time": "09:15", "square_off_time": "15:15",
    "entry_kind": "start", "exit_quantity": "all",
    "legs-TOTAL_FORMS": "1", "legs-INITIAL_FORMS": "0", "legs-MIN_NUM_FORMS": "1", "legs-MAX_NUM_FORMS": "20",
    "legs-0-instrument": "option", "legs-0-side": "buy", "legs-0-lots": "1", "legs-0-expiry": "next_weekly",
    "legs-0-right": "CE", "legs-0-strike_rule": "premium", "legs-0-strike_premium": "100.50",
    "legs-0-stop_type": "points", "legs-0-stop_value": "12.5",
}


def build(**changes):
    data = {**BASE, **changes}
    fields, legs = StrategyFields(data), LegFormSet(data, prefix="legs")
    graph, summary = build_graph(fields, legs)
    return graph, summary, fields, legs


def test_typed_values_become_the_graph_written_by_hand():
    graph, summary, _, _ = build(max_loss="2500.50")
    assert summary == []
    assert graph == {
        "format_version": 1,
        "name": "One leg",
        "nodes": [
            {"id": "strategy-controller", "type": "start", "name": "Strategy Controller",
             "config": {"underlying": "NIFTY", "start_time": "09:15", "square_off_time": "15:15",
                        "max_loss": "2500.50"}},
            {"id": "leg-1", "type": "entry", "name": "Buy 1 lot premium 100.50 CE",
             "config": {"instrument": "option", "expiry": "next_weekly", "strike": {"rule": "premium", "value": "100.50"},
                        "right": "CE", "side": "buy", "lots": 1, "stop_loss": {"type": "points", "value": "12.5"}}},
        ],
        "edges": [{"from": "strategy-controller", "to": "leg-1"}],
    }


def test_validator_errors_land_on_their_fields():
    graph, summary, fields, legs = build(**{
        "no_new_entries_after": "15:20", "legs-0-stop_value": "0", "legs-0-strike_premium": "0",
        "entry_kind": "condition", "entry_left_type": "candle", "entry_left_timeframe": "15m",
        "entry_left_field": "high", "entry_left_at": "09:20", "entry_operator": ">", "entry_right_type": "value",
        "entry_right_value": "25000",
        "exit_enabled": "on", "exit_left_type": "underlying_ltp", "exit_operator": "<", "exit_right_type": "value",
        "exit_right_value": "abc",
        "re_entry_enabled": "on", "re_entry_max": "11", "re_entry_on": ["stop_loss"], "re_entry_wait": "0",
    })
    assert graph is None
    assert fields.errors["no_new_entries_after"] == ["must be after the start time and not after the square-off time"]
    assert fields.errors["entry_left_at"] == [
        "no 15m candle opens at 09:20; 15m candles open every 15 minutes from 09:15"]
    assert fields.errors["exit_right_value"] == ["must be a number (compared with a price)"]
    assert fields.errors["re_entry_max"] == ["must be an integer between 1 and 10"]
    assert legs.forms[0].errors["stop_value"] == ["must be a number greater than 0 and at most 100000"]
    assert legs.forms[0].errors["strike_premium"] == ["must be an amount greater than 0"]
    assert summary == []


def test_a_conditional_field_left_empty_is_required_before_any_graph():
    graph, _, fields, legs = build(**{"entry_kind": "time", "legs-0-stop_value": ""})
    assert graph is None
    assert fields.errors["entry_time"] == ["Give the time to enter at."]
    assert legs.forms[0].errors["stop_value"] == ["Give a value, or pick none."]


def test_a_number_with_a_huge_exponent_is_refused_at_its_field_before_any_graph():
    # "1e9999999" passes as a Decimal; turned into the graph's int it would hold the worker for minutes.
    graph, _, fields, legs = build(**{
        "legs-0-stop_value": "1e9999999", "legs-0-strike_premium": "1e5000", "max_loss": "1e9999999",
        "exit_enabled": "on", "exit_left_type": "underlying_ltp", "exit_operator": "<", "exit_right_type": "value",
        "exit_right_value": "1e9999999",
    })
    assert graph is None
    assert legs.forms[0].errors["stop_value"] == ["Ensure that there are no more than 15 digits in total."]
    assert legs.forms[0].errors["strike_premium"] == ["Ensure that there are no more than 15 digits in total."]
    assert fields.errors["max_loss"] == ["Ensure that there are no more than 12 digits in total."]
    # A condition's value is text (a number, rupees or HH:MM), judged by the validator.
    fields2 = build(**{"legs-0-stop_value": "5", "exit_enabled": "on", "exit_left_type": "underlying_ltp",
                       "exit_operator": "<", "exit_right_type": "value", "exit_right_value": "1e9999999"})[2]
    assert fields2.errors["exit_right_value"] == [
        "must be a number with at most 15 digits before the decimal point (compared with a price)"]


# -- holding: intraday or positional ---------------------------------------------------------------

def start_config(**changes):
    graph, summary, fields, legs = build(**changes)
    assert summary == [] and graph is not None, (fields.errors, [f.errors for f in legs.forms])
    return graph["nodes"][0]["config"]


def test_a_positional_strategy_writes_its_holding_and_square_off_as_docs_strategies_says():
    base = {"underlying": "NIFTY", "start_time": "09:15", "square_off_time": "15:15"}
    assert start_config() == base  # intraday, the default, is left unsaid
    assert start_config(holding="intraday") == base
    assert start_config(holding="positional", positional_square_off="at_expiry") == {
        **base, "holding": "positional", "positional_square_off": "at_expiry"}
    assert start_config(holding="positional", positional_square_off="end_of_range") == {
        **base, "holding": "positional", "positional_square_off": "end_of_range"}
    assert start_config(holding="positional", positional_square_off="day", square_off_day="2024-10-30",
                        square_off_day_time="11:00") == {
        **base, "holding": "positional", "positional_square_off": {"day": "2024-10-30", "time": "11:00"}}
    # no day: the session's last day
    assert start_config(holding="positional", positional_square_off="day", square_off_day_time="14:45:30") == {
        **base, "holding": "positional", "positional_square_off": {"day": "last", "time": "14:45:30"}}
    # the day's fields are ignored unless the rule is "day"
    assert start_config(holding="positional", positional_square_off="at_expiry", square_off_day="2024-10-30",
                        square_off_day_time="11:00")["positional_square_off"] == "at_expiry"


def test_a_positional_square_off_left_incomplete_or_wrong_is_marked_at_its_field():
    graph, _, fields, _ = build(holding="positional", positional_square_off="")
    assert graph is None and fields.errors["positional_square_off"] == ["Pick when to square off."]
    graph, _, fields, _ = build(holding="positional", positional_square_off="day", square_off_day="2024-10-30")
    assert graph is None and fields.errors["square_off_day_time"] == ["Give the time to square off at."]
    graph, _, fields, _ = build(holding="positional", positional_square_off="day", square_off_day="30/10/2024",
                                square_off_day_time="11:00")
    assert graph is None and fields.errors["square_off_day"] == ["Enter a valid date."]
    graph, _, fields, _ = build(holding="swing", positional_square_off="sometime")
    assert graph is None
    assert fields.errors["holding"] == ["Select a valid choice. swing is not one of the available choices."]
    assert fields.errors["positional_square_off"] == [
        "Select a valid choice. sometime is not one of the available choices."]
    # the graph validator's error on the day's time lands beside it
    graph, summary, fields, _ = build(holding="positional", positional_square_off="day", square_off_day_time="15:45")
    assert graph is None and summary == []
    assert fields.errors["square_off_day_time"] == ["'15:45' is outside the exchange session 09:15:00-15:29:59"]


def test_a_positional_strategy_opens_in_the_form_as_saved():
    from pages.strategy_form import initial_from
    from strategies.graph.form import form_from_graph

    graph, _, _, _ = build(holding="positional", positional_square_off="day", square_off_day="2024-10-30",
                           square_off_day_time="11:00")
    init, _ = initial_from(form_from_graph(graph))
    assert {k: init.get(k) for k in ("holding", "positional_square_off", "square_off_day", "square_off_day_time")} == {
        "holding": "positional", "positional_square_off": "day", "square_off_day": date(2024, 10, 30),
        "square_off_day_time": "11:00"}
    intraday, _ = initial_from(form_from_graph(build()[0]))
    assert (intraday["holding"], intraday.get("positional_square_off")) == ("intraday", None)
