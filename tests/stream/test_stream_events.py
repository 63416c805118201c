"""The stream's parts without a server: wire shapes over a whole engine day, encoders, the sink's
ordering and tick coalescing, the hub's queues and windows, tokens."""

import asyncio
import json
import time
from datetime import date
from unittest import mock

import pytest

from live_trading.engine.engine import Engine
from live_trading.engine.events import (
    CandleCompleted,
    EquitySample,
    NodeExecuted,
    OpenPositionTick,
    TickSnapshot,
)
from live_trading.marketdata.store import load_day
from live_trading.stream import auth, events
from live_trading.stream.events import EventShapeError, check, compress, decompress, decompress_fields
from live_trading.stream.hub import CoalescingQueue, Envelope, Listener, Ring, events_after, hub
from live_trading.stream.publish import publish
from live_trading.stream.sink import StreamSink
from strategies.graph.examples import example_names, load_example
from strategies.graph.parse import parse_graph

pytestmark = pytest.mark.django_db

DAY = date(2024, 10, 29)


class Captured:
    """Everything published in this process while it is attached (``hub.observe``)."""

    def __init__(self, session_id):
        self.session_id = session_id
        self.envelopes = []

    def __call__(self, env):
        if env.session_id == self.session_id:
            self.envelopes.append(env)

    def __enter__(self):
        hub.observe(self)
        return self

    def __exit__(self, *exc):
        hub.unobserve(self)

    def of(self, kind):
        return [e for e in self.envelopes if e.kind == kind]


def run_day(strategy, sink):
    graph = parse_graph(load_example(strategy))
    engine = Engine(graph, load_day(graph.underlying, DAY), sink)
    while engine.step():
        sink.flush()  # as the persistence writer does after each commit
    sink.flush()
    return engine


@pytest.mark.slow
@pytest.mark.parametrize("strategy", example_names())
def test_every_event_of_a_full_day_matches_its_typed_definition(strategy, alice):
    session_id = f"sim-day{abs(hash(strategy)) % 10**8:08d}"
    sink = StreamSink(session_id, alice.user_id, tick_rate=10**9)  # every tick goes out
    with Captured(session_id) as captured:
        engine = run_day(strategy, sink)
        sink.complete({"status": "completed", "diagnostics": {"events_history": {}, "current_state": {}},
                       "trades": {"trades": [], "summary": None}})

    kinds = {e.kind for e in captured.envelopes}
    assert kinds >= {"node_events", "position_event", "trade_update", "tick_update", "candle_update",
                     "session_complete"}
    assert len(captured.of("tick_update")) == engine.ticks_processed
    for env in captured.envelopes:
        check(env.kind, json.loads(env.body(compress=True)), compressed=True)
        check(env.kind, json.loads(env.body(compress=False)), compressed=False)
        assert json.loads(env.plain)["session_id"] == session_id
    numbers = [e.n for e in captured.envelopes if e.n is not None]
    assert numbers == list(range(1, len(numbers) + 1))


def test_node_events_carry_each_execution_once_and_the_nodes_latest_state(alice):
    session_id = "sim-nodes0000001"
    sink = StreamSink(session_id, alice.user_id, tick_rate=0)
    with Captured(session_id) as captured:
        run_day("nifty_short_straddle", sink)

    executions = {}
    latest = {}
    for env in captured.of("node_events"):
        diagnostics = json.loads(env.plain)["diagnostics"]
        for execution_id, execution in diagnostics["events_history"].items():
            assert execution_id not in executions
            executions[execution_id] = execution
        latest.update(diagnostics["current_state"])
    by_node = {}
    for execution in executions.values():
        by_node[execution["node_id"]] = execution
    assert latest == by_node
    assert all(e.n is not None for e in captured.of("node_events"))


