"""The operators' admin in a real Chromium against a real server and real sessions: the sessions list fits
1280 px with status and net P&L in view and says "max" for a max-speed session; a running session's page
shows the REST API's live totals and open positions and its controls work; a finished session's page is
short with its JSON collapsed; history records cannot be added, changed or deleted; the operations page
shows the server's figures; stop-all needs its permission; a non-staff user never gets in.

Users: alice owns the sessions; charlie is a superuser; dave is staff who may view sessions and their
records but holds neither the change nor the stop-all permission; erin is staff with stop-all.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from django.conf import settings
from django.contrib.auth.models import Permission

from sessions_app.models import EmergencyStop, NodeEvent, PositionChange, SimulationSession, Trade
from tests.conftest import create_user
from tests.pages.cards import inr
from tests.pages.conftest import PASSWORDS, screenshots
from tests.stream.conftest import SSEReader, api_token, bearer, start_session, stop_sessions
from tests.waiting import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

SESSIONS = "/admin/sessions_app/simulationsession/"
OPERATIONS = "/admin/operations/"
ACTIVE = ("created", "running", "paused")
ENDED = ("completed", "stopped", "failed", "interrupted")
OWN_PASSWORDS = {"dave": "dave-password-1", "erin": "erin-password-1"}
VIEW_RECORDS = ["view_simulationsession", "view_nodeevent", "view_trade", "view_positionchange",
                "view_equitysample"]


def staff(django_user_model, name, codenames):
    user = create_user(django_user_model, name, OWN_PASSWORDS[name], is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return user


@pytest.fixture
def dave(django_user_model):
    """Staff who may look (sessions and their records) but neither control others' sessions nor stop all."""
    return staff(django_user_model, "dave", VIEW_RECORDS)


@pytest.fixture
def erin(django_user_model):
    """Staff with the stop-all permission (and the audit trail's view permission), not a superuser."""
    return staff(django_user_model, "erin", [*VIEW_RECORDS, "stop_all_sessions", "view_emergencystop"])


def admin_page(open_page, server, user, path, width=1280):
    """A tab logged in as ``user`` through the admin's own login form, at ``path``."""
    page = open_page(None, None, width)
    page.goto(server.url(f"/admin/login/?next={path}"))
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORDS.get(user.username) or OWN_PASSWORDS[user.username])
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(server.url(path))
    return page


def rest(server, user, path):
    r = httpx.get(server.url(path), headers=bearer(user), timeout=30)
    assert r.status_code == 200, (path, r.status_code, r.text[:300])
    return r.json()


def state_of(server, user, session_id):
    return rest(server, user, f"/api/live-trading/session/{session_id}")


def wait_status(server, user, session_id, statuses, timeout=90):
    wait_for(lambda: state_of(server, user, session_id)["status"] in statuses, timeout=timeout,
             interval=0.2, message=f"{session_id} to be one of {statuses}")


def post(server, user, path):
    return httpx.post(server.url(path), headers=bearer(user), timeout=30)


def in_view(page, selector, container="body") -> bool:
    """Whether every element ``selector`` matches lies wholly within the window's width and within the
    visible box of ``container`` (which clips what it would have to scroll to)."""
    return page.evaluate("""([sel, box]) => {
        const c = document.querySelector(box).getBoundingClientRect();
        return [...document.querySelectorAll(sel)].every((el) => {
            const r = el.getBoundingClientRect();
            return r.width > 0 && r.left >= Math.max(0, c.left) && r.right <= Math.min(window.innerWidth, c.right);
        }); }""", [selector, container])


@pytest.fixture
def finished(pages_server, alice):
    """A session of alice's run at max speed to its end (the whole day)."""
    session_id = start_session(pages_server, alice, speed="max")
    wait_status(pages_server, alice, session_id, ENDED)
    return session_id


