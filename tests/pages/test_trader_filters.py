"""The first view's formatting filters (pages/templatetags/trader.py), on figures worked out by hand."""

from pages.templatetags.trader import (
    count,
    exchange_date,
    exchange_time,
    option_symbol,
    speed_text,
)
from pages.templatetags.trader import money as rupees  # with no market given: the NSE's rupees
from pages.templatetags.trader import signed_money as signed_rupees


def test_rupees_group_the_indian_way_with_a_real_minus_and_an_optional_plus():
    assert rupees("-12345678.9") == "−₹1,23,45,678.90"  # one crore twenty-three lakh ...
    assert rupees("999.994") == "₹999.99"
    assert rupees("0") == "₹0.00" and signed_rupees("0.00") == "₹0.00"  # no sign on zero
    assert signed_rupees("100000") == "+₹1,00,000.00"
    assert rupees(None) == "—"
    assert count(2250000) == "22,50,000" and count(-25) == "−25"


def test_times_and_dates_are_the_exchanges_whatever_the_offset_given():
    assert exchange_time("2024-10-29T03:50:20+00:00") == "09:20:20 IST"
    assert exchange_time(1730173500) == "09:15:00 IST"  # 2024-10-29 03:45:00 UTC
    assert exchange_date("2024-11-05") == "05 Nov 2024"
    assert option_symbol("NIFTY:2024-10-31:OPT:24500:CE") == "24500 CE 31 Oct"
    assert option_symbol("NIFTY") == "NIFTY"
    assert (speed_text(60), speed_text(0.5), speed_text("max"), speed_text(0)) == ("60×", "0.5×", "max", "max")
