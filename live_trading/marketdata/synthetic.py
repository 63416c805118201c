"""A deterministic synthetic market: one trading day of an underlying and its option chain.

The model, in order (numbers are per-day random draws from the seeded generator):

- Days: `daily_path` gives each trading day its open and close and its ATM implied volatility at both,
  walked day by day, so a day opens from the previous day's close with a plausible gap and a small move
  of volatility, and the index stays near a data-driven level (`level_anchors`).
- Spot path, one value per second: Student-t (5 degrees of freedom) log-returns scaled by the day's
  volatility (the opening implied volatility over a premium of 8 %), an intraday U-shape (volatility
  highest in the first minutes, lowest at midday, rising again into the close), slow volatility
  clustering, a few trend episodes of 15-90 minutes and occasional jumps that are followed by a burst
  of volatility, bridged onto the day's close. Prices are rounded to the 0.05 tick.
- Options: 31 strikes centred on the opening ATM for two expiries (the current weekly and the current
  monthly, or the next contract when those coincide), CE and PE, priced every second with
  Black-Scholes on the rounded spot. The ATM implied volatility moves against the spot (leverage
  effect) and drifts slowly from the day's opening figure to its closing one; the smile is SSVI in
  total variance, free of butterfly arbitrage by construction (see `_SMILE_RHO`). Volatility accrues in
  trading time (each night carrying 16 % of a day's variance) up to 15:30 IST on the expiry day and
  discounting uses calendar time, so time value decays through each session and across each night
  and collapses on the expiry day. Prices are rounded to the nearest tick with a floor of 0.05: calls
  fall and puts rise with the strike exactly, butterflies are at worst -1 tick, and since calls and
  puts use the same volatility, put-call parity holds to within the rounding (at most 1.5 ticks).
- Activity: an option ticks when its rounded price changes or a trade arrives; trade arrival is
  likelier near the money, in the nearer expiry and at the open and close. Every tick carries a
  traded quantity in whole lots, and open interest moves with it. The underlying, an index, ticks
  every second; its volume is a proxy (index futures-like), so VWAP on it is meaningful.

Everything is drawn from one `numpy.random.Generator` seeded by (seed, date, underlying), so the same
arguments give the same arrays, and `day.write_day` turns equal arrays into equal bytes.
"""

from __future__ import annotations

import math
import zlib
from datetime import date, timedelta
from decimal import Decimal

import numpy as np

from live_trading.marketdata import instruments
from live_trading.marketdata.calendar import (
    LAST_DAY,
    TRADING_SECONDS,
    holds_expiries,
    is_trading_day,
    market_close_ts,
    trading_days,
    trading_timestamps,
)
from live_trading.marketdata.daily_path import (
    IV_PREMIUM,
    IV_SPOT_BETA,
    NIGHT_SHARE,
    TRADING_DAYS_PER_YEAR,
    VIX_BOUNDS,
    DayState,
    day_state,
)
from live_trading.marketdata.day import MarketDay
from live_trading.marketdata.pricing import SECONDS_PER_YEAR, black_scholes
from live_trading.marketdata.symbols import OptionSymbol
from live_trading.marketdata.universe import risk_free_rate
from live_trading.refusals import Refused

STRIKES_EACH_SIDE = 15

# The smile: SSVI (Gatheral & Jacquier, "Arbitrage-free SVI volatility surfaces", Quantitative Finance
# 14(1), 2014) in total implied variance w(k) = theta/2 (1 + rho phi k + sqrt((phi k + rho)^2 + 1 - rho^2)),
# k = log(strike / forward), theta the ATM total variance, phi = _SMILE_SLOPE / sqrt(theta) so the smile
# is the same in standardised moneyness whatever the time to expiry. Their Theorem 4.2: no butterfly
# arbitrage when theta phi (1 + |rho|) < 4 and theta phi^2 (1 + |rho|) <= 4. The second holds by the
# constants (0.49^2 x 1.29 = 0.31); the first is enforced by capping phi, so every second's chain is
# convex and monotone in strike before rounding. Near the money this is the previous smile,
# IV / ATM IV ~ 1 - 0.07 z + 0.025 z^2 in standard deviations z, with linear wings instead of a clip.
_SMILE_RHO = -0.286
_SMILE_SLOPE = 0.489
_SSVI_BOUND = 3.99  # theta phi (1 + |rho|) stays below 4


