"""Instrument symbols: the canonical form, parsing and formatting.

Canonical forms (the only ones stored or passed around inside the simulator):

- an underlying: ``NIFTY`` (upper-case letters, digits, ``&``, ``_`` or ``-``, starting with a letter);
- an option: ``NIFTY:2024-11-07:OPT:24250:PE``, i.e. underlying, expiry date (ISO), ``OPT``, strike in
  rupees, right ``CE`` or ``PE``.

Strikes are `Decimal` rupees, because stock and currency options have fractional strikes (12.5, 83.25);
index strikes are whole and print without a decimal point. `OptionSymbol.strike_paise` gives the integer
paise value for arithmetic in the hot loop.

This module knows no contract facts (it sits below `instruments`); broker trading symbols, whose form
depends on the contract calendar, are `broker_symbols`.
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
        return f"{self.underlying}:{self.expiry.isoformat()}:OPT:{format_strike(self.strike)}:{self.right}"


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


def format_strike(strike: Decimal) -> str:
    """A strike as written in symbols: ``24250``, ``12.5``."""
    return format(strike, "f")
