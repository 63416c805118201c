"""An FX pair imported from a file, started from the start form and reviewed on the trader's pages and in
the admin, in US dollars on New York's clock, in a real Chromium against a real server.

EURUSD is added as tests/engine/test_fx_differential.py adds it: its table (``fx_underlyings.toml``)
appended to a copy of the package data file, which the server reads (``UNDERLYINGS_FILE``), and 1,500
bars of backtesting.py's hourly EURUSD sample imported as 1h bars into the server's market-data folder
(14 Aug to 9 Nov 2017: the SMA(100)/SMA(300) crossover closes three trades in them and holds none at the
end, and New York's clock moves from EDT to EST on 5 Nov). alice
has the crossover strategy and an NSE one; the start form's stored-days button fills in the whole
imported range and picks the EURUSD strategy, she picks fills at the signal bar's close and a backtest,
and the session runs to its end. Its trades are backtesting.py's (``trade_on_close=True``), as the API
test checks on the whole sample.

Every figure the pages show is compared with the API's answer formatted here, independently of the code
under test (``cards.usd``: cents, western grouping; prices at five places; times converted with zoneinfo
to America/New_York): the session page's header, trades, clock and Report tab, the dashboard's card,
the history row and the strategy's report; bob gets a 404 for the session's page; charlie (staff) sees
its net P&L in US dollars in the admin. Screenshots at 1280 and 390 px."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from backtesting.test import EURUSD

from live_trading.marketdata import universe as universe_mod
from live_trading.marketdata.calendar import calendar_of
from live_trading.marketdata.importer import import_files
from live_trading.models import BrokerConnection
from sessions_app.models import SimulationSession
from strategies.models import Strategy
from tests.engine.test_fx_differential import bars_csv, crossover_graph, in_session, reference_trades
from tests.pages.cards import day_text, shown, usd, usd_price
from tests.pages.conftest import PASSWORDS, screenshots
from tests.pages.test_session_report import expected_statistics, shown_rows, shown_statistics, wait_js
from tests.stream.conftest import Server, bearer, database_url_of_tests, example
from tests.waiting import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

BARS = slice(2000, 3500)  # the in-session hourly bars imported: 2017-08-14 17:00 UTC to 2017-11-09 05:00 UTC
NEW_YORK = ZoneInfo("America/New_York")
FX_TABLE = Path(__file__).resolve().parents[1] / "engine" / "fx_underlyings.toml"
MAX_DAYS = 120  # calendar days a session may span on this server: the whole imported range


@dataclass(frozen=True)
class FxData:
    universe: Path
    data_dir: Path
    bars: object  # the imported bars (a pandas DataFrame, times in UTC)
    first: date
    last: date
    days: int


@pytest.fixture(scope="module")
def fx_data(tmp_path_factory):
    """The data file with the EURUSD table appended (this process uses it too, as the server does) and the
    imported hourly bars; the first and last FX trading days they cover."""
    folder = tmp_path_factory.mktemp("fx")
    path = folder / "underlyings.toml"
    path.write_text(universe_mod.DATA_FILE.read_text() + "\n" + FX_TABLE.read_text())
    universe_mod.use_universe(universe_mod.Universe.from_file(path))
    try:
        bars = in_session(EURUSD).iloc[BARS]
        data_dir = folder / "market_data"
        result = import_files([bars_csv(folder / "eurusd_1h.csv", bars)], data_dir=data_dir, timeframe="1h")
        calendar = calendar_of("EURUSD")
        first, last = (
            calendar.trading_date(int(ts.to_pydatetime().replace(tzinfo=UTC).timestamp()))
            for ts in (bars.index[0], bars.index[-1])
        )
        yield FxData(path, data_dir, bars, first, last, len(result.written))
    finally:
        universe_mod.use_universe(None)


@pytest.fixture(scope="module")
def pages_server(django_db_setup, django_db_blocker, fx_data):
    """The product reading the data file with EURUSD and the folder with its imported days."""
    with django_db_blocker.unblock():
        url = database_url_of_tests()
    server = Server(
        url,
        MARKET_DATA_DIR=fx_data.data_dir,
        UNDERLYINGS_FILE=fx_data.universe,
        SIM_MAX_DAYS_PER_SESSION=MAX_DAYS,
    )
    yield server
    server.stop()


def rest(server, user, path: str) -> dict:
    r = httpx.get(server.url(path), headers=bearer(user), timeout=30)
    assert r.status_code == 200, (path, r.status_code, r.text[:300])
    return r.json()


def new_york(iso: str) -> str:
    """An instant as a session of several days shows it: its New York day, time and zone (EDT or EST)."""
    moment = datetime.fromisoformat(iso).astimezone(NEW_YORK)
    return f"{moment:%d %b %Y %H:%M:%S} {moment.tzname()}"


def day(d: date) -> str:
    return f"{d.day} {d:%b %Y}"


def trade_cells(t: dict) -> list[str]:
    """The first nine cells of a trade's row: exit time, symbol, side, quantity, prices, gross, charges, net."""
    return [
        new_york(t["exit_time"]),
        t["symbol"],
        t["side"].upper(),
        f"{t['quantity']:,}",
        usd_price(t["entry_price"]),
        usd_price(t["exit_price"]),
        usd(t["pnl"]),
        usd(t["charges"]),
        usd(t["net_pnl"]),
    ]


