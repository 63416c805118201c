"""Fee models and slippage: each model's charges on known orders, worked by hand in paise, then whole
trades through the engine on scripted ticks, and fills moved against the trader by whole ticks.

Rates of the nse_fo model are those in force on 29 Oct 2024; NIFTY options expire 31 Oct, lot 25,
tick 0.05 (5 paise).
"""

from datetime import date
from decimal import Decimal

import pytest
from backtesting.test import EURUSD

from live_trading.engine.broker import BrokerSettings, PaperBroker
from live_trading.engine.charges import Charges, NoChargeRates
from live_trading.engine.engine import Engine, EngineSettings
from live_trading.engine.events import ListSink, SessionComplete, TradeClosed
from live_trading.engine.fees import (
    FeeModel,
    InvalidFees,
    check_slippage_ticks,
    describe_costs,
)
from live_trading.engine.multiday import MultiDayEngine
from live_trading.marketdata.importer import import_files
from live_trading.marketdata.store import load_day
from strategies.graph import parse_graph
from tests.engine.scripted import at_time, build, opt, option_entry, scripted_day, start
from tests.engine.test_fx_differential import bars_csv, fx_universe, in_session

__all__ = ["fx_universe"]  # the fixture, used by name below

D = Decimal
OCT_29 = date(2024, 10, 29)
SELL_4540 = 25 * 18160  # sell 25 options at 181.60: turnover 4,540.00 in paise
FUTURES_BUY = 25 * 2452925  # buy 25 NIFTY at 24,529.25 as futures: turnover 6,13,231.25


def charge(model: FeeModel, side: str, turnover: int, option: bool = True, day: date = OCT_29) -> Charges:
    return model.for_day(day)(option=option, side=side, turnover=turnover)


# -- each model's charges on one order ------------------------------------------------------


def test_nse_fo_charges_an_option_sell_by_the_dated_schedule():
    # 20.00 brokerage; STT 0.1% of 4,540 = 4.54 -> 5; exchange 0.03553% = 1.613062 -> 1.61; SEBI 0.00454
    # -> 0.00; GST 18% of 21.61 = 3.8898 -> 3.89. Total 30.50.
    assert charge(FeeModel("nse_fo"), "sell", SELL_4540) == Charges(
        brokerage=2000, stt=500, exchange=161, sebi=0, stamp=0, gst=389
    )


def test_nse_fo_refuses_a_day_before_its_schedule_and_the_other_models_take_any_day():
    with pytest.raises(NoChargeRates):
        FeeModel("nse_fo").for_day(date(2022, 1, 3))
    for model in (
        FeeModel("none"),
        FeeModel("per_order", per_order=1000),
        FeeModel("percent", percent=D("0.1")),
    ):
        assert model.for_day(date(2022, 1, 3))(option=True, side="buy", turnover=100_000).total >= 0


@pytest.mark.parametrize("side", ["buy", "sell"])
def test_none_charges_nothing_on_either_side(side):
    assert charge(FeeModel("none"), side, FUTURES_BUY, option=False) == Charges()
    assert charge(FeeModel("none"), side, SELL_4540).as_rupees()["total"] == "0.00"


@pytest.mark.parametrize(
    ("side", "turnover", "option"), [("buy", SELL_4540, True), ("sell", FUTURES_BUY, False)]
)
def test_per_order_charges_the_flat_fee_as_one_brokerage_line_whatever_the_order(side, turnover, option):
    c = charge(FeeModel.from_rupees("per_order", per_order="15.50"), side, turnover, option)

    assert c == Charges(brokerage=1550)
    assert c.as_rupees() == {
        "brokerage": "15.50",
        "stt": "0.00",
        "exchange_charges": "0.00",
        "sebi_fee": "0.00",
        "stamp_duty": "0.00",
        "gst": "0.00",
        "total": "15.50",
    }


def test_percent_charges_a_share_of_turnover_rounded_half_up_to_the_paisa():
    model = FeeModel.from_rupees("percent", percent="0.03", cap="20")
    # 0.03% of 4,540.00 = 1.362 -> 1.36.
    assert charge(model, "sell", SELL_4540) == Charges(brokerage=136)
    # 0.01% of 15.00 = 0.0015 rupees = 0.15 paise -> 0; of 150.00 = 1.5 paise -> 2 (half up).
    tenth = FeeModel.from_rupees("percent", percent="0.01")
    assert charge(tenth, "buy", 1500).brokerage == 0
    assert charge(tenth, "buy", 15000).brokerage == 2


def test_percent_is_capped_per_order_and_uncapped_without_a_cap():
    # 0.03% of 6,13,231.25 = 183.969375 -> 183.97; capped at 20.00.
    assert charge(
        FeeModel.from_rupees("percent", percent="0.03", cap="20.00"), "buy", FUTURES_BUY, False
    ) == Charges(brokerage=2000)
    assert charge(FeeModel.from_rupees("percent", percent="0.03"), "buy", FUTURES_BUY, False) == Charges(
        brokerage=18397
    )


