"""The stream through a real daphne server and real SSE clients, with events from real sessions."""

import concurrent.futures
import socket
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from unittest import mock
from urllib.parse import quote, urlencode

import httpx
import pytest
from django.utils import timezone
from twisted.internet.abstract import FileDescriptor

from live_trading.stream.auth import issue_token
from live_trading.stream.events import check, decompress_fields
from sessions_app.models import NodeEvent, PositionChange, SimulationSession, Trade
from tests.stream.clients import assert_same_state, client_state, cursors, fresh_state, plain
from tests.stream.conftest import bearer, setup_for, start_session, stop_sessions
from tests.waiting import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

HEARTBEAT_MS = 600
WINDOW = 40


@pytest.fixture(scope="module")
def server(server_factory):
    return server_factory(STREAM_HEARTBEAT_MS=HEARTBEAT_MS, STREAM_REPLAY_WINDOW=WINDOW, STREAM_RETRY_MS=1500)


@pytest.fixture(autouse=True)
def _stop_sessions_after(server, alice, bob, charlie):
    yield
    for user in (alice, bob, charlie):
        stop_sessions(server, user)


def user_stream(server, user, query=""):
    return server.url(f"/api/live-trading/stream/{user.user_id}{query}")


def stored(events):
    return [e for e in events if e.id is not None and e.event not in ("heartbeat",)]


def number(event) -> int:
    return int(event.id.rsplit(":", 1)[1])


def session_finished(session_id):
    return SimulationSession.objects.get(pk=session_id).status in ("completed", "stopped", "failed", "interrupted")


# -- a whole session -------------------------------------------------------------------------------


def test_a_whole_session_arrives_in_order_and_matches_the_database(server, readers, alice):
    stream = readers(user_stream(server, alice), **bearer(alice))
    assert stream.status == 200
    # The retry hint is the body's first line, read on the reader's thread: wait for it, don't race it.
    assert wait_for(lambda: stream.retry, timeout=10, message="the retry hint") == 1500

    session_id = start_session(server, alice, mode="backtest")
    stream.until(lambda e: e.event == "session_complete", timeout=60)
    session = SimulationSession.objects.get(pk=session_id)
    node_rows = list(NodeEvent.objects.filter(session=session).order_by("seq").values_list("payload", flat=True))
    position_rows = list(PositionChange.objects.filter(session=session).order_by("seq").values_list("payload", flat=True))
    trade_rows = list(Trade.objects.filter(session=session).order_by("seq"))
    events = [e for e in stream.events if e.event != "heartbeat"]

    assert {e.json["session_id"] for e in events} == {session_id}
    assert (events[0].event, events[0].json["status"]) == ("session_status", "started")
    assert events[-1].event == "session_complete" and session.status == "completed"
    # Stored events are numbered 1, 2, 3, ... in the order they arrive; each kind's seq counts 1, 2, 3, ...
    assert [number(e) for e in stored(events)] == list(range(1, len(stored(events)) + 1))
    # the row records the session's final event, session_complete: its card and initial_state include it
    assert number(events[-1]) == int(session.last_event_id)
    card = httpx.get(server.url(f"/api/live-trading/session/{session_id}"), headers=bearer(alice), timeout=30).json()
    assert card["last_event_id"] == number(events[-1])
    for kind in {e.event for e in events}:
        assert [e.json["seq"] for e in events if e.event == kind] == list(
            range(1, sum(e.event == kind for e in events) + 1))

    executions = [x for e in events if e.event == "node_events" for x in plain(e)["diagnostics"]["events_history"].values()]
    assert executions == node_rows
    positions = [{k: v for k, v in e.json.items() if k not in ("session_id", "seq")}
                 for e in events if e.event == "position_event"]
    assert positions == position_rows
    trades = [plain(e)["trades"]["trade"] for e in events if e.event == "trade_update"]
    assert [(t["trade_id"], Decimal(t["pnl"]), Decimal(t["net_pnl"]), Decimal(t["exit_price"])) for t in trades] == [
        (t.trade_id, t.pnl, t.net_pnl, t.exit_price) for t in trade_rows]
    final = plain(events[-1])
    assert [t["trade_id"] for t in final["trades"]["trades"]] == [t.trade_id for t in trade_rows]
    assert final["trades"]["summary"] == final["summary"]
    assert Decimal(final["summary"]["net_pnl"]) == session.realized_pnl
    for e in events:
        check(e.event, e.json, compressed=True)


