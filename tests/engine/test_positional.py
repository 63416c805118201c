"""Positional sessions: one run over several days, held overnight, settled at expiry.

Every expected figure is worked out by hand in the comments from the scripted prices below, with the
rates in force on the day (docs/marketdata.md, "Charges"): from 1 Oct 2024 STT 0.1% of premium on
option sells, NSE transaction charge 0.03503% + IPFT 0.0005% = 0.03553% of premium, SEBI Rs 10 a crore
(0.0001%), GST 18% on brokerage + exchange + SEBI, brokerage Rs 20 an order; STT on options exercised
0.125% of the intrinsic value to 31 Mar 2026, 0.15% from 1 Apr 2026, paid by the holder only. STT is
rounded half up to the rupee, every other charge to the paisa.
"""

from datetime import date
from decimal import Decimal

import pytest

from live_trading.engine.engine import EngineSettings
from live_trading.engine.events import CandleCompleted, ListSink, NodeExecuted, SessionComplete, TradeClosed
from live_trading.engine.fees import FeeModel
from live_trading.engine.money import iso
from live_trading.engine.multiday import MultiDayEngine
from strategies.graph import parse_graph
from tests.engine.scripted import at_time, build, graph_data, opt, option_entry, scripted_day, start

D = Decimal
WEEK = [
    date(2024, 10, 28),
    date(2024, 10, 29),
    date(2024, 10, 30),
    date(2024, 10, 31),
]  # Mon..Thu, expiry Thu
CE, PE = opt(24500, "CE"), opt(24000, "PE")


def strangle(rule="at_expiry"):
    """The strangle below, parsed."""
    return parse_graph(strangle_data(rule))


def strangle_data(rule="at_expiry") -> dict:
    """Sell one lot (25) of the 24500 CE and of the 24000 PE (five strikes out of the money from an
    ATM of 24250) at 09:16 on the first day; held by ``rule`` (None: intraday)."""
    extra = {} if rule is None else {"holding": "positional", "positional_square_off": rule}
    otm5 = {"rule": "otm", "offset": 5}
    return graph_data(
        [
            start(square_off="09:29:00", **extra),
            at_time("entry-condition", "09:16:00"),
            option_entry("short-ce", "CE", "sell", strike=otm5),
            option_entry("short-pe", "PE", "sell", strike=otm5),
        ],
        [
            ("strategy-controller", "entry-condition"),
            ("entry-condition", "short-ce"),
            ("entry-condition", "short-pe"),
        ],
    )


def week_of_prices():
    """Four scripted days, 09:15:00-09:30:00 each. Closes (the last price of each day):
    Mon CE 58 PE 50; Tue CE 70 PE 40; Wed CE 45 PE 20; Thu (expiry) CE 38.00 PE 0.05 with NIFTY
    closing at 24537.35, above the call's strike, below the put's. NIFTY opens at 24250 every day;
    the options at Monday's 60 / 55, later at their last close, until 09:20."""
    closes = [
        ("24250.00", "58.00", "50.00"),
        ("24400.00", "70.00", "40.00"),
        ("24450.00", "45.00", "20.00"),
        ("24537.35", "38.00", "0.05"),
    ]
    days = []
    for i, (on, (spot, ce, pe)) in enumerate(zip(WEEK, closes, strict=True)):
        opening = {"NIFTY": "24250.00", CE: "60.00", PE: "55.00"} if i == 0 else {}
        days.append(
            scripted_day(
                {
                    "NIFTY": {"09:15:00": "24250.00", "09:20:00": spot},
                    CE: {"09:15:00": opening.get(CE, ce), "09:20:00": ce},
                    PE: {"09:15:00": opening.get(PE, pe), "09:20:00": pe},
                },
                until="09:30:00",
                on=on,
            )
        )
    return days


def run(graph, days):
    sink = ListSink()
    engine = MultiDayEngine(graph, days, sink)
    summary = engine.run()
    return engine, sink, summary


# Entry charges (sells at 09:16 on Monday, fills at the LTP, no slippage):
#   CE: premium 60.00 x 25 = Rs 1500.00 = 150000 paise. Brokerage 2000; exchange 150000 x 0.03553% =
#       53.295 -> 53; SEBI 0.15 -> 0; STT 150000 x 0.1% = 150 paise = Rs 1.50 -> Rs 2 = 200;
#       GST 18% x (2000 + 53 + 0) = 369.54 -> 370. Total 2623.
#   PE: 55.00 x 25 = Rs 1375.00 = 137500 paise. Brokerage 2000; exchange 48.85 -> 49; SEBI 0.1375 -> 0;
#       STT Rs 1.375 -> Rs 1 = 100; GST 18% x 2049 = 368.82 -> 369. Total 2518.
CE_ENTRY_CHARGES = 2000 + 53 + 0 + 200 + 370
PE_ENTRY_CHARGES = 2000 + 49 + 0 + 100 + 369
# Settlement on Thursday's close, S = 24537.35: the call's intrinsic value 24537.35 - 24500 = 37.35 a
# unit (not its last trade, 38.00), the put's max(24000 - 24537.35, 0) = 0. The writer pays no STT on
# exercise and settlement is not an order: no charges at exit.
CE_GROSS = (6000 - 3735) * 25  # 56625 paise
PE_GROSS = (5500 - 0) * 25  # 137500
NET = CE_GROSS + PE_GROSS - CE_ENTRY_CHARGES - PE_ENTRY_CHARGES  # 188984