# -- what a fee model takes ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "params", "field", "message"),
    [
        ("flat", {}, "fee_model", "'flat' is not a fee model; one of nse_fo, none, per_order, percent"),
        ("none", {"cap": "20"}, "fee_cap", "only the percent fee model takes it; this one is none"),
        (
            "per_order",
            {"per_order": "20", "cap": "20"},
            "fee_cap",
            "only the percent fee model takes it; this one is per_order",
        ),
        (
            "nse_fo",
            {"percent": "0.03"},
            "fee_percent",
            "only the percent fee model takes it; this one is nse_fo",
        ),
        (
            "percent",
            {"percent": "0.03", "per_order": "1"},
            "fee_per_order",
            "only the per_order fee model takes it; this one is percent",
        ),
        ("per_order", {}, "fee_per_order", "required with the per_order fee model"),
        ("percent", {"cap": "20"}, "fee_percent", "required with the percent fee model"),
        ("per_order", {"per_order": "-0.01"}, "fee_per_order", "must be from 0 to 10000.00 rupees an order"),
        (
            "per_order",
            {"per_order": "10000.01"},
            "fee_per_order",
            "must be from 0 to 10000.00 rupees an order",
        ),
        (
            "per_order",
            {"per_order": "20.005"},
            "fee_per_order",
            "must be rupees with at most two decimal places",
        ),
        ("per_order", {"per_order": "twenty"}, "fee_per_order", "'twenty' is not a number"),
        (
            "percent",
            {"percent": "-0.1"},
            "fee_percent",
            "must be a number of per cent from 0 to 10 with at most 5 decimal places",
        ),
        (
            "percent",
            {"percent": "10.5"},
            "fee_percent",
            "must be a number of per cent from 0 to 10 with at most 5 decimal places",
        ),
        (
            "percent",
            {"percent": "0.000001"},
            "fee_percent",
            "must be a number of per cent from 0 to 10 with at most 5 decimal places",
        ),
        (
            "percent",
            {"percent": "NaN"},
            "fee_percent",
            "must be a number of per cent from 0 to 10 with at most 5 decimal places",
        ),
        (
            "percent",
            {"percent": "-0"},
            "fee_percent",
            "must be a number of per cent from 0 to 10 with at most 5 decimal places",
        ),
        (
            "percent",
            {"percent": "0.03", "cap": "-1"},
            "fee_cap",
            "must be from 0 to 10000.00 rupees an order",
        ),
    ],
)
def test_a_fee_model_out_of_its_rules_is_refused_naming_the_field(kind, params, field, message):
    with pytest.raises(InvalidFees) as refused:
        FeeModel.from_rupees(kind, **params)

    assert (refused.value.subject, str(refused.value)) == (field, message)


@pytest.mark.parametrize("ticks", [-1, 1001, 1.0, "2", True])
def test_slippage_is_a_whole_number_of_ticks_from_0_to_1000(ticks):
    with pytest.raises(InvalidFees) as refused:
        check_slippage_ticks(ticks)
    assert refused.value.subject == "slippage_ticks"
    assert check_slippage_ticks(1000) == 1000


@pytest.mark.parametrize(
    ("model", "ticks", "wire", "words"),
    [
        (
            FeeModel(),
            0,
            {"fee_model": "nse_fo", "fee_per_order": None, "fee_percent": None, "fee_cap": None},
            "NSE F&O charges, no slippage",
        ),
        (
            FeeModel("none"),
            1,
            {"fee_model": "none", "fee_per_order": None, "fee_percent": None, "fee_cap": None},
            "no charges, 1 tick of slippage",
        ),
        (
            FeeModel.from_rupees("per_order", per_order="20"),
            3,
            {"fee_model": "per_order", "fee_per_order": "20.00", "fee_percent": None, "fee_cap": None},
            "Rs 20.00 an order, 3 ticks of slippage",
        ),
        (
            FeeModel.from_rupees("percent", percent=D("0.03000"), cap=D("20")),
            0,
            {"fee_model": "percent", "fee_per_order": None, "fee_percent": "0.03", "fee_cap": "20.00"},
            "0.03% of turnover, at most Rs 20.00 an order, no slippage",
        ),
    ],
)
def test_a_fee_model_round_trips_through_its_record_and_reads_in_words(model, ticks, wire, words):
    assert model.to_dict() == wire
    assert FeeModel.from_dict(wire) == model
    assert describe_costs(model, ticks) == words


# -- whole trades through the engine -------------------------------------------------------


def flat_chain(ce: dict) -> dict:
    return {"NIFTY": {"09:15:00": "24500.00"}, opt(24500, "CE"): ce, opt(24500, "PE"): {"09:15:00": "100.00"}}


