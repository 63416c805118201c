"""Fault tests behind a real Pushpin front: two real daphne processes (A and B) share the test database and a
private redis-server, with short leases; clients connect only to Pushpin, as browsers would. Pushpin forwards to
one port that A and B both listen on (``front.shared_listener``, as ``make cluster`` runs them).

* New streams and requests through the front are spread over A and B, each counted in the process's own
  access log.

* The session's owner is SIGKILLed mid-session: the other process adopts it within the lease's grace period
  plus a few seconds, the session ends with exactly the rows and summary of the same session run without a
  break (its twin, run here in one go), and every client applies every event of it once, in order.
* Redis is killed and started again mid-session (no persistence: it comes back empty): the session goes on,
  control still reaches it, and every client applies every event once.

The clients are ``BrowserClient``: a real SSE client that, as ``EventSource`` does, reconnects with its
``Last-Event-ID`` whenever its stream ends, and applies what it gets with ``Follower``, which refuses a
duplicate or a gap of any session. Loopback only; every wait has a deadline.
"""

from __future__ import annotations

import secrets
import signal
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from live_trading.stream import front
from sessions_app.models import SimulationSession
from tests.stream.clients import BrowserClient, assert_same_state, fresh_state
from tests.stream.conftest import bearer, free_port, redis_server_binary, start_session, stop_sessions
from tests.stream.test_resume_faults import assert_same_run, uninterrupted_twin
from tests.waiting import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

if front.binary() is None:
    pytest.skip("pushpin is not installed (apt-get install pushpin); the fault tests behind a front need it",
                allow_module_level=True)
if redis_server_binary() is None:
    pytest.skip("redis-server is not installed (apt-get install redis-server); two processes behind the front "
                "share replay windows and control through it", allow_module_level=True)

LEASE, RENEW, GRACE = 4, 1, 2
# Adoption waits at most for the lease to expire plus the grace period (less when the dead owner was a
# process of this host: its pid is gone), the adopter looks every RENEW seconds; a few seconds more for
# the rebuild and the fast-forward on a busy machine.
ADOPTION_DEADLINE = LEASE + GRACE + RENEW + 10
ENV = {"SIM_LEASE_SECONDS": LEASE, "SIM_LEASE_RENEW_SECONDS": RENEW, "SIM_LEASE_GRACE_SECONDS": GRACE,
       "STREAM_REPLAY_WINDOW": 100_000, "STREAM_HEARTBEAT_MS": 1000,
       "PYTHONUNBUFFERED": 1}  # daphne's access log (a line per answered request) reaches its log file at once
SPEED = 2000  # the test day (22,500 ticks, 09:15-15:30) in 11.25 s


def completes(session_id):
    return lambda e: e.event == "session_complete" and e.json["session_id"] == session_id


def row(session_id) -> SimulationSession:
    return SimulationSession.objects.get(pk=session_id)


def runs_in(server, session_id) -> bool:
    session = row(session_id)
    return session.status in ("running", "paused") and session.runner.endswith(f":{server.proc.pid}")


@pytest.fixture(scope="module")
def cluster(server_factory, redis_server):
    """Pushpin in front of daphne A and B, short leases: ``(pushpin, a, b, redis_server)``."""
    key = secrets.token_urlsafe(24)
    port, publish_port = free_port(), free_port()
    env = {**ENV, "REDIS_URL": redis_server.url, "REDIS_PREFIX": f"ff{redis_server.port}",
           "GRIP_URL": f"http://127.0.0.1:{publish_port}", "GRIP_KEY": key}
    shared = free_port()  # A and B both listen on it; Pushpin forwards there (front.shared_listener)
    a, b = server_factory(shared_port=shared, **env), server_factory(shared_port=shared, **env)
    pushpin = front.Pushpin(Path(tempfile.mkdtemp(prefix="ff-")), port=port, publish_port=publish_port,
                            backends=[f"127.0.0.1:{shared}"], sig_key=key)
    try:
        pushpin.wait_ready(timeout=20)
        yield pushpin, a, b, redis_server
    finally:
        pushpin.stop()


def answered(server, url: str) -> int:
    """How many requests for ``url`` (path and query) ``server`` answered: daphne's access log, a line each."""
    return server.log_path.read_text(errors="replace").count(f'"GET {url}" ')


def test_new_streams_and_requests_through_the_front_are_spread_over_both_processes(cluster, readers, alice):
    pushpin, a, b, _ = cluster
    # Each URL once (an unknown query parameter is ignored), so each process's log says which it answered.
    streams = [f"/api/live-trading/stream/{alice.user_id}?compress=0&client=spread-{i}" for i in range(24)]
    requests = [f"/api/live-trading/dashboard/{alice.user_id}?client=spread-{i}" for i in range(24)]
    headers = bearer(alice)

    def open_stream(url):
        # Under load Pushpin has been seen (once, in CI) to close a new connection without an answer; a
        # browser's EventSource connects again, and so does this client, under a URL of its own so that
        # the access logs below still name each answered stream once.
        for attempt in range(3):
            tagged = url if attempt == 0 else f"{url}-again{attempt}"
            try:
                return tagged, readers(pushpin.base + tagged, **headers)
            except httpx.TransportError:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    streams, opened = map(list, zip(*(open_stream(url) for url in streams), strict=True))
    # At once, as many clients send them: Pushpin keeps its connections to the app open between requests, so
    # requests one after another go over one connection to one process; these need a connection each.
    with ThreadPoolExecutor(len(requests)) as pool:
        answers = list(pool.map(lambda url: httpx.get(pushpin.base + url, headers=headers, timeout=30), requests))
    assert [r.status for r in opened] == [200] * len(streams)
    assert [r.status_code for r in answers] == [200] * len(requests)
    for reader in opened:  # held by Pushpin (alice follows no session: heartbeats only)
        reader.until(lambda e: e.event == "heartbeat", timeout=30)

    for urls, kind in ((streams, "streams"), (requests, "requests")):
        wait_for(lambda urls=urls: all(answered(a, u) + answered(b, u) == 1 for u in urls), timeout=30,
                 message=f"both processes' access logs to list the {kind}, each once")
        on_a = sum(answered(a, u) for u in urls)
        assert 0 < on_a < len(urls), f"{kind}: {on_a} of {len(urls)} answered by A, the rest by B"