def test_a_short_strangle_held_to_expiry_settles_at_intrinsic_value():
    engine, sink, summary = run(strangle(), week_of_prices())
    trades = {t.symbol: t for t in (e.trade for e in sink.of(TradeClosed))}
    assert set(trades) == {CE, PE}
    ce, pe = trades[CE], trades[PE]
    # Held from Monday 09:16 to Thursday's close: one entry each, never squared off in between.
    assert (ce.exit_reason, ce.exit_price, ce.pnl) == ("settled", D("37.35"), D(CE_GROSS) / 100)
    assert (pe.exit_reason, pe.exit_price, pe.pnl) == ("expired", D("0.00"), D(PE_GROSS) / 100)
    assert (ce.charges, pe.charges) == (D(CE_ENTRY_CHARGES) / 100, D(PE_ENTRY_CHARGES) / 100)
    assert (iso(ce.entry_time), iso(ce.exit_time), iso(pe.exit_time)) == (
        "2024-10-28T09:16:00+05:30",
        "2024-10-31T09:30:00+05:30",
        "2024-10-31T09:30:00+05:30",
    )
    assert summary.net_pnl == D(NET) / 100
    settlement = [e for e in sink.of(NodeExecuted) if e.event_type == "expiry_settlement"]
    assert len(settlement) == 1
    assert settlement[0].details["settlement_price"] == "24537.35"
    assert [(p["symbol"], p["price"], p["exit_reason"]) for p in settlement[0].details["positions"]] == [
        (CE, "37.35", "settled"),
        (PE, "0.00", "expired"),
    ]
    done = sink.of(SessionComplete)
    assert len(done) == 1 and done[0].status == "completed"
    assert engine.ticks_processed == engine.total_ticks == 4 * 901


def test_the_daily_pnl_marks_to_market_at_each_close_and_adds_up_to_the_total():
    _, _, summary = run(strangle(), week_of_prices())
    # Net P&L at each close (unrealized at the closing prices less the entry charges):
    # Mon (60-58) x 25 + (55-50) x 25 = Rs 175 -> 17500 - 5141 = 12359
    # Tue (60-70) x 25 + (55-40) x 25 = Rs 125 -> 12500 - 5141 = 7359: the day -5000
    # Wed (60-45) x 25 + (55-20) x 25 = Rs 1250 -> 125000 - 5141 = 119859: the day 112500
    # Thu settled: 188984: the day 69125
    expected = [12359, -5000, 112500, 69125]
    assert sum(expected) == NET
    assert [(d, pnl) for d, pnl in summary.daily_pnl] == [
        (d, D(p) / 100) for d, p in zip(WEEK, expected, strict=True)
    ]
    assert summary.to_dict()["daily_pnl"][1] == {"date": "2024-10-29", "pnl": "-50.00"}


def test_an_intraday_session_over_the_same_days_squares_off_every_day():
    _, sink, summary = run(strangle(None), week_of_prices())
    reasons = [(iso(e.trade.exit_time), e.trade.exit_reason) for e in sink.of(TradeClosed)]
    # an entry every day (the controller restarts), squared off at 09:29 every day
    assert reasons == [(f"{d}T09:29:00+05:30", "square_off") for d in WEEK for _ in (CE, PE)]
    assert [d for d, _ in summary.daily_pnl] == WEEK


@pytest.mark.parametrize(
    ("rule", "exit_day", "reason"),
    [
        ("end_of_range", WEEK[2], "square_off"),
        ({"day": "last", "time": "09:25"}, WEEK[2], "square_off"),
        ({"day": "2024-10-29", "time": "09:25"}, WEEK[1], "square_off"),
        ({"day": "2024-11-29", "time": "09:25"}, WEEK[2], "square_off"),  # not a day of the session: the last
    ],
)
def test_the_square_off_rule_picks_the_day_and_time(rule, exit_day, reason):
    # three days, ending before the expiry: nothing settles
    _, sink, _ = run(strangle(rule), week_of_prices()[:3])
    exits = {(iso(e.trade.exit_time), e.trade.exit_reason) for e in sink.of(TradeClosed)}
    at = "09:29:00" if rule == "end_of_range" else "09:25:00"
    assert exits == {(f"{exit_day}T{at}+05:30", reason)}


