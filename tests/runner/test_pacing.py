"""Pacing in exchange time divided by the speed multiplier, on a fake clock."""

from datetime import date

import pytest

from live_trading.marketdata.calendar import market_close_ts, market_open_ts
from live_trading.runner.pacing import Pacer
from tests.engine.test_fx_differential import fx_universe


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_real_time_waits_one_second_per_exchange_second():
    clock = FakeClock()
    pacer = Pacer(1.0, clock)
    assert pacer.delay(33300) == 0.0  # the first tick is due at once
    assert pacer.delay(33301) == pytest.approx(1.0)
    clock.now += 0.25
    assert pacer.delay(33301) == pytest.approx(0.75)


def test_sixty_times_plays_a_minute_a_second():
    clock = FakeClock()
    pacer = Pacer(60.0, clock)
    pacer.delay(33300)
    assert pacer.delay(33360) == pytest.approx(1.0)


def test_max_speed_never_waits():
    pacer = Pacer(0.0, FakeClock())
    assert pacer.delay(33300) == 0.0
    assert pacer.delay(40000) == 0.0


def test_an_overdue_tick_is_due_at_once():
    clock = FakeClock()
    pacer = Pacer(1.0, clock)
    pacer.delay(33300)
    clock.now += 5
    assert pacer.delay(33302) == 0.0


def test_a_speed_change_reanchors_instead_of_jumping():
    clock = FakeClock()
    pacer = Pacer(1.0, clock)
    pacer.delay(33300)
    clock.now += 10  # ten ticks replayed at real time
    pacer.set_speed(10.0)
    assert pacer.delay(33310) == 0.0
    assert pacer.delay(33320) == pytest.approx(1.0)


def test_after_a_pause_the_replay_continues_from_where_it_was():
    clock = FakeClock()
    pacer = Pacer(1.0, clock)
    pacer.delay(33300)
    clock.now += 3600  # paused for an hour
    pacer.reanchor()
    assert pacer.delay(33301) == 0.0
    assert pacer.delay(33302) == pytest.approx(1.0)


def test_negative_speed_is_refused():
    with pytest.raises(ValueError, match="speed must be >= 0"):
        Pacer(-1.0)


def _assert_next_follows_one_second_later(last, following):
    """Replayed at real time, the tick at ``following`` comes one second after the one at ``last``,
    then a minute takes a minute again."""
    clock = FakeClock()
    pacer = Pacer(1.0, clock)
    pacer.delay(last - 1)
    clock.now += 1
    assert pacer.delay(last) == 0.0
    assert pacer.delay(following) == pytest.approx(1.0)
    assert pacer.delay(following + 60) == pytest.approx(61.0)


def test_the_gap_between_a_dr_drills_two_windows_takes_no_wall_time():
    # 2 Mar 2024 traded 09:15-10:00 and 11:30-12:30 IST: 11:30:00 follows 09:59:59 one second later.
    last_of_first = market_open_ts(date(2024, 3, 2)) + 45 * 60 - 1  # 09:59:59
    _assert_next_follows_one_second_later(last_of_first, last_of_first + 90 * 60 + 1)  # 11:30:00


def test_the_night_and_a_weekend_between_two_days_take_no_wall_time():
    # Friday 25 Oct 2024 closes 15:29:59; Monday 28 Oct opens at 09:15:00, one second later in replay.
    _assert_next_follows_one_second_later(market_close_ts(date(2024, 10, 25)) - 1, market_open_ts(date(2024, 10, 28)))


def test_an_fx_replay_is_paced_in_new_york_days_its_weekend_skipped_its_evening_not(fx_universe):
    """On the FX_24X5 calendar (EURUSD, the differential test's table) an hourly bar's ticks 20 minutes
    apart take 20 minutes at real time, also across 18:30 UTC (IST midnight, where the NSE's days would
    have cut) and across 17:00 New York (one FX day to the next: its close is the next day's open); Friday
    17:00 to Sunday 17:00 New York takes one second, as a night between two NSE days does."""
    from datetime import UTC, datetime

    from live_trading.marketdata.calendar import calendar_of

    def utc(text):
        return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp())

    clock = FakeClock()
    pacer = Pacer(1.0, clock, calendar=calendar_of("EURUSD"))
    pacer.delay(utc("2017-11-02T18:20:00"))  # 14:20 EDT Thursday
    assert pacer.delay(utc("2017-11-02T18:40:00")) == pytest.approx(1200)  # past IST midnight: the same FX day
    clock.now += 1200
    assert pacer.delay(utc("2017-11-02T20:59:59")) == pytest.approx(8399)
    clock.now += 8399
    assert pacer.delay(utc("2017-11-02T21:00:00")) == pytest.approx(1)  # Friday's day opens at Thursday's close
    clock.now += 1
    wait = pacer.delay(utc("2017-11-03T20:59:59"))  # Friday's last tick, 16:59:59 EDT: a day of 24 hours
    assert wait == pytest.approx(86_399)
    clock.now += wait
    assert pacer.delay(utc("2017-11-05T22:00:00")) == pytest.approx(1)  # Sunday 17:00 EST: a second later
    clock.now += 1
    assert pacer.delay(utc("2017-11-05T22:20:00")) == pytest.approx(1200)


__all__ = ["fx_universe"]
