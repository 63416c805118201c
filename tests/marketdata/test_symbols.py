"""Canonical symbols, malformed symbols and broker trading symbols."""

import re
from datetime import date
from decimal import Decimal

import pytest

from live_trading.marketdata.broker_symbols import from_broker_symbol, to_broker_symbol
from live_trading.marketdata.symbols import (
    OptionSymbol,
    SymbolError,
    UnderlyingSymbol,
    format_symbol,
    parse_symbol,
)


def test_it_parses_an_option_into_its_parts():
    sym = parse_symbol("NIFTY:2024-11-07:OPT:24250:PE")
    assert sym == OptionSymbol("NIFTY", date(2024, 11, 7), Decimal(24250), "PE")
    assert sym.underlying == "NIFTY"
    assert sym.expiry == date(2024, 11, 7)
    assert sym.strike == 24250
    assert sym.strike_paise == 2_425_000
    assert sym.right == "PE"


def test_it_parses_an_underlying():
    assert parse_symbol("NIFTY") == UnderlyingSymbol("NIFTY")
    assert parse_symbol("M&M").underlying == "M&M"


@pytest.mark.parametrize(
    "text",
    ["NIFTY", "BANKNIFTY:2025-01-30:OPT:51000:CE", "NIFTY:2024-11-07:OPT:24250:PE", "USDINR:2024-11-27:OPT:83.25:CE"],
)
def test_symbols_round_trip_through_their_string(text):
    assert str(parse_symbol(text)) == text


def test_format_symbol_builds_the_canonical_string():
    assert format_symbol("NIFTY", date(2024, 11, 7), 24250, "PE") == "NIFTY:2024-11-07:OPT:24250:PE"
    assert format_symbol("NIFTY") == "NIFTY"
    assert format_symbol("USDINR", date(2024, 11, 27), "83.25", "CE") == "USDINR:2024-11-27:OPT:83.25:CE"


def test_equal_strikes_written_differently_are_the_same_symbol():
    a = OptionSymbol("NIFTY", date(2024, 11, 7), Decimal("24250.00"), "PE")
    b = OptionSymbol("NIFTY", date(2024, 11, 7), 24250, "PE")
    assert a == b and hash(a) == hash(b) and str(a) == str(b)


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("", "empty"),
        ("nifty", "upper-case"),
        (" NIFTY", "whitespace"),
        ("NIFTY:2024-11-07:OPT:24250", "5"),
        ("NIFTY:2024-13-07:OPT:24250:PE", "not a date"),
        ("NIFTY:2024-11-31:OPT:24250:PE", "not a date"),
        ("NIFTY:07-11-2024:OPT:24250:PE", "not a date"),
        ("NIFTY:2024-11-07:FUT:24250:PE", "only OPT"),
        ("NIFTY:2024-11-07:OPT:abc:PE", "strike"),
        ("NIFTY:2024-11-07:OPT:-50:PE", "strike"),
        ("NIFTY:2024-11-07:OPT:0:PE", "positive"),
        ("NIFTY:2024-11-07:OPT:24250.125:PE", "strike"),
        ("NIFTY:2024-11-07:OPT:24250:XX", "CE or PE"),
        ("NIFTY:2024-11-07:OPT:24250.0:PE", "canonical"),
        ("9NIFTY", "starting with a letter"),
    ],
)
def test_it_refuses_malformed_symbols_and_says_what_is_wrong(text, complaint):
    with pytest.raises(SymbolError, match=complaint):
        parse_symbol(text)


def test_symbol_error_is_a_value_error():
    assert issubclass(SymbolError, ValueError)


def test_a_float_strike_is_refused_because_it_would_not_be_exact():
    with pytest.raises(SymbolError, match="float"):
        OptionSymbol("NIFTY", date(2024, 11, 7), 24250.5, "CE")


