"""Contract rules over the instrument universe: lookups, expiry and strike selection, lot sizes.

Facts live in ``data/underlyings.toml`` (read by `universe`; sources in docs/marketdata.md), so an
underlying is added by editing data, not code. Every fact carries the date it took effect: lot sizes
per contract, strike steps, the weekday of weekly and monthly expiries. Exchange holidays come from
`sessions`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal

from live_trading.marketdata.calendar import holds_expiries, is_trading_day
from live_trading.marketdata.symbols import OptionSymbol, SymbolError, parse_symbol
from live_trading.marketdata.universe import InstrumentError, Underlying, on_change, universe

__all__ = [
    "EXPIRY_RULES",
    "ExpiryError",
    "InstrumentError",
    "Underlying",
    "atm_strike_paise",
    "expiries",
    "get_underlying",
    "is_monthly_expiry",
    "is_trading_day",
    "lot_size",
    "monthly_expiry",
    "select_expiry",
    "select_strike",
    "strike_step",
    "strike_step_paise",
    "tick_size_paise",
    "underlying_names",
    "weekly_expiries",
]

EXPIRY_RULES = ("current_weekly", "next_weekly", "current_monthly", "next_monthly")
# How far ahead contracts are listed: weeklies for the next five weeks, the next three monthlies.
_WEEKLY_HORIZON_DAYS = 35
_MONTHLY_LISTED = 3


class ExpiryError(InstrumentError):
    """No expiry matches the requested rule on that date."""


def underlying_names() -> list[str]:
    """Names of every known underlying."""
    return sorted(universe().underlyings)


def get_underlying(name: str) -> Underlying:
    """The underlying called `name`; `InstrumentError` if it is unknown."""
    try:
        return universe().underlyings[name]
    except KeyError:
        known = ", ".join(underlying_names())
        raise InstrumentError(f"unknown underlying {name!r} (known: {known})", subject="underlying") from None


def tick_size_paise(underlying: str) -> int:
    """Price tick of the underlying's derivatives in paise (5 = 0.05 rupee for NSE index options)."""
    return get_underlying(underlying).tick_size_paise


def strike_step_paise(underlying: str, on: date) -> int:
    """Strike interval in paise in force on `on`."""
    u = get_underlying(underlying)
    step = _in_force(u.strike_steps, on, f"{underlying} strike step")
    return int(step * 100)


def strike_step(underlying: str, on: date) -> int:
    """Strike interval in whole rupees in force on `on` (50 for NIFTY, 100 for BANKNIFTY)."""
    paise = strike_step_paise(underlying, on)
    if paise % 100:
        raise InstrumentError(f"{underlying} strike step {paise / 100} is not whole rupees; use strike_step_paise")
    return paise // 100


def _in_force(periods, on: date, what: str, when: str | None = None):
    """The value of the period in force on `on`; `InstrumentError` naming `what`, the date (or `when`)
    and where the data file's facts start when `on` is before them."""
    value = None
    found = False
    for start, v in periods:
        if start <= on:
            value, found = v, True
    if not found:
        since = f" (the data file has it from {periods[0][0].isoformat()})" if periods else ""
        raise InstrumentError(f"no {what} known {when or 'on ' + on.isoformat()}{since}")
    return value


# ---------------------------------------------------------------------------------------------------
# Expiries


def _shift_to_trading_day(d: date) -> date:
    while not holds_expiries(d):
        d -= timedelta(days=1)
    return d


@functools.cache
def monthly_expiry(underlying: str, year: int, month: int) -> date:
    """The monthly expiry of `year`-`month`: its last expiry weekday, moved back over holidays."""
    u = get_underlying(underlying)
    first = date(year, month, 1)
    weekday = _in_force(u.monthly_rules, first, f"{underlying} monthly expiry rule")
    if weekday is None:
        raise ExpiryError(f"{underlying} has no monthly contracts in {first:%b %Y}")
    last = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    nominal = last - timedelta(days=(last.weekday() - weekday) % 7)
    return _shift_to_trading_day(nominal)


def is_monthly_expiry(underlying: str, expiry: date) -> bool:
    """Whether `expiry` is the monthly expiry of its month."""
    try:
        return monthly_expiry(underlying, expiry.year, expiry.month) == expiry
    except ExpiryError:
        return False


