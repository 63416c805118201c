"""Pacing in exchange time divided by the speed multiplier, on a fake clock."""

import pytest

from live_trading.runner.pacing import Pacer


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
