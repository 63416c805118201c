"""Streams held by a real Pushpin in front of two real daphne processes (GRIP).

Pushpin listens for clients and for publishes on free ports and forwards requests to a port daphne A and
B both listen on (the kernel spreads the connections, as in ``make cluster``); A and B share a private redis-server (replay windows, control) and publish their
sessions' events to Pushpin. Clients connect only to Pushpin. What is checked is what a client sees
(every event once, in order, with ids it can resume from), and that the app processes keep no
connection open for a stream.
"""

import contextlib
import secrets
import tempfile
import threading
import time
from pathlib import Path

import httpx
import psutil
import pytest

from live_trading.stream import front, grip
from tests.stream.clients import BrowserClient, Follower, assert_same_state, cursors, fresh_state
from tests.stream.conftest import bearer, free_port, redis_server_binary, start_session, stop_sessions
from tests.waiting import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

if front.binary() is None:
    pytest.skip("pushpin is not installed (apt-get install pushpin); the tests of streams held by a front need it",
                allow_module_level=True)
if redis_server_binary() is None:
    pytest.skip("redis-server is not installed (apt-get install redis-server); two processes behind the front "
                "share their replay windows through it", allow_module_level=True)

# Pushpin sends a keep-alive between the interval less a random 0-999 ms and the interval (its
# httpsession.cpp: KEEPALIVE_RAND_MAX, to spread the keep-alives of many connections): at 2 s the gap
# between two heartbeats is at least 1 s, at 1 s it could be 1 ms.
HEARTBEAT_MS = 2000
PUSHPIN_SPREAD_MS = 1000


@pytest.fixture(scope="module")
def cluster(server_factory, redis_server):
    """Pushpin in front of daphne A and B: ``(pushpin, a, b)``."""
    key = secrets.token_urlsafe(24)
    port, publish_port = free_port(), free_port()
    env = {"REDIS_URL": redis_server.url, "REDIS_PREFIX": f"pp{redis_server.port}", "GRIP_URL": f"http://127.0.0.1:{publish_port}",
           "GRIP_KEY": key, "STREAM_HEARTBEAT_MS": HEARTBEAT_MS}
    shared = free_port()  # A and B both listen on it; Pushpin forwards there (front.shared_listener)
    a, b = server_factory(shared_port=shared, **env), server_factory(shared_port=shared, **env)
    directory = Path(tempfile.mkdtemp(prefix="pp-"))
    pushpin = front.Pushpin(directory, port=port, publish_port=publish_port,
                            backends=[f"127.0.0.1:{shared}"], sig_key=key)
    try:
        pushpin.wait_ready(timeout=20)
        yield pushpin, a, b
    finally:
        pushpin.stop()


@pytest.fixture(autouse=True)
def _stop_sessions_after(cluster, alice, bob, charlie):
    yield
    for user in (alice, bob, charlie):
        stop_sessions(cluster[1], user)


def through(pushpin, path: str) -> str:
    return f"{pushpin.base}{path}"


def stored(events):
    return [e for e in events if e.id is not None]


def established_to(server) -> int:
    """TCP connections established to ``server``'s ports (its own and the shared one the front forwards to),
    counted in its own process."""
    return sum(1 for c in psutil.Process(server.proc.pid).net_connections(kind="tcp")
               if c.status == psutil.CONN_ESTABLISHED and c.laddr and c.laddr.port in (server.port, server.shared_port))


