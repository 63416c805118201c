"""The one money, price, count and time formatter, run as both twins: the Python filters of the server's
first view (pages/templatetags/trader.py) and static/livesim/format.js under Node (the pages' own module,
imported as the browser imports it), on the same cases, each worked out by hand.

Money is shown in the currency's minor units (rounded half away from zero), a price at its instrument's
places, INR with Indian grouping and every other currency with western grouping; a time is the instant on
the market's clock with its zone's abbreviation, whatever offset the ISO string carries."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from pages.templatetags import trader

ROOT = Path(__file__).resolve().parents[2]
FORMAT_JS = ROOT / "static" / "livesim" / "format.js"

NSE = {"currency": "INR", "price_decimals": 2, "time_zone": "Asia/Kolkata"}
EURUSD = {"currency": "USD", "price_decimals": 5, "time_zone": "America/New_York"}
CHF = {"currency": "CHF", "price_decimals": 5, "time_zone": "Europe/Zurich"}
JPY = {"currency": "JPY", "price_decimals": 3, "time_zone": "Asia/Tokyo"}
MIXED = {"currency": "", "price_decimals": 5, "time_zone": "Asia/Kolkata"}  # a sum across currencies
UTC = {"currency": "USD", "price_decimals": 2, "time_zone": "UTC"}

# (function, value, market, expected)
CASES = [
    # The NSE's rupees, as ever: Indian grouping (lakh, crore), two places, a real minus.
    ("money", "-12345678.9", NSE, "−₹1,23,45,678.90"),
    ("money", "0", NSE, "₹0.00"),
    ("signed_money", "0.00", NSE, "₹0.00"),  # no sign on zero
    ("signed_money", "100000", NSE, "+₹1,00,000.00"),
    ("money", None, NSE, "—"),
    ("price", "181.6", NSE, "₹181.60"),
    ("count", 2250000, NSE, "22,50,000"),
    ("count", -25, NSE, "−25"),
    # US dollars: western grouping; money in cents (the wire sends EURUSD's at five places), prices at five.
    ("money", "-12.30000", EURUSD, "−$12.30"),
    ("money", "1234567.89012", EURUSD, "$1,234,567.89"),
    ("money", "0.00500", EURUSD, "$0.01"),  # half away from zero
    ("money", "-0.00500", EURUSD, "−$0.01"),
    ("money", "0.00499", EURUSD, "$0.00"),
    ("money", "-0.00400", EURUSD, "$0.00"),  # rounds to nothing: no minus
    ("signed_money", "1000000.00000", EURUSD, "+$1,000,000.00"),
    ("price", "1.07164", EURUSD, "$1.07164"),
    ("price", "1.0716", EURUSD, "$1.07160"),
    ("count", 150000, EURUSD, "150,000"),
    # A currency without a sign of its own is written with its code; the yen has no minor unit.
    ("money", "1234567.891", CHF, "CHF 1,234,567.89"),
    ("money", "-0.5", CHF, "−CHF 0.50"),
    ("money", "1500.5", JPY, "¥1,501"),
    ("price", "151.2345", JPY, "¥151.235"),  # 0.0005 rounds up
    ("money", "1234.5", MIXED, "1,234.50"),
    # Times: the instant on the market's clock, whatever offset the string carries (UTC, New York's own,
    # or IST as today's wire writes every time), with the zone's abbreviation; daylight saving included.
    ("exchange_time", "2017-04-19T09:00:00Z", EURUSD, "05:00:00 EDT"),
    ("exchange_time", "2017-04-19T05:00:00-04:00", EURUSD, "05:00:00 EDT"),
    ("exchange_time", "2017-04-19T14:30:00+05:30", EURUSD, "05:00:00 EDT"),
    ("exchange_time", "2018-01-10T14:00:00+00:00", EURUSD, "09:00:00 EST"),
    ("exchange_time", "2017-04-20T04:00:00Z", EURUSD, "00:00:00 EDT"),  # midnight is 00, not 24
    ("exchange_time", "2024-10-29T03:50:20+00:00", NSE, "09:20:20 IST"),
    ("exchange_time", 1730173500, NSE, "09:15:00 IST"),  # 2024-10-29 03:45:00 UTC
    ("exchange_time", "2024-01-01T00:00:00Z", UTC, "00:00:00 UTC"),
    ("exchange_date", "2017-04-19T02:00:00Z", EURUSD, "18 Apr 2017"),  # 22:00 in New York, the day before
    ("exchange_date", "2024-11-05", EURUSD, "05 Nov 2024"),  # a trading day, as it is
    ("exchange_date", "2017-09-20", NSE, "20 Sep 2017"),  # as Python's %b writes it (en-IN's is "Sept")
    ("exchange_time", "2017-11-06T14:00:00Z", EURUSD, "09:00:00 EST"),  # the day after the clocks went back
    ("exchange_date", "2024-10-28T20:00:00Z", NSE, "29 Oct 2024"),  # 01:30 IST
]

JS_NAMES = {
    "money": "money",
    "signed_money": "money",
    "price": "price",
    "count": "count",
    "exchange_time": "exchangeTime",
    "exchange_date": "exchangeDate",
}

DRIVER = """
const f = await import(process.argv[1]);
const cases = JSON.parse(process.argv[2]);
const out = cases.map(([name, js, value, market]) =>
  name === "signed_money" ? f.money(value, market, {sign: true}) : f[js](value, market));
process.stdout.write(JSON.stringify(out));
"""


def python_twin(name: str, value, market: dict) -> str:
    return getattr(trader, name)(value, market)


def js_twin(cases) -> list[str]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed: format.js cannot be run outside a browser")
    args = [[name, JS_NAMES[name], value, market] for name, value, market, _ in cases]
    done = subprocess.run(
        [node, "--input-type=module", "-e", DRIVER, FORMAT_JS.as_uri(), json.dumps(args)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize(
    ("name", "value", "market", "expected"),
    CASES,
    ids=[f"{c[0]}-{c[1]}-{c[2]['currency'] or 'mixed'}" for c in CASES],
)
def test_the_python_formatter(name, value, market, expected):
    assert python_twin(name, value, market) == expected


def test_format_js_gives_the_same_texts():
    assert dict(
        zip([f"{c[0]}({c[1]!r}, {c[2]['currency']})" for c in CASES], js_twin(CASES), strict=True)
    ) == {f"{c[0]}({c[1]!r}, {c[2]['currency']})": c[3] for c in CASES}


def test_a_filter_without_a_market_is_the_nses_and_a_session_row_is_its_own():
    assert trader.money("1234.5") == "₹1,234.50" and trader.exchange_time(1730173500) == "09:15:00 IST"

    class Row:  # a SimulationSession as the history and admin templates hand it over
        currency, price_decimals, time_zone = "USD", 5, "America/New_York"

    assert trader.money("-12.30000", Row()) == "−$12.30" and trader.price("1.07164", Row()) == "$1.07164"
    assert trader.common_market([Row(), NSE]).currency == ""  # USD and INR are not added up as either
    assert trader.common_market([Row(), EURUSD]) == trader.Market("USD", 5, "America/New_York")