def test_a_redis_restart_mid_session_loses_no_event_and_the_session_goes_on(cluster, readers, alice, bob, charlie):
    pushpin, a, b, redis_server = cluster
    url = f"/api/live-trading/stream/{alice.user_id}?compress=0"
    through_front = BrowserClient(readers, pushpin.base + url, bearer(alice))
    on_b = BrowserClient(readers, b.url(url), bearer(alice))  # A's events reach it through Redis only
    bobs = BrowserClient(readers, pushpin.base + f"/api/live-trading/stream/{bob.user_id}", bearer(bob))
    session_id = start_session(a, alice, speed=SPEED)
    through_front.until(lambda e: e.event == "trade_update", timeout=60)
    ticks_before = row(session_id).ticks_processed

    redis_server.kill()
    wait_for(lambda: row(session_id).ticks_processed > ticks_before + 500, timeout=30,
             message="the session going on while Redis is down")
    redis_server.start()  # on the same port, empty
    through_front.drop()  # a reconnect now is answered after a Redis that forgot every replay window
    on_b.drop()
    resumed_at = row(session_id).ticks_processed
    wait_for(lambda: row(session_id).ticks_processed > resumed_at + 500, timeout=30,
             message="the session going on after Redis came back")
    stopped = httpx.post(b.url(f"/api/v2/live/stop/{session_id}"), headers=bearer(alice), timeout=30)
    assert stopped.json()["status"] == "stopped", "control from the other process reached the owner"
    for client in (through_front, on_b):
        client.until(completes(session_id), timeout=60)

    session = row(session_id)
    assert (session.status, session.status_reason) == ("stopped", "stopped by alice")
    assert session.runner.endswith(f":{a.proc.pid}"), "it never left its process"
    for client in (through_front, on_b):
        assert client.follower.applied[session_id] == int(session.last_event_id), "every event, the last included"
        assert_same_state(client.follower.sessions[session_id], fresh_state(a, alice, session_id))
    assert {e.event for e in bobs.events} <= {"heartbeat"}, "bob's stream carries nothing of alice's"
    assert httpx.post(b.url(f"/api/v2/live/stop/{session_id}"), headers=bearer(bob), timeout=30).status_code == 404
    assert httpx.get(pushpin.base + f"/api/live-trading/session/{session_id}", headers=bearer(charlie),
                     timeout=30).status_code == 200, "staff reads any session"


def test_an_owner_killed_mid_session_is_adopted_and_clients_through_the_front_apply_every_event_once(
        cluster, readers, alice, bob, charlie):
    pushpin, a, b, _ = cluster
    url = pushpin.base + f"/api/live-trading/stream/{alice.user_id}?compress=0"
    held = BrowserClient(readers, url, bearer(alice))  # stays connected through the kill, if the front lets it
    dropped = BrowserClient(readers, url, bearer(alice))  # loses its connection as the owner dies
    session_id = start_session(a, alice, speed=SPEED)
    held.until(lambda e: e.event == "trade_update", timeout=60)  # mid-session, a trade closed and seen
    dropped.until(lambda e: e.event == "trade_update", timeout=30)
    ticks_at_kill = row(session_id).ticks_processed

    a.proc.send_signal(signal.SIGKILL)
    a.proc.wait(10)
    dropped.drop()  # reconnects through the front while the owner is dead: the front answers from B

    wait_for(lambda: runs_in(b, session_id) or row(session_id).status == "completed", timeout=ADOPTION_DEADLINE,
             message="the other process adopting the session")
    assert f"session {session_id} (NIFTY short straddle): adopted" in b.log()
    for client in (held, dropped):
        client.until(completes(session_id), timeout=90)

    session = row(session_id)
    assert session.status == "completed" and session.ticks_processed == 22500 > ticks_at_kill
    assert session.runner.endswith(f":{b.proc.pid}")
    for client in (held, dropped):
        # Follower refused any number twice and any gap; it reached the session's very last event.
        assert client.follower.applied[session_id] == int(session.last_event_id)
        assert_same_state(client.follower.sessions[session_id], fresh_state(b, alice, session_id))
    assert dropped.connections >= 2
    assert_same_run(session_id, uninterrupted_twin(session_id))
    assert httpx.get(pushpin.base + f"/api/live-trading/session/{session_id}", headers=bearer(bob),
                     timeout=30).status_code == 404
    assert httpx.get(pushpin.base + f"/api/live-trading/session/{session_id}", headers=bearer(charlie),
                     timeout=30).status_code == 200
    stop_sessions(b, alice)
