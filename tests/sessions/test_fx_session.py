"""An FX pair as a session of the product: imported from a file, started through the API, read back
through REST and replayed by ``simulate``, with no code change and its money exact to 0.00001.

The EURUSD table is appended to the package data file (``tests/engine/fx_underlyings.toml``, the
differential test's); ten months of backtesting.py's hourly EURUSD sample are imported as 1h bars, and
alice runs the differential test's SMA crossover over the whole range through ``/api/v2/live/start``
with fees ``none`` and fills at the bar's close. The trades the REST API gives must be backtesting.py's
with ``trade_on_close=True`` (and so the engine's, which the differential test checks against it):
entry and exit bar, size, prices and P&L to 0.00001, in USD.
"""

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from backtesting.test import EURUSD
from django.core.management import CommandError, call_command

from live_trading.marketdata.calendar import calendar_of
from live_trading.marketdata.importer import import_files
from live_trading.models import BrokerConnection
from sessions_app.models import SimulationSession
from strategies.models import Strategy
from tests.engine.test_fx_differential import (
    bars_csv,
    crossover_graph,
    fx_universe,
    in_session,
    reference_trades,
)
from tests.waiting import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

__all__ = ["fx_universe"]  # the fixture, used by name below

HOUR = 3600


@pytest.fixture
def eurusd(fx_universe, tmp_path, settings):
    """The in-session hourly bars, imported into this test's market-data folder; the first and last FX
    trading days they cover. Sessions may span them (about ten months)."""
    settings.MARKET_DATA_DIR = tmp_path / "market_data"
    settings.SIM_MAX_DAYS_PER_SESSION = 400
    data = in_session(EURUSD)
    import_files([bars_csv(tmp_path / "eurusd_1h.csv", data)], data_dir=settings.MARKET_DATA_DIR, timeframe="1h")
    calendar = calendar_of("EURUSD")
    first, last = (calendar.trading_date(int(ts.to_pydatetime().replace(tzinfo=UTC).timestamp()))
                   for ts in (data.index[0], data.index[-1]))
    return data, first, last


def bar_of(iso_time: str) -> datetime:
    """The opening time of the 1h bar whose close tick (its last second) a fill at the bar's close has."""
    return datetime.fromisoformat(iso_time).astimezone(UTC) - timedelta(seconds=HOUR - 1)


def as_reference(trade: dict) -> tuple:
    """A REST trade in ``reference_trades``' form: entry bar, exit bar, size, prices and P&L."""
    return (bar_of(trade["entry_time"]), bar_of(trade["exit_time"]), trade["quantity"], Decimal(trade["entry_price"]),
            Decimal(trade["exit_price"]), Decimal(trade["pnl"]))


def start(client, strategy, broker, first, last, **extra):
    return client.post("/api/v2/live/start", {
        "strategy_id": str(strategy.id), "broker_connection_id": str(broker.id), "date": first.isoformat(),
        "to": last.isoformat(), "speed_multiplier": "max", **extra}, format="json")


def test_an_imported_fx_pair_runs_as_a_session_whose_trades_match_backtesting_py(eurusd, alice, as_alice, as_bob,
                                                                                  as_charlie):
    data, first, last = eurusd
    strategy = Strategy.objects.create(owner=alice, name="EURUSD SMA crossover", graph=crossover_graph())
    broker = BrokerConnection.objects.create(owner=alice, account_id="PAPER-FX", fee_model="none",
                                             starting_capital=Decimal("1000000.00"))

    refused = start(as_alice, strategy, broker, first, last, fills_at="at_noon")
    assert refused.status_code == 400
    assert list(refused.json()) == ["fills_at"]

    response = start(as_alice, strategy, broker, first, last, fills_at="bar_close")
    assert response.status_code == 201, response.content
    session_id = response.json()["session_id"]
    wait_for(lambda: SimulationSession.objects.get(pk=session_id).status == "completed", timeout=300,
             message="the ten months to be replayed")

    answer = as_alice.get(f"/api/sessions/{session_id}/trades")
    assert answer.status_code == 200
    body = answer.json()
    trades = body["results"] if isinstance(body, dict) else body
    closed, still_open = reference_trades(data, on_close=True)
    assert [as_reference(t) for t in trades[:-1]] == closed
    # The position open at the end closes at the session's end, at the last bar's close.
    last_trade = trades[-1]
    assert [(bar_of(last_trade["entry_time"]), last_trade["quantity"], Decimal(last_trade["entry_price"]))] == still_open
    assert Decimal(last_trade["exit_price"]) == Decimal(f"{data.Close.iloc[-1]:.5f}")
    # Five places on the wire, prices and money alike; no charges under fees "none".
    assert all(len(t[f].split(".")[1]) == 5 for t in trades for f in ("entry_price", "exit_price", "pnl", "net_pnl"))
    assert {t["charges"] for t in trades} == {"0.00000"}

    [row] = as_alice.get("/api/sessions/").json()["results"]
    assert (row["fills_at"], row["price_decimals"], row["currency"]) == ("bar_close", 5, "USD")
    assert Decimal(row["gross_pnl"]) == sum(Decimal(t["pnl"]) for t in trades)
    assert row["gross_pnl"] == f"{sum(Decimal(t['pnl']) for t in trades):.5f}"
    session = SimulationSession.objects.get(pk=session_id)
    assert (session.fills_at, session.price_decimals, session.currency) == ("bar_close", 5, "USD")
    report = as_alice.get(f"/api/sessions/{session_id}/report").json()["statistics"]
    assert (report["gross_pnl"], report["trades"]) == (row["gross_pnl"], len(trades))
    curve = as_alice.get(f"/api/sessions/{session_id}/equity").json()["samples"]
    assert curve[-1]["net_pnl"] == row["realized_pnl"]  # everything closed at the end: the final net P&L
    # The days of the session list's row (rebuilt from the stored samples) are the engine's own, FX trading
    # days (17:00 to 17:00 New York) and all: the live summary's at the end.
    live_days = session.final_state["summary"]["daily_pnl"]
    assert len(live_days) > 200 and row["daily_pnl"] == live_days
    candles = as_alice.get(f"/api/sessions/{session_id}/candles?timeframe=1h").json()["candles"]
    assert (candles[0]["open"], candles[-1]["close"]) == (round(data.Open.iloc[0], 5), round(data.Close.iloc[-1], 5))

    assert as_bob.get(f"/api/sessions/{session_id}/trades").status_code == 404  # another user's: not there
    assert as_charlie.get(f"/api/sessions/{session_id}/trades").json() == body  # staff read everyone's