def test_the_sessions_list_fits_1280_px_with_status_net_pnl_and_max_speed(open_page, pages_server, alice, charlie,
                                                                         finished):
    paced = start_session(pages_server, alice, speed=60, strategy_name="nifty_rsi_reversal")
    try:
        final = state_of(pages_server, alice, finished)
        assert final["status"] == "completed" and final["speed_multiplier"] == "max"
        page = admin_page(open_page, pages_server, charlie, SESSIONS)
        row = page.locator("#result_list tbody tr", has=page.get_by_role("link", name=finished, exact=True))
        assert row.locator("td.field-speed").inner_text() == "Live · max"
        assert row.locator("td.field-status_cell").inner_text() == "Completed"
        assert row.locator("td.field-net_pnl").inner_text() == inr(final["data"]["summary"]["net_pnl"])
        assert row.locator("td.field-progress").inner_text() == "100%"
        paced_row = page.locator("#result_list tbody tr", has=page.get_by_role("link", name=paced, exact=True))
        assert paced_row.locator("td.field-speed").inner_text() == "Live · 60×"
        assert page.locator(".status-badge.status-completed").first.is_visible()

        # At 1280 px: no sideways scroll, and the whole table, status and net P&L cells included, in view.
        assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
        results = "#changelist .results"
        assert page.evaluate(f"(el => el.scrollWidth <= el.clientWidth)(document.querySelector('{results}'))")
        assert in_view(page, "#result_list", results)
        assert in_view(page, "#result_list td.field-status_cell", results)
        assert in_view(page, "#result_list td.field-net_pnl", results)
        align = row.locator("td.field-net_pnl").evaluate("el => getComputedStyle(el).textAlign")
        assert align == "right"
        screenshots(page, "admin-sessions")
        # On a phone the list keeps session, status and net P&L in view (the rest is on the session's page).
        page.set_viewport_size({"width": 390, "height": 900})
        assert in_view(page, "#result_list td.field-status_cell", results)
        assert in_view(page, "#result_list td.field-net_pnl", results)
    finally:
        stop_sessions(pages_server, alice)


def test_a_running_sessions_page_shows_the_apis_live_totals_and_its_controls_work(open_page, pages_server, alice,
                                                                                charlie):
    session_id = start_session(pages_server, alice, speed=120)
    try:
        # The straddle sells both legs at 09:20; pause once both are open so the figures hold still.
        wait_for(lambda: len(state_of(pages_server, alice, session_id)["data"]["gps_data"]["positions"]) >= 2,
                 timeout=90, interval=0.2, message="two open legs")
        assert post(pages_server, alice, f"/api/v2/live/pause/{session_id}").status_code == 200
        state = state_of(pages_server, alice, session_id)
        assert state["status"] == "paused"
        page = admin_page(open_page, pages_server, charlie, f"{SESSIONS}{session_id}/change/")

        summary, pnl = state["data"]["summary"], state["data"]["gps_data"]["pnl"]
        shown = page.locator("[data-figure]").evaluate_all(
            "els => Object.fromEntries(els.map((e) => [e.dataset.figure, e.textContent.trim()]))")
        open_legs = state["data"]["gps_data"]["positions"]
        assert shown["net_pnl"] == inr(Decimal(pnl["realized_pnl"]) + Decimal(pnl["unrealized_pnl"]))
        assert shown["realized_pnl"] == inr(pnl["realized_pnl"])
        assert shown["unrealized_pnl"] == inr(pnl["unrealized_pnl"])
        assert shown["gross_pnl"] == inr(summary["gross_pnl"])
        # Charges paid so far: the closed trades' and the open legs' entry charges.
        assert shown["charges"] == inr(Decimal(summary["charges"]) + sum(Decimal(p["charges"]) for p in open_legs))
        assert shown["total_trades"] == str(summary["total_trades"])
        positions = {f"{p['position_id']}#{p['re_entry_num']}" for p in state["data"]["gps_data"]["positions"]}
        rows = page.locator("#open-positions tbody tr").evaluate_all("els => els.map((e) => e.dataset.position)")
        # Both legs were open when the pause was asked; a leg's stop may still fire before the pause takes
        # effect (seen in CI at 120x), so the page is held to the paused state's legs, at least one.
        assert sorted(rows) == sorted(positions) and len(rows) >= 1
        assert page.get_by_role("link", name="Trader's page").get_attribute("href") == f"/sessions/{session_id}"
        assert page.locator('input[type="submit"][value="Save"]').count() == 0
        screenshots(page, "admin-session-running")

        page.get_by_role("button", name="Resume").click()
        page.get_by_text(f"{session_id} is running.").wait_for()
        assert state_of(pages_server, alice, session_id)["status"] == "running"
        page.get_by_role("button", name="Pause").click()
        page.get_by_text(f"{session_id} is paused.").wait_for()
        assert state_of(pages_server, alice, session_id)["status"] == "paused"

        page.get_by_role("link", name="Stop…").click()
        page.get_by_role("heading", name=f"Stop {session_id}?").wait_for()
        assert state_of(pages_server, alice, session_id)["status"] == "paused"  # asked, not yet done
        page.get_by_role("button", name=f"Yes, stop {session_id}").click()
        page.get_by_text(f"{session_id} is stopped.").wait_for()
        final = state_of(pages_server, alice, session_id)
        assert final["status"] == "stopped" and final["status_reason"] == "stopped by charlie"
        assert page.get_by_role("link", name="Stop…").count() == 0  # a stopped session has no controls
    finally:
        stop_sessions(pages_server, alice)


