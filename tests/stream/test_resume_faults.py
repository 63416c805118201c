"""Fault tests: a real server (``manage.py serve``, as ``make run`` serves) killed or stopped mid-session, then
started again. The interrupted session resumes and ends exactly as the same session run without a break: a
second session of the same strategy, day and seed (execution ids derive from the seed), run here in one go,
is the independent expectation. A stream client that was connected before the crash reconnects with its
``Last-Event-ID`` and applies every event once, none missing.

Loopback only; every wait has a deadline.
"""

from __future__ import annotations

import signal
from urllib.parse import unquote

import httpx
import pytest

from live_trading import actions
from sessions_app.models import EquitySample, NodeEvent, PositionChange, SimulationSession, Trade
from tests.stream.conftest import DAY, bearer, setup_for, start_session
from tests.waiting import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

STORED_KINDS = {"node_events", "position_event", "trade_update", "candle_update", "session_status", "session_complete"}
# The whole session stays in the replay window, so a reconnect is answered with the exact events missed.
WINDOW = {"STREAM_REPLAY_WINDOW": 100_000}


def status_of(session_id):
    return SimulationSession.objects.get(pk=session_id).status


def uninterrupted_twin(session_id: str) -> str:
    """The same strategy, day, seed and capital as ``session_id``, run here from start to end in one go."""
    original = SimulationSession.objects.select_related("owner", "strategy", "broker_connection").get(pk=session_id)
    twin = actions.start_session(original.owner, actions.StartRequest(
        strategy=original.strategy, broker_connection=original.broker_connection, speed_multiplier=0.0,
        mode="backtest", start_date=original.start_date, end_date=original.end_date, seed=original.seed))
    wait_for(lambda: status_of(twin.id) == "completed", timeout=120, message="the uninterrupted twin")
    return twin.id


def as_fast_as_it_goes(server, user, session_id: str) -> int:
    """Ask ``server`` to run the session at the engine's full speed from now on; return the answer's status.
    The run's events do not depend on its pace, so what it ends as can still be compared with its twin's."""
    return httpx.post(server.url(f"/api/v2/live/speed/{session_id}"), json={"speed_multiplier": "max"},
                      headers=bearer(user), timeout=60).status_code


def everything_of(session_id: str) -> dict:
    """What a session produced, in order, without what names the session itself."""
    session = SimulationSession.objects.get(pk=session_id)
    return {
        "status": session.status,
        "ticks": (session.ticks_processed, session.total_ticks),
        "totals": (session.gross_pnl, session.realized_pnl, session.charges, session.total_trades,
                   session.winning_trades, session.losing_trades, session.win_rate, session.max_drawdown),
        "summary": session.final_state["summary"],
        "node_events": list(NodeEvent.objects.filter(session_id=session_id).order_by("seq").values_list(
            "seq", "execution_id", "parent_execution_id", "node_id", "event_type", "timestamp", "payload")),
        "position_changes": list(PositionChange.objects.filter(session_id=session_id).order_by("seq").values_list(
            "seq", "action", "position_id", "re_entry_num", "execution_id", "timestamp", "payload")),
        "trades": [t.record().to_dict() for t in Trade.objects.filter(session_id=session_id).order_by("seq")],
        "equity": list(EquitySample.objects.filter(session_id=session_id).order_by("timestamp").values_list(
            "timestamp", "realized_pnl", "unrealized_pnl", "charges")),
    }


def assert_same_run(session_id: str, twin_id: str) -> None:
    got, expected = everything_of(session_id), everything_of(twin_id)
    assert expected["trades"], "the straddle trades on the test day: a comparison of nothing proves nothing"
    for key in expected:
        assert got[key] == expected[key], f"{key} differ from the uninterrupted run"


def number_in(event_id: str, session_id: str) -> int:
    """The session's number in an SSE id (``user-…:t,session-<id>:<n>,…``)."""
    for pair in event_id.split(","):
        channel, _, n = pair.rpartition(":")
        if unquote(channel) == f"session-{session_id}":
            return int(n)
    raise AssertionError(f"{session_id} is not in the id {event_id!r}")


def applied_once(events, session_id: str) -> list[int]:
    """Apply ``session_id``'s events as a client does, checking each stored event is the next one (an
    ``initial_state`` stands for every event up to its ``last_event_id``); return the numbers applied."""
    position, applied = 0, []
    for event in events:
        if event.event == "heartbeat" or event.json.get("session_id") != session_id:
            continue
        if event.event == "initial_state":
            assert event.json["last_event_id"] >= position, "a snapshot older than what the client has"
            position = event.json["last_event_id"]
            applied.append(("initial_state", position))
        elif event.event in STORED_KINDS:
            n = number_in(event.id, session_id)
            assert n == position + 1, f"event {n} after {position}: {'a duplicate' if n <= position else 'a gap'}"
            position = n
            applied.append(n)
    return applied


def executions_applied(events, session_id: str) -> list[str]:
    """The node execution ids a client following ``session_id`` holds after ``events``, in the order it got
    them: an ``initial_state`` brings every execution up to it, a ``node_events`` adds its own."""
    held: list[str] = []
    for event in events:
        if event.event == "heartbeat" or event.json.get("session_id") != session_id:
            continue
        if event.event == "initial_state":
            held = list(event.json["diagnostics"]["events_history"])
        elif event.event == "node_events":
            held += list(event.json["diagnostics"]["events_history"])
    return held


