"""Finished sessions for the history and report pages: real runs through the API at max speed (for the
figures a test checks) and cheap ended rows (for counts, pages and sums), plus the REST reads to compare with."""

from __future__ import annotations

from decimal import Decimal

import httpx

from live_trading.models import BrokerConnection
from sessions_app import actions
from sessions_app.models import SimulationSession
from strategies.models import Strategy
from tests.stream.conftest import bearer, example
from tests.waiting import wait_for

ENDED = ("completed", "stopped", "failed", "interrupted")


def strategy_for(user, name: str = "nifty_short_straddle", label: str | None = None):
    """A new strategy of ``user`` with the example graph ``name`` (called ``label``, else the example's
    name), and the user's paper broker connection (made on first use)."""
    graph = example(name)
    strategy = Strategy.objects.create(owner=user, name=label or graph.get("name", name), graph=graph)
    broker, _ = BrokerConnection.objects.get_or_create(owner=user, account_id=f"PAPER-{user.username}",
                                                       defaults={"starting_capital": Decimal("1000000.00")})
    return strategy, broker


def rest(server, user, path: str) -> dict:
    r = httpx.get(server.url(path), headers=bearer(user), timeout=30)
    assert r.status_code == 200, (path, r.status_code, r.text[:300])
    return r.json()


def run_day(server, user, strategy, broker, day: str, *, stop_early: bool = False) -> str:
    """Run ``strategy`` on ``day`` through the API to its end: at max speed (completed), or at real time
    and then stopped at once (``stop_early``: a stopped session). Returns the session id."""
    body = {"strategy_id": str(strategy.id), "broker_connection_id": str(broker.id), "date": day,
            "speed_multiplier": 1 if stop_early else "max"}
    r = httpx.post(server.url("/api/v2/live/start"), json=body, headers=bearer(user), timeout=30)
    assert r.status_code == 201, r.text
    session_id = r.json()["session_id"]
    if stop_early:
        r = httpx.post(server.url(f"/api/v2/live/stop/{session_id}"), headers=bearer(user), timeout=30)
        assert r.status_code == 200, r.text
    wait_for(lambda: rest(server, user, f"/api/live-trading/session/{session_id}")["status"] in ENDED,
             timeout=180, interval=0.2, message=f"session {session_id} to end")
    return session_id


def ended_row(user, strategy, day, *, net: str, charges: str = "0.00", trades: int = 0, status: str = "completed",
              underlying: str = "NIFTY", **money) -> SimulationSession:
    """A finished session row without a run (no trades, no samples): created, then moved to running and
    to ``status`` by the actions module with the given totals. ``money``: ``price_decimals`` and
    ``currency`` of an instrument other than the NSE's (two places of INR)."""
    session = SimulationSession.objects.create(
        owner=user, strategy=strategy, strategy_name=strategy.name, strategy_version=strategy.version,
        graph=strategy.graph, start_date=day, end_date=day, underlying=underlying, **money)
    assert actions.move_status(session.id, "running")
    assert actions.move_status(session.id, status, realized_pnl=Decimal(net), charges=Decimal(charges),
                               gross_pnl=Decimal(net) + Decimal(charges), total_trades=trades)
    return session


def api_sessions(server, user, **params) -> dict[str, dict]:
    """Every session of ``user`` as ``GET /api/sessions/`` lists it, by id."""
    out, url = {}, "/api/sessions/?" + "&".join(f"{k}={v}" for k, v in params.items())
    while url:
        body = rest(server, user, url.replace(server.base, ""))
        out.update({s["session_id"]: s for s in body["results"]})
        url = body["next"]
    return out
