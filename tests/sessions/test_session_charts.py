"""The session page's charts through the API, on sessions run by real threads into the real Postgres:
the underlying's candles up to a session's exchange time (checked against a pandas resample of the
day's ticks) and its P&L curve from the samples written with its batches."""

from datetime import date, datetime, timedelta
from decimal import Decimal

import pandas as pd
import pytest
from django.conf import settings

from live_trading.marketdata.calendar import EXCHANGE_TZ, market_open_ts
from live_trading.marketdata.store import load_day, synthetic_path
from sessions_app.models import SimulationSession
from tests.sessions.conftest import DAY, start_body
from tests.waiting import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

NEXT_DAY = date(2024, 10, 30)
# pandas' resample rule and offset of each timeframe: bins from 09:15 (an hour 09:15-10:15, a day's one
# bin from its 09:15), the grid the endpoint documents.
RULES = {"1m": ("1min", None), "3m": ("3min", None), "5m": ("5min", None), "10m": ("10min", "5min"),
         "15m": ("15min", None), "30m": ("30min", "15min"), "1h": ("1h", "15min"), "1d": ("24h", "9h15min")}


def start(client, setup, **extra) -> str:
    strategy, broker = setup
    response = client.post("/api/v2/live/start", start_body(strategy, broker, **extra), format="json")
    assert response.status_code == 201, response.content
    return response.json()["session_id"]


def ended(session_id) -> SimulationSession:
    wait_for(lambda: SimulationSession.objects.get(pk=session_id).status in ("completed", "stopped"),
             message="the session's end")
    return SimulationSession.objects.get(pk=session_id)


def ticks_processed(client, session_id) -> int:
    return client.get(f"/api/live-trading/session/{session_id}").json()["progress"]["ticks_processed"]


def resampled(day, timeframe: str, up_to: int | None = None) -> list[dict]:
    """The underlying's candles of ``day`` (its ticks at or before ``up_to``), by pandas."""
    ticked = day.tick_mask[:, 0].copy()
    if up_to is not None:
        ticked &= day.timestamps <= up_to
    when = pd.to_datetime(day.timestamps[ticked], unit="s", utc=True).tz_convert("Asia/Kolkata")
    prices = pd.Series(day.prices[ticked, 0], index=when)
    volumes = pd.Series(day.volumes[ticked, 0], index=when)
    rule, offset = RULES[timeframe]
    ohlc = prices.resample(rule, offset=offset).ohlc().dropna()
    volume = volumes.resample(rule, offset=offset).sum().loc[ohlc.index]
    return [{"time": int(t.timestamp()), "timestamp": t.isoformat(), "open": int(r.open) / 100,
             "high": int(r.high) / 100, "low": int(r.low) / 100, "close": int(r.close) / 100, "volume": int(v)}
            for (t, r), v in zip(ohlc.iterrows(), volume, strict=True)]


def exchange_time(ts: int) -> str:
    return datetime.fromtimestamp(ts, EXCHANGE_TZ).isoformat()


@pytest.fixture(scope="module")
def demo_day():
    return load_day("NIFTY", DAY, data_dir=settings.MARKET_DATA_DIR)


@pytest.fixture(scope="module")
def next_day():
    return load_day("NIFTY", NEXT_DAY, data_dir=settings.MARKET_DATA_DIR)


def test_only_the_owner_and_staff_read_a_sessions_charts(as_alice, as_bob, as_charlie, anonymous, alice_setup):
    session_id = start(as_alice, alice_setup, speed_multiplier="max")
    ended(session_id)

    for path in (f"/api/sessions/{session_id}/candles", f"/api/sessions/{session_id}/equity"):
        mine, staff = as_alice.get(path), as_charlie.get(path)
        assert mine.status_code == 200 and staff.status_code == 200
        assert staff.json() == mine.json()
        assert as_bob.get(path).status_code == 404
        assert as_bob.get(path).json() == as_bob.get("/api/sessions/sim-000000000000/candles").json()
        assert anonymous.get(path).status_code == 401


def test_an_unknown_timeframe_is_a_400_naming_it_but_another_users_session_stays_a_404(as_alice, as_bob, alice_setup):
    session_id = start(as_alice, alice_setup, speed_multiplier="max")
    ended(session_id)

    for bad in ("2m", "4h", "1w", "5M", "1H", "１m", "60m"):
        response = as_alice.get(f"/api/sessions/{session_id}/candles", {"timeframe": bad})
        assert response.status_code == 400, bad
        assert list(response.json()) == ["timeframe"]
    assert as_bob.get(f"/api/sessions/{session_id}/candles", {"timeframe": "2m"}).status_code == 404
    for good in ("1m", "3m", "5m", "10m", "15m", "30m", "1h", "1d"):
        response = as_alice.get(f"/api/sessions/{session_id}/candles", {"timeframe": good})
        assert response.status_code == 200, good
        assert response.json()["timeframe"] == good


