"""Replay: tick order, the LTP store and the changed columns."""

from datetime import date

import numpy as np
import pytest

from live_trading.marketdata.calendar import market_open_ts
from live_trading.marketdata.day import from_ticks
from live_trading.marketdata.feed import ReplayFeed

DAY = date(2024, 10, 29)
OPEN = market_open_ts(DAY)
CE = "NIFTY:2024-10-31:OPT:24300:CE"
PE = "NIFTY:2024-10-31:OPT:24300:PE"


@pytest.fixture
def small_day():
    # (second, symbol, price in paise)
    ticks = [(0, 0, 2_430_000), (0, 1, 10_000), (1, 0, 2_430_500), (3, 2, 9_000), (3, 1, 10_500), (7, 0, 2_429_000)]
    return from_ticks(
        "NIFTY", DAY, ["NIFTY", CE, PE],
        rows=np.array([t[0] for t in ticks]), cols=np.array([t[1] for t in ticks]),
        price=np.array([t[2] for t in ticks]), volume=np.zeros(len(ticks), np.int64), oi=np.zeros(len(ticks), np.int64),
    )


def test_it_yields_each_second_with_ticks_and_what_changed(small_day):
    feed = ReplayFeed(small_day)
    seen = [(i, ts, feed.changed_symbols(changed)) for i, ts, changed in feed]
    assert seen == [
        (0, OPEN, ["NIFTY", CE]),
        (1, OPEN + 1, ["NIFTY"]),
        (3, OPEN + 3, [CE, PE]),
        (7, OPEN + 7, ["NIFTY"]),
    ]
    assert len(feed) == 4


def test_the_ltp_store_holds_the_last_trade_of_each_symbol(small_day):
    feed = ReplayFeed(small_day)
    assert feed.ltp("NIFTY") == 0  # before the first tick
    ltps = []
    for _ in feed:
        ltps.append((feed.ltp("NIFTY"), feed.ltp(CE), feed.ltps[PE]))
    assert ltps == [
        (2_430_000, 10_000, 0),  # the put has not traded yet
        (2_430_500, 10_000, 0),
        (2_430_500, 10_500, 9_000),
        (2_429_000, 10_500, 9_000),
    ]
    assert dict(feed.ltps) == {"NIFTY": 2_429_000, CE: 10_500, PE: 9_000}
    assert list(feed.ltp_row()) == [2_429_000, 10_500, 9_000]


def test_a_feed_over_some_symbols_only_reports_those(small_day):
    feed = ReplayFeed(small_day, symbols=[PE, "NIFTY"])
    assert [(i, feed.changed_symbols(c)) for i, _, c in feed] == [
        (0, ["NIFTY"]),
        (1, ["NIFTY"]),
        (3, [PE]),
        (7, ["NIFTY"]),
    ]
    with pytest.raises(KeyError):
        feed.ltp(CE)


def test_a_feed_can_start_later_and_still_knows_earlier_prices(small_day):
    feed = ReplayFeed(small_day, start_ts=OPEN + 2)
    assert feed.ltp(CE) == 10_000
    assert [i for i, _, _ in feed] == [3, 7]


def test_over_a_synthetic_day_the_ltps_are_the_day_prices(nifty_day):
    symbols = nifty_day.symbols[:5]
    feed = ReplayFeed(nifty_day, symbols)
    count = 0
    for index, ts, changed in feed:
        assert ts == nifty_day.timestamps[index]
        assert np.array_equal(feed.ltp_row(), nifty_day.prices[index, :5])
        assert changed == np.flatnonzero(nifty_day.tick_mask[index, :5]).tolist()
        count += 1
    assert count == 22_500  # the index ticks every second