def test_a_client_through_the_front_gets_every_event_once_in_order(cluster, readers, alice):
    pushpin, a, b = cluster
    # Followed as EventSource does: a response the front ends (seen in CI under load) is opened again with
    # the last id, and every event must still arrive once, in order (the client's Follower refuses a
    # duplicate or a gap).
    stream = BrowserClient(readers, through(pushpin, f"/api/live-trading/stream/{alice.user_id}"), bearer(alice))
    on_a = start_session(a, alice, speed=600)
    on_b = start_session(b, alice, speed=600, strategy_name="nifty_rsi_reversal")

    stream.until(lambda e: e.event == "trade_update", timeout=90)
    for server in (a, b):
        stop_sessions(server, alice)
    done = set()
    stream.until(lambda e: e.event == "session_complete" and done.add(e.json["session_id"]) is None
                 and done == {on_a, on_b}, timeout=60)

    assert stream.reader.status == 200 and stream.reader.retry == 3000
    follower = Follower().apply_all(stream.events)  # refuses a duplicate or a gap of any session
    assert set(follower.sessions) == {on_a, on_b}
    for session_id in (on_a, on_b):
        assert follower.applied[session_id] >= 3
        assert_same_state(follower.sessions[session_id], fresh_state(a, alice, session_id))
    # every id names the user's watermark, and each session it names at the last number applied of it
    # (at 0, "nothing yet", one whose initial_state is still to come)
    seen = {}
    for event in stream.events:
        if event.event == "initial_state":
            seen[event.json["session_id"]] = event.json["last_event_id"]
        if event.id is None or event.event == "initial_state":
            continue
        sid = event.json["session_id"]
        seen[sid] = cursors(event.id)[sid]
        assert event.id.startswith(f"user-{alice.user_id}:")
        assert cursors(event.id) == {s: seen.get(s, 0) for s in cursors(event.id)}
    assert any(e.event == "tick_update" and e.id is None for e in stream.events)


def test_each_stream_through_the_front_gets_ticks_in_the_form_it_asked_for(cluster, readers, alice):
    pushpin, a, _ = cluster
    # Opened before the session starts: the session joins them through the next link, which must keep
    # each connection's tick form.
    full = readers(through(pushpin, f"/api/live-trading/stream/{alice.user_id}"), **bearer(alice))
    compact = readers(through(pushpin, f"/api/live-trading/stream/{alice.user_id}?ticks=compact"), **bearer(alice))
    diagnosed = readers(through(pushpin, f"/api/live-trading/stream/{alice.user_id}?node_diagnostics=1"),
                        **bearer(alice))
    full.next(timeout=20)
    compact.next(timeout=20)
    diagnosed.next(timeout=20)
    session_id = start_session(a, alice, speed=600)
    with_positions = lambda e: e.event == "tick_update" and e.json["open_positions"]  # noqa: E731
    listed = full.until(with_positions, timeout=90)[-1].json
    mapped = compact.until(with_positions, timeout=90)[-1].json
    diagnosed.until(with_positions, timeout=90)

    assert listed["session_id"] == mapped["session_id"] == session_id
    # Both connections held only the user's hint channel when the session started: Pushpin shares a next
    # link among such connections unless their forms differ in what it compares (grip.form_channel).
    assert all(isinstance(e.json["open_positions"], list) for e in full.events if e.event == "tick_update")
    assert all(isinstance(e.json["open_positions"], dict) for e in compact.events if e.event == "tick_update")
    assert all("node_diagnostics" not in e.json for s in (full, compact) for e in s.events if e.event == "tick_update")
    diagnosed_ticks = [e.json for e in diagnosed.events if e.event == "tick_update"]
    signals = {"entry-condition-1", "exit-condition-1"}  # the straddle's signal nodes
    assert diagnosed_ticks and all(sorted(t["node_diagnostics"]) == sorted(n for n in t["active_nodes"] if n in signals)
                                   for t in diagnosed_ticks)
    position = listed["open_positions"][0]
    assert set(position) == {"position_id", "re_entry_num", "symbol", "side", "quantity", "entry_price",
                             "current_price", "unrealized_pnl"}
    assert all(isinstance(v, list) and len(v) == 2 for v in mapped["open_positions"].values())


