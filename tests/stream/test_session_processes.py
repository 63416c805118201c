"""Sessions across real server processes: control from another process through Redis, and a server that
is told to stop (SIGTERM, Ctrl-C) leaving its sessions interrupted, not running, and saying so."""

import os
import signal
import subprocess
import sys
from datetime import datetime, timedelta

import httpx
import pytest

from sessions_app.models import SimulationSession
from tests.stream.conftest import (
    ROOT,
    bearer,
    database_url_of_tests,
    redis_server_binary,
    start_session,
    stop_sessions,
)
from tests.waiting import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

needs_redis = pytest.mark.skipif(
    redis_server_binary() is None,
    reason="redis-server is not installed (apt-get install redis-server); control from another process goes "
    "through a private one",
)


def status_of(session_id):
    return SimulationSession.objects.get(pk=session_id).status


@pytest.fixture(scope="module")
def pair(server_factory, redis_server):
    env = {"REDIS_URL": redis_server.url, "REDIS_PREFIX": f"ctl{redis_server.port}"}
    return server_factory(**env), server_factory(**env)


@needs_redis
def test_another_process_pauses_resumes_speeds_up_and_stops_a_session(pair, alice, bob, charlie):
    a, b = pair
    session_id = start_session(a, alice, speed=1)
    wait_for(lambda: status_of(session_id) == "running", message="running")

    def control(action, **body):
        return httpx.post(b.url(f"/api/v2/live/{action}/{session_id}"), headers=bearer(alice), json=body or None,
                          timeout=30)

    assert control("pause").json()["status"] == "paused"
    assert control("resume").json()["status"] == "running"
    assert control("speed", speed_multiplier=60).json()["speed_multiplier"] == 60
    assert httpx.post(b.url(f"/api/v2/live/stop/{session_id}"), headers=bearer(bob), timeout=30).status_code == 404
    stopped = httpx.post(b.url(f"/api/v2/live/stop/{session_id}"), headers=bearer(alice), timeout=30).json()

    assert stopped["status"] == "stopped"
    session = SimulationSession.objects.get(pk=session_id)
    assert session.status_reason == "stopped by alice", "the process running it stopped it, not a fallback"
    assert session.runner.endswith(f":{a.proc.pid}")
    everything = httpx.post(b.url("/api/v2/live/stop/all"), headers=bearer(charlie), timeout=30)
    assert everything.status_code == 200
    stop_sessions(a, alice)


def test_sigterm_interrupts_the_servers_sessions_and_keeps_what_they_produced(server_factory, alice, bob, charlie):
    server = server_factory()
    ids = [start_session(server, alice, speed=600), start_session(server, bob, speed=600)]
    wait_for(lambda: all(SimulationSession.objects.get(pk=i).ticks_processed > 0 or status_of(i) == "running"
                         for i in ids), message="both running")
    wait_for(lambda: SimulationSession.objects.get(pk=ids[0]).node_events.exists(), message="some node events")

    server.proc.terminate()
    server.proc.wait(30)

    for session_id in ids:
        session = SimulationSession.objects.get(pk=session_id)
        assert session.status == "interrupted"
        assert session.status_reason == "the server process stopped"
        assert session.ended_at is not None and session.ticks_processed > 0
    assert SimulationSession.objects.get(pk=ids[0]).node_events.exists()
    assert server.proc.returncode is not None


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl_c", "sigterm"])
def test_stopping_the_server_ends_open_streams_with_the_interrupted_sessions_and_says_which_it_interrupted(
        server_factory, readers, alice, bob, charlie, signum):
    server = server_factory(serve=True)  # as `make run` serves
    sessions = {alice: start_session(server, alice, speed=60), bob: start_session(server, bob, speed=60)}
    streams = {
        alice: readers(server.url(f"/api/live-trading/stream/{alice.user_id}?compress=0"), **bearer(alice)),
        bob: readers(server.url(f"/api/live-trading/stream/{bob.user_id}?compress=0"), **bearer(charlie)),  # staff
    }
    for stream in streams.values():
        stream.until(lambda e: e.event == "tick_update")  # the session runs and the stream is live

    server.proc.send_signal(signum)

    for user, stream in streams.items():
        got = stream.until(lambda e: e.event == "session_complete", timeout=60)
        assert {e.json["session_id"] for e in got if e.event != "heartbeat"} == {sessions[user]}, "one's own only"
        statuses = [e.json for e in got if e.event == "session_status"]
        assert (statuses[-1]["status"], statuses[-1]["reason"]) == ("interrupted", "the server process stopped")
        assert got[-1].json["status"] == "interrupted"
    assert server.proc.wait(60) is not None
    output = server.log().splitlines()
    for session_id in sessions.values():
        session = SimulationSession.objects.get(pk=session_id)
        assert session.status == "interrupted"
        # A synthetic day has one tick a second from 09:15:00 IST: the n-th tick is at 09:15:00 + (n - 1) s.
        reached = datetime(2024, 10, 29, 9, 15) + timedelta(seconds=session.ticks_processed - 1)
        assert f"interrupted {session_id} (NIFTY short straddle) at {reached:%Y-%m-%d %H:%M:%S} IST" in output


def test_a_second_server_on_a_port_in_use_refuses_before_touching_the_first_ones_sessions(server_factory, alice, bob,
                                                                                           charlie):
    # `make run` typed again in a second terminal: the second process cannot listen, and must not sweep
    # the sessions the first one is running as if their process had died.
    server = server_factory(serve=True)
    session_id = start_session(server, alice, speed=60)
    wait_for(lambda: status_of(session_id) == "running", message="running")

    second = subprocess.run(
        [sys.executable, "manage.py", "serve", "--no-demo", "--host", "127.0.0.1", "--port", str(server.port)],
        cwd=ROOT, env={**os.environ, "DATABASE_URL": database_url_of_tests(), "DEBUG": "false"},
        capture_output=True, text=True, timeout=120,
    )

    assert second.returncode == 2, second.stdout + second.stderr
    assert f"port {server.port}" in second.stderr and "in use" in second.stderr
    assert "interrupted" not in second.stdout
    assert status_of(session_id) == "running"
    paused = httpx.post(server.url(f"/api/v2/live/pause/{session_id}"), headers=bearer(alice), timeout=30)
    assert paused.status_code == 200 and paused.json()["status"] == "paused"
    assert httpx.post(server.url(f"/api/v2/live/pause/{session_id}"), headers=bearer(bob), timeout=30).status_code == 404
    assert httpx.get(server.url(f"/api/live-trading/session/{session_id}"), headers=bearer(charlie),
                     timeout=30).json()["status"] == "paused"  # staff read it; the first server still runs it
    stop_sessions(server, alice)
