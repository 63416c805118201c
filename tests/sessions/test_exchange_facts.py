"""Exchange facts through the session API: a day the lot-size history covers runs, a day before the facts
is a 400 naming the date, nothing written. Real sessions (threads, Postgres, day files generated into a
temporary MARKET_DATA_DIR)."""

from decimal import Decimal

import pytest

from live_trading.marketdata.calendar import EXCHANGE_TZ
from live_trading.models import BrokerConnection
from sessions_app.models import SimulationSession
from strategies.models import Strategy
from tests.sessions.conftest import example, start_body
from tests.waiting import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def market(settings, tmp_path):
    settings.MARKET_DATA_DIR = tmp_path
    return tmp_path


def banknifty_straddle(user):
    """The example straddle on BANKNIFTY: one lot of the current weekly's ATM CE and PE, sold at 09:15."""
    graph = example("nifty_short_straddle")
    graph["nodes"][0]["config"]["underlying"] = "BANKNIFTY"
    graph["name"] = "BANKNIFTY short straddle"
    strategy = Strategy.objects.create(owner=user, name=graph["name"], graph=graph)
    broker = BrokerConnection.objects.create(owner=user, account_id=f"PAPER-{user.username}",
                                             starting_capital=Decimal("1000000.00"))
    return strategy, broker


def run_to_end(client, body) -> SimulationSession:
    response = client.post("/api/v2/live/start", {**body, "speed_multiplier": "max"}, format="json")
    assert response.status_code == 201, response.content
    session_id = response.json()["session_id"]
    wait_for(lambda: SimulationSession.objects.get(pk=session_id).status == "completed", timeout=120,
             message="the session's completion")
    return SimulationSession.objects.get(pk=session_id)


def test_a_banknifty_session_on_3_july_2023_trades_the_weekly_in_lots_of_25(as_alice, alice, market):
    # The weekly of 6 Jul 2023 was listed before NSE's 31 Mar 2023 revision to 15 took effect for new
    # weeklies (from 3 Aug 2023): one lot is 25.
    strategy, broker = banknifty_straddle(alice)

    session = run_to_end(as_alice, start_body(strategy, broker, date="2023-07-03"))

    entries = session.trades.order_by("entry_time", "symbol")
    assert entries.count() >= 2
    first_two = list(entries[:2])
    assert {t.symbol.split(":")[1] for t in first_two} == {"2023-07-06"}
    assert [t.quantity for t in first_two] == [25, 25]


def test_a_banknifty_day_before_the_facts_is_a_400_naming_the_date(as_alice, alice, market):
    strategy, broker = banknifty_straddle(alice)

    response = as_alice.post("/api/v2/live/start", start_body(strategy, broker, date="2022-12-01"), format="json")

    assert response.status_code == 400
    assert response.json() == {"date": ["no charge rates in force on 2022-12-01; the schedule starts 2023-04-01"]}
    assert SimulationSession.objects.count() == 0
    assert list(market.rglob("*.parquet")) == []


@pytest.mark.parametrize(("day", "ticks", "last_tick"), [
    ("2024-01-20", 22_500, "15:29:59"),  # the Saturday traded as a full day
    ("2024-03-02", 2_700 + 3_600, "12:29:59"),  # the DR drill: 09:15-10:00 and 11:30-12:30
])
def test_a_session_starts_on_a_special_session_and_replays_its_hours(as_alice, alice, alice_setup, market, day,
                                                                     ticks, last_tick):
    strategy, broker = alice_setup

    session = run_to_end(as_alice, start_body(strategy, broker, date=day))

    assert (session.ticks_processed, session.total_ticks) == (ticks, ticks)
    progress = as_alice.get(f"/api/live-trading/session/{session.id}").json()["progress"]
    assert progress == {"ticks_processed": ticks, "total_ticks": ticks, "progress_percentage": 100.0}
    last_exit = session.trades.order_by("-exit_time").first()
    assert last_exit is None or last_exit.exit_time.astimezone(EXCHANGE_TZ).strftime("%H:%M:%S") <= last_tick


def test_a_session_on_the_holiday_the_saturday_made_up_for_is_refused(as_alice, alice_setup, market):
    strategy, broker = alice_setup

    response = as_alice.post("/api/v2/live/start", start_body(strategy, broker, date="2024-01-22"), format="json")

    assert response.status_code == 400
    assert "date" in response.json()
    assert SimulationSession.objects.count() == 0
