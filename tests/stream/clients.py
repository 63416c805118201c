"""What a client following the protocol knows, and the same fetched afresh from the REST API.

``Follower`` is a strict client of a user's (or a session's) stream: it applies events in arrival
order and refuses what a correct stream never sends (an event of a session it has no state for that
is not that session's first, a number that is not the next one: a duplicate or a gap). The tests
compare what it knows with ``fresh_state`` after whole sessions, reconnects and cuts.
"""

from __future__ import annotations

import queue
import time
from urllib.parse import unquote

import httpx

from live_trading.stream.events import decompress_fields
from tests.stream.conftest import bearer

STATUS_AFTER = {"started": "running", "resumed": "running", "paused": "paused", "speed_changed": None}
MOVING = ("current_price", "unrealized_pnl")  # an open position's, as of the event that last touched it
FINAL = ("completed", "stopped", "failed", "interrupted")


def plain(event) -> dict:
    """The event's data with compressed fields decompressed."""
    return decompress_fields(event.event, event.json)


def channels(event_id: str | None) -> dict[str, int]:
    """``user-<id>:<t>,session-<id>:<n>,…`` -> ``{channel: number}`` (parsed here, not by the server's code)."""
    out = {}
    for part in (event_id or "").split(","):
        if part:
            channel, _, n = part.rpartition(":")
            out[unquote(channel)] = int(n)
    return out


def cursors(event_id: str | None) -> dict[str, int]:
    """The sessions an SSE id names: ``{session_id: last number}``."""
    return {c.removeprefix("session-"): n for c, n in channels(event_id).items() if c.startswith("session-")}


class Follower:
    """Per session: events history, current state, trades, open positions, status; and the number of
    the last stored event applied (``applied``), to refuse duplicates and gaps."""

    def __init__(self, only: str | None = None):
        self.only = only  # follow only this session (a user's stream carries the others too)
        self.sessions: dict[str, dict] = {}
        self.applied: dict[str, int] = {}
        self.finished: set[str] = set()

    def apply_all(self, events) -> Follower:
        for event in events:
            self.apply(event)
        return self

    def apply(self, event) -> None:
        if event.event in ("heartbeat", "tick_update"):
            return
        sid = event.json.get("session_id")
        if self.only is not None and sid != self.only:
            return
        data = plain(event)
        if event.event == "initial_state":
            self.sessions[sid] = {
                "events_history": dict(data["diagnostics"]["events_history"]),
                "current_state": dict(data["diagnostics"]["current_state"]),
                "trades": {t["trade_id"]: t for t in data["trades"]["trades"]},
                "positions": {(p["position_id"], p["re_entry_num"]): p for p in data["positions"]},
                "status": data["status"],
            }
            self.applied[sid] = data["last_event_id"]
            if data["status"] in FINAL:
                self.finished.add(sid)
            return
        n = cursors(event.id)[sid]
        state = self.sessions.get(sid)
        if state is None:
            # A session that started while the client listened (or that it follows from "nothing yet"):
            # its first event is number 1.
            if (event.event, data.get("status"), n) != ("session_status", "started", 1):
                raise AssertionError(f"{event.event} #{n} of {sid} before any initial_state")
            state = self.sessions[sid] = {"events_history": {}, "current_state": {}, "trades": {}, "positions": {},
                                          "status": "running"}
            self.applied[sid] = 0
        if n != self.applied[sid] + 1:
            raise AssertionError(f"{event.event} #{n} of {sid} after #{self.applied[sid]}: "
                                 f"{'a duplicate' if n <= self.applied[sid] else 'a gap'}")
        self.applied[sid] = n
        if event.event == "node_events":
            state["events_history"].update(data["diagnostics"]["events_history"])
            state["current_state"].update(data["diagnostics"]["current_state"])
        elif event.event == "trade_update":
            trade = data["trades"]["trade"]
            state["trades"][trade["trade_id"]] = trade
        elif event.event == "position_event":
            p = data["position"]
            key = (p["position_id"], p["re_entry_num"])
            if p["status"] == "CLOSED":
                state["positions"].pop(key, None)  # closed positions live on as trades
            else:
                state["positions"][key] = p
        elif event.event == "session_status":
            state["status"] = STATUS_AFTER.get(data["status"], data["status"]) or state["status"]
        elif event.event == "session_complete":
            state["status"] = data["status"]
            self.finished.add(sid)