def control(server, user, action, session_id):
    r = httpx.post(server.url(f"/api/v2/live/{action}/{session_id}"), headers=bearer(user), timeout=30)
    assert r.status_code == 200, r.text


def session_url(server, session_id, query=""):
    return server.url(f"/api/v1/sse/{session_id}{query}")


def test_a_reconnect_with_last_event_id_loses_and_duplicates_nothing(server, readers, alice):
    reference = readers(user_stream(server, alice), **bearer(alice))
    first = readers(user_stream(server, alice), **bearer(alice))
    session_id = start_session(server, alice, speed=300)
    first.until(lambda e: e.event == "position_event", timeout=60)
    first.close()
    # The session goes on while the client is away.
    reference.until(lambda e: len(stored(reference.events)) >= len(stored(first.events)) + 5, timeout=30)

    second = readers(user_stream(server, alice), **bearer(alice), **{"Last-Event-ID": first.last_event_id})
    reference.until(lambda e: len(stored(reference.events)) >= len(stored(first.events)) + 15)
    control(server, alice, "pause", session_id)
    paused = reference.until(lambda e: e.event == "session_status" and e.json["status"] == "paused", timeout=30)[-1]
    got = second.until(lambda e: cursors(e.id) == cursors(paused.id), timeout=30)

    before, after = stored(first.events), stored(got)
    expected = stored(reference.events)[:stored(reference.events).index(paused) + 1]
    assert after and cursors(after[0].id) != cursors(before[-1].id)
    assert [(e.event, cursors(e.id), e.data) for e in before + after] == [(e.event, cursors(e.id), e.data) for e in expected]
    assert not any(e.event == "initial_state" for e in second.events)
    # What the client knows now equals a fresh fetch.
    assert_same_state(client_state(first.events + got, session_id), fresh_state(server, alice, session_id))


def test_the_query_parameter_resumes_a_first_connection(server, readers, alice):
    reference = readers(user_stream(server, alice), **bearer(alice))
    session_id = start_session(server, alice, speed=300)
    reference.until(lambda e: len(stored(reference.events)) >= 6, timeout=60)
    control(server, alice, "pause", session_id)
    third = stored(reference.events)[2]

    resumed = readers(user_stream(server, alice, f"?lastEventId={quote(third.id)}"), **bearer(alice))
    control(server, alice, "resume", session_id)
    reference.until(lambda e: len(stored(reference.events)) >= 12, timeout=60)
    later = stored(reference.events)[3:12]
    got = resumed.until(lambda e: cursors(e.id) == cursors(later[-1].id), timeout=30)

    assert [(e.event, cursors(e.id), e.data) for e in stored(got)] == [(e.event, cursors(e.id), e.data) for e in later]


def test_filtered_streams_carry_their_kind_and_the_lifecycle(server, readers, alice):
    reference = readers(user_stream(server, alice), **bearer(alice))
    session_id = start_session(server, alice, speed=10_000)
    control(server, alice, "pause", session_id)
    since_start = f"&lastEventId=session-{session_id}:0"
    filtered = {f: readers(session_url(server, session_id, f"?event_type={f}{since_start}"), **bearer(alice))
                for f in ("node", "trade", "position", "tick", "candle")}
    everything = readers(session_url(server, session_id, f"?event_type=all{since_start}"), **bearer(alice))
    control(server, alice, "resume", session_id)
    wait_for(lambda: session_finished(session_id), timeout=60, message="the session to finish")
    assert wait_for(lambda: [e for e in stored(reference.events) if e.event == "trade_update"][-1:], timeout=30)
    # session_complete is the session's last event: each stream has had all of its kind by then (node
    # executions may follow the last trade, one node_events per tick).
    everything.until(lambda e: e.event == "session_complete", timeout=30)

    lifecycle = {"session_status", "session_complete", "initial_state", "heartbeat"}
    kinds = {"node": "node_events", "trade": "trade_update", "position": "position_event", "tick": "tick_update",
             "candle": "candle_update"}
    for name, stream in filtered.items():
        kind = kinds[name]
        stream.until(lambda e: e.event == "session_complete", timeout=30)
        if kind != "tick_update":
            assert [e.data for e in stream.events if e.event == kind] == [
                e.data for e in everything.events if e.event == kind]
        else:
            assert any(e.event == "tick_update" for e in stream.events)
        assert {e.event for e in stream.events} <= {kind} | lifecycle
    assert {e.event for e in everything.events} >= {"node_events", "trade_update", "position_event", "candle_update"}


