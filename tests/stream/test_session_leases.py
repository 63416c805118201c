"""Leases across real server processes sharing one database, without Redis: a session whose owner is
killed is adopted by the other process and ends as the same session run without a break; a process
paused (SIGSTOP) past its lease writes nothing for the session once it wakes, and its thread ends;
stop, pause, resume and speed sent to either process reach the session where it runs; stop-all from one
process stops the sessions of both. Loopback only; every wait has a deadline (short leases, below)."""

from __future__ import annotations

import signal

import httpx
import pytest

from sessions_app.models import EquitySample, NodeEvent, PositionChange, SimulationSession, Trade
from tests.stream.conftest import bearer, start_session, stop_sessions
from tests.stream.test_resume_faults import as_fast_as_it_goes, assert_same_run, uninterrupted_twin
from tests.waiting import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

LEASE, RENEW, GRACE = 4, 1, 2
LEASES = {"SIM_LEASE_SECONDS": LEASE, "SIM_LEASE_RENEW_SECONDS": RENEW, "SIM_LEASE_GRACE_SECONDS": GRACE}
# Adoption waits for the lease to expire plus the grace period, and the adopter looks every RENEW
# seconds; a few seconds more for the rebuild and the fast-forward.
ADOPTION_DEADLINE = LEASE + GRACE + RENEW + 10


def row(session_id) -> SimulationSession:
    return SimulationSession.objects.get(pk=session_id)


def rows_of(session_id) -> tuple[int, int, int, int]:
    return (NodeEvent.objects.filter(session_id=session_id).count(),
            PositionChange.objects.filter(session_id=session_id).count(),
            Trade.objects.filter(session_id=session_id).count(),
            EquitySample.objects.filter(session_id=session_id).count())


def runs_in(server, session_id) -> bool:
    session = row(session_id)
    return session.status in ("running", "paused") and session.runner.endswith(f":{server.proc.pid}")


def test_the_other_process_adopts_a_killed_owners_session_and_it_ends_as_if_never_stopped(
        server_factory, alice, bob, charlie):
    a, b = server_factory(**LEASES), server_factory(**LEASES)
    session_id = start_session(a, alice, speed=600)  # the day in 37.5 s
    wait_for(lambda: Trade.objects.filter(session_id=session_id).exists(), timeout=60, message="a trade closed")
    ticks_at_kill = row(session_id).ticks_processed

    a.proc.send_signal(signal.SIGKILL)
    a.proc.wait(10)

    wait_for(lambda: runs_in(b, session_id) or row(session_id).status == "completed", timeout=ADOPTION_DEADLINE,
             message="the other process adopts the session")
    assert f"session {session_id} (NIFTY short straddle): adopted" in b.log()
    if row(session_id).status == "running":  # the rest of the day as fast as it goes: its pace is not tested here
        assert as_fast_as_it_goes(b, alice, session_id) == 200
    wait_for(lambda: row(session_id).status == "completed", timeout=120, message="the adopted session completes")
    assert row(session_id).ticks_processed == 22500 > ticks_at_kill
    assert row(session_id).runner.endswith(f":{b.proc.pid}")
    assert_same_run(session_id, uninterrupted_twin(session_id))
    assert httpx.get(b.url(f"/api/live-trading/session/{session_id}"), headers=bearer(bob),
                     timeout=30).status_code == 404
    b.stop()  # every live process adopts: the next test's sessions are for its own pair alone


def test_a_process_paused_past_its_lease_writes_nothing_after_it_wakes_and_its_thread_ends(
        server_factory, alice, bob, charlie):
    a, b = server_factory(**LEASES), server_factory(**LEASES)
    session_id = start_session(a, alice, speed=60)  # the day in 6 minutes: still running throughout
    wait_for(lambda: NodeEvent.objects.filter(session_id=session_id).exists(), timeout=60, message="some rows")
    token_of_a = row(session_id).lease_token

    a.proc.send_signal(signal.SIGSTOP)
    try:
        # A paused process is alive: only its lease's expiry lets the other adopt the session. A write of a
        # it was stopped in the middle of is ended by Postgres after the lease (idle in transaction).
        wait_for(lambda: runs_in(b, session_id), timeout=ADOPTION_DEADLINE + LEASE,
                 message="the other process adopts the session of the paused one")
        assert row(session_id).lease_token not in ("", token_of_a)
        stopped = httpx.post(b.url(f"/api/v2/live/stop/{session_id}"), headers=bearer(alice), timeout=30).json()
        assert stopped["status"] == "stopped"
        counted = rows_of(session_id)
    finally:
        a.proc.send_signal(signal.SIGCONT)

    wait_for(lambda: "this process lost its lease" in a.log(), timeout=30,
             message="the woken process's session thread finds its lease taken and ends")
    after = row(session_id)
    assert rows_of(session_id) == counted, "the woken process wrote no row of the session"
    assert (after.status, after.status_reason) == ("stopped", "stopped by alice")
    assert after.runner.endswith(f":{b.proc.pid}")
    assert httpx.get(a.url("/healthz"), timeout=30).status_code == 200, "the woken process goes on serving"
    a.stop()
    b.stop()


