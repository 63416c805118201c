"""The session page's Report tab in a real Chromium against a real server: an ended session's page opens on
its report, whose every figure is the one GET /api/sessions/{id}/report gives (the hand-worked sessions of
tests/reports, replayed by the server from the scripted day); a session that ends while its page is open
gets the tab then; the report prints alone, its charts within the paper; another user gets a 404 and
staff may read it."""

from __future__ import annotations

import gzip
import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from live_trading.models import BrokerConnection
from sessions_app.models import SimulationSession
from strategies.models import Strategy
from tests.pages.cards import day_text, inr
from tests.pages.conftest import SCREENSHOTS, screenshots
from tests.reports.conftest import store_day
from tests.reports.sessions import PARTIAL_AND_RE_ENTRY, STRADDLE
from tests.stream.conftest import Server, bearer, database_url_of_tests, stop_sessions
from tests.waiting import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
REASONS = {"stop_loss": "Stop loss", "target": "Target", "exit_condition_met": "Exit condition",
           "square_off": "Square-off", "session_end": "Session end"}


@pytest.fixture(scope="module")
def pages_server(django_db_setup, django_db_blocker, tmp_path_factory):
    """The product on the test database, replaying the scripted day of tests/reports."""
    data_dir = tmp_path_factory.mktemp("market")
    store_day(data_dir)
    with django_db_blocker.unblock():
        url = database_url_of_tests()
    server = Server(url, MARKET_DATA_DIR=data_dir)
    yield server
    server.stop()


def start(server, user, graph: dict, speed) -> str:
    strategy = Strategy.objects.create(owner=user, name=graph["name"], graph=graph)
    broker, _ = BrokerConnection.objects.get_or_create(
        owner=user, account_id=f"PAPER-{user.username}", defaults={"starting_capital": Decimal("1000000.00")})
    r = httpx.post(server.url("/api/v2/live/start"), headers=bearer(user), timeout=30, json={
        "strategy_id": str(strategy.id), "broker_connection_id": str(broker.id), "date": "2024-10-29",
        "speed_multiplier": speed})
    assert r.status_code == 201, r.text
    return r.json()["session_id"]


def ended(session_id: str, statuses=("completed",)) -> None:
    wait_for(lambda: SimulationSession.objects.get(pk=session_id).status in statuses, timeout=60,
             message=f"session {session_id} to end")


