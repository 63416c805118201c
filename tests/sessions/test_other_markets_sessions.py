"""Other markets as sessions of the product: a crypto pair over a weekend and a US stock into an early
close, started through the API by alice, hidden from bob, read by charlie (staff), and replayed by
``simulate``; an option entry on a future refused by the strategies API. No code names any of them: their
tables are appended to the package data file (``tests/marketdata/markets.py``).

The expectations are worked out from the bars in ``tests/engine/test_crypto_pair.py`` (the weekend's fills
and each UTC day's P&L) and ``tests/marketdata/test_calendar_sessions.py`` (the early close's rows and
square-off); here they must come back through REST, the session's state and ``simulate``.
"""

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from live_trading.marketdata.importer import import_files
from live_trading.models import BrokerConnection
from sessions_app.models import SimulationSession
from strategies.models import Strategy
from tests.engine import test_crypto_pair as crypto
from tests.marketdata import test_calendar_sessions as early
from tests.marketdata.markets import aware, bars_csv, markets_universe
from tests.waiting import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

__all__ = ["markets_universe"]  # the fixture, used by name below

NEW_YORK = ZoneInfo("America/New_York")
WEEKEND_TICKS = 4 * 288 * 4  # four days of 5-minute bars, four ticks a bar


@pytest.fixture
def data_dir(markets_universe, settings, tmp_path):
    settings.MARKET_DATA_DIR = tmp_path / "market_data"
    return settings.MARKET_DATA_DIR


def start(client, strategy, broker, first, last):
    return client.post("/api/v2/live/start", {
        "strategy_id": str(strategy.id), "broker_connection_id": str(broker.id), "date": first.isoformat(),
        "to": last.isoformat(), "speed_multiplier": "max"}, format="json")


def completed(session_id: str) -> SimulationSession:
    wait_for(lambda: SimulationSession.objects.get(pk=session_id).status == "completed", timeout=120,
             message=f"session {session_id} to complete")
    return SimulationSession.objects.get(pk=session_id)


def test_a_crypto_pair_runs_over_a_weekend_as_one_session(data_dir, tmp_path, alice, as_alice, as_bob, as_charlie):
    bars = crypto.weekend_bars()
    import_files([bars_csv(tmp_path / "btcusd_5m.csv", "BTCUSD", bars)], data_dir=data_dir, timeframe="5m")
    strategy = Strategy.objects.create(owner=alice, name="BTCUSD weekend", graph=crypto.weekend_graph())
    broker = BrokerConnection.objects.create(owner=alice, account_id="PAPER-CRYPTO", fee_model="percent",
                                             fee_percent=Decimal("0.1"), starting_capital=Decimal("1000000.00"))
    friday, monday = crypto.DAYS[0], crypto.DAYS[-1]

    # A day of the range that was not imported: refused before anything runs, naming the field that
    # reaches it: `to` for a later day of the range, `date` for its first.
    refused = start(as_alice, strategy, broker, friday, monday + timedelta(days=1))
    assert refused.status_code == 400
    assert refused.json() == {"to": ["no BTCUSD market data for 2024-03-12: nothing imported, and BTCUSD "
                                     "(CRYPTO_24X7 calendar) has no synthetic market: import its data"]}
    refused = start(as_alice, strategy, broker, friday - timedelta(days=1), monday)
    assert refused.status_code == 400
    assert refused.json() == {"date": ["no BTCUSD market data for 2024-03-07: nothing imported, and BTCUSD "
                                       "(CRYPTO_24X7 calendar) has no synthetic market: import its data"]}
    assert not SimulationSession.objects.exists()

    response = start(as_alice, strategy, broker, friday, monday)
    assert response.status_code == 201, response.content
    session_id = response.json()["session_id"]
    # Progress counts every tick of the four days from the start, the weekend's included.
    assert SimulationSession.objects.get(pk=session_id).total_ticks == WEEKEND_TICKS
    session = completed(session_id)
    assert (session.ticks_processed, session.total_ticks) == (WEEKEND_TICKS, WEEKEND_TICKS)

    (entry_time, entry_price), (exit_time, exit_price), daily = crypto.expected(bars)
    answer = as_alice.get(f"/api/sessions/{session_id}/trades")
    body = answer.json()
    [trade] = body["results"] if isinstance(body, dict) else body
    assert (aware(trade["entry_time"]), Decimal(trade["entry_price"]), trade["quantity"]) == (
        entry_time, entry_price, crypto.COINS)  # Saturday 03:00 UTC
    assert (aware(trade["exit_time"]), Decimal(trade["exit_price"])) == (exit_time, exit_price)  # Sunday 21:00 UTC
    assert Decimal(trade["charges"]) == crypto.fee(entry_price) + crypto.fee(exit_price)

    state = as_alice.get(f"/api/live-trading/session/{session_id}")
    assert state.status_code == 200
    assert state.json()["data"]["summary"]["daily_pnl"] == [{"date": d.isoformat(), "pnl": f"{pnl:.2f}"}
                                                            for d, pnl in daily]
    assert state.json()["progress"]["progress_percentage"] == 100
    hours = as_alice.get(f"/api/sessions/{session_id}/candles?timeframe=1h").json()["candles"]
    assert [datetime.fromtimestamp(c["time"], UTC) for c in hours] == [
        datetime(2024, 3, 8, tzinfo=UTC) + timedelta(hours=h) for h in range(96)]  # no hour of the weekend skipped

    for path in (f"/api/sessions/{session_id}/trades", f"/api/live-trading/session/{session_id}"):
        assert as_bob.get(path).status_code == 404  # another user's: not there
    assert as_charlie.get(f"/api/sessions/{session_id}/trades").json() == body  # staff read everyone's
    assert as_charlie.get(f"/api/live-trading/session/{session_id}").json()["data"]["summary"] == (
        state.json()["data"]["summary"])