def _monthlies_from(underlying: str, on: date, count: int) -> list[date]:
    out = []
    year, month = on.year, on.month
    while len(out) < count:
        try:
            exp = monthly_expiry(underlying, year, month)
        except ExpiryError:
            exp = None
        if exp is not None and exp >= on:
            out.append(exp)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        if year > on.year + 2:
            break
    return out


def weekly_expiries(underlying: str, start: date, end: date) -> list[date]:
    """Weekly expiries from `start` to `end` inclusive.

    In the week of a monthly expiry the monthly contract is that week's weekly, as on the exchange.
    An underlying whose weeklies were discontinued has none from that date on.
    """
    u = get_underlying(underlying)
    out = set()
    monday = start - timedelta(days=start.weekday())
    while monday <= end:
        weekday = (_in_force(u.weekly_rules, monday, f"{underlying} weekly expiry rule",
                             f"for the week of {monday.isoformat()}") if u.weekly_rules else None)
        if weekday is not None:
            nominal = monday + timedelta(days=weekday)
            monthly = _monthly_in_week(underlying, monday)
            exp = monthly if monthly is not None else _shift_to_trading_day(nominal)
            if start <= exp <= end:
                out.add(exp)
        monday += timedelta(days=7)
    return sorted(out)


def _monthly_in_week(underlying: str, monday: date) -> date | None:
    sunday = monday + timedelta(days=6)
    for d in {monday, sunday}:
        try:
            exp = monthly_expiry(underlying, d.year, d.month)
        except ExpiryError:
            continue
        if monday <= exp <= sunday:
            return exp
    return None


def expiries(underlying: str, on: date) -> list[date]:
    """Option expiries listed on `on` (on or after it), ascending.

    Weeklies for the next five weeks and the next three monthlies; quarterly and longer contracts are
    not modelled.
    """
    if not get_underlying(underlying).has_options:
        return []
    weekly = weekly_expiries(underlying, on, on + timedelta(days=_WEEKLY_HORIZON_DAYS))
    return sorted(set(weekly) | set(_monthlies_from(underlying, on, _MONTHLY_LISTED)))


def select_expiry(underlying: str, on: date, rule: str) -> date:
    """The expiry chosen by `rule` on `on`: one of ``current_weekly``, ``next_weekly``,
    ``current_monthly``, ``next_monthly``. On an expiry day "current" is that day's expiry.

    Raises `ExpiryError` when the underlying has no such contract (e.g. BANKNIFTY weeklies after
    13 Nov 2024).
    """
    if rule not in EXPIRY_RULES:
        raise ExpiryError(f"unknown expiry rule {rule!r}; use one of {', '.join(EXPIRY_RULES)}")
    if rule.endswith("monthly"):
        found = _monthlies_from(underlying, on, 2)
    else:
        found = weekly_expiries(underlying, on, on + timedelta(days=21))
    index = 0 if rule.startswith("current") else 1
    if len(found) <= index:
        kind = "weekly" if rule.endswith("weekly") else "monthly"
        raise ExpiryError(f"{underlying} has no {rule.replace('_', ' ')} expiry on {on.isoformat()} (no {kind} contracts)")
    return found[index]


# ---------------------------------------------------------------------------------------------------
# Lot sizes


def lot_size(underlying: str, expiry: date, on: date | None = None) -> int:
    """Lot size of the `underlying` option contract expiring on `expiry`.

    Lot revisions apply by contract: a weekly (monthly) contract has a revision's lot if it expires on or
    after that revision's first weekly (monthly) expiry. Quarterly contracts that were already listed
    switch at the end of the revision's ``long_dated_switch`` day; pass `on` (the trading date) to get
    the lot in force before that switch. Without `on` the answer is the lot at expiry.
    """
    u = get_underlying(underlying)
    monthly = is_monthly_expiry(underlying, expiry)
    lot = None
    for rev in u.lot_revisions:
        first = rev.first_monthly_expiry if monthly else rev.first_weekly_expiry
        if first is None or expiry < first:
            continue
        still_old = (
            monthly
            and rev.long_dated_switch is not None
            and on is not None
            and on <= rev.long_dated_switch
            and expiry.month in (3, 6, 9, 12)
            and lot is not None
        )
        if not still_old:
            lot = rev.lot
    if lot is None:
        firsts = [rev.first_monthly_expiry if monthly else rev.first_weekly_expiry for rev in u.lot_revisions]
        firsts = sorted(d for d in firsts if d is not None)
        since = (f" (the data file's lot sizes start with the {'monthly' if monthly else 'weekly'} contract"
                 f" expiring on {firsts[0].isoformat()})") if firsts else ""
        raise InstrumentError(
            f"no {underlying} lot size known for contracts expiring on {expiry.isoformat()}{since}")
    return lot