def test_a_killed_server_started_again_resumes_the_session_by_itself_and_it_ends_as_if_never_stopped(
        server_factory, readers, alice, bob, charlie):
    first = server_factory(serve=True, **WINDOW)
    session_id = start_session(first, alice, speed=600)  # the day in 37.5 s
    stream_url = first.url(f"/api/live-trading/stream/{alice.user_id}?compress=0")
    before = readers(stream_url, **bearer(alice))
    before.until(lambda e: e.event == "trade_update", timeout=60)  # mid-session, a trade closed and seen
    ticks_at_kill = SimulationSession.objects.get(pk=session_id).ticks_processed

    first.proc.send_signal(signal.SIGKILL)
    first.proc.wait(10)
    assert status_of(session_id) == "running", "nobody could say otherwise: the process died without a word"
    with pytest.raises(AssertionError, match="the stream ended"):
        before.until(lambda e: False, timeout=10)  # every event it got is in before.events

    second = server_factory(serve=True, **WINDOW)  # same database; `make run` again
    # Its owner is gone (a killed process of this host): the new server adopts it at once.
    assert f"adopted {session_id} (NIFTY short straddle) after " in second.log()
    resumed = SimulationSession.objects.get(pk=session_id)
    assert resumed.status in ("running", "completed") and resumed.status_reason != ""
    if resumed.status == "running":  # the rest of the day as fast as it goes: its pace is not what is tested
        assert as_fast_as_it_goes(second, alice, session_id) == 200
    after = readers(second.url(f"/api/live-trading/stream/{alice.user_id}?compress=0"),
                    **bearer(alice), **{"Last-Event-ID": before.last_event_id})
    after.until(lambda e: e.event == "session_complete" and e.json["session_id"] == session_id, timeout=120)

    assert status_of(session_id) == "completed"
    assert SimulationSession.objects.get(pk=session_id).ticks_processed == 22500 > ticks_at_kill
    applied = applied_once(before.events + after.events, session_id)
    last = int(SimulationSession.objects.get(pk=session_id).last_event_id)
    assert applied[-1] == last, "the client reached the session's last event"
    statuses = [e.json["status"] for e in after.events if e.event == "session_status"]
    assert "resumed" in statuses or any(e.event == "initial_state" for e in after.events)
    stored = list(NodeEvent.objects.filter(session_id=session_id).order_by("seq").values_list("execution_id", flat=True))
    assert executions_applied(before.events + after.events, session_id) == stored, "each execution once, in order"
    assert_same_run(session_id, uninterrupted_twin(session_id))
    assert httpx.get(second.url(f"/api/live-trading/session/{session_id}"), headers=bearer(bob),
                     timeout=30).status_code == 404


def test_sigterm_during_batch_writes_then_a_resume_on_request_ends_as_if_never_stopped(
        server_factory, alice, bob, charlie):
    first = server_factory(serve=True)
    strategy, broker = setup_for(alice)
    # Two days paced at 1,000x (about 45 s of wall time): the session writes a batch every 250 ms throughout,
    # and cannot finish between its first trade (09:20, 0.3 s in) and the SIGTERM, however busy the machine.
    started = httpx.post(first.url("/api/v2/live/start"), headers=bearer(alice), timeout=60, json={
        "strategy_id": str(strategy.id), "broker_connection_id": str(broker.id), "date": DAY,
        "to": "2024-10-30", "speed_multiplier": 1000})
    assert started.status_code == 201, started.text
    session_id = started.json()["session_id"]
    wait_for(lambda: Trade.objects.filter(session_id=session_id).exists(), timeout=60, message="a trade written")

    first.proc.send_signal(signal.SIGTERM)
    first.proc.wait(60)

    interrupted = SimulationSession.objects.get(pk=session_id)
    assert interrupted.status == "interrupted", interrupted.status_reason
    assert 0 < interrupted.ticks_processed < interrupted.total_ticks == 2 * 22500
    seqs = list(NodeEvent.objects.filter(session_id=session_id).order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1)), "no row lost or half-written"

    second = server_factory(serve=True, SIM_RESUME_ON_START="false")
    assert status_of(session_id) == "interrupted", "not resumed by itself when the setting is off"
    url = second.url(f"/api/v2/live/resume/{session_id}")
    assert httpx.post(url, headers=bearer(bob), timeout=60).status_code == 404
    resumed = httpx.post(url, headers=bearer(alice), timeout=60)
    assert resumed.status_code == 200, resumed.text
    assert resumed.json()["status"] in ("running", "completed")
    if resumed.json()["status"] == "running":  # the rest as fast as it goes: its pace is not what is tested
        assert as_fast_as_it_goes(second, alice, session_id) == 200
    wait_for(lambda: status_of(session_id) == "completed", timeout=120, message="completion after the resume")
    again = httpx.post(url, headers=bearer(charlie), timeout=60)
    assert again.status_code == 409
    assert again.json() == {"detail": "the session is completed", "status": "completed"}

    assert_same_run(session_id, uninterrupted_twin(session_id))