def test_weekly_options_get_the_weekly_broker_symbol():
    assert to_broker_symbol("NIFTY:2024-11-07:OPT:24250:PE") == "NIFTY24N0724250PE"
    # January to September use the digits 1-9, October to December O, N, D.
    assert to_broker_symbol("NIFTY:2025-01-09:OPT:23500:CE") == "NIFTY2510923500CE"
    assert to_broker_symbol("NIFTY:2024-10-03:OPT:25500:CE") == "NIFTY24O0325500CE"
    assert to_broker_symbol("NIFTY:2024-12-05:OPT:24000:PE") == "NIFTY24D0524000PE"


def test_monthly_options_get_the_monthly_broker_symbol():
    # 28 Nov 2024 is the last Thursday of November 2024: NIFTY's monthly expiry.
    assert to_broker_symbol("NIFTY:2024-11-28:OPT:24250:PE") == "NIFTY24NOV24250PE"
    assert to_broker_symbol("BANKNIFTY:2024-11-27:OPT:51000:CE") == "BANKNIFTY24NOV51000CE"
    assert to_broker_symbol("NIFTY") == "NIFTY"


def test_broker_symbols_convert_back_to_canonical_ones():
    assert str(from_broker_symbol("NIFTY24N0724250PE")) == "NIFTY:2024-11-07:OPT:24250:PE"
    assert str(from_broker_symbol("NIFTY24NOV24250PE")) == "NIFTY:2024-11-28:OPT:24250:PE"
    # BANKNIFTY's monthly was the last Wednesday in 2024 and the last Thursday from January 2025.
    assert str(from_broker_symbol("BANKNIFTY24DEC51000CE")) == "BANKNIFTY:2024-12-24:OPT:51000:CE"
    assert str(from_broker_symbol("BANKNIFTY25JAN51000CE")) == "BANKNIFTY:2025-01-30:OPT:51000:CE"
    assert str(from_broker_symbol("BANKNIFTY")) == "BANKNIFTY"


def test_a_monthly_broker_symbol_lands_on_the_holiday_shifted_expiry():
    # The last Tuesday of March 2026 is the 31st, a holiday (Mahavir Jayanti): expiry moves to the 30th.
    assert from_broker_symbol("NIFTY26MAR23000CE").expiry == date(2026, 3, 30)


@pytest.mark.parametrize("text", ["", "FOO24N0724250PE", "NIFTY24N3224250PE", "NIFTY24XYZ24250PE", "NIFTY24N07PE",
                                  # other scripts' digits, which int() and Decimal() read: not the spelling
                                  # that converts back to the same string
                                  "NIFTY24N07\uff12\uff14\uff12\uff15\uff10PE", "NIFTY\u0662\u0664N0724250PE",
                                  "NIFTY24NOV\u0968\u096a\u0968\u096b\u0966PE"])
def test_it_refuses_malformed_broker_symbols(text):
    with pytest.raises(SymbolError):
        from_broker_symbol(text)


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        # 31 Oct 2024 is the October monthly: its broker symbol is NIFTY24OCT24250PE.
        ("NIFTY24O3124250PE", "2024-10-31 is NIFTY's monthly expiry, written in the monthly form NIFTY24OCT"),
        ("NIFTY24N0824250PE", "2024-11-08 (Friday) is not a NIFTY weekly expiry"),
        ("NIFTY2590424250PE", "2025-09-04 (Thursday) is not a NIFTY weekly expiry"),  # Tuesdays from Sep 2025
        ("BANKNIFTY24D0451000CE", "2024-12-04 (Wednesday) is not a BANKNIFTY weekly expiry"),  # no weeklies then
        ("NIFTY19OCT11000CE", "no monthly expiry in OCT 2019"),  # before the contract facts begin
    ],
)
def test_broker_symbols_whose_date_is_no_such_expiry_are_refused_saying_why(text, complaint):
    with pytest.raises(SymbolError, match=re.escape(complaint)):
        from_broker_symbol(text)


@pytest.mark.parametrize("text", ["NIFTY24N0724250PE", "NIFTY2590224250CE", "NIFTY24OCT24250PE", "BANKNIFTY24N1351000CE"])
def test_accepted_broker_symbols_convert_back_to_the_same_string(text):
    assert to_broker_symbol(from_broker_symbol(text)) == text
