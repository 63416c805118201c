"""Starting a session from /sessions/new: the form posts to POST /api/v2/live/start with the session cookie
and CSRF token, lands on the session's page, shows the API's refusals next to their fields and starts
nothing then; a user without a strategy or a broker connection is told how to get one."""

import httpx
import pytest

from sessions_app.models import SimulationSession
from tests.pages.cards import card_ids, session_card, shown
from tests.pages.conftest import screenshots
from tests.stream.conftest import bearer, setup_for, stop_sessions
from tests.waiting import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def cleanup(pages_server, alice, bob):
    yield
    for user in (alice, bob):
        stop_sessions(pages_server, user)


def test_starting_from_the_form_at_60x_opens_the_session_and_its_card_moves(open_page, pages_server, alice, cleanup):
    strategy, broker = setup_for(alice)
    page = open_page(alice, "/sessions/new")
    assert page.get_by_role("link", name="New session").get_attribute("aria-current") == "page"
    page.get_by_label("Strategy").select_option(label="NIFTY short straddle (NIFTY)")
    page.get_by_label("Broker connection").select_option(value=str(broker.id))
    assert page.get_by_text("Starting capital ₹10,00,000.00; NSE F&O charges, no slippage").is_visible()
    page.get_by_label("Trading date").fill("2024-10-29")
    assert "trading day" in page.locator("#date-status").inner_text()
    page.get_by_role("radio", name="60×").check()
    page.get_by_role("radio", name="Live simulation").check()
    page.get_by_label("Trading date").press("Enter")  # the keyboard submits, as the button does

    page.wait_for_url(lambda url: "/sessions/sim-" in url)
    session_id = page.url.rsplit("/", 1)[1]
    state = session_card(pages_server, alice, session_id)
    assert (state["strategy_id"], state["broker_info"]["broker_connection_id"]) == (str(strategy.id), str(broker.id))
    assert (state["speed_multiplier"], state["mode"], state["start_date"]) == (60, "live_simulation", "2024-10-29")

    # The session page it lands on is the live one, fed by its history and its stream.
    wait_for(lambda: page.evaluate("window.sessionPage?.view.historyLoaded >= 1"), message="the session page's history")
    page.goto(pages_server.url("/"))
    assert card_ids(page) == [session_id]
    before = shown(page, session_id, ["progress"])["progress"]
    wait_for(lambda: shown(page, session_id, ["progress"])["progress"] != before, message="the new card's progress")


def test_refusals_appear_next_to_their_fields_and_start_nothing(open_page, pages_server, alice, bob, cleanup):
    setup_for(alice)
    foreign, _ = setup_for(bob, "nifty_rsi_reversal")
    page = open_page(alice, "/sessions/new")
    page._expect_4xx = True  # the API's 400s are the point here

    # A Saturday: the form says so at once, and the API's refusal sits under the field.
    date = page.get_by_label("Trading date")
    date.fill("2024-11-02")
    assert "not a trading day" in page.locator("#date-status").inner_text()
    page.get_by_role("button", name="Start session").click()
    error = page.locator("#date-error")
    error.wait_for()
    assert "2024-11-02 is not a trading day" in error.inner_text()
    assert date.get_attribute("aria-invalid") == "true"
    assert "date-error" in date.get_attribute("aria-describedby").split()
    assert page.evaluate("document.activeElement.id") == "date"
    screenshots(page, "start-error")

    # Another user's strategy, forged into the list: refused under the strategy, nothing started.
    date.fill("2024-10-29")
    page.evaluate("id => { document.querySelector('#strategy_id option').value = id; }", str(foreign.id))
    page.get_by_role("button", name="Start session").click()
    wait_for(lambda: page.locator("#strategy_id-error").is_visible(), message="the strategy's error")
    assert page.locator("#strategy_id-error").inner_text() == "no such strategy of yours"
    assert page.get_by_label("Strategy").get_attribute("aria-invalid") == "true"
    assert page.locator("#date-error").is_hidden() and date.get_attribute("aria-invalid") is None
    assert SimulationSession.objects.count() == 0
    r = httpx.get(pages_server.url("/api/sessions/"), headers=bearer(bob), timeout=30)
    assert r.json()["count"] == 0


