"""The strategy in words (strategies.graph.describe): every expected sentence below is written by hand from
the graph's JSON, not copied from the function's output."""

import pytest

from strategies.graph import parse_graph
from strategies.graph.describe import describe
from strategies.graph.examples import load_example


def test_the_short_straddle_in_words():
    assert describe(parse_graph(load_example("nifty_short_straddle"))) == [
        "NIFTY, from 09:15; no new entries after 14:30; square off 15:15 or at a loss of Rs 6,000.",
        "At 09:20: sell 1 lot ATM CE of the current weekly; stop 25% of premium; "
        "re-enter up to 2 times after a stop, a minute later.",
        "At 09:20: sell 1 lot ATM PE of the current weekly; stop 25% of premium; "
        "re-enter up to 2 times after a stop, a minute later.",
        "When the P&L of Sell ATM CE and Sell ATM PE is at least Rs 2,000 (after Sell ATM CE and Sell ATM PE): "
        "close Sell ATM CE and Sell ATM PE.",
    ]


def test_the_iron_condor_in_words():
    when = "When the time is 09:30 or later and the day is Monday to Friday"
    assert describe(parse_graph(load_example("banknifty_iron_condor"))) == [
        "BANKNIFTY, from 09:15; no new entries after 10:30; square off 15:15 or at a loss of Rs 5,000.",
        f"{when}: sell 2 lots OTM2 CE of the current monthly.",
        f"{when}: sell 2 lots OTM2 PE of the current monthly.",
        f"{when}: buy 2 lots OTM5 CE of the current monthly.",
        f"{when}: buy 2 lots OTM5 PE of the current monthly.",
        "When the strategy's P&L is at least Rs 1,500 (after Sell OTM2 CE and Sell OTM2 PE): "
        "close 50% of Sell OTM2 CE and Sell OTM2 PE.",
        "Square off everything at 14:45 or at a profit of Rs 3,000.",
    ]


def test_the_opening_range_breakout_in_words():
    assert describe(parse_graph(load_example("nifty_opening_range_breakout"))) == [
        "NIFTY, from 09:15; no new entries after 13:00; square off 15:15.",
        "When NIFTY crosses above the 15m candle's high at 09:15: buy 1 lot of NIFTY (as futures); "
        "stop 30 points; target 60 points.",
        "When NIFTY crosses below the 15m candle's low at 09:15: sell 1 lot of NIFTY (as futures); "
        "stop 30 points; target 60 points.",
        "At 15:00 (after Buy NIFTY): close Buy NIFTY.",
        "At 15:00 (after Sell NIFTY): close Sell NIFTY.",
    ]


def test_the_rsi_reversal_in_words():
    risks = "stop 20% of premium; target 40% of premium; trailing stop 15% of premium"
    assert describe(parse_graph(load_example("nifty_rsi_reversal"))) == [
        "NIFTY, from 09:15; no new entries after 14:45; square off 15:15.",
        f"When RSI(14) on 3m crosses above 35: buy 1 lot ATM CE of the current weekly; {risks}; "
        "after any exit, watch 'RSI turns up from oversold' again, up to 3 times.",
        f"When RSI(14) on 3m crosses below 65: buy 1 lot ATM PE of the current weekly; {risks}; "
        "after any exit, watch 'RSI turns down from overbought' again, up to 3 times.",
        "When RSI(14) on 3m is above 70 (after Buy ATM CE): close Buy ATM CE.",
        "When RSI(14) on 3m is below 30 (after Buy ATM PE): close Buy ATM PE.",
    ]


# -- every node type, operand and operator ---------------------------------------------------------


def value(v):
    return {"type": "value", "value": v}


def ind(name, tf="5m", output=None, **params):
    o = {"type": "indicator", "name": name, "timeframe": tf, "params": params}
    if output:
        o["output"] = output
    return o


def cond(left, op, right):
    return {"left": left, "operator": op, "right": right}


def graph_with(nodes, edges, start=None):
    start_config = {"underlying": "NIFTY", "start_time": "09:16:30", "square_off_time": "15:20"}
    start_config.update(start or {})
    return parse_graph({
        "format_version": 1, "name": "Everything",
        "nodes": [{"id": "go", "type": "start", "config": start_config}, *nodes],
        "edges": edges,
    })


