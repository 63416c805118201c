"""A deterministic synthetic market: one trading day of an underlying and its option chain.

The model, in order (numbers are per-day random draws from the seeded generator):

- Level: the underlying opens near a data-driven level (`level_anchors` in the instrument data,
  interpolated by date) with a day-specific deviation of about 1 %.
- Spot path, one value per second: Student-t (5 degrees of freedom) log-returns scaled by the day's
  volatility (the underlying's typical annual volatility times a lognormal factor), an intraday
  U-shape (volatility highest in the first minutes, lowest at midday, rising again into the close),
  slow volatility clustering, a few trend episodes of 15-90 minutes and occasional jumps that are
  followed by a burst of volatility. Prices are rounded to the 0.05 tick.
- Options: 31 strikes centred on the opening ATM for two expiries (the current weekly and the current
  monthly, or the next contract when those coincide), CE and PE, priced every second with
  Black-Scholes on the rounded spot. Implied volatility has a smile and a put skew in standardised
  moneyness, moves against the spot (leverage effect) and drifts slowly. Volatility accrues in
  trading time up to 15:30 IST on the expiry day and discounting uses calendar time, so time value
  decays through each session and collapses on the expiry day. Prices are rounded to the tick
  with a floor of 0.05; since calls and puts use the same volatility, put-call parity holds to within
  the rounding (at most 1.5 ticks).
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
    TRADING_SECONDS,
    is_trading_day,
    market_close_ts,
    trading_days,
    trading_timestamps,
)
from live_trading.marketdata.day import MarketDay
from live_trading.marketdata.pricing import SECONDS_PER_YEAR, black_scholes
from live_trading.marketdata.symbols import OptionSymbol
from live_trading.marketdata.universe import risk_free_rate
from live_trading.refusals import Refused

STRIKES_EACH_SIDE = 15

_TRADING_DAYS_PER_YEAR = 252
_SMILE_SKEW = -0.07
_SMILE_CURVATURE = 0.025
_IV_SPOT_BETA = 3.5  # relative IV change per unit log-return of the spot, with opposite sign


class NotATradingDay(Refused, ValueError):
    """Synthetic data exists only for trading days."""

    subject = "date"


def base_level(underlying: str, day: date) -> float:
    """The data-driven reference level of `underlying` on `day` in rupees (linear between anchors)."""
    anchors = instruments.get_underlying(underlying).level_anchors
    if not anchors:
        raise instruments.InstrumentError(f"{underlying} has no level_anchors for the synthetic market")
    x = np.array([d.toordinal() for d, _ in anchors], dtype=float)
    y = np.array([v for _, v in anchors], dtype=float)
    return float(np.interp(day.toordinal(), x, y))


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


def generate_day(underlying: str, day: date, seed: int = 0) -> MarketDay:
    """Generate the synthetic `MarketDay` of `underlying` on `day` for `seed` (a non-negative int)."""
    if not is_trading_day(day):
        raise NotATradingDay(f"{day.isoformat()} is not a trading day; no synthetic data for it")
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, not {seed!r}")
    info = instruments.get_underlying(underlying)
    # Every dated fact first (InstrumentError before any work when the facts do not cover the day).
    level = base_level(underlying, day)
    expiries = chain_expiries(underlying, day)
    step = instruments.strike_step_paise(underlying, day) if expiries else 0
    lots = [instruments.lot_size(underlying, expiry, on=day) for expiry in expiries]
    rng = np.random.Generator(
        np.random.PCG64(np.random.SeedSequence([seed, day.toordinal(), zlib.crc32(underlying.encode())]))
    )
    n = TRADING_SECONDS
    profile = _intraday_profile(n)
    day_vol = info.annual_vol * float(np.clip(np.exp(0.25 * rng.standard_normal()), 0.6, 2.2))
    open_level = level * math.exp(0.01 * rng.standard_normal())

    log_spot, vol_path = _spot_path(rng, n, open_level, day_vol, profile)
    tick = info.tick_size_paise
    spot = _to_ticks(np.exp(log_spot) * 100.0, tick)
    timestamps = trading_timestamps(day)

    symbols = [underlying]
    price_cols = [spot[:, None]]
    chain = _Chain()
    if expiries:
        atm = instruments.atm_strike_paise(underlying, int(spot[0]), day)
        strikes = atm + step * np.arange(-STRIKES_EACH_SIDE, STRIKES_EACH_SIDE + 1, dtype=np.int64)
        iv_drift = _ou_minutes(rng, n, minutes=30, sd=1.0)
        for rank, (expiry, lot) in enumerate(zip(expiries, lots, strict=True)):
            calls, puts = _chain_prices(
                spot, log_spot, timestamps, day, expiry, strikes, day_vol, iv_drift, risk_free_rate()
            )
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


def _spot_path(rng, n, open_level, day_vol, profile) -> tuple[np.ndarray, np.ndarray]:
    sigma = day_vol / math.sqrt(_TRADING_DAYS_PER_YEAR * n)
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
    return math.log(open_level) + np.cumsum(returns), vol_path


def _chain_prices(spot, log_spot, timestamps, day, expiry, strikes, day_vol, iv_drift, rate):
    """Call and put values in paise, shape (seconds, strikes), for one expiry.

    Volatility accrues in trading time (the rest of today's session plus a full session for every
    trading day up to expiry, 252 sessions a year), discounting in calendar time (ACT/365). Pricing
    with calendar time and the equivalent volatility keeps both, and makes same-day options behave as
    they do: worth tens of rupees at the open of an expiry day, almost nothing at its close.
    """
    cal_years = np.maximum(market_close_ts(expiry) - timestamps, 1).astype(float) / SECONDS_PER_YEAR
    later_sessions = len(trading_days(day + timedelta(days=1), expiry))
    remaining = np.maximum(market_close_ts(day) - timestamps, 1).astype(float)
    var_years = (remaining + later_sessions * TRADING_SECONDS) / (_TRADING_DAYS_PER_YEAR * TRADING_SECONDS)
    atm_iv = day_vol * 1.08 * np.exp(-_IV_SPOT_BETA * (log_spot - log_spot[0]) + 0.05 * iv_drift)
    atm_iv = np.clip(atm_iv, 0.04, 2.0)[:, None]
    spot_f = spot.astype(float)[:, None]
    cal_years = cal_years[:, None]
    var_years = var_years[:, None]
    strike_f = strikes.astype(float)[None, :]
    forward = spot_f * np.exp(rate * cal_years)
    # The smile is a function of moneyness in standard deviations to expiry.
    z = np.clip(np.log(strike_f / forward) / (atm_iv * np.sqrt(var_years)), -3.0, 3.0)
    vol = atm_iv * (1.0 + _SMILE_SKEW * z + _SMILE_CURVATURE * z * z) * np.sqrt(var_years / cal_years)
    return black_scholes(spot_f, strike_f, cal_years, rate, vol)


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
