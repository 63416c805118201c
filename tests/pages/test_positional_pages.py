"""A positional strategy through the trader's pages in a real Chromium against a real server: alice builds a
NIFTY short strangle held to expiry in the form builder, starts it from the start form over the week of
tests/engine/test_positional.py (its scripted prices stored as the server's market data), and it runs to the
end at max speed; the session page shows the legs settled / expired at expiry, the P&L of each trading day
adding up to the net P&L (the API's figures, formatted here independently, and the figures worked by hand
there), and the Report tab's per-day chart. A paced run shows the days as they pass. Bob gets a 404; charlie
(staff) reads it in the admin."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from live_trading.marketdata.day import write_day
from live_trading.marketdata.store import imported_path
from live_trading.models import BrokerConnection
from sessions_app.models import SimulationSession
from strategies.models import Strategy
from tests.engine import test_positional as hand
from tests.pages.cards import day_text, inr
from tests.pages.conftest import PASSWORDS, screenshots
from tests.stream.conftest import Server, bearer, database_url_of_tests, stop_sessions
from tests.waiting import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

ENDED = ("completed", "stopped", "failed", "interrupted")
FIRST, LAST = hand.WEEK[0].isoformat(), hand.WEEK[-1].isoformat()  # Monday .. Thursday, the weekly expiry
# The P&L of each day worked by hand in tests/engine/test_positional.py (paise), and the net P&L.
HAND_DAYS = [12359, -5000, 112500, 69125]
REASONS = {"settled": "Settled at expiry", "expired": "Expired worthless"}

# What the form below must build, written by hand from docs/strategies.md: sell the 5-steps OTM call and
# put of the current weekly at 09:16 on the first day, held to expiry (tests/engine/test_positional.py's
# strangle, whose 09:16:00 entry this is).
EXPECTED_GRAPH = {
    "format_version": 1,
    "name": "Positional NIFTY strangle",
    "nodes": [
        {
            "id": "strategy-controller",
            "type": "start",
            "name": "Strategy Controller",
            "config": {
                "underlying": "NIFTY",
                "start_time": "09:15",
                "square_off_time": "15:15",
                "holding": "positional",
                "positional_square_off": "at_expiry",
            },
        },
        {
            "id": "entry-condition",
            "type": "entry_signal",
            "name": "At 09:16",
            "config": {
                "conditions": {
                    "all": [
                        {
                            "left": {"type": "time_of_day"},
                            "operator": ">=",
                            "right": {"type": "value", "value": "09:16"},
                        }
                    ]
                }
            },
        },
        *(
            {
                "id": f"leg-{n}",
                "type": "entry",
                "name": f"Sell 1 lot OTM5 {right}",
                "config": {
                    "instrument": "option",
                    "expiry": "current_weekly",
                    "strike": {"rule": "otm", "offset": 5},
                    "right": right,
                    "side": "sell",
                    "lots": 1,
                },
            }
            for n, right in ((1, "CE"), (2, "PE"))
        ),
    ],
    "edges": [
        {"from": "strategy-controller", "to": "entry-condition"},
        {"from": "entry-condition", "to": "leg-1"},
        {"from": "entry-condition", "to": "leg-2"},
    ],
}


@pytest.fixture(scope="module")
def pages_server(django_db_setup, django_db_blocker, tmp_path_factory):
    """The product on the test database, its market data the scripted week of tests/engine/test_positional."""
    data_dir = tmp_path_factory.mktemp("market")
    for day in hand.week_of_prices():
        path = imported_path("NIFTY", day.date, data_dir)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_day(day, path)
    with django_db_blocker.unblock():
        url = database_url_of_tests()
    server = Server(url, MARKET_DATA_DIR=data_dir, log_dir=tmp_path_factory.mktemp("server-logs"))
    yield server
    server.stop()


@pytest.fixture
def cleanup(pages_server, alice):
    yield
    stop_sessions(pages_server, alice)


def rest(server, user, path: str) -> dict:
    r = httpx.get(server.url(path), headers=bearer(user), timeout=30)
    assert r.status_code == 200, (path, r.status_code, r.text[:300])
    return r.json()


def wait_js(page, expression: str, timeout: float = 60):
    return wait_for(lambda: page.evaluate(expression), timeout=timeout, interval=0.1, message=expression)


def session_row(server, user, session_id) -> dict:
    """The session as GET /api/sessions/ lists it (its totals and daily_pnl rebuilt from the stored rows)."""
    return {r["session_id"]: r for r in rest(server, user, "/api/sessions/")["results"]}[session_id]


def daily_rows(page) -> list[tuple[str, str, str]]:
    """The per-day table of the Replay tab as (day, P&L, running total), as shown."""
    return page.evaluate("""[...document.querySelectorAll('#daily-table tbody tr')]
        .map((tr) => [...tr.cells].map((c) => c.textContent))""")


def build_strangle_in_the_form(page) -> None:
    """Fill /strategies/new as a trader would: the preset's two legs made 5-steps OTM without a stop, the entry
    at 09:16, held positional until expiry."""
    page.get_by_label("Name", exact=True).fill("Positional NIFTY strangle")
    for n in (1, 2):
        leg = page.get_by_role("group", name=f"Leg {n}")
        leg.get_by_label("Strike").select_option("otm")
        leg.get_by_label("Steps").fill("5")
        leg.get_by_label("Stop loss", exact=True).select_option("")
    page.get_by_label("At a time").check()
    page.get_by_label("Entry time").fill("09:16")
    hold_until = page.get_by_label("Hold until")
    assert hold_until.is_hidden()  # an intraday strategy has no such choice
    page.get_by_label("Positional: hold across the session's days").check()
    assert hold_until.is_visible() and page.get_by_label("Square-off day").is_hidden()
    page.get_by_label("Hold until").select_option("day")
    assert (
        page.get_by_label("Square-off day").is_visible()
        and page.get_by_label("Time on that day").is_visible()
    )
    hold_until.select_option("at_expiry")
    assert page.get_by_label("Square-off day").is_hidden()


def test_a_positional_strangle_built_in_the_form_runs_a_week_and_settles_at_expiry(
    open_page, pages_server, alice, bob, charlie, cleanup
):
    BrokerConnection.objects.get_or_create(
        owner=alice, account_id="PAPER-alice", defaults={"starting_capital": Decimal("1000000.00")}
    )
    form = open_page(alice, "/strategies/new")
    build_strangle_in_the_form(form)
    form.locator("#b-holding").scroll_into_view_if_needed()
    screenshots(form, "positional-builder")
    form.get_by_role("button", name="Save strategy").click()
    form.wait_for_url(lambda url: "/strategies/" in url and url.endswith("/") and "/new" not in url)
    strategy = Strategy.objects.get(owner=alice, name="Positional NIFTY strangle")
    assert strategy.graph == EXPECTED_GRAPH
    assert form.locator("#strategy-words li").first.inner_text() == (
        "NIFTY, positional, from 09:15 on the first day; held to expiry, options settling there."
    )
    # Opened again, the form shows it as saved (positional, until expiry), not the JSON editor.
    form.goto(pages_server.url(f"/strategies/{strategy.id}/edit"))
    assert form.get_by_label("Positional: hold across the session's days").is_checked()
    assert form.get_by_label("Hold until").input_value() == "at_expiry"

    # The start form, over the week that holds the weekly expiry, at max speed.
    page = open_page(alice, "/sessions/new")
    page.get_by_label("Strategy").select_option(label="Positional NIFTY strangle (NIFTY)")
    page.get_by_label("Trading date").fill(FIRST)
    page.get_by_label("Last day").fill(LAST)
    page.get_by_role("radio", name="max").check()
    page.get_by_role("button", name="Start session").click()
    page.wait_for_url(lambda url: "/sessions/sim-" in url)
    session_id = page.url.rsplit("/", 1)[1]
    wait_for(
        lambda: SimulationSession.objects.get(pk=session_id).status in ENDED,
        timeout=120,
        message=f"session {session_id} to end",
    )
    session = SimulationSession.objects.get(pk=session_id)
    assert (session.status, session.start_date.isoformat(), session.end_date.isoformat()) == (
        "completed",
        FIRST,
        LAST,
    )

    # The page ends on its report; its per-day chart draws the report's days marked to market.
    wait_js(page, "window.sessionPage.report().charts")
    report = rest(pages_server, alice, f"/api/sessions/{session_id}/report")
    assert page.evaluate("window.sessionPage.report().dailyBars") == [
        {"date": d["date"], "pnl": d["mtm_pnl"]} for d in report["daily"]
    ]
    assert [Decimal(d["mtm_pnl"]) for d in report["daily"]] == [Decimal(p) / 100 for p in HAND_DAYS]
    screenshots(page, "positional-report")

    # The API's figures: the days (rebuilt from the stored rows) add up to the net P&L worked by hand.
    row = session_row(pages_server, alice, session_id)
    days = row["daily_pnl"]
    assert [d["date"] for d in days] == [d.isoformat() for d in hand.WEEK]
    assert [Decimal(d["pnl"]) for d in days] == [Decimal(p) / 100 for p in HAND_DAYS]
    net = Decimal(row["realized_pnl"])
    assert net == Decimal(hand.NET) / 100 == sum(Decimal(d["pnl"]) for d in days)

    page.get_by_role("tab", name="Replay").click()
    # The head's Net P&L, and each day with its running total ending at it, formatted independently.
    wait_for(
        lambda: page.locator('[data-figure="net"]').inner_text() == inr(net), message="the head's Net P&L"
    )
    running, expected = Decimal(0), []
    for d in days:
        running += Decimal(d["pnl"])
        expected.append([day_text(d["date"]), inr(d["pnl"]), inr(running)])
    wait_for(
        lambda: daily_rows(page) == expected, timeout=30, message="the per-day table to show the API's days"
    )
    assert page.locator("#daily-table tfoot td").first.inner_text() == inr(net)
    assert page.evaluate("window.sessionPage.daily().bars") == [
        {"date": d["date"], "pnl": d["pnl"]} for d in days
    ]

    # The trades: both legs held from Monday to Thursday's close, one settled, one expired, in words.
    trades = rest(pages_server, alice, f"/api/sessions/{session_id}/trades")["results"]
    assert sorted((t["symbol"], t["exit_reason"]) for t in trades) == [
        (hand.PE, "expired"),
        (hand.CE, "settled"),
    ]
    for t in trades:
        cell = page.locator(f'#trades-table tr[data-trade-id="{t["trade_id"]}"] [data-cell="exit_reason"]')
        assert cell.inner_text() == REASONS[t["exit_reason"]]
    page.locator("#daily-panel").scroll_into_view_if_needed()
    screenshots(page, "positional-replay")

    # Another user: the page is a 404. Staff: the admin's page of the session, with its days and trades.
    other = open_page(bob, None)
    other._expect_4xx = True
    assert other.goto(pages_server.url(f"/sessions/{session_id}")).status == 404
    admin = open_page(None, None)
    path = f"/admin/sessions_app/simulationsession/{session_id}/change/"
    admin.goto(pages_server.url(f"/admin/login/?next={path}"))
    admin.get_by_label("Username").fill(charlie.username)
    admin.get_by_label("Password").fill(PASSWORDS["charlie"])
    admin.get_by_role("button", name="Log in").click()
    admin.wait_for_url(pages_server.url(path))
    assert admin.locator("ul.daily-pnl li").all_inner_texts() == [
        f"{day_text(d['date'])} {inr(d['pnl'])}" for d in days
    ]
    assert sorted(t.strip() for t in admin.locator("td.field-exit_reason").all_text_contents()) == [
        "expired",
        "settled",
    ]
    screenshots(admin, "positional-admin")


def test_a_paced_positional_session_shows_each_day_as_it_passes(open_page, pages_server, alice, cleanup):
    strategy = Strategy.objects.create(owner=alice, name="Paced strangle", graph=EXPECTED_GRAPH)
    broker, _ = BrokerConnection.objects.get_or_create(
        owner=alice, account_id="PAPER-alice", defaults={"starting_capital": Decimal("1000000.00")}
    )
    r = httpx.post(
        pages_server.url("/api/v2/live/start"),
        headers=bearer(alice),
        timeout=30,
        json={
            "strategy_id": str(strategy.id),
            "broker_connection_id": str(broker.id),
            "date": FIRST,
            "to": LAST,
            "speed_multiplier": 3000,
        },
    )  # a trading day in 7.5 s
    assert r.status_code == 201, r.text
    session_id = r.json()["session_id"]
    page = open_page(alice, f"/sessions/{session_id}")
    # While it runs: the days closed so far at their final figures (the hand's), then today so far; the
    # days always add up to the Net P&L the head shows.
    wait_js(
        page,
        f"""(() => {{
        const rows = window.sessionPage.daily().rows;
        return window.sessionPage.view.status === "running" && rows.length >= 2 && rows[0].date === "{FIRST}"
          && rows[0].pnl === "{Decimal(HAND_DAYS[0]) / 100}" && rows[rows.length - 1].today; }})()""",
        timeout=90,
    )
    shown = daily_rows(page)
    assert shown[-1][0].endswith("(so far)") and not shown[0][0].endswith("(so far)")
    assert (
        page.locator("#daily-table tfoot td").first.inner_text()
        == page.locator('[data-figure="net"]').inner_text()
    )
    page.locator("#daily-panel").scroll_into_view_if_needed()
    screenshots(page, "positional-live")

    wait_for(
        lambda: rest(pages_server, alice, f"/api/live-trading/session/{session_id}")["status"] in ENDED,
        timeout=120,
        message=f"session {session_id} to end",
    )
    days = session_row(pages_server, alice, session_id)["daily_pnl"]
    assert [Decimal(d["pnl"]) for d in days] == [Decimal(p) / 100 for p in HAND_DAYS]
    wait_for(
        lambda: (
            [(r["date"], r["pnl"], r["today"]) for r in page.evaluate("window.sessionPage.daily().rows")]
            == [(d["date"], d["pnl"], False) for d in days]
        ),
        timeout=30,
        message="the final days on the page",
    )