def entry(node_id, name, **config):
    base = {"instrument": "option", "expiry": "current_weekly", "strike": {"rule": "atm", "offset": 0},
            "right": "CE", "side": "sell", "lots": 1}
    base.update(config)
    return {"id": node_id, "type": "entry", "name": name, "config": base}


def signal(node_id, kind, conditions):
    return {"id": node_id, "type": kind, "config": {"conditions": conditions}}


def test_strikes_expiries_risks_and_the_controllers_limits_in_words():
    nodes = [
        entry("a", "A", strike={"rule": "atm", "offset": 2}, expiry="next_weekly", lots=3,
              target={"type": "points", "value": 12.5}),
        entry("b", "B", strike={"rule": "atm", "offset": -1}, expiry="next_monthly", right="PE", side="buy",
              trailing_stop={"type": "percent", "value": 7.5}),
        entry("c", "C", strike={"rule": "itm", "offset": 1}, expiry="current_monthly"),
        entry("d", "D", strike={"rule": "premium", "value": "100.50"}, right="PE"),
        entry("e", "E", instrument="underlying", expiry=None, strike=None, right=None, side="buy",
              stop_loss={"type": "percent", "value": 1}),
    ]
    for n in nodes[-1:]:
        n["config"] = {k: v for k, v in n["config"].items() if v is not None}
    graph = graph_with(nodes, [{"from": "go", "to": n["id"]} for n in nodes],
                       start={"max_loss": 2500, "max_profit": "12345.5"})

    assert describe(graph) == [
        "NIFTY, from 09:16:30; square off 15:20, at a loss of Rs 2,500 or at a profit of Rs 12,345.50.",
        "At 09:16:30: sell 3 lots ATM+2 CE of the next weekly; target 12.5 points.",
        "At 09:16:30: buy 1 lot ATM-1 PE of the next monthly; trailing stop 7.5% of premium.",
        "At 09:16:30: sell 1 lot ITM1 CE of the current monthly.",
        "At 09:16:30: sell 1 lot PE nearest Rs 100.50 premium of the current weekly.",
        "At 09:16:30: buy 1 lot of NIFTY (as futures); stop 1% of price.",
    ]


def test_every_operand_and_operator_in_words():
    conditions = {"any": [
        {"all": [
            cond({"type": "underlying_ltp"}, ">", {"type": "candle", "timeframe": "1m", "field": "close"}),
            cond({"type": "candle", "timeframe": "5m", "field": "open", "offset": 1}, "<",
                 {"type": "candle", "timeframe": "3m", "field": "low", "offset": 3}),
            cond({"type": "option_ltp", "expiry": "current_weekly", "strike": {"rule": "otm", "offset": 2},
                  "right": "CE"}, "<=", value(80)),
        ]},
        cond(ind("sma", period=20), "crosses_above", ind("ema", "15m", period=9)),
        cond(ind("vwap"), "!=", ind("bb", output="upper", period=20, stddev=2)),
        cond(ind("atr", period=14), "==", value("12.25")),
        cond(ind("supertrend", output="direction", period=10, multiplier=3), "==", value(1)),
        cond(ind("supertrend", period=7, multiplier=2.5), "crosses_below", {"type": "underlying_ltp"}),
        {"left": ind("rsi", period=14), "operator": "within_range", "low": value(40), "high": value(60)},
        {"left": ind("bb", output="lower", period=20, stddev=2), "operator": "outside_range",
         "low": value(24000), "high": value("24500")},
        cond({"type": "time_of_day"}, "<", value("14:00")),
        cond({"type": "time_of_day"}, "<=", value("14:00:30")),
        cond({"type": "time_of_day"}, ">", value("09:45")),
        cond({"type": "time_of_day"}, "==", value("10:00")),
        cond({"type": "day_of_week"}, "==", value("thu")),
        cond({"type": "day_of_week"}, "!=", value("mon")),
        {"left": {"type": "day_of_week"}, "operator": "outside_range", "low": value("tue"), "high": value("wed")},
    ]}
    graph = graph_with(
        [signal("s", "entry_signal", conditions), entry("leg", "Leg")],
        [{"from": "go", "to": "s"}, {"from": "s", "to": "leg"}],
    )

    [_, leg] = describe(graph)
    assert leg == (
        "When (NIFTY is above the last 1m candle's close, the 5m open 1 candle back is below the 3m low "
        "3 candles back and the OTM2 CE of the current weekly is at most Rs 80), "
        "SMA(20) on 5m crosses above EMA(9) on 15m, "
        "VWAP on 5m is not the upper Bollinger(20, 2) band on 5m, "
        "ATR(14) on 5m is Rs 12.25, "
        "the Supertrend(10, 3) direction on 5m is 1, "
        "Supertrend(7, 2.5) on 5m crosses below NIFTY, "
        "RSI(14) on 5m is between 40 and 60, "
        "the lower Bollinger(20, 2) band on 5m is outside Rs 24,000 to Rs 24,500, "
        "the time is before 14:00, the time is 14:00:30 or earlier, the time is after 09:45, "
        "the time is 10:00, the day is Thursday, the day is not Monday "
        "or the day is not Tuesday to Wednesday: sell 1 lot ATM CE of the current weekly."
    )