def test_compressed_fields_round_trip():
    data = {"session_id": "sim-x", "seq": 3, "trades": {"trade": {"pnl": "-78.45"}, "summary": {"total_trades": 1}}}
    packed = events.compress_fields("trade_update", data)

    assert isinstance(packed["trades"], str) and packed["trades"].startswith("H4sI")  # gzip magic in base64
    assert decompress_fields("trade_update", packed) == data
    assert decompress(compress({"a": [1, 2.5, None]})) == {"a": [1, 2.5, None]}
    assert compress({"a": 1}) == compress({"a": 1})  # no timestamp in the gzip header


@pytest.mark.parametrize(("data", "message"), [
    ({"session_id": "s", "seq": 1, "timestamp": "2024-10-29T09:15:00+05:30"}, "missing"),
    ({"session_id": "s", "seq": "1", "status": "paused", "timestamp": "2024-10-29T09:15:00+05:30"}, "integer"),
    ({"session_id": "s", "seq": 1, "status": "napping", "timestamp": "2024-10-29T09:15:00+05:30"}, "one of"),
    ({"session_id": "s", "seq": 1, "status": "paused", "timestamp": "29/10/2024 09:15"}, "ISO 8601"),
    ({"session_id": "s", "seq": 1, "status": "paused", "timestamp": "2024-10-29T09:15:00+05:30", "x": 1},
     "unexpected field"),
])
def test_the_checker_names_what_is_wrong(data, message):
    with pytest.raises(EventShapeError, match=message):
        check("session_status", data)


def test_the_checker_wants_two_place_money_strings():
    event = {"session_id": "s", "seq": 1, "trades": {"trade": TRADE, "summary": {**SUMMARY, "total_pnl": "-78.5"}}}
    check("trade_update", {**event, "trades": {"trade": TRADE, "summary": SUMMARY}})
    with pytest.raises(EventShapeError, match=r"trades.summary.total_pnl: '-78.5' is not a two-place"):
        check("trade_update", event)


# A trade and a summary as seed 000 shows them (with the fields the engine adds).
TRADE = {
    "trade_id": "entry-2-pos1", "position_id": "entry-2-pos1", "position_num": 1, "re_entry_num": 0,
    "entry_node_id": "entry-2",
    "symbol": "NIFTY:2024-11-07:OPT:24250:PE", "side": "sell", "quantity": 25, "entry_price": "181.60",
    "entry_time": "2024-10-29T09:19:00+05:30", "exit_price": "260.05", "exit_time": "2024-10-29T10:48:00+05:30",
    "pnl": "-1961.25", "pnl_percent": "-43.20", "charges": "58.40", "net_pnl": "-2019.65", "duration_minutes": 89.0,
    "status": "CLOSED", "entry_flow_ids": ["exec_entry-2_20241029_091900_51380c"],
    "exit_flow_ids": ["exec_entry-2_20241029_091900_51380c", "exec_exit-3_20241029_104800_ab99d0"],
    "entry_trigger": "entry-2", "exit_reason": "exit_condition_met",
}
SUMMARY = {"total_trades": 1, "total_pnl": "-2019.65", "gross_pnl": "-1961.25", "charges": "58.40",
           "net_pnl": "-2019.65", "winning_trades": 0, "losing_trades": 1, "win_rate": "0.00", "max_drawdown": "2019.65"}


# -- the sink -----------------------------------------------------------------------------------


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def tick(ts, processed, underlying=None, positions=()):
    changes = ((("NIFTY", underlying),) if underlying else ()) + (("NIFTY:2024-10-31:OPT:24150:CE", 15155 + processed),)
    return TickSnapshot(ts, processed, 22500, ("entry-1",), changes, tuple(positions), -2917, 0, 0)