def test_a_finished_sessions_candles_end_at_its_last_tick_and_match_a_resample_of_the_day(as_alice, alice_setup,
                                                                                          demo_day):
    session_id = start(as_alice, alice_setup, speed_multiplier="max")
    session = ended(session_id)
    assert session.status == "completed"

    for timeframe in ("1m", "3m", "5m", "10m", "15m", "30m", "1h", "1d"):
        body = as_alice.get(f"/api/sessions/{session_id}/candles", {"timeframe": timeframe}).json()
        assert body["candles"] == resampled(demo_day, timeframe), timeframe
        assert (body["session_id"], body["symbol"], body["timeframe"]) == (session_id, "NIFTY", timeframe)
        assert body["ticks_processed"] == 22_500 and body["up_to"] == "2024-10-29T15:29:59+05:30"
    minutes = as_alice.get(f"/api/sessions/{session_id}/candles").json()["candles"]  # 1m unless asked
    assert len(minutes) == 375 and minutes[-1]["timestamp"] == "2024-10-29T15:29:00+05:30"


def test_a_finished_sessions_curve_has_a_sample_a_minute_ending_at_its_final_net_pnl(as_alice, alice_setup):
    session_id = start(as_alice, alice_setup, speed_multiplier="max")
    session = ended(session_id)

    samples = as_alice.get(f"/api/sessions/{session_id}/equity").json()["samples"]

    open_ts = market_open_ts(DAY)
    assert [s["time"] for s in samples] == [open_ts + 60 * k for k in range(1, 376)]  # 09:16:00 ... 15:30:00
    assert [s["timestamp"] for s in samples] == [exchange_time(s["time"]) for s in samples]
    final = session.final_state["summary"]
    assert session.total_trades > 0
    assert samples[-1] == {"time": open_ts + 22_500, "timestamp": "2024-10-29T15:30:00+05:30",
                           "net_pnl": final["net_pnl"], "realized_pnl": final["net_pnl"], "unrealized_pnl": "0.00",
                           "charges": final["charges"]}
    for s in samples:
        assert Decimal(s["net_pnl"]) == Decimal(s["realized_pnl"]) + Decimal(s["unrealized_pnl"])
    assert any(s["unrealized_pnl"] != "0.00" for s in samples), "the straddle is open for hours"
    assert samples[0]["net_pnl"] == "0.00", "nothing is traded before the 09:20 entries"


def test_a_running_sessions_candles_never_go_beyond_its_progress(as_alice, alice_setup, demo_day):
    session_id = start(as_alice, alice_setup, speed_multiplier=600)
    wait_for(lambda: ticks_processed(as_alice, session_id) > 0, message="the first ticks")

    seen = []

    def candles_within_progress():
        body = as_alice.get(f"/api/sessions/{session_id}/candles").json()
        after = ticks_processed(as_alice, session_id)
        processed = body["ticks_processed"]
        assert 0 < processed <= after
        last_ts = market_open_ts(DAY) + processed - 1
        assert body["up_to"] == exchange_time(last_ts)
        assert body["candles"] == resampled(demo_day, "1m", up_to=last_ts)
        if not seen or processed > seen[-1]:
            seen.append(processed)
        return len(seen) >= 8

    wait_for(candles_within_progress, message="candles at eight points of a running session")
    assert seen[-1] < 22_500, "the session was still running"
    five = as_alice.get(f"/api/sessions/{session_id}/candles", {"timeframe": "5m"}).json()
    assert five["candles"] == resampled(demo_day, "5m", up_to=market_open_ts(DAY) + five["ticks_processed"] - 1)

    curve = as_alice.get(f"/api/sessions/{session_id}/equity").json()["samples"]
    progress_now = ticks_processed(as_alice, session_id)
    assert all(s["time"] <= market_open_ts(DAY) + progress_now for s in curve)
    assert as_alice.post(f"/api/v2/live/stop/{session_id}").status_code == 200