def test_at_expiry_over_a_range_ending_before_the_expiry_closes_at_the_session_end():
    _, sink, summary = run(strangle("at_expiry"), week_of_prices()[:2])
    exits = {(iso(e.trade.exit_time), e.trade.exit_reason) for e in sink.of(TradeClosed)}
    assert exits == {("2024-10-29T09:30:00+05:30", "session_end")}
    # Tuesday's close at the last price: CE 70, PE 40, bought back with charges (not worked here)
    assert len(summary.daily_pnl) == 2


def _long_call_days(days, strike, close_spot, expiry):
    call = opt(strike, "CE", expiry)
    return call, [
        scripted_day(
            {
                "NIFTY": {
                    "09:15:00": f"{strike}.00",
                    "09:20:00": close_spot if i == len(days) - 1 else f"{strike}.00",
                },
                call: {"09:15:00": "50.00"},
            },
            until="09:30:00",
            on=on,
        )
        for i, on in enumerate(days)
    ]


def _long_call():
    leg = option_entry("long-ce", "CE", "buy", strike={"rule": "atm", "offset": 0})
    return build(
        [
            start(square_off="09:29:00", holding="positional", positional_square_off="at_expiry"),
            at_time("entry-condition", "09:16:00"),
            leg,
        ],
        [("strategy-controller", "entry-condition"), ("entry-condition", "long-ce")],
    )


@pytest.mark.parametrize(
    ("days", "strike", "close", "lot", "stt"),
    [
        # 2024: S = 24612.40, intrinsic 112.40 x 25 = Rs 2810.00; STT 0.125% = Rs 3.5125 -> Rs 4
        (WEEK[2:], 24500, "24612.40", 25, 400),
        # 2026 (weekly expiry Tuesday 7 Apr, lot 65): S = 23731.10, intrinsic 231.10 x 65 = Rs 15021.50;
        # STT 0.15% = Rs 22.53225 -> Rs 23
        ([date(2026, 4, 6), date(2026, 4, 7)], 23500, "23731.10", 65, 2300),
    ],
)
def test_the_holder_of_a_call_settled_in_the_money_pays_stt_on_exercise(days, strike, close, lot, stt):
    expiry = days[-1].isoformat()
    call, market = _long_call_days(days, strike, close, expiry)
    _, sink, _ = run(_long_call(), market)
    (trade,) = [e.trade for e in sink.of(TradeClosed)]
    intrinsic = D(close) - strike
    assert (trade.symbol, trade.exit_reason, trade.exit_price, trade.quantity) == (
        call,
        "settled",
        intrinsic,
        lot,
    )
    exit_order = next(e for e in sink.of(NodeExecuted) if e.event_type == "expiry_settlement")
    assert exit_order.details["positions"][0]["exit_reason"] == "settled"
    # the settlement's own charges: the STT alone
    assert _exit_charges(sink) == D(stt) / 100


@pytest.mark.parametrize("fees", [FeeModel.from_rupees("none"), FeeModel.from_rupees("per_order", per_order="20")])
def test_a_settlement_pays_nothing_under_a_fee_model_that_charges_per_order(fees):
    """Settlement is not an order: ``none`` charges nothing, ``per_order`` charges an order (the entry),
    and neither adds the NSE's STT on exercise."""
    days = WEEK[2:]
    _, market = _long_call_days(days, 24500, "24612.40", days[-1].isoformat())
    sink = ListSink()
    MultiDayEngine(_long_call(), market, sink, EngineSettings(fees=fees)).run()
    (trade,) = [e.trade for e in sink.of(TradeClosed)]
    assert trade.exit_reason == "settled"
    assert _exit_charges(sink) == 0
    assert trade.charges == (D("20.00") if fees.kind == "per_order" else 0)


def _exit_charges(sink):
    (event,) = [e for e in sink.of(TradeClosed)]
    return event.trade.charges - _entry_charges_of(sink)


def _entry_charges_of(sink):
    placed = [e for e in sink.of(NodeExecuted) if e.event_type == "order_placed"]
    return sum(D(e.details["order_details"]["charges"]["total"]) for e in placed)