def test_ticks_are_coalesced_to_the_rate_and_the_latest_state_wins(alice):
    clock = Clock()
    session_id = "sim-ticks0000001"
    sink = StreamSink(session_id, alice.user_id, tick_rate=4, clock=clock)
    with Captured(session_id) as captured:
        for i in range(100):  # 100 ticks 10 ms apart: one second
            clock.now = 1000 + i / 100
            sink.tick(tick(1730173500 + i, i + 1, underlying=2400000 + (i if i < 50 else 49)))
    ticks = [json.loads(e.plain) for e in captured.of("tick_update")]

    assert [t["progress"]["ticks_processed"] for t in ticks] == [1, 26, 51, 76]
    assert [t["seq"] for t in ticks] == [1, 2, 3, 4]
    # Only the underlying's LTP, and only when it changed since the last tick_update went out.
    assert [t["ltp_updates"] for t in ticks] == [{"NIFTY": 24000.0}, {"NIFTY": 24000.25}, {"NIFTY": 24000.49}, {}]


def test_a_tick_never_overtakes_events_waiting_for_their_commit(alice):
    clock = Clock()
    session_id = "sim-order0000001"
    sink = StreamSink(session_id, alice.user_id, tick_rate=4, clock=clock)
    execution = NodeExecuted("exec_entry-1_20241029_092000_aaaaaa", None, 1730173800, "entry-1", "Entry 1",
                             "EntryNode", "order_placed", {"order_details": {"symbol": "NIFTY"}})
    position = OpenPositionTick("entry-1-pos1", 0, "NIFTY:2024-10-31:OPT:24150:CE", "sell", 25, 15155, 15200, -1125)
    with Captured(session_id) as captured:
        sink.emit(execution)
        sink.emit(tick(1730173800, 1, underlying=2400000, positions=[position]))
        sink.emit(CandleCompleted("NIFTY", "1m", 1730173740, 1730173800, 1, 2, 1, 2, 100))
        assert captured.envelopes == []  # all wait for the commit of the node event's row
        sink.flush()
        sink.emit(CandleCompleted("NIFTY", "1m", 1730173800, 1730173860, 2, 3, 2, 3, 100))
        # A candle alone waits for a commit too (the writer makes one soon), so the session row always
        # records the number of every event published: a resume never numbers another event 3.
        assert [e.kind for e in captured.envelopes][-1] == "tick_update"
        sink.flush()

    assert [(e.kind, e.n) for e in captured.envelopes] == [
        ("node_events", 1), ("candle_update", 2), ("tick_update", None), ("candle_update", 3)]
    assert sink.last_event_id == 3


def test_an_equity_sample_is_not_streamed_and_does_not_split_the_node_executions_around_it(alice):
    session_id = "sim-equity000001"
    sink = StreamSink(session_id, alice.user_id, tick_rate=4, clock=Clock())
    first = NodeExecuted("exec_entry-1_20241029_091559_aaaaaa", None, 1730173559, "entry-1", "Entry 1",
                         "EntryNode", "order_placed", {})
    second = NodeExecuted("exec_exit-1_20241029_091559_bbbbbb", None, 1730173559, "exit-1", "Exit 1",
                          "ExitNode", "exit_triggered", {})
    with Captured(session_id) as captured:
        sink.emit(first)
        # (both executions of one tick: executions of different ticks never share an event, below)
        sink.emit(EquitySample(1730173560, -2764, 1250, 2764, -2764, 0, 2764))
        sink.emit(second)
        sink.flush()

    assert [(e.kind, e.n) for e in captured.envelopes] == [("node_events", 1)]
    group = json.loads(captured.envelopes[0].plain)["diagnostics"]["events_history"]
    assert list(group) == [first.execution_id, second.execution_id]


def executions_by_event(envelopes) -> list[list[str]]:
    return [list(json.loads(e.plain)["diagnostics"]["events_history"]) for e in envelopes if e.kind == "node_events"]