class NotATradingDay(Refused, ValueError):
    """Synthetic data exists only for trading days."""

    subject = "date"


def chain_expiries(underlying: str, day: date) -> list[date]:
    """The two expiries of the synthetic chain on `day` (empty for an underlying without options)."""
    if not instruments.get_underlying(underlying).has_options:
        return []
    chosen: list[date] = []
    for rule in ("current_weekly", "current_monthly", "next_weekly", "next_monthly"):
        try:
            expiry = instruments.select_expiry(underlying, day, rule)
        except instruments.ExpiryError:
            continue
        if expiry not in chosen:
            chosen.append(expiry)
        if len(chosen) == 2:
            break
    return sorted(chosen)


def generate_day(underlying: str, day: date, seed: int = 0, vix: float | None = None) -> MarketDay:
    """Generate the synthetic `MarketDay` of `underlying` on `day` for `seed` (a non-negative int).

    `vix`, in per cent a year (an India VIX figure, say 14.5), sets the ATM implied volatility at the
    open instead of the seeded volatility process; the spot's open and close are the same either way.
    `ValueError` when it is outside `VIX_BOUNDS`; `InstrumentError` for a day after `calendar.LAST_DAY`
    or before the contract facts.
    """
    if day > LAST_DAY:
        raise instruments.InstrumentError(f"no market data after {LAST_DAY.isoformat()}: {day.isoformat()} is beyond it")
    if not is_trading_day(day):
        raise NotATradingDay(f"{day.isoformat()} is not a trading day; no synthetic data for it")
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, not {seed!r}")
    number = isinstance(vix, int | float) and not isinstance(vix, bool)
    if vix is not None and not (number and VIX_BOUNDS[0] <= vix <= VIX_BOUNDS[1]):
        raise ValueError(f"vix must be a volatility in per cent a year from {VIX_BOUNDS[0]:g} to {VIX_BOUNDS[1]:g}, "
                         f"not {vix!r}")
    info = instruments.get_underlying(underlying)
    # Every dated fact first (InstrumentError before any work when the facts do not cover the day).
    expiries = chain_expiries(underlying, day)
    step = instruments.strike_step_paise(underlying, day) if expiries else 0
    lots = [instruments.lot_size(underlying, expiry, on=day) for expiry in expiries]
    state = day_state(underlying, day, seed)
    rng = np.random.Generator(
        np.random.PCG64(np.random.SeedSequence([seed, day.toordinal(), zlib.crc32(underlying.encode())]))
    )
    timestamps = trading_timestamps(day)  # the day's session windows: 22,500 seconds on a regular day
    n = len(timestamps)
    profile = _intraday_profile(n)
    open_iv, close_iv = state.open_iv, state.close_iv
    if vix is not None:
        open_iv, close_iv = vix / 100.0, vix / 100.0 * close_iv / open_iv
    day_vol = open_iv / IV_PREMIUM

    log_spot, vol_path = _spot_path(rng, n, state, day_vol, profile)
    tick = info.tick_size_paise
    spot = _to_ticks(np.exp(log_spot) * 100.0, tick)

    symbols = [underlying]
    price_cols = [spot[:, None]]
    chain = _Chain()
    if expiries:
        atm = instruments.atm_strike_paise(underlying, int(spot[0]), day)
        strikes = atm + step * np.arange(-STRIKES_EACH_SIDE, STRIKES_EACH_SIDE + 1, dtype=np.int64)
        atm_iv = _atm_iv_path(rng, n, log_spot, open_iv, close_iv)
        for rank, (expiry, lot) in enumerate(zip(expiries, lots, strict=True)):
            calls, puts = _chain_prices(spot, timestamps, day, expiry, strikes, atm_iv, risk_free_rate())
            for j, k in enumerate(strikes):
                for right, values in (("CE", calls), ("PE", puts)):
                    symbols.append(str(OptionSymbol(underlying, expiry, Decimal(int(k)) / 100, right)))
                    price_cols.append(_to_ticks(values[:, j], tick, floor=tick)[:, None])
                    chain.add(strike=int(k), call=right == "CE", near=rank == 0, lot=lot)
    prices = np.hstack(price_cols)
    future_lot = chain.lots[-1] if chain.lots else 1  # the later expiry is the monthly one
    volumes, oi, mask = _activity(rng, prices, chain, profile * vol_path, future_lot)
    return MarketDay(
        underlying=underlying,
        date=day,
        timestamps=timestamps,
        symbols=symbols,
        prices=prices,
        volumes=volumes,
        oi=oi,
        tick_mask=mask,
        source="synthetic",
        seed=seed,
    )


