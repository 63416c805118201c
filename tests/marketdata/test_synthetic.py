"""The synthetic market: shape, tick alignment, parity, smile, decay, U-shaped volatility, determinism."""

import math
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from live_trading.marketdata.store import ensure_synthetic_day
from live_trading.marketdata.symbols import OptionSymbol, parse_symbol
from live_trading.marketdata.synthetic import NotATradingDay, generate_day

RATE = 0.065  # risk_free_rate in the instrument data
YEAR = 365 * 86_400


def options_of(day):
    return [(i, parse_symbol(s)) for i, s in enumerate(day.symbols) if i > 0]


def ist(day, hh, mm, ss=0):
    return int(datetime(day.year, day.month, day.day, hh, mm, ss, tzinfo=UTC).timestamp()) - 19_800


def test_a_day_has_one_row_per_second_of_the_session(nifty_day):
    assert nifty_day.prices.shape == (22_500, len(nifty_day.symbols))
    assert nifty_day.timestamps[0] == ist(date(2024, 10, 29), 9, 15)
    assert nifty_day.timestamps[-1] == ist(date(2024, 10, 29), 15, 29, 59)
    assert np.all(np.diff(nifty_day.timestamps) == 1)
    assert nifty_day.symbols[0] == "NIFTY"


def test_the_chain_has_31_strikes_around_the_opening_atm_for_the_weekly_and_the_next_expiry(nifty_day):
    options = [s for _, s in options_of(nifty_day)]
    # 29 Oct 2024: the weekly and the monthly are both Thursday 31 Oct, so the next weekly joins.
    assert sorted({s.expiry for s in options}) == [date(2024, 10, 31), date(2024, 11, 7)]
    strikes = sorted({int(s.strike) for s in options})
    open_spot = nifty_day.prices[0, 0] / 100
    atm = round(open_spot / 50) * 50
    assert strikes == list(range(atm - 15 * 50, atm + 15 * 50 + 1, 50))
    assert len(options) == 31 * 2 * 2


def test_the_level_is_plausible_for_the_date(nifty_day):
    spot = nifty_day.prices[:, 0] / 100
    assert spot.min() > 23_000 and spot.max() < 26_000
    banknifty = generate_day("BANKNIFTY", date(2024, 12, 2), 0)
    assert 48_000 < banknifty.prices[0, 0] / 100 < 54_000
    strikes = sorted({int(parse_symbol(s).strike) for s in banknifty.symbols[1:]})
    assert np.all(np.diff(strikes) == 100)
    # BANKNIFTY has only monthly contracts by December 2024.
    assert sorted({parse_symbol(s).expiry for s in banknifty.symbols[1:]}) == [date(2024, 12, 24), date(2025, 1, 30)]


def test_every_price_is_on_the_tick_and_positive(nifty_day):
    assert np.all(nifty_day.prices % 5 == 0)
    assert nifty_day.prices.min() >= 5


def test_put_call_parity_holds_within_two_ticks(nifty_day):
    spot = nifty_day.prices[:, 0].astype(float)
    column = {s: i for i, s in enumerate(nifty_day.symbols)}
    worst = 0.0
    for i, sym in options_of(nifty_day):
        if sym.right != "CE":
            continue
        put = column[str(OptionSymbol(sym.underlying, sym.expiry, sym.strike, "PE"))]
        close = ist(sym.expiry, 15, 30)
        years = (close - nifty_day.timestamps) / YEAR
        strike = float(sym.strike) * 100
        gap = nifty_day.prices[:, i] - nifty_day.prices[:, put] - (spot - strike * np.exp(-RATE * years))
        worst = max(worst, float(np.abs(gap).max()))
    assert worst <= 10.0  # paise: two ticks of 0.05


def implied_vol(price, spot, strike, years, right):
    def bs(vol):
        d1 = (math.log(spot / strike) + (RATE + vol * vol / 2) * years) / (vol * math.sqrt(years))
        d2 = d1 - vol * math.sqrt(years)
        n = lambda x: 0.5 * (1 + math.erf(x / math.sqrt(2)))  # noqa: E731
        df = math.exp(-RATE * years)
        return spot * n(d1) - strike * df * n(d2) if right == "CE" else strike * df * n(-d2) - spot * n(-d1)

    lo, hi = 0.01, 3.0
    for _ in range(80):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if bs(mid) < price else (lo, mid)
    return (lo + hi) / 2


