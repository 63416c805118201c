"""Sessions through the real thread, the real engine and the real Postgres, driven through the API."""

import time
from datetime import date
from decimal import Decimal
from functools import partial

import pytest
from pyarrow.lib import ArrowInvalid

from live_trading import actions
from live_trading.engine.engine import EngineSettings
from live_trading.engine.events import ListSink, NodeExecuted, PositionEvent, TradeClosed
from live_trading.engine.multiday import MultiDayEngine
from live_trading.marketdata.store import imported_path, load_day
from live_trading.runner.registry import registry
from sessions_app.models import NodeEvent, PositionChange, SimulationSession
from strategies.graph import parse_graph
from tests.sessions.conftest import DAY, setup_for, start_body
from tests.waiting import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

CAPITAL_PAISE = 1_000_000_00




def status_of(session_id):
    return SimulationSession.objects.get(pk=session_id).status


def direct_run(session, ticks=None):
    """The same strategy, day, seed and capital through the engine alone, to compare with what was persisted."""
    sink = ListSink()
    engine = MultiDayEngine(parse_graph(session.graph), [DAY], sink,
                            EngineSettings(seed=str(session.seed), starting_capital=CAPITAL_PAISE))
    if ticks is None:
        engine.run()
    else:
        for _ in range(ticks):
            engine.step()
        engine.finish()
    return engine, sink


def assert_persisted_equals(session, sink):
    node_payloads = list(NodeEvent.objects.filter(session=session).order_by("seq").values_list("payload", flat=True))
    assert node_payloads == [e.to_dict() for e in sink.of(NodeExecuted)]
    changes = list(PositionChange.objects.filter(session=session).order_by("seq").values_list("payload", flat=True))
    assert changes == [e.to_dict() for e in sink.of(PositionEvent)]
    trades = list(session.trades.order_by("seq"))
    expected = [e.trade for e in sink.of(TradeClosed)]
    assert [t.trade_id for t in trades] == [t.trade_id for t in expected]
    for row, trade in zip(trades, expected, strict=True):
        assert (row.symbol, row.side, row.quantity, row.re_entry_num) == (trade.symbol, trade.side, trade.quantity,
                                                                           trade.re_entry_num)
        assert (row.entry_price, row.exit_price, row.pnl, row.charges, row.net_pnl) == (
            trade.entry_price, trade.exit_price, trade.pnl, trade.charges, trade.net_pnl)
        assert (row.entry_flow_ids, row.exit_flow_ids, row.exit_reason) == (
            list(trade.entry_flow_ids), list(trade.exit_flow_ids), trade.exit_reason)