def test_compression_round_trips_and_compress_0_sends_plain_json(server, readers, alice):
    session_id = start_session(server, alice, speed=2000)
    control(server, alice, "pause", session_id)
    since_start = f"?lastEventId=session-{session_id}:0"
    packed = readers(session_url(server, session_id, since_start), **bearer(alice))
    unpacked = readers(session_url(server, session_id, f"{since_start}&compress=0"), **bearer(alice))
    control(server, alice, "resume", session_id)
    packed.until(lambda e: e.event == "trade_update", timeout=60)
    unpacked.until(lambda e: e.event == "trade_update", timeout=60)

    n = min(len(stored(packed.events)), len(stored(unpacked.events)))
    a, b = stored(packed.events)[:n], stored(unpacked.events)[:n]
    assert [e.id for e in a] == [e.id for e in b]
    for x, y in zip(a, b, strict=True):
        check(x.event, x.json, compressed=True)
        check(y.event, y.json, compressed=False)
        assert decompress_fields(x.event, x.json) == y.json
    assert any(isinstance(e.json.get("diagnostics"), str) for e in a if e.event == "node_events")
    assert any(isinstance(e.json.get("trades"), str) for e in a if e.event == "trade_update")


def test_ticks_are_coalesced_to_the_rate_and_carry_the_latest_state(server, readers, alice):
    stream = readers(user_stream(server, alice), **bearer(alice))
    session_id = start_session(server, alice, speed=8000)
    started = time.monotonic()
    wait_for(lambda: session_finished(session_id), timeout=60, message="the session to finish")
    elapsed = time.monotonic() - started
    stream.until(lambda e: e.event == "session_complete", timeout=30)  # every tick before it has arrived

    ticks = [e for e in stream.events if e.event == "tick_update"]
    assert len(ticks) >= 4
    assert len(ticks) <= 4 * (elapsed + 0.5) + 1
    progress = [e.json["progress"]["ticks_processed"] for e in ticks]
    assert progress == sorted(progress) and len(set(progress)) == len(progress)
    assert [e.json["seq"] for e in ticks] == list(range(1, len(ticks) + 1))
    gaps = [b.received_at - a.received_at for a, b in pairwise(ticks)]
    assert sum(g < 0.2 for g in gaps) <= 1  # at most 4 a second: 250 ms apart (network jitter aside)
    assert all(e.id is None for e in ticks)  # never stored, so no SSE id
    for e in ticks:
        check("tick_update", e.json)


