"""A positional short strangle over a week through the API: started with a date range, run by the real
thread into the real Postgres, settled at expiry, reported per day (the figures worked by hand in
tests/engine/test_positional.py, on the same scripted days)."""

import json
from decimal import Decimal

import pytest

from live_trading.models import BrokerConnection
from live_trading.snapshots import committed_snapshot
from sessions_app.models import SimulationSession
from strategies.models import Strategy
from tests.engine import test_positional as hand
from tests.reports.conftest import imported_market
from tests.waiting import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def scripted_week(settings, tmp_path):
    yield from imported_market(settings, tmp_path, hand.week_of_prices())


def test_a_positional_strangle_runs_over_a_week_in_the_api_and_settles_at_expiry(
    as_alice, as_bob, as_charlie, alice, scripted_week
):
    strategy = Strategy.objects.create(
        owner=alice, name="Positional strangle", graph=hand.strangle_data("at_expiry")
    )
    broker, _ = BrokerConnection.objects.get_or_create(
        owner=alice, account_id="PAPER-alice", defaults={"starting_capital": Decimal("1000000.00")}
    )
    response = as_alice.post(
        "/api/v2/live/start",
        {
            "strategy_id": str(strategy.id),
            "broker_connection_id": str(broker.id),
            "date": "2024-10-28",
            "to": "2024-10-31",
            "speed_multiplier": "max",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    session_id = response.json()["session_id"]
    wait_for(
        lambda: SimulationSession.objects.get(pk=session_id).status == "completed",
        message=f"session {session_id} to complete",
    )

    session = SimulationSession.objects.get(pk=session_id)
    trades = {t.symbol: t for t in session.trades.all()}
    assert {s: (t.exit_reason, t.exit_price) for s, t in trades.items()} == {
        hand.CE: ("settled", Decimal("37.35")),
        hand.PE: ("expired", Decimal("0.00")),
    }
    assert session.realized_pnl == Decimal(hand.NET) / 100
    # stored days are whole sessions (09:15:00-15:29:59, the scripted prices held to the close): progress
    # counts the four
    assert (session.ticks_processed, session.total_ticks) == (4 * 22_500, 4 * 22_500)
    assert session.final_state["summary"]["daily_pnl"] == [
        {"date": "2024-10-28", "pnl": "123.59"},
        {"date": "2024-10-29", "pnl": "-50.00"},
        {"date": "2024-10-30", "pnl": "1125.00"},
        {"date": "2024-10-31", "pnl": "691.25"},
    ]

    # The summary rebuilt from the stored rows later carries the same days as the engine's live one at the
    # end: the session list (GET /api/sessions/), the export manifest, and the state a session running in
    # another process (or ended without its final state) is shown from.
    live_days = session.final_state["summary"]["daily_pnl"]
    rows = {r["session_id"]: r for r in as_alice.get("/api/sessions/").json()["results"]}
    assert rows[session_id]["daily_pnl"] == live_days
    assert sum(Decimal(d["pnl"]) for d in rows[session_id]["daily_pnl"]) == Decimal(
        rows[session_id]["realized_pnl"]
    )
    manifest = as_alice.get(f"/api/sessions/{session_id}/exports/session.json")
    assert manifest.status_code == 200
    body = b"".join(manifest.streaming_content) if manifest.streaming else manifest.content
    assert json.loads(body)["summary"]["daily_pnl"] == live_days
    assert committed_snapshot(session)["summary"] == session.final_state["summary"]
    state = as_alice.get(f"/api/live-trading/session/{session_id}").json()
    assert state["data"]["summary"]["daily_pnl"] == live_days
    assert as_bob.get("/api/sessions/").json()["results"] == []
    staff_rows = as_charlie.get(f"/api/sessions/?owner={alice.user_id}").json()["results"]
    assert [r["daily_pnl"] for r in staff_rows] == [live_days]

    path = f"/api/sessions/{session_id}/report"
    report = as_alice.get(path).json()
    # the report marks each day to market from the stored equity samples: the same days
    assert [(r["date"], r["trades"], r["mtm_pnl"]) for r in report["daily"]] == [
        ("2024-10-28", 0, "123.59"),
        ("2024-10-29", 0, "-50.00"),
        ("2024-10-30", 0, "1125.00"),
        ("2024-10-31", 2, "691.25"),
    ]
    assert {g["exit_reason"] for g in report["by_exit_reason"]} == {"settled", "expired"}
    assert as_bob.get(path).status_code == 404
    assert as_charlie.get(path).json()["daily"] == report["daily"]