def api_report(server, user, session_id) -> dict:
    r = httpx.get(server.url(f"/api/sessions/{session_id}/report"), headers=bearer(user), timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


def wait_js(page, expression: str, timeout: float = 30):
    return wait_for(lambda: page.evaluate(expression), timeout=timeout, interval=0.1, message=expression)


def span(seconds: int) -> str:
    h, m, s = seconds // 3600, seconds % 3600 // 60, seconds % 60
    if h:
        return f"{h} h {m} min" if m else f"{h} h"
    if m:
        return f"{m} min {s} s" if s else f"{m} min"
    return f"{s} s"


def ist(iso: str) -> str:
    return datetime.fromisoformat(iso).strftime("%H:%M:%S IST")


def expected_statistics(s: dict, currency=inr, ist=ist) -> dict:
    """What each row of the statistics table should read, from the API's figures (``currency`` formats
    money, ``ist`` a time: rupees and IST unless a test of another market says otherwise)."""
    money = lambda v: "—" if v is None else currency(v)  # noqa: E731
    if s["max_drawdown_from"] is None:
        note = ""
    elif s["max_drawdown_recovered"]:
        note = f" (from {ist(s['max_drawdown_from'])}, back by {ist(s['max_drawdown_to'])})"
    else:
        note = f" (from {ist(s['max_drawdown_from'])}, not recovered)"
    return {
        "net_pnl": money(s["net_pnl"]), "gross_pnl": money(s["gross_pnl"]), "charges": money(s["charges"]),
        "trades": f"{s['trades']} (won {s['winning_trades']}, lost {s['losing_trades']})",
        "win_rate": f"{s['win_rate']}%", "average_win": money(s["average_win"]),
        "average_loss": money(s["average_loss"]), "largest_win": money(s["largest_win"]),
        "largest_loss": money(s["largest_loss"]), "profit_factor": s["profit_factor"] or "— (no losses)",
        "expectancy": money(s["expectancy"]), "max_consecutive_losses": str(s["max_consecutive_losses"]),
        "max_drawdown": money(s["max_drawdown"]), "max_drawdown_seconds": span(s["max_drawdown_seconds"]) + note,
        "time_in_market": f"{s['time_in_market']}% ({span(s['seconds_in_market'])} of {span(s['trading_seconds'])})",
    }


def shown_statistics(page) -> dict:
    return page.evaluate("""Object.fromEntries([...document.querySelectorAll('#report-stats tbody tr')]
        .map((tr) => [tr.dataset.stat, tr.cells[1].textContent]))""")


def shown_rows(page, table: str, key: str) -> dict:
    return page.evaluate("""([table, key]) => Object.fromEntries([...document.querySelectorAll(`#${table} tbody tr`)]
        .filter((tr) => tr.dataset[key] !== undefined).map((tr) => [tr.dataset[key], [...tr.querySelectorAll('th, td')].map((c) => c.textContent)]))""", [table, key])


def check_report(page, report: dict) -> None:
    assert shown_statistics(page) == expected_statistics(report["statistics"])
    assert shown_rows(page, "report-reasons", "reason") == {
        g["exit_reason"]: [REASONS[g["exit_reason"]], str(g["trades"]), str(g["winning_trades"]), inr(g["charges"]),
                           inr(g["net_pnl"])] for g in report["by_exit_reason"]}
    assert shown_rows(page, "report-legs", "leg") == {
        g["entry_node_id"]: [g["name"], str(g["trades"]), str(g["winning_trades"]), inr(g["gross_pnl"]),
                             inr(g["charges"]), inr(g["net_pnl"])] for g in report["by_leg"]}
    assert shown_rows(page, "report-days", "day") == {
        d["date"]: [day_text(d["date"]), str(d["trades"]), inr(d["net_pnl"]), inr(d["mtm_pnl"])] for d in report["daily"]}


def test_an_ended_sessions_page_opens_on_its_report_and_prints_it_alone(open_page, pages_server, alice):
    session_id = start(pages_server, alice, PARTIAL_AND_RE_ENTRY, "max")
    ended(session_id)
    report = api_report(pages_server, alice, session_id)
    assert report["statistics"]["net_pnl"] == "87.72"  # the hand-worked session (tests/reports/expected.py)

    page = open_page(alice, f"/sessions/{session_id}")

    assert page.get_by_role("tab", name="Report").get_attribute("aria-selected") == "true"
    assert page.locator("#panel-live").is_hidden()
    check_report(page, report)
    assert page.get_by_role("row", name="Profit factor").inner_text().split("\t")[-1] == "1.12"
    wait_js(page, "(() => { const r = window.sessionPage.report(); return r.charts && r.images; })()")
    screenshots(page, "session-report")
    # On a phone every figure of the tables is on screen, each named (the per-leg Net P&L was cut off)
    page.set_viewport_size({"width": 390, "height": 900})
    for table in ("#report-legs", "#report-reasons", "#report-days"):
        net = page.locator(f"{table} tbody tr").first.locator("td").last
        box = net.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390, (table, box)
        assert net.get_attribute("data-label"), table
    page.set_viewport_size({"width": 1280, "height": 900})

    # Printed: the report alone (no navigation, tabs or buttons), each chart an image within the page.
    page.emulate_media(media="print")
    assert page.locator(".site-header").is_hidden()
    assert page.get_by_role("button", name="Print report").is_hidden()
    assert page.locator("#panel-live").is_hidden()
    for image in ("#report-equity-image", "#report-drawdown-image"):
        box = page.locator(image).bounding_box()
        assert box and box["width"] > 100 and box["x"] + box["width"] <= 1280, (image, box)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "session-report-print-1280.png"), full_page=True)
    # At the width of A4 paper within its margins (186 mm at 96 dpi), nothing runs off the page.
    page.set_viewport_size({"width": 703, "height": 1000})
    assert page.evaluate("document.documentElement.scrollWidth") <= 703
    for image in ("#report-equity-image", "#report-drawdown-image"):
        box = page.locator(image).bounding_box()
        assert box["x"] + box["width"] <= 703, (image, box)
    page.screenshot(path=str(SCREENSHOTS / "session-report-print-a4.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF")
    (SCREENSHOTS / "session-report-print.pdf").write_bytes(pdf)
    page.emulate_media(media="screen")

    # The other tab is the replay, as before the session ended; the keyboard moves between the tabs.
    page.get_by_role("tab", name="Report").focus()
    page.keyboard.press("ArrowRight")
    assert page.get_by_role("tab", name="Replay").get_attribute("aria-selected") == "true"
    assert page.locator("#panel-report").is_hidden() and page.locator("#trades-table").is_visible()


def test_a_session_that_ends_while_its_page_is_open_gets_its_report(open_page, pages_server, alice):
    session_id = start(pages_server, alice, STRADDLE, 60)
    try:
        page = open_page(alice, f"/sessions/{session_id}")
        # The PE's target at 09:24 (9 s at 60x); the CE is still open when the session is stopped.
        wait_js(page, "document.querySelectorAll('#trades-table tbody tr').length >= 1", timeout=60)
        assert page.locator("#session-tabs").is_hidden()  # no report while it runs
        r = httpx.post(pages_server.url(f"/api/v2/live/stop/{session_id}"), headers=bearer(alice), timeout=30)
        assert r.status_code == 200, r.text
        ended(session_id, ("stopped",))
        wait_js(page, "window.sessionPage.report().shown")
        assert page.get_by_role("tab", name="Report").get_attribute("aria-selected") == "true"
        report = api_report(pages_server, alice, session_id)
        assert report["final"] and report["session"]["status"] == "stopped"
        assert report["statistics"]["trades"] == 2  # the target, and the CE closed by the stop
        check_report(page, report)
    finally:
        stop_sessions(pages_server, alice)


def test_another_user_gets_a_404_and_staff_reads_the_report(open_page, pages_server, alice, bob, charlie):
    session_id = start(pages_server, alice, STRADDLE, "max")
    ended(session_id)
    other = open_page(bob, None)
    other._expect_4xx = True
    assert other.goto(pages_server.url(f"/sessions/{session_id}")).status == 404
    staff = open_page(charlie, f"/sessions/{session_id}")
    check_report(staff, api_report(pages_server, charlie, session_id))


def test_a_session_without_trades_shows_no_profit_factor_rather_than_no_losses(open_page, pages_server, alice):
    """Stopped before its first entry: no trade, so its profit factor is "—", not "— (no losses)" as if it
    had only won."""
    from datetime import date

    from tests.pages.runs import ended_row, strategy_for

    strategy, _ = strategy_for(alice)
    row = ended_row(alice, strategy, date(2024, 10, 29), net="0.00", status="stopped")
    page = open_page(alice, f"/sessions/{row.id}")
    wait_js(page, "document.querySelectorAll('#report-stats tbody tr').length > 0")
    shown = shown_statistics(page)
    assert (shown["trades"], shown["profit_factor"]) == ("0 (won 0, lost 0)", "—")


def test_the_report_links_the_days_export_files_for_owner_and_staff(open_page, pages_server, alice, charlie):
    session_id = start(pages_server, alice, PARTIAL_AND_RE_ENTRY, "max")
    ended(session_id)

    for user in (alice, charlie):
        page = open_page(user, f"/sessions/{session_id}")
        exports = page.get_by_role("region", name="Export files")
        links = exports.get_by_role("link")
        assert links.all_inner_texts() == ["diagnostics_export.json.gz", "trades_daily.json.gz", "positions.json",
                                           "session.json"]
        with page.expect_download() as download:
            exports.get_by_role("link", name="trades_daily.json.gz").click()
        assert download.value.suggested_filename == f"{session_id}-2024-10-29-trades_daily.json.gz"
        daily = json.loads(gzip.decompress(Path(download.value.path()).read_bytes()))
        # The hand-worked session A (tests/reports/expected.py): four trades netting 87.72.
        assert (daily["date"], len(daily["trades"]), daily["summary"]["net_pnl"]) == ("2024-10-29", 4, "87.72")
    exports.scroll_into_view_if_needed()
    screenshots(page, "session-report-exports")
