"""An EURUSD positional session's export folder (docs/reports.md, "Exports" and "Sharing a run"): cut by
the FX market's trading days, money with the pair's five places, and read back by ``import_session`` as
another user's session whose API answers are the original's.

EURUSD is the differential test's table (``fx_underlyings.toml``, calendar ``FX_24X5``: a trading day runs
from 17:00 to 17:00 New York); two weeks of backtesting.py's hourly sample are imported and alice runs a
moving-average crossover over them through the API, as ``tests/sessions/test_fx_session.py`` does. Which
trading day a time falls on is worked out here by hand: New York's wall clock moved on seven hours gives
the day (17:00 New York becomes the next day's 00:00); in April 2017 New York is on EDT (-04:00), so a day
runs from 21:00 UTC the evening before. Neither the IST date (it turns at 18:30 UTC) nor New York's own
date (at 04:00 UTC) is that day for every event, and both occur among the session's events.
"""

import copy
import gzip
import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from backtesting.test import EURUSD

from live_trading.marketdata.importer import import_files
from live_trading.models import BrokerConnection
from live_trading.runner.registry import registry
from sessions_app.models import SimulationSession
from strategies.models import Strategy
from tests.engine.test_fx_differential import bars_csv, crossover_graph, fx_universe, in_session
from tests.reports.test_import_session import EXPORT_FILES as FILES
from tests.reports.test_import_session import answers, assert_same_answers, export, import_folder
from tests.waiting import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

__all__ = ["fx_universe"]  # the fixture, used by name below

NEW_YORK = ZoneInfo("America/New_York")
IST = ZoneInfo("Asia/Kolkata")
# The FX days from Wednesday 19 Apr to Tuesday 2 May 2017: weekdays (no holiday of the calendar among them).
DAYS = [date(2017, 4, d) for d in (19, 20, 21, 24, 25, 26, 27, 28)] + [date(2017, 5, 1), date(2017, 5, 2)]


def trading_day(text: str) -> date:
    """The FX day of an ISO 8601 time, by hand: New York's wall clock moved on seven hours."""
    return (datetime.fromisoformat(text).astimezone(NEW_YORK) + timedelta(hours=7)).date()


@pytest.fixture
def eurusd(fx_universe, settings, tmp_path):
    """The hourly bars of the ten FX days imported into this test's market-data folder (the sample starts
    at 09:00 UTC on 19 Apr; 2 May's day ends with its 20:00 UTC bar, at 17:00 EDT)."""
    settings.MARKET_DATA_DIR = tmp_path / "market_data"
    bars = in_session(EURUSD.loc["2017-04-19":"2017-05-02 20:00"])
    import_files([bars_csv(tmp_path / "eurusd_1h.csv", bars)], data_dir=settings.MARKET_DATA_DIR, timeframe="1h")
    yield bars
    registry.shutdown("test ended", timeout=20)


def crossover(fast: int, slow: int) -> dict:
    """The differential test's crossover with SMA periods ``fast`` and ``slow`` (of the 1h closes)."""
    graph = copy.deepcopy(crossover_graph())
    graph["name"] = f"EURUSD SMA {fast}/{slow}"
    for node in graph["nodes"]:
        for condition in node["config"].get("conditions", {}).get("all", []):
            condition["left"]["params"]["period"], condition["right"]["params"]["period"] = fast, slow
    return graph


def run_fx(client, user) -> SimulationSession:
    strategy = Strategy.objects.create(owner=user, name="EURUSD SMA 5/20", graph=crossover(5, 20))
    broker = BrokerConnection.objects.create(owner=user, account_id=f"PAPER-FX-{user.username}", fee_model="none",
                                             starting_capital=Decimal("1000000.00"))
    response = client.post("/api/v2/live/start", {
        "strategy_id": str(strategy.id), "broker_connection_id": str(broker.id), "date": DAYS[0].isoformat(),
        "to": DAYS[-1].isoformat(), "speed_multiplier": "max", "fills_at": "bar_close"}, format="json")
    assert response.status_code == 201, response.content
    session_id = response.json()["session_id"]
    wait_for(lambda: SimulationSession.objects.get(pk=session_id).status == "completed", timeout=180,
             message="the two weeks to be replayed")
    return SimulationSession.objects.get(pk=session_id)