def test_a_whole_day_at_max_speed_persists_exactly_what_the_engine_produces(as_alice, alice_setup):
    strategy, broker = alice_setup

    response = as_alice.post("/api/v2/live/start", start_body(strategy, broker, speed_multiplier="max"), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    session_id = body["session_id"]
    assert body["stream_url"] == f"/api/v2/live/stream/{session_id}"
    assert body["status"] in ("running", "completed")
    wait_for(lambda: status_of(session_id) == "completed", message="completion")
    session = SimulationSession.objects.get(pk=session_id)
    engine, sink = direct_run(session)
    summary = engine.summary()
    assert summary.total_trades > 0, "the example straddle trades on the demo day"
    assert_persisted_equals(session, sink)
    assert (session.ticks_processed, session.total_ticks) == (22500, 22500)
    assert (session.total_trades, session.winning_trades, session.losing_trades) == (
        summary.total_trades, summary.winning_trades, summary.losing_trades)
    assert (session.gross_pnl, session.charges, session.realized_pnl) == (summary.gross_pnl, summary.charges,
                                                                          summary.net_pnl)
    assert session.realized_pnl == sum(t.net_pnl for t in session.trades.all())
    assert session.final_state["summary"] == summary.to_dict()
    assert session.started_at <= session.ended_at


def test_real_time_then_pause_resume_speed_and_stop(as_alice, as_bob, alice, alice_setup):
    strategy, broker = alice_setup
    session_id = as_alice.post("/api/v2/live/start", start_body(strategy, broker, speed_multiplier=1),
                               format="json").json()["session_id"]

    def progress():
        state = as_alice.get(f"/api/live-trading/session/{session_id}").json()
        return state["progress"]["ticks_processed"]

    started = time.monotonic()
    wait_for(lambda: progress() >= 3, message="three ticks at real time")
    assert time.monotonic() - started >= 1.5, "real time: one tick a second (the first is due at once)"
    assert as_bob.post(f"/api/v2/live/pause/{session_id}").status_code == 404
    paused = as_alice.post(f"/api/v2/live/pause/{session_id}")
    assert paused.status_code == 200 and paused.json()["status"] == "paused"
    held = progress()
    time.sleep(1.5)
    assert progress() == held, "a paused session does not advance"

    assert as_bob.post(f"/api/v2/live/resume/{session_id}").status_code == 404
    resumed = as_alice.post(f"/api/v2/live/resume/{session_id}")
    assert resumed.status_code == 200 and resumed.json()["status"] == "running"
    wait_for(lambda: progress() > held, message="progress after resume")

    assert as_bob.post(f"/api/v2/live/speed/{session_id}", {"speed_multiplier": 2}, format="json").status_code == 404
    faster = as_alice.post(f"/api/v2/live/speed/{session_id}", {"speed_multiplier": 1200}, format="json")
    assert faster.status_code == 200 and faster.json()["speed_multiplier"] == 1200
    wait_for(lambda: progress() > 600, message="past the 09:20 entries at 1200x")

    state = as_alice.get(f"/api/live-trading/session/{session_id}").json()
    assert state["status"] == "running" and state["data"]["is_fresh"] is True
    assert set(state["data"]) >= {"gps_data", "broker_data", "market_data"}

    stopped = as_alice.post(f"/api/v2/live/stop/{session_id}")
    assert stopped.status_code == 200
    assert {k: stopped.json()[k] for k in ("session_id", "status", "message")} == {
        "session_id": session_id, "status": "stopped", "message": "Session stopped successfully"}
    session = SimulationSession.objects.get(pk=session_id)
    assert session.status_reason == "stopped by alice" and session.stop_requested_by == alice
    assert 600 < session.ticks_processed < 22500
    assert session.node_events.exists() and session.position_changes.exists()
    _, sink = direct_run(session, ticks=session.ticks_processed)
    assert_persisted_equals(session, sink)


def test_stop_user_and_stop_all_across_sessions(as_alice, as_bob, as_charlie, alice, bob, alice_setup, bob_setup):
    a_strategy, a_broker = alice_setup
    b_strategy, b_broker = bob_setup
    alice_ids = [as_alice.post("/api/v2/live/start", start_body(a_strategy, a_broker, speed_multiplier=1),
                               format="json").json()["session_id"] for _ in range(2)]
    bob_id = as_bob.post("/api/v2/live/start", start_body(b_strategy, b_broker, speed_multiplier=1),
                         format="json").json()["session_id"]

    assert as_bob.post(f"/api/v2/live/stop/user/{alice.user_id}").status_code == 404
    assert as_bob.post("/api/v2/live/stop/all").status_code == 403
    mine = as_alice.post(f"/api/v2/live/stop/user/{alice.user_id}")

    assert mine.status_code == 200
    assert mine.json()["sessions_stopped"] == 2 and sorted(mine.json()["stopped_sessions"]) == sorted(alice_ids)
    assert [status_of(i) for i in alice_ids] == ["stopped", "stopped"]
    assert status_of(bob_id) == "running"

    everything = as_charlie.post("/api/v2/live/stop/all")
    assert everything.status_code == 200
    assert everything.json()["stopped_sessions"] == [
        {"session_id": bob_id, "user_id": bob.user_id, "strategy_id": str(b_strategy.id)}]
    assert everything.json()["stopped_by"] == "charlie"
    bob_session = SimulationSession.objects.get(pk=bob_id)
    assert bob_session.status == "stopped" and bob_session.stop_requested_by.username == "charlie"


def test_a_server_shutdown_marks_running_sessions_interrupted(as_alice, alice_setup):
    strategy, broker = alice_setup
    session_id = as_alice.post("/api/v2/live/start", start_body(strategy, broker, speed_multiplier=1),
                               format="json").json()["session_id"]

    stopped = registry.shutdown("the server process stopped")

    assert stopped == [session_id]
    session = SimulationSession.objects.get(pk=session_id)
    assert session.status == "interrupted" and session.status_reason == "the server process stopped"
    assert registry.get(session_id) is None


def test_a_crash_mid_session_marks_it_failed_and_keeps_what_it_persisted(alice, alice_setup, settings, tmp_path):
    strategy, broker = alice_setup
    settings.MARKET_DATA_DIR = tmp_path
    broken = imported_path("NIFTY", date(2024, 10, 30), tmp_path)
    broken.parent.mkdir(parents=True)
    broken.write_bytes(b"this is not a parquet file")

    session = actions.start_session(alice, actions.StartRequest(
        strategy=strategy, broker_connection=broker, speed_multiplier=0.0, mode="backtest",
        start_date=DAY, end_date=date(2024, 10, 30)))
    wait_for(lambda: status_of(session.id) == "failed", message="failure")

    session.refresh_from_db()
    assert session.status_reason.startswith("ArrowInvalid: Could not open Parquet input source")
    # The same two days through the engine alone fail at the same point; all it emitted before is kept.
    sink = ListSink()
    engine = MultiDayEngine(parse_graph(session.graph), [DAY, date(2024, 10, 30)], sink,
                            EngineSettings(seed=str(session.seed), starting_capital=CAPITAL_PAISE),
                            load=partial(load_day, data_dir=tmp_path))
    with pytest.raises(ArrowInvalid):
        engine.run()
    assert len(sink.of(NodeExecuted)) > 0 and len(sink.of(TradeClosed)) > 0
    assert_persisted_equals(session, sink)
    assert session.ticks_processed == 22500


def test_stopping_a_session_no_process_runs_marks_it_stopped(as_alice, alice, alice_setup):
    strategy, broker = alice_setup
    orphan = SimulationSession.objects.create(
        owner=alice, strategy=strategy, strategy_name=strategy.name, strategy_version=1, graph=strategy.graph,
        broker_connection=broker, start_date=DAY, end_date=DAY, underlying="NIFTY", status="running",
    )

    response = as_alice.post(f"/api/v2/live/stop/{orphan.id}")

    assert response.json()["status"] == "stopped"
    orphan.refresh_from_db()
    assert orphan.status_reason == "stopped by alice (no running process answered)"


def test_the_limit_on_running_sessions_answers_429_and_writes_nothing(as_alice, alice, alice_setup, settings):
    strategy, broker = alice_setup
    settings.SIM_MAX_RUNNING_SESSIONS_PER_USER = 1
    assert as_alice.post("/api/v2/live/start", start_body(strategy, broker, speed_multiplier=1),
                         format="json").status_code == 201

    refused = as_alice.post("/api/v2/live/start", start_body(strategy, broker, speed_multiplier=1), format="json")

    assert refused.status_code == 429
    assert "the most allowed at once is 1" in refused.json()["detail"]
    assert SimulationSession.objects.filter(owner=alice).count() == 1


def test_trades_export_and_diagnostics_of_a_finished_session(as_alice, as_bob, as_charlie, alice_setup):
    strategy, broker = alice_setup
    session_id = as_alice.post("/api/v2/live/start", start_body(strategy, broker, mode="backtest"),
                               format="json").json()["session_id"]
    wait_for(lambda: status_of(session_id) == "completed", message="completion")
    session = SimulationSession.objects.get(pk=session_id)

    trades = as_alice.get(f"/api/sessions/{session_id}/trades").json()
    csv_response = as_alice.get(f"/api/sessions/{session_id}/trades", {"export": "csv"})
    csv_lines = b"".join(csv_response.streaming_content).decode().strip().splitlines()
    diagnostics = as_alice.get(f"/api/session/{session_id}/diagnostics").json()
    dashboard = as_alice.get(f"/api/live-trading/dashboard/{session.owner.user_id}").json()

    assert trades["count"] == session.total_trades
    assert [t["net_pnl"] for t in trades["results"]] == [f"{t.net_pnl:.2f}" for t in session.trades.order_by("seq")]
    assert csv_lines[0].startswith("trade_id,position_id,position_num,re_entry_num,entry_node_id,symbol")
    assert len(csv_lines) == 1 + session.total_trades
    assert list(diagnostics["events_history"]) == list(
        session.node_events.order_by("seq").values_list("execution_id", flat=True))
    assert dashboard["active_sessions"] == 0 and dashboard["total_sessions"] == 1
    card = dashboard["sessions"][session_id]
    assert card["status"] == "completed" and card["data"]["is_fresh"] is False
    assert card["data"]["gps_data"]["pnl"]["realized_pnl"] == f"{session.realized_pnl:.2f}"
    assert "events_history" not in str(dashboard)
    assert as_bob.get(f"/api/sessions/{session_id}/trades").status_code == 404
    assert as_bob.get(f"/api/session/{session_id}/diagnostics").status_code == 404
    assert as_charlie.get(f"/api/session/{session_id}/diagnostics").status_code == 200


def test_two_users_sessions_do_not_mix(as_alice, as_bob, alice, bob, alice_setup):
    strategy, broker = alice_setup
    session_id = as_alice.post("/api/v2/live/start", start_body(strategy, broker, speed_multiplier=1),
                               format="json").json()["session_id"]
    b_strategy, b_broker = setup_for(bob, "nifty_rsi_reversal")

    assert as_bob.get(f"/api/live-trading/session/{session_id}").status_code == 404
    assert as_bob.get(f"/api/live-trading/dashboard/{alice.user_id}").status_code == 404
    assert as_bob.post(f"/api/v2/live/stop/{session_id}").status_code == 404
    assert as_bob.post(f"/api/v2/live/pause/{session_id}").status_code == 404
    assert as_bob.get("/api/sessions/").json()["count"] == 0
    assert as_bob.get(f"/api/live-trading/dashboard/{bob.user_id}").json()["sessions"] == {}
    # bob cannot start with alice's strategy or broker
    foreign = as_bob.post("/api/v2/live/start", start_body(strategy, b_broker), format="json")
    assert foreign.status_code == 400 and foreign.json() == {"strategy_id": ["no such strategy of yours"]}
    foreign = as_bob.post("/api/v2/live/start", start_body(b_strategy, broker), format="json")
    assert foreign.json() == {"broker_connection_id": ["no such broker connection of yours"]}
    assert status_of(session_id) == "running"
    assert Decimal(as_alice.get("/api/sessions/").json()["results"][0]["realized_pnl"]) == Decimal("0.00")


def test_the_admin_emergency_stop_stops_every_active_session(client, as_alice, alice, bob, charlie, alice_setup):
    strategy, broker = alice_setup
    session_id = as_alice.post("/api/v2/live/start", start_body(strategy, broker, speed_multiplier=1),
                               format="json").json()["session_id"]
    client.force_login(bob)
    assert client.post("/admin/sessions_app/simulationsession/stop-all/").status_code == 302
    assert status_of(session_id) == "running", "a non-staff user cannot stop anything"

    client.force_login(charlie)
    confirm = client.get("/admin/sessions_app/simulationsession/stop-all/")
    assert confirm.status_code == 200 and b"stops <strong>1</strong> active session(s)" in confirm.content
    done = client.post("/admin/sessions_app/simulationsession/stop-all/")

    assert done.status_code == 302
    session = SimulationSession.objects.get(pk=session_id)
    assert session.status == "stopped" and session.status_reason == "stopped by charlie"


def test_a_session_running_in_another_process_is_shown_from_its_committed_rows(as_alice, alice_setup):
    from live_trading.snapshots import initial_state

    strategy, broker = alice_setup
    session_id = as_alice.post("/api/v2/live/start", start_body(strategy, broker, mode="backtest"),
                               format="json").json()["session_id"]
    wait_for(lambda: status_of(session_id) == "completed", message="completion")
    # As another process sees a session it does not run: rows committed, no thread here, no final state.
    SimulationSession.objects.filter(pk=session_id).update(status="running", final_state=None)
    session = SimulationSession.objects.get(pk=session_id)
    engine, sink = direct_run(session)

    state = initial_state(session_id)
    card = as_alice.get(f"/api/live-trading/session/{session_id}").json()

    expected_trades = [e.trade.to_dict() for e in sink.of(TradeClosed)]
    assert state["trades"] == {"summary": state["summary"], "trades": expected_trades}
    assert state["last_event_id"] == int(session.last_event_id) > 0
    assert state["positions"] == [], "every position of the day was closed by its end"
    assert card["data"]["is_fresh"] is False
    assert card["data"]["gps_data"]["trades"] == expected_trades
    assert card["data"]["gps_data"]["pnl"]["realized_pnl"] == f"{engine.summary().net_pnl:.2f}"