def test_simulate_replays_the_imported_pair_and_prints_its_trades_in_five_places(eurusd, tmp_path, capsys):
    data, first, last = eurusd
    path = tmp_path / "crossover.json"
    path.write_text(json.dumps(crossover_graph()))

    call_command("simulate", "--strategy", str(path), "--date", first.isoformat(), "--to", last.isoformat(),
                 "--fees", "none", "--fills-at", "bar_close", "--json")
    result = json.loads(capsys.readouterr().out)
    closed, _ = reference_trades(data, on_close=True)
    assert [as_reference(t) for t in result["trades"][:-1]] == closed
    assert result["fills_at"] == "bar_close"

    call_command("simulate", "--strategy", str(path), "--date", first.isoformat(), "--to", last.isoformat(),
                 "--fees", "none", "--fills-at", "bar_close")
    printed = capsys.readouterr().out
    for _, _, _, entry_price, exit_price, pnl in closed:
        assert f"{entry_price:>9} -> {exit_price:>9}  pnl {pnl:>10}" in printed


def test_an_fx_session_pays_its_connections_flat_fee_in_dollars_and_refuses_the_nse_schedule(
        eurusd, alice, as_alice, as_bob, tmp_path, capsys):
    """A connection's fee is money of the instrument's currency: "2.50" an order on EURUSD is 2.50000 USD,
    not 250 units of 0.00001; the NSE schedule (rupees and paise) is refused naming the connection."""
    _, first, _ = eurusd
    last = first + timedelta(days=30)
    strategy = Strategy.objects.create(owner=alice, name="EURUSD SMA crossover", graph=crossover_graph())
    nse = BrokerConnection.objects.create(owner=alice, account_id="PAPER-NSE", starting_capital=Decimal("1000000.00"))

    refused = start(as_alice, strategy, nse, first, last)
    assert refused.status_code == 400, refused.content
    [message] = refused.json()["broker_connection_id"]
    assert message.startswith("fee_model: nse_fo charges the NSE's schedule in rupees and paise")
    assert not SimulationSession.objects.exists()

    flat = BrokerConnection.objects.create(owner=alice, account_id="PAPER-FLAT", fee_model="per_order",
                                           fee_per_order=Decimal("2.50"), starting_capital=Decimal("1000000.00"))
    assert start(as_bob, strategy, flat, first, last).status_code == 400  # not bob's strategy nor connection
    response = start(as_alice, strategy, flat, first, last, fills_at="bar_close")
    assert response.status_code == 201, response.content
    session_id = response.json()["session_id"]
    wait_for(lambda: SimulationSession.objects.get(pk=session_id).status == "completed", timeout=120,
             message="a month to be replayed")
    body = as_alice.get(f"/api/sessions/{session_id}/trades").json()
    trades = body["results"] if isinstance(body, dict) else body
    assert trades
    # each trade is two orders of 2.50 USD
    assert {t["charges"] for t in trades} == {"5.00000"}
    for t in trades:
        assert Decimal(t["net_pnl"]) == Decimal(t["pnl"]) - Decimal("5")
    [row] = as_alice.get("/api/sessions/").json()["results"]
    assert Decimal(row["charges"]) == 5 * len(trades)

    path = tmp_path / "crossover.json"
    path.write_text(json.dumps(crossover_graph()))
    args = ("simulate", "--strategy", str(path), "--date", first.isoformat(), "--to", last.isoformat(),
            "--fills-at", "bar_close", "--json")
    with pytest.raises(CommandError) as error:
        call_command(*args)  # the default fee model, nse_fo
    assert str(error.value).startswith("--fees: nse_fo charges the NSE's schedule in rupees and paise")
    call_command(*args, "--fees", "per_order", "--fee-per-order", "2.50")
    printed = json.loads(capsys.readouterr().out)
    assert {t["charges"] for t in printed["trades"]} == {"5.00000"}