def run(graph, day, **settings):
    sink = ListSink()
    engine = Engine(graph, day, sink, EngineSettings(**settings))
    while engine.step():
        pass
    return [e.trade for e in sink.of(TradeClosed)], sink.of(SessionComplete)[0].summary


def short_call_stopped_out():
    """Sell 25 CE at 100.00 at 09:16; a 20% stop, reached when the LTP is 120.00 at 09:18."""
    day = scripted_day(flat_chain({"09:15:00": "100", "09:17:00": "110", "09:18:00": "120"}))
    graph = build(
        [
            start(),
            at_time("sig", "09:16:00"),
            option_entry("entry-ce", "CE", "sell", stop_loss={"type": "percent", "value": 20}),
        ],
        [("strategy-controller", "sig"), ("sig", "entry-ce")],
    )
    return graph, day


@pytest.mark.parametrize(
    ("fees", "charges"),
    [
        # Sell 2,500.00: 20 + STT 3 + exchange 0.89 + GST 3.76 = 27.65; buy 3,000.00: 20 + exchange 1.07 + stamp
        # 0.09 + GST 3.79 = 24.95 (tests/engine/test_engine_trades.py works them line by line).
        (FeeModel(), "52.60"),
        (FeeModel("none"), "0.00"),
        # Two orders at 15.00.
        (FeeModel.from_rupees("per_order", per_order="15"), "30.00"),
        # 0.03% of 2,500.00 = 0.75 and of 3,000.00 = 0.90, both under the cap.
        (FeeModel.from_rupees("percent", percent="0.03", cap="20"), "1.65"),
        # 1% of 2,500.00 = 25.00 and of 3,000.00 = 30.00, each capped at 20.00.
        (FeeModel.from_rupees("percent", percent="1", cap="20"), "40.00"),
    ],
    ids=["nse_fo", "none", "per_order", "percent", "percent-capped"],
)
def test_a_trade_pays_what_its_fee_model_charges_and_its_net_pnl_follows(fees, charges):
    graph, day = short_call_stopped_out()

    [trade], summary = run(graph, day, fees=fees)

    assert (trade.entry_price, trade.exit_price, trade.pnl) == (D("100.00"), D("120.00"), D("-500.00"))
    assert trade.charges == D(charges)
    assert trade.net_pnl == D("-500.00") - D(charges)
    assert (summary.charges, summary.net_pnl) == (D(charges), D("-500.00") - D(charges))


def test_slippage_fills_a_sell_lower_and_the_buy_that_closes_it_higher():
    graph, day = short_call_stopped_out()

    [trade], _ = run(graph, day, fees=FeeModel("none"), slippage_ticks=2)

    # Sold at 100.00 - 2 x 0.05 = 99.90; the stop (20% above 99.90 = 119.88) is reached at 120.00 and the
    # buy fills at 120.00 + 0.10 = 120.10. Gross (99.90 - 120.10) x 25 = -505.00.
    assert (trade.entry_price, trade.exit_price) == (D("99.90"), D("120.10"))
    assert (trade.pnl, trade.charges) == (D("-505.00"), D("0.00"))


def test_slippage_fills_a_buy_higher_and_the_sell_that_closes_it_lower():
    day = scripted_day(flat_chain({"09:15:00": "100", "09:20:00": "110"}))
    graph = build(
        [start(square_off="09:25:00"), at_time("sig", "09:16:00"), option_entry("entry-ce", "CE", "buy")],
        [("strategy-controller", "sig"), ("sig", "entry-ce")],
    )

    [trade], _ = run(graph, day, fees=FeeModel("none"), slippage_ticks=3)

    # Bought at 100.00 + 3 x 0.05 = 100.15; squared off at 09:25 at 110.00 - 0.15 = 109.85.
    # Gross (109.85 - 100.15) x 25 = 242.50.
    assert (trade.entry_price, trade.exit_price, trade.exit_reason) == (
        D("100.15"),
        D("109.85"),
        "square_off",
    )
    assert trade.pnl == D("242.50")


def test_slippage_never_fills_a_sell_below_one_tick():
    # An option at 0.10 sold with 4 ticks of slippage would fill at -0.10: it fills at the tick, 0.05.
    broker = PaperBroker(FeeModel("none").for_day(OCT_29), 5, BrokerSettings(slippage_ticks=4))
    assert broker.fill_price("sell", 10) == 5
    assert broker.fill_price("buy", 10) == 30


# -- fees on an instrument whose money is not rupees and paise ------------------------------
#
# A connection's flat fee and cap are written in hundredths of the currency ("2.50"); the engine counts an
# instrument's money in 10**-price_decimals of it (EURUSD: 0.00001 USD). Until this, "2.50" was charged as
# 250 minor units whatever the instrument: 0.00250 USD an order on EURUSD, and NSE rupee charges (brokerage
# Rs 20 as 2000 minor units, STT rounded to 100 of them) were added to USD money under the default model.