def test_ticks_list_open_positions_as_the_seeds_do_and_ticks_compact_sends_the_map(server, readers, alice):
    session_id = start_session(server, alice, speed=2000)
    control(server, alice, "pause", session_id)
    since_start = f"?lastEventId=session-{session_id}:0"
    full = readers(session_url(server, session_id, since_start), **bearer(alice))
    compact = readers(user_stream(server, alice, "?ticks=compact&compress=0"), **bearer(alice))
    control(server, alice, "resume", session_id)
    with_positions = lambda e: e.event == "tick_update" and e.json["open_positions"]  # noqa: E731
    full.until(with_positions, timeout=60)
    compact.until(with_positions, timeout=60)
    full.until(lambda e: e.event == "trade_update", timeout=60)

    # The default: the seeds' objects, whose fixed fields are those of the position_event that opened them.
    opened = {}
    for e in full.events:
        if e.event == "initial_state":  # the session got further than the window before the pause
            for p in plain(e)["positions"]:
                opened[p["position_id"], p["re_entry_num"]] = (p["symbol"], p["side"], p["quantity"],
                                                               float(p["entry_price"]))
        if e.event == "position_event" and e.json["action"] == "entry":
            p = e.json["position"]
            opened[p["position_id"], p["re_entry_num"]] = (p["symbol"], p["side"], p["quantity"],
                                                           float(p["entry_price"]))
        if e.event == "tick_update":
            check("tick_update", e.json)
            assert isinstance(e.json["open_positions"], list)
            for p in e.json["open_positions"]:
                # (a re-entry: a tick waiting for the commit of events after it may still list the
                # re-entry before, so positions are matched by id and re-entry number)
                assert (p["symbol"], p["side"], p["quantity"], p["entry_price"]) == \
                    opened[p["position_id"], p["re_entry_num"]]
                # unrealized P&L = price difference x quantity (spec README rule 6), a short gains as it falls
                sign = 1 if p["side"] == "buy" else -1
                assert p["unrealized_pnl"] == pytest.approx(sign * (p["current_price"] - p["entry_price"]) * p["quantity"])
    # ?ticks=compact: the same ticks (where both streams got one) with {position_id: [current_price, unrealized_pnl]}.
    by_tick = {e.json["progress"]["ticks_processed"]: e.json for e in full.events if e.event == "tick_update"}
    compact_ticks = [e.json for e in compact.events if e.event == "tick_update" and e.json["session_id"] == session_id]
    assert any(t["open_positions"] for t in compact_ticks)
    both = [t for t in compact_ticks if t["progress"]["ticks_processed"] in by_tick]
    assert both, "no tick reached both streams"
    for t in compact_ticks:
        check("tick_update", t)
        assert isinstance(t["open_positions"], dict)
    for t in both:
        listed = by_tick[t["progress"]["ticks_processed"]]
        assert t["open_positions"] == {p["position_id"]: [p["current_price"], p["unrealized_pnl"]]
                                       for p in listed["open_positions"]}
        assert {k: v for k, v in t.items() if k not in ("open_positions", "ltp_updates")} == \
            {k: v for k, v in listed.items() if k not in ("open_positions", "ltp_updates")}


def test_node_diagnostics_ride_on_ticks_only_for_streams_that_ask(server, readers, alice):
    session_id = start_session(server, alice, speed=1)  # paused long before its 09:20 entry, however busy
    control(server, alice, "pause", session_id)
    r = httpx.post(server.url(f"/api/v2/live/speed/{session_id}"), json={"speed_multiplier": 2000},
                   headers=bearer(alice), timeout=30)
    assert r.status_code == 200, r.text
    since_start = f"?lastEventId=session-{session_id}:0"
    asked = readers(session_url(server, session_id, f"{since_start}&node_diagnostics=1&ticks=compact"), **bearer(alice))
    plain_stream = readers(session_url(server, session_id, since_start), **bearer(alice))
    control(server, alice, "resume", session_id)
    exit_watched = lambda e: e.event == "tick_update" and "exit-condition-1" in e.json["active_nodes"]  # noqa: E731
    asked.until(exit_watched, timeout=60)
    plain_stream.until(exit_watched, timeout=60)

    ticks = [e.json for e in asked.events if e.event == "tick_update"]
    for t in ticks:
        check("tick_update", t)
        assert isinstance(t["open_positions"], dict)  # the options combine
        # every active signal node (the straddle's two), and only those: a re-entry waiting is active too
        signals = {"entry-condition-1", "exit-condition-1"}
        assert sorted(t["node_diagnostics"]) == sorted(n for n in t["active_nodes"] if n in signals)
    before = [t for t in ticks if t["active_nodes"] == ["entry-condition-1"]]
    assert before, "no tick before the 09:20 entry"
    for t in before:
        # the straddle enters at 09:20: time of day >= 09:20, false until then
        (result,) = t["node_diagnostics"]["entry-condition-1"]["condition_results"]
        assert result["operator"] == ">=" and result["result"] is False
        assert result["current_value"] < "09:20" <= result["threshold"]
    after = [t for t in ticks if "exit-condition-1" in t["active_nodes"]]
    (pnl,) = after[-1]["node_diagnostics"]["exit-condition-1"]["condition_results"]
    assert pnl["operator"] == ">=" and pnl["threshold"] in (2000, 2000.0, "2000.00")
    assert all("node_diagnostics" not in e.json for e in plain_stream.events if e.event == "tick_update")


