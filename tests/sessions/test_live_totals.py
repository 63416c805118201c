"""A running session's totals in the answers to pause, speed and stop and in the session list: the live
figures (issue 10: a pause right after a closed trade answered ``total_trades 0``, P&L ``0.00``, the row's
values before the session ended). Expected values are worked out from the session's trades endpoint."""

from decimal import ROUND_HALF_UP, Decimal

import pytest

from live_trading.runner.build import prepare_run
from sessions_app.models import SimulationSession, new_session_id
from tests.sessions.conftest import DAY, start_body
from tests.waiting import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

TOTALS = ("total_trades", "winning_trades", "losing_trades", "win_rate", "gross_pnl", "charges", "realized_pnl")


def trades_of(client, session_id) -> list[dict]:
    body = client.get(f"/api/sessions/{session_id}/trades").json()
    assert body["next"] is None, "one page holds them all"
    return body["results"]


def totals_of(trades: list[dict]) -> dict:
    """What the totals must be, from the trades alone: a trade wins when its net P&L is above zero,
    P&L is net of charges (``realized_pnl``), the win rate is a percentage rounded half up to 0.01."""
    net = [Decimal(t["net_pnl"]) for t in trades]
    wins = sum(1 for n in net if n > 0)
    rate = (Decimal(100 * wins) / len(trades)).quantize(Decimal("0.01"), ROUND_HALF_UP) if trades else Decimal(0)
    return {
        "total_trades": len(trades), "winning_trades": wins, "losing_trades": len(trades) - wins,
        "win_rate": f"{rate:.2f}", "gross_pnl": f"{sum(Decimal(t['pnl']) for t in trades):.2f}",
        "charges": f"{sum(Decimal(t['charges']) for t in trades):.2f}", "realized_pnl": f"{sum(net):.2f}",
    }


def shown(body: dict) -> dict:
    return {k: body[k] for k in TOTALS}


def closed_trades(client, session_id) -> int:
    return client.get(f"/api/live-trading/session/{session_id}").json()["data"]["gps_data"]["pnl"]["closed_trades"]


def listed(client, session_id) -> dict | None:
    rows = client.get("/api/sessions/").json()["results"]
    return next((r for r in rows if r["session_id"] == session_id), None)


def test_pause_speed_list_and_stop_answer_the_totals_of_the_trades_closed_so_far(
        as_alice, as_bob, as_charlie, alice_setup):
    strategy, broker = alice_setup
    session_id = as_alice.post("/api/v2/live/start", start_body(strategy, broker, speed_multiplier=120),
                               format="json").json()["session_id"]
    wait_for(lambda: closed_trades(as_alice, session_id) >= 1, timeout=60, message="the first closed trade")

    assert as_bob.post(f"/api/v2/live/pause/{session_id}").status_code == 404
    paused = as_alice.post(f"/api/v2/live/pause/{session_id}")

    assert paused.status_code == 200 and paused.json()["status"] == "paused"
    trades = trades_of(as_alice, session_id)
    assert len(trades) >= 1
    assert shown(paused.json()) == totals_of(trades)
    assert paused.json()["total_trades"] == len(trades) != 0

    assert as_bob.post(f"/api/v2/live/speed/{session_id}", {"speed_multiplier": 60}, format="json").status_code == 404
    faster = as_charlie.post(f"/api/v2/live/speed/{session_id}", {"speed_multiplier": 60}, format="json")
    assert faster.status_code == 200, "staff may control any session"
    assert shown(faster.json()) == totals_of(trades), "paused: no trade closed since"

    assert shown(listed(as_alice, session_id)) == totals_of(trades)
    assert listed(as_bob, session_id) is None and listed(as_charlie, session_id) is None, "a list is one's own"

    assert as_alice.post(f"/api/v2/live/resume/{session_id}").status_code == 200
    assert as_bob.post(f"/api/v2/live/stop/{session_id}").status_code == 404
    stopped = as_alice.post(f"/api/v2/live/stop/{session_id}")

    assert stopped.status_code == 200 and stopped.json()["status"] == "stopped"
    trades = trades_of(as_alice, session_id)  # stopping closed what was open: more trades
    assert shown(stopped.json()) == totals_of(trades)
    assert shown(listed(as_alice, session_id)) == totals_of(trades)


def test_a_session_running_in_another_process_shows_the_totals_it_has_committed(
        as_alice, as_bob, as_charlie, alice, alice_setup):
    # Another process's session, as this process sees it: its rows, written by its writer, and no thread here.
    strategy, broker = alice_setup
    session_id = new_session_id()
    run = prepare_run(session_id, alice.user_id, strategy.graph, DAY, DAY, seed=7,
                      starting_capital=broker.starting_capital)
    SimulationSession.objects.create(
        id=session_id, owner=alice, strategy=strategy, strategy_name=strategy.name, strategy_version=strategy.version,
        graph=strategy.graph, broker_connection=broker, speed_multiplier=1, start_date=DAY, end_date=DAY,
        underlying=run.underlying, seed=7, total_ticks=run.total_ticks,
    )
    assert run.writer.started()
    while run.writer.summary is None:  # up to the first closed trade
        assert run.engine.step()
    run.writer.flush(run.engine)

    trades = trades_of(as_alice, session_id)
    assert len(trades) >= 1
    row = listed(as_alice, session_id)
    assert row["status"] == "running" and shown(row) == totals_of(trades)
    assert listed(as_bob, session_id) is None
    summary = as_charlie.get(f"/api/live-trading/session/{session_id}").json()["data"]["summary"]
    expected = totals_of(trades)
    assert (summary["total_trades"], summary["net_pnl"], summary["gross_pnl"], summary["charges"]) == (
        expected["total_trades"], expected["realized_pnl"], expected["gross_pnl"], expected["charges"])
