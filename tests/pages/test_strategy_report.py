"""A strategy's report (/strategies/<id>/report) and two sessions side by side (/sessions/compare), in a real
Chromium against a real server and real runs: the heat map has one cell per trading day with that day's
net P&L, the statistics and the equity curve end at the sessions' total, compare shows both sessions'
figures and curves; another user gets a 404, bad compare requests a 400 that says why."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

import pytest

from sessions_app.models import SimulationSession
from tests.pages.cards import inr
from tests.pages.conftest import screenshots
from tests.pages.runs import api_sessions, rest, run_day, strategy_for
from tests.waiting import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

DAYS = ("2024-10-29", "2024-10-29", "2024-10-30")  # two runs of one day: their P&L adds up in its cell


def chart(page) -> dict:
    return wait_for(lambda: page.evaluate("window.reportChart"), timeout=20, interval=0.1, message="the chart")


def test_a_strategys_report_and_comparing_two_of_its_sessions(open_page, pages_server, alice, bob, charlie):
    straddle, broker = strategy_for(alice)
    ids = [run_day(pages_server, alice, straddle, broker, day) for day in DAYS]
    api = api_sessions(pages_server, alice)
    assert all(api[i]["status"] == "completed" for i in ids)

    page = open_page(alice, f"/strategies/{straddle.id}/report")
    assert page.get_by_role("heading", name=f"{straddle.name} v1").is_visible()

    # The heat map: one cell per trading day played, with the sum of that day's sessions' net P&L.
    by_day = defaultdict(Decimal)
    for i in ids:
        by_day[api[i]["start_date"]] += Decimal(api[i]["realized_pnl"])
    cells = page.evaluate("""Object.fromEntries([...document.querySelectorAll('#heatmap td[data-net-pnl]')]
        .map((td) => [td.dataset.date, [td.dataset.netPnl, td.getAttribute('aria-label')]]))""")
    assert {d: Decimal(v[0]) for d, v in cells.items()} == dict(by_day)
    assert cells["2024-10-29"][1] == f"29 Oct 2024: net P&L {inr(by_day['2024-10-29'])}, 2 sessions"
    assert cells["2024-10-30"][1] == f"30 Oct 2024: net P&L {inr(by_day['2024-10-30'])}, 1 session"
    # Every other weekday of October 2024 is a cell that says it had no session.
    empty = page.locator('#heatmap td.heat-cell:not([data-net-pnl])')
    assert empty.count() == 23 - 2  # October 2024 has 23 weekdays (1 Oct a Tuesday, 31 Oct a Thursday)
    assert all(label.endswith(": no session") for label in empty.evaluate_all("els => els.map((e) => e.getAttribute('aria-label'))"))

    # The statistics over all three sessions, and the equity curve ending at their total.
    total = sum(Decimal(api[i]["realized_pnl"]) for i in ids)
    stat = lambda key: page.locator(f'[data-stat="{key}"] dd').text_content()  # noqa: E731
    assert stat("net_pnl") == inr(total)
    assert stat("charges") == inr(sum(Decimal(api[i]["charges"]) for i in ids))
    assert stat("trades") == str(sum(api[i]["total_trades"] for i in ids))
    drawn = chart(page)["curves"]
    assert len(drawn) == 1 and Decimal(drawn[0]["last"]) == total and drawn[0]["points"] > 3 * 300
    screenshots(page, "strategy-report")

    # Compare two of its sessions from the report's boxes.
    page.locator(f'input[value="{ids[0]}"]').check()
    page.locator(f'input[value="{ids[2]}"]').check()
    page.get_by_role("button", name="Compare selected").click()
    page.wait_for_url(f"**/sessions/compare?a={ids[2]}&b={ids[0]}")  # the table lists the newest first
    a, b = api[ids[2]], api[ids[0]]
    for side, s in (("a", a), ("b", b)):
        card = page.locator(f'.compare-card[data-session-id="{s["session_id"]}"]')
        assert card.get_by_role("heading").text_content() == f"{s['strategy_name']} v{s['strategy_version']}"
        assert page.locator(f'[data-stat="net_pnl"] td[data-side="{side}"] .value').text_content() == inr(s["realized_pnl"])
        assert page.locator(f'[data-stat="trades"] td[data-side="{side}"] .value').text_content() == str(s["total_trades"])
    # Every other figure is the report endpoint's, formatted here.
    for side, s in (("a", a), ("b", b)):
        stats = rest(pages_server, alice, f"/api/sessions/{s['session_id']}/report")["statistics"]
        cell = lambda key, side=side: page.locator(  # noqa: E731
            f'[data-stat="{key}"] td[data-side="{side}"] .value').text_content()
        assert (cell("win_rate"), cell("max_drawdown"), cell("profit_factor"), cell("largest_loss")) == (
            f"{stats['win_rate']}%", inr(stats["max_drawdown"]), stats["profit_factor"] or "— (no losses)",
            inr(stats["largest_loss"]) if stats["largest_loss"] else "—")
    difference = Decimal(b["realized_pnl"]) - Decimal(a["realized_pnl"])
    assert page.locator('[data-stat="net_pnl"] td[data-side="difference"]').text_content() == inr(difference, sign=True)
    if difference:
        assert page.locator('[data-stat="net_pnl"]').get_attribute("class") == "differs"
        better = "b" if difference > 0 else "a"
        assert page.locator('[data-stat="net_pnl"] td.better').get_attribute("data-side") == better
    curves = chart(page)["curves"]
    assert [Decimal(c["last"]) for c in curves] == [Decimal(a["realized_pnl"]), Decimal(b["realized_pnl"])]
    screenshots(page, "compare")

    # Another user: 404 for her report and for a comparison of her sessions; staff may look.
    other = open_page(bob, None)
    other._expect_4xx = True
    assert other.goto(pages_server.url(f"/strategies/{straddle.id}/report")).status == 404
    assert other.goto(pages_server.url(f"/sessions/compare?a={ids[0]}&b={ids[1]}")).status == 404
    staff = open_page(charlie, None)
    assert staff.goto(pages_server.url(f"/strategies/{straddle.id}/report")).status == 200


@pytest.mark.parametrize(("query", "field", "words"), [
    ("", "a", "a: name a session to compare"),
    ("a=sim-000000000001", "b", "b: name a session to compare"),
    ("a=sim-000000000001&b=sim-000000000001", "b", "b: the same session as a"),
    ("a=sim-000000000001&b=%3Cscript%3E", "b", "is not a session id"),
    ("session=sim-000000000001", "session", "tick exactly two sessions to compare (1 ticked)"),
    ("session=sim-1&session=sim-2&session=sim-3", "session", "tick exactly two sessions to compare (3 ticked)"),
    ("a=sim-000000000001&a=sim-000000000002&b=sim-000000000003", "a", "a: name one session, not 2"),
    ("a=sim-000000000001&b=sim-000000000002&b=sim-000000000003", "b", "b: name one session, not 2"),
])
def test_a_compare_without_two_different_sessions_is_a_400_that_says_why(client, alice, query, field, words):
    client.force_login(alice)
    page = client.get(f"/sessions/compare?{query}")
    assert page.status_code == 400
    html = page.content.decode()
    assert f'data-field="{field}"' in html and words in html


def test_compare_is_a_404_for_an_unknown_or_foreign_session_and_ticked_boxes_redirect(client, alice, bob):
    from tests.pages.runs import ended_row

    mine = ended_row(alice, strategy_for(alice)[0], "2024-10-29", net="10.00")
    theirs = ended_row(bob, strategy_for(bob)[0], "2024-10-29", net="20.00")
    client.force_login(alice)
    assert client.get(f"/sessions/compare?a={mine.id}&b=sim-000000000000").status_code == 404
    assert client.get(f"/sessions/compare?a={mine.id}&b={theirs.id}").status_code == 404
    other, _ = strategy_for(alice, label="Another")
    second = ended_row(alice, other, "2024-10-30", net="-5.00")
    r = client.get(f"/sessions/compare?session={mine.id}&session={second.id}")
    assert r.status_code == 302 and r["Location"] == f"/sessions/compare?a={mine.id}&b={second.id}"
    page = client.get(r["Location"]).content.decode()
    assert "Another" in page and "NIFTY short straddle" in page and "figures so far" not in page
    # A session still running may be compared too, and says its figures are so far.
    running = SimulationSession.objects.create(
        owner=alice, strategy=other, strategy_name=other.name, strategy_version=1, graph=other.graph,
        start_date="2024-10-31", end_date="2024-10-31", underlying="NIFTY", status="running")
    page = client.get(f"/sessions/compare?a={mine.id}&b={running.id}")
    assert page.status_code == 200 and "Still running: its figures so far." in page.content.decode()


def test_a_strategy_without_a_finished_session_says_so_and_another_users_is_a_404(client, alice, bob):
    strategy, _ = strategy_for(alice)
    client.force_login(alice)
    page = client.get(f"/strategies/{strategy.id}/report")
    assert page.status_code == 200 and "no finished session yet" in page.content.decode()
    client.force_login(bob)
    assert client.get(f"/strategies/{strategy.id}/report").status_code == 404


def test_a_long_equity_curve_reaches_the_chart_thinned_with_every_extreme_kept():
    from pages.reports import chart_points

    # A zigzag of 10,000 points with one deep trough and one high peak in the middle of runs.
    curve = [{"time": t, "timestamp": "", "equity": f"{(t % 7) - 3}.00", "drawdown": "0.00"} for t in range(10_000)]
    curve[4321]["equity"], curve[7777]["equity"] = "-500.00", "900.00"
    thinned = chart_points(curve, limit=1000)
    assert len(thinned) <= 1000
    times = [p["time"] for p in thinned]
    assert times == sorted(times) and len(set(times)) == len(times)
    assert {4321, 7777, 9999} <= set(times)  # the trough, the peak and the end
    assert set(thinned[0]) == {"time", "equity", "drawdown"}
    short = curve[:50]
    assert [p["time"] for p in chart_points(short, limit=1000)] == list(range(50))


def test_the_heat_maps_shade_is_the_days_size_against_the_largest_day():
    from types import SimpleNamespace

    from live_trading.marketdata.calendar import NSE
    from pages.reports import heat_months

    # Sessions as the report reads them: their days, on their market's calendar (the NSE's here).
    sessions = [SimpleNamespace(start_date=date(2024, 11, d), end_date=date(2024, 11, d), calendar=NSE)
                for d in (4, 5, 6, 7)]
    daily = [{"date": "2024-11-04", "net_pnl": "100.00"}, {"date": "2024-11-05", "net_pnl": "-50.00"},
             {"date": "2024-11-07", "net_pnl": "-400.00"}]  # 6 Nov played, no trade closed
    (month,) = heat_months(sessions, daily)
    cells = {c["date"]: c for week in month["weeks"] for c in week if c}
    shade = {d: (cells[d]["tone"], cells[d]["level"]) for d in ("2024-11-04", "2024-11-05", "2024-11-06", "2024-11-07")}
    # 4 shades: ceil(4 x |day| / 400): 100 -> 1, 50 -> 1 (never 0 for a loss), 400 -> 4.
    assert shade == {"2024-11-04": ("profit", 1), "2024-11-05": ("loss", 1), "2024-11-06": ("flat", 0),
                     "2024-11-07": ("loss", 4)}
    assert cells["2024-11-06"]["label"] == "06 Nov 2024: net P&L ₹0.00, 1 session"
    assert cells["2024-11-08"]["label"] == "08 Nov 2024: no session"
    assert month["label"] == "November 2024" and len(month["weeks"]) == 5  # 1 Nov is a Friday


def test_durations_read_as_the_session_reports_tab_writes_them():
    from pages.reports import duration

    assert [duration(n) for n in (0, 45, 300, 320, 3600, 22_200, 58_920)] == [
        "0 s", "45 s", "5 min", "5 min 20 s", "1 h", "6 h 10 min", "16 h 22 min"]


def test_a_long_strategy_name_and_big_figures_fit_a_phone_on_the_report_and_compare(open_page, alice):
    """A strategy named without spaces (as traders often name them) wraps in the compare's titles and chart
    legend and the report's heading, so neither page scrolls sideways at 390 px; an amount keeps its sign
    with its figures (never "▲ −" on one line and "₹1,324.82" on the next)."""
    from tests.pages.runs import ended_row

    strategy, _ = strategy_for(alice, label="NIFTY_short_straddle_weekly_expiry_with_adjustments_hedges_and_reentries_v12")
    a = ended_row(alice, strategy, date(2024, 10, 29), net="-1234567.89", charges="12345.67", trades=1234)
    b = ended_row(alice, strategy, date(2024, 10, 30), net="-1324.82", charges="308.57", trades=6)
    for path in (f"/sessions/compare?a={a.id}&b={b.id}", f"/strategies/{strategy.id}/report"):
        page = open_page(alice, path, 390)
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at 390 px"
    page = open_page(alice, f"/sessions/compare?a={a.id}&b={b.id}", 390)
    for cell in page.locator("#compare-table td .value").all():
        box = cell.evaluate("(el) => el.getClientRects().length")
        assert box == 1, f"{cell.inner_text()!r} is broken over {box} lines"


def test_a_profit_factor_says_no_losses_only_when_there_were_trades():
    """Null profit factor: "no losses" when every trade won; with no trade at all there is nothing to say."""
    from pages.reports import statistics_rows

    def report(trades, profit_factor):
        return {"statistics": {"trades": trades, "profit_factor": profit_factor}}

    rows = {r["key"]: r for r in statistics_rows(report(0, None), report(2, None), report(3, "1.50"))}
    assert rows["profit_factor"]["values"] == ["—", "— (no losses)", "1.50"]


def test_two_sessions_in_different_currencies_are_compared_without_subtracting_their_money():
    """A compare of an INR session and a USD one: no "B − A" of amounts and no "better" amount (that would
    take a conversion, which is not made); counts and percentages still are compared."""
    from pages.reports import statistics_rows

    def report(currency, net, trades, win_rate):
        return {"session": {"currency": currency}, "statistics": {
            "net_pnl": net, "trades": trades, "win_rate": win_rate, "profit_factor": None}}

    mixed = {r["key"]: r for r in statistics_rows(report("INR", "100.00", 2, "50.00"), report("USD", "12.34567", 3, "100.00"))}
    assert (mixed["net_pnl"]["difference"], mixed["net_pnl"]["better"]) == ("", None)
    assert (mixed["trades"]["difference"], mixed["win_rate"]["better"]) == ("+1", 1)
    same = {r["key"]: r for r in statistics_rows(report("INR", "100.00", 2, "50.00"), report("INR", "12.50", 3, "100.00"))}
    assert (same["net_pnl"]["difference"], same["net_pnl"]["better"]) == (inr("-87.50"), 0)


def test_a_strategy_without_a_finished_session_offers_to_run_that_strategy(client, alice, charlie):
    """Its owner's "Run this strategy" opens the start form with it chosen (as the strategies list's Run);
    staff looking at someone else's strategy are not offered to start one of their own from it."""
    strategy, _ = strategy_for(alice)
    client.force_login(alice)
    html = client.get(f"/strategies/{strategy.id}/report").content.decode()
    assert f'href="/sessions/new?strategy={strategy.id}"' in html
    client.force_login(charlie)
    html = client.get(f"/strategies/{strategy.id}/report").content.decode()
    assert "no finished session yet" in html and "/sessions/new" not in html.split('<main')[1]