@pytest.mark.parametrize("commit_between_ticks", [False, True])
def test_node_executions_travel_one_tick_per_event_whenever_the_writer_commits(alice, commit_between_ticks):
    session_id = f"sim-pertick0000{int(commit_between_ticks)}"
    sink = StreamSink(session_id, alice.user_id, tick_rate=4, clock=Clock())
    signal = NodeExecuted("exec_entry-condition-1_20241029_092000_aaaaaa", None, 1730173800, "entry-condition-1",
                          "At 09:20", "EntrySignalNode", "signal_emitted", {})
    order = NodeExecuted("exec_entry-1_20241029_092000_bbbbbb", signal.execution_id, 1730173800, "entry-1", "Entry 1",
                         "EntryNode", "order_placed", {})
    stop = NodeExecuted("exec_entry-1_20241029_092001_cccccc", None, 1730173801, "entry-1", "Entry 1",
                        "EntryNode", "stop_loss_hit", {})
    with Captured(session_id) as captured:
        sink.emit(signal)
        sink.emit(order)
        if commit_between_ticks:
            sink.flush()
        sink.emit(stop)
        sink.flush()

    assert executions_by_event(captured.envelopes) == [[signal.execution_id, order.execution_id], [stop.execution_id]]
    assert [e.n for e in captured.envelopes] == [1, 2]


def test_a_session_streaming_every_tick_publishes_each_one_in_order_after_the_events_before_it(alice):
    session_id = "sim-everytick001"
    sink = StreamSink(session_id, alice.user_id, tick_rate=4, every_tick=True, clock=Clock())  # the clock never moves
    execution = NodeExecuted("exec_entry-1_20241029_092000_aaaaaa", None, 1730173800, "entry-1", "Entry 1",
                             "EntryNode", "order_placed", {})
    with Captured(session_id) as captured:
        assert sink.tick_due()
        sink.emit(execution)
        sink.emit(tick(1730173800, 1, underlying=2400000))
        sink.emit(CandleCompleted("NIFTY", "1m", 1730173740, 1730173800, 1, 2, 1, 2, 100))
        sink.emit(tick(1730173801, 2, underlying=2400005))
        assert captured.envelopes == []  # everything waits for the commit of the node event's row
        sink.flush()
        sink.emit(tick(1730173802, 3, underlying=2400005))  # nothing waits: out at once, no LTP change
        assert sink.tick_due()

    assert [(e.kind, e.n) for e in captured.envelopes] == [
        ("node_events", 1), ("tick_update", None), ("candle_update", 2), ("tick_update", None), ("tick_update", None)]
    ticks = [json.loads(e.plain) for e in captured.of("tick_update")]
    assert [(t["seq"], t["progress"]["ticks_processed"], t["ltp_updates"]) for t in ticks] == [
        (1, 1, {"NIFTY": 24000.0}), (2, 2, {"NIFTY": 24000.05}), (3, 3, {})]
    assert not any(e.coalesce for e in captured.of("tick_update"))


def test_status_and_complete_flush_first_and_are_numbered(alice):
    session_id = "sim-status000001"
    sink = StreamSink(session_id, alice.user_id, tick_rate=4, clock=Clock())
    with Captured(session_id) as captured:
        sink.emit(CandleCompleted("NIFTY", "1m", 1730173740, 1730173800, 1, 2, 1, 2, 100))
        sink.status("paused", reason="paused by alice")
        sink.status("speed_changed", speed_multiplier=10)
        sink.complete({"status": "stopped", "diagnostics": {}, "trades": []})

    assert [(e.kind, e.n) for e in captured.envelopes] == [
        ("candle_update", 1), ("session_status", 2), ("session_status", 3), ("session_complete", 4)]
    status = json.loads(captured.envelopes[1].plain)
    assert (status["status"], status["reason"], status["seq"]) == ("paused", "paused by alice", 1)
    with pytest.raises(ValueError, match="unknown session status"):
        sink.status("napping")


def test_publish_refuses_kinds_that_are_not_published(alice):
    with pytest.raises(ValueError, match="per connection"):
        publish(user_id=alice.user_id, session_id="sim-x", event="initial_state", data={})
    with pytest.raises(ValueError, match="unknown"):
        publish(user_id=alice.user_id, session_id="sim-x", event="gossip", data={})