@pytest.mark.parametrize(("rule", "warm"), [("at_expiry", True), (None, False)])
def test_indicators_continue_across_days_only_in_a_positional_session(rule, warm):
    extra = {} if rule is None else {"holding": "positional", "positional_square_off": rule}
    signal = {
        "id": "entry-condition",
        "type": "entry_signal",
        "name": "sma",
        "config": {
            "conditions": {
                "all": [
                    {
                        "left": {
                            "type": "indicator",
                            "name": "sma",
                            "timeframe": "1m",
                            "params": {"period": 3},
                        },
                        "operator": ">",
                        "right": {"type": "value", "value": 0},
                    }
                ]
            }
        },
    }
    leg = option_entry("long-ce", "CE", "buy", strike={"rule": "otm", "offset": 5})
    g = build(
        [start(square_off="09:29:00", **extra), signal, leg],
        [("strategy-controller", "entry-condition"), ("entry-condition", "long-ce")],
    )
    sink = ListSink()
    MultiDayEngine(g, week_of_prices()[:2], sink).run()
    tuesday = [e for e in sink.of(CandleCompleted) if iso(e.start).startswith("2024-10-29")]
    # Tuesday's first 1-minute candle (09:15): an SMA of three closes has them only with Monday's
    assert (tuesday[0].indicators["sma(3)_1m"] is not None) == warm


def test_a_positional_session_stopped_between_two_days_closes_at_the_first_days_close():
    sink = ListSink()
    engine = MultiDayEngine(strangle(), week_of_prices(), sink)
    while engine.ticks_processed < 901:  # Monday, to its close
        engine.step()
    engine.finish()
    assert engine.status == "stopped" and engine.ticks_processed == 901
    summary = engine.summary()
    assert [d for d, _ in summary.daily_pnl] == [WEEK[0]]
    assert summary.daily_pnl[0][1] == summary.net_pnl  # the buy-back's charges count on Monday
    # bought back at Monday's closing prices, CE 58 and PE 50, at its last second
    exits = {
        (e.trade.symbol, e.trade.exit_price, iso(e.trade.exit_time), e.trade.exit_reason)
        for e in sink.of(TradeClosed)
    }
    assert exits == {
        (CE, D("58.00"), "2024-10-28T09:30:00+05:30", "session_end"),
        (PE, D("50.00"), "2024-10-28T09:30:00+05:30", "session_end"),
    }


def test_the_next_days_candles_complete_as_its_ticks_reach_them():
    from live_trading.engine.events import TickSnapshot

    sink = ListSink(wants_ticks=True)
    MultiDayEngine(strangle(), week_of_prices()[:2], sink).run()
    order = [
        (type(e), iso(e.start if isinstance(e, CandleCompleted) else e.ts))
        for e in sink.events
        if isinstance(e, CandleCompleted | TickSnapshot)
    ]
    # Tuesday's 09:15 candle comes with the first tick after its minute, 09:16:00, not at the day's end
    at = order.index((CandleCompleted, "2024-10-29T09:15:00+05:30"))
    assert order[at - 1] == (TickSnapshot, "2024-10-29T09:15:59+05:30")
    assert order[at + 1] == (TickSnapshot, "2024-10-29T09:16:00+05:30")


def test_re_entry_counts_carry_across_days():
    """A short call stopped 10 points above its entry, re-entered once on a stop. Monday: sold at 60,
    stopped at 71 (09:18), re-entered at 71, held overnight; Tuesday: stopped at 85 (09:20). Its one
    re-entry was used on Monday, so Tuesday's stop ends it."""
    day1 = scripted_day(
        {"NIFTY": {"09:15:00": "24250.00"}, CE: {"09:15:00": "60.00", "09:18:00": "71.00"}},
        until="09:30:00",
        on=WEEK[0],
    )
    day2 = scripted_day(
        {"NIFTY": {"09:15:00": "24250.00"}, CE: {"09:15:00": "75.00", "09:20:00": "85.00"}},
        until="09:30:00",
        on=WEEK[1],
    )
    leg = option_entry(
        "short-ce",
        "CE",
        "sell",
        strike={"rule": "otm", "offset": 5},
        stop_loss={"type": "points", "value": 10},
    )
    again = {
        "id": "again",
        "type": "re_entry",
        "name": "again",
        "config": {"max_re_entries": 1, "on": ["stop_loss"], "wait_seconds": 0},
    }
    g = build(
        [
            start(square_off="09:29:00", holding="positional", positional_square_off="end_of_range"),
            at_time("entry-condition", "09:16:00"),
            leg,
            again,
        ],
        [
            ("strategy-controller", "entry-condition"),
            ("entry-condition", "short-ce"),
            ("short-ce", "again"),
            ("again", "short-ce"),
        ],
    )
    _, sink, _ = run(g, [day1, day2])
    assert [
        (t.re_entry_num, t.entry_price, t.exit_price, iso(t.exit_time), t.exit_reason)
        for t in (e.trade for e in sink.of(TradeClosed))
    ] == [
        (0, D("60.00"), D("71.00"), "2024-10-28T09:18:00+05:30", "stop_loss"),
        (1, D("71.00"), D("85.00"), "2024-10-29T09:20:00+05:30", "stop_loss"),
    ]
