"""The synthetic market over whole generated weeks: no static arbitrage at any second, days that follow
each other.

The checks use only the day's price matrices and a Black-Scholes written here (math.erf), not the
product's pricing. Conventions restated from docs/marketdata.md, "The synthetic market": options expire
at 15:30 IST, discounting is calendar time (ACT/365, r = 6.5 %), and volatility accrues in trading time:
the rest of today's session (uniformly over its 22,500 seconds) holds 84 % of a day's variance, each
later trading day up to the expiry a whole day (its night, 16 %, arriving as the opening gap), 252 days a
year.
"""

import itertools
import math
from datetime import UTC, date, datetime

import numpy as np
import pytest

from live_trading.marketdata.calendar import trading_days
from live_trading.marketdata.symbols import parse_symbol
from live_trading.marketdata.synthetic import generate_day

pytestmark = pytest.mark.slow

TICK = 5  # paise
RATE = 0.065
YEAR = 365 * 86_400
SESSION = 22_500
NIGHT = 0.16

# NIFTY's week of 28 Oct 2024 (Friday 1 Nov was a holiday; Thursday 31 Oct the weekly and monthly expiry),
# holding the reported day 2024-10-29; BANKNIFTY's week of 2 Dec 2024 (monthly contracts only).
WEEKS = {
    "NIFTY": trading_days(date(2024, 10, 28), date(2024, 11, 1)),
    "BANKNIFTY": trading_days(date(2024, 12, 2), date(2024, 12, 6)),
}


@pytest.fixture(scope="module")
def weeks():
    return {u: [generate_day(u, d, 0) for d in days] for u, days in WEEKS.items()}


def all_days(weeks):
    return [day for days in weeks.values() for day in days]


def chains(day):
    """{(expiry, right): (strikes in paise ascending, price matrix seconds x strikes in paise)}."""
    found = {}
    for i, text in enumerate(day.symbols[1:], start=1):
        sym = parse_symbol(text)
        found.setdefault((sym.expiry, sym.right), []).append((sym.strike_paise, i))
    out = {}
    for key, cols in found.items():
        cols.sort()
        out[key] = (np.array([k for k, _ in cols]), day.prices[:, [c for _, c in cols]].astype(np.int64))
    return out


def close_ts(expiry):
    return int(datetime(expiry.year, expiry.month, expiry.day, 10, 0, tzinfo=UTC).timestamp())  # 15:30 IST


def norm_cdf(x):
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def black_scholes(spot, strike, years, total_var, right):
    """Value of a European option with total variance `total_var` (sigma^2 T) and calendar time `years`."""
    sd = math.sqrt(total_var)
    d1 = (math.log(spot / strike) + RATE * years + total_var / 2) / sd
    df = math.exp(-RATE * years)
    if right == "CE":
        return spot * norm_cdf(d1) - strike * df * norm_cdf(d1 - sd)
    return strike * df * norm_cdf(sd - d1) - spot * norm_cdf(-d1)


def implied_total_variance(price, spot, strike, years, right):
    """The total variance sigma^2 T that prices the option at `price`, by bisection."""
    lo, hi = 1e-10, 1.0
    for _ in range(100):
        mid = math.sqrt(lo * hi)
        lo, hi = (mid, hi) if black_scholes(spot, strike, years, mid, right) < price else (lo, mid)
    return math.sqrt(lo * hi)


def variance_years(day, row, expiry):
    """Trading-time years of variance left at `row` of `day` to the close of `expiry` (the docs' clock)."""
    left_today = (SESSION - row) / SESSION
    later = len(trading_days(date.fromordinal(day.date.toordinal() + 1), expiry))
    return ((1 - NIGHT) * left_today + later) / 252


