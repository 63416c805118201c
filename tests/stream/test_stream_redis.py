"""Several server processes sharing events through a private Redis, and a Redis that restarts.

Two daphne servers (A and B) share a redis-server started by the test on a free port, without
persistence, so a restart loses everything Redis held. Sessions run in A; clients read from both.
"""

import pytest

from tests.stream.clients import cursors
from tests.stream.conftest import bearer, redis_server_binary, start_session, stop_sessions
from tests.waiting import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

REDIS = redis_server_binary()
if REDIS is None:
    pytest.skip("redis-server is not installed (apt-get install redis-server); the multi-process stream "
                "tests need a private one", allow_module_level=True)


@pytest.fixture(scope="module")
def servers(server_factory, redis_server):
    env = {"REDIS_URL": redis_server.url, "REDIS_PREFIX": f"test{redis_server.port}", "STREAM_HEARTBEAT_MS": 1000}
    return server_factory(**env), server_factory(**env)


@pytest.fixture(autouse=True)
def _stop_sessions_after(servers, alice, bob, charlie):
    yield
    for user in (alice, bob, charlie):
        stop_sessions(servers[0], user)


def user_stream(server, user):
    return server.url(f"/api/live-trading/stream/{user.user_id}")


def stored(events):
    return [e for e in events if e.id is not None]


def mentions(server, text) -> int:
    """How many times the server's whole log says ``text`` (its warnings tell what it noticed of Redis)."""
    return server.log_path.read_text(errors="replace").count(text)


def control(server, user, action, session_id):
    import httpx

    r = httpx.post(server.url(f"/api/v2/live/{action}/{session_id}"), headers=bearer(user), timeout=30)
    assert r.status_code == 200, r.text


def test_events_published_in_one_process_reach_streams_served_by_another(servers, readers, alice, bob):
    a, b = servers
    on_a = readers(user_stream(a, alice), **bearer(alice))
    on_b = readers(user_stream(b, alice), **bearer(alice))
    bobs_on_b = readers(user_stream(b, bob), **bearer(bob))
    session_id = start_session(a, alice, speed=2000)

    on_a.until(lambda e: e.event == "trade_update", timeout=60)
    last = stored(on_a.events)[-1]
    got = on_b.until(lambda e: cursors(e.id) == cursors(last.id), timeout=30)

    assert [(e.event, cursors(e.id), e.data) for e in stored(got)] == [(e.event, cursors(e.id), e.data) for e in stored(on_a.events)][
        :len(stored(got))]
    assert {e.json["session_id"] for e in got if e.event != "heartbeat"} == {session_id}
    tick = on_b.until(lambda e: e.event == "tick_update", timeout=30)[-1]
    assert tick.json["session_id"] == session_id and tick.id is None
    assert {e.event for e in bobs_on_b.events} <= {"heartbeat"}


def test_a_client_that_moves_to_another_process_resumes_without_loss(servers, readers, alice):
    a, b = servers
    reference = readers(user_stream(a, alice), **bearer(alice))
    first = readers(user_stream(a, alice), **bearer(alice))
    start_session(a, alice, speed=300)
    first.until(lambda e: len(stored(first.events)) >= 5, timeout=60)
    first.close()
    # Events published while no client is connected: the move has something to resume.
    reference.until(lambda e: len(stored(reference.events)) >= len(stored(first.events)) + 3, timeout=60)

    moved = readers(user_stream(b, alice), **bearer(alice), **{"Last-Event-ID": first.last_event_id})
    reference.until(lambda e: len(stored(reference.events)) >= len(stored(first.events)) + 10, timeout=60)
    expected = stored(reference.events)[:len(stored(first.events)) + 10]
    got = moved.until(lambda e: cursors(e.id) == cursors(expected[-1].id), timeout=30)

    assert [(e.event, cursors(e.id), e.data) for e in stored(first.events) + stored(got)] == [
        (e.event, cursors(e.id), e.data) for e in expected]
    assert not any(e.event == "initial_state" for e in got)


def test_delivery_survives_a_redis_restart(servers, readers, redis_server, alice):
    a, b = servers
    reference = readers(user_stream(a, alice), **bearer(alice))  # where the session runs: no Redis needed
    remote = readers(user_stream(b, alice), **bearer(alice))  # everything it gets comes through Redis
    session_id = start_session(a, alice, speed=300)
    reference.until(lambda e: len(stored(reference.events)) >= 5, timeout=60)
    control(a, alice, "pause", session_id)
    before = stored(reference.events)[-1]
    remote.until(lambda e: cursors(e.id) == cursors(before.id), timeout=30)

    unavailable, lost = mentions(a, "Redis unavailable"), mentions(b, "Redis subscription lost")
    redis_server.kill()
    control(a, alice, "resume", session_id)  # events go on being published while Redis is down
    reference.until(lambda e: len(stored(reference.events)) >= stored(reference.events).index(before) + 8, timeout=60)
    during = stored(reference.events)[-1]
    # Redis stays down until both sides noticed: A kept events it could not send, B lost its subscription.
    wait_for(lambda: mentions(a, "Redis unavailable") > unavailable, timeout=30, message="A to keep unsent events")
    wait_for(lambda: mentions(b, "Redis subscription lost") > lost, timeout=30, message="B to lose its subscription")
    redis_server.start()

    reference.until(lambda e: len(stored(reference.events)) > stored(reference.events).index(during) + 5, timeout=60)
    after = stored(reference.events)[-1]
    remote.until(lambda e: cursors(e.id) == cursors(after.id), timeout=30)

    upto = stored(reference.events)[:stored(reference.events).index(after) + 1]
    received = stored(remote.events)[:len(upto)]
    assert [(e.event, cursors(e.id), e.data) for e in received] == [(e.event, cursors(e.id), e.data) for e in upto]
    assert not any(e.event == "initial_state" for e in remote.events)
