"""Sessions run in real threads writing to the real Postgres, so these tests commit (transactional_db)."""

import json
import threading
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connections

from live_trading.models import BrokerConnection
from live_trading.runner.registry import registry
from strategies.models import Strategy

EXAMPLES = Path(__file__).resolve().parents[2] / "strategies" / "examples"
DAY = date(2024, 10, 29)


def example(name: str) -> dict:
    return json.loads((EXAMPLES / f"{name}.json").read_text())


@pytest.fixture(autouse=True)
def _no_threads_left_behind():
    yield
    registry.shutdown("test ended", timeout=20)


def setup_for(user, strategy_name="nifty_short_straddle"):
    graph = example(strategy_name)
    strategy = Strategy.objects.create(owner=user, name=graph.get("name", strategy_name), graph=graph)
    broker = BrokerConnection.objects.create(owner=user, account_id=f"PAPER-{user.username}",
                                             starting_capital=Decimal("1000000.00"))
    return strategy, broker


@pytest.fixture
def alice_setup(alice):
    return setup_for(alice)


@pytest.fixture
def bob_setup(bob):
    return setup_for(bob)


def start_body(strategy, broker, **extra):
    return {"strategy_id": str(strategy.id), "broker_connection_id": str(broker.id), "date": DAY.isoformat(), **extra}


class Background(threading.Thread):
    """Run ``call`` on a thread with its own database connection; ``result`` holds what it returned."""

    def __init__(self, call):
        super().__init__(daemon=True)
        self.call = call
        self.result = None
        self.error = None

    def run(self):
        try:
            self.result = self.call()
        except BaseException as exc:  # handed to the test, which re-raises it
            self.error = exc
        finally:
            connections.close_all()

    def outcome(self, timeout=60.0):
        self.join(timeout)
        assert not self.is_alive(), "the background call did not finish"
        if self.error is not None:
            raise self.error
        return self.result
