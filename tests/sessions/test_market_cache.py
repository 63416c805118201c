"""Generated market data is bounded: each user's starts may generate so many synthetic days per window
(429 beyond, saying when to retry), and after a start the synthetic cache is cut back to its cap, least
recently used first, never an imported day and never a day an active session covers.

Real sessions (threads, Postgres, real day files in a temporary MARKET_DATA_DIR); each start on a day
without data really generates it (about half a second, 12 MB)."""

import os
from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from live_trading.marketdata.store import imported_path, synthetic_path
from live_trading.models import SyntheticDayCharge
from live_trading.runner.build import shared_day
from sessions_app.models import SimulationSession
from tests.marketdata.test_cache import T1, T2, put
from tests.sessions.conftest import start_body

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

MON, TUE, WED, THU = date(2024, 10, 28), date(2024, 10, 29), date(2024, 10, 30), date(2024, 10, 31)


@pytest.fixture
def market(settings, tmp_path):
    settings.MARKET_DATA_DIR = tmp_path
    return tmp_path


def start(client, setup, day, to=None, speed=1):
    strategy, broker = setup
    body = start_body(strategy, broker, date=day.isoformat(), speed_multiplier=speed)
    if to is not None:
        body["to"] = to.isoformat()
    return client.post("/api/v2/live/start", body, format="json")


def synthetic_days(folder):
    return sorted(p.name for p in (folder / "synthetic" / "NIFTY").glob("*.parquet"))


def charged_days(user):
    return sorted(SyntheticDayCharge.objects.filter(user=user).values_list("day", flat=True))


def test_a_start_beyond_the_users_allowance_is_a_429_saying_when_to_retry(
        as_alice, alice, alice_setup, as_bob, bob_setup, market, settings):
    settings.SYNTHETIC_DAYS_PER_USER = 2
    assert start(as_alice, alice_setup, MON).status_code == 201
    assert start(as_alice, alice_setup, TUE).status_code == 201
    assert start(as_alice, alice_setup, TUE).status_code == 201  # the day exists now: nothing to generate

    refused = start(as_alice, alice_setup, WED)

    assert refused.status_code == 429
    first = SyntheticDayCharge.objects.filter(user=alice).order_by("charged_at").first()
    retry_at = timezone.localtime(first.charged_at + timedelta(hours=1)).isoformat(timespec="seconds")
    wait = int(refused["Retry-After"])
    assert 0 < wait <= 3600
    assert refused.json() == {"detail": (
        "these days need 1 synthetic market day(s) generated (2024-10-30), and each user may have at most 2 "
        f"generated per hour (2 used); retry after {retry_at} (in {wait} s), or choose days that have data")}
    assert synthetic_days(market) == ["2024-10-28.seed0.v2.parquet", "2024-10-29.seed0.v2.parquet"]
    assert SimulationSession.objects.filter(owner=alice).count() == 3
    assert charged_days(alice) == [MON, TUE]
    # The allowance is each user's own.
    assert start(as_bob, bob_setup, WED).status_code == 201


def test_a_range_that_needs_more_than_the_whole_allowance_is_a_400_on_to(as_alice, alice_setup, market, settings):
    settings.SYNTHETIC_DAYS_PER_USER = 2

    refused = start(as_alice, alice_setup, MON, to=WED)

    assert refused.status_code == 400
    assert refused.json() == {"to": [
        "these days need 3 synthetic market day(s) generated (2024-10-28, 2024-10-29, 2024-10-30), and each user "
        "may have at most 2 generated per hour; choose fewer days without data"]}
    assert synthetic_days(market) == []


def test_with_generation_turned_off_a_day_without_data_is_a_400_on_date(as_alice, alice_setup, market, settings):
    settings.SYNTHETIC_DAYS_PER_USER = 0

    refused = start(as_alice, alice_setup, TUE)

    assert refused.status_code == 400
    assert refused.json() == {"date": [
        "no market data for 2024-10-29, and this server generates no synthetic days for starts"]}
    assert synthetic_days(market) == []