def test_an_unknown_tick_form_is_400_and_the_option_opens_nothing_of_another_users(server, alice, bob):
    session_id = start_session(server, alice, speed=1)
    for url in (session_url(server, session_id, "?ticks=bogus"), user_stream(server, alice, "?ticks=")):
        r = httpx.get(url, headers=bearer(alice), timeout=10)
        assert (r.status_code, list(r.json())) == (400, ["ticks"]), url
        assert "full, compact" in r.json()["ticks"][0]
    for value in ("yes", "2", ""):
        r = httpx.get(session_url(server, session_id, f"?node_diagnostics={value}"), headers=bearer(alice), timeout=10)
        assert (r.status_code, r.json()) == (400, {"node_diagnostics": ["Must be 0 or 1."]}), value
    r = httpx.get(session_url(server, session_id, "?node_diagnostics=1"), headers=bearer(bob), timeout=10)
    assert (r.status_code, r.json()) == (404, {"detail": "Not found."})
    for url in (session_url(server, session_id, "?ticks=compact"), user_stream(server, alice, "?ticks=compact"),
                server.url(f"/api/v2/live/stream/{session_id}?ticks=full")):
        r = httpx.get(url, headers=bearer(bob), timeout=10)
        assert (r.status_code, r.json()) == (404, {"detail": "Not found."}), url


# -- heartbeat, retry ----------------------------------------------------------------------------


def test_an_idle_stream_gets_heartbeats_without_ids(server, readers, charlie):
    stream = readers(user_stream(server, charlie), **bearer(charlie))
    started = time.monotonic()
    first = stream.next(timeout=5)
    second = stream.next(timeout=5)

    assert (first.event, second.event) == ("heartbeat", "heartbeat")
    assert time.monotonic() - started >= 2 * HEARTBEAT_MS / 1000 * 0.9
    assert first.id is None and second.id is None
    check("heartbeat", first.json)
    assert stream.retry == 1500


# -- who may read what ---------------------------------------------------------------------------


def test_without_credentials_a_stream_is_401(server, alice):
    r = httpx.get(user_stream(server, alice), timeout=10)
    assert (r.status_code, r.json()) == (401, {"detail": "Authentication credentials were not provided."})


def test_another_users_streams_are_404_like_missing_ones(server, alice, bob):
    session_id = start_session(server, alice, speed=1)
    for url in (user_stream(server, alice), session_url(server, session_id),
                server.url(f"/api/v2/live/stream/{session_id}"), user_stream(server, bob).replace(bob.user_id, "user_nobody"),
                session_url(server, "sim-000000000000")):
        r = httpx.get(url, headers=bearer(bob), timeout=10)
        assert (r.status_code, r.json()) == (404, {"detail": "Not found."}), url


def test_staff_may_read_anyones_stream(server, readers, alice, charlie):
    alices = readers(user_stream(server, alice), **bearer(alice))
    session_id = start_session(server, alice, speed=300)
    alices.until(lambda e: e.event == "candle_update", timeout=30)
    stream = readers(session_url(server, session_id, f"?lastEventId=session-{session_id}:0"), **bearer(charlie))
    assert stream.status == 200
    assert stream.until(lambda e: e.event == "candle_update", timeout=30)[-1].json["session_id"] == session_id
    assert readers(user_stream(server, alice), **bearer(charlie)).status == 200


def test_a_users_stream_never_carries_another_users_sessions(server, readers, alice, bob):
    alices = readers(user_stream(server, alice), **bearer(alice))
    bobs = readers(user_stream(server, bob), **bearer(bob))
    alice_session = start_session(server, alice, mode="backtest")
    bob_session = start_session(server, bob, mode="backtest")
    wait_for(lambda: session_finished(alice_session) and session_finished(bob_session), timeout=60)
    alices.until(lambda e: e.event == "session_complete", timeout=30)
    bobs.until(lambda e: e.event == "session_complete", timeout=30)

    assert {e.json["session_id"] for e in alices.events if e.event != "heartbeat"} == {alice_session}
    assert {e.json["session_id"] for e in bobs.events if e.event != "heartbeat"} == {bob_session}