def atm_option(day, row, expiry):
    """(strike, right, price) of the out-of-the-money option nearest the forward at `row`."""
    spot = int(day.prices[row, 0])
    years = (close_ts(expiry) - int(day.timestamps[row])) / YEAR
    forward = spot * math.exp(RATE * years)
    best = None
    for (exp, right), (strikes, prices) in chains(day).items():
        if exp != expiry:
            continue
        for j, k in enumerate(strikes):
            if (right == "CE") == (k >= forward) and (best is None or abs(k - forward) < abs(best[0] - forward)):
                best = (int(k), right, int(prices[row, j]))
    return best


def atm_implied_vol(day, row, expiry):
    """ATM implied volatility a year of trading time, from the chain's price by the Black-Scholes above."""
    strike, right, price = atm_option(day, row, expiry)
    years = (close_ts(expiry) - int(day.timestamps[row])) / YEAR
    total = implied_total_variance(price, int(day.prices[row, 0]), strike, years, right)
    return math.sqrt(total / variance_years(day, row, expiry))


def test_every_second_every_chain_is_monotone_and_convex_in_strike(weeks):
    for day in all_days(weeks):
        for (expiry, right), (strikes, p) in chains(day).items():
            assert np.all(np.diff(strikes) == strikes[1] - strikes[0])  # one strike step: butterflies are equal-weight
            step = int(strikes[1] - strikes[0])
            rises = np.diff(p, axis=1)
            # Calls fall with the strike and puts rise, exactly (rounding to the tick keeps order).
            assert (rises.max() if right == "CE" else -rises.min()) <= 0, (day.date, expiry, right)
            # ...by at most the discounted strike step, within a tick of rounding.
            years = (close_ts(expiry) - day.timestamps.astype(np.int64)) / YEAR
            bound = step * np.exp(-RATE * years)[:, None] + TICK
            assert np.all(np.abs(rises) <= bound), (day.date, expiry, right)
            # Butterflies: three prices rounded to the nearest tick are each within half a tick of a convex
            # chain, so a butterfly of whole ticks is above -2 ticks: at worst -1 tick.
            fly = p[:, :-2] - 2 * p[:, 1:-1] + p[:, 2:]
            assert fly.min() >= -TICK, (day.date, expiry, right, np.unravel_index(fly.argmin(), fly.shape))


def test_the_reported_day_has_no_negative_butterfly_far_below_the_spot(weeks):
    # 2024-10-29, seed 0, before the fix: puts 23900 / 23950 / 24000 of 31 Oct at 13:00 were 1.20 / 1.95 /
    # 2.45, a butterfly of -0.25, and over 22,000 butterflies below -2 ticks, 565-917 points below spot.
    day = weeks["NIFTY"][1]
    assert day.date == date(2024, 10, 29)
    strikes, puts = chains(day)[(date(2024, 10, 31), "PE")]
    spot = day.prices[:, :1]
    below = (spot - strikes[None, 1:-1]) >= 50_000  # the middle strike 500 points or more below the spot
    fly = puts[:, :-2] - 2 * puts[:, 1:-1] + puts[:, 2:]
    assert below.sum() > 10_000  # the far wing is in the chain for a good part of the day
    assert fly[below].min() >= -TICK


def test_put_call_parity_holds_within_two_ticks_at_every_second(weeks):
    for day in all_days(weeks):
        spot = day.prices[:, 0].astype(float)
        by_key = chains(day)
        for (expiry, right), (strikes, calls) in by_key.items():
            if right != "CE":
                continue
            puts = by_key[(expiry, "PE")][1]
            years = (close_ts(expiry) - day.timestamps.astype(np.int64)) / YEAR
            gap = calls - puts - (spot[:, None] - strikes[None, :] * np.exp(-RATE * years)[:, None])
            assert np.abs(gap).max() <= 2 * TICK, (day.date, expiry)


def test_each_day_opens_from_the_previous_close(weeks):
    for days in weeks.values():
        for before, after in itertools.pairwise(days):
            gap = math.log(after.prices[0, 0] / before.prices[-1, 0])
            assert abs(gap) < 0.03, (after.date, gap)  # NIFTY's largest opening gaps of 2024 were about 2-4 %


