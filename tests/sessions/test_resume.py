"""Resuming an interrupted session in-process: the real thread, engine and Postgres, through the API.

What a resumed session must end as is worked out independently: the same strategy, day, seed and
capital through the engine alone, uninterrupted (``direct_run``); its rows must equal the engine's events.
"""

import threading

import pytest
from django.contrib.auth.models import Permission
from django.db import connection

from live_trading import actions
from live_trading.marketdata.store import ensure_synthetic_day, imported_path, synthetic_path
from live_trading.runner.registry import registry
from sessions_app import leases
from sessions_app.models import EquitySample, NodeEvent, PositionChange, SimulationSession, Trade
from tests.conftest import client_for, create_user
from tests.sessions.conftest import DAY, start_body
from tests.sessions.test_session_runs import assert_persisted_equals, direct_run, status_of
from tests.waiting import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def start_and_interrupt(client, strategy, broker, *, trades=1):
    """Start at 3000x (a day in 7.5 s), interrupt as a stopping server does once ``trades`` have closed."""
    session_id = client.post("/api/v2/live/start", start_body(strategy, broker, speed_multiplier=3000),
                             format="json").json()["session_id"]
    wait_for(lambda: Trade.objects.filter(session_id=session_id).count() >= trades, timeout=60,
             message=f"{trades} trade(s) closed")
    assert registry.shutdown("the server process stopped") == [session_id]
    assert status_of(session_id) == "interrupted"
    return session_id


def rows(session_id):
    return {
        "nodes": NodeEvent.objects.filter(session_id=session_id).count(),
        "positions": PositionChange.objects.filter(session_id=session_id).count(),
        "trades": Trade.objects.filter(session_id=session_id).count(),
        "equity": EquitySample.objects.filter(session_id=session_id).count(),
    }


def test_an_interrupted_session_resumed_on_request_ends_equal_to_an_uninterrupted_run(as_alice, alice_setup):
    strategy, broker = alice_setup
    session_id = start_and_interrupt(as_alice, strategy, broker)
    interrupted = SimulationSession.objects.get(pk=session_id)
    assert 0 < interrupted.ticks_processed < 22500

    response = as_alice.post(f"/api/v2/live/resume/{session_id}")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "running"
    assert as_alice.post(f"/api/v2/live/speed/{session_id}", {"speed_multiplier": "max"}, format="json").status_code == 200
    wait_for(lambda: status_of(session_id) == "completed", timeout=60, message="completion")
    session = SimulationSession.objects.get(pk=session_id)
    engine, sink = direct_run(session)
    assert_persisted_equals(session, sink)  # every node event, position change and trade, once, in order
    summary = engine.summary()
    assert (session.total_trades, session.realized_pnl, session.charges) == (
        summary.total_trades, summary.net_pnl, summary.charges)
    assert session.ticks_processed == 22500
    # one P&L sample at the close of each exchange minute of the day, 09:15 to 15:29 (375; the last is the
    # end's, after the 15:29:59 tick): none twice, none missing
    assert rows(session_id)["equity"] == 375
    assert session.ended_at is not None and session.status_reason == "replayed every tick"


def test_interrupting_squares_nothing_off_and_writes_no_row_the_engine_would_not_have_written(
        as_alice, alice_setup):
    strategy, broker = alice_setup
    session_id = start_and_interrupt(as_alice, strategy, broker)
    session = SimulationSession.objects.get(pk=session_id)

    _, sink = direct_run(session, ticks=session.ticks_processed)  # finish() there squares off: left out below

    stored_trades = list(Trade.objects.filter(session_id=session_id).order_by("seq").values_list("trade_id", flat=True))
    squared_off = [e.trade.trade_id for e in sink.events if type(e).__name__ == "TradeClosed"]
    assert stored_trades == squared_off[:len(stored_trades)]
    assert all(r.exit_reason != "session_end" for r in Trade.objects.filter(session_id=session_id))


