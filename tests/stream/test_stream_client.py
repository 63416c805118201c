"""The JavaScript client as docs/protocol.md shows it ("Following sessions: the JavaScript client"): that
example, taken from the page as written, runs in Chromium against a real server with an API token. Its
stream token expires (STREAM_TOKEN_MAX_AGE=10 here) and a proxy then cuts the connection: the browser's own
retry is refused (401), the client gets a fresh stream token itself and resumes from the last id it saw.
Every stored event must reach it exactly once, in order; at the end its state equals the REST API's, and
every trade's flow the example printed is the trade's flow ids, resolved to their executions."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import httpx
import pytest

from tests.pages.conftest import browser, log_in  # noqa: F401  (browser: Debian's Chromium through Playwright)
from tests.stream.clients import FINAL, assert_same_state, fresh_state
from tests.stream.conftest import api_token, bearer, start_session, stop_sessions
from tests.stream.test_stream_browser import CuttingProxy
from tests.waiting import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

PROTOCOL = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"


def documented_example() -> str:
    """The first ```js block of the client's section of docs/protocol.md."""
    section = PROTOCOL.read_text().split("#### Following sessions: the JavaScript client", 1)[1]
    return re.search(r"```js\n(.*?)```", section, re.S).group(1)


# Before the example: its one free variable, and an EventSource that notes each event as it is dispatched
# to the client (kind, SSE id, session), which is what the client then applies, in that order.
PRELUDE = """
const apiToken = %(token)s;
window.received = [];
window.EventSource = class extends EventSource {
  addEventListener(kind, listener, options) {
    super.addEventListener(kind, (event) => {
      if (kind !== "open" && kind !== "error" && kind !== "heartbeat") {
        const data = JSON.parse(event.data);
        received.push({kind, id: event.lastEventId, session: data.session_id, last: data.last_event_id ?? null,
          token: new URL(this.url).searchParams.get("token")});
      }
      listener(event);
    }, options);
  }
};
"""
AFTER = "\nwindow.client = client;\n"


def session_view(page, session_id) -> dict:
    seen = page.evaluate("""id => { const s = client.sessions.get(id);
      return {eventsHistory: s.eventsHistory, currentState: s.currentState, trades: s.trades,
              positions: Object.values(s.positions), status: s.status, lastEventNumber: s.lastEventNumber}; }""",
                         session_id)
    return {"events_history": seen["eventsHistory"], "current_state": seen["currentState"], "trades": seen["trades"],
            "positions": {(p["position_id"], p["re_entry_num"]): p for p in seen["positions"]},
            "status": seen["status"], "last": seen["lastEventNumber"]}


def stream_cut(message) -> bool:
    """The browser's own note of the cut connection or of its refused retry (a 401), on the stream's URL."""
    return "/api/live-trading/stream/" in (message.location or {}).get("url", "")


def number(event_id: str, session_id: str) -> int:
    for part in event_id.split(","):
        name, _, n = part.rpartition(":")
        if name == f"session-{session_id}":
            return int(n)
    raise AssertionError(f"{event_id!r} does not name {session_id}")


def test_the_documented_example_resumes_with_a_fresh_token_and_ends_with_the_servers_state(
        server_factory, browser, alice, bob, charlie):  # noqa: F811
    server = server_factory(STREAM_TOKEN_MAX_AGE=10, STREAM_RETRY_MS=100, STREAM_HEARTBEAT_MS=500)
    proxy = CuttingProxy(server.port, cuts=0, seed=0)  # forwards; drop_all() cuts what is open
    origin = f"http://127.0.0.1:{proxy.port}"
    html = ('<!doctype html><meta charset="utf-8"><title>example</title>'
            f'<script type="module">{PRELUDE % {"token": json.dumps(api_token(alice))}}'
            f"{documented_example()}{AFTER}</script>")
    context = browser.new_context()
    page = context.new_page()
    logs, problems = [], []
    page.on("console", lambda m: logs.append(m.text) if m.type == "log" else None if stream_cut(m) else problems.append(m.text))
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.route(f"{origin}/example/", lambda route: route.fulfill(status=200, content_type="text/html", body=html))
    start_session(server, bob, speed=1000)  # not alice's: never on her stream
    try:
        page.goto(f"{origin}/example/")
        page.wait_for_function("window.client && client.source.readyState === 1", timeout=30_000)
        issued = time.monotonic()
        session_id = start_session(server, alice, speed=1000)
        page.wait_for_function("received.length > 0", timeout=30_000)
        wait_for(lambda: time.monotonic() > issued + 10.5, timeout=30, message="the first stream token to expire")
        running = httpx.get(server.url(f"/api/live-trading/session/{session_id}"), headers=bearer(alice), timeout=30)
        assert running.json()["status"] not in FINAL, "the session ended before the cut: nothing to resume"
        proxy.drop_all()
        wait_for(lambda: httpx.get(server.url(f"/api/live-trading/session/{session_id}"), headers=bearer(alice),
                                   timeout=30).json()["status"] in FINAL, timeout=180, interval=0.5,
                 message="the session to end")
        page.wait_for_function(f"client.sessions.get({json.dumps(session_id)})?.status === 'completed'",
                               timeout=60_000)
        page.evaluate("client.settled()")
        trades = fresh_state(server, alice, session_id)["trades"]
        wait_for(lambda: len([m for m in logs if m.startswith("flow ")]) >= len(trades), timeout=30,
                 message="the example to print every trade's flow")
        received = page.evaluate("received")
        reopened = page.evaluate("client.reopened")
        ancestry = page.evaluate("""async id => {
          const {ancestry} = await import("/static/livesim/stream-client.js");
          const s = client.sessions.get(id);
          return Object.values(s.trades).map((t) => [t.exit_flow_ids, ancestry(s.eventsHistory, t.exit_flow_ids.at(-1))]);
        }""", session_id)
        mine = session_view(page, session_id)
    finally:
        context.close()
        proxy.close()
        for user in (alice, bob):
            stop_sessions(server, user)

    assert problems == [], problems  # no console.warn from onError, no page error
    # The cut came after the token had expired: the browser's retry was refused, and the client reopened
    # with a new stream token (each connection's token is in its URL).
    assert reopened >= 1
    tokens = list(dict.fromkeys(e["token"] for e in received))
    assert len(tokens) >= 2, "every event came on the first connection: the resume path was not taken"
    assert {e["session"] for e in received} == {session_id}, "bob's session reached alice's stream"

    # Exactly once, in order: each stored event's number is the one after the last the client had (an
    # initial_state sets where it stands), from the first event to the session's last.
    have = None
    for e in received:
        if e["kind"] == "initial_state":
            have = e["last"]
        elif e["kind"] != "tick_update":  # a tick has no id (EventSource keeps the last one it saw)
            n = number(e["id"], session_id)
            assert n == (have or 0) + 1, (e, have)
            have = n
    final = fresh_state(server, charlie, session_id)  # staff reads alice's session too
    card = httpx.get(server.url(f"/api/live-trading/session/{session_id}"), headers=bearer(alice), timeout=30).json()
    assert have == mine["last"] == card["last_event_id"]
    assert_same_state({k: v for k, v in mine.items() if k != "last"}, final)

    # The example printed each trade's flow: its exit flow ids' executions, by node name, none missing;
    # and the parent links of the last execution lead back through the same chain.
    assert trades, "the straddle trades on the test day: a comparison of nothing proves nothing"
    history = final["events_history"]
    for trade in trades.values():
        names = " → ".join(history[i]["node_name"] for i in trade["exit_flow_ids"])
        assert f"flow {trade['trade_id']}: {names}" in logs
    assert all("missing" not in m for m in logs if m.startswith("flow "))
    for ids, chain in ancestry:
        assert chain == ids


def test_connect_with_the_login_cookie_follows_the_users_sessions_and_resolves_flows(
        server_factory, browser, alice, bob):  # noqa: F811
    server = server_factory()
    context = browser.new_context()
    page = context.new_page()
    try:
        log_in(page, server, alice)
        # No token, no user id: the client asks /api/me whose stream to follow, and the cookie opens it.
        page.evaluate("""async () => {
          const {connect} = await import("/static/livesim/stream-client.js");
          window.client = await connect({onError: (error, kind) => { window.failed = [kind, String(error)]; }});
        }""")
        # The pages' CSP forbids eval, which wait_for_function's strings need: poll with evaluate.
        wait_for(lambda: page.evaluate("() => client.source.readyState") == 1, timeout=30, message="the stream to open")
        start_session(server, bob, speed=1000)
        session_id = start_session(server, alice, speed=1000)
        wait_for(lambda: page.evaluate("id => client.sessions.get(id)?.status", session_id) == "completed",
                 timeout=180, interval=0.5, message="the client to see the session complete")
        page.evaluate("() => client.settled()")
        mine = session_view(page, session_id)
        steps = page.evaluate("""async id => {
          const s = client.sessions.get(id);
          return Promise.all(Object.values(s.trades).map(async (t) =>
            [t.exit_flow_ids, (await client.flow(id, t)).map((step) => step.execution?.execution_id ?? null)]));
        }""", session_id)
        sessions = page.evaluate("() => [...client.sessions.keys()]")
        failed = page.evaluate("() => window.failed ?? null")
    finally:
        context.close()
        stop_sessions(server, alice)
        stop_sessions(server, bob)
    assert failed is None
    assert sessions == [session_id]
    assert_same_state({k: v for k, v in mine.items() if k != "last"}, fresh_state(server, alice, session_id))
    assert steps and all(ids == resolved for ids, resolved in steps)
