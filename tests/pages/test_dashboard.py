"""The dashboard (/): a live card per session of the logged-in user only, controls that reach the
session, a stream that survives going offline and reloading, and new sessions appearing as they start.

Every figure a card shows is compared with what ``GET /api/live-trading/dashboard/{user_id}`` (or the
one-session endpoint) answers, formatted by ``tests.pages.cards`` independently of the page's script.
"""

from datetime import date
from types import SimpleNamespace

import httpx
import pytest

from tests.pages.cards import card_ids, expected, grouped, inr, matches_api, session_card, shown, start
from tests.pages.conftest import log_in, screenshots
from tests.stream.conftest import bearer, stop_sessions
from tests.waiting import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def cleanup(pages_server, alice, bob, charlie):
    yield
    for user in (alice, bob, charlie):
        stop_sessions(pages_server, user)


def card(page, session_id):
    return page.locator(f'.session-card[data-session-id="{session_id}"]')


def position_rows(page, session_id) -> list[list[str]]:
    return page.eval_on_selector_all(f'[data-session-id="{session_id}"] [data-field="positions"] tr',
                                     "rows => rows.map(r => [...r.cells].map(c => c.textContent))")


def api_status(server, user, session_id):
    return session_card(server, user, session_id)["status"]


def advanced(page, session_id, times: int, timeout: float = 30.0) -> None:
    """Wait until the card's progress text has changed ``times`` times (ticks arriving on the stream)."""
    seen = [shown(page, session_id, ["progress"])["progress"]]

    def moved():
        now = shown(page, session_id, ["progress"])["progress"]
        if now != seen[-1]:
            seen.append(now)
        return len(seen) > times

    wait_for(moved, timeout, message=f"{times} progress changes on {session_id}'s card")


def test_each_user_sees_only_their_own_cards_and_staff_see_their_own(open_page, pages_server, alice, bob, charlie,
                                                                   cleanup):
    mine = start(pages_server, alice)
    theirs = start(pages_server, bob)

    page = open_page(alice, "/")
    assert card_ids(page) == [mine]
    assert card(page, mine).get_by_role("link", name="NIFTY short straddle").get_attribute("href") == f"/sessions/{mine}"

    other = open_page(bob, "/")
    assert card_ids(other) == [theirs]
    assert other.locator(f'[data-session-id="{mine}"]').count() == 0

    staff = open_page(charlie, "/")
    assert card_ids(staff) == []
    assert staff.get_by_text("No sessions yet").is_visible()
    assert staff.get_by_role("link", name="Start a session").first.is_visible()
    assert staff.get_by_role("button", name="Stop all my sessions").is_disabled()
    screenshots(staff, "dashboard-empty")


