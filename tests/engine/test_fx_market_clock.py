"""An FX session runs on New York's clock and the pair's own margin, not on the NSE's.

EURUSD (``fx_underlyings.toml``, on the ``FX_24X5`` calendar: a trading day runs from 17:00 to 17:00 New
York) is bought at 00:00 New York on Thursday 2 Nov 2017 and held to Tuesday 7 Nov, squared off at 16:59
there; New York leaves daylight saving on Sunday 5 Nov, between the two. backtesting.py's hourly sample
is imported for the four FX days Thursday, Friday, Monday and Tuesday (24 bars each: from 21:00 UTC the
evening before while New York is on EDT, from 22:00 UTC once it is on EST). Everything below is worked
out by hand from those bars and the calendar's definition, not read from the engine:

* times on the wire carry New York's offset (-04:00 before the change, -05:00 after) and execution ids
  stamp New York's wall clock;
* the position blocks 2% of its notional (the pair's margin in its data, NFA/CFTC's minimum for a major
  pair), not the NSE's 12% for index futures; an order one minor unit beyond the capital is refused;
* the report counts the FX days' 24 hours, not 09:15-15:30 IST: time in market, trading seconds and the
  days of ``daily``.
"""

from datetime import UTC, date, datetime
from decimal import Decimal

import pandas as pd
import pytest
from backtesting.test import EURUSD

from live_trading.engine.engine import EngineSettings
from live_trading.engine.events import EquitySample, ListSink, NodeExecuted, TradeClosed
from live_trading.engine.fees import FeeModel
from live_trading.engine.multiday import MultiDayEngine
from live_trading.marketdata.calendar import calendar_of
from live_trading.marketdata.importer import import_files
from live_trading.marketdata.store import load_day
from live_trading.reports.statistics import Run, report
from strategies.graph import parse_graph
from tests.engine.test_fx_differential import bars_csv, fx_universe, in_session

__all__ = ["fx_universe"]  # the fixture, used by name below

DAYS = [date(2017, 11, 2), date(2017, 11, 3), date(2017, 11, 6), date(2017, 11, 7)]
UNITS = 10 * 1000  # 10 micro lots
SCALE = 10**5  # minor units of a price quoted to five places


def hold_graph() -> dict:
    """Buy 10 micro lots at the first tick from 00:00 New York on the first day, hold, square off at 16:59
    on the last."""
    return {"format_version": 1, "name": "EURUSD hold", "nodes": [
        {"id": "start", "type": "start", "config": {
            "underlying": "EURUSD", "start_time": "00:00", "square_off_time": "16:59",
            "holding": "positional", "positional_square_off": "end_of_range"}},
        {"id": "any", "type": "entry_signal", "config": {"conditions": {"all": [
            {"left": {"type": "underlying_ltp"}, "operator": ">", "right": {"type": "value", "value": "0.50000"}}]}}},
        {"id": "buy", "type": "entry", "config": {"instrument": "underlying", "side": "buy", "lots": 10}},
    ], "edges": [{"from": "start", "to": "any"}, {"from": "any", "to": "buy"}]}


@pytest.fixture
def eurusd_week(fx_universe, tmp_path):
    """The bars of the four FX days imported; (bars, a function building the engine with a capital)."""
    bars = in_session(EURUSD.loc["2017-11-01 21:00":"2017-11-07 21:00"])
    data_dir = tmp_path / "market_data"
    import_files([bars_csv(tmp_path / "eurusd.csv", bars)], data_dir=data_dir, timeframe="1h")

    def engine(capital: Decimal = Decimal(1_000_000), sink=None):
        return MultiDayEngine(
            parse_graph(hold_graph()), DAYS, sink,
            settings=EngineSettings(fees=FeeModel("none"), starting_capital=int(capital * SCALE),
                                    candle_timeframes=()),
            load=lambda underlying, day: load_day(underlying, day, data_dir=data_dir, generate=False))

    return bars, engine


def utc(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp())


def test_the_bars_fall_on_the_fx_days_worked_out_by_hand(eurusd_week):
    bars, _ = eurusd_week
    calendar = calendar_of("EURUSD")
    # Thursday's day opens Wednesday 17:00 EDT (21:00 UTC); Monday's Sunday 17:00 EST (22:00 UTC).
    by_day = {}
    for stamp in bars.index:
        by_day.setdefault(calendar.day_of(int(stamp.to_pydatetime().replace(tzinfo=UTC).timestamp())), []).append(stamp)
    assert sorted(by_day) == DAYS
    assert [len(by_day[d]) for d in DAYS] == [24, 24, 24, 24]
    assert [str(by_day[d][0]) for d in DAYS] == ["2017-11-01 21:00:00", "2017-11-02 21:00:00",
                                                 "2017-11-05 22:00:00", "2017-11-06 22:00:00"]
    # A sample at a day's 17:00 close holds that day's figures: the day of the second before it.
    assert calendar.day_of(utc("2017-11-02T21:00:00") - 1) == date(2017, 11, 2)
    assert calendar.day_of(utc("2017-11-02T21:00:00")) == date(2017, 11, 3)
    assert calendar.day_of(utc("2017-11-04T12:00:00")) == date(2017, 11, 3)  # Saturday: Friday's, the last opened