def test_without_a_strategy_or_connection_the_form_says_how_to_get_them(open_page, bob, charlie):
    for user in (bob, charlie):  # charlie is staff: still only his own strategies and connections
        page = open_page(user, "/sessions/new")
        assert page.get_by_text("You have no strategy yet.").is_visible()
        assert page.get_by_text("You have no broker connection yet.").is_visible()
        assert page.get_by_text("manage.py seed_demo").is_visible()
        assert page.get_by_role("button", name="Start session").is_disabled()


def test_a_foreign_users_objects_are_not_offered(open_page, alice, bob):
    setup_for(bob)
    setup_for(alice, "nifty_rsi_reversal")
    page = open_page(alice, "/sessions/new")
    options = page.locator("#strategy_id option").all_inner_texts()
    assert options == ["NIFTY RSI reversal (NIFTY)"]
    assert page.locator("#broker_connection_id option").all_inner_texts() == ["paper PAPER-alice"]


def test_the_start_api_takes_the_session_cookie_only_with_the_csrf_token(pages_server, alice, cleanup):
    from tests.pages.conftest import PASSWORDS

    strategy, broker = setup_for(alice)
    body = {"strategy_id": str(strategy.id), "broker_connection_id": str(broker.id), "speed_multiplier": 60}
    with httpx.Client(base_url=pages_server.base, timeout=30) as browser_like:
        browser_like.get("/login/")
        token = browser_like.cookies["csrftoken"]
        r = browser_like.post("/login/", data={"username": "alice", "password": PASSWORDS["alice"],
                                                "csrfmiddlewaretoken": token}, headers={"Referer": pages_server.base})
        assert r.status_code == 302
        token = browser_like.cookies["csrftoken"]  # rotated at login
        refused = browser_like.post("/api/v2/live/start", json=body)
        assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
        assert SimulationSession.objects.count() == 0
        started = browser_like.post("/api/v2/live/start", json=body,
                                    headers={"X-CSRFToken": token, "Referer": pages_server.base})
        assert started.status_code == 201, started.text
        assert SimulationSession.objects.get().owner == alice


def test_an_empty_trading_date_is_refused_next_to_the_field_not_replaced_by_a_default_day(open_page, pages_server,
                                                                                         alice, bob, cleanup):
    # The API starts on a default day when no date is given (for API clients); a trader who cleared the
    # field did not pick that day.
    setup_for(alice)
    setup_for(bob)
    page = open_page(alice, "/sessions/new")
    date = page.get_by_label("Trading date")
    date.fill("")
    page.get_by_role("button", name="Start session").click()

    error = page.locator("#date-error")
    error.wait_for()
    assert error.inner_text() == "Choose a trading day."
    assert date.get_attribute("aria-invalid") == "true"
    assert page.evaluate("document.activeElement.id") == "date"
    assert page.get_by_role("button", name="Start session").is_enabled()
    assert SimulationSession.objects.count() == 0
    assert httpx.get(pages_server.url("/api/sessions/"), headers=bearer(bob), timeout=30).json()["count"] == 0


def test_the_form_calls_a_saturday_special_session_a_trading_day_with_its_hours(open_page, alice, bob, charlie):
    # NSE's Saturdays: 20 Jan 2024 a full regular day, 2 Mar 2024 a DR drill in two windows; the API
    # starts both (tests/api), so the form must not call them weekends. 1 Nov 2024 (a Friday holiday)
    # had its Muhurat hour; 2 Nov 2024 is an ordinary Saturday.
    for user in (alice, bob, charlie):  # what the form knows of the calendar is the same for everyone
        page = open_page(user, "/sessions/new")
        date, status = page.get_by_label("Trading date"), page.locator("#date-status")
        date.fill("2024-01-20")
        assert status.inner_text().startswith("20 Jan 2024: trading day (a special session, 09:15:00-15:29:59 IST), ")
        assert "bad" not in (status.get_attribute("class") or "")
        date.fill("2024-03-02")
        assert "trading day (a special session, 09:15:00-09:59:59, 11:30:00-12:29:59 IST)" in status.inner_text()
        date.fill("2024-11-01")
        assert "trading day (a special session, 18:00:00-18:59:59 IST)" in status.inner_text()
        date.fill("2024-11-02")
        assert "not a trading day" in status.inner_text()
        date.fill("2024-10-29")
        assert status.inner_text().startswith("29 Oct 2024: trading day, ")
    date.fill("2024-03-02")
    screenshots(page, "start-special-session")