class _Chain:
    """Per-option-column facts the activity model needs, in column order (column 0 excluded)."""

    def __init__(self) -> None:
        self.strikes: list[int] = []
        self.calls: list[bool] = []
        self.near: list[bool] = []
        self.lots: list[int] = []

    def add(self, strike: int, call: bool, near: bool, lot: int) -> None:
        self.strikes.append(strike)
        self.calls.append(call)
        self.near.append(near)
        self.lots.append(lot)


def _intraday_profile(n: int) -> np.ndarray:
    """Relative volatility per second: high after the open, lowest at midday, up again into the close."""
    t = np.arange(n, dtype=float)
    u = 0.7 + 1.8 * np.exp(-t / 900.0) + 0.9 * np.exp(-(n - 1 - t) / 1500.0)
    return u / np.sqrt(np.mean(u * u))


def _ou_minutes(rng: np.random.Generator, n: int, minutes: float, sd: float) -> np.ndarray:
    """A mean-reverting (Ornstein-Uhlenbeck) series with stationary `sd`, one value per minute, held per second."""
    steps = -(-n // 60)
    keep = math.exp(-1.0 / minutes)
    shocks = rng.standard_normal(steps) * sd * math.sqrt(1.0 - keep * keep)
    out = np.empty(steps)
    level = rng.standard_normal() * sd
    for i in range(steps):
        level = keep * level + shocks[i]
        out[i] = level
    return np.repeat(out, 60)[:n]


def _spot_path(rng, n, state: DayState, day_vol, profile) -> tuple[np.ndarray, np.ndarray]:
    """Log spot per second from the day's open to its close, and the relative volatility per second.

    The path is drawn freely (Student-t returns, clustering, trends, jumps) and then bridged: a linear
    drift over the session moves its end onto the daily process's close, so the next day opens from it.
    A special session (a DR drill's or a Muhurat evening's hour) moves per second as a regular day does.
    """
    sigma = day_vol * math.sqrt((1.0 - NIGHT_SHARE) / (TRADING_DAYS_PER_YEAR * TRADING_SECONDS))
    vol_path = profile * np.exp(0.25 * _ou_minutes(rng, n, minutes=45, sd=1.0) - 0.03)

    jump_count = rng.poisson(0.8)
    jump_at = np.sort(rng.integers(60, n - 60, size=jump_count))
    jump_size = rng.normal(0.0, 0.0025, size=jump_count)
    t = np.arange(n)
    for at in jump_at:
        after = t >= at
        vol_path[after] *= 1.0 + 1.5 * np.exp(-(t[after] - at) / 600.0)

    returns = sigma * vol_path * rng.standard_t(5, size=n) / math.sqrt(5.0 / 3.0)
    for _ in range(rng.poisson(1.3)):
        start = int(rng.integers(0, n - 900))
        length = int(rng.integers(900, 5400))
        returns[start : start + length] += rng.normal(0.0, 0.004) / length
    returns[jump_at] += jump_size
    returns[0] = 0.0
    path = np.cumsum(returns)
    path += (state.session_return - path[-1]) * (t / (n - 1))
    return state.open_log_spot + path, vol_path


def _atm_iv_path(rng, n, log_spot, open_iv: float, close_iv: float) -> np.ndarray:
    """ATM implied volatility per second (a year of trading time), shape (seconds, 1).

    It moves against the spot (leverage effect) and drifts slowly; the drift is bridged so the session
    starts at `open_iv` and ends at `close_iv`, the daily process's figures.
    """
    leverage = -IV_SPOT_BETA * (log_spot - log_spot[0])
    drift = 0.05 * _ou_minutes(rng, n, minutes=30, sd=1.0)
    drift -= drift[0]
    t = np.arange(n) / (n - 1)
    drift += t * (math.log(close_iv / open_iv) - leverage[-1] - drift[-1])
    return np.clip(open_iv * np.exp(leverage + drift), 0.04, 2.0)[:, None]


def _chain_prices(spot, timestamps, day, expiry, strikes, atm_iv, rate):
    """Call and put values in paise, shape (seconds, strikes), for one expiry.

    Volatility accrues in trading time: the rest of today's session, then for every trading day up to
    expiry its night (`NIGHT_SHARE` of a day's variance, released at its open) and its session, 252
    days a year; discounting uses calendar time (ACT/365). So time value decays through each session
    and across each night, and same-day options are worth tens of rupees at the open of an expiry day,
    almost nothing at its close. The smile is SSVI in total variance (see `_SMILE_RHO`).
    """
    cal_years = np.maximum(market_close_ts(expiry) - timestamps, 1).astype(float) / SECONDS_PER_YEAR
    # Full sessions only: a DR drill's or a Muhurat evening's hour or two is left out (a simplification
    # that keeps the days around them as they were generated before special sessions were modelled).
    later_sessions = sum(map(holds_expiries, trading_days(day + timedelta(days=1), expiry)))
    # Today's share of a day still to come: the trading seconds left, this one included.
    remaining = np.arange(len(timestamps), 0, -1, dtype=float) / TRADING_SECONDS
    var_years = ((1.0 - NIGHT_SHARE) * remaining + later_sessions) / TRADING_DAYS_PER_YEAR
    spot_f = spot.astype(float)[:, None]
    cal_years = cal_years[:, None]
    strike_f = strikes.astype(float)[None, :]
    theta = atm_iv * atm_iv * var_years[:, None]
    k = np.log(strike_f / (spot_f * np.exp(rate * cal_years)))
    phi = np.minimum(_SMILE_SLOPE / np.sqrt(theta), _SSVI_BOUND / (theta * (1.0 + abs(_SMILE_RHO))))
    pk = phi * k
    total_var = 0.5 * theta * (1.0 + _SMILE_RHO * pk + np.sqrt((pk + _SMILE_RHO) ** 2 + 1.0 - _SMILE_RHO**2))
    return black_scholes(spot_f, strike_f, cal_years, rate, np.sqrt(total_var / cal_years))


def _to_ticks(paise: np.ndarray, tick: int, floor: int = 0) -> np.ndarray:
    out = np.rint(paise / tick).astype(np.int64) * tick
    if floor:
        np.maximum(out, floor, out=out)
    return out


def _activity(rng, prices, chain: _Chain, busy: np.ndarray, future_lot: int):
    """Traded quantity, open interest and tick mask for every column."""
    n, m = prices.shape
    mask = np.empty((n, m), bool)
    mask[0] = True
    np.not_equal(prices[1:], prices[:-1], out=mask[1:])
    volumes = np.zeros((n, m), np.int64)
    oi = np.zeros((n, m), np.int64)

    # The index ticks every second; its volume stands in for the near-month future's.
    mask[:, 0] = True
    volumes[:, 0] = future_lot * (1 + rng.poisson(4.0 * busy))
    if m == 1:
        return volumes, oi, mask

    strikes = np.array(chain.strikes, dtype=float)
    lots = np.array(chain.lots, dtype=np.int64)
    moneyness = np.log(strikes / prices[0, 0]) * 100.0  # per cent of the opening spot
    weight = np.where(chain.near, 1.0, 0.4)
    activity = np.exp(-0.5 * (moneyness / 1.2) ** 2) * weight
    p_trade = np.clip((0.03 + 0.6 * activity)[None, :] * busy[:, None], 0.0, 0.95)
    opt_mask = mask[:, 1:]
    opt_mask |= rng.random((n, m - 1)) < p_trade
    rows, cols = np.nonzero(opt_mask)
    qty = (1 + rng.poisson(40.0 * activity[cols] * busy[rows])) * lots[cols]
    volumes[rows, cols + 1] = qty
    # Open interest: a hump of contracts out of the money, moved by a share of every trade.
    centre = np.where(chain.calls, 1.0, -1.0)
    oi_lots = 1e5 * (0.1 + np.exp(-0.5 * ((moneyness - centre) / 1.5) ** 2)) * weight
    change = np.zeros((n, m - 1), np.int64)
    change[rows, cols] = qty * rng.choice(np.array([1, 0, -1]), size=len(rows), p=[0.34, 0.34, 0.32])
    change[0] += oi_lots.astype(np.int64) * lots
    np.cumsum(change, axis=0, out=change)
    np.maximum(change, lots, out=change)
    oi[:, 1:] = change
    return volumes, oi, mask