def test_implied_volatility_is_continuous_across_nights(weeks):
    moves = []
    for days in weeks.values():
        for before, after in itertools.pairwise(days):
            common = {e for e, _ in chains(before)} & {e for e, _ in chains(after)}
            for expiry in common:
                close_vol = atm_implied_vol(before, SESSION - 1, expiry)
                open_vol = atm_implied_vol(after, 0, expiry)
                moves.append((after.date, expiry, close_vol, open_vol))
    assert len(moves) >= 6
    for when, expiry, close_vol, open_vol in moves:
        # India VIX's overnight moves are mostly a few per cent; a quarter is a very large one.
        assert abs(math.log(open_vol / close_vol)) < 0.25, (when, expiry, close_vol, open_vol)
    # The reported night: 31 Oct ATM implied volatility went from 10.1 % to 18.4 % (a log move of 0.6).
    reported = [m for m in moves if m[0] == date(2024, 10, 30) and m[1] == date(2024, 10, 31)]
    assert len(reported) == 1


def test_atm_time_value_is_lower_at_the_next_open_all_else_equal():
    # All else equal: every day opens at the same implied volatility (vix 14), and the time value is
    # measured as the ATM option's total variance (sigma^2 T from its price), which no spot move changes.
    days = [generate_day("NIFTY", d, 0, vix=14.0) for d in trading_days(date(2024, 10, 28), date(2024, 10, 30))]
    for before, after in itertools.pairwise(days):
        common = {e for e, _ in chains(before)} & {e for e, _ in chains(after)}
        assert common
        for expiry in common:
            earlier = atm_option(before, 0, expiry)
            later = atm_option(after, 0, expiry)

            def total_variance(day, option, expiry=expiry):
                years = (close_ts(expiry) - int(day.timestamps[0])) / YEAR
                return implied_total_variance(option[2], int(day.prices[0, 0]), option[0], years, option[1])

            assert total_variance(after, later) < total_variance(before, earlier), (after.date, expiry)
            # One trading day of the variance left has gone: at an open with L trading days to the expiry
            # (today's included) L - 0.16 days are left (tonight's gap has happened), the next open L - 1.16.
            days_left = len(trading_days(before.date, expiry))
            ratio = total_variance(after, later) / total_variance(before, earlier)
            expected = (days_left - 1 - NIGHT) / (days_left - NIGHT)
            assert ratio == pytest.approx(expected, rel=0.05), (after.date, expiry)


def test_the_opening_implied_volatility_can_be_given_as_a_vix_figure():
    day = generate_day("BANKNIFTY", date(2024, 12, 3), 0, vix=21.5)
    expiry = date(2024, 12, 24)
    assert atm_implied_vol(day, 0, expiry) == pytest.approx(0.215, abs=0.01)
    seeded = generate_day("BANKNIFTY", date(2024, 12, 3), 0)
    assert seeded.prices[0, 0] == day.prices[0, 0] and seeded.prices[-1, 0] == day.prices[-1, 0]


@pytest.mark.parametrize("vix", [4.0, 90.0])
def test_chains_stay_free_of_static_arbitrage_at_extreme_volatility_on_an_expiry_day(vix):
    day = generate_day("NIFTY", date(2024, 10, 31), 0, vix=vix)
    for (expiry, right), (_, p) in chains(day).items():
        rises = np.diff(p, axis=1)
        assert (rises.max() if right == "CE" else -rises.min()) <= 0, (vix, expiry, right)
        fly = p[:, :-2] - 2 * p[:, 1:-1] + p[:, 2:]
        assert fly.min() >= -TICK, (vix, expiry, right)


@pytest.mark.parametrize("vix", [3.9, 150.5, True, "14"])
def test_a_vix_outside_its_bounds_is_refused(vix):
    with pytest.raises(ValueError, match="vix"):
        generate_day("NIFTY", date(2024, 10, 29), 0, vix=vix)
