"""Money and time at the engine's edges.

Inside the loop prices and amounts are integer paise and times are int epoch seconds (UTC). These
helpers turn them into what leaves the engine: ``Decimal`` rupees with two places, and ISO 8601
timestamps in exchange time (Asia/Kolkata, a fixed +05:30: India keeps no daylight saving).
"""

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal

IST = timezone(timedelta(hours=5, minutes=30), "IST")
IST_OFFSET = 19800  # seconds
_CENT = Decimal("0.01")


def rupees(paise: int) -> Decimal:
    """Return integer paise as Decimal rupees with exactly two places (``18160`` -> ``181.60``)."""
    return Decimal(paise).scaleb(-2)


def rupees_str(paise: int) -> str:
    """Return integer paise as a two-place string, the wire form of money (``"-78.45"``)."""
    return str(rupees(paise))


def to_paise(amount) -> int:
    """Return a Decimal/int/str rupee amount as integer paise, rounding half up to the paisa."""
    return int((Decimal(str(amount)) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


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
    return datetime.fromtimestamp(ts, IST).isoformat()


def exchange_date(ts: int) -> date:
    """Return the exchange (IST) calendar date of epoch seconds."""
    return datetime.fromtimestamp(ts + IST_OFFSET, UTC).date()


def seconds_of_day(ts: int) -> int:
    """Return seconds after exchange midnight for epoch seconds."""
    return (ts + IST_OFFSET) % 86400


def compact_stamp(ts: int) -> str:
    """Return ``YYYYMMDD_HHMMSS`` in exchange time, the stamp inside execution ids."""
    return datetime.fromtimestamp(ts + IST_OFFSET, UTC).strftime("%Y%m%d_%H%M%S")