def test_a_card_follows_its_session_and_pause_resume_speed_stop_reach_it(open_page, pages_server, alice, cleanup):
    watched = start(pages_server, alice)
    other = start(pages_server, alice)
    page = open_page(alice, "/")
    assert card_ids(page) == [other, watched]  # newest first
    first = shown(page, watched)
    page.evaluate("id => { window.netBefore = document.querySelector(`[data-session-id='${id}'] [data-field='net']`); }",
                  watched)

    # Live: progress and P&L move (the straddle sells both legs at 09:20, five exchange minutes in).
    advanced(page, watched, 3)
    wait_for(lambda: shown(page, watched)["net"] != first["net"], 60, message="the net P&L to change")
    assert card(page, watched).locator("tbody tr").count() >= 1  # the open legs, with LTP and unrealized P&L
    # The figures changed in place: the element shown at first is still the one in the page.
    assert page.evaluate("id => window.netBefore.isConnected && window.netBefore === "
                         "document.querySelector(`[data-session-id='${id}'] [data-field='net']`)", watched)
    screenshots(page, "dashboard-live")

    # Pause: the session stops at a tick; the card says what the server says, and stays there while the
    # other session's ticks keep arriving on the same stream.
    card(page, watched).get_by_role("button", name="Pause").click()
    wait_for(lambda: api_status(pages_server, alice, watched) == "paused", message="the API to say paused")
    paused = wait_for(lambda: matches_api(page, pages_server, alice, watched), message="the paused card to match the API")
    advanced(page, other, 4)
    assert shown(page, watched, list(paused)) == paused
    assert expected(session_card(pages_server, alice, watched)) == paused
    assert card(page, watched).get_by_role("button", name="Resume").is_visible()

    # Resume: progress moves again.
    card(page, watched).get_by_role("button", name="Resume").click()
    wait_for(lambda: api_status(pages_server, alice, watched) == "running", message="the API to say running")
    advanced(page, watched, 2)

    # Speed: the card and the API agree.
    speeds = card(page, watched).get_by_role("group", name="Speed")
    speeds.get_by_role("button", name="300×").click()
    wait_for(lambda: session_card(pages_server, alice, watched)["speed_multiplier"] == 300,
             message="the API to report 300x")
    wait_for(lambda: shown(page, watched, ["speed"])["speed"] == "300×", message="the card to say 300×")
    assert speeds.get_by_role("button", name="300×").get_attribute("aria-pressed") == "true"
    # At max the day would end in seconds: pause first (a speed change leaves a paused session paused).
    card(page, watched).get_by_role("button", name="Pause").click()
    wait_for(lambda: api_status(pages_server, alice, watched) == "paused", message="the second pause")
    speeds.get_by_role("button", name="max").click()
    wait_for(lambda: session_card(pages_server, alice, watched)["speed_multiplier"] == "max", message="max speed")
    wait_for(lambda: shown(page, watched, ["speed", "status"]) == {"speed": "max", "status": "Paused"},
             message="the card to say max, still paused")

    # Stop: the session ends; its card stays, with the final figures and no controls.
    card(page, watched).get_by_role("button", name="Stop").click()
    wait_for(lambda: api_status(pages_server, alice, watched) == "stopped", message="the stop")
    wait_for(lambda: matches_api(page, pages_server, alice, watched), message="the ended card to match the API")
    assert card(page, watched).get_by_role("button", name="Pause").count() == 0 or \
        not card(page, watched).get_by_role("button", name="Pause").is_visible()
    assert api_status(pages_server, alice, other) == "running"


def test_stop_all_asks_first_and_stops_only_my_sessions(open_page, pages_server, alice, bob, cleanup):
    mine = [start(pages_server, alice) for _ in range(2)]
    theirs = start(pages_server, bob)
    page = open_page(alice, "/")

    page.get_by_role("button", name="Stop all my sessions").click()
    dialog = page.get_by_role("dialog", name="Stop all your sessions?")
    assert dialog.is_visible()
    dialog.get_by_role("button", name="Cancel").click()
    assert not dialog.is_visible()
    assert [api_status(pages_server, alice, s) for s in mine] == ["running", "running"]

    page.get_by_role("button", name="Stop all my sessions").focus()
    page.keyboard.press("Enter")  # from the keyboard too
    assert dialog.is_visible()
    assert page.evaluate("document.activeElement.textContent") == "Cancel"  # the safe choice has the focus
    page.keyboard.press("Escape")  # the dialog closes without stopping anything
    assert not dialog.is_visible()
    assert [api_status(pages_server, alice, s) for s in mine] == ["running", "running"]

    page.get_by_role("button", name="Stop all my sessions").click()
    dialog.get_by_role("button", name="Stop all").click()
    page.get_by_text("Stopped 2 session(s).").wait_for()
    assert [api_status(pages_server, alice, s) for s in mine] == ["stopped", "stopped"]
    for session_id in mine:
        wait_for(lambda s=session_id: shown(page, s, ["status"])["status"] == "Stopped", message="stopped cards")
    assert api_status(pages_server, bob, theirs) == "running"
    assert page.get_by_role("button", name="Stop all my sessions").is_disabled()


def test_a_session_started_through_the_api_appears_on_the_open_dashboard(open_page, pages_server, alice, bob, cleanup):
    page = open_page(alice, "/")
    assert card_ids(page) == []
    started = start(pages_server, alice)
    start(pages_server, bob)  # not alice's: never shown to her
    wait_for(lambda: card_ids(page) == [started], message="the new card")
    assert page.get_by_text("No sessions yet").is_hidden()
    assert card(page, started).get_by_role("link", name="NIFTY short straddle").is_visible()
    advanced(page, started, 2)
    page.get_by_role("button", name="Stop all my sessions").click()
    page.get_by_role("dialog").get_by_role("button", name="Stop all").click()
    wait_for(lambda: matches_api(page, pages_server, alice, started), message="the stopped card to match the API")