def test_times_on_the_wire_and_execution_ids_are_new_yorks_across_the_dst_change(eurusd_week):
    bars, engine = eurusd_week
    sink = ListSink()
    engine(sink=sink).run()

    [closed] = sink.of(TradeClosed)
    trade = closed.trade.to_dict()
    entry_price = Decimal(f"{bars.loc[pd.Timestamp('2017-11-02 04:00')].Open:.5f}")  # 00:00 EDT: the 04:00 UTC bar opens
    exit_price = Decimal(f"{bars.loc[pd.Timestamp('2017-11-07 21:00')].Close:.5f}")  # 16:59:59 EST: the 21:00 UTC bar closes
    assert (entry_price, exit_price) == (Decimal("1.16558"), Decimal("1.15867"))
    assert (trade["entry_time"], trade["exit_time"]) == ("2017-11-02T00:00:00-04:00", "2017-11-07T16:59:59-05:00")
    assert (trade["entry_price"], trade["exit_price"], trade["pnl"]) == (
        "1.16558", "1.15867", f"{(exit_price - entry_price) * UNITS:.5f}")
    assert trade["pnl"] == "-69.10000"

    executions = {e.event_type: e for e in sink.of(NodeExecuted)}
    order = executions["order_placed"]
    assert order.to_dict()["timestamp"] == "2017-11-02T00:00:00-04:00"
    assert order.execution_id.startswith("exec_buy_20171102_000000_")
    square_off = executions["square_off"].to_dict()
    assert square_off["timestamp"] == "2017-11-07T16:59:59-05:00"
    assert square_off["execution_id"].startswith("exec_start_20171107_165959_")
    assert square_off["time"] == "16:59:59"
    # Equity samples too: the last at the close, one second after the last tick.
    assert sink.of(EquitySample)[-1].to_dict()["timestamp"] == "2017-11-07T17:00:00-05:00"


def test_the_position_blocks_the_pairs_margin_and_an_order_beyond_the_capital_is_refused(eurusd_week):
    _, engine = eurusd_week
    # 2% of 10,000 euros at 1.16558: 233.11600 USD (the NSE's 12% for index futures would be 1,398.69600).
    need = Decimal("1.16558") * UNITS * Decimal("0.02")
    assert need == Decimal("233.116")

    running = engine()
    while not running.engine.store.open:
        assert running.step(), "the position to be entered"
    account = running.snapshot()["broker_data"]["account_info"]
    assert (account["used_margin"], account["available_margin"]) == ("233.11600", f"{1_000_000 - need:.5f}")

    exactly = engine(capital=need)
    exactly.run()
    assert len(exactly.carry.store.trades) == 1  # a margin equal to the capital is taken

    sink = ListSink()
    short = engine(capital=need - Decimal("0.00001"), sink=sink)
    short.run()
    assert short.carry.store.trades == []
    [refused] = [e for e in sink.of(NodeExecuted) if e.event_type == "order_rejected"]
    assert refused.details["reason"] == f"insufficient margin: needs {int(need * SCALE)} paise, {int(need * SCALE) - 1} available"


def test_the_report_counts_the_fx_days_hours_not_the_nses(eurusd_week):
    _, engine = eurusd_week
    sink = ListSink()
    engine(sink=sink).run()
    trades = [e.trade for e in sink.of(TradeClosed)]

    s = report([Run(trades, sink.of(EquitySample), calendar_of("EURUSD"))], places=5)
    # In the market from 00:00 EDT Thursday to 16:59:59 EST Tuesday: the 17 hours left of Thursday's day,
    # Friday's and Monday's 24 hours, Tuesday's 24 hours less its last second.
    in_market = 17 * 3600 + 86_400 + 86_400 + (86_400 - 1)
    assert (s["statistics"]["seconds_in_market"], s["statistics"]["trading_seconds"]) == (in_market, 4 * 86_400)
    assert s["statistics"]["time_in_market"] == f"{Decimal(100 * in_market) / (4 * 86_400):.2f}" == "92.71"
    assert s["statistics"]["trading_days"] == 4
    assert [d["date"] for d in s["daily"]] == [d.isoformat() for d in DAYS]
    assert [d["trades"] for d in s["daily"]] == [0, 0, 0, 1]
    assert s["daily"][-1]["net_pnl"] == "-69.10000"
    assert s["equity_curve"][0]["timestamp"] == "2017-11-01T17:00:00-04:00"  # Thursday's day opens


def test_a_vwap_restarts_with_the_fx_day_at_17_00_new_york(fx_universe):
    """A session-anchored VWAP on EURUSD's 1h bars restarts with the bar of 17:00 New York (21:00 UTC in
    EDT), not at IST midnight (18:30 UTC): the first bar of a day is its own VWAP, its typical price."""
    from live_trading.marketdata.candles import Candle
    from live_trading.marketdata.indicators import IndicatorRegistry

    registry = IndicatorRegistry(day_of=calendar_of("EURUSD").day_of)
    vwap = registry.add("vwap", "EURUSD", "1h")

    def bar(start: str, high: int, low: int, close: int, volume: int) -> Candle:
        return Candle("EURUSD", 3600, utc(start), close, high, low, close, volume)

    registry.on_candle(bar("2017-11-02T18:00:00", 300, 0, 0, 1))  # typical 100
    registry.on_candle(bar("2017-11-02T19:00:00", 600, 0, 0, 1))  # typical 200: after IST midnight, same FX day
    assert vwap.value == pytest.approx(150)
    registry.on_candle(bar("2017-11-02T20:00:00", 900, 0, 0, 2))  # typical 300
    assert vwap.value == pytest.approx((100 + 200 + 2 * 300) / 4)
    registry.on_candle(bar("2017-11-02T21:00:00", 30, 0, 0, 5))  # 17:00 EDT: Friday's day begins
    assert vwap.value == pytest.approx(10)
