"""Whole synthetic days: determinism, the examples trading on the demo day, and the simulate command."""

import json
from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connections

from live_trading.engine.engine import Engine, EngineSettings
from live_trading.engine.events import ListSink, SessionComplete, TradeClosed
from live_trading.engine.multiday import MultiDayEngine
from live_trading.marketdata.store import load_day
from strategies.graph import parse_graph
from strategies.graph.examples import example_names, load_example

pytestmark = pytest.mark.slow
DEMO_DAY = date(2024, 10, 29)


@pytest.fixture(scope="module")
def days():
    return {u: load_day(u, DEMO_DAY) for u in ("NIFTY", "BANKNIFTY")}


def _run(name, days, seed="0", wants_ticks=False):
    g = parse_graph(load_example(name))
    sink = ListSink(wants_ticks=wants_ticks)
    Engine(g, days[g.underlying], sink, EngineSettings(seed=seed)).run()
    return sink


def test_a_whole_day_gives_the_same_events_byte_for_byte(days):
    first = _run("nifty_short_straddle", days, wants_ticks=True)
    second = _run("nifty_short_straddle", days, wants_ticks=True)
    # Every field of every event, ticks included (a frozen dataclass's repr shows them all, exactly).
    a = [repr(e) for e in first.events]
    b = [repr(e) for e in second.events]
    assert len(a) > 22_500 and a == b


def test_another_seed_changes_the_ids_but_not_the_trades(days):
    a = _run("nifty_short_straddle", days, seed="0").of(TradeClosed)
    b = _run("nifty_short_straddle", days, seed="1").of(TradeClosed)
    assert [(t.trade.trade_id, t.trade.net_pnl) for t in a] == [(t.trade.trade_id, t.trade.net_pnl) for t in b]
    assert a[0].trade.entry_flow_ids != b[0].trade.entry_flow_ids


@pytest.mark.parametrize("name", example_names())
def test_each_example_trades_on_the_demo_day_and_its_money_adds_up(name, days):
    sink = _run(name, days)
    trades = [e.trade for e in sink.of(TradeClosed)]
    assert trades
    summary = sink.of(SessionComplete)[0].summary
    assert summary.total_trades == len(trades)
    assert summary.gross_pnl == sum(t.pnl for t in trades)
    assert summary.charges == sum(t.charges for t in trades)
    assert summary.net_pnl == summary.gross_pnl - summary.charges == sum(t.net_pnl for t in trades)
    for t in trades:
        assert t.exit_flow_ids[: len(t.entry_flow_ids)] == t.entry_flow_ids
        assert t.pnl == (t.exit_price - t.entry_price) * t.quantity * (1 if t.side == "buy" else -1)
        assert t.pnl.as_tuple().exponent == -2


def test_a_multi_day_session_continues_position_numbers_and_totals(days):
    g = parse_graph(load_example("nifty_short_straddle"))
    sink = ListSink()
    engine = MultiDayEngine(g, [DEMO_DAY, date(2024, 10, 30)], sink)
    summary = engine.run()
    trades = [e.trade for e in sink.of(TradeClosed)]
    assert len({t.entry_time // 86400 for t in trades}) == 2
    assert any(t.position_id == "entry-ce-pos2" for t in trades)
    assert len(sink.of(SessionComplete)) == 1
    assert summary.net_pnl == sum(t.net_pnl for t in trades)
    assert engine.ticks_processed == engine.total_ticks == 45_000


def test_a_stopped_engine_closes_at_the_last_tick_and_says_stopped(days):
    g = parse_graph(load_example("nifty_short_straddle"))
    sink = ListSink()
    engine = Engine(g, days["NIFTY"], sink)
    for _ in range(400):  # 09:15:00 to 09:21:39: both legs are open
        engine.step()
    snap = engine.snapshot()
    assert snap["status"] == "running" and snap["progress"]["ticks_processed"] == 400
    assert snap["nodes"]["entry-condition-1"]["status"] == "completed"
    assert len(snap["gps_data"]["positions"]) == 2 and snap["gps_data"]["pnl"]["open_trades"] == 2
    json.dumps(snap)
    engine.finish()
    done = sink.of(SessionComplete)[0]
    assert (done.status, done.ticks_processed) == ("stopped", 400)
    assert {e.trade.exit_reason for e in sink.of(TradeClosed)} == {"session_end"}
    assert engine.next_timestamp() is None and not engine.step()


def test_simulate_prints_json_without_touching_the_database(django_db_blocker):
    out = StringIO()
    # Blocked, any query or connection raises, even on a connection an earlier test left open (a
    # django_db test's connection outlives it): what is checked is simulate, not the tests before it.
    with django_db_blocker.block():
        with pytest.raises(RuntimeError, match="Database access not allowed"):
            connections["default"].cursor()
        call_command("simulate", "--strategy", "nifty_opening_range_breakout", "--date", "2024-10-29", "--json",
                     stdout=out)
    result = json.loads(out.getvalue())
    assert result["ticks"] == 22_500 and result["trades"]
    assert Decimal(result["summary"]["net_pnl"]) == sum(Decimal(t["net_pnl"]) for t in result["trades"])


def test_simulate_refuses_an_invalid_strategy(tmp_path):
    bad = load_example("nifty_short_straddle")
    bad["nodes"][2]["config"]["strike"]["offset"] = 30
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    with pytest.raises(CommandError, match=r"nodes\[2\]\.config\.strike\.offset: must be an integer between -20 and 20"):
        call_command("simulate", "--strategy", str(path), "--date", "2024-10-29")


def test_simulate_says_why_a_valid_strategy_traded_nothing(tmp_path):
    far = load_example("nifty_short_straddle")
    for node in far["nodes"]:
        if node["type"] == "entry":
            node["config"]["strike"]["offset"] = 18  # valid, but the synthetic chain has ATM +-15 strikes
    path = tmp_path / "far.json"
    path.write_text(json.dumps(far))
    out = StringIO()

    call_command("simulate", "--strategy", str(path), "--date", "2024-10-29", "--json", stdout=out)

    result = json.loads(out.getvalue())
    assert result["trades"] == []
    # NIFTY on 2024-10-29 (seed 0) at 09:20:00 is 25,312.70, so ATM is 25300: 18 strikes of 50 away is 26200,
    # outside the chain.
    assert [(o["node_id"], o["event_type"], o["reason"]) for o in result["refused_orders"]] == [
        ("entry-ce", "order_rejected", "NIFTY:2024-10-31:OPT:26200:CE is not in the day's option chain"),
        ("entry-pe", "order_rejected", "NIFTY:2024-10-31:OPT:26200:PE is not in the day's option chain"),
    ]