def test_simulate_replays_the_weekend_and_prints_the_pnl_of_each_utc_day(data_dir, tmp_path, capsys):
    bars = crypto.weekend_bars()
    import_files([bars_csv(tmp_path / "btcusd_5m.csv", "BTCUSD", bars)], data_dir=data_dir, timeframe="5m")
    path = tmp_path / "weekend.json"
    path.write_text(json.dumps(crypto.weekend_graph()))
    args = ("simulate", "--strategy", str(path), "--date", "2024-03-08", "--to", "2024-03-11", "--fees", "percent",
            "--fee-percent", "0.1")

    call_command(*args, "--json")

    result = json.loads(capsys.readouterr().out)
    _, _, daily = crypto.expected(bars)
    assert result["days"] == ["2024-03-08", "2024-03-09", "2024-03-10", "2024-03-11"]
    assert result["summary"]["daily_pnl"] == [{"date": d.isoformat(), "pnl": f"{pnl:.2f}"} for d, pnl in daily]
    assert result["ticks"] == WEEKEND_TICKS

    call_command(*args)
    printed = capsys.readouterr().out
    assert "P&L by day (marked to market at each close): " + ", ".join(
        f"{d.isoformat()} {pnl:.2f}" for d, pnl in daily) in printed


def test_a_us_stock_session_into_the_early_close_counts_its_ticks_and_squares_off_at_one(data_dir, tmp_path, alice,
                                                                                       as_alice):
    bars = early.aapl_bars()
    import_files([bars_csv(tmp_path / "aapl_1m.csv", "AAPL", bars)], data_dir=data_dir)
    strategy = Strategy.objects.create(owner=alice, name="AAPL at 09:45", graph=early.bought_at_a_quarter_to_ten())
    broker = BrokerConnection.objects.create(owner=alice, account_id="PAPER-US", fee_model="none",
                                             starting_capital=Decimal("100000.00"))

    response = start(as_alice, strategy, broker, early.WEDNESDAY, early.FRIDAY)

    assert response.status_code == 201, response.content
    session_id = response.json()["session_id"]
    # Wednesday's 23,400 seconds and the early close's 12,600 (09:30-13:00), Thanksgiving none.
    assert SimulationSession.objects.get(pk=session_id).total_ticks == 36_000
    session = completed(session_id)
    assert session.ticks_processed == 36_000
    body = as_alice.get(f"/api/sessions/{session_id}/trades").json()
    trades = body["results"] if isinstance(body, dict) else body
    assert [(aware(t["exit_time"]).astimezone(NEW_YORK), Decimal(t["exit_price"]), t["exit_reason"]) for t in trades] == [
        (early.ny(early.WEDNESDAY, "15:55:00"), Decimal(early.bar_at(bars, early.ny(early.WEDNESDAY, "15:55:00"))[1]) / 100,
         "square_off"),
        (early.ny(early.FRIDAY, "12:59:59"), Decimal(early.bar_at(bars, early.ny(early.FRIDAY, "12:59:00"))[4]) / 100,
         "square_off"),
    ]
    assert (session.currency, session.price_decimals) == ("USD", 2)


def test_the_strategies_api_refuses_an_option_entry_on_a_future_naming_the_path(markets_universe, alice, as_alice):
    graph = crypto.weekend_graph()
    graph["nodes"][0]["config"]["underlying"] = "ES"
    graph["nodes"][1]["config"]["conditions"]["all"][0]["right"]["value"] = "mon"
    graph["nodes"][3]["config"]["conditions"]["all"][0]["right"]["value"] = "tue"
    graph["nodes"][2]["config"] = {"instrument": "option", "expiry": "current_monthly", "right": "CE",
                                   "strike": {"rule": "atm", "offset": 0}, "side": "buy", "lots": 1}

    response = as_alice.post("/api/strategies/", {"name": "ES calls", "graph": graph}, format="json")

    assert response.status_code == 400
    assert response.json() == {"graph": ['nodes[2].config.instrument: ES has no options; trade it with "underlying"']}
    assert not Strategy.objects.filter(owner=alice).exists()