EURUSD_DAYS = (date(2017, 4, 19), date(2017, 4, 20), date(2017, 4, 21))
FX_UNITS = 10 * 1000  # 10 micro lots


@pytest.fixture
def eurusd_days(fx_universe, tmp_path):
    """EURUSD added to the data file (``fx_universe``) and the first 200 hourly bars of backtesting.py's
    sample imported; a function running ``fees`` over three days of them: the trade of 10 lots bought at
    the first bar from 09:00 and sold at the end of the range."""
    data_dir = tmp_path / "market_data"
    import_files([bars_csv(tmp_path / "eurusd_1h.csv", in_session(EURUSD.iloc[:200]))], data_dir=data_dir,
                 timeframe="1h")
    graph = parse_graph({"format_version": 1, "name": "EURUSD held", "nodes": [
        {"id": "start", "type": "start", "config": {"underlying": "EURUSD", "start_time": "09:00",
                                                    "square_off_time": "15:00", "holding": "positional",
                                                    "positional_square_off": "end_of_range"}},
        {"id": "buy", "type": "entry", "config": {"instrument": "underlying", "side": "buy", "lots": 10}}],
        "edges": [{"from": "start", "to": "buy"}]})

    def run(fees: FeeModel):
        engine = MultiDayEngine(graph, EURUSD_DAYS, settings=EngineSettings(fees=fees, starting_capital=10**6 * 10**5),
                                load=lambda underlying, day: load_day(underlying, day, data_dir=data_dir, generate=False))
        engine.run()
        [trade] = engine.carry.store.trades
        assert trade.quantity == FX_UNITS
        return trade

    return run


def test_a_flat_fee_on_an_fx_pair_is_charged_in_its_currency_not_in_its_minor_units(eurusd_days):
    trade = eurusd_days(FeeModel.from_rupees("per_order", per_order="2.50"))
    # two orders of 2.50 USD: 5.00000 USD, 500,000 units of 0.00001
    assert trade.charges == 500_000


def test_a_percent_fee_on_an_fx_pair_is_exact_to_its_minor_unit_and_its_cap_in_its_currency(eurusd_days):
    trade = eurusd_days(FeeModel.from_rupees("percent", percent="0.03"))
    # 0.03% of each order's turnover in USD (price x 10,000 units), rounded half up to 0.00001 USD
    pip = D("0.00001")
    expected = sum(
        (D(price) * pip * FX_UNITS * D("0.0003")).quantize(pip, rounding="ROUND_HALF_UP") / pip
        for price in (trade.entry_price, trade.exit_price)
    )
    assert trade.charges == int(expected)
    assert 600_000 < trade.charges < 700_000  # about 3.2 USD an order at 1.07
    # capped at 1.00 USD an order: both orders pay the cap
    assert eurusd_days(FeeModel.from_rupees("percent", percent="0.03", cap="1.00")).charges == 200_000


def test_the_nse_schedule_is_refused_on_money_that_is_not_rupees_and_paise(eurusd_days):
    with pytest.raises(InvalidFees) as refused:
        eurusd_days(FeeModel("nse_fo"))
    assert refused.value.subject == "fee_model"
    assert "USD with 5 decimal places" in str(refused.value)


@pytest.mark.parametrize(
    ("places", "fee", "expected"),
    [(2, "2.50", 250), (5, "2.50", 250_000), (8, "0.01", 1_000_000), (1, "2.50", 25), (0, "3", 3), (0, "0.00", 0)],
)
def test_a_flat_fee_and_a_cap_are_scaled_to_the_instruments_minor_unit(places, fee, expected):
    per_order = FeeModel.from_rupees("per_order", per_order=fee).for_day(OCT_29, places=places, currency="USD")
    assert per_order(option=False, side="buy", turnover=10**12).brokerage == expected
    capped = FeeModel.from_rupees("percent", percent="10", cap=fee).for_day(OCT_29, places=places, currency="USD")
    assert capped(option=False, side="buy", turnover=10**12).brokerage == expected


@pytest.mark.parametrize(("places", "fee"), [(0, "2.50"), (0, "0.01"), (1, "2.55")])
def test_a_fee_finer_than_the_instruments_minor_unit_is_refused_naming_it(places, fee):
    with pytest.raises(InvalidFees) as refused:
        FeeModel.from_rupees("per_order", per_order=fee).for_day(OCT_29, places=places, currency="JPY")
    assert refused.value.subject == "fee_per_order"
    with pytest.raises(InvalidFees) as refused:
        FeeModel.from_rupees("percent", percent="1", cap=fee).for_day(OCT_29, places=places, currency="JPY")
    assert refused.value.subject == "fee_cap"