def test_a_start_that_fails_is_charged_only_for_the_days_it_generated(as_alice, alice, alice_setup, market, settings):
    settings.SIM_MAX_RUNNING_SESSIONS_PER_USER = 1
    assert start(as_alice, alice_setup, TUE).status_code == 201

    # MON and WED have no data; the start loads (so generates) MON, then finds alice at her limit.
    refused = start(as_alice, alice_setup, MON, to=WED)

    assert refused.status_code == 429
    assert synthetic_days(market) == ["2024-10-28.seed0.v2.parquet", "2024-10-29.seed0.v2.parquet"]
    assert charged_days(alice) == [MON, TUE]  # WED was never generated: given back


def test_after_a_start_the_cache_keeps_only_imported_days_and_days_active_sessions_cover(
        as_alice, alice_setup, as_bob, bob_setup, market, settings):
    imported = put(imported_path("NIFTY", date(2024, 10, 24), market), date(2024, 10, 24), T1, source="imported")
    stale = put(synthetic_path("NIFTY", date(2024, 10, 23), 0, market), date(2024, 10, 23), T1)
    # Bob replays MON and TUE; his session reaches TUE (a small stand-in file here) only after MON ends.
    later = put(synthetic_path("NIFTY", TUE, 0, market), TUE, T2)
    bob_session = start(as_bob, bob_setup, MON, to=TUE).json()["session_id"]
    assert stale.exists()  # within the default cap of 1024 MB
    settings.SYNTHETIC_CACHE_MB = 0

    assert start(as_alice, alice_setup, WED).status_code == 201

    assert not stale.exists() and imported.exists() and later.exists()
    assert synthetic_days(market) == ["2024-10-28.seed0.v2.parquet", "2024-10-29.seed0.v2.parquet",
                                      "2024-10-30.seed0.v2.parquet"]

    assert as_bob.post(f"/api/v2/live/stop/{bob_session}").json()["status"] == "stopped"
    assert start(as_alice, alice_setup, THU).status_code == 201

    # Bob's days are no longer in use; alice's WED and THU are.
    assert synthetic_days(market) == ["2024-10-30.seed0.v2.parquet", "2024-10-31.seed0.v2.parquet"]
    assert imported.exists()


def test_an_imported_day_is_not_removed_while_an_active_session_covers_it(as_alice, alice_setup, market, capsys):
    path = put(imported_path("NIFTY", TUE, market), TUE, T1, source="imported")
    size = path.stat().st_size
    session_id = start(as_alice, alice_setup, MON, to=TUE).json()["session_id"]

    with pytest.raises(CommandError) as refused:
        call_command("market_days", "--remove", "NIFTY", "2024-10-29")

    assert refused.value.returncode == 2
    assert str(refused.value) == (f"NIFTY 2024-10-29 is replayed by 1 active session(s) ({session_id}); "
                                  "stop them or wait until they end")
    assert path.exists()

    as_alice.post(f"/api/v2/live/stop/{session_id}")
    call_command("market_days", "--remove", "NIFTY", "2024-10-29")

    assert not path.exists()
    assert capsys.readouterr().out.endswith(
        f"removed {path} ({size / 1024:.0f} kB); sessions started on NIFTY 2024-10-29 now replay a synthetic day, "
        "generated when a session first needs it\n")  # the session replayed the import: no synthetic TUE was made
    assert os.listdir(path.parent) == []


def test_a_day_served_from_the_process_memory_still_counts_as_used(market):
    path = put(synthetic_path("NIFTY", TUE, 0, market), TUE, T1)
    first = shared_day("NIFTY", TUE)
    os.utime(path, (T1, T1))  # as if long unused

    again = shared_day("NIFTY", TUE)

    assert again is first  # from memory: the use kept the modification time its key includes
    assert path.stat().st_atime > T2 and path.stat().st_mtime == T1