def as_reference(trade: dict) -> tuple:
    """A REST trade as ``reference_trades`` gives backtesting.py's: entry and exit bar (the fills are at each
    bar's close tick, its last second), size, prices and P&L."""
    bar = lambda iso: datetime.fromtimestamp(datetime.fromisoformat(iso).timestamp() - 3599, UTC)  # noqa: E731
    return (
        bar(trade["entry_time"]),
        bar(trade["exit_time"]),
        trade["quantity"],
        Decimal(trade["entry_price"]),
        Decimal(trade["exit_price"]),
        Decimal(trade["pnl"]),
    )


def test_an_imported_fx_pair_runs_from_the_start_form_and_every_page_shows_it_in_usd(
    open_page, pages_server, fx_data, alice, bob, charlie
):
    crossover = Strategy.objects.create(owner=alice, name="EURUSD SMA crossover", graph=crossover_graph())
    Strategy.objects.create(owner=alice, name="A NIFTY straddle", graph=example("nifty_short_straddle"))
    broker = BrokerConnection.objects.create(
        owner=alice, account_id="PAPER-FX", fee_model="none", starting_capital=Decimal("1000000.00")
    )

    # The start form: the NSE strategy comes first, with its capital in rupees; the button of the imported
    # range fills in both days and picks the strategy on EURUSD, whose capital is in dollars.
    page = open_page(alice, "/sessions/new")
    capital = page.locator("#capital-help")
    assert capital.inner_text() == "Starting capital ₹10,00,000.00; no charges, no slippage"
    label = f"{day(fx_data.first)} – {day(fx_data.last)} · EURUSD ({fx_data.days} days)"
    page.get_by_role("button", name=label).click()
    assert page.get_by_label("Strategy").input_value() == str(crossover.id)
    assert page.get_by_label("Broker connection").input_value() == str(broker.id)
    assert (page.get_by_label("Trading date").input_value(), page.locator("#to").input_value()) == (
        fx_data.first.isoformat(),
        fx_data.last.isoformat(),
    )
    assert capital.inner_text() == "Starting capital $1,000,000.00; no charges, no slippage"
    assert page.locator("#date-status").inner_text() == (
        f"{fx_data.first:%d %b %Y}: trading day (17:00:00-16:59:59 America/New_York), market data stored."
    )
    # A day before the import is an FX trading day without data, and no NSE holiday stops an FX day.
    page.get_by_label("Trading date").fill("2017-04-14")  # Good Friday: the NSE was shut, FX traded
    assert "no EURUSD data is stored: import it first" in page.locator("#date-status").inner_text()
    page.get_by_label("Trading date").fill(fx_data.first.isoformat())
    fills = page.get_by_role("group", name="Fills on bar data")
    assert fills.get_by_role("radio", name="Next bar's open").is_checked()  # the default
    assert "close of the bar that gave the signal" in page.locator("#fills_at-help").inner_text()
    fills.get_by_role("radio", name="Signal bar's close").check()
    page.get_by_role("radio", name="Backtest").check()
    screenshots(page, "fx-start")
    page.get_by_role("button", name="Start session").click()
    page.wait_for_url(lambda url: "/sessions/sim-" in url)
    session_id = page.url.rsplit("/", 1)[1]
    wait_for(
        lambda: SimulationSession.objects.get(pk=session_id).status == "completed",
        timeout=240,
        interval=0.5,
        message="the imported range to be replayed",
    )

    # What the API says of it: USD, five places, New York's clock, fills at the bar's close, and
    # backtesting.py's trades.
    [row] = [
        r for r in rest(pages_server, alice, "/api/sessions/")["results"] if r["session_id"] == session_id
    ]
    assert (row["fills_at"], row["mode"], row["currency"], row["price_decimals"], row["time_zone"]) == (
        "bar_close",
        "backtest",
        "USD",
        5,
        "America/New_York",
    )
    assert (row["start_date"], row["end_date"]) == (fx_data.first.isoformat(), fx_data.last.isoformat())
    trades = rest(pages_server, alice, f"/api/sessions/{session_id}/trades")["results"]
    closed, still_open = reference_trades(fx_data.bars, on_close=True)
    assert len(closed) == 3 and not still_open  # worked out by backtesting.py on the same bars
    assert [as_reference(t) for t in trades[: len(closed)]] == closed
    assert len(trades) == len(closed) + len(still_open)
    card = rest(pages_server, alice, f"/api/live-trading/session/{session_id}")
    assert (card["currency"], card["price_decimals"], card["time_zone"]) == ("USD", 5, "America/New_York")
    report = rest(pages_server, alice, f"/api/sessions/{session_id}/report")

    # The session's page opens on its report: every money figure in dollars and cents, times in New York.
    page.reload()
    assert page.get_by_role("tab", name="Report").get_attribute("aria-selected") == "true"
    assert shown_statistics(page) == expected_statistics(report["statistics"], usd, new_york)
    assert shown_rows(page, "report-days", "day") == {
        d["date"]: [day_text(d["date"]), str(d["trades"]), usd(d["net_pnl"]), usd(d["mtm_pnl"])]
        for d in report["daily"]
    }
    assert shown_rows(page, "report-legs", "leg") == {
        g["entry_node_id"]: [
            g["name"],
            str(g["trades"]),
            str(g["winning_trades"]),
            usd(g["gross_pnl"]),
            usd(g["charges"]),
            usd(g["net_pnl"]),
        ]
        for g in report["by_leg"]
    }
    wait_js(page, "(() => { const r = window.sessionPage.report(); return r.charts && r.images; })()")
    screenshots(page, "fx-session-report")

    page.get_by_role("tab", name="Replay").click()
    pnl = card["data"]["gps_data"]["pnl"]
    figures = page.evaluate("""Object.fromEntries([...document.querySelectorAll('[data-figure]')]
        .map((dd) => [dd.dataset.figure, dd.textContent]))""")
    assert figures == {
        "net": usd(pnl["total_pnl"]),
        "realized": usd(pnl["realized_pnl"]),
        "unrealized": usd(pnl["unrealized_pnl"]),
        "charges": usd(card["data"]["summary"]["charges"]),
        "trades": str(len(trades)),
        "win_rate": f"{card['data']['summary']['win_rate']}%",
    }
    assert figures["net"] == usd(row["realized_pnl"])  # everything closed at the end
    rows = page.evaluate("""[...document.querySelectorAll('#trades-table tbody tr')]
        .map((tr) => [...tr.cells].slice(0, 9).map((c) => c.textContent))""")
    assert rows == [trade_cells(t) for t in sorted(trades, key=lambda t: (t["exit_time"], t["trade_id"]))]
    wait_js(page, "window.sessionPage.view.historyLoaded >= 1")
    candles = rest(pages_server, alice, f"/api/sessions/{session_id}/candles?timeframe=1m")
    assert page.locator("#session-clock").inner_text() == new_york(candles["up_to"])
    # The chart opens on the bars the data was imported as (its 1-minute candles are four ticks an hour).
    assert page.locator("#timeframe-select").input_value() == "1h"
    chart = page.evaluate("window.sessionPage.chart()")
    assert chart["timeframe"] == "1h"
    assert (
        chart["lastBar"]["close"] == candles["candles"][-1]["close"] == round(fx_data.bars.Close.iloc[-1], 5)
    )
    screenshots(page, "fx-session-replay")

    # The dashboard's card: its figures in dollars, its last tick's time in New York.
    page.goto(pages_server.url("/"))
    want = {
        "net": usd(pnl["total_pnl"], sign=True),
        "realized": usd(pnl["realized_pnl"]),
        "unrealized": usd(pnl["unrealized_pnl"]),
        "charges": usd(card["data"]["summary"]["charges"]),
        "trades": str(len(trades)),
        "status": "Completed",
        "time": new_york(card["data"]["timestamp"]),
        "dates": f"{fx_data.first:%d %b %Y} to {fx_data.last:%d %b %Y}",
    }
    assert shown(page, session_id, list(want)) == want
    screenshots(page, "fx-dashboard")

    # The history's row and the strategy's report.
    page.goto(pages_server.url("/history/"))
    cells = page.locator(f"tr[data-session-id='{session_id}']")
    assert [cells.locator(f"[data-cell='{c}']").inner_text() for c in ("net", "charges", "drawdown")] == [
        usd(row["realized_pnl"]),
        usd(row["charges"]),
        usd(row["max_drawdown"]),
    ]
    assert page.locator("#history-totals [data-cell='net']").inner_text() == usd(row["realized_pnl"])
    page.goto(pages_server.url(f"/strategies/{crossover.id}/report"))
    statistics = page.locator("#report-statistics")
    assert statistics.locator("[data-stat='net_pnl'] dd").inner_text() == usd(report["statistics"]["net_pnl"])
    assert statistics.locator("[data-stat='max_drawdown'] dd").inner_text() == usd(
        report["statistics"]["max_drawdown"]
    )
    screenshots(page, "fx-strategy-report")

    # bob: no such page. charlie (staff): the admin shows its money in dollars.
    other = open_page(bob, None)
    other._expect_4xx = True
    assert other.goto(pages_server.url(f"/sessions/{session_id}")).status == 404
    admin = open_page(None, None)
    sessions = "/admin/sessions_app/simulationsession/"
    admin.goto(pages_server.url(f"/admin/login/?next={sessions}"))
    admin.get_by_label("Username").fill(charlie.username)
    admin.get_by_label("Password").fill(PASSWORDS[charlie.username])
    admin.get_by_role("button", name="Log in").click()
    admin.wait_for_url(pages_server.url(sessions))
    listed = admin.locator(
        "#result_list tbody tr", has=admin.get_by_role("link", name=session_id, exact=True)
    )
    assert listed.locator("td.field-net_pnl").inner_text() == usd(row["realized_pnl"])
    admin.goto(pages_server.url(f"{sessions}{session_id}/change/"))
    assert admin.locator(".fieldBox.field-final_net_pnl .readonly").inner_text() == usd(row["realized_pnl"])
    assert admin.locator(".field-final_max_drawdown .readonly").inner_text() == usd(row["max_drawdown"])
    ticks = card["progress"]["total_ticks"]  # the days' own ticks (4 an hourly bar), not their seconds
    assert card["progress"]["ticks_processed"] == ticks == 4 * len(fx_data.bars)
    assert (
        admin.locator(".field-progress_detail .readonly").inner_text()
        == f"100.00% · {ticks:,} of {ticks:,} ticks"
    )
    screenshots(admin, "fx-admin-session")


