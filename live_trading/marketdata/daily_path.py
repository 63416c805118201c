"""The synthetic market's day-to-day process: each trading day's open and close, so days follow each other.

One state per trading day, walked forward one trading day at a time from 1 January of `WALK_FROM_YEAR`
(a year is walked once per process and underlying and seed, then cached; a few milliseconds each):

- Night: the day opens at the previous close times a gap, `exp(g)` with `g` normal of standard deviation
  `sqrt(NIGHT_SHARE)` of a day's move (about 0.3 % for NIFTY), plus a small pull towards the level.
  The ATM implied volatility moves too: mean reversion towards the underlying's usual level
  (`annual_vol` x `IV_PREMIUM`), a small random step, and the leverage effect (`IV_SPOT_BETA`: it rises
  when the spot gaps down).
- Session: the close is the open times `exp(r)`, `r` normal of standard deviation `sqrt(1 - NIGHT_SHARE)`
  of a day's move at the opening volatility, plus a pull towards the data-driven level (`level_anchors`,
  linear in between) that keeps the index within a few per cent of it. The implied volatility at the
  close is the opening one moved by the leverage effect on `r` and a small random step.

The random numbers of a day come from one block per calendar year seeded by (seed, year, underlying), so a
day's draws do not depend on how many trading days precede it. Years before `WALK_FROM_YEAR` each start
afresh at the level (no instrument facts exist for them today).
"""

from __future__ import annotations

import functools
import math
import zlib
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from live_trading.marketdata import instruments
from live_trading.marketdata.calendar import trading_days
from live_trading.marketdata.universe import on_change

WALK_FROM_YEAR = 2010
TRADING_DAYS_PER_YEAR = 252
NIGHT_SHARE = 0.16  # share of a trading day's variance that arrives overnight, as the opening gap
IV_PREMIUM = 1.08  # implied over realised volatility
IV_SPOT_BETA = 3.5  # relative change of the ATM implied volatility per unit log-return of the spot, negated

VIX_BOUNDS = (4.0, 150.0)  # a volatility level that may be given for a day, per cent a year (the intraday floor is 4 %)

_LEVEL_KEEP = 0.95  # daily persistence of the log distance from the level: a half-life of about 14 days
_LEVEL_PULL_AT_NIGHT = 0.3  # share of that day's pull applied to the gap
_IV_KEEP = 0.95  # daily persistence of log implied volatility around its usual level
_IV_NIGHT_STEP = 0.05  # standard deviation of the overnight random step of log implied volatility
_IV_DAY_STEP = 0.04  # and of the session's, besides the leverage effect
_IV_BOUNDS = (0.05, 1.5)


@dataclass(frozen=True)
class DayState:
    """One trading day of the daily process: log of the spot in rupees, ATM implied volatility a year.

    `open_iv`/`close_iv` are per year of trading time (252 sessions), the clock the chain is priced on.
    """

    day: date
    open_log_spot: float
    close_log_spot: float
    open_iv: float
    close_iv: float

    @property
    def session_return(self) -> float:
        """Log-return from the open to the close."""
        return self.close_log_spot - self.open_log_spot


def _log_levels(underlying: str, days: list[date]) -> np.ndarray:
    """Log of the data-driven reference level (rupees, linear between `level_anchors`) on each day."""
    anchors = instruments.get_underlying(underlying).level_anchors
    if not anchors:
        raise instruments.InstrumentError(f"{underlying} has no level_anchors for the synthetic market")
    x = np.array([d.toordinal() for d, _ in anchors], dtype=float)
    y = np.array([v for _, v in anchors], dtype=float)
    return np.log(np.interp([d.toordinal() for d in days], x, y))


def day_state(underlying: str, day: date, seed: int = 0) -> DayState:
    """The daily process of `underlying` for `seed` on trading day `day` (KeyError on a non-trading day)."""
    return _year(underlying, seed, day.year)[0][day]


def _usual_iv(underlying: str) -> float:
    return instruments.get_underlying(underlying).annual_vol * IV_PREMIUM


@functools.lru_cache(maxsize=128)
def _year(underlying: str, seed: int, year: int) -> tuple[dict[date, DayState], float, float]:
    """Every trading day of `year` and the state after its last close: (days, close log spot, log IV)."""
    usual = math.log(_usual_iv(underlying))
    start = date(year, 1, 1)
    if year > WALK_FROM_YEAR:
        _, close_log, log_iv = _year(underlying, seed, year - 1)
    else:
        close_log, log_iv = float(_log_levels(underlying, [start])[0]), usual
    seq = np.random.SeedSequence([seed, year, zlib.crc32(underlying.encode()), 0xDA11])
    draws = np.random.Generator(np.random.PCG64(seq)).standard_normal((366, 4))
    low, high = math.log(_IV_BOUNDS[0]), math.log(_IV_BOUNDS[1])
    night_sd, session_sd = math.sqrt(NIGHT_SHARE), math.sqrt(1.0 - NIGHT_SHARE)
    days: dict[date, DayState] = {}
    walked = trading_days(start, date(year, 12, 31))
    levels = _log_levels(underlying, [start - timedelta(days=1), *walked]).tolist()
    for i, d in enumerate(walked):
        e = draws[d.toordinal() - start.toordinal()].tolist()
        # Follow the level's own change, and pull back a share of the distance from it.
        pull = levels[i + 1] - levels[i] - (1.0 - _LEVEL_KEEP) * (close_log - levels[i])
        daily_sd = math.exp(log_iv) / IV_PREMIUM / math.sqrt(TRADING_DAYS_PER_YEAR)
        gap = night_sd * daily_sd * e[0] + _LEVEL_PULL_AT_NIGHT * pull
        open_log = close_log + gap
        open_iv = usual + _IV_KEEP * (log_iv - usual) + _IV_NIGHT_STEP * e[1] - IV_SPOT_BETA * gap
        open_iv = min(max(open_iv, low), high)
        daily_sd = math.exp(open_iv) / IV_PREMIUM / math.sqrt(TRADING_DAYS_PER_YEAR)
        move = session_sd * daily_sd * e[2] + (1.0 - _LEVEL_PULL_AT_NIGHT) * pull
        close_log = open_log + move
        log_iv = min(max(open_iv - IV_SPOT_BETA * move + _IV_DAY_STEP * e[3], low), high)
        days[d] = DayState(d, open_log, close_log, math.exp(open_iv), math.exp(log_iv))
    return days, close_log, log_iv


on_change(_year.cache_clear)