def test_staff_without_the_change_permission_see_a_running_session_but_cannot_control_it(
        open_page, pages_server, alice, dave):
    session_id = start_session(pages_server, alice, speed=1)
    try:
        page = admin_page(open_page, pages_server, dave, f"{SESSIONS}{session_id}/change/")
        page.locator("[data-figure='net_pnl']").wait_for()
        assert page.get_by_role("link", name="Stop…").count() == 0
        assert page.get_by_role("button", name="Pause").count() == 0
        page._expect_4xx = True
        for action in ("stop", "pause"):
            token = page.context.cookies()
            csrf = next(c["value"] for c in token if c["name"] == "csrftoken")
            answer = page.request.post(pages_server.url(f"{SESSIONS}{session_id}/control/{action}/"),
                                       headers={"X-CSRFToken": csrf, "Referer": pages_server.url(SESSIONS)})
            assert answer.status == 403, action
        assert state_of(pages_server, alice, session_id)["status"] in ("created", "running")
    finally:
        stop_sessions(pages_server, alice)


def test_a_finished_sessions_page_is_short_with_its_json_collapsed(open_page, pages_server, alice, charlie,
                                                                  finished):
    page = admin_page(open_page, pages_server, charlie, f"{SESSIONS}{finished}/change/")
    assert page.locator("[data-figure]").count() == 0  # no live panel: the final results are the row's
    details = page.locator("details.json-field")
    assert details.count() == 2
    assert details.evaluate_all("els => els.every((d) => !d.open)")
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height < 2500, f"the page is {height}px tall"
    graph = details.first
    graph.locator("summary").click()
    text = graph.locator("pre").inner_text()
    assert text.startswith("{\n  ") and '"nodes": [' in text  # indented, one key a line
    assert page.get_by_role("link", name="Trader's page").get_attribute("href") == f"/sessions/{finished}"
    assert page.locator("#content a.addlink:visible").count() == 0  # no "Add another Trade"
    assert page.locator('input[type="submit"]').count() == 0
    graph.locator("summary").click()
    screenshots(page, "admin-session-finished")


HISTORY = ("nodeevent", "trade", "positionchange", "equitysample", "emergencystop")


