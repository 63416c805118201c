"""Indicators against TA-Lib, or stockstats (pinned in requirements.txt) for VWAP and SuperTrend, which
TA-Lib lacks; SuperTrend's warm-up convention is also checked against a reference written here.

Tolerance: relative 1e-9 with an absolute floor of 1e-6 (paise, or RSI points) - both sides do the same
arithmetic in float64, so only rounding order differs.
"""

import contextlib
import math

import numpy as np
import pandas as pd
import pytest
import talib
from stockstats import StockDataFrame

from live_trading.marketdata.candles import Candle, day_candles
from live_trading.marketdata.indicators import (
    BandsValue,
    IndicatorRegistry,
    IndicatorSpec,
    SuperTrendValue,
    parse_indicator,
)

RTOL, ATOL = 1e-9, 1e-6


@pytest.fixture(scope="module", params=["NIFTY", "NIFTY:2024-10-31:OPT:24500:PE"])
def series(request, nifty_day):
    candles = day_candles(nifty_day, request.param, "1m")
    assert len(candles) > 300
    return candles


def arrays(candles):
    return {k: np.array([getattr(c, k) for c in candles], dtype=float) for k in ("open", "high", "low", "close", "volume")}


def run(spec, candles):
    registry = IndicatorRegistry()
    indicator = registry.add(spec, candles[0].symbol, "1m")
    values = []
    for candle in candles:
        registry.on_candle(candle)
        values.append(indicator.value)
    return values


def as_float(values, pick=lambda v: v):
    return np.array([math.nan if v is None else pick(v) for v in values], dtype=float)


def assert_same(ours, reference):
    assert np.array_equal(np.isnan(ours), np.isnan(reference)), "warm-up differs"
    np.testing.assert_allclose(ours, reference, rtol=RTOL, atol=ATOL, equal_nan=True)


def test_sma_matches_talib(series):
    assert_same(as_float(run("sma(20)", series)), talib.SMA(arrays(series)["close"], 20))


def test_ema_matches_talib(series):
    assert_same(as_float(run("ema(20)", series)), talib.EMA(arrays(series)["close"], 20))


def test_rsi_matches_talib_wilder(series):
    assert_same(as_float(run("rsi(14)", series)), talib.RSI(arrays(series)["close"], 14))


def test_bollinger_bands_match_talib(series):
    upper, middle, lower = talib.BBANDS(arrays(series)["close"], 20, 2.0, 2.0, 0)
    values = run("bb(20,2)", series)
    assert_same(as_float(values, lambda v: v.upper), upper)
    assert_same(as_float(values, lambda v: v.middle), middle)
    assert_same(as_float(values, lambda v: v.lower), lower)


def wilder_atr_reference(a, period):
    """TA-Lib's ATR drops the first candle; given one leading flat candle inside the first candle's range,
    its true range is exactly high - low of the first candle, which is Wilder's original definition."""
    mid = (a["high"][0] + a["low"][0]) / 2
    return talib.ATR(np.r_[mid, a["high"]], np.r_[mid, a["low"]], np.r_[mid, a["close"]], period)[1:]


def test_atr_matches_talib_with_wilders_first_true_range(series):
    assert_same(as_float(run("atr(14)", series)), wilder_atr_reference(arrays(series), 14))


def stockstats_frame(candles):
    return StockDataFrame.retype(pd.DataFrame(arrays(candles)))


def test_vwap_matches_stockstats_vwma_over_the_whole_session(series):
    """stockstats has no session VWAP, but its vwma(n) is sum(typical price x volume) / sum(volume) over
    the last n candles with min_periods=1: with n at least the day's candle count it is the session VWAP.
    It reports 0 where no volume has traded yet; ours is None there."""
    frame = stockstats_frame(series)
    reference = frame[f"vwma_{len(series)}"].to_numpy(dtype=float, copy=True)
    reference[np.cumsum(arrays(series)["volume"]) == 0] = math.nan
    assert_same(as_float(run("vwap", series)), reference)


def supertrend_reference(a, period, mult):
    """The classic SuperTrend: final bands ratchet toward price until the close crosses them."""
    high, low, close = a["high"], a["low"], a["close"]
    atr = wilder_atr_reference(a, period)
    upper_basic = (high + low) / 2 + mult * atr
    lower_basic = (high + low) / 2 - mult * atr
    n = len(close)
    line = np.full(n, np.nan)
    direction = np.full(n, np.nan)
    first = int(np.flatnonzero(~np.isnan(atr))[0])
    upper, lower, on_upper = math.inf, -math.inf, True  # no bands yet; start in a downtrend
    for i in range(first + 1, n):
        upper = upper_basic[i] if upper_basic[i] < upper or close[i - 1] > upper else upper
        lower = lower_basic[i] if lower_basic[i] > lower or close[i - 1] < lower else lower
        on_upper = close[i] <= upper if on_upper else close[i] < lower
        line[i] = upper if on_upper else lower
        direction[i] = 1 if close[i] > line[i] else -1
    return line, direction


