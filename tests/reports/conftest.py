"""The two hand-worked sessions (tests/reports/sessions.py), run for real: the scripted day stored as an
imported day in a market-data folder of the test's own, each session started through the API and run by
its own thread at full speed, writing to the real Postgres (so these tests commit)."""

from decimal import Decimal

import pytest

from live_trading.marketdata.day import write_day
from live_trading.marketdata.store import imported_path
from live_trading.models import BrokerConnection
from live_trading.runner.registry import registry
from sessions_app.models import SimulationSession
from strategies.models import Strategy
from tests.engine.scripted import DAY
from tests.reports import sessions
from tests.waiting import wait_for


def store_days(data_dir, days) -> None:
    """Store each of ``days`` in ``data_dir`` as its underlying's imported day."""
    for day in days:
        path = imported_path(day.underlying, day.date, data_dir)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_day(day, path)


def store_day(data_dir) -> None:
    """Store the scripted day in ``data_dir`` as NIFTY's imported day for 29 Oct 2024."""
    store_days(data_dir, [sessions.day()])


def imported_market(settings, data_dir, days):
    """A fixture's body (``yield from``): ``days`` stored in ``data_dir`` (``store_days``), that folder made
    the market-data folder; after the test, every session thread stopped."""
    store_days(data_dir, days)
    settings.MARKET_DATA_DIR = data_dir
    yield data_dir
    registry.shutdown("test ended", timeout=20)


@pytest.fixture
def scripted_market(settings, tmp_path):
    yield from imported_market(settings, tmp_path, [sessions.day()])


def start_session(client, user, graph: dict, speed="max") -> str:
    """Start ``graph`` for ``user`` on the scripted day through the API; return the session's id."""
    strategy = Strategy.objects.create(owner=user, name=graph["name"], graph=graph)
    broker, _ = BrokerConnection.objects.get_or_create(
        owner=user, account_id=f"PAPER-{user.username}", defaults={"starting_capital": Decimal("1000000.00")})
    response = client.post("/api/v2/live/start", {
        "strategy_id": str(strategy.id), "broker_connection_id": str(broker.id), "date": DAY.isoformat(),
        "speed_multiplier": speed}, format="json")
    assert response.status_code == 201, response.content
    return response.json()["session_id"]


def run_session(client, user, graph: dict) -> SimulationSession:
    """Run ``graph`` for ``user`` on the scripted day through the API, at full speed, to its end."""
    session_id = start_session(client, user, graph)
    wait_for(lambda: SimulationSession.objects.get(pk=session_id).status == "completed",
             message=f"session {session_id} to complete")
    return SimulationSession.objects.get(pk=session_id)
