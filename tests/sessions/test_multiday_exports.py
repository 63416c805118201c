"""A session over two trading days has export files per day (GET /api/sessions/{id}/exports/): the days'
trades add up to the session's trade list and totals, each day's file holds only that day's, a file asked
for without its day is refused naming ``date``, and ``simulate --out`` writes the same per-day folders."""

import gzip
import io
import json
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command

from live_trading import actions
from sessions_app.models import SimulationSession
from tests.sessions.conftest import DAY
from tests.waiting import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
DAYS = ["2024-10-29", "2024-10-30"]


def gz(response) -> dict:
    assert response.status_code == 200, response.content
    return json.loads(gzip.decompress(response.content))


def test_a_two_day_session_has_each_days_files(as_alice, as_bob, alice, alice_setup, settings, tmp_path):
    settings.MARKET_DATA_DIR = tmp_path / "market"
    strategy, broker = alice_setup
    session = actions.start_session(alice, actions.StartRequest(
        strategy=strategy, broker_connection=broker, speed_multiplier=0.0, mode="backtest",
        start_date=DAY, end_date=date(2024, 10, 30), seed=0))  # simulate's --seed 0: same data, same ids
    wait_for(lambda: SimulationSession.objects.get(pk=session.id).status == "completed", timeout=120,
             message="the two-day session to complete")
    session.refresh_from_db()
    base = f"/api/sessions/{session.id}/exports/"

    assert [d["date"] for d in as_alice.get(base).json()["days"]] == DAYS
    undated = as_alice.get(base + "trades_daily.json.gz")
    assert undated.status_code == 400 and "date" in undated.json()
    assert as_bob.get(base + "trades_daily.json.gz", {"date": DAYS[0]}).status_code == 404

    all_trades = as_alice.get(f"/api/sessions/{session.id}/trades", ).json()["results"]
    daily = [gz(as_alice.get(base + "trades_daily.json.gz", {"date": day})) for day in DAYS]
    for day, file in zip(DAYS, daily, strict=True):
        assert file["date"] == day
        assert all(t["exit_time"][:10] == day for t in file["trades"])
        assert file["summary"]["total_trades"] == len(file["trades"])
        assert Decimal(file["summary"]["net_pnl"]) == sum(Decimal(t["net_pnl"]) for t in file["trades"])
        diagnostics = gz(as_alice.get(base + "diagnostics_export.json.gz", {"date": day}))
        assert diagnostics["events_history"]
        assert all(e["timestamp"][:10] == day for e in diagnostics["events_history"].values())
        positions = json.loads(as_alice.get(base + "positions.json", {"date": day}).content)
        assert positions and all(p["entry_time"][:10] == day and p["status"] == "CLOSED" for p in positions)
    assert daily[0]["trades"] and daily[1]["trades"]  # the straddle trades on both days
    assert daily[0]["trades"] + daily[1]["trades"] == all_trades
    assert sum(Decimal(f["summary"]["net_pnl"]) for f in daily) == session.realized_pnl
    assert sum(f["summary"]["total_trades"] for f in daily) == session.total_trades

    out = tmp_path / "out"
    call_command("simulate", "--strategy", "nifty_short_straddle", "--date", DAYS[0], "--to", DAYS[1],
                 "--seed", "0", "--out", str(out), stdout=io.StringIO())
    # a folder per day, the manifest, and the whole run's stream once, in seed 003's files
    assert sorted(p.name for p in out.iterdir()) == sorted([
        *DAYS, "session.json", "initial_state.json", "final_state.json", "tick_updates_stream.jsonl",
        "node_events_stream.jsonl", "trade_updates_stream.jsonl", "position_events_stream.jsonl",
        "candle_updates_stream.jsonl"])
    for day, file in zip(DAYS, daily, strict=True):
        assert json.loads(gzip.decompress((out / day / "trades_daily.json.gz").read_bytes())) == file
