"""``statistics.report`` on its own (no database): the edge cases of each definition, and ``simulate
--json`` printing the report of the hand-worked session A (tests/reports/expected.py)."""

import json
from datetime import date
from io import StringIO

from django.core.management import call_command

from live_trading.engine.events import TradeRecord
from live_trading.marketdata.calendar import exchange_midnight_ts, market_open_ts
from live_trading.reports.statistics import Run, report
from tests.engine.scripted import DAY
from tests.reports import expected
from tests.reports.conftest import store_day
from tests.reports.sessions import PARTIAL_AND_RE_ENTRY

OPEN = market_open_ts(DAY)


def trade(net: str, reason: str = "target", node: str = "leg", entry: int = 60, exit_: int = 120) -> dict:
    return {"position_id": f"{node}-pos1", "entry_node_id": node, "exit_reason": reason, "entry_time": OPEN + entry,
            "exit_time": OPEN + exit_, "pnl": net, "charges": "0.00", "net_pnl": net}


def test_a_run_without_trades_or_samples_has_zeros_and_nulls_not_errors():
    s = report([Run()])["statistics"]
    assert (s["trades"], s["win_rate"], s["net_pnl"], s["max_drawdown"], s["time_in_market"]) == (
        0, "0.00", "0.00", "0.00", "0.00")
    assert [s[k] for k in ("average_win", "average_loss", "largest_win", "largest_loss", "profit_factor",
                           "expectancy", "max_drawdown_from")] == [None] * 7


def test_profit_factor_is_null_not_infinite_when_nothing_was_lost():
    s = report([Run([trade("100.00"), trade("50.00")])])["statistics"]
    assert (s["profit_factor"], s["losing_trades"], s["average_loss"]) == (None, 0, None)


def test_a_trade_that_nets_zero_is_a_loss_and_breaks_no_losing_streak():
    s = report([Run([trade("-1.00"), trade("0.00"), trade("5.00"), trade("-2.00")])])["statistics"]
    # Losses -1, 0 (a row, then) and -2: the first two in a row.
    assert (s["losing_trades"], s["max_consecutive_losses"], s["largest_loss"]) == (3, 2, "-2.00")
    # Wins 5 / losses 3 = 1.666... -> 1.67; expectancy 2 / 4 = 0.50; average loss -3 / 3.
    assert (s["profit_factor"], s["expectancy"], s["average_loss"]) == ("1.67", "0.50", "-1.00")


def test_a_mean_is_rounded_to_the_paisa_half_away_from_zero():
    s = report([Run([trade("-0.01"), trade("-0.02")])])["statistics"]
    assert s["average_loss"] == "-0.02"  # -1.5 paise


def test_a_mean_of_an_instrument_with_five_places_keeps_them():
    # EURUSD's P&L in 0.00001 dollars: losses of 74.30 and 26.70 dollars average 50.50, not 50,500.00.
    s = report([Run([trade("-74.30000"), trade("-26.70000"), trade("0.00001")])], places=5)["statistics"]
    assert (s["average_loss"], s["average_win"], s["expectancy"]) == ("-50.50000", "0.00001", "-33.66666")


def test_a_drawdown_across_two_days_counts_only_trading_seconds():
    next_open = market_open_ts(DAY.replace(day=30))
    # Day 1: 0 at 09:15, +100 at 09:16, -50 at 15:30 (the end); day 2: -50 at 09:16, +120 at 09:20.
    samples = [(OPEN + 60, 10000), (OPEN + 22500, -5000), (next_open + 60, -5000), (next_open + 300, 12000)]
    s = report([Run([], samples)])["statistics"]
    # From 09:16 on day 1 to 09:20 on day 2: 22,440 s that day, then 300 s since the next open.
    assert (s["max_drawdown"], s["max_drawdown_seconds"], s["max_drawdown_recovered"]) == ("150.00", 22_740, True)
    assert (s["trading_seconds"], s["trading_days"]) == (22_500 + 300, 2)