# -- the hub ------------------------------------------------------------------------------------


def env(kind, n, session="sim-a", user="u", **data):
    if kind == "tick_update":
        data.setdefault("ltp_updates", {})
    return Envelope(kind, session, user, n, json.dumps({"session_id": session, "n": n, **data}))


def test_the_queue_keeps_stored_events_in_order_and_only_the_latest_tick_at_the_back():
    q = CoalescingQueue()
    for e in (env("candle_update", 1), env("tick_update", None), env("position_event", 2),
              env("tick_update", None, session="sim-b"), env("tick_update", None)):
        q.append(e)
    taken = q.take()

    assert [(e.kind, e.session_id, e.n) for e in taken] == [
        ("candle_update", "sim-a", 1), ("position_event", "sim-a", 2), ("tick_update", "sim-b", None),
        ("tick_update", "sim-a", None)]
    assert len(q) == 0


def test_the_queue_keeps_every_tick_of_a_session_streaming_every_tick_up_to_its_bound():
    q = CoalescingQueue(keep=4)
    ticks = [Envelope("tick_update", "sim-a", "u", None, json.dumps({"seq": i, "ltp_updates": {}}), coalesce=False)
             for i in range(1, 7)]
    for e in ticks:
        q.append(e)

    # kept while fewer than four wait; then each newer one replaces the last one queued, as any tick does
    # (5 replaced 4, 6 replaced 5), so the backlog stays bounded and seq shows the client the gap
    assert [json.loads(e.plain)["seq"] for e in q.take()] == [1, 2, 3, 6]
    origin, back = Envelope.from_message(ticks[0].to_message("here"))
    assert (origin, back.coalesce, back.plain) == ("here", False, ticks[0].plain)
    assert Envelope.from_message(env("tick_update", None).to_message("here"))[1].coalesce


def test_a_tick_that_replaces_an_unsent_one_keeps_the_ltp_changes_only_the_unsent_one_carried():
    q = CoalescingQueue()
    q.append(env("tick_update", None, ltp_updates={"NIFTY": 24500.05, "BANKNIFTY": 51000.0}, tick=1))
    q.append(env("tick_update", None, ltp_updates={"NIFTY": 24500.1}, tick=2))
    q.append(env("tick_update", None, session="sim-b", ltp_updates={"NIFTY": 1.0}, tick=9))
    (a, b) = q.take()

    # The stream never wrote tick 1: BANKNIFTY's change would be lost with it; NIFTY's newer LTP wins.
    assert json.loads(a.plain) == {"session_id": "sim-a", "n": None, "tick": 2,
                                   "ltp_updates": {"NIFTY": 24500.1, "BANKNIFTY": 51000.0}}
    assert json.loads(b.plain)["ltp_updates"] == {"NIFTY": 1.0}  # another session's tick is its own


