"""The seeds' own client code against a real server, in Chromium (issue 17, "Conformance with the seeds").

Seeds 000, 003 and 004 each show client code: 000 caches node events and resolves a trade's flow ids
from that cache (with its handling of missing events), 003 reduces ``initial_state``, ``tick_update``,
node events and ``trade_update`` into a state, 004 connects to the user's stream, decodes the gzip
fields and updates a strategy card. They are transcribed from TypeScript to JavaScript in this folder
(``seed000.js``, ``seed003.js``, ``seed004.js``; ``ui.js`` holds the UI functions the seeds call but
leave undefined), served to a test page by this test (they are not part of the product's static
files), and run side by side while one whole session runs at max speed. At the end, each client's
state must equal what the REST API says of the session. A second seed 000 joins late, as seed 000's
"Missing Events in Cache" scenario has it: its missing-event handling must name exactly the executions
it never got.

The seeds' code is changed only where ../shared/spec/README.md decides otherwise (each file's header
says so too; pure transcription, such as React state becoming a variable, is listed there):

- seed 000: README rules 1, 2, 3: ``decompressAndParse`` (undefined in the seed) reads the envelope's
  gzip + base64 fields: ``node_events``' new executions are ``diagnostics.events_history`` (rule 2, in
  004's envelope), ``trade_update``'s ``{trade, summary}`` is its ``trades`` field (rule 3).
- seed 000: rule 8: the seed names no stream; it opens the user's stream (``/api/live-trading/stream/{user_id}``).
- seed 003: rule 8: ``/api/v2/live/stream/{session_id}`` (start's ``stream_url``) instead of
  ``/api/backtest/{session_id}/stream``.
- seed 003: rule 4: an event's position is its SSE id (``e.lastEventId``), not ``data.event_id``.
- seed 003: rule 1: the node event is named ``node_events``, not ``node_event``.
- seed 003: rules 2 and 3: ``node_events``' gzip + base64 ``diagnostics`` holds the new
  ``events_history`` entries and the changed ``current_state`` entries, merged where the seed adds one
  ``data`` under ``data.execution_id``.
- seed 003: rule 3: ``trade_update``'s ``{trade, summary}`` is its gzip + base64 ``trades`` field.
- seed 004: rule 5: a tick's fields are at the top of its data (003's shape), not under ``tick_state``;
  its changed LTPs are ``ltp_updates``, and it carries no ``candle_data``.

What the server changed for them (issue 17): ``tick_update.open_positions`` is the seeds' list of
objects, and a snapshot's ``trades`` is the ``{summary, trades}`` object seed 003 appends to.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from tests.pages.conftest import screenshots
from tests.pages.runs import rest, strategy_for
from tests.stream.conftest import bearer
from tests.waiting import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

HERE = Path(__file__).resolve().parent
PAKO = HERE.parents[1] / "node_modules" / "pako" / "dist" / "pako.min.js"  # pako 1.0.11 (package.json)
FILES = {"index.html": "text/html", "page.js": "text/javascript", "ui.js": "text/javascript",
         "seed000.js": "text/javascript", "seed003.js": "text/javascript", "seed004.js": "text/javascript"}

if not PAKO.exists():
    pytest.skip("pako is not installed (npm ci): seeds 003 and 004 decode gzip with it", allow_module_level=True)


def serve_conformance_page(page, server) -> str:
    """Answer ``/conformance/*`` on the server's origin from this folder, in this tab only (so the seeds'
    relative URLs and the session cookie work as for a page the product served)."""
    def handle(route):
        name = route.request.url.split("/conformance/", 1)[1].split("?", 1)[0]
        if name == "pako.min.js":
            route.fulfill(status=200, content_type="text/javascript", body=PAKO.read_text())
        elif name in FILES:
            route.fulfill(status=200, content_type=FILES[name], body=(HERE / name).read_text())
        else:
            route.fulfill(status=404, content_type="text/plain", body="not a conformance file")

    page.route(server.url("/conformance/**"), handle)
    return server.url("/conformance/index.html")


def post(server, user, path: str, body: dict | None = None) -> dict:
    r = httpx.post(server.url(path), json=body, headers=bearer(user), timeout=30)
    assert r.status_code in (200, 201), (path, r.status_code, r.text)
    return r.json()


def state(page) -> dict:
    return page.evaluate("conformance.state()")


def test_the_seeds_clients_end_a_whole_session_with_the_servers_state(pages_server, open_page, alice):
    page = open_page(alice, path=None)
    page.goto(serve_conformance_page(page, pages_server))
    page.wait_for_function("window.conformance !== undefined")
    # Seed 000 follows the user's stream from before the session exists: it gets every node event.
    page.evaluate("u => conformance.start000(u)", alice.user_id)
    page.wait_for_function("conformance.state().seed000.open === 1")

    strategy, broker = strategy_for(alice)
    started = post(pages_server, alice, "/api/v2/live/start",
                   {"strategy_id": str(strategy.id), "broker_connection_id": str(broker.id), "date": "2024-10-29",
                    "speed_multiplier": 1})
    session_id = started["session_id"]
    assert started["stream_url"] == f"/api/v2/live/stream/{session_id}"
    # Paused once the strategy controller has run (09:15:00): what joins now starts with an
    # initial_state holding that execution, which every trade's flow names.
    page.wait_for_function("Object.keys(conformance.state().seed000.eventsHistory).length > 0")
    post(pages_server, alice, f"/api/v2/live/pause/{session_id}")
    post(pages_server, alice, f"/api/v2/live/speed/{session_id}", {"speed_multiplier": "max"})
    # Seeds 003 and 004 connect to the paused session: each gets its initial_state first. So does a
    # second seed 000, which has no initial_state handler: its missing-event handling must report
    # exactly the executions from before it joined.
    page.evaluate("s => conformance.start000late(s)", session_id)
    page.evaluate("s => conformance.start003(s)", session_id)
    page.evaluate("u => conformance.start004(u)", alice.user_id)
    page.wait_for_function("conformance.state().seed003.diagnostics !== null")
    page.wait_for_function(f"document.querySelector('[data-session-id=\"{session_id}\"]') !== null")
    page.wait_for_function("conformance.state().seed004.open === 1")
    page.wait_for_function("conformance.state().lateSeed000.open === 1")
    initial = state(page)["seed003"]
    post(pages_server, alice, f"/api/v2/live/resume/{session_id}")

    card = f"/api/live-trading/session/{session_id}"
    wait_for(lambda: rest(pages_server, alice, card)["status"] == "completed", timeout=180, interval=0.3,
             message="the session to complete")
    final = rest(pages_server, alice, card)
    diagnostics = rest(pages_server, alice, f"/api/session/{session_id}/diagnostics")
    trades, summary, pnl = final["data"]["gps_data"]["trades"], final["data"]["summary"], final["data"]["gps_data"]["pnl"]
    assert trades, "the straddle trades on the test day: a comparison of nothing proves nothing"
    # Everything the session published has reached the clients once the last tick (100%) and trade have.
    wait_for(lambda: (s := state(page)) and len(s["seed000"]["trades"]) == len(trades)
             and len(s["seed003"]["trades"]["trades"]) == len(trades)
             and len(s["lateSeed000"]["trades"]) == len(trades)
             and len(s["ui"]["trades"].get(session_id, [])) == len(trades)
             and s["seed003"]["currentTick"]["progress"]["progress_percentage"] == 100
             and page.locator(f'[data-session-id="{session_id}"] .progress-bar').evaluate("e => e.style.width") == "100%",
             timeout=60, interval=0.3, message="every client to have the whole session")
    page.wait_for_timeout(1200)  # seed 000 re-checks missing flow ids 1 s after a trade (its own setTimeout)
    seen = state(page)

    # Seed 000: the cache holds every node execution, each trade's flows resolve completely, the
    # trades and the last summary are the server's, and nothing was reported missing.
    s000 = seen["seed000"]
    assert s000["eventsHistory"] == diagnostics["events_history"]
    assert s000["trades"] == trades
    assert seen["ui"]["summaries"][-1] == summary
    assert s000["warnings"] == [] and seen["ui"]["reconnects"] == 0
    # renderFlowDiagram is the page's, shared by both seed 000 clients: the late one's flows name
    # executions it never got (null here), the first one's none.
    complete = [f for f in seen["ui"]["flows"] if None not in f["entry"] + (f["exit"] or [])]
    assert len(complete) == len(trades)
    for flow, trade in zip(complete, trades, strict=True):
        assert [e["execution_id"] for e in flow["entry"]] == trade["entry_flow_ids"]
        assert [e["execution_id"] for e in flow["exit"]] == trade["exit_flow_ids"]

    # The late seed 000: the same trades; the executions from before it joined are reported missing,
    # per trade, at once for the entry flow and again 1 s later for the whole flow (still missing).
    late = seen["lateSeed000"]
    before = set(initial["diagnostics"]["events_history"])
    assert before, "the session was paused after its first node execution"
    assert late["trades"] == trades
    assert set(late["eventsHistory"]) == set(diagnostics["events_history"]) - before
    expected = []
    for trade in trades:
        missing = [i for i in trade["entry_flow_ids"] if i in before]
        if missing:
            expected.append(f"⚠️ Missing events: {', '.join(missing)}")
        if any(i in before for i in trade["entry_flow_ids"] + trade["exit_flow_ids"]):
            expected.append("Some events still missing")
    assert expected, "every trade's entry flow names the strategy controller's first execution"
    assert sorted(late["warnings"]) == sorted(expected)

    # Seed 003: its reducer's diagnostics, trades and summary are the server's; its last tick is the
    # session's end: nothing open, the P&L the card says.
    s003 = seen["seed003"]
    assert s003["diagnostics"] == {"events_history": diagnostics["events_history"],
                                   "current_state": diagnostics["current_state"]}
    assert s003["trades"]["trades"] == trades and s003["trades"]["summary"] == summary
    # The reducer has no handler for the end (003 names it backtest_complete and gives none): the last
    # event it handled is the one before session_complete, the session's last.
    assert s003["lastEventId"] == f"session-{session_id}:{final['last_event_id'] - 1}"
    tick = s003["currentTick"]
    assert tick["open_positions"] == [] and tick["pnl_summary"]["open_trades"] == 0
    for name in ("realized_pnl", "unrealized_pnl", "total_pnl"):
        assert Decimal(str(tick["pnl_summary"][name])) == Decimal(pnl[name]), name
    assert tick["pnl_summary"]["closed_trades"] == pnl["closed_trades"] == len(trades)

    # Seed 004: the card shows the final P&L and no open position; the trades and node executions it
    # was handed are the server's (its initial_state handler only logs, so the executions before it
    # connected are those of 003's initial_state, taken from the same paused session).
    shown = page.locator(f'[data-session-id="{session_id}"]')
    for cls, name in (("total-pnl", "total_pnl"), ("realized-pnl", "realized_pnl"), ("unrealized-pnl", "unrealized_pnl")):
        assert shown.locator(f".{cls}").text_content() == page.evaluate("x => conformance.formatCurrency(x)", pnl[name])
    assert shown.locator(".open-positions").text_content() == "0"
    assert shown.locator(".positions-list").inner_html() == ""
    handed = seen["ui"]["trades"][session_id]
    assert [t["trade"] for t in handed] == trades and handed[-1]["summary"] == summary
    status = seen["ui"]["nodeStatus"][session_id]
    assert {**initial["diagnostics"]["events_history"], **status["events_history"]} == diagnostics["events_history"]
    assert {**initial["diagnostics"]["current_state"], **status["current_state"]} == diagnostics["current_state"]
    screenshots(page, "conformance-seed-clients")


def test_the_conformance_page_shows_nothing_of_another_users_session(pages_server, open_page, alice, bob, charlie):
    strategy, broker = strategy_for(alice)
    started = post(pages_server, alice, "/api/v2/live/start",
                   {"strategy_id": str(strategy.id), "broker_connection_id": str(broker.id), "date": "2024-10-29",
                    "speed_multiplier": 1})
    session_id = started["session_id"]
    try:
        page = open_page(bob, path=None)
        page._expect_4xx = True  # the seeds' streams on alice's session and stream are refused
        page.goto(serve_conformance_page(page, pages_server))
        page.wait_for_function("window.conformance !== undefined")
        page.evaluate("s => conformance.start003(s)", session_id)
        page.evaluate("u => conformance.start000(u)", alice.user_id)
        # EventSource gives up on a 404 (readyState 2, CLOSED): neither client got anything of alice's.
        page.wait_for_function("conformance.state().seed000.open === 2 && conformance.state().seed003.open === 2")
        seen = state(page)
        assert seen["seed003"]["diagnostics"] is None and seen["seed003"]["currentTick"] is None
        assert seen["seed000"]["trades"] == []
        # Seed 000's error handler then "rebuilds" its cache from a fetch it never reads as JSON (the
        # seed's own slip, kept): the cache ends empty, never with alice's executions.
        wait_for(lambda: state(page)["ui"]["reconnects"] >= 1, timeout=10, message="seed 000's error handler")
        assert not state(page)["seed000"]["eventsHistory"]
        # staff may follow it (docs/protocol.md, "Who may open a stream")
        staff = open_page(charlie, path=None)
        staff.goto(serve_conformance_page(staff, pages_server))
        staff.wait_for_function("window.conformance !== undefined")
        staff.evaluate("s => conformance.start003(s)", session_id)
        staff.wait_for_function("conformance.state().seed003.diagnostics !== null")
    finally:
        post(pages_server, alice, f"/api/v2/live/stop/{session_id}")