def test_time_in_market_leaves_out_a_dr_drills_gap_between_its_windows():
    # Sat 2 Mar 2024: 09:15-10:00 and 11:30-12:30. A position from 09:50:00 to 11:40:00 is in the market
    # 600 s before the gap and 600 s after it (not the 6,600 s of the clock); another from 11:35:00 to
    # 11:45:00 overlaps it by 300 s, so together they hold 1,200 + 300 = 1,500 s. The day's last sample at
    # 12:29:59 makes 2,700 + 3,599 = 6,299 trading seconds; 100 x 1,500 / 6,299 = 23.813...
    drill = exchange_midnight_ts(date(2024, 3, 2))

    def at(hh, mm, ss=0):
        return drill + hh * 3600 + mm * 60 + ss

    trades = [trade("10.00", entry=at(9, 50) - OPEN, exit_=at(11, 40) - OPEN),
              trade("-5.00", node="other", entry=at(11, 35) - OPEN, exit_=at(11, 45) - OPEN)]
    s = report([Run(trades, [(at(9, 16), 0), (at(12, 29, 59), 500)])])["statistics"]
    assert (s["seconds_in_market"], s["trading_seconds"], s["time_in_market"]) == (1_500, 6_299, "23.81")


def test_a_position_held_overnight_is_in_the_market_for_the_trading_seconds_only():
    # From 15:00:00 on Tue 29 Oct 2024 (1,800 s to the close at 15:30) to 09:25:00 on Wed 30 Oct (600 s
    # after the open): 2,400 s, the night not counted.
    next_open = market_open_ts(DAY.replace(day=30))
    held = trade("1.00", entry=22_500 - 1_800, exit_=next_open + 600 - OPEN)
    s = report([Run([held], [(OPEN + 22_499, 0), (next_open + 600, 100)])])["statistics"]
    assert s["seconds_in_market"] == 2_400


def test_the_maximum_drawdown_is_the_tick_level_one_recomputed_from_each_samples_range():
    # Ticks of 09:15: 0 -> 15 -> 13 -> 10 (close); of 09:16: 10 -> 4 -> 12 (close). Each sample: (time,
    # close, low, high, deepest fall within), paise; a stretch starts from the figure before it.
    first = [(OPEN + 60, 1000, 0, 1500, 500), (OPEN + 120, 1200, 400, 1200, 600)]
    s = report([Run([], first)])["statistics"]
    # Tick by tick: peak 15, trough 4 -> 11. The closes 0, 10, 12 never fall: no timing to give.
    assert (s["max_drawdown"], s["max_drawdown_from"], s["max_drawdown_seconds"]) == ("11.00", None, 0)
    assert report([Run([], [(ts, net) for ts, net, *_ in first])])["statistics"]["max_drawdown"] == "0.00"
    # A second run chained on the first's 12: its ticks 0 -> -10 -> -3 are 12 -> 2 -> 9 on the chain,
    # 15 - 2 = 13 below the first run's peak (not 15 - (-10) = 25, nor its own fall of 10).
    second = [(OPEN + 60, -300, -1000, 0, 1000)]
    assert report([Run([], first), Run([], second)])["statistics"]["max_drawdown"] == "13.00"


def test_a_trade_record_and_its_dict_give_the_same_report():
    record = TradeRecord(
        trade_id="leg-pos1", position_id="leg-pos1", position_num=1, re_entry_num=0, entry_node_id="leg",
        symbol="NIFTY:2024-10-31:OPT:24500:CE", side="sell", quantity=25, entry_price=expected.D("100.00"),
        entry_time=OPEN + 60, exit_price=expected.D("80.00"), exit_time=OPEN + 180, pnl=expected.D("500.00"),
        pnl_percent=expected.D("20.00"), charges=expected.D("51.00"), net_pnl=expected.D("449.00"),
        status="CLOSED", entry_flow_ids=(), exit_flow_ids=(), entry_trigger="", exit_reason="target")
    assert report([Run([record])]) == report([Run([record.to_dict()])])


def test_simulate_json_prints_the_report_of_the_hand_worked_session(settings, tmp_path):
    store_day(tmp_path)
    settings.MARKET_DATA_DIR = tmp_path
    strategy = tmp_path / "a.json"
    strategy.write_text(json.dumps(PARTIAL_AND_RE_ENTRY))
    out = StringIO()

    call_command("simulate", "--strategy", str(strategy), "--date", DAY.isoformat(), "--json", stdout=out)

    printed = json.loads(out.getvalue())["report"]
    assert printed["statistics"] == expected.statistics([expected.RUN_A])
    assert printed["by_leg"][0]["name"] == "Short CE"
    assert [p["equity"] for p in printed["equity_curve"]] == ["0.00", *expected.EQUITY_A.values()]