def test_out_of_the_money_puts_carry_a_higher_implied_volatility_than_the_atm(nifty_day):
    row = 0
    spot = nifty_day.prices[row, 0]
    years = (ist(date(2024, 11, 7), 15, 30) - nifty_day.timestamps[row]) / YEAR
    vols = {}
    for i, sym in options_of(nifty_day):
        if sym.expiry == date(2024, 11, 7) and (sym.right == "PE") == (sym.strike_paise <= spot):
            vols[int(sym.strike)] = implied_vol(nifty_day.prices[row, i], spot, sym.strike_paise, years, sym.right)
    atm = min(vols, key=lambda k: abs(k * 100 - spot))
    assert vols[atm - 500] > vols[atm] + 0.005
    assert vols[atm - 500] > vols[atm + 500]  # the skew: puts richer than equidistant calls


def test_time_value_decays_to_almost_nothing_by_the_expiry_close(nifty_expiry_day):
    day = nifty_expiry_day
    spot = day.prices[:, 0]

    def atm_time_value(row):
        best = None
        for i, sym in options_of(day):
            if sym.expiry == day.date and sym.right == "CE":
                intrinsic = max(int(spot[row]) - sym.strike_paise, 0)
                dist = abs(sym.strike_paise - int(spot[row]))
                if best is None or dist < best[0]:
                    best = (dist, int(day.prices[row, i]) - intrinsic)
        return best[1]

    assert atm_time_value(0) > 3_000  # above 30 rupees at the open
    assert atm_time_value(len(spot) - 1) < 500  # below 5 rupees in the last second


def test_volatility_is_higher_at_the_open_and_close_than_at_midday():
    for seed in (0, 1, 2):
        day = generate_day("NIFTY", date(2024, 10, 29), seed)
        moves = np.abs(np.diff(np.log(day.prices[:, 0].astype(float))))
        opening = moves[: 30 * 60].mean()
        midday = moves[(12 * 60 - 555) * 60 : (13 * 60 + 30 - 555) * 60].mean()
        closing = moves[-30 * 60 :].mean()
        assert opening > 1.5 * midday, seed
        assert closing > 1.2 * midday, seed


def test_volume_and_open_interest_come_in_whole_lots(nifty_day):
    options = nifty_day.volumes[:, 1:]
    assert np.all(options % 25 == 0) and np.all(nifty_day.oi[:, 1:] % 25 == 0)
    assert np.all(options >= 0) and np.all(nifty_day.oi[:, 1:] > 0)
    assert np.all((options > 0) == nifty_day.tick_mask[:, 1:])
    totals = {parse_symbol(s).strike: nifty_day.volumes[:, i].sum() for i, s in enumerate(nifty_day.symbols)
              if i and s.endswith("CE") and "2024-10-31" in s}
    strikes = sorted(totals)
    assert totals[strikes[15]] > 10 * totals[strikes[0]]  # at the money trades far more than deep in it


def test_the_same_seed_gives_byte_identical_files_and_another_seed_does_not(tmp_path):
    day = date(2024, 10, 29)
    first = ensure_synthetic_day("NIFTY", day, 7, data_dir=tmp_path / "a")
    second = ensure_synthetic_day("NIFTY", day, 7, data_dir=tmp_path / "b")
    other = ensure_synthetic_day("NIFTY", day, 8, data_dir=tmp_path / "a")
    assert first.read_bytes() == second.read_bytes()
    assert first.read_bytes() != other.read_bytes()


def test_there_is_no_synthetic_data_for_a_holiday():
    with pytest.raises(NotATradingDay, match="2024-11-20"):
        generate_day("NIFTY", date(2024, 11, 20), 0)


def test_a_negative_seed_is_refused():
    with pytest.raises(ValueError, match="seed"):
        generate_day("NIFTY", date(2024, 10, 29) + timedelta(days=0), -1)