def test_supertrend_matches_an_independent_reference(series):
    line, direction = supertrend_reference(arrays(series), 10, 3)
    assert set(direction[~np.isnan(direction)]) == {-1, 1}  # the series crosses both ways
    values = run("supertrend(10,3)", series)
    assert_same(as_float(values, lambda v: v.value), line)
    assert_same(as_float(values, lambda v: v.direction), direction)
    assert isinstance(values[-1], SuperTrendValue)


def test_supertrend_matches_stockstats_once_its_atr_seed_has_decayed(series):
    """stockstats 0.6.10's supertrend is the classic definition we use (final bands ratchet toward price
    until the previous close crosses them; the trend flips when the close crosses the active band) on
    Wilder's ATR, but it seeds that ATR differently: an adjusted EWM from the first candle, where ours
    (TA-Lib's) starts from the mean of the first n true ranges, and its bands start at 0. The seed's
    weight decays as (1 - 1/n)^k (0.9^187 < 3e-9 for n=10) and stale warm-up bands go once the price
    crosses them, so the second half of the session is compared, at the usual tolerance."""
    period, half = 10, len(series) // 2
    assert StockDataFrame.SUPERTREND_MUL == 3
    frame = stockstats_frame(series)
    with contextlib.suppress(KeyError):  # 0.6.10 stores supertrend_<n> as "supertrend", whatever the n
        frame[f"supertrend_{period}"]
    line = frame["supertrend"].to_numpy(dtype=float)
    direction = np.where(line == frame[f"supertrend_{period}_lb"].to_numpy(dtype=float), 1.0, -1.0)
    assert set(direction[half:]) == {-1, 1}  # the compared part crosses both ways
    # What is left of the seed: the ATRs agree to 1e-7 relative (the seed gap times 0.9^187) ...
    np.testing.assert_allclose(
        as_float(run(f"atr({period})", series))[half:], frame[f"atr_{period}"].to_numpy(dtype=float)[half:], rtol=1e-7
    )
    # ... which moves the bands (3 ATRs) by less than the tolerance on the line.
    values = run(f"supertrend({period},3)", series)
    assert_same(as_float(values, lambda v: v.value)[half:], line[half:])
    assert_same(as_float(values, lambda v: v.direction)[half:], direction[half:])


def test_values_are_none_until_warmed_up(series):
    rsi = run("rsi(14)", series)
    assert rsi[:14] == [None] * 14 and rsi[14] is not None
    bands = run("bb(20)", series)
    assert bands[18] is None and isinstance(bands[19], BandsValue)


def test_vwap_restarts_each_exchange_day():
    def bar(day_offset, price, volume):
        return Candle("NIFTY", 60, 1_730_173_500 + day_offset * 86_400, price, price, price, price, volume)

    registry = IndicatorRegistry()
    vwap = registry.add("vwap", "NIFTY", "1m")
    registry.on_candles([bar(0, 100, 1), bar(0, 200, 3)])
    assert vwap.value == pytest.approx(175.0)
    registry.on_candle(bar(1, 300, 2))
    assert vwap.value == pytest.approx(300.0)


def test_the_registry_gives_one_indicator_per_name_symbol_and_timeframe():
    registry = IndicatorRegistry()
    first = registry.add("rsi(14)", "NIFTY", "5m")
    assert registry.add(" RSI( 14 ) ", "NIFTY", 300) is first
    assert registry.add("rsi", "NIFTY", "5m") is first  # 14 is the default period
    other = registry.add("rsi(14)", "NIFTY", "1m")
    assert other is not first
    assert sorted(registry.subscriptions()) == [("NIFTY", 60), ("NIFTY", 300)]
    assert registry.value("rsi(14)", "NIFTY", "5m") is None
    with pytest.raises(KeyError, match="ema"):
        registry.value("ema(5)", "NIFTY", "5m")


def test_candles_reach_only_the_indicators_of_their_series():
    registry = IndicatorRegistry()
    nifty = registry.add("sma(1)", "NIFTY", "1m")
    other = registry.add("sma(1)", "BANKNIFTY", "1m")
    registry.on_candle(Candle("NIFTY", 60, 0, 5, 5, 5, 5, 1))
    registry.on_candle(Candle("NIFTY", 300, 0, 7, 7, 7, 7, 1))
    assert nifty.value == 5.0 and other.value is None


@pytest.mark.parametrize(
    ("text", "spec"),
    [
        ("rsi(14)", IndicatorSpec("rsi", (14,))),
        ("BB(20, 2.5)", IndicatorSpec("bb", (20, 2.5))),
        ("supertrend", IndicatorSpec("supertrend", (10, 3))),
        ("vwap", IndicatorSpec("vwap", ())),
    ],
)
def test_indicator_names_parse_with_defaults(text, spec):
    assert parse_indicator(text) == spec


@pytest.mark.parametrize("text", ["macd(12)", "rsi(0)", "rsi(2.5)", "sma(x)", "bb(20,2,1)", "rsi(-3)"])
def test_unknown_or_malformed_indicators_are_refused(text):
    with pytest.raises(ValueError):
        parse_indicator(text)
