"""A run's stream as seed 003's files: what one session's stream sent, event by event, in files by kind.

Seed 003's test runner writes the events a backtest emits to ``initial_state.json``,
``tick_updates_stream.jsonl``, ``node_events_stream.jsonl``, ``trade_updates_stream.jsonl`` and
``final_state.json``. Here the same files hold what a client of the session's stream received
(``GET /api/v2/live/stream/{id}``): its first ``initial_state``, every ``tick_update``, ``node_events``
and ``trade_update``, and its ``session_complete``; the stream's other run events go beside them in
``position_events_stream.jsonl`` and ``candle_updates_stream.jsonl``. ``session_status`` and
``heartbeat`` say when things happened in wall-clock time, not what the run did: they are left out.

Each event is one line, ``{"event": <kind>, "id": <its SSE id, null for a tick>, "data": <the event's
data exactly as the stream sent it>}`` (the ``.json`` files hold one such line), so the ids give the
order of events across the files and the data is the wire's bytes.

``StreamFiles`` lays the files out from events however they came: from an SSE client reading a real
stream (the tests), or from ``Recorder``, which stands where the stream's ``publish`` stands behind a
``StreamSink`` and encodes each event as the stream does (``publish.envelope``, ``Envelope.data_text``)
for ``manage.py simulate --out`` (docs/protocol.md, "Capturing a run").
"""

from __future__ import annotations

from live_trading.stream.channels import channel_in_id
from live_trading.stream.events import dumps, initial_state_body
from live_trading.stream.publish import SessionCounters, envelope

INITIAL_STATE = "initial_state.json"
FINAL_STATE = "final_state.json"
STREAM_FILES = {
    "tick_update": "tick_updates_stream.jsonl",
    "node_events": "node_events_stream.jsonl",
    "trade_update": "trade_updates_stream.jsonl",
    "position_event": "position_events_stream.jsonl",
    "candle_update": "candle_updates_stream.jsonl",
}
NAMES = (INITIAL_STATE, *STREAM_FILES.values(), FINAL_STATE)


def line(kind: str, event_id: str | None, data: str) -> str:
    """One event as the files hold it; ``data`` is the SSE ``data`` text, written as it is."""
    return f'{{"event":{dumps(kind)},"id":{dumps(event_id)},"data":{data}}}'


class StreamFiles:
    """The files of one session's stream, from its events in the order they came (``add``)."""

    def __init__(self):
        self.lines: dict[str, list[str]] = {name: [] for name in NAMES}

    def add(self, kind: str, event_id: str | None, data: str) -> None:
        """Take one event as the stream sent it: its kind, its SSE id (None: none) and its data text."""
        if kind == "initial_state":
            name = INITIAL_STATE
            if self.lines[name]:
                return  # the state the client started from; a later one (a reset) is no event of the run
        elif kind == "session_complete":
            name = FINAL_STATE
        else:
            name = STREAM_FILES.get(kind)
            if name is None:
                return  # session_status, heartbeat
        self.lines[name].append(line(kind, event_id, data))

    def files(self) -> dict[str, bytes]:
        """Every file's bytes by name: one line per event, each ended by a newline (empty: none)."""
        return {name: "".join(f"{text}\n" for text in lines).encode() for name, lines in self.lines.items()}


class Recorder:
    """Stands in for ``stream.publish.publish`` behind a ``StreamSink`` (``publish=recorder.publish``,
    ``counters=recorder.counters``) and records what a client of the session's stream with these options
    would receive, into ``files`` (a ``StreamFiles``)."""

    def __init__(self, session_id: str, *, compress: bool = True, ticks: str = "full", node_diagnostics: bool = False):
        self.session_id = session_id
        self.compress = compress
        self.ticks = ticks
        self.node_diagnostics = node_diagnostics
        self.counters = SessionCounters(0)
        self.files = StreamFiles()

    def publish(self, *, user_id: str, session_id: str, event: str, data: dict, store: bool = True,
                event_id: int | None = None, coalesce: bool = True) -> int | None:
        env = envelope(self.counters, user_id=user_id, session_id=session_id, event=event, data=data, store=store,
                       event_id=event_id, coalesce=coalesce)
        sse_id = None if env.n is None else self.sse_id(env.n)
        self.files.add(env.kind, sse_id, env.data_text(self.compress, self.ticks, self.node_diagnostics))
        return env.n

    def initial_state(self, state: dict) -> None:
        """Record the ``initial_state`` the stream sends for ``state`` (``events.stream_state``)."""
        self.files.add("initial_state", self.sse_id(state["last_event_id"]), initial_state_body(state, self.compress))

    def sse_id(self, n: int) -> str:
        """The SSE id of the session's ``n``-th stored event on its own stream."""
        return f"{channel_in_id(self.session_id)}:{n}"