def test_a_paused_session_is_adopted_paused_and_obeys_its_new_process(server_factory, alice, bob, charlie):
    a, b = server_factory(**LEASES), server_factory(**LEASES)
    session_id = start_session(a, alice, speed=1)
    wait_for(lambda: runs_in(a, session_id), message="running in a")
    assert httpx.post(a.url(f"/api/v2/live/pause/{session_id}"), headers=bearer(alice),
                      timeout=30).json()["status"] == "paused"
    paused_at = row(session_id).ticks_processed

    a.proc.send_signal(signal.SIGKILL)
    a.proc.wait(10)

    wait_for(lambda: runs_in(b, session_id) and row(session_id).status == "paused", timeout=ADOPTION_DEADLINE,
             message="adopted by the other process, still paused")
    assert row(session_id).ticks_processed == paused_at, "a paused session does not move while adopted"
    assert httpx.post(b.url(f"/api/v2/live/resume/{session_id}"), headers=bearer(bob),
                      timeout=30).status_code == 404
    assert httpx.post(b.url(f"/api/v2/live/resume/{session_id}"), headers=bearer(alice),
                      timeout=30).json()["status"] == "running"
    wait_for(lambda: row(session_id).ticks_processed > paused_at, timeout=15, message="going on in its new process")
    stopped = httpx.post(b.url(f"/api/v2/live/stop/{session_id}"), headers=bearer(charlie), timeout=30).json()
    assert (stopped["status"], row(session_id).status_reason) == ("stopped", "stopped by charlie")
    b.stop()


@pytest.fixture(scope="module")
def pair(server_factory):
    return server_factory(**LEASES), server_factory(**LEASES)


def test_control_sent_to_the_other_process_reaches_the_session_where_it_runs(pair, alice, bob, charlie):
    a, b = pair
    session_id = start_session(a, alice, speed=1)
    wait_for(lambda: runs_in(a, session_id), message="running in a")

    def control(user, action, **body):
        return httpx.post(b.url(f"/api/v2/live/{action}/{session_id}"), headers=bearer(user), json=body or None,
                          timeout=30)

    assert control(bob, "pause").status_code == 404
    assert control(alice, "pause").json()["status"] == "paused"
    assert row(session_id).status_reason == "paused by alice"
    assert control(alice, "resume").json()["status"] == "running"
    assert control(bob, "speed", speed_multiplier=60).status_code == 404
    assert control(alice, "speed", speed_multiplier=60).json()["speed_multiplier"] == 60
    assert row(session_id).speed_multiplier == 60
    assert control(bob, "stop").status_code == 404
    assert row(session_id).status == "running"
    assert control(alice, "stop").json()["status"] == "stopped"

    session = row(session_id)
    assert session.status_reason == "stopped by alice", "the process running it stopped it, not a fallback"
    assert session.runner.endswith(f":{a.proc.pid}")


def test_stop_all_from_one_process_stops_the_sessions_of_both(pair, alice, bob, charlie):
    a, b = pair
    on_a, on_b = start_session(a, alice, speed=1), start_session(b, bob, speed=1)
    wait_for(lambda: runs_in(a, on_a) and runs_in(b, on_b), message="one session in each process")

    assert httpx.post(b.url("/api/v2/live/stop/all"), headers=bearer(alice), timeout=30).status_code == 403
    assert row(on_a).status == "running"
    everything = httpx.post(b.url("/api/v2/live/stop/all"), headers=bearer(charlie), timeout=30)

    assert everything.status_code == 200
    assert {on_a, on_b} <= {s["session_id"] for s in everything.json()["stopped_sessions"]}
    for session_id in (on_a, on_b):
        session = row(session_id)
        assert (session.status, session.status_reason) == ("stopped", "stopped by charlie"), "by its own process"
    stop_sessions(a, alice)


def test_a_server_that_starts_leaves_alone_the_sessions_another_live_process_holds(
        pair, server_factory, alice, bob, charlie):
    a, _ = pair
    session_id = start_session(a, alice, speed=1)
    wait_for(lambda: runs_in(a, session_id), message="running in a")

    c = server_factory(serve=True, **LEASES)  # `make run` of a third process on the same database
    ready = row(session_id).heartbeat_at

    assert session_id not in c.log(), "neither marked nor adopted"
    wait_for(lambda: row(session_id).heartbeat_at > ready, timeout=10, message="a renewal after c started")
    assert runs_in(a, session_id)
    assert httpx.post(c.url(f"/api/v2/live/stop/{session_id}"), headers=bearer(bob), timeout=30).status_code == 404
    stopped = httpx.post(c.url(f"/api/v2/live/stop/{session_id}"), headers=bearer(alice), timeout=30).json()
    assert (stopped["status"], row(session_id).status_reason) == ("stopped", "stopped by alice")
    c.stop()
