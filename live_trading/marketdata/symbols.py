"""Instrument symbols: the canonical form, parsing, formatting and broker trading symbols.

Canonical forms (the only ones stored or passed around inside the simulator):

- an underlying: ``NIFTY`` (upper-case letters, digits, ``&``, ``_`` or ``-``, starting with a letter);
- an option: ``NIFTY:2024-11-07:OPT:24250:PE``, i.e. underlying, expiry date (ISO), ``OPT``, strike in
  rupees, right ``CE`` or ``PE``.

Strikes are `Decimal` rupees, because stock and currency options have fractional strikes (12.5, 83.25);
index strikes are whole and print without a decimal point. `OptionSymbol.strike_paise` gives the integer
paise value for arithmetic in the hot loop.

Broker trading symbols follow the NSE convention used by Indian brokers: weekly expiries as
``NIFTY24N0724250PE`` (year, month code 1-9/O/N/D, day) and monthly expiries as ``NIFTY24NOV24250PE``.
Which of the two applies depends on the contract calendar, so those two functions consult
`live_trading.marketdata.instruments` (imported inside them: instruments imports this module). Parsing
a broker symbol refuses a weekly-form date that is no weekly expiry of the underlying, or that is the
monthly expiry (which has the monthly form), so every accepted broker symbol converts back to itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from live_trading.refusals import Refused


class SymbolError(Refused, ValueError):
    """A symbol that cannot be parsed; the message says what is wrong with it."""

    subject = "symbol"


RIGHTS = ("CE", "PE")
_UNDERLYING_RE = re.compile(r"[A-Z][A-Z0-9&_-]{0,29}")
_STRIKE_RE = re.compile(r"[0-9]+(\.[0-9]{1,2})?")
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_WEEKLY_MONTH_CODES = "123456789OND"


@dataclass(frozen=True, slots=True)
class UnderlyingSymbol:
    """An index, stock or currency pair itself, e.g. ``NIFTY``."""

    underlying: str

    def __str__(self) -> str:
        return self.underlying


@dataclass(frozen=True, slots=True)
class OptionSymbol:
    """An option contract, e.g. ``NIFTY:2024-11-07:OPT:24250:PE``."""

    underlying: str
    expiry: date
    strike: Decimal
    right: str

    def __post_init__(self) -> None:
        _check_underlying(self.underlying, self.underlying)
        if not isinstance(self.expiry, date):
            raise SymbolError(f"option expiry must be a date, not {self.expiry!r}")
        if self.right not in RIGHTS:
            raise SymbolError(f"option right must be CE or PE, not {self.right!r}")
        object.__setattr__(self, "strike", _as_strike(self.strike))

    @property
    def strike_paise(self) -> int:
        """The strike in integer paise."""
        return int(self.strike * 100)

    def __str__(self) -> str:
        return f"{self.underlying}:{self.expiry.isoformat()}:OPT:{_format_strike(self.strike)}:{self.right}"


Symbol = OptionSymbol | UnderlyingSymbol


def parse_symbol(text: str) -> Symbol:
    """Parse a canonical symbol string.

    Raises `SymbolError` naming the part that is wrong: an empty string, a bad underlying name, an
    expiry that is not a real ISO date, an instrument type other than ``OPT``, a strike that is not a
    positive number with at most two decimals, or a right other than ``CE``/``PE``.
    """
    if not isinstance(text, str):
        raise SymbolError(f"a symbol must be a string, not {type(text).__name__}")
    if text == "":
        raise SymbolError("empty symbol")
    if text != text.strip():
        raise SymbolError(f"symbol {text!r} has leading or trailing whitespace")
    parts = text.split(":")
    if len(parts) == 1:
        _check_underlying(text, text)
        return UnderlyingSymbol(text)
    if len(parts) != 5:
        raise SymbolError(
            f"symbol {text!r} has {len(parts)} ':'-separated parts; an option has 5 "
            "(UNDERLYING:YYYY-MM-DD:OPT:STRIKE:CE|PE)"
        )
    underlying, expiry_text, kind, strike_text, right = parts
    _check_underlying(underlying, text)
    try:
        expiry = date.fromisoformat(expiry_text)
    except ValueError:
        raise SymbolError(f"symbol {text!r}: expiry {expiry_text!r} is not a date YYYY-MM-DD") from None
    if len(expiry_text) != 10:
        raise SymbolError(f"symbol {text!r}: expiry {expiry_text!r} is not in the form YYYY-MM-DD")
    if kind != "OPT":
        raise SymbolError(f"symbol {text!r}: instrument type {kind!r} is not supported (only OPT)")
    if not _STRIKE_RE.fullmatch(strike_text):
        raise SymbolError(
            f"symbol {text!r}: strike {strike_text!r} is not a number of rupees with at most 2 decimals"
        )
    if right not in RIGHTS:
        raise SymbolError(f"symbol {text!r}: right {right!r} must be CE or PE")
    strike = Decimal(strike_text)
    if strike <= 0:
        raise SymbolError(f"symbol {text!r}: strike must be positive")
    symbol = OptionSymbol(underlying, expiry, strike, right)
    if str(symbol) != text:
        raise SymbolError(f"symbol {text!r} is not in canonical form; write it as {str(symbol)!r}")
    return symbol


def format_symbol(underlying: str, expiry: date | None = None, strike=None, right: str | None = None) -> str:
    """The canonical string of an underlying (only `underlying` given) or of an option (all four)."""
    if expiry is None and strike is None and right is None:
        _check_underlying(underlying, underlying)
        return underlying
    if expiry is None or strike is None or right is None:
        raise SymbolError("an option symbol needs underlying, expiry, strike and right")
    return str(OptionSymbol(underlying, expiry, strike, right))


def to_broker_symbol(symbol: Symbol | str) -> str:
    """The broker trading symbol: ``NIFTY24N0724250PE`` for weeklies, ``NIFTY24NOV24250PE`` for monthlies."""
    from live_trading.marketdata import instruments  # instruments imports this module

    if isinstance(symbol, str):
        symbol = parse_symbol(symbol)
    if isinstance(symbol, UnderlyingSymbol):
        return symbol.underlying
    strike = _format_strike(symbol.strike)
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
    from live_trading.marketdata import instruments  # instruments imports this module

    if not isinstance(text, str) or not text:
        raise SymbolError("empty broker symbol")
    names = sorted((n for n in instruments.underlying_names() if text.startswith(n)), key=len, reverse=True)
    if not names:
        raise SymbolError(f"broker symbol {text!r} does not start with a known underlying")
    for name in names:
        rest = text[len(name) :]
        if rest == "":
            return UnderlyingSymbol(name)
        parsed = _parse_broker_option(name, rest, text, instruments)
        if parsed is not None:
            return parsed
    raise SymbolError(
        f"broker symbol {text!r} is neither UNDERLYING+YY+MON+STRIKE+CE|PE (monthly) "
        "nor UNDERLYING+YY+M+DD+STRIKE+CE|PE (weekly)"
    )


def _parse_broker_option(underlying: str, rest: str, text: str, instruments) -> OptionSymbol | None:
    match = re.fullmatch(r"(\d\d)([A-Z]{3})(\d+(?:\.\d{1,2})?)(CE|PE)", rest)
    if match and match.group(2) in _MONTHS:
        year = 2000 + int(match.group(1))
        month = _MONTHS.index(match.group(2)) + 1
        try:
            expiry = instruments.monthly_expiry(underlying, year, month)
        except instruments.InstrumentError as exc:
            raise SymbolError(f"broker symbol {text!r}: no monthly expiry in {match.group(2)} {year}: {exc}") from None
        return OptionSymbol(underlying, expiry, Decimal(match.group(3)), match.group(4))
    match = re.fullmatch(r"(\d\d)([1-9OND])(\d\d)(\d+(?:\.\d{1,2})?)(CE|PE)", rest)
    if match:
        year = 2000 + int(match.group(1))
        month = _WEEKLY_MONTH_CODES.index(match.group(2)) + 1
        try:
            expiry = date(year, month, int(match.group(3)))
        except ValueError:
            raise SymbolError(f"broker symbol {text!r}: {rest[:5]!r} is not a valid expiry date") from None
        _check_weekly_form(underlying, expiry, text, instruments)
        return OptionSymbol(underlying, expiry, Decimal(match.group(4)), match.group(5))
    return None


def _check_weekly_form(underlying: str, expiry: date, text: str, instruments) -> None:
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


def _check_underlying(name: str, text: str) -> None:
    if not isinstance(name, str) or not _UNDERLYING_RE.fullmatch(name):
        raise SymbolError(
            f"symbol {text!r}: underlying {name!r} must be 1-30 upper-case letters, digits, '&', '_' or '-' "
            "starting with a letter"
        )


def _as_strike(value) -> Decimal:
    if isinstance(value, float):
        raise SymbolError("pass a strike as int, str or Decimal, not float (it would not be exact)")
    try:
        strike = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise SymbolError(f"strike {value!r} is not a number") from None
    if not strike.is_finite() or strike <= 0:
        raise SymbolError(f"strike {value!r} must be a positive number")
    if strike != strike.quantize(Decimal("0.01")):
        raise SymbolError(f"strike {value!r} has more than two decimals")
    # One Decimal per value (24250, 24250.0 and 24250.00 are the same strike), so equal symbols hash equal.
    return strike.quantize(Decimal(1)) if strike == strike.to_integral_value() else strike.normalize()


def _format_strike(strike: Decimal) -> str:
    return format(strike, "f")