def test_a_stream_token_opens_a_stream_and_a_bad_one_is_401(server, readers, alice, bob):
    r = httpx.post(server.url("/api/live-trading/stream-token"), headers=bearer(alice), timeout=10)
    assert r.status_code == 200
    body = r.json()
    assert body["user_id"] == alice.user_id and body["expires_in"] == 300

    ok = readers(user_stream(server, alice, f"?token={body['token']}"))
    assert ok.status == 200
    assert ok.next(timeout=5).event == "heartbeat"
    assert httpx.get(user_stream(server, bob, f"?token={body['token']}"), timeout=10).status_code == 404

    forged = body["token"][:-3] + ("AAA" if not body["token"].endswith("AAA") else "BBB")
    r = httpx.get(user_stream(server, alice, f"?token={forged}"), timeout=10)
    assert (r.status_code, r.json()) == (401, {"detail": "Invalid stream token."})

    with mock.patch("django.core.signing.time.time", return_value=time.time() - 3600):
        stale = issue_token(alice)["token"]
    r = httpx.get(user_stream(server, alice, f"?token={stale}"), timeout=10)
    assert (r.status_code, r.json()) == (401, {"detail": "The stream token has expired; ask for a new one."})

    alice.set_password("a-new-password-2")
    alice.save()
    r = httpx.get(user_stream(server, alice, f"?token={body['token']}"), timeout=10)
    assert r.status_code == 401


def test_an_unknown_event_type_is_400(server, alice):
    session_id = start_session(server, alice, speed=1)
    r = httpx.get(session_url(server, session_id, "?event_type=gossip"), headers=bearer(alice), timeout=10)
    assert r.status_code == 400
    assert list(r.json()) == ["event_type"]


# -- initial_state: first connections and gaps beyond the window --------------------------------

