"""Candles: hand-computed small series, emission timing, and a pandas resample cross-check."""

from datetime import date

import numpy as np
import pandas as pd
import pytest

from live_trading.marketdata.calendar import market_open_ts
from live_trading.marketdata.candles import Candle, CandleBuilder, aggregate, bucket_start, day_candles
from live_trading.marketdata.day import from_ticks
from live_trading.marketdata.feed import ReplayFeed

DAY = date(2024, 10, 29)
OPEN = market_open_ts(DAY)  # 09:15:00 IST
CE = "NIFTY:2024-10-31:OPT:24300:CE"
# (seconds after 09:15:00, price in paise, volume)
TICKS = [(0, 10_000, 50), (10, 10_500, 25), (59, 9_800, 75), (90, 10_100, 25), (200, 10_300, 50),
         (300, 9_900, 25), (905, 11_000, 100)]


@pytest.fixture
def day():
    return from_ticks(
        "NIFTY", DAY, ["NIFTY", CE],
        rows=np.array([0] + [t[0] for t in TICKS]), cols=np.array([0] + [1] * len(TICKS)),
        price=np.array([2_430_000] + [t[1] for t in TICKS]), volume=np.array([0] + [t[2] for t in TICKS]),
        oi=np.zeros(len(TICKS) + 1, np.int64),
    )


def c(tf, start_s, o, h, lo, cl, v):
    return Candle(CE, tf, OPEN + start_s, o, h, lo, cl, v)


def test_one_minute_candles_by_hand(day):
    assert day_candles(day, CE, "1m") == [
        c(60, 0, 10_000, 10_500, 9_800, 9_800, 150),
        c(60, 60, 10_100, 10_100, 10_100, 10_100, 25),
        c(60, 180, 10_300, 10_300, 10_300, 10_300, 50),
        c(60, 300, 9_900, 9_900, 9_900, 9_900, 25),
        c(60, 900, 11_000, 11_000, 11_000, 11_000, 100),
    ]


def test_longer_candles_by_hand_align_to_the_0915_open(day):
    assert day_candles(day, CE, "3m") == [
        c(180, 0, 10_000, 10_500, 9_800, 10_100, 175),
        c(180, 180, 10_300, 10_300, 9_900, 9_900, 75),
        c(180, 900, 11_000, 11_000, 11_000, 11_000, 100),
    ]
    assert day_candles(day, CE, "5m") == [
        c(300, 0, 10_000, 10_500, 9_800, 10_300, 225),
        c(300, 300, 9_900, 9_900, 9_900, 9_900, 25),
        c(300, 900, 11_000, 11_000, 11_000, 11_000, 100),
    ]
    assert day_candles(day, CE, "15m") == [
        c(900, 0, 10_000, 10_500, 9_800, 9_900, 250),
        c(900, 900, 11_000, 11_000, 11_000, 11_000, 100),
    ]


def test_a_candle_is_emitted_at_the_first_tick_of_a_later_bucket_and_the_last_at_end_of_day(day):
    builder = CandleBuilder(day, [(CE, tf) for tf in ("1m", "3m", "5m", "15m")])
    emitted = {}
    for index, _, _ in ReplayFeed(day, [CE]):
        emitted[index] = [(x.timeframe, x.start - OPEN) for x in builder.on_tick(index)]
    assert emitted == {
        0: [],
        10: [],
        59: [],
        90: [(60, 0)],
        200: [(60, 60), (180, 0)],
        300: [(60, 180), (300, 0)],
        905: [(60, 300), (180, 180), (300, 300), (900, 0)],
    }
    assert [(x.timeframe, x.start - OPEN) for x in builder.finish()] == [(60, 900), (180, 900), (300, 900), (900, 900)]


def test_candles_match_a_pandas_resample_of_the_ticks(nifty_day):
    symbol = nifty_day.symbols[40]
    col = nifty_day.column(symbol)
    ticked = nifty_day.tick_mask[:, col]
    when = pd.to_datetime(nifty_day.timestamps[ticked], unit="s", utc=True).tz_convert("Asia/Kolkata")
    prices = pd.Series(nifty_day.prices[ticked, col], index=when)
    volumes = pd.Series(nifty_day.volumes[ticked, col], index=when)
    for rule, tf in (("1min", 60), ("5min", 300), ("15min", 900)):
        ohlc = prices.resample(rule).ohlc().dropna()
        vol = volumes.resample(rule).sum().loc[ohlc.index]
        expected = [
            Candle(symbol, tf, int(t.timestamp()), int(r.open), int(r.high), int(r.low), int(r.close), int(v))
            for (t, r), v in zip(ohlc.iterrows(), vol, strict=True)
        ]
        assert day_candles(nifty_day, symbol, tf) == expected


def test_aggregating_one_minute_candles_gives_the_longer_candles(nifty_day):
    symbol = nifty_day.symbols[0]
    minutes = day_candles(nifty_day, symbol, "1m")
    assert len(minutes) == 375
    for tf in ("3m", "5m", "15m"):
        assert aggregate(minutes, tf) == day_candles(nifty_day, symbol, tf)


def test_buckets_are_aligned_to_exchange_time():
    ts = OPEN + 17 * 60 + 42  # 09:32:42 IST
    assert bucket_start(ts, 60) == OPEN + 17 * 60
    assert bucket_start(ts, 900) == OPEN + 15 * 60  # 09:30
    assert bucket_start(ts, 300) == OPEN + 15 * 60
    assert bucket_start(ts, 180) == OPEN + 15 * 60


def test_an_unknown_timeframe_is_refused(day):
    with pytest.raises(ValueError, match="timeframe"):
        CandleBuilder(day, [(CE, "2m")])
