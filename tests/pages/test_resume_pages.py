"""Resume on the pages: an interrupted session's dashboard card and session page offer "Resume", which goes
on where the session stopped; another user never sees the session, staff without the control permission
see no button that would work."""

from __future__ import annotations

from datetime import date

import httpx
import pytest

from live_trading import actions
from live_trading.runner.registry import registry
from sessions_app.models import SimulationSession, Trade
from tests.pages.cards import card_ids, session_card, shown
from tests.pages.conftest import screenshots
from tests.stream.conftest import bearer, setup_for, stop_sessions
from tests.waiting import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

DAY = date(2024, 10, 29)


@pytest.fixture
def cleanup(pages_server, alice, bob, charlie):
    yield
    registry.shutdown("test ended", timeout=20)
    for user in (alice, bob, charlie):
        stop_sessions(pages_server, user)


def interrupted_session(user) -> str:
    """A session interrupted after its first trade, as a stopping server leaves it, set to go on at 60x.

    It runs here, in the test process, and is interrupted here; the page's server (another process on the
    same database and market data) is the one that resumes it."""
    strategy, broker = setup_for(user)
    session = actions.start_session(user, actions.StartRequest(
        strategy=strategy, broker_connection=broker, speed_multiplier=3000, mode="live_simulation",
        start_date=DAY, end_date=DAY))
    wait_for(lambda: Trade.objects.filter(session_id=session.id).exists(), timeout=60, message="a trade")
    registry.shutdown("the server process stopped")
    SimulationSession.objects.filter(pk=session.id).update(speed_multiplier=60)
    assert SimulationSession.objects.get(pk=session.id).status == "interrupted"
    return session.id


def button(page, scope: str, name: str):
    return page.locator(scope).get_by_role("button", name=name, exact=True)


def test_an_interrupted_sessions_card_offers_resume_and_goes_on_where_it_stopped(open_page, pages_server, alice,
                                                                                 bob, cleanup):
    session_id = interrupted_session(alice)
    stopped_at = SimulationSession.objects.get(pk=session_id).ticks_processed
    page = open_page(alice, "/")
    scope = f'.session-card[data-session-id="{session_id}"]'
    wait_for(lambda: shown(page, session_id, ["status"])["status"] == "Interrupted", message="the card")

    assert button(page, scope, "Resume").is_visible()
    for hidden in ("Pause", "Stop", "max"):
        assert not button(page, scope, hidden).is_visible(), f"{hidden} does nothing for an interrupted session"
    screenshots(page, "dashboard-interrupted-card")
    assert card_ids(open_page(bob, "/")) == []

    button(page, scope, "Resume").click()

    wait_for(lambda: shown(page, session_id, ["status"])["status"] == "Running", message="the card running")
    # The stream can show it running before the resume's own answer (which says "Resumed.") arrives.
    wait_for(lambda: page.locator(f'{scope} [data-field="message"]').text_content() == "Resumed.",
             message="the card to say the resume was accepted")
    assert button(page, scope, "Pause").is_visible() and not button(page, scope, "Resume").is_visible()
    # It goes on from where it stopped, not from 09:15: the card's progress passes the stored tick.
    wait_for(lambda: session_card(pages_server, alice, session_id)["progress"]["ticks_processed"] > stopped_at + 60,
             message="ticks after the resume")
    row = SimulationSession.objects.get(pk=session_id)
    assert row.status == "running" and row.status_reason == "resumed by alice"
    assert row.runner.endswith(f":{pages_server.proc.pid}"), "the page's server runs it now"


def test_the_session_page_of_an_interrupted_session_resumes_it(open_page, pages_server, alice, cleanup):
    session_id = interrupted_session(alice)
    page = open_page(alice, f"/sessions/{session_id}")
    controls = "#session-controls"
    wait_for(lambda: button(page, controls, "Resume").is_enabled(), message="Resume enabled")
    for disabled in ("Pause", "Stop", "Set speed"):
        assert button(page, controls, disabled).is_disabled()
    assert page.locator("#session-reason").text_content() == "the server process stopped"
    screenshots(page, "session-interrupted")

    button(page, controls, "Resume").click()

    wait_for(lambda: button(page, controls, "Pause").is_enabled(), message="Pause enabled once it runs")
    assert button(page, controls, "Resume").is_disabled()
    assert httpx.get(pages_server.url(f"/api/live-trading/session/{session_id}"), headers=bearer(alice),
                     timeout=30).json()["status"] == "running"
