"""The small valid graph the API tests post, the one the API docs show (Bearer-token clients: tests/conftest.py)."""

import copy

from strategies.graph.examples import ATM_SHORT_CALL

GRAPH = ATM_SHORT_CALL


def graph(**changes):
    """Return a fresh copy of GRAPH with top-level ``changes``."""
    g = copy.deepcopy(GRAPH)
    g.update(changes)
    return g


def objects_of(user) -> dict:
    """One object of each kind the API's paths name, owned by ``user`` (an ended session among them);
    returns their ids: ``strategy``, ``broker``, ``session_id``, ``user_id``."""
    from datetime import date
    from decimal import Decimal

    from live_trading.broker_actions import create_broker_connection
    from sessions_app import lifecycle
    from sessions_app.models import SimulationSession
    from strategies.actions import create_strategy

    strategy = create_strategy(user, name="Fuzzed", graph=GRAPH)
    broker = create_broker_connection(user, account_id="FUZZ-1", starting_capital=Decimal("100000.00"))
    session = SimulationSession.objects.create(
        owner=user, strategy=strategy, strategy_name=strategy.name, strategy_version=1, graph=GRAPH,
        broker_connection=broker, start_date=date(2024, 11, 4), end_date=date(2024, 11, 4), underlying="NIFTY",
        status=lifecycle.COMPLETED,
    )
    return {"strategy": str(strategy.id), "broker": str(broker.id), "session_id": session.id, "user_id": user.user_id}