# ---------------------------------------------------------------------------------------------------
# Strikes

_STRIKE_RULE_RE = re.compile(r"(ATM)|(ITM|OTM)\s*(\d+)|(PREMIUM)", re.ASCII)


def select_strike(
    underlying: str,
    expiry: date,
    right: str,
    rule: str,
    *,
    spot_paise: int | None = None,
    on: date | None = None,
    premiums: Mapping[str, int] | None = None,
    target_premium_paise: int | None = None,
) -> OptionSymbol:
    """The option chosen by a strike rule.

    Rules (case-insensitive): ``ATM`` (strike nearest `spot_paise`, ties upward), ``ITM<n>`` / ``OTM<n>``
    (n strike steps in or out of the money from ATM: for a CE in-the-money is below spot, for a PE
    above), and ``PREMIUM``: among `premiums` (candidate canonical symbols -> current LTP in paise) of
    this underlying, expiry and right with a price, the one whose LTP is closest to
    `target_premium_paise`; a tie goes to the cheaper option, then the lower strike. The strike step is
    the one in force on `on` (default: `expiry`).
    """
    if right not in ("CE", "PE"):
        raise SymbolError(f"option right must be CE or PE, not {right!r}")
    match = _STRIKE_RULE_RE.fullmatch(rule.strip().upper()) if isinstance(rule, str) else None
    if not match:
        raise InstrumentError(f"unknown strike rule {rule!r}; use ATM, ITM<n>, OTM<n> or PREMIUM")
    if match.group(4):
        return _closest_to_premium(underlying, expiry, right, premiums, target_premium_paise)
    if spot_paise is None or spot_paise <= 0:
        raise InstrumentError(f"strike rule {rule!r} needs the underlying's price (spot_paise > 0)")
    step = strike_step_paise(underlying, on or expiry)
    atm = atm_strike_paise(underlying, spot_paise, on or expiry)
    offset = 0
    if match.group(2):
        n = int(match.group(3))
        if n < 1:
            raise InstrumentError(f"strike rule {rule!r}: the number of steps must be at least 1")
        itm_direction = -1 if right == "CE" else 1
        offset = n * step * (itm_direction if match.group(2) == "ITM" else -itm_direction)
    strike_paise = atm + offset
    if strike_paise <= 0:
        raise InstrumentError(f"strike rule {rule!r} gives a non-positive strike at spot {spot_paise / 100}")
    return OptionSymbol(underlying, expiry, Decimal(strike_paise) / 100, right)


def atm_strike_paise(underlying: str, spot_paise: int, on: date) -> int:
    """The strike (paise) nearest to `spot_paise` on the grid in force on `on`; a tie goes upward."""
    step = strike_step_paise(underlying, on)
    return (int(spot_paise) + step // 2) // step * step


def _closest_to_premium(underlying, expiry, right, premiums, target) -> OptionSymbol:
    if premiums is None or target is None:
        raise InstrumentError("strike rule PREMIUM needs premiums (symbol -> LTP paise) and target_premium_paise")
    best = None
    for text, ltp in premiums.items():
        sym = parse_symbol(text) if isinstance(text, str) else text
        if not isinstance(sym, OptionSymbol) or ltp is None or ltp <= 0:
            continue
        if (sym.underlying, sym.expiry, sym.right) != (underlying, expiry, right):
            continue
        key = (abs(ltp - target), ltp, sym.strike)
        if best is None or key < best[0]:
            best = (key, sym)
    if best is None:
        raise InstrumentError(
            f"no priced {underlying} {expiry.isoformat()} {right} option among the premiums given"
        )
    return best[1]


on_change(monthly_expiry.cache_clear)