def test_an_offline_spell_and_a_reload_end_with_the_cards_equal_to_the_api(open_page, pages_server, alice, cleanup):
    session_id = start(pages_server, alice)
    page = open_page(alice, "/")
    advanced(page, session_id, 2)
    banner = page.locator("#connection-banner")
    assert banner.is_hidden()

    # Offline: the banner says so; meanwhile the session moves on and is paused (neither reaches the page).
    page.context.set_offline(True)
    banner.wait_for(state="visible")
    assert "Offline" in banner.inner_text()
    r = httpx.post(pages_server.url(f"/api/v2/live/pause/{session_id}"), headers=bearer(alice), timeout=30)
    assert r.status_code == 200, r.text
    page.context.set_offline(False)
    banner.wait_for(state="hidden")
    wait_for(lambda: matches_api(page, pages_server, alice, session_id), message="the card to catch up after offline")
    assert shown(page, session_id, ["status"])["status"] == "Paused"

    # A reload mid-session: the server's first view, then the stream, equal the API again.
    httpx.post(pages_server.url(f"/api/v2/live/resume/{session_id}"), headers=bearer(alice), timeout=30)
    page.reload()
    advanced(page, session_id, 2)
    r = httpx.post(pages_server.url(f"/api/v2/live/pause/{session_id}"), headers=bearer(alice), timeout=30)
    assert r.status_code == 200, r.text
    wait_for(lambda: matches_api(page, pages_server, alice, session_id), message="the card to match after a reload")


def test_a_dropped_stream_says_reconnecting_and_then_catches_up(open_page, pages_server, alice, cleanup):
    from tests.pages.conftest import log_in
    from tests.stream.test_stream_browser import CuttingProxy

    proxy = CuttingProxy(pages_server.port, cuts=0, seed=0)  # forwards; drop_all() cuts what is open
    through = SimpleNamespace(url=lambda path: f"http://127.0.0.1:{proxy.port}{path}")
    try:
        session_id = start(pages_server, alice)
        page = open_page(None, None)
        log_in(page, through, alice)
        advanced(page, session_id, 2)
        banner = page.locator("#connection-banner")

        proxy.drop_all()
        banner.wait_for(state="visible")
        assert "Reconnecting" in banner.inner_text()
        r = httpx.post(pages_server.url(f"/api/v2/live/pause/{session_id}"), headers=bearer(alice), timeout=30)
        assert r.status_code == 200, r.text
        banner.wait_for(state="hidden")  # the browser reconnected by itself (STREAM_RETRY_MS)
        wait_for(lambda: matches_api(page, pages_server, alice, session_id), message="the card to catch up")
        page.close()  # no more reconnections through the proxy
    finally:
        proxy.drop_all()
        wait_for(lambda: not proxy.open, 10, message="the proxy's connections to end")
        proxy.close()


def position_texts(position: dict) -> list[str]:
    """A position row's cells for the API's ``position``: "24500 CE 31 Oct", "−25" (sold), LTP, unrealized."""
    _, expiry, _, strike, right = position["symbol"].split(":")
    held = grouped(position["quantity_remaining"])
    return [f"{strike} {right} {date.fromisoformat(expiry):%d %b}", f"−{held}" if position["side"] == "sell" else held,
            inr(position["current_price"]), inr(position["unrealized_pnl"], sign=True)]


