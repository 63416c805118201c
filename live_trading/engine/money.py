"""Money and time at the engine's edges.

Inside the loop prices and amounts are integers of the instrument's minor unit (paise for the rupee:
``places`` 2; 0.00001 for an FX pair quoted to five places: ``places`` 5, the data file's
``price_decimals``) and times are int epoch seconds (UTC). These helpers turn them into what leaves
the engine: ``Decimal`` amounts with exactly ``places`` places, and ISO 8601 timestamps on the clock of
the instrument's market (``zone``: its calendar's time zone, ``calendar.TradingCalendar.time_zone``;
the NSE's Asia/Kolkata is a fixed +05:30, New York's spot FX -04:00 or -05:00 with daylight saving).
``places`` defaults to the rupee's 2 and ``zone`` to the NSE's, so NSE figures and times render as they
always have (``"181.60"``, ``"2024-10-29T09:19:00+05:30"``).
"""

from datetime import UTC, datetime, tzinfo
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


def iso(ts: int, zone: tzinfo = EXCHANGE_TZ) -> str:
    """Return epoch seconds as ISO 8601 on the market's clock ``zone``, with its offset at that moment
    (``2024-10-29T09:19:00+05:30`` on the NSE; ``2017-04-19T06:40:00-04:00`` for spot FX in New York)."""
    return datetime.fromtimestamp(ts, zone).isoformat()


def compact_stamp(ts: int, zone: tzinfo = EXCHANGE_TZ) -> str:
    """Return ``YYYYMMDD_HHMMSS`` on the market's clock ``zone``, the stamp inside execution ids
    (``20241029_091900`` on the NSE)."""
    if zone is EXCHANGE_TZ:  # a fixed offset: the hot path of NSE sessions, without a zone lookup
        return datetime.fromtimestamp(ts + IST_OFFSET_SECONDS, UTC).strftime("%Y%m%d_%H%M%S")
    return datetime.fromtimestamp(ts, zone).strftime("%Y%m%d_%H%M%S")
