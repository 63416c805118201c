"""An imported session (manage.py import_session, docs/reports.md "Sharing a run") reviewed in a real
Chromium against a real server: its page opens on the Report tab with the original's figures, its replay
tab, the history page and its strategy's report list it, all without a console error or a failed request;
the original's owner cannot open it."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from sessions_app.models import SimulationSession
from tests.pages import test_session_report
from tests.pages.conftest import screenshots
from tests.pages.test_session_report import api_report, check_report, ended, start, wait_js
from tests.reports.sessions import PARTIAL_AND_RE_ENTRY

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
pages_server = test_session_report.pages_server  # the product replaying the scripted day of tests/reports


def test_an_imported_sessions_pages_review_it_as_the_original(open_page, pages_server, alice, bob, tmp_path):
    original = start(pages_server, bob, PARTIAL_AND_RE_ENTRY, "max")
    ended(original)
    call_command("export_session", original, str(tmp_path / "shared"), stdout=io.StringIO())
    call_command("import_session", str(tmp_path / "shared"), "--owner", "alice", stdout=io.StringIO())
    imported = SimulationSession.objects.get(owner=alice, imported_from=original)
    report = api_report(pages_server, alice, imported.id)
    theirs = api_report(pages_server, bob, original)
    for key in ("statistics", "by_exit_reason", "by_leg", "daily", "equity_curve"):
        assert report[key] == theirs[key], key

    page = open_page(alice, f"/sessions/{imported.id}")

    assert page.get_by_role("tab", name="Report").get_attribute("aria-selected") == "true"
    check_report(page, report)
    assert page.locator("#session-imported").inner_text() == f"imported from {original}"
    wait_js(page, "(() => { const r = window.sessionPage.report(); return r.charts && r.images; })()")
    screenshots(page, "imported-session-report")
    exports = page.get_by_role("region", name="Export files")
    assert exports.get_by_role("link").all_inner_texts() == [
        "diagnostics_export.json.gz",
        "trades_daily.json.gz",
        "positions.json",
        "session.json",
    ]
    page.get_by_role("tab", name="Replay").click()
    wait_js(
        page, "document.querySelectorAll('#trades-table tbody tr').length === 4"
    )  # session A's four trades

    history = open_page(alice, "/history/")
    assert history.locator(f"tr[data-session-id='{imported.id}']").count() == 1
    strategy = open_page(alice, f"/strategies/{imported.strategy_id}/report")
    assert strategy.locator(f"tr[data-session-id='{imported.id}']").count() == 1

    other = open_page(bob, None)
    other._expect_4xx = True
    assert other.goto(pages_server.url(f"/sessions/{imported.id}")).status == 404