def test_a_session_stream_through_the_front_starts_with_its_initial_state(cluster, readers, alice):
    pushpin, _, b = cluster
    session_id = start_session(b, alice, speed=300)
    wait_for(lambda: httpx.get(b.url(f"/api/live-trading/session/{session_id}"), headers=bearer(alice),
                               timeout=10).json()["last_event_id"] >= 3, timeout=60, message="three events stored")
    stream = readers(through(pushpin, f"/api/v2/live/stream/{session_id}?compress=0"), **bearer(alice))

    first = stream.next(timeout=20)  # plain JSON (compress=0): the fields below are not base64
    start = first.json["last_event_id"]
    got = stream.until(lambda e: e.id is not None and cursors(e.id)[session_id] >= start + 5, timeout=60)

    assert first.event == "initial_state" and first.id == f"session-{session_id}:{start}"
    assert [cursors(e.id)[session_id] for e in stored(got)] == list(range(start + 1, start + 6))
    assert all(isinstance(e.json["seq"], int) for e in got if e.event != "heartbeat")


def test_a_reconnect_through_the_front_gets_exactly_the_missed_events(cluster, readers, alice):
    pushpin, a, _ = cluster
    url = through(pushpin, f"/api/live-trading/stream/{alice.user_id}")
    reference = readers(url, **bearer(alice))
    first = readers(url, **bearer(alice))
    session_id = start_session(a, alice, speed=300)
    first.until(lambda e: len(stored(e for e in first.events if e.json.get("session_id") == session_id)) >= 4,
                timeout=60)
    first.close()
    last = first.last_event_id
    had = cursors(last)[session_id]
    reference.until(lambda e: e.id is not None and cursors(e.id).get(session_id, 0) >= had + 5, timeout=60)

    again = readers(url, **bearer(alice), **{"Last-Event-ID": last})
    got = again.until(lambda e: e.id is not None and cursors(e.id).get(session_id, 0) >= had + 5, timeout=30)

    numbers = [cursors(e.id)[session_id] for e in stored(got)]
    assert numbers == list(range(had + 1, had + 6)), "the missed events, from the next one, each once"
    assert "initial_state" not in [e.event for e in got]
    by_number = {cursors(e.id)[session_id]: e.data for e in stored(reference.events)}
    assert [e.data for e in stored(got)] == [by_number[n] for n in numbers]


def test_the_app_processes_hold_no_connection_for_streams_through_the_front(cluster, readers, alice):
    pushpin, a, b = cluster
    start_session(a, alice, speed=300)
    before = established_to(a) + established_to(b)
    streams = [readers(through(pushpin, f"/api/live-trading/stream/{alice.user_id}"), **bearer(alice))
               for _ in range(12)]
    for stream in streams:
        stream.until(lambda e: e.event == "initial_state", timeout=30)
    direct = readers(a.url(f"/api/live-trading/stream/{alice.user_id}"), **bearer(alice))
    direct.until(lambda e: e.event == "initial_state", timeout=30)

    for stream in streams:  # still open and fed
        stream.until(lambda e: e.event in ("tick_update", "heartbeat"), timeout=30)
    held = established_to(a) + established_to(b)
    assert held - before <= 1, f"{held - before} more connections to the app; one is the direct stream"
    assert established_to(a) >= 1  # the direct stream's, counted the same way


def test_an_idle_stream_through_the_front_gets_heartbeats(cluster, readers, charlie):
    pushpin = cluster[0]
    stream = readers(through(pushpin, f"/api/live-trading/stream/{charlie.user_id}"), **bearer(charlie))
    opened = time.monotonic()

    first, second = stream.next(timeout=10), stream.next(timeout=10)

    assert (first.event, second.event) == ("heartbeat", "heartbeat")
    assert first.id is None and set(first.json) == {"timestamp"}
    # paced by the setting (Pushpin's spread taken off), not a flood; a loaded machine only makes it later
    least = (HEARTBEAT_MS - PUSHPIN_SPREAD_MS) / 1000 * 0.9
    assert first.received_at - opened >= least
    assert second.received_at - first.received_at >= least