def test_the_strategy_form_gives_the_underlyings_clock_not_the_nse_hours(open_page, pages_server, fx_data, alice):
    """The form's times are the market's clock: NIFTY's help says 09:15-15:29 and its time fields go no
    further, as before; EURUSD (24x5, New York) may name any time of day (docs/strategies.md: a market open
    around the clock accepts any time), so its fields hold 00:00 and 20:00 as valid and its help names its
    zone, not the NSE's hours. Changing the underlying in the page rewrites them; the form saved on
    EURUSD comes back with its clock."""
    page = open_page(alice, "/strategies/new")
    start = page.get_by_label("Start time", exact=True)
    help_text = page.locator("#id_start_time_helptext")
    assert help_text.inner_text() == "Exchange time, 09:15-15:29"
    assert (start.get_attribute("min"), start.get_attribute("max")) == ("09:15", "15:29")

    page.get_by_label("Name", exact=True).fill("EURUSD at night")
    page.get_by_label("Underlying").select_option("EURUSD")
    assert help_text.inner_text() == "Exchange time (America/New_York), 00:00-23:59"
    start.fill("00:00")
    page.get_by_label("Square-off time").fill("16:59")
    page.get_by_label("Positional: hold across the session's days").check()
    page.get_by_label("Hold until").select_option("day")
    page.get_by_label("Time on that day").fill("20:00")
    invalid = "[...document.querySelectorAll('#builder-form input[type=time]')].filter((i) => !i.validity.valid).map((i) => i.name)"
    assert page.evaluate(invalid) == []
    screenshots(page, "fx-builder")

    page.get_by_label("Underlying").select_option("NIFTY")
    assert help_text.inner_text() == "Exchange time, 09:15-15:29"
    assert set(page.evaluate(invalid)) == {"start_time", "square_off_time", "square_off_day_time"}
    page.get_by_label("Underlying").select_option("EURUSD")
    leg = page.get_by_role("group", name="Leg 1")
    leg.get_by_label("Instrument").select_option("underlying")
    page.get_by_role("group", name="Leg 2").get_by_role("button", name="Remove leg 2").click()
    page.get_by_role("button", name="Save strategy").click()
    page.wait_for_url(lambda url: url.endswith("/") and "/new" not in url)
    strategy = Strategy.objects.get(owner=alice, name="EURUSD at night")
    assert strategy.graph["nodes"][0]["config"]["positional_square_off"] == {"day": "last", "time": "20:00"}
    page.goto(pages_server.url(f"/strategies/{strategy.id}/edit"))
    assert help_text.inner_text() == "Exchange time (America/New_York), 00:00-23:59"
    assert (start.get_attribute("min"), start.get_attribute("max")) == ("00:00", "23:59")
    assert page.evaluate(invalid) == []
