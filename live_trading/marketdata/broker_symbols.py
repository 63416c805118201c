"""Broker trading symbols, in the NSE convention Indian brokers use.

Weekly expiries are written ``NIFTY24N0724250PE`` (year, month code 1-9/O/N/D, day) and monthly ones
``NIFTY24NOV24250PE``. Which of the two applies depends on the contract calendar, so this module sits
above `instruments`. Parsing a broker symbol refuses a weekly-form date that is no weekly expiry of the
underlying, or that is the monthly expiry (which has the monthly form), so every accepted broker symbol
converts back to itself.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from live_trading.marketdata import instruments
from live_trading.marketdata.symbols import (
    OptionSymbol,
    Symbol,
    SymbolError,
    UnderlyingSymbol,
    format_strike,
    parse_symbol,
)

_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_WEEKLY_MONTH_CODES = "123456789OND"


def to_broker_symbol(symbol: Symbol | str) -> str:
    """The broker trading symbol: ``NIFTY24N0724250PE`` for weeklies, ``NIFTY24NOV24250PE`` for monthlies."""
    if isinstance(symbol, str):
        symbol = parse_symbol(symbol)
    if isinstance(symbol, UnderlyingSymbol):
        return symbol.underlying
    strike = format_strike(symbol.strike)
    year = f"{symbol.expiry.year % 100:02d}"
    if instruments.is_monthly_expiry(symbol.underlying, symbol.expiry):
        return f"{symbol.underlying}{year}{_MONTHS[symbol.expiry.month - 1]}{strike}{symbol.right}"
    month_code = _WEEKLY_MONTH_CODES[symbol.expiry.month - 1]
    return f"{symbol.underlying}{year}{month_code}{symbol.expiry.day:02d}{strike}{symbol.right}"


def from_broker_symbol(text: str) -> Symbol:
    """Parse a broker trading symbol into a canonical symbol.

    The underlying must be a known one (the longest known name that prefixes `text` wins, so
    ``NIFTYNXT50`` is not read as ``NIFTY``). A monthly symbol resolves to that month's expiry date
    under the contract rules in force, holidays included.
    """
    if not isinstance(text, str) or not text:
        raise SymbolError("empty broker symbol")
    names = sorted((n for n in instruments.underlying_names() if text.startswith(n)), key=len, reverse=True)
    if not names:
        raise SymbolError(f"broker symbol {text!r} does not start with a known underlying")
    for name in names:
        rest = text[len(name) :]
        if rest == "":
            return UnderlyingSymbol(name)
        parsed = _parse_broker_option(name, rest, text)
        if parsed is not None:
            return parsed
    raise SymbolError(
        f"broker symbol {text!r} is neither UNDERLYING+YY+MON+STRIKE+CE|PE (monthly) "
        "nor UNDERLYING+YY+M+DD+STRIKE+CE|PE (weekly)"
    )


def _parse_broker_option(underlying: str, rest: str, text: str) -> OptionSymbol | None:
    match = re.fullmatch(r"(\d\d)([A-Z]{3})(\d+(?:\.\d{1,2})?)(CE|PE)", rest, re.ASCII)
    if match and match.group(2) in _MONTHS:
        year = 2000 + int(match.group(1))
        month = _MONTHS.index(match.group(2)) + 1
        try:
            expiry = instruments.monthly_expiry(underlying, year, month)
        except instruments.InstrumentError as exc:
            raise SymbolError(f"broker symbol {text!r}: no monthly expiry in {match.group(2)} {year}: {exc}") from None
        return OptionSymbol(underlying, expiry, Decimal(match.group(3)), match.group(4))
    match = re.fullmatch(r"(\d\d)([1-9OND])(\d\d)(\d+(?:\.\d{1,2})?)(CE|PE)", rest, re.ASCII)
    if match:
        year = 2000 + int(match.group(1))
        month = _WEEKLY_MONTH_CODES.index(match.group(2)) + 1
        try:
            expiry = date(year, month, int(match.group(3)))
        except ValueError:
            raise SymbolError(f"broker symbol {text!r}: {rest[:5]!r} is not a valid expiry date") from None
        _check_weekly_form(underlying, expiry, text)
        return OptionSymbol(underlying, expiry, Decimal(match.group(4)), match.group(5))
    return None


def _check_weekly_form(underlying: str, expiry: date, text: str) -> None:
    """The weekly form names a weekly expiry that is not the month's monthly one (that has the monthly
    form), so a weekly-form symbol converts back to the same string."""
    try:
        monthly = instruments.is_monthly_expiry(underlying, expiry)
        weeklies = instruments.weekly_expiries(underlying, expiry, expiry)
    except instruments.InstrumentError as exc:
        raise SymbolError(f"broker symbol {text!r}: {exc}") from None
    if monthly:
        month = _MONTHS[expiry.month - 1]
        raise SymbolError(
            f"broker symbol {text!r}: {expiry.isoformat()} is {underlying}'s monthly expiry, written in the "
            f"monthly form {underlying}{expiry.year % 100:02d}{month}..., not the weekly form"
        )
    if expiry not in weeklies:
        raise SymbolError(
            f"broker symbol {text!r}: {expiry.isoformat()} ({expiry:%A}) is not a {underlying} weekly expiry"
        )
