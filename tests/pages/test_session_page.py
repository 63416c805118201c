"""The session page (/sessions/<id>) in a real Chromium against a real server and real sessions: the chart
shows exactly the position events so far and never runs ahead of the session's exchange time, a trade's
flow diagram shows exactly its flow ids, the controls work, a reload and an offline spell end with the
server's state, another user gets a 404 while staff may look, and a finished session reads from the
database."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import httpx
import pytest

from sessions_app.models import PositionChange, SimulationSession
from tests.conftest import create_user
from tests.pages.cards import inr, shown
from tests.pages.conftest import PASSWORDS, SCREENSHOTS, screenshots
from tests.stream.conftest import bearer, setup_for, start_session, stop_sessions
from tests.waiting import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

ENDED = ("completed", "stopped", "failed", "interrupted")


def wait_js(page, expression: str, timeout: float = 30):
    """Wait until ``expression`` is true in the page (page.wait_for_function evaluates strings with eval,
    which the pages' CSP forbids; page.evaluate goes through the debugger protocol)."""
    return wait_for(lambda: page.evaluate(expression), timeout=timeout, interval=0.1, message=expression)


def wait_equal(actual, expected, message: str, timeout: float = 30):
    """Wait until ``actual()`` equals ``expected()``; on timeout, say what each last was."""
    seen = {}

    def same():
        seen["actual"], seen["expected"] = actual(), expected()
        return seen["actual"] == seen["expected"]

    try:
        wait_for(same, timeout=timeout, interval=0.1, message=message)
    except AssertionError as e:
        raise AssertionError(f"{e}: page {seen.get('actual')} != server {seen.get('expected')}") from None


def rest(server, user, path):
    r = httpx.get(server.url(path), headers=bearer(user), timeout=30)
    assert r.status_code == 200, (path, r.status_code, r.text[:300])
    return r.json()


def all_trades(server, user, session_id) -> list[dict]:
    out, url = [], f"/api/sessions/{session_id}/trades"
    while url:
        body = rest(server, user, url.replace(server.base, ""))
        out += body["results"]
        url = body["next"]
    return out


def expected_markers(session_id) -> list[tuple]:
    """The position events the server wrote, as (action kind, epoch seconds, quantity), in order: an
    entry per position, an exit per partial or full close (independent of the page's own derivation)."""
    rows = PositionChange.objects.filter(session_id=session_id).order_by("seq")
    return sorted(("entry" if r.action == "entry" else "exit", int(r.timestamp.timestamp()), r.payload["quantity"])
                  for r in rows)


def page_markers(page) -> list[tuple]:
    """The chart's markers as (action, epoch, quantity), once each is drawn on its candle."""
    chart = page.evaluate("window.sessionPage.chart()")
    if chart["drawnMarkers"] != len(chart["markers"]):
        return None  # some wait for their candle
    return sorted((m["action"], m["epoch"], m["quantity"]) for m in chart["markers"])


def table_trades(page) -> dict[str, str]:
    return page.evaluate("""Object.fromEntries([...document.querySelectorAll('#trades-table tbody tr')]
        .map((tr) => [tr.dataset.tradeId, tr.dataset.netPnl]))""")


def table_positions(page) -> dict[str, str]:
    return page.evaluate("""Object.fromEntries([...document.querySelectorAll('#positions-table tbody tr')]
        .map((tr) => [tr.dataset.key, tr.dataset.status]))""")


def rest_positions(server, user, session_id) -> dict[str, str]:
    """Every position by its key and status: the open ones as the REST session lists them, and the closed
    ones, those of the REST trades that no longer have an open part."""
    state = rest(server, user, f"/api/live-trading/session/{session_id}")
    out = {f"{p['position_id']}#{p['re_entry_num']}": p["status"] for p in state["data"]["gps_data"]["positions"]}
    for t in all_trades(server, user, session_id):
        out.setdefault(f"{t['position_id']}#{t['re_entry_num']}", "CLOSED")
    return out


def wait_status(server, user, session_id, statuses, timeout=60):
    return wait_for(lambda: rest(server, user, f"/api/live-trading/session/{session_id}")["status"] in statuses,
                    timeout=timeout, message=f"session {session_id} to be {statuses}")


def check_flow(page, trade):
    """Open the trade's flow from its row: the steps are exactly its flow ids, in order, none missing."""
    row = page.locator(f'#trades-table tr[data-trade-id="{trade["trade_id"]}"]')
    row.get_by_role("button", name="Flow").click()
    dialog = page.locator("#flow-dialog")
    wait_js(page, "document.getElementById('flow-dialog').dataset.ready === 'true'")
    ids = dialog.locator("[data-execution-id]").evaluate_all("els => els.map((e) => e.dataset.executionId)")
    assert ids == trade["exit_flow_ids"]
    assert dialog.locator(".flow-step.missing").count() == 0
    passed = dialog.locator("svg .flow-node.passed").evaluate_all("els => els.map((e) => e.dataset.node)")
    executions = {e["execution_id"]: e for e in page.evaluate("Object.values(window.sessionPage.view.history)")}
    assert set(passed) == {executions[i]["node_id"] for i in trade["exit_flow_ids"]}


def test_a_live_session_page_follows_the_session_and_its_controls(open_page, pages_server, alice):
    session_id = start_session(pages_server, alice, speed=120)
    try:
        page = open_page(alice, f"/sessions/{session_id}")
        page.on("dialog", lambda d: d.accept())
        assert page.get_by_role("heading", name="NIFTY short straddle").is_visible()
        # The straddle enters at 09:20: both legs show, and the chart marks both entries.
        wait_js(page, "document.querySelectorAll('#positions-table tbody tr').length >= 2")

        page.get_by_role("button", name="Pause").click()
        wait_status(pages_server, alice, session_id, ("paused",))
        wait_js(page, "document.getElementById('session-status').textContent === 'paused'")
        state = rest(pages_server, alice, f"/api/live-trading/session/{session_id}")
        wait_js(page, "window.sessionPage.view.historyLoaded >= 1")
        wait_equal(lambda: page_markers(page) or page.evaluate("window.sessionPage.chart()"),
                   lambda: expected_markers(session_id), "markers = position events")
        chart = page.evaluate("window.sessionPage.chart()")
        assert chart["candles"] > 0
        exchange_time = int(datetime.fromisoformat(state["data"]["timestamp"]).timestamp())
        # The last candle opened at or before the session's exchange time (it may still be forming), and
        # the page's own exchange time is the server's.
        assert chart["lastCandle"] <= exchange_time
        # The page's clock comes from tick_update, sent at most 4 times a second (and not built between),
        # so a paused session's last ticks may never reach it: behind the server's, never ahead.
        assert chart["exchangeTime"] <= exchange_time
        screenshots(page, "session-live")

        page.get_by_label("Speed").select_option("300")
        page.get_by_role("button", name="Set speed").click()
        wait_for(lambda: rest(pages_server, alice, f"/api/live-trading/session/{session_id}")["speed_multiplier"] == 300,
                 message="speed 300")
        page.get_by_role("button", name="Resume").click()
        wait_status(pages_server, alice, session_id, ("running",))

        # Ticks change the LTP cells of the rows in place: a row element's own LTP text changes. (A position
        # event rebuilds the table, so rows are followed by element, and a new element starts afresh.)
        page.evaluate("""() => {
            window.__ticked = false;
            const seen = new Map();  // row element -> its LTP text when first seen
            const look = () => {
                for (const r of document.querySelectorAll('#positions-table tbody tr:not([data-status="CLOSED"])')) {
                    const text = r.querySelector('[data-cell="current_price"]').textContent;
                    if (!seen.has(r)) seen.set(r, text);
                    else if (seen.get(r) !== text) window.__ticked = true;
                }
            };
            look();
            new MutationObserver(look).observe(document.getElementById('positions-table'),
                                               {subtree: true, characterData: true, childList: true});
        }""")
        wait_js(page, "window.__ticked === true")

        # Offline for a while, then back: the page catches up with the server.
        page.context.set_offline(True)
        wait_js(page, "document.body.dataset.connection === 'offline'")
        assert page.locator("#connection-banner").is_visible()
        wait_for(lambda: PositionChange.objects.filter(session_id=session_id).count() >= 3, timeout=120,
                 message="a position event while offline")
        page.context.set_offline(False)
        wait_js(page, "document.body.dataset.connection === 'online'", timeout=30)
        assert page.evaluate("window.sessionPage.client.reopened") >= 1  # a new connection, from the last id
        assert page.locator("#connection-banner").is_hidden()
        # Paused, so the server's state holds still: the page has caught up with it.
        page.get_by_role("button", name="Pause").click()
        wait_status(pages_server, alice, session_id, ("paused",))
        wait_for(lambda: table_trades(page) == {t["trade_id"]: t["net_pnl"]
                                                for t in all_trades(pages_server, alice, session_id)},
                 message="trades table = REST trades after the offline spell")
        assert table_positions(page) == rest_positions(pages_server, alice, session_id)
        wait_equal(lambda: page_markers(page), lambda: expected_markers(session_id), "markers after offline")

        # A reload mid-session.
        page.reload()
        wait_js(page, "window.sessionPage && window.sessionPage.view.events.initial >= 1")

        assert table_positions(page) == rest_positions(pages_server, alice, session_id)
        assert table_trades(page) == {t["trade_id"]: t["net_pnl"] for t in all_trades(pages_server, alice, session_id)}
        page.get_by_role("button", name="Resume").click()
        wait_status(pages_server, alice, session_id, ("running",))
        page.get_by_label("Speed").select_option("max")
        page.get_by_role("button", name="Set speed").click()
        wait_status(pages_server, alice, session_id, ENDED, timeout=180)
        wait_js(page, "['completed','stopped'].includes(document.getElementById('session-status').textContent)", timeout=30)
        # Ended, the page shows its report first (tests/pages/test_session_report.py); the replay is a tab away.
        wait_js(page, "window.sessionPage.report().shown")
        page.get_by_role("tab", name="Replay").click()
        trades = all_trades(pages_server, alice, session_id)
        assert trades, "the straddle trades on 2024-10-29"
        wait_for(lambda: table_trades(page) == {t["trade_id"]: t["net_pnl"] for t in trades},
                 message="trades table = REST trades")
        assert table_positions(page) == rest_positions(pages_server, alice, session_id)
        wait_equal(lambda: page_markers(page), lambda: expected_markers(session_id), "markers = position events")
        check_flow(page, trades[0])
        page.locator("#flow-close").click()

        # 15-minute and 1-hour bars, aggregated in the page, equal the server's own candles (1h: 09:15-10:15
        # ... and the last 15:15-15:30, on the server's grid).
        for timeframe in ("15m", "1h"):
            page.get_by_label("Timeframe").select_option(timeframe)
            server_bars = rest(pages_server, alice, f"/api/sessions/{session_id}/candles?timeframe={timeframe}")["candles"]
            chart = page.evaluate("window.sessionPage.chart()")
            assert (chart["timeframe"], chart["bars"]) == (timeframe, len(server_bars))
            last = server_bars[-1]
            assert chart["lastBar"] == {k: last[k] for k in ("time", "open", "high", "low", "close")}
    finally:
        stop_sessions(pages_server, alice)


def test_stop_from_the_page_and_the_finished_page_from_the_database(open_page, pages_server, alice):
    session_id = start_session(pages_server, alice, speed=300)
    try:
        page = open_page(alice, f"/sessions/{session_id}")
        page.on("dialog", lambda d: d.accept())
        wait_js(page, "document.querySelectorAll('#trades-table tbody tr').length >= 1", timeout=60)
        page.get_by_role("button", name="Stop").click()
        wait_status(pages_server, alice, session_id, ("stopped",))
        wait_js(page, "document.getElementById('session-status').textContent === 'stopped'")
        assert page.get_by_role("button", name="Pause").is_disabled()
    finally:
        stop_sessions(pages_server, alice)

    # A fresh tab on the ended session: everything from the database.
    assert SimulationSession.objects.get(pk=session_id).status == "stopped"
    review = open_page(alice, f"/sessions/{session_id}")
    review.get_by_role("tab", name="Replay").click()  # an ended session opens on its report
    trades = all_trades(pages_server, alice, session_id)
    wait_js(review, "window.sessionPage.view.events.initial >= 1")
    wait_for(lambda: table_trades(review) == {t["trade_id"]: t["net_pnl"] for t in trades}, message="trades")
    wait_for(lambda: review.evaluate("window.sessionPage.chart().candles") > 0, message="candles of a finished session")
    wait_for(lambda: review.evaluate("window.sessionPage.pnl().points") > 0, message="P&L curve of a finished session")
    assert page_markers(review) == expected_markers(session_id)
    assert review.get_by_role("link", name="Export CSV").get_attribute("href") == \
        f"/api/sessions/{session_id}/trades?export=csv"
    # The node-event log, filtered by node and event type, oldest first, is the diagnostics' own list.
    history = list(rest(pages_server, alice, f"/api/session/{session_id}/diagnostics")["events_history"].values())
    assert review.evaluate("window.sessionPage.logCount()") == len(history)
    rows = 'rows => rows.map((r) => r.dataset.executionId)'
    review.get_by_label("Node", exact=True).select_option("entry-pe")
    review.get_by_label("Order").select_option("oldest")
    of_node = [e["execution_id"] for e in history if e["node_id"] == "entry-pe"]
    assert len(of_node) >= 2  # the PE leg's entry and its stop (the first trade that day)
    wait_for(lambda: review.locator("#log-table tbody tr").evaluate_all(rows) == of_node, message="one node's log")
    review.get_by_label("Order").select_option("newest")
    wait_for(lambda: review.locator("#log-table tbody tr").evaluate_all(rows) == of_node[::-1], message="newest first")
    review.get_by_label("Node", exact=True).select_option("")
    review.get_by_label("Event type").select_option("order_placed")
    orders = [e["execution_id"] for e in history if e["event_type"] == "order_placed"]
    wait_for(lambda: review.locator("#log-table tbody tr").evaluate_all(rows) == orders[::-1], message="one type's log")
    review.get_by_label("Event type").select_option("")
    # Narrowed to a phone's width: every bar still in view (a resize keeps the bar spacing, which pushed
    # the morning's bars and their markers off the left edge), and each logged event a card whose
    # details take the row's width rather than a fifth of it.
    review.set_viewport_size({"width": 390, "height": 900})
    wait_for(lambda: (lambda v: v is not None and v["from"] <= 0.5)(
        review.evaluate("window.sessionPage.chart().visibleBars")), message="every bar in view at 390 px")
    detail, table = (review.locator(s).first.bounding_box() for s in ("#log-table td.log-detail", "#log-table"))
    assert detail["width"] >= table["width"] * 0.9, (detail, table)
    review.set_viewport_size({"width": 1280, "height": 900})
    screenshots(review, "session-finished")
    check_flow(review, trades[0])
    screenshots(review, "session-flow")
    review.locator("#flow-close").click()

    # Opened on a phone: the dialog fits the screen and scrolls inside, with the trade's path in view.
    phone = open_page(alice, f"/sessions/{session_id}", width=390)
    phone.get_by_role("tab", name="Replay").click()
    wait_js(phone, "window.sessionPage.view.events.initial >= 1")
    check_flow(phone, trades[0])
    assert phone.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0
    box = phone.locator("#flow-dialog").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    hot = phone.locator("#flow-graph .flow-node.passed").first.bounding_box()
    assert hot["x"] >= 0 and hot["x"] + hot["width"] <= 390  # the path is in view, not scrolled away
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    phone.screenshot(path=str(SCREENSHOTS / "session-flow-phone-390.png"))

    # An execution the page does not hold is fetched from the diagnostics endpoint; one the server does not
    # know either is shown as missing, in its place, not dropped.
    ids = trades[0]["exit_flow_ids"]
    unknown = "exec_nowhere_20241029_093000_000000"
    review.evaluate("""([trade, dropped, unknown]) => {
        const view = window.sessionPage.view;
        delete view.history[dropped];
        view.trades[trade].exit_flow_ids = [...view.trades[trade].exit_flow_ids, unknown];
    }""", [trades[0]["trade_id"], ids[1], unknown])
    with review.expect_request(lambda r: r.url.endswith(f"/api/session/{session_id}/diagnostics")):
        review.locator(f'#trades-table tr[data-trade-id="{trades[0]["trade_id"]}"]').get_by_role("button", name="Flow").click()
    wait_js(review, "document.getElementById('flow-dialog').dataset.ready === 'true'")
    steps = review.locator("#flow-steps [data-execution-id]")
    assert steps.evaluate_all("els => els.map((e) => e.dataset.executionId)") == [*ids, unknown]
    assert review.locator("#flow-steps .missing").evaluate_all("els => els.map((e) => e.dataset.executionId)") == [unknown]


def test_another_users_session_is_404_and_staff_may_view_it(open_page, pages_server, alice, bob, charlie,
                                                           django_user_model):
    session_id = start_session(pages_server, alice, speed=300)
    try:
        other = open_page(bob, None)
        other._expect_4xx = True
        response = other.goto(pages_server.url(f"/sessions/{session_id}"))
        assert response.status == 404
        assert "NIFTY short straddle" not in other.content()
        staff = open_page(charlie, f"/sessions/{session_id}")
        assert staff.get_by_role("heading", name="NIFTY short straddle").is_visible()
        wait_js(staff, "window.sessionPage.view.events.initial >= 1")
        # charlie is a superuser, so holds the permission the control endpoints ask for.
        assert staff.get_by_role("button", name="Stop").is_visible()
        # Staff without that permission may look, and get no controls (the endpoints would refuse them).
        PASSWORDS["dave"] = "dave-password-1"
        dave = create_user(django_user_model, "dave", PASSWORDS["dave"], is_staff=True)
        viewer = open_page(dave, f"/sessions/{session_id}")
        assert viewer.get_by_role("heading", name="NIFTY short straddle").is_visible()
        assert viewer.get_by_role("button", name="Stop").count() == 0
    finally:
        stop_sessions(pages_server, alice)


def test_a_session_that_ends_between_two_ticks_shows_the_servers_final_figures(open_page, pages_server, alice):
    """Ticks reach the page at most 4 a second: at max speed the end-of-day square-off (and a second day)
    come after the last tick the page gets, so its figures must come from the server once the session ends."""
    session_id = start_session(pages_server, alice, speed=1)
    try:
        page = open_page(alice, f"/sessions/{session_id}")
        wait_js(page, "window.sessionPage.view.events.initial >= 1")
        r = httpx.post(pages_server.url(f"/api/v2/live/speed/{session_id}"), json={"speed_multiplier": "max"},
                       headers=bearer(alice), timeout=30)
        assert r.status_code == 200, r.text
        wait_status(pages_server, alice, session_id, ENDED, timeout=180)
        wait_js(page, "['completed','stopped'].includes(document.getElementById('session-status').textContent)")
        state = rest(pages_server, alice, f"/api/live-trading/session/{session_id}")
        pnl = state["data"]["gps_data"]["pnl"]
        expected = {"net": inr(pnl["total_pnl"]), "realized": inr(pnl["realized_pnl"]),
                    "unrealized": inr(pnl["unrealized_pnl"]),
                    "clock": f'{state["data"]["timestamp"][11:19]} IST'}  # "2024-10-29T15:29:59+05:30"
        figures = """(() => ({net: document.querySelector('[data-figure="net"]').textContent,
            realized: document.querySelector('[data-figure="realized"]').textContent,
            unrealized: document.querySelector('[data-figure="unrealized"]').textContent,
            clock: document.getElementById('session-clock').textContent}))()"""
        wait_equal(lambda: page.evaluate(figures), lambda: expected, "final figures = the server's")
    finally:
        stop_sessions(pages_server, alice)


def test_a_session_that_ends_before_the_page_streams_opens_its_report(open_page, pages_server, alice):
    """The page loads a running session, and the session ends before the page's stream connects (at max
    speed, or while the browser was away): the stream's initial_state says it ended and sends no
    session_complete, and the page still fetches the report and shows its tab first (seen in CI: a
    positional week at max speed ended the page on its Replay tab with no report)."""
    session_id = start_session(pages_server, alice, speed=1)
    try:
        page = open_page(alice, path=None)
        held = []

        def is_stream(url: str) -> bool:
            return "/stream/" in url

        def hold(route):  # the stream's request waits, unanswered
            held.append(route)

        page.route(is_stream, hold)
        page.goto(pages_server.url(f"/sessions/{session_id}"))
        # Playwright calls the handler while it is at work for this thread: an evaluate lets it
        wait_for(lambda: page.evaluate("true") and held, timeout=30, message="the page to open its stream")
        assert page.evaluate("window.sessionPage.report().shown") is False
        r = httpx.post(pages_server.url(f"/api/v2/live/speed/{session_id}"), json={"speed_multiplier": "max"},
                       headers=bearer(alice), timeout=30)
        assert r.status_code == 200, r.text
        wait_status(pages_server, alice, session_id, ("completed",), timeout=180)

        for route in held:
            route.continue_()
        page.unroute(is_stream, hold)
        wait_js(page, "window.sessionPage.report().charts")

        assert page.evaluate("window.sessionPage.view.events.initial") >= 1
        assert page.get_by_role("tab", name="Report").get_attribute("aria-selected") == "true"
        assert page.locator("#session-status").text_content() == "completed"
    finally:
        stop_sessions(pages_server, alice)


def test_the_position_levels_follow_a_timeframe_switch(open_page, pages_server, alice):
    """The open positions' LTP lines share the candles' time scale: on a 15-minute chart their points are on
    15-minute bars too, or their minutes would space the bars (and push them off screen)."""
    session_id = start_session(pages_server, alice, speed=120)
    try:
        page = open_page(alice, f"/sessions/{session_id}")
        # The straddle's legs are open from 09:20; a few minutes of their LTPs on the 1-minute chart.
        wait_js(page, """(() => { const c = window.sessionPage.chart();
            return c.levels.length >= 2 && Object.values(c.levelTimes).every((t) => t.length >= 4); })()""", timeout=90)
        page.get_by_label("Timeframe").select_option("15m")
        ist = 19800  # a bar opens when its IST time is a multiple of 15 minutes
        times = page.evaluate("window.sessionPage.chart().levelTimes")
        assert times and all((t + ist) % 900 == 0 for line in times.values() for t in line), times
    finally:
        stop_sessions(pages_server, alice)


def test_a_session_of_two_days_says_which_day_each_time_is_on(open_page, pages_server, alice):
    """Two days' trades sorted by exit time read "15:00:00, 09:21:08" without their day: each time says it."""
    strategy, broker = setup_for(alice)
    r = httpx.post(pages_server.url("/api/v2/live/start"), headers=bearer(alice), timeout=30, json={
        "strategy_id": str(strategy.id), "broker_connection_id": str(broker.id), "date": "2024-10-29",
        "to": "2024-10-30", "speed_multiplier": "max"})
    assert r.status_code == 201, r.text
    session_id = r.json()["session_id"]
    try:
        wait_status(pages_server, alice, session_id, ENDED, timeout=180)
        page = open_page(alice, f"/sessions/{session_id}")
        wait_js(page, "window.sessionPage.view.events.initial >= 1")
        trades = sorted(all_trades(pages_server, alice, session_id), key=lambda t: (t["exit_time"], t["trade_id"]))
        assert {t["exit_time"][:10] for t in trades} == {"2024-10-29", "2024-10-30"}

        def shown(iso):  # "2024-10-30T14:13:09+05:30" (exchange time) -> "30 Oct 2024 14:13:09 IST"
            return datetime.fromisoformat(iso).strftime("%d %b %Y %H:%M:%S IST")

        cells = page.locator("#trades-table tbody tr td:first-child").all_text_contents()
        assert cells == [shown(t["exit_time"]) for t in trades]
        state = rest(pages_server, alice, f"/api/live-trading/session/{session_id}")
        assert page.locator("#session-clock").text_content() == shown(state["data"]["timestamp"])
        assert page.locator("#session-reason").is_hidden()  # "replayed every tick" says nothing more than "completed"
        # Day two re-enters a strike it traded before: each position's Flow button still has its own name.
        names = page.locator("#positions-table button").evaluate_all("bs => bs.map((b) => b.getAttribute('aria-label'))")
        assert len(names) == len(set(names)) == len({(t["position_id"], t["re_entry_num"]) for t in trades})
    finally:
        stop_sessions(pages_server, alice)


def test_a_failed_session_says_why(open_page, pages_server, alice):
    """A session that never ran (its start failed) is reviewed from the database: the page says why."""
    strategy, _ = setup_for(alice)
    reason = "could not start: RuntimeError: <b>no market data</b> for NIFTY on 2024-10-29"
    session = SimulationSession.objects.create(
        owner=alice, strategy=strategy, strategy_name=strategy.name, strategy_version=strategy.version,
        graph=strategy.graph, start_date="2024-10-29", end_date="2024-10-29", underlying="NIFTY",
        status="failed", status_reason=reason, total_ticks=22500)
    page = open_page(alice, f"/sessions/{session.id}")
    wait_js(page, "window.sessionPage.view.events.initial >= 1")
    assert page.get_by_text(reason, exact=True).is_visible()  # as text: the <b> is not markup
    assert page.locator("#session-reason b").count() == 0


def test_the_page_says_which_fees_and_slippage_the_session_ran_with(open_page, pages_server, alice):
    """The session's own record, not its broker connection's fee model now (which may have been edited)."""
    strategy, broker = setup_for(alice)  # the connection charges the NSE F&O schedule
    session = SimulationSession.objects.create(
        owner=alice, strategy=strategy, strategy_name=strategy.name, strategy_version=strategy.version,
        graph=strategy.graph, start_date="2024-10-29", end_date="2024-10-29", underlying="NIFTY",
        broker_connection=broker, status="stopped", total_ticks=22500, slippage_ticks=2,
        fees={"fee_model": "per_order", "fee_per_order": "20.00", "fee_percent": None, "fee_cap": None})
    page = open_page(alice, f"/sessions/{session.id}")
    assert page.locator("#session-costs").inner_text() == "Rs 20.00 an order, 2 ticks of slippage"


def test_the_speed_picker_follows_a_speed_set_elsewhere(open_page, pages_server, alice):
    """A speed set in another tab or through the API: the header and the picker both show it."""
    session_id = start_session(pages_server, alice, speed=1)
    try:
        page = open_page(alice, f"/sessions/{session_id}")
        wait_js(page, "window.sessionPage.view.events.initial >= 1")
        assert page.get_by_label("Speed").input_value() == "1"
        r = httpx.post(pages_server.url(f"/api/v2/live/speed/{session_id}"), json={"speed_multiplier": 300},
                       headers=bearer(alice), timeout=30)
        assert r.status_code == 200, r.text
        wait_js(page, "document.getElementById('session-speed').textContent === '300x'")
        assert page.get_by_label("Speed").input_value() == "300"
        # A speed that is not a preset (the API takes any): the picker shows it, so "Set speed" keeps it
        r = httpx.post(pages_server.url(f"/api/v2/live/speed/{session_id}"), json={"speed_multiplier": 120},
                       headers=bearer(alice), timeout=30)
        assert r.status_code == 200, r.text
        wait_js(page, "document.getElementById('session-speed').textContent === '120x'")
        assert page.get_by_label("Speed").input_value() == "120"
        page.get_by_label("Speed").select_option("60")
        page.get_by_role("button", name="Set speed").click()
        wait_for(lambda: rest(pages_server, alice, f"/api/live-trading/session/{session_id}")["speed_multiplier"] == 60,
                 message="speed 60 from the picker")
    finally:
        stop_sessions(pages_server, alice)


def paused_once(open_page, server, user, ready: str) -> tuple[str, object]:
    """Start a session at 60x, open its page, and pause it (through the API) once ``ready`` holds in the
    page; return the session id and the page, which shows it paused."""
    session_id = start_session(server, user, speed=60)
    page = open_page(user, f"/sessions/{session_id}")
    wait_js(page, ready, timeout=90)
    r = httpx.post(server.url(f"/api/v2/live/pause/{session_id}"), headers=bearer(user), timeout=30)
    assert r.status_code == 200, r.text
    wait_js(page, "document.getElementById('session-status').textContent === 'paused'")
    return session_id, page


def test_a_paused_sessions_forming_candle_is_the_servers(open_page, pages_server, alice):
    """The forming candle grows from the ticks the page gets; once paused, it is the server's candle."""
    try:
        session_id, page = paused_once(open_page, pages_server, alice, "window.sessionPage.chart().candles >= 3")
        last = rest(pages_server, alice, f"/api/sessions/{session_id}/candles?timeframe=1m")["candles"][-1]
        wait_equal(lambda: page.evaluate("window.sessionPage.chart().lastBar"),
                   lambda: {k: last[k] for k in ("time", "open", "high", "low", "close")}, "the last candle")
    finally:
        stop_sessions(pages_server, alice)


def test_the_session_page_and_its_dashboard_card_show_the_same_charges(open_page, pages_server, alice):
    """Charges paid (closed trades' plus the open positions' entry charges) are one figure on both pages."""
    try:
        session_id, page = paused_once(open_page, pages_server, alice,
                                       "Object.keys(window.sessionPage.view.positions).length >= 1")
        state = rest(pages_server, alice, f"/api/live-trading/session/{session_id}")["data"]
        open_positions = [p for p in state["gps_data"]["positions"] if p["status"] != "CLOSED"]
        assert open_positions, "the session was paused with a position open"
        paid = Decimal(state["summary"]["charges"]) + sum(Decimal(p["charges"]) for p in open_positions)
        assert paid > 0
        wait_equal(lambda: page.locator('[data-figure="charges"]').inner_text(), lambda: inr(paid), "charges")
        card = open_page(alice, "/")
        wait_equal(lambda: shown(card, session_id, ["charges"]), lambda: {"charges": inr(paid)}, "the card's charges")
    finally:
        stop_sessions(pages_server, alice)


def test_a_paused_sessions_pnl_curve_ends_at_the_net_pnl_shown(open_page, pages_server, alice):
    """Paused, the P&L curve's last point is the session's net P&L (the server's, as the head shows it), not
    the last tick the page got nor the equity sample of the minute's start."""
    try:
        session_id, page = paused_once(open_page, pages_server, alice, "window.sessionPage.pnl().points >= 3")
        state = rest(pages_server, alice, f"/api/live-trading/session/{session_id}")["data"]
        net = Decimal(state["gps_data"]["pnl"]["total_pnl"])
        wait_equal(lambda: page.locator('[data-figure="net"]').inner_text(), lambda: inr(net), "the Net P&L")
        wait_equal(lambda: round(Decimal(str(page.evaluate("window.sessionPage.pnl().lastValue"))), 2),
                   lambda: net, "the curve's last point")
    finally:
        stop_sessions(pages_server, alice)