def test_a_first_connection_gets_initial_state_then_exactly_the_events_after_it(server, readers, alice):
    reference = readers(user_stream(server, alice), **bearer(alice))
    session_id = start_session(server, alice, speed=300)
    reference.until(lambda e: e.event == "position_event", timeout=60)

    late = readers(user_stream(server, alice), **bearer(alice))
    snapshot = late.next(timeout=10)
    assert snapshot.event == "initial_state" and snapshot.json["session_id"] == session_id
    check("initial_state", snapshot.json, compressed=True)
    last = snapshot.json["last_event_id"]
    # the id names the session at the state's number, after the user's watermark (every session created
    # up to the newest one the state covers, in microseconds since the epoch)
    created = SimulationSession.objects.get(pk=session_id).created_at
    watermark = (created - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
    assert snapshot.id == f"user-{alice.user_id}:{watermark},session-{session_id}:{last}" and last >= 1
    following = late.until(lambda e: e.id is not None and e.event != "initial_state", timeout=30)[-1]
    assert number(following) == last + 1

    control(server, alice, "pause", session_id)
    paused = reference.until(lambda e: e.event == "session_status" and e.json["status"] == "paused", timeout=30)[-1]
    late.until(lambda e: cursors(e.id) == cursors(paused.id), timeout=30)
    assert_same_state(client_state(late.events, session_id), fresh_state(server, alice, session_id))


def test_a_gap_beyond_the_window_gives_a_fresh_initial_state_with_the_same_state(server, readers, alice):
    reference = readers(user_stream(server, alice), **bearer(alice))
    first = readers(user_stream(server, alice), **bearer(alice))
    session_id = start_session(server, alice, speed=600)
    first.until(lambda e: e.event == "node_events", timeout=60)
    first.close()
    reference.until(lambda e: len(stored(reference.events)) > len(stored(first.events)) + WINDOW + 5, timeout=60)
    control(server, alice, "pause", session_id)
    paused = reference.until(lambda e: e.event == "session_status" and e.json["status"] == "paused", timeout=30)[-1]

    back = readers(user_stream(server, alice), **bearer(alice), **{"Last-Event-ID": first.last_event_id})
    snapshot = back.next(timeout=10)
    assert snapshot.event == "initial_state" and snapshot.json["session_id"] == session_id
    assert snapshot.json["last_event_id"] == number(paused)
    assert_same_state(client_state(back.events, session_id), fresh_state(server, alice, session_id))


UNKNOWN_IDS = ["nonsense", "session-{sid}:999999", "session-sim-ffffffffffff:3", "session-{sid}:²",
               "session-{sid}:٣", "session-sim-%00:1", "session-{sid}:1,user-user_someoneelse:5", "x" * 10_000]


@pytest.mark.parametrize("last_event_id", UNKNOWN_IDS, ids=lambda v: v[:40])
def test_an_unknown_id_gets_a_fresh_initial_state(server, readers, alice, last_event_id):
    reference = readers(user_stream(server, alice), **bearer(alice))
    session_id = start_session(server, alice, speed=300)
    reference.until(lambda e: e.event == "candle_update", timeout=60)

    value = last_event_id.format(sid=session_id)
    if value.isascii():  # the header, as a browser sends it
        stream = readers(user_stream(server, alice), **bearer(alice), **{"Last-Event-ID": value})
    else:  # a header carries only ASCII: the query parameter, as a first connection sends it
        stream = readers(user_stream(server, alice, "?" + urlencode({"lastEventId": value})), **bearer(alice))
    first = stream.next(timeout=10)
    assert first.event == "initial_state" and first.json["session_id"] == session_id


@pytest.mark.parametrize("value", ["²", "٣", "1\x00", "5" * 40])
def test_a_sessions_stream_treats_a_number_in_other_digits_as_unknown(server, readers, alice, bob, charlie, value):
    session_id = start_session(server, alice, mode="backtest")
    wait_for(lambda: session_finished(session_id), message="the backtest to end")
    for user in (alice, charlie):  # the owner, and staff
        stream = readers(server.url(f"/api/v2/live/stream/{session_id}?{urlencode({'lastEventId': value})}"),
                         **bearer(user))
        assert stream.status == 200 and stream.next(timeout=10).event == "initial_state"
    stranger = httpx.get(server.url(f"/api/v2/live/stream/{session_id}?lastEventId=%C2%B2"), headers=bearer(bob),
                         timeout=10)
    assert stranger.status_code == 404


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_a_stream_opened_with_another_method_is_a_json_405(server, alice, bob, charlie, method):
    for user in (alice, bob, charlie):  # no CSRF page, no ownership check: the method is wrong for anyone
        for path in (f"/api/live-trading/stream/{alice.user_id}", "/api/v2/live/stream/sim-000000000000"):
            r = httpx.request(method, server.url(path), headers=bearer(user), timeout=10)
            assert (r.status_code, r.headers["Allow"]) == (405, "GET")
            assert r.json() == {"detail": f'Method "{method}" not allowed; a stream is opened with GET.'}


def test_a_sessions_own_stream_starts_with_its_state_even_when_it_has_ended(server, readers, alice):
    reference = readers(user_stream(server, alice), **bearer(alice))
    session_id = start_session(server, alice, mode="backtest")
    complete = reference.until(lambda e: e.event == "session_complete", timeout=60)[-1]

    stream = readers(server.url(f"/api/v2/live/stream/{session_id}?compress=0"), **bearer(alice))
    snapshot = stream.next(timeout=10)
    assert snapshot.event == "initial_state" and snapshot.json["status"] == "completed"
    check("initial_state", snapshot.json, compressed=False)
    assert_same_state(client_state([snapshot], session_id), fresh_state(server, alice, session_id))
    # The state of an ended session includes its last event, session_complete: nothing is sent again,
    # and the session has left the stream's id (there is nothing more to resume).
    assert snapshot.json["last_event_id"] == number(complete)
    assert snapshot.last_event_id == f"session-{session_id}:{number(complete)}"
    assert stream.next(timeout=5).event == "heartbeat"


def test_a_sessions_stream_also_resumes_from_a_bare_number(server, readers, alice):
    reference = readers(user_stream(server, alice), **bearer(alice))
    session_id = start_session(server, alice, speed=300)
    reference.until(lambda e: len(stored(reference.events)) >= 8, timeout=60)
    control(server, alice, "pause", session_id)
    paused = reference.until(lambda e: e.event == "session_status" and e.json["status"] == "paused", timeout=30)[-1]
    card = httpx.get(server.url(f"/api/live-trading/session/{session_id}"), headers=bearer(alice), timeout=30).json()
    assert card["last_event_id"] == number(paused)  # the dashboard card says what it includes
    since = number(paused) - 4

    stream = readers(session_url(server, session_id, f"?lastEventId={since}"), **bearer(alice))
    got = stream.until(lambda e: cursors(e.id) == cursors(paused.id), timeout=30)
    assert [number(e) for e in stored(got)] == list(range(since + 1, number(paused) + 1))
    assert not any(e.event == "initial_state" for e in got)


# -- readers that pause (writes go to the socket at once: config/immediate_writes.py) ----------------


def raw_get(server, path, headers, *, pause: float, until: bytes | None = None, timeout: float = 60) -> bytes:
    """GET over a socket with a small receive buffer, reading nothing for ``pause`` seconds, then
    everything until the server closes or ``until`` has been received whole (an SSE event name: up
    to the blank line after it)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", server.port))
    lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{server.port}", "Connection: close",
             *(f"{k}: {v}" for k, v in headers.items())]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    time.sleep(pause)
    sock.settimeout(timeout)
    deadline = time.monotonic() + timeout
    data = b""
    while chunk := sock.recv(1 << 16):
        data += chunk
        if until is not None and until in data and b"\n\n" in data[data.index(until):]:
            break
        if time.monotonic() > deadline:  # a stream never ends by itself: heartbeats would keep this going
            raise AssertionError(f"no {until!r} within {timeout}s; got {data[-300:]!r}")
    sock.close()
    return data


def dechunk(body: bytes) -> bytes:
    out = b""
    while body:
        size_line, _, body = body.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            break
        out, body = out + body[:size], body[size + 2:]
    return out


def test_a_response_bigger_than_a_send_reaches_a_reader_that_paused_whole(server, alice):
    expected = httpx.get(server.url("/api/schema/?format=json"), headers=bearer(alice), timeout=30)
    assert expected.status_code == 200 and len(expected.content) > FileDescriptor.SEND_LIMIT  # Twisted sends it in parts

    raw = raw_get(server, "/api/schema/?format=json", bearer(alice), pause=1.0)

    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert (dechunk(body) if b"chunked" in head.lower() else body) == expected.content


def test_a_stream_whose_reader_paused_gets_every_event_in_order(server, readers, alice, bob):
    watcher = readers(user_stream(server, alice), **bearer(alice))  # reads as events come: the reference
    bobs = readers(user_stream(server, bob), **bearer(bob))
    # Fast, but not a backtest: the stream must open while the session runs (a stream opened after
    # the end gets only the ended session's initial_state, which includes its session_complete).
    session_id = start_session(server, alice, speed=5000)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        slow = pool.submit(raw_get, server, f"/api/v1/sse/{session_id}", bearer(alice), pause=3.0,
                           until=b"event: session_complete")
        watcher.until(lambda e: e.event == "session_complete", timeout=60)
        raw = slow.result(timeout=90)

    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    frames = [f.split("\n") for f in dechunk(body).decode().split("\n\n")
              if f.startswith("event:") and not f.startswith("event: heartbeat")]
    ids = [int(line.rsplit(":", 1)[1]) for f in frames for line in f if line.startswith("id: ")]
    assert frames[0][0] == "event: initial_state" and frames[-1][0] == "event: session_complete"
    # The snapshot's number, then every stored event after it, in order, up to the last one.
    assert ids == list(range(ids[0], number(stored(watcher.events)[-1]) + 1))
    assert len(ids) > 1
    assert not [e for e in bobs.events if e.event != "heartbeat"]



@pytest.mark.parametrize("watermark", ["0", "999999999999999999"])
def test_a_stale_or_forged_watermark_sends_at_most_the_last_days_20_ended_sessions(server, readers, alice, bob,
                                                                                   charlie, watermark):
    from datetime import date

    strategy, _ = setup_for(alice)
    base = dict(owner=alice, strategy=strategy, strategy_name=strategy.name, strategy_version=strategy.version,
                graph=strategy.graph, start_date=date(2024, 10, 29), end_date=date(2024, 10, 29), underlying="NIFTY",
                status="completed", last_event_id="0")
    old = SimulationSession.objects.create(id="sim-0000000000aa", **base)
    SimulationSession.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=2))
    recent = [SimulationSession.objects.create(id=f"sim-{i:012x}", **base).id for i in range(25)]

    for user in (alice, charlie):  # the owner, and staff reading her stream
        stream = readers(user_stream(server, alice, "?compress=0"), **bearer(user),
                         **{"Last-Event-ID": f"user-{alice.user_id}:{watermark}"})
        first = stream.until(lambda e: e.event == "heartbeat", timeout=30)[:-1]
        sent = [e.json["session_id"] for e in first if e.event == "initial_state"]
        if watermark == "0":
            assert sent == recent[-20:]  # oldest first, the newest 20 of the day; not the one of two days ago
        else:
            assert sent == []  # a watermark in the future: nothing is newer
    assert httpx.get(user_stream(server, alice), headers=bearer(bob), timeout=10).status_code == 404