def test_an_fx_sessions_export_is_cut_by_its_trading_days_and_imports_with_the_same_answers(
        eurusd, alice, bob, as_alice, as_bob, as_charlie, tmp_path):
    original = run_fx(as_alice, alice)
    folder = export(original.id, tmp_path / "shared")

    manifest = json.loads((folder / "session.json").read_text())
    assert (manifest["underlying"], manifest["price_decimals"], manifest["currency"]) == ("EURUSD", 5, "USD")
    assert manifest["days"] == [d.isoformat() for d in DAYS]
    assert sorted(p.name for p in folder.iterdir() if p.is_dir()) == [d.isoformat() for d in DAYS]

    theirs = answers(as_alice, original.id, timeframe="1h", days=DAYS)
    executions = list(theirs["diagnostics"]["events_history"].values())
    trades = theirs["trades"]["results"]
    assert len(trades) >= 4, "the crossover trades over the two weeks: something to cut into days"
    times = [e["timestamp"] for e in executions] + [t["exit_time"] for t in trades]
    assert all(t.endswith("-04:00") for t in times), "New York's offset in April (EDT)"
    # Both wrong cuts would put some of these events on another day than the market's.
    assert any(trading_day(t) != date.fromisoformat(t[:10]) for t in times), "an event after 17:00 New York"
    assert any(trading_day(t) != datetime.fromisoformat(t).astimezone(IST).date() for t in times), \
        "an event between 18:30 and 21:00 UTC"

    for day in DAYS:
        key = day.isoformat()
        diagnostics = json.loads(gzip.decompress((folder / key / FILES[0]).read_bytes()))
        daily = json.loads(gzip.decompress((folder / key / FILES[1]).read_bytes()))
        positions = json.loads((folder / key / FILES[2]).read_bytes())
        assert list(diagnostics["events_history"]) == [e["execution_id"] for e in executions
                                                       if trading_day(e["timestamp"]) == day], key
        assert daily["date"] == key
        assert [t["trade_id"] for t in daily["trades"]] == [t["trade_id"] for t in trades
                                                            if trading_day(t["exit_time"]) == day], key
        assert daily["summary"]["total_trades"] == len(daily["trades"])
        assert daily["summary"]["net_pnl"] == f"{sum(Decimal(t['net_pnl']) for t in daily['trades']):.5f}"
        assert all(trading_day(p["entry_time"]) == day for p in positions), key
        # The API serves the same bytes as the folder holds.
        for name in FILES:
            response = as_alice.get(f"/api/sessions/{original.id}/exports/{name}?date={key}")
            assert response.content == (folder / key / name).read_bytes(), (key, name)
    # Five places survive: the prices are the bars' (a fill at a bar's close), in the trades files and the API.
    closes = {f"{c:.5f}" for c in eurusd.Close}
    assert all(t["entry_price"] in closes and t["exit_price"] in closes for t in trades)
    assert all(len(t[f].split(".")[1]) == 5 for t in trades for f in ("entry_price", "exit_price", "pnl", "net_pnl"))
    # The report counts the FX days' 24 hours: ten days, each from its open (17:00 New York the evening
    # before) to its last sample at its close.
    statistics = theirs["report"]["statistics"]
    assert (statistics["trading_days"], statistics["trading_seconds"]) == (10, 10 * 86_400)
    assert [d["date"] for d in theirs["report"]["daily"]] == [d.isoformat() for d in DAYS]

    imported = import_folder(folder, "bob")
    assert (imported.owner, imported.price_decimals, imported.currency) == (bob, 5, "USD")
    assert_same_answers(answers(as_bob, imported.id, timeframe="1h", days=DAYS), theirs, (imported.id, original.id))

    # Another user's session is not there; staff read and export either, as for any session.
    for session_id, stranger in ((original.id, as_bob), (imported.id, as_alice)):
        for path in (f"/api/sessions/{session_id}/exports/", f"/api/sessions/{session_id}/exports/session.json",
                     f"/api/sessions/{session_id}/exports/{FILES[1]}?date={DAYS[0]}"):
            assert stranger.get(path).status_code == 404, path
            assert as_charlie.get(path).status_code == 200, path