def test_only_the_owner_and_staff_follow_a_session_through_the_front(cluster, readers, alice, bob, charlie):
    pushpin, a, _ = cluster
    session_id = start_session(a, alice, speed=300)

    bobs = httpx.get(through(pushpin, f"/api/v2/live/stream/{session_id}"), headers=bearer(bob), timeout=10)
    bobs_user = httpx.get(through(pushpin, f"/api/live-trading/stream/{alice.user_id}"), headers=bearer(bob), timeout=10)
    nobody = httpx.get(through(pushpin, f"/api/v2/live/stream/{session_id}"), timeout=10)
    staff = readers(through(pushpin, f"/api/v2/live/stream/{session_id}"), **bearer(charlie))
    bobs_own = readers(through(pushpin, f"/api/live-trading/stream/{bob.user_id}"), **bearer(bob))

    assert (bobs.status_code, bobs.json()) == (404, {"detail": "Not found."})
    assert (bobs_user.status_code, bobs_user.json()) == (404, {"detail": "Not found."})
    assert nobody.status_code == 401
    assert staff.next(timeout=20).event == "initial_state"
    assert all(e.event == "heartbeat" for e in bobs_own.until(lambda e: e.event == "heartbeat", timeout=10))
    forged = httpx.get(through(pushpin, f"/api/v2/live/stream/{session_id}?grip=forged"), headers=bearer(bob),
                       timeout=10)
    assert forged.status_code == 403  # a next link is only what the app itself signed


def test_events_reach_a_client_while_publishes_keep_coming(cluster, readers, alice):
    """Pushpin 1.36's delivery limiter, once any ``message_rate`` is set, restarts its 25 ms batch timer
    on every delivery after the first: publishes coming faster than that were held back until they
    paused, for as long as publishing went on (front.py's config sets none). Publish to a stream's tick
    channel without a pause, one request after another as a busy front gets them, until the client has
    five of them: each arrives while the next few are published, not thousands of publishes later
    (with the limiter on, here: the fifth after about 3,000)."""
    pushpin, a, _ = cluster
    session_id = start_session(a, alice, speed=1)  # a slow session: its own publishes do not pause the loop
    stream = readers(through(pushpin, f"/api/v2/live/stream/{session_id}?compress=0"), **bearer(alice))
    stream.until(lambda e: e.event == "initial_state", timeout=30)
    channel = grip.tick_channel(session_id, "full", node_diagnostics=False)
    published = [0]
    lags = []  # per probe received: how many were published after it by then
    done = threading.Event()

    def watch():
        with contextlib.suppress(AssertionError):
            while len(lags) < 5:
                probe = stream.until(lambda e: e.event == "probe", timeout=20)[-1]
                lags.append(published[0] - 1 - probe.json["n"])
        done.set()

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    deadline = time.monotonic() + 20
    with httpx.Client(timeout=5) as client:
        while not done.is_set() and time.monotonic() < deadline:
            item = {"channel": channel, "formats": {"http-stream": {
                "content": f"event: probe\ndata: {{\"n\": {published[0]}}}\n\n"}}}
            client.post(f"{pushpin.publish_url}/publish/", json={"items": [item]}).raise_for_status()
            published[0] += 1
    watcher.join(25)

    assert len(lags) == 5, f"{len(lags)} of 5 published events reached the client ({published[0]} published)"
    assert max(lags) < 500, f"events reached the client {lags} publishes late"


def test_a_front_is_ready_only_once_a_request_through_it_reaches_the_app():
    """Pushpin's ports accepting does not make it ready: with no app process behind it, a request through
    it gets Pushpin's 502, and ``wait_ready`` says so instead of returning (a stream opened then waited)."""
    directory = Path(tempfile.mkdtemp(prefix="pp-"))
    pushpin = front.Pushpin(directory, port=free_port(), publish_port=free_port(),
                            backends=[f"127.0.0.1:{free_port()}"], sig_key=secrets.token_urlsafe(24))
    try:
        with pytest.raises(RuntimeError, match="no app process answered below 500 through pushpin"):
            pushpin.wait_ready(timeout=5)
        assert httpx.get(f"{pushpin.base}/healthz", timeout=10).status_code == 502
    finally:
        pushpin.stop()