def test_history_records_cannot_be_added_changed_or_deleted_even_by_a_superuser(open_page, pages_server, alice,
                                                                                charlie, finished):
    record, _ = _stop_all_record(charlie)
    rows = {
        "nodeevent": NodeEvent.objects.filter(session_id=finished).first().pk,
        "trade": Trade.objects.filter(session_id=finished).first().pk,
        "positionchange": PositionChange.objects.filter(session_id=finished).first().pk,
        "equitysample": SimulationSession.objects.get(pk=finished).equity_samples.first().pk,
        "emergencystop": record.pk,
    }
    page = admin_page(open_page, pages_server, charlie, "/admin/")
    page._expect_4xx = True
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    headers = {"X-CSRFToken": csrf, "Referer": pages_server.url("/admin/")}
    for model in HISTORY:
        base = f"/admin/sessions_app/{model}/"
        pk = rows[model]
        assert page.request.get(pages_server.url(f"{base}add/")).status == 403, model
        assert page.request.get(pages_server.url(f"{base}{pk}/delete/")).status == 403, model
        assert page.request.post(pages_server.url(f"{base}{pk}/delete/"), headers=headers,
                                 form={"post": "yes"}).status == 403, model
        assert page.request.post(pages_server.url(f"{base}{pk}/change/"), headers=headers, form={}).status == 403, model
        # Still readable: the record's page, with no Save or Delete, and its list without "Add".
        page.goto(pages_server.url(f"{base}{pk}/change/"))
        assert page.locator("#content h1").is_visible(), model
        assert page.locator('input[type="submit"]').count() == 0, model
        assert page.get_by_role("link", name="Delete").count() == 0, model
        page.goto(pages_server.url(base))
        assert page.locator("#content a.addlink:visible").count() == 0, model
        assert page.locator('select[name="action"] option[value="delete_selected"]').count() == 0, model
    assert EmergencyStop.objects.filter(pk=record.pk).exists()


def _stop_all_record(user):
    from live_trading.actions import stop_all_sessions

    return stop_all_sessions(user, EmergencyStop.Via.API)


def market_files() -> dict[str, tuple[int, int]]:
    """(days, bytes) of each source in the market-data folder, counted from the files themselves."""
    out = {}
    for source in ("imported", "synthetic"):
        files = list((Path(settings.MARKET_DATA_DIR) / source).glob("*/*.parquet"))
        out[source] = (len(files), sum(f.stat().st_size for f in files))
    return out


def test_the_operations_page_shows_sessions_by_process_streams_pool_and_cache(open_page, pages_server, alice, dave):
    session_id = start_session(pages_server, alice, speed=1)
    reader = None
    try:
        runner = wait_for(lambda: SimulationSession.objects.get(pk=session_id).runner, message="the runner")
        page = admin_page(open_page, pages_server, dave, "/admin/")
        page.get_by_role("link", name="Operations page").click()  # linked from the admin's index
        page.wait_for_url(pages_server.url(OPERATIONS))
        before = int(page.locator("[data-figure='open_streams']").inner_text())
        reader = SSEReader(pages_server.url(f"/api/live-trading/stream/{alice.user_id}"),
                           {"Authorization": f"Bearer {api_token(alice)}"})
        assert reader.status == 200
        reader.until(lambda e: e.event == "initial_state")

        def streams():
            page.reload()
            return int(page.locator("[data-figure='open_streams']").inner_text())

        wait_for(lambda: streams() >= before + 1, interval=0.2, message="the open stream to be counted")
        assert streams() >= 1
        process = page.locator(f"h3.ops-process[data-runner='{runner}']")
        assert "this process" in process.inner_text() and "last heartbeat" in process.inner_text()
        assert page.locator(f"tr[data-session='{session_id}']").count() == 1
        assert runner.endswith(f":{pages_server.proc.pid}")  # the daphne process that runs it

        pool = settings.DATABASES["default"]["OPTIONS"]["pool"]
        assert page.locator("[data-figure='pool_bounds']").inner_text() == f"{pool['min_size']}–{pool['max_size']}"
        in_use, _, size = page.locator("[data-figure='pool_in_use']").inner_text().partition(" of ")
        assert 0 <= int(in_use) <= int(size.strip()) <= pool["max_size"]
        files = market_files()
        assert int(page.locator("[data-figure='synthetic_days']").inner_text()) == files["synthetic"][0]
        assert int(page.locator("[data-figure='synthetic_bytes']").get_attribute("data-value")) == files["synthetic"][1]
        assert int(page.locator("[data-figure='imported_days']").inner_text()) == files["imported"][0]
        assert int(page.locator("[data-figure='days_in_use']").inner_text()) >= 1
        # Dave may look, but stopping everything is not his to do.
        assert page.get_by_role("link", name="Emergency stop all…").count() == 0
        screenshots(page, "admin-operations")

        connected = streams()
        reader.close()
        wait_for(lambda: streams() < connected, interval=0.2, message="the closed stream to be let go")
        page._expect_4xx = True
        assert page.request.get(pages_server.url(f"{SESSIONS}stop-all/")).status == 403
        assert page.request.get(pages_server.url("/admin/")).status == 200
    finally:
        if reader is not None:
            reader.close()
        stop_sessions(pages_server, alice)