def test_exits_square_offs_and_re_entries_in_words():
    nodes = [
        entry("short", "Short"),
        entry("long", "Long", side="buy", right="PE"),
        {"id": "again", "type": "re_entry", "config": {"max_re_entries": 1, "on": ["target", "trailing_stop"],
                                                       "wait_seconds": 90}},
        {"id": "more", "type": "re_entry", "config": {"max_re_entries": 4, "on": ["exit_condition_met"],
                                                      "wait_seconds": 300}},
        signal("pnl", "exit_signal", {"all": [
            cond({"type": "position_pnl", "unit": "percent"}, ">=", value(30)),
            cond({"type": "position_pnl", "entries": ["short"]}, "<", value(-1500)),
        ]}),
        signal("cut", "exit_signal", {"any": [cond({"type": "strategy_pnl"}, "<=", value("-2000.75"))]}),
        {"id": "lots-out", "type": "exit", "config": {"positions": ["long"], "quantity": {"type": "lots", "value": 2}}},
        {"id": "all-out", "type": "exit", "config": {}},
        {"id": "flat", "type": "square_off", "config": {}},
        {"id": "timed", "type": "square_off", "config": {"max_loss": 4000}},
    ]
    edges = [
        {"from": "go", "to": "short"}, {"from": "go", "to": "timed"},
        {"from": "short", "to": "again"}, {"from": "again", "to": "short"},
        {"from": "short", "to": "more"}, {"from": "more", "to": "long"},
        {"from": "short", "to": "pnl"}, {"from": "long", "to": "pnl"},
        {"from": "pnl", "to": "lots-out"}, {"from": "pnl", "to": "all-out"},
        {"from": "short", "to": "cut"}, {"from": "cut", "to": "flat"},
    ]

    assert describe(graph_with(nodes, edges)) == [
        "NIFTY, from 09:16:30; square off 15:20.",
        "At 09:16:30: sell 1 lot ATM CE of the current weekly; re-enter once after a target or a trailing stop, "
        "90 seconds later; after an exit signal, watch 'Long' again, up to 4 times, 5 minutes later.",
        "On a re-entry only: buy 1 lot ATM PE of the current weekly.",
        "When the P&L of the open positions in % of entry value is at least 30% and the P&L of Short is below "
        "-Rs 1,500 (after Short and Long): close 2 lots of Long; close every open position.",
        "When the strategy's P&L is at most -Rs 2,000.75 (after Short): square off everything.",
        "Square off everything at a loss of Rs 4,000.",
    ]


@pytest.mark.parametrize("name", ["nifty_short_straddle", "banknifty_iron_condor"])
def test_it_is_pure_and_repeatable(name):
    graph = parse_graph(load_example(name))
    assert describe(graph) == describe(graph)


@pytest.mark.parametrize(("rule", "words"), [
    ("at_expiry", "NIFTY, positional, from 09:15 on the first day; held to expiry, options settling there; "
                  "square off at a loss of Rs 6,000."),
    ("end_of_range", "NIFTY, positional, from 09:15 on the first day; no new entries after 14:30 on the last day; "
                     "square off 15:15 on the last day or at a loss of Rs 6,000."),
    ({"day": "2024-10-31", "time": "11:00"}, "NIFTY, positional, from 09:15 on the first day; "
                                             "square off 11:00 on 2024-10-31 or at a loss of Rs 6,000."),
])
def test_a_positional_controller_in_words(rule, words):
    g = load_example("nifty_short_straddle")
    g["nodes"][0]["config"].update(holding="positional", positional_square_off=rule)
    assert describe(parse_graph(g))[0] == words