def client_state(events, session_id) -> dict | None:
    """What a client following the protocol knows of ``session_id`` after ``events``."""
    return Follower(only=session_id).apply_all(events).sessions.get(session_id)


def fresh_state(server, user, session_id) -> dict:
    """The same, fetched afresh from the REST API (diagnostics endpoint and the session's dashboard card)."""
    diagnostics = httpx.get(server.url(f"/api/session/{session_id}/diagnostics"), headers=bearer(user), timeout=30).json()
    card = httpx.get(server.url(f"/api/live-trading/session/{session_id}"), headers=bearer(user), timeout=30).json()
    gps = card["data"]["gps_data"]
    return {
        "events_history": diagnostics["events_history"],
        "current_state": diagnostics["current_state"],
        "trades": {t["trade_id"]: t for t in gps["trades"]},
        "positions": {(p["position_id"], p["re_entry_num"]): p for p in gps["positions"]},
        "status": card["status"],
    }


def assert_same_state(mine, fresh) -> None:
    assert mine is not None, "the client has no state of the session"
    assert mine["events_history"] == fresh["events_history"]
    assert mine["current_state"] == fresh["current_state"]
    assert mine["trades"] == fresh["trades"]
    assert mine["status"] == fresh["status"]
    assert mine["positions"].keys() == fresh["positions"].keys()
    for key, p in fresh["positions"].items():
        q = mine["positions"][key]
        if p["status"] == "CLOSED":
            assert q == p
        else:
            assert {k: v for k, v in q.items() if k not in MOVING} == {k: v for k, v in p.items() if k not in MOVING}


class BrowserClient:
    """One stream as a browser's ``EventSource`` follows it: when the response ends (its server died, the
    front closed it, ``drop`` cut it) it connects again with the last id it got as ``Last-Event-ID``. Every
    event goes through a strict ``Follower``; ``connections`` counts the responses it opened."""

    def __init__(self, readers, url: str, headers: dict):
        self.readers, self.url, self.headers = readers, url, headers
        self.follower = Follower()
        self.events: list = []
        self.last_event_id: str | None = None
        self.connections = 0
        self.reader = self._open(time.monotonic() + 30)

    def _open(self, deadline: float):
        while True:
            headers = dict(self.headers)
            if self.last_event_id is not None:
                headers["Last-Event-ID"] = self.last_event_id
            self.connections += 1
            try:
                reader = self.readers(self.url, **headers)
            except httpx.TransportError as exc:
                # The connection ended before any answer (a front closing it under load): EventSource
                # treats that as a network error and connects again, as it does after a stream ends.
                failure = f"{type(exc).__name__}: {exc}"
            else:
                if reader.status == 200:
                    return reader
                # A front whose app process just died may answer a moment with 502: the browser's retry.
                failure = f"{reader.status} {reader.body}"
            if time.monotonic() > deadline:
                raise AssertionError(f"no stream from {self.url}: {failure}")
            time.sleep(0.2)

    def drop(self) -> None:
        """Cut the connection (a network blip) and connect again from the last id."""
        self.reader.close()
        self.reader = self._open(time.monotonic() + 30)

    def until(self, predicate, timeout: float) -> None:
        """Apply events until ``predicate(event)`` holds of one; reconnect whenever the stream ends."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"timed out; the last events were {[e.event for e in self.events][-15:]}")
            try:
                event = self.reader.next_or_end(timeout=remaining)
            except queue.Empty:
                continue
            if event is None:  # the response ended: EventSource connects again with its lastEventId
                self.reader = self._open(deadline)
                continue
            self.events.append(event)
            if event.last_event_id is not None:
                self.last_event_id = event.last_event_id
            self.follower.apply(event)  # AssertionError on a duplicate or a gap
            if predicate(event):
                return