def test_a_tick_lists_open_positions_as_the_seeds_do_and_compacts_them_on_request(alice):
    session_id = "sim-tickpos00001"
    sink = StreamSink(session_id, alice.user_id, tick_rate=4, clock=Clock())
    short_ce = OpenPositionTick("entry-ce-pos1", 0, "NIFTY:2024-10-31:OPT:24500:CE", "sell", 25, 10160, 10280, -3000)
    long_pe = OpenPositionTick("entry-pe-pos2", 1, "NIFTY:2024-10-31:OPT:24500:PE", "buy", 50, 8475, 8500, 1250)
    with Captured(session_id) as captured:
        sink.tick(tick(1730173800, 7, underlying=2450705, positions=[short_ce, long_pe]))
    (env,) = captured.of("tick_update")
    data = json.loads(env.frame(True).decode().split("data: ", 1)[1])  # what a stream with no option gets

    check("tick_update", data)
    assert "node_diagnostics" not in data  # only on request (?node_diagnostics=1)
    # Seeds 000/003/004: one object per position, figures in rupees as JSON numbers (paise / 100).
    assert data["open_positions"] == [
        {"position_id": "entry-ce-pos1", "re_entry_num": 0, "symbol": "NIFTY:2024-10-31:OPT:24500:CE",
         "side": "sell", "quantity": 25, "entry_price": 101.6, "current_price": 102.8, "unrealized_pnl": -30.0},
        {"position_id": "entry-pe-pos2", "re_entry_num": 1, "symbol": "NIFTY:2024-10-31:OPT:24500:PE",
         "side": "buy", "quantity": 50, "entry_price": 84.75, "current_price": 85.0, "unrealized_pnl": 12.5},
    ]
    assert data["pnl_summary"]["open_trades"] == 2
    # ?ticks=compact: the same tick with the map {position_id: [current_price, unrealized_pnl]}.
    frame = env.frame(True, "compact").decode()
    assert frame.startswith("event: tick_update\ndata: ")
    compact = json.loads(frame.split("data: ", 1)[1])
    check("tick_update", compact)
    assert compact == {**data, "open_positions": {"entry-ce-pos1": [102.8, -30.0], "entry-pe-pos2": [85.0, 12.5]}}
    with pytest.raises(EventShapeError, match=r"open_positions"):
        check("tick_update", {**data, "open_positions": {"entry-ce-pos1": [102.8, -30.0, 0]}})
    with pytest.raises(EventShapeError, match=r"open_positions"):
        check("tick_update", {**data, "open_positions": [{**data["open_positions"][0], "side": "short"}]})


def test_a_window_replays_what_it_covers_and_refuses_what_it_does_not():
    ring = Ring(3, "u")
    for n in range(1, 6):
        ring.append(env("candle_update", n))

    assert [e.n for e in ring.after(2)] == [3, 4, 5]  # the client has 2; 3..5 are all here
    assert ring.after(5) == []
    assert ring.after(1) is None  # 2 fell out of the window
    assert ring.after(9) is None  # an id from the future (or another process's past)
    assert events_after([], 0, 0) == []
    assert ring.append(env("candle_update", 4)) is False  # duplicates are dropped


def test_a_users_listener_gets_only_that_users_events(alice, bob):
    async def scenario():
        alices, bobs = Listener(user_id=alice.user_id), Listener(user_id=bob.user_id)
        hub.register(alices)
        hub.register(bobs)
        try:
            publish(user_id=alice.user_id, session_id="sim-hubiso00001", event="candle_update",
                    data={"symbol": "NIFTY"})
            await asyncio.sleep(0)
            return alices.queue.take(), bobs.queue.take()
        finally:
            hub.unregister(alices)
            hub.unregister(bobs)

    to_alice, to_bob = asyncio.run(scenario())
    assert [e.session_id for e in to_alice] == ["sim-hubiso00001"] and to_bob == []


def test_a_listener_that_falls_behind_drops_its_backlog_and_is_told_to_re_read():
    async def scenario():
        listener = Listener(user_id="u", max_pending=10)
        for n in range(1, 12):
            listener.deliver(env("candle_update", n))
        listener.deliver(env("tick_update", None))
        return listener

    listener = asyncio.run(scenario())
    assert listener.overflow is True
    assert [e.kind for e in listener.queue.take()] == ["tick_update"]


# -- stream tokens ------------------------------------------------------------------------------


def test_a_stream_token_names_its_user_until_it_expires(alice, bob, charlie, settings):
    token = auth.issue_token(alice)["token"]
    assert auth.user_from_token(token) == alice
    with mock.patch("django.core.signing.time.time", return_value=time.time() + settings.STREAM_TOKEN_MAX_AGE + 1), \
            pytest.raises(auth.BadCredentials, match="expired"):
        auth.user_from_token(token)
    with pytest.raises(auth.BadCredentials, match="Invalid"):
        auth.user_from_token(auth.issue_token(bob)["token"].replace(":", ";", 1))
    assert auth.user_from_token(auth.issue_token(charlie)["token"]) == charlie