@pytest.fixture
def dave(django_user_model):
    """Staff who may read every session, without the permission to control another user's."""
    user = create_user(django_user_model, "dave", "dave-password-1", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_simulationsession"))
    return user


def test_an_interrupted_session_resumes_for_its_owner_or_staff_with_the_control_permission_only(
        as_alice, as_bob, alice_setup, dave):
    strategy, broker = alice_setup
    session_id = start_and_interrupt(as_alice, strategy, broker)

    assert as_bob.post(f"/api/v2/live/resume/{session_id}").status_code == 404
    refused = client_for(dave).post(f"/api/v2/live/resume/{session_id}")
    assert refused.status_code == 403
    assert refused.json() == {
        "detail": "controlling another user's sessions needs the sessions_app.change_simulationsession permission"}
    assert status_of(session_id) == "interrupted"
    dave.user_permissions.add(Permission.objects.get(codename="change_simulationsession"))
    resumed = client_for(dave).post(f"/api/v2/live/resume/{session_id}")
    assert resumed.status_code == 200 and resumed.json()["status"] == "running"
    assert SimulationSession.objects.get(pk=session_id).status_reason == "resumed by dave"


def test_resuming_a_session_that_is_not_interrupted_answers_409_with_its_status(
        as_alice, as_charlie, alice_setup):
    strategy, broker = alice_setup
    session_id = start_and_interrupt(as_alice, strategy, broker)
    assert as_charlie.post(f"/api/v2/live/resume/{session_id}").json()["status"] == "running"  # staff (superuser)
    as_alice.post(f"/api/v2/live/stop/{session_id}")

    again = as_alice.post(f"/api/v2/live/resume/{session_id}")

    assert again.status_code == 409
    assert again.json() == {"detail": "the session is stopped", "status": "stopped"}
    assert status_of(session_id) == "stopped"


def test_a_session_whose_market_data_changed_fails_with_the_reason_and_keeps_every_row(
        as_alice, alice_setup, settings, tmp_path):
    strategy, broker = alice_setup
    settings.MARKET_DATA_DIR = tmp_path
    ensure_synthetic_day("NIFTY", DAY, data_dir=tmp_path)
    session_id = start_and_interrupt(as_alice, strategy, broker)
    before = rows(session_id)
    totals = SimulationSession.objects.filter(pk=session_id).values("realized_pnl", "total_trades", "ticks_processed",
                                                                   "final_state").get()
    # Another day's market imported in its place: prices differ from the first tick on.
    other = ensure_synthetic_day("NIFTY", DAY, seed=7, data_dir=tmp_path)
    target = imported_path("NIFTY", DAY, tmp_path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(other.read_bytes())
    assert synthetic_path("NIFTY", DAY, data_dir=tmp_path).exists()

    response = as_alice.post(f"/api/v2/live/resume/{session_id}")

    assert response.status_code == 200, response.content  # claimed; its replay then fails
    wait_for(lambda: status_of(session_id) == "failed", timeout=60, message="the failed replay")
    session = SimulationSession.objects.get(pk=session_id)
    # The straddle's first priced event is its first order (its third node execution, at 09:20): the
    # controller and the time condition before it do not depend on prices.
    assert session.status_reason.startswith(
        "could not resume: node execution 3 (exec_entry-ce_20241029_092000_"), session.status_reason
    assert "differs from the stored one: payload." in session.status_reason
    assert session.status_reason.endswith("(the market data or the engine changed since it ran)")
    assert rows(session_id) == before, "every row kept, none added"
    after = SimulationSession.objects.filter(pk=session_id).values("realized_pnl", "total_trades", "ticks_processed",
                                                                  "final_state").get()
    assert after == totals


def test_the_server_start_resumes_every_interrupted_session_but_those_from_before_resuming_existed(
        as_alice, alice, alice_setup):
    strategy, broker = alice_setup
    session_id = start_and_interrupt(as_alice, strategy, broker)
    # Interrupted before the capital was recorded, when an interrupt squared off: its replay could only fail.
    older = SimulationSession.objects.create(
        owner=alice, strategy=strategy, strategy_name=strategy.name, strategy_version=1, graph=strategy.graph,
        broker_connection=broker, start_date=DAY, end_date=DAY, underlying="NIFTY", status="interrupted")

    outcomes = actions.resume_interrupted_sessions()

    assert [(s.id, outcome) for s, outcome in outcomes] == [(session_id, "resumed")]
    assert status_of(older.id) == "interrupted"
    assert status_of(session_id) == "running"
    assert SimulationSession.objects.get(pk=session_id).status_reason == "resumed when the server started"


def test_a_session_started_paused_answers_paused_and_a_server_restart_keeps_it_waiting_for_its_owner(
        as_alice, as_bob, alice_setup):
    strategy, broker = alice_setup
    started = as_alice.post("/api/v2/live/start", start_body(strategy, broker, speed_multiplier="max", paused=True),
                            format="json")
    # The answer comes once it is paused, so a resume sent right after it is obeyed after the pause.
    assert started.status_code == 201 and started.json()["status"] == "paused", started.content
    session_id = started.json()["session_id"]
    assert registry.shutdown("the server process stopped") == [session_id]
    assert (status_of(session_id), SimulationSession.objects.get(pk=session_id).ticks_processed) == ("interrupted", 0)

    outcomes = actions.resume_interrupted_sessions()

    assert [(s.id, outcome) for s, outcome in outcomes] == [(session_id, "resumed")]
    # Paused again before its first tick, with the reason it was paused for: nobody asked it to run.
    wait_for(lambda: status_of(session_id) == "paused", timeout=30, message="the resumed session to pause again")
    session = SimulationSession.objects.get(pk=session_id)
    assert (session.status_reason, session.ticks_processed) == ("started paused by alice", 0)
    assert as_bob.post(f"/api/v2/live/resume/{session_id}").status_code == 404
    assert status_of(session_id) == "paused"

    assert as_alice.post(f"/api/v2/live/resume/{session_id}").json()["status"] == "running"
    wait_for(lambda: status_of(session_id) == "completed", timeout=60, message="the whole day at max speed")
    assert SimulationSession.objects.get(pk=session_id).ticks_processed == 22500


def test_a_session_paused_midway_and_interrupted_stays_paused_on_restart_but_runs_on_its_owners_resume(
        as_alice, alice_setup):
    strategy, broker = alice_setup
    session_id = start_and_interrupt(as_alice, strategy, broker, trades=0)
    as_alice.post(f"/api/v2/live/resume/{session_id}")  # running again
    assert as_alice.post(f"/api/v2/live/pause/{session_id}").json()["status"] == "paused"
    assert registry.shutdown("the server process stopped") == [session_id]
    ticks = SimulationSession.objects.get(pk=session_id).ticks_processed

    actions.resume_interrupted_sessions()
    wait_for(lambda: status_of(session_id) == "paused", timeout=30, message="the resumed session to pause again")
    session = SimulationSession.objects.get(pk=session_id)
    assert (session.status_reason, session.ticks_processed) == ("paused by alice", ticks)

    # Interrupted again while paused, then resumed by its owner's own request: that asks it to run.
    assert registry.shutdown("the server process stopped") == [session_id]
    assert as_alice.post(f"/api/v2/live/resume/{session_id}").json()["status"] == "running"
    wait_for(lambda: SimulationSession.objects.get(pk=session_id).ticks_processed > ticks, timeout=30,
             message="the session to go on past where it was paused")
    assert status_of(session_id) == "running"


def cut_a_batch_write_in_flight(session_id: str) -> None:
    """What a database restart does to a session's write: hold the session's row locked so its next batch
    write waits on it (inside its transaction, its rows already inserted), cut that connection, then
    let go of the row."""
    from django.db import connection, transaction

    def waiting_writer():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                           "AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'")
            row = cursor.fetchone()
        return row[0] if row else None

    with transaction.atomic():
        SimulationSession.objects.select_for_update().filter(pk=session_id).exists()
        pid = wait_for(waiting_writer, timeout=30, message="a batch write waiting on the row")
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
            assert cursor.fetchone()[0] is True

    def gone():
        with connection.cursor() as cursor:
            cursor.execute("SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = %s)", [pid])
            return cursor.fetchone()[0]

    # Until its backend has ended it is still listed waiting on the row: a next cut must not take it for the
    # writer's next try (seen once under load: pg_terminate_backend of a pid that had just ended).
    wait_for(gone, timeout=30, message="the cut connection's backend to end")


def test_a_batch_write_cut_by_the_database_is_written_again_and_nothing_is_lost(as_alice, alice_setup):
    strategy, broker = alice_setup
    # Slow enough that the day cannot end before both cuts however loaded the machine (a day takes 75 s at
    # 300x), then as fast as it goes.
    session_id = as_alice.post("/api/v2/live/start", start_body(strategy, broker, speed_multiplier=300),
                               format="json").json()["session_id"]
    wait_for(lambda: Trade.objects.filter(session_id=session_id).exists(), timeout=60, message="a trade")

    for _ in range(2):
        cut_a_batch_write_in_flight(session_id)
    assert as_alice.post(f"/api/v2/live/speed/{session_id}", {"speed_multiplier": "max"}, format="json").status_code == 200

    wait_for(lambda: status_of(session_id) in ("completed", "failed"), timeout=120, message="the end")
    session = SimulationSession.objects.get(pk=session_id)
    assert session.status == "completed", session.status_reason
    _, sink = direct_run(session)
    assert_persisted_equals(session, sink)  # every row once, none lost to a cut
    assert rows(session_id)["equity"] == 375


def test_a_long_fast_forward_renews_its_lease_so_no_other_process_may_take_the_session(as_alice, alice_setup,
                                                                                        settings):
    # A lease of 6 s renewed every second, no grace: a replay that outlasts 6 s without renewing would leave
    # the session adoptable by any other process while this one still replays it; the renewals themselves are
    # counted below (the margin is for a loaded machine, where a renewal can come seconds late).
    settings.SIM_LEASE_SECONDS, settings.SIM_LEASE_RENEW_SECONDS, settings.SIM_LEASE_GRACE_SECONDS = 6, 1, 0
    strategy, broker = alice_setup
    # Every trading day of October 2024 (the longest span a session may replay), as fast as the engine goes,
    # interrupted two days before its end: the replay of twenty days or so takes seconds, however fast the machine.
    session_id = as_alice.post("/api/v2/live/start", start_body(strategy, broker, speed_multiplier="max",
                                                                date="2024-10-01", to="2024-10-31"),
                               format="json").json()["session_id"]
    total = SimulationSession.objects.get(pk=session_id).total_ticks
    assert total >= 20 * 22500
    wait_for(lambda: SimulationSession.objects.get(pk=session_id).ticks_processed >= total - 2 * 22500, timeout=180,
             message="all but two days run")
    assert registry.shutdown("the server process stopped") == [session_id]
    stored = SimulationSession.objects.get(pk=session_id)
    assert stored.status == "interrupted" and stored.ticks_processed < total

    # Watched from before the request on, on a thread of its own, so however fast the reply, no moment of
    # the replay is missed.
    samples, stop = [], threading.Event()

    def watch():
        try:
            while not stop.is_set():
                row = SimulationSession.objects.values("status", "status_reason", "ticks_processed", "last_event_id",
                                                       "heartbeat_at").get(pk=session_id)
                samples.append((row, leases.held(session_id), session_id in [s for s, _, _ in leases.adoptable()]))
                if row["status"] != "interrupted" and (row["status"] != "running"
                                                       or row["last_event_id"] != stored.last_event_id):
                    return  # live (the resumed announcement took the next number), or ended
                stop.wait(0.02)
        finally:
            connection.close()

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        assert as_alice.post(f"/api/v2/live/resume/{session_id}").json()["status"] == "running"
        wait_for(lambda: not watcher.is_alive(), timeout=120, message="the fast-forward to end")
    finally:
        stop.set()
    replaying = [(row, held, adoptable) for row, held, adoptable in samples if row["status"] == "running"
                 and (row["ticks_processed"], row["last_event_id"]) == (stored.ticks_processed, stored.last_event_id)]
    assert replaying, f"never seen replaying; the last seen: {samples[-1]}"
    assert all(held and not adoptable for _, held, adoptable in replaying), "the lease lapsed while it replayed"
    # The claim's heartbeat, then renewals (a second apart at most) while it wrote nothing else (ticks and
    # event numbers as stored): a replay of days takes seconds, so at least one renewal.
    assert len({row["heartbeat_at"] for row, _, _ in replaying}) >= 2, "no renewal while replaying"
    wait_for(lambda: status_of(session_id) == "completed", timeout=120, message="completion")
    assert SimulationSession.objects.get(pk=session_id).ticks_processed == total