def test_staff_with_the_stop_all_permission_stop_everything_from_the_operations_page(open_page, pages_server, alice,
                                                                                   bob, erin):
    ids = [start_session(pages_server, alice, speed=1), start_session(pages_server, bob, speed=1)]
    try:
        page = admin_page(open_page, pages_server, erin, OPERATIONS)
        assert page.locator("text=None recorded.").is_visible()
        page.get_by_role("link", name="Emergency stop all…").click()
        page.get_by_role("button", name="Yes, stop all 2").click()
        page.get_by_text("Emergency stop: 2 session(s) of 2 user(s) stopped").wait_for()
        assert sorted(SimulationSession.objects.filter(pk__in=ids).values_list("status", flat=True)) == ["stopped"] * 2
        page.goto(pages_server.url(OPERATIONS))
        stops = page.locator("table.ops-stops tbody tr")
        assert stops.count() == 1
        cells = stops.first.locator("td").all_inner_texts()
        assert cells[1:] == ["erin", "Admin (Emergency stop all)", "2", "2"]
        assert page.locator("text=No active session.").is_visible()
    finally:
        stop_sessions(pages_server, alice)
        stop_sessions(pages_server, bob)


def test_a_user_who_is_not_staff_never_reaches_the_admin(open_page, pages_server, alice):
    page = open_page(alice, "/")
    for path in ("/admin/", SESSIONS, OPERATIONS):
        page.goto(pages_server.url(path))
        assert "/admin/login/" in page.url, path
        assert page.locator("text=You are authenticated as alice, but are not authorized").is_visible()


def test_a_session_still_going_cannot_be_deleted_alone_or_among_others(client, alice, charlie):
    from datetime import date

    def row(status):
        return SimulationSession.objects.create(
            owner=alice, strategy_name="Straddle", strategy_version=1, graph={}, status=status,
            start_date=date(2024, 10, 29), end_date=date(2024, 10, 29), underlying="NIFTY")

    going, ended = row("created"), row("completed")
    client.force_login(charlie)
    assert client.get(f"{SESSIONS}{going.pk}/delete/").status_code == 403  # its own delete page
    both = {"action": "delete_selected", "_selected_action": [going.pk, ended.pk], "post": "yes"}
    assert client.post(SESSIONS, both).status_code == 403  # a selection with one still going: nothing
    assert SimulationSession.objects.count() == 2
    answer = client.post(SESSIONS, {**both, "_selected_action": [ended.pk]})
    assert answer.status_code == 302
    assert list(SimulationSession.objects.values_list("pk", flat=True)) == [going.pk]


def test_every_list_fits_1280_px_with_long_names_and_ids(open_page, pages_server, alice, charlie, finished):
    """A strategy named without spaces (as traders often do), a session of several days and the records'
    long ids and times: each list shows all its columns within 1280 px, none behind a sideways scroll."""
    from datetime import date

    from tests.pages.runs import ended_row, strategy_for

    strategy, _ = strategy_for(alice, label="BANKNIFTY_iron_condor_weekly_expiry_with_adjustments_and_hedges_v12")
    row = ended_row(alice, strategy, date(2024, 10, 29), net="-1234567.89", charges="12345.67", trades=1234)
    SimulationSession.objects.filter(pk=row.pk).update(end_date=date(2024, 10, 31))
    _stop_all_record(charlie)  # a row in the stop-all audit's list
    page = admin_page(open_page, pages_server, charlie, SESSIONS)
    for model in ("simulationsession", *HISTORY):
        page.goto(pages_server.url(f"/admin/sessions_app/{model}/"))
        results = "#changelist .results"
        overflow = page.evaluate(f"(el => el.scrollWidth - el.clientWidth)(document.querySelector('{results}'))")
        assert overflow <= 0, f"the {model} list scrolls sideways by {overflow}px at 1280 px"
        assert in_view(page, "#result_list", results), model
