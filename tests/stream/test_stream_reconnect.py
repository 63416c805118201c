"""A client following several sessions on one user stream, cut off at random byte offsets over and
over (mid-event included) and reconnecting each time from the id of the last complete event, as a
browser does: afterwards it knows exactly what the server knows of every session, and no event was
applied twice or skipped (``Follower`` refuses both as they arrive).

While it is being cut, sessions start (one before the client connects, others while it follows, one
that starts and ends while it is away), pause, resume, stop and complete by themselves. Every SSE id
is checked as it arrives: it names every session the client follows, at the number of the last event
the client has of it, until that session's last event.
"""

import random
import time

import httpx
import pytest

from sessions_app.models import SimulationSession
from tests.stream.clients import FINAL, Follower, assert_same_state, channels, cursors, fresh_state
from tests.stream.conftest import Event, SSEParser, bearer, start_session, stop_sessions
from tests.waiting import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

WINDOW = 40  # small, so that some reconnects come back too late for the window and get initial_state
CUTS = 100


@pytest.fixture(scope="module")
def server(server_factory):
    return server_factory(STREAM_HEARTBEAT_MS=250, STREAM_REPLAY_WINDOW=WINDOW, STREAM_RETRY_MS=100)


def sse_events(body: bytes) -> list[Event]:
    """The events a browser dispatches from a body that may end anywhere: only those whose blank line
    arrived (an event cut mid-way is never dispatched, and its id never becomes lastEventId)."""
    end = body.rfind(b"\n\n")
    parser = SSEParser()
    events = (parser.feed(line) for line in body[:end + 2].decode().split("\n")[:-1]) if end >= 0 else ()
    return [e for e in events if e is not None]


def read_until_cut(url: str, headers: dict, budget: int, patience: float) -> bytes:
    """Open the stream and read ``budget`` bytes of its body, then drop the connection; or drop it
    as it stands ``patience`` seconds after its headers (a quiet stream may take long to send that
    much; its heartbeats, every 250 ms here, bound each wait). The headers themselves get the usual
    10 s: on a loaded machine the answer may take longer than ``patience`` to begin."""
    body = bytearray()
    with (httpx.Client(timeout=10.0) as client,
          client.stream("GET", url, headers=headers) as response):
        assert response.status_code == 200, response.read()
        give_up = time.monotonic() + patience
        for chunk in response.iter_raw():
            body += chunk
            if len(body) >= budget or time.monotonic() > give_up:
                break
    return bytes(body[:budget])


def check_id(event: Event, follower: Follower, user_id: str) -> None:
    """The id names every session the client follows, at the number the client has (0: nothing yet),
    and the user's watermark."""
    named = cursors(event.id)
    assert f"user-{user_id}" in channels(event.id), event.id
    for sid, state_n in follower.applied.items():
        if sid not in follower.finished:
            assert named.get(sid) == state_n, f"{event.event} id {event.id} lacks {sid}:{state_n}"
    for sid, n in named.items():
        assert (sid in follower.applied and n == follower.applied[sid]) or n == 0, f"{event.id}: {sid}:{n}"


def test_a_client_cut_at_random_100_times_ends_with_every_sessions_exact_state(server, alice, bob, charlie):
    seed = random.randrange(10**9)
    rng = random.Random(seed)
    url = server.url(f"/api/live-trading/stream/{alice.user_id}")
    sessions = {"completes": start_session(server, alice, speed=1500),
                "paused_then_stopped": start_session(server, alice, strategy_name="nifty_rsi_reversal", speed=400)}
    bobs = start_session(server, bob, speed=600)  # never on alice's stream
    follower = Follower()
    last_id, cuts, cut_mid_event = None, 0, 0
    deadline = time.monotonic() + 150
    try:
        while True:
            assert time.monotonic() < deadline, f"not done after {cuts} cuts (seed {seed}); have {follower.applied}"
            # Mostly short reads (cuts inside events); sometimes long ones, so initial states get through.
            budget = rng.randint(1, 1500) if rng.random() < 0.75 else rng.randint(1500, 30000)
            who = charlie if cuts % 5 == 4 else alice  # staff may follow alice's stream and resume it too
            headers = {**bearer(who), **({"Last-Event-ID": last_id} if last_id else {})}
            body = read_until_cut(url, headers, budget, patience=0.3)
            cuts += 1
            cut_mid_event += not body.endswith(b"\n\n")
            for event in sse_events(body):
                assert event.json.get("session_id", "heartbeat") != bobs
                follower.apply(event)
                if event.id is not None:
                    check_id(event, follower, alice.user_id)
                    last_id = event.id  # sticky, as a browser's lastEventId
            act(server, alice, cuts, sessions)
            if cuts >= CUTS and set(sessions.values()) <= follower.finished and all_final(sessions.values()):
                break
    finally:
        for user in (alice, bob, charlie):
            stop_sessions(server, user)

    assert cut_mid_event > CUTS // 2, f"only {cut_mid_event} of {cuts} cuts fell inside an event (seed {seed})"
    assert set(follower.sessions) == set(sessions.values())
    for sid in sessions.values():
        assert_same_state(follower.sessions[sid], fresh_state(server, alice, sid))
    statuses = {name: SimulationSession.objects.get(pk=sid).status for name, sid in sessions.items()}
    assert statuses == {"completes": "completed", "paused_then_stopped": "stopped", "starts_while_followed":
                        "stopped", "starts_and_ends_while_away": "completed"}


def act(server, user, cuts: int, sessions: dict) -> None:
    """What happens to the sessions between two connections (so the client learns it on reconnect)."""
    def control(action, name):
        r = httpx.post(server.url(f"/api/v2/live/{action}/{sessions[name]}"), headers=bearer(user), timeout=30)
        assert r.status_code == 200, r.text

    if cuts == 10:
        sessions["starts_while_followed"] = start_session(server, user, strategy_name="nifty_opening_range_breakout",
                                                         speed=300)
    elif cuts == 20:
        control("pause", "paused_then_stopped")
    elif cuts == 40:
        control("resume", "paused_then_stopped")
    elif cuts == 50:
        sid = sessions["starts_and_ends_while_away"] = start_session(server, user, strategy_name="banknifty_iron_condor",
                                                             mode="backtest")
        wait_for(lambda: SimulationSession.objects.get(pk=sid).status == "completed", timeout=60,
                 message="the backtest to complete")
    elif cuts == 70:
        control("stop", "paused_then_stopped")
    elif cuts == CUTS - 10:
        control("stop", "starts_while_followed")


def all_final(session_ids) -> bool:
    return all(status in FINAL for status in SimulationSession.objects.filter(pk__in=list(session_ids))
               .values_list("status", flat=True))