def test_a_stopped_session_ends_its_charts_where_it_stopped(as_alice, alice_setup, demo_day):
    session_id = start(as_alice, alice_setup, speed_multiplier=600)
    wait_for(lambda: ticks_processed(as_alice, session_id) > 400, message="past the 09:20 entries")
    assert as_alice.post(f"/api/v2/live/stop/{session_id}").status_code == 200
    session = ended(session_id)
    last_ts = market_open_ts(DAY) + session.ticks_processed - 1

    candles = as_alice.get(f"/api/sessions/{session_id}/candles", {"timeframe": "15m"}).json()
    samples = as_alice.get(f"/api/sessions/{session_id}/equity").json()["samples"]

    assert session.status == "stopped" and session.ticks_processed < 22_500
    assert candles["up_to"] == exchange_time(last_ts)
    assert candles["candles"] == resampled(demo_day, "15m", up_to=last_ts)
    times = [s["time"] for s in samples]
    assert times == sorted(set(times)) and times[-1] == last_ts + 1
    assert times[:-1] == [market_open_ts(DAY) + 60 * k for k in range(1, len(times))]
    assert samples[-1]["net_pnl"] == session.final_state["summary"]["net_pnl"] == f"{session.realized_pnl:.2f}"


def test_a_two_day_sessions_charts_hold_both_days_in_order(as_alice, alice_setup, demo_day, next_day):
    session_id = start(as_alice, alice_setup, speed_multiplier="max", to=NEXT_DAY.isoformat())
    session = ended(session_id)

    body = as_alice.get(f"/api/sessions/{session_id}/candles", {"timeframe": "5m"}).json()
    samples = as_alice.get(f"/api/sessions/{session_id}/equity").json()["samples"]

    assert body["candles"] == resampled(demo_day, "5m") + resampled(next_day, "5m")
    for timeframe in ("1h", "1d"):  # a day's last hour ends at its close: no bar spans the night
        bars = as_alice.get(f"/api/sessions/{session_id}/candles", {"timeframe": timeframe}).json()["candles"]
        assert bars == resampled(demo_day, timeframe) + resampled(next_day, timeframe), timeframe
    assert [b["timestamp"] for b in bars] == ["2024-10-29T09:15:00+05:30", "2024-10-30T09:15:00+05:30"]
    assert body["ticks_processed"] == 45_000 and body["up_to"] == "2024-10-30T15:29:59+05:30"
    assert len(samples) == 750
    assert [s["timestamp"] for s in samples[374:376]] == ["2024-10-29T15:30:00+05:30", "2024-10-30T09:16:00+05:30"]
    assert samples[-1]["net_pnl"] == session.final_state["summary"]["net_pnl"]


def test_a_session_whose_market_data_is_gone_says_so_and_generates_nothing(as_alice, alice_setup, settings, tmp_path):
    settings.MARKET_DATA_DIR = tmp_path
    session_id = start(as_alice, alice_setup, speed_multiplier="max")  # generates the day into tmp_path
    ended(session_id)
    day_file = synthetic_path("NIFTY", DAY, data_dir=tmp_path)
    assert as_alice.get(f"/api/sessions/{session_id}/candles").status_code == 200
    day_file.unlink()  # the synthetic cache let it go

    response = as_alice.get(f"/api/sessions/{session_id}/candles", {"timeframe": "5m"})

    assert response.status_code == 409
    assert response.json() == {"detail": "the market data this session replayed is no longer stored: no NIFTY "
                                         "market data for 2024-10-29: nothing imported and no synthetic day for seed 0"}
    assert not day_file.exists()
    assert as_alice.get(f"/api/sessions/{session_id}/equity").status_code == 200  # the curve is in the database


def test_a_session_that_has_not_ticked_has_no_candles_and_reads_no_market_data(as_alice, alice, alice_setup,
                                                                                settings, tmp_path):
    settings.MARKET_DATA_DIR = tmp_path  # nothing here: a read would fail, a generation would leave a file
    strategy, broker = alice_setup
    session = SimulationSession.objects.create(
        owner=alice, strategy=strategy, strategy_name=strategy.name, strategy_version=1, graph=strategy.graph,
        broker_connection=broker, start_date=DAY, end_date=DAY + timedelta(days=1), underlying="NIFTY",
        status="stopped")

    body = as_alice.get(f"/api/sessions/{session.id}/candles").json()

    assert body == {"session_id": session.id, "symbol": "NIFTY", "timeframe": "1m", "ticks_processed": 0,
                    "up_to": None, "candles": []}
    assert as_alice.get(f"/api/sessions/{session.id}/equity").json() == {"session_id": session.id, "samples": []}
    assert list(tmp_path.iterdir()) == []
