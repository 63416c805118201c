"""A session's report (GET /api/sessions/{id}/report, ``session_report``, ``sessions_report``): two sessions
run for real on a scripted day; their trades and curves are the hand-worked ones (tests/reports/expected.py)
and every figure of the report equals the one computed from those by docs/reports.md's formulas."""

from decimal import Decimal

import pytest

from live_trading.engine.money import iso
from live_trading.reports.sessions import session_report, session_reports, sessions_report
from sessions_app.models import EquitySample
from tests.reports import expected
from tests.reports.conftest import run_session, start_session
from tests.reports.sessions import PARTIAL_AND_RE_ENTRY, STRADDLE

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
TRADE_KEYS = ("trade_id", "entry_node_id", "exit_reason", "entry_time", "exit_time", "pnl", "charges", "net_pnl")


def report_of(client, session_id) -> dict:
    response = client.get(f"/api/sessions/{session_id}/report")
    assert response.status_code == 200, response.content
    return response.json()


def test_each_sessions_report_holds_the_figures_of_its_hand_worked_trades(as_alice, alice, scripted_market):
    cases = [(PARTIAL_AND_RE_ENTRY, expected.RUN_A), (STRADDLE, expected.RUN_B)]
    for graph, run in cases:
        trades, equity, ranges = run
        session = run_session(as_alice, alice, graph)
        stored = as_alice.get(f"/api/sessions/{session.id}/trades").json()["results"]
        assert [{k: t[k] for k in TRADE_KEYS} for t in stored] == trades
        curve = as_alice.get(f"/api/sessions/{session.id}/equity").json()["samples"]
        assert {s["timestamp"]: s["net_pnl"] for s in curve} == equity
        rows = EquitySample.objects.filter(session=session).order_by("timestamp")
        assert {iso(int(r.timestamp.timestamp())): (f"{r.low_pnl}", f"{r.high_pnl}", f"{r.drop}")
                for r in rows} == ranges

        report = report_of(as_alice, session.id)
        assert report == session_report(session)  # the API shows the one function's dict
        assert report["statistics"] == expected.statistics([run])
        # The report's maximum drawdown is the engine's, tick by tick, as the session stored it.
        assert report["statistics"]["max_drawdown"] == f"{session.max_drawdown}"
        assert report["final"] is True
        assert report["session"]["session_id"] == session.id
        by_reason = expected.groups(trades, "exit_reason")
        assert {g.pop("exit_reason"): g for g in report["by_exit_reason"]} == by_reason
        by_leg = expected.groups(trades, "entry_node_id")
        assert [leg.pop("name") for leg in report["by_leg"]] == [
            {"entry-ce": "Short CE", "entry-pe": "Short PE"}[leg["entry_node_id"]] for leg in report["by_leg"]]
        assert {g.pop("entry_node_id"): g for g in report["by_leg"]} == by_leg
        assert [p["equity"] for p in report["equity_curve"]] == ["0.00", *equity.values()]


def test_the_hand_worked_headline_figures(as_alice, alice, scripted_market):
    a = report_of(as_alice, run_session(as_alice, alice, PARTIAL_AND_RE_ENTRY).id)["statistics"]
    # Four trades (two partial exits): 460.15 won; -665.36, -41.11 lost in a row; 334.04 won.
    assert (a["trades"], a["winning_trades"], a["win_rate"], a["max_consecutive_losses"]) == (4, 2, "50.00", 2)
    # Wins 794.19 / losses 706.47 = 1.1241...; expectancy 87.72 / 4 = 21.93.
    assert (a["net_pnl"], a["profit_factor"], a["expectancy"]) == ("87.72", "1.12", "21.93")
    # Tick by tick the peak is 969.29 (09:18:00, CE at 80 before the exit signal's half exit paid 24.50)
    # and the trough -262.44 (09:21:01): 1,231.73. On the curve of minute closes the peak is 944.79
    # (09:19-09:20), never regained: 09:20 to the end at 15:30:00 is 6 h 10 min = 22,200 s.
    assert (a["max_drawdown"], a["max_drawdown_seconds"], a["max_drawdown_recovered"]) == ("1231.73", 22_200, False)
    assert a["max_drawdown_from"] == "2024-10-29T09:20:00+05:30"
    # In the market 09:16-09:20 and 09:21-09:29: 720 of the day's 22,500 seconds = 3.20%.
    assert (a["seconds_in_market"], a["time_in_market"]) == (720, "3.20")


def test_the_report_over_both_sessions_chains_their_curves_and_adds_up_their_days(as_alice, alice, scripted_market,
                                                                                 django_assert_num_queries):
    a = run_session(as_alice, alice, PARTIAL_AND_RE_ENTRY)
    b = run_session(as_alice, alice, STRADDLE)

    both = sessions_report([b, a])  # reported in the order they ran, whatever order given

    assert [s["session_id"] for s in both["sessions"]] == [a.id, b.id]
    assert both["statistics"] == expected.statistics([expected.RUN_A, expected.RUN_B])
    # A's tick-level peak 969.29 stands until B, chained on A's 87.72, reaches 1,258.37 at 09:24; its
    # low on the way is B's -680.30 + 87.72 = -592.58: a drawdown of 1,561.87.
    assert both["statistics"]["max_drawdown"] == "1561.87"
    net = sum(Decimal(t["net_pnl"]) for t in expected.TRADES_A + expected.TRADES_B)
    # One day, every position closed by its end: marked to market the day made its trades' net.
    assert both["daily"] == [{"date": "2024-10-29", "trades": 6, "gross_pnl": "1500.00", "charges": "266.47",
                              "net_pnl": f"{net}", "cumulative_net_pnl": f"{net}", "mtm_pnl": f"{net}"}]
    assert both["final"] is True

    with django_assert_num_queries(2):  # a list of sessions' reports: their trades, then their samples
        each = session_reports([a, b])
    assert each == {a.id: session_report(a), b.id: session_report(b)}
    assert each[b.id]["statistics"] == expected.statistics([expected.RUN_B])


def test_only_the_owner_and_staff_read_a_report(as_alice, as_bob, as_charlie, anonymous, alice, scripted_market):
    session = run_session(as_alice, alice, STRADDLE)
    path = f"/api/sessions/{session.id}/report"
    assert as_alice.get(path).status_code == 200
    assert as_bob.get(path).status_code == 404
    assert as_charlie.get(path).json()["statistics"] == as_alice.get(path).json()["statistics"]
    assert anonymous.get(path).status_code == 401
    assert as_bob.get("/api/sessions/sim-000000000000/report").status_code == 404


def test_a_running_session_answers_with_its_figures_so_far(as_alice, alice, scripted_market):
    session_id = start_session(as_alice, alice, STRADDLE, speed=1)
    report = report_of(as_alice, session_id)
    assert report["final"] is False
    assert report["session"]["status"] in ("created", "running")
