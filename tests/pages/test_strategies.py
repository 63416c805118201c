"""The strategy pages in a real Chromium against a real server: the list's figures (worked out from the
sessions made here), duplicate, a delete refused while a session runs and allowed after, versions kept
on edit, the graph drawn with its nodes and the strategy in words, and an earlier session's page still
drawing the graph of the version it ran. Another user's strategy is a 404; staff see only their own."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import httpx
import pytest

from live_trading.models import BrokerConnection
from sessions_app import lifecycle
from sessions_app.models import SimulationSession
from strategies.actions import create_strategy
from strategies.graph.examples import load_example
from strategies.models import Strategy
from tests.pages.conftest import screenshots
from tests.stream.conftest import DAY, bearer, stop_sessions
from tests.waiting import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

STRADDLE = load_example("nifty_short_straddle")
BREAKOUT = load_example("nifty_opening_range_breakout")
CONDOR = load_example("banknifty_iron_condor")


def node_ids(graph) -> set[str]:
    return {n["id"] for n in graph["nodes"]}


def wait_js(page, expression: str, timeout: float = 30):
    return wait_for(lambda: page.evaluate(expression), timeout=timeout, interval=0.1, message=expression)


def drawn_nodes(page, box="#strategy-graph") -> set[str]:
    wait_js(page, f"document.querySelector('{box} svg') !== null")
    return set(page.locator(f"{box} svg [data-node]").evaluate_all("els => els.map((e) => e.dataset.node)"))


def recorded_session(strategy, *, status, net, day=date(2024, 10, 29)) -> SimulationSession:
    """A session row as a run leaves it (no engine): what the list reads is its status and realized_pnl."""
    return SimulationSession.objects.create(
        owner=strategy.owner, strategy=strategy, strategy_name=strategy.name, strategy_version=strategy.version,
        graph=strategy.graph, start_date=day, end_date=day, underlying="NIFTY", status=status,
        realized_pnl=Decimal(net),
    )


def start(server, user, strategy, **body) -> str:
    """Start a session of ``strategy`` through the API, as the start form does; return its id."""
    broker, _ = BrokerConnection.objects.get_or_create(owner=user, account_id=f"PAPER-{user.username}",
                                                       defaults={"starting_capital": Decimal("1000000.00")})
    r = httpx.post(server.url("/api/v2/live/start"), headers=bearer(user), timeout=30, json={
        "strategy_id": str(strategy.id), "broker_connection_id": str(broker.id), "date": DAY, **body})
    assert r.status_code == 201, r.text
    return r.json()["session_id"]


def status_of(server, user, session_id) -> str:
    r = httpx.get(server.url(f"/api/live-trading/session/{session_id}"), headers=bearer(user), timeout=30)
    return r.json()["status"]


def row(page, strategy):
    return page.locator(f'#strategy-list tr[data-strategy-id="{strategy.id}"]')


def cells(page, strategy) -> dict[str, str]:
    r = row(page, strategy)
    return {f: r.locator(f'[data-field="{f}"]').inner_text().strip() for f in ("underlying", "legs", "version",
                                                                               "last-run", "net")}


def test_the_list_shows_each_strategys_legs_version_and_last_run(open_page, pages_server, alice, bob, charlie):
    straddle = create_strategy(alice, name="Straddle", graph=STRADDLE)
    breakout = create_strategy(alice, name="Breakout", graph=BREAKOUT)
    condor = create_strategy(alice, name="Condor", graph=CONDOR)
    create_strategy(bob, name="Bob's own", graph=STRADDLE)
    recorded_session(straddle, status=lifecycle.COMPLETED, net="1200.50", day=date(2024, 10, 28))
    last = recorded_session(straddle, status=lifecycle.STOPPED, net="-644.19", day=date(2024, 10, 29))
    recorded_session(breakout, status=lifecycle.COMPLETED, net="2500")
    r = httpx.put(pages_server.url(f"/api/strategies/{breakout.id}/"), headers=bearer(alice), timeout=30,
                  json={"name": "Breakout", "graph": BREAKOUT})
    assert r.status_code == 200, r.text

    page = open_page(alice, "/strategies/")

    names = page.locator("#strategy-list tbody th").all_inner_texts()
    assert names == ["Breakout", "Condor", "Straddle"]  # by name; bob's is not there
    # The latest session of each: the straddle's second (stopped, −644.19), the breakout's only one.
    assert cells(page, straddle) == {"underlying": "NIFTY", "legs": "2 · sell CE + sell PE", "version": "v1",
                                     "last-run": "29 Oct 2024 Stopped", "net": "−₹644.19"}
    assert cells(page, breakout) == {"underlying": "NIFTY", "legs": "2 · buy NIFTY + sell NIFTY",
                                     "version": "v2", "last-run": "29 Oct 2024 Completed", "net": "+₹2,500.00"}
    assert cells(page, condor) == {"underlying": "BANKNIFTY", "legs": "4 · sell CE + sell PE + buy CE + buy PE",
                                   "version": "v1", "last-run": "Never run", "net": "—"}
    assert row(page, straddle).get_by_role("link", name="29 Oct 2024").get_attribute("href") == f"/sessions/{last.id}"
    assert row(page, straddle).get_by_role("link", name="Run Straddle").get_attribute("href") == \
        f"/sessions/new?strategy={straddle.id}"
    assert row(page, straddle).get_by_role("link", name="Edit Straddle").get_attribute("href") == \
        f"/strategies/{straddle.id}/edit"
    assert page.get_by_role("link", name="New strategy").get_attribute("href") == "/strategies/new"
    assert page.get_by_role("link", name="New from JSON").get_attribute("href") == "/strategies/new/json"
    screenshots(page, "strategies-list")

    # Run: the start form opens with that strategy chosen.
    row(page, condor).get_by_role("link", name="Run Condor").click()
    page.wait_for_url(pages_server.url(f"/sessions/new?strategy={condor.id}"))
    assert page.get_by_label("Strategy").input_value() == str(condor.id)

    # Staff see only their own here (none: the empty state); other users' are in the admin.
    staff = open_page(charlie, "/strategies/")
    assert staff.locator("#strategy-list").count() == 0
    assert staff.locator("#strategies-empty").is_visible()
    screenshots(staff, "strategies-empty")


def test_another_users_strategy_pages_are_404_staff_included(open_page, pages_server, alice, bob, charlie):
    straddle = create_strategy(alice, name="Straddle", graph=STRADDLE)
    for user in (bob, charlie):
        page = open_page(user, None)
        page._expect_4xx = True
        for path in (f"/strategies/{straddle.id}/", f"/strategies/{straddle.id}/versions/1"):
            response = page.goto(pages_server.url(path))
            assert response.status == 404, (user.username, path)
            assert "Straddle" not in page.content()
        response = page.request.post(pages_server.url(f"/strategies/{straddle.id}/delete"),
                                     headers={"X-CSRFToken": csrf(page), "Referer": pages_server.url("/")})
        assert response.status == 404
    assert Strategy.objects.filter(pk=straddle.pk).exists()


def csrf(page) -> str:
    return next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")


def test_duplicate_makes_a_copy_with_a_free_name_and_opens_it(open_page, pages_server, alice):
    straddle = create_strategy(alice, name="Straddle", description="Two short legs", graph=STRADDLE)
    page = open_page(alice, "/strategies/")

    row(page, straddle).get_by_role("button", name="Duplicate Straddle").click()
    page.wait_for_url(lambda url: "/strategies/" in url and str(straddle.id) not in url and url.endswith("/"))
    first = Strategy.objects.get(owner=alice, name="Straddle (copy)")
    assert page.url == pages_server.url(f"/strategies/{first.id}/")
    assert page.get_by_role("heading", level=1).inner_text() == "Straddle (copy)"
    assert (first.graph, first.description, first.version) == (STRADDLE, "Two short legs", 1)

    page.goto(pages_server.url("/strategies/"))
    row(page, straddle).get_by_role("button", name="Duplicate Straddle").click()
    page.wait_for_url(lambda url: url.endswith("/") and "/strategies/" in url and str(first.id) not in url
                      and str(straddle.id) not in url)
    assert page.get_by_role("heading", level=1).inner_text() == "Straddle (copy 2)"


def test_a_delete_is_refused_while_a_session_runs_and_goes_through_after(open_page, pages_server, alice):
    straddle = create_strategy(alice, name="Straddle", graph=STRADDLE)
    session_id = start(pages_server, alice, straddle, speed_multiplier=1)
    try:
        page = open_page(alice, "/strategies/")
        page._expect_4xx = True  # the refused delete answers 409 with the list and its reason

        row(page, straddle).get_by_role("button", name="Delete Straddle").click()
        dialog = page.get_by_role("dialog")
        assert dialog.get_by_role("heading").inner_text() == "Delete Straddle?"
        dialog.get_by_role("button", name="Cancel").click()
        assert not dialog.is_visible() and Strategy.objects.filter(pk=straddle.pk).exists()

        row(page, straddle).get_by_role("button", name="Delete Straddle").click()
        with page.expect_response(lambda r: r.url.endswith("/delete")) as answer:
            page.get_by_role("dialog").get_by_role("button", name="Delete").click()
        assert answer.value.status == 409
        alert = page.get_by_role("alert")
        status = SimulationSession.objects.get(pk=session_id).status
        assert alert.inner_text().splitlines()[0] == (
            f"Could not delete Straddle. This strategy is used by session {session_id} (trading date 29 Oct 2024, "
            f"{status}); stop it before deleting the strategy.")
        assert alert.get_by_role("link").get_attribute("href") == f"/sessions/{session_id}"
        assert Strategy.objects.filter(pk=straddle.pk).exists()
        screenshots(page, "strategies-delete-refused")
    finally:
        stop_sessions(pages_server, alice)
    wait_for(lambda: status_of(pages_server, alice, session_id) in lifecycle.FINAL, timeout=60,
             message="the session to end")

    page = open_page(alice, "/strategies/")
    row(page, straddle).get_by_role("button", name="Delete Straddle").click()
    with page.expect_navigation():
        page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    assert page.url == pages_server.url("/strategies/")
    assert row(page, straddle).count() == 0
    assert not Strategy.objects.filter(pk=straddle.pk).exists()
    # The session keeps its own copy of what it ran.
    assert SimulationSession.objects.get(pk=session_id).graph == STRADDLE


def test_a_strategys_page_draws_its_graph_beside_it_in_words(open_page, pages_server, alice):
    straddle = create_strategy(alice, name="Straddle", description=STRADDLE["description"], graph=STRADDLE)
    recorded = recorded_session(straddle, status=lifecycle.COMPLETED, net="310.25")

    page = open_page(alice, f"/strategies/{straddle.id}/")

    assert drawn_nodes(page) == node_ids(STRADDLE)
    assert page.get_by_role("img", name="Graph of Straddle").is_visible()
    words = page.locator("#strategy-words li").all_inner_texts()
    assert words[1] == ("At 09:20: sell 1 lot ATM CE of the current weekly; stop 25% of premium; "
                        "re-enter up to 2 times after a stop, a minute later.")
    assert len(words) == 4  # the controller, two legs, the exit signal
    assert page.locator("#strategy-description").inner_text() == STRADDLE["description"]
    assert page.locator("#strategy-versions li").count() == 1
    sessions = page.locator("#strategy-sessions tbody tr")
    assert sessions.count() == 1
    assert sessions.get_by_role("link").get_attribute("href") == f"/sessions/{recorded.id}"
    assert page.get_by_role("link", name="Report").get_attribute("href") == f"/strategies/{straddle.id}/report"
    # Beside at 1280 px, below at 390 px.
    graph_box = page.locator(".strategy-graph-panel").bounding_box()
    words_box = page.locator(".strategy-words").bounding_box()
    assert words_box["x"] > graph_box["x"] + graph_box["width"] - 1
    screenshots(page, "strategy-detail")
    phone = open_page(alice, f"/strategies/{straddle.id}/", width=390)
    drawn_nodes(phone)
    graph_box = phone.locator(".strategy-graph-panel").bounding_box()
    assert phone.locator(".strategy-words").bounding_box()["y"] >= graph_box["y"] + graph_box["height"]


def test_an_edit_keeps_the_old_version_and_an_earlier_session_still_draws_its_own(open_page, pages_server, alice):
    straddle = create_strategy(alice, name="Straddle", graph=STRADDLE)
    session_id = start(pages_server, alice, straddle, mode="backtest")
    wait_for(lambda: status_of(pages_server, alice, session_id) == "completed", timeout=180,
             message="the backtest to complete")
    # Edit through the API: version 2 is a different graph, with other node ids.
    r = httpx.put(pages_server.url(f"/api/strategies/{straddle.id}/"), headers=bearer(alice), timeout=30,
                  json={"name": "Straddle", "graph": BREAKOUT})
    assert r.status_code == 200 and r.json()["version"] == 2, r.text
    assert node_ids(STRADDLE).isdisjoint(node_ids(BREAKOUT) - {"strategy-controller"})

    page = open_page(alice, f"/strategies/{straddle.id}/")
    assert drawn_nodes(page) == node_ids(BREAKOUT)
    versions = page.locator("#strategy-versions li")
    assert [v.get_attribute("data-version") for v in versions.all()] == ["2", "1"]
    assert page.locator("#strategy-sessions tbody tr td:nth-child(3)").all_inner_texts() == ["v1"]

    versions.get_by_role("link", name="Version 1").click()
    page.wait_for_url(pages_server.url(f"/strategies/{straddle.id}/versions/1"))
    assert drawn_nodes(page) == node_ids(STRADDLE)
    assert '"id": "entry-ce"' in page.locator("#strategy-json").inner_text()
    assert page.locator("#strategy-sessions tbody tr").get_attribute("data-session-id") == session_id
    screenshots(page, "strategy-version")

    # The session's page: the version it ran, linked, and its trades' flows drawn on that version's graph.
    session = open_page(alice, f"/sessions/{session_id}")
    link = session.locator("#session-strategy-version").get_by_role("link")
    assert (link.inner_text(), link.get_attribute("href")) == ("version 1", f"/strategies/{straddle.id}/versions/1")
    session.get_by_role("tab", name="Replay").click()  # an ended session opens on its report
    wait_js(session, "document.querySelectorAll('#trades-table tbody tr').length > 0", timeout=60)
    session.locator("#trades-table tbody tr").first.get_by_role("button", name="Flow").click()
    wait_js(session, "document.getElementById('flow-dialog').dataset.ready === 'true'")
    assert drawn_nodes(session, "#flow-graph") == node_ids(STRADDLE)


def test_a_long_unbroken_name_and_description_wrap_instead_of_widening_the_pages(open_page, pages_server, alice):
    # 120 characters without a space (the longest name allowed) and a long word in the description made the
    # strategy's page, its version, the form and the JSON editor scroll sideways by thousands of pixels.
    graph = load_example("nifty_short_straddle")
    strategy = create_strategy(alice, name="N" * 120, graph=graph, description="D" * 300)
    for path, name in ((f"/strategies/{strategy.id}/", "strategy-long-name"),
                       (f"/strategies/{strategy.id}/versions/1", "strategy-version-long-name"),
                       (f"/strategies/{strategy.id}/json", "strategy-json-long-name"),
                       (f"/strategies/{strategy.id}/edit", "strategy-form-long-name")):
        page = open_page(alice, path)
        page.get_by_role("heading", level=1).wait_for()
        screenshots(page, name)  # fails on any sideways scroll, at 1280 and 390 px