def test_the_first_view_before_any_script_runs_shows_the_cards_as_the_script_does(browser, open_page, pages_server,
                                                                                  alice, bob, charlie, cleanup):
    # What a trader sees for a moment (or for good, with scripts off): figures already in rupees with
    # Indian grouping, IST times, the charges the card means, not raw API strings.
    session_id = start(pages_server, alice)
    start(pages_server, bob)
    wait_for(lambda: session_card(pages_server, alice, session_id)["data"]["gps_data"]["positions"],
             message="the straddle's legs open")
    r = httpx.post(pages_server.url(f"/api/v2/live/pause/{session_id}"), headers=bearer(alice), timeout=30)
    assert r.status_code == 200
    wait_for(lambda: api_status(pages_server, alice, session_id) == "paused", message="paused")
    api = session_card(pages_server, alice, session_id)
    want = expected(api)
    rows = [position_texts(p) for p in api["data"]["gps_data"]["positions"]]

    context = browser.new_context(viewport={"width": 1280, "height": 900}, java_script_enabled=False)
    try:
        static = context.new_page()
        log_in(static, pages_server, alice)
        assert card_ids(static) == [session_id]
        assert shown(static, session_id, list(want)) == want
        assert position_rows(static, session_id) == rows
        assert static.locator(f'[data-session-id="{session_id}"] [aria-pressed="true"]').all_inner_texts() == ["60×"]
    finally:
        context.close()
    live = open_page(alice, "/")
    wait_for(lambda: matches_api(live, pages_server, alice, session_id), message="the scripted card")
    assert position_rows(live, session_id) == rows
    assert card_ids(open_page(charlie, "/")) == []


def test_after_the_login_ends_the_dashboard_says_log_in_again_instead_of_reconnecting_forever(
        open_page, pages_server, alice, bob, cleanup):
    from tests.stream.test_stream_browser import CuttingProxy

    proxy = CuttingProxy(pages_server.port, cuts=0, seed=0)
    through = SimpleNamespace(url=lambda path: f"http://127.0.0.1:{proxy.port}{path}")
    try:
        session_id = start(pages_server, alice)
        start(pages_server, bob)
        page = open_page(None, None)
        log_in(page, through, alice)
        advanced(page, session_id, 2)
        page._expect_4xx = True  # the stream's and the API's 401s once the login has ended are the point

        other_tab = page.context.new_page()  # the same browser: logging out there ends this tab's login too
        other_tab.goto(through.url("/"))
        other_tab.get_by_role("button", name="Log out").click()
        other_tab.wait_for_url(lambda url: "/login/" in url)
        other_tab.close()
        proxy.drop_all()  # the open stream ends (a restart, a network change): it cannot come back

        banner = page.locator("#connection-banner")
        wait_for(lambda: "logged out" in banner.inner_text(), message="the banner to say logged out")
        assert banner.get_by_role("link", name="Log in again").get_attribute("href") == "/login/?next=/"
        card(page, session_id).get_by_role("button", name="Pause").click()
        message = card(page, session_id).locator('[data-field="message"]')
        wait_for(lambda: message.inner_text(), message="the pause's answer")
        assert message.inner_text() == "You are logged out: log in again to control your sessions."
        assert api_status(pages_server, alice, session_id) == "running"
        page.close()
    finally:
        proxy.drop_all()
        wait_for(lambda: not proxy.open, 10, message="the proxy's connections to end")
        proxy.close()


def test_a_session_whose_process_died_does_not_claim_it_never_started(open_page, pages_server, alice, bob, charlie,
                                                                      cleanup):
    # A process killed without a word leaves no final state: the sweep marks the session interrupted and
    # the card is built from its committed rows, which carry no exchange time. It did run, though.
    from sessions_app.models import SimulationSession

    session_id = start(pages_server, alice)
    start(pages_server, bob)
    wait_for(lambda: session_card(pages_server, alice, session_id)["progress"]["ticks_processed"] > 0,
             message="some ticks")
    r = httpx.post(pages_server.url(f"/api/v2/live/stop/{session_id}"), headers=bearer(alice), timeout=30)
    assert r.status_code == 200
    SimulationSession.objects.filter(pk=session_id).update(status="interrupted", final_state=None)
    assert session_card(pages_server, alice, session_id)["data"]["timestamp"] is None

    page = open_page(alice, "/")
    wait_for(lambda: matches_api(page, pages_server, alice, session_id), message="the card as the API says")
    assert shown(page, session_id, ["time"])["time"] == "exchange time not recorded"
    assert card_ids(open_page(charlie, "/")) == []
