"""Money and time at the engine's edges.

Inside the loop prices and amounts are integers of the instrument's minor unit (paise for the rupee:
``places`` 2; 0.00001 for an FX pair quoted to five places: ``places`` 5, the data file's
``price_decimals``) and times are int epoch seconds (UTC). These helpers turn them into what leaves
the engine: ``Decimal`` amounts with exactly ``places`` places, and ISO 8601 timestamps in exchange
time (Asia/Kolkata, a fixed +05:30: India keeps no daylight saving). ``places`` defaults to the
rupee's 2, so NSE figures render as they always have (``"181.60"``).
"""

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

from live_trading.marketdata.calendar import EXCHANGE_TZ, IST_OFFSET_SECONDS

_CENT = Decimal("0.01")


def rupees(paise: int, places: int = 2) -> Decimal:
    """Return integer minor units as a Decimal with exactly ``places`` places (``18160`` -> ``181.60``;
    ``107164`` at 5 places -> ``1.07164``)."""
    return Decimal(paise).scaleb(-places)


def money_str(amount: Decimal, places: int = 2) -> str:
    """Return an amount as a string with ``places`` places, the one wire form of money (``"-78.45"``,
    ``"1.07164"`` for a price of a pair quoted to five places).

    Amounts here are already whole minor units (engine results, database columns that hold at least
    ``places`` places), so the places are exact; a percentage goes through ``percent`` first."""
    return f"{amount:.{places}f}"


def rupees_str(paise: int, places: int = 2) -> str:
    """Return integer minor units as the wire form of money (``18160`` -> ``"181.60"``)."""
    return money_str(rupees(paise, places), places)


def minor_units(amount: Decimal, places: int = 2) -> int:
    """Return an exact amount as integer minor units (``Decimal("1.07164")``, 5 -> ``107164``)."""
    return int(amount.scaleb(places))


def price_number(paise: int, places: int = 2) -> float:
    """Return integer minor units as the JSON number a chart or LTP shows (``18160`` -> ``181.6``)."""
    return paise / 10**places


def indian_group(digits: str) -> str:
    """``"1234567"`` -> ``"12,34,567"``: the last three digits, then pairs."""
    head, tail = digits[:-3], digits[-3:]
    pairs = []
    while head:
        pairs.insert(0, head[-2:])
        head = head[:-2]
    return ",".join([*pairs, tail])


def round_half_up(x: Decimal) -> int:
    """Round an exact amount in paise to whole paise, half away from zero (how contract notes round)."""
    return int(x.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def percent(numerator: int, denominator: int) -> Decimal:
    """Return numerator/denominator as a percentage with two places, half up; 0 for a zero denominator."""
    if not denominator:
        return Decimal("0.00")
    return (Decimal(numerator) * 100 / Decimal(denominator)).quantize(_CENT, rounding=ROUND_HALF_UP)


def iso(ts: int) -> str:
    """Return epoch seconds as ISO 8601 in exchange time (``2024-10-29T09:19:00+05:30``)."""
    return datetime.fromtimestamp(ts, EXCHANGE_TZ).isoformat()


def compact_stamp(ts: int) -> str:
    """Return ``YYYYMMDD_HHMMSS`` in exchange time, the stamp inside execution ids."""
    return datetime.fromtimestamp(ts + IST_OFFSET_SECONDS, UTC).strftime("%Y%m%d_%H%M%S")
