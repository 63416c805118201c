"""Money and time at the engine's edges.

Inside the loop prices and amounts are integer paise and times are int epoch seconds (UTC). These
helpers turn them into what leaves the engine: ``Decimal`` rupees with two places, and ISO 8601
timestamps in exchange time (Asia/Kolkata, a fixed +05:30: India keeps no daylight saving).
"""

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

from live_trading.marketdata.calendar import EXCHANGE_TZ, IST_OFFSET_SECONDS

_CENT = Decimal("0.01")


def rupees(paise: int) -> Decimal:
    """Return integer paise as Decimal rupees with exactly two places (``18160`` -> ``181.60``)."""
    return Decimal(paise).scaleb(-2)


def money_str(amount: Decimal) -> str:
    """Return a rupee amount as a two-place string, the one wire form of money (``"-78.45"``).

    Amounts here are already whole paise (engine results, two-place database columns), so the two
    places are exact; a percentage goes through ``percent`` first."""
    return f"{amount:.2f}"


def rupees_str(paise: int) -> str:
    """Return integer paise as the wire form of money (``18160`` -> ``"181.60"``)."""
    return money_str(rupees(paise))


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
