"""How the pages' first view shows figures, as ``static/livesim/format.js`` and ``dashboard.js`` then do.

The server renders each card before any script runs (and for good when scripts are off), so a trader
never sees raw API strings ("-644.19", "2024-10-29T09:30:20+05:30") flash into "−₹644.19", "09:30:20 IST".
These filters are the Python side of those two modules; the page tests compare both with one
independent formatting of the API's answer (``tests/pages/cards.py``).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django import template

from live_trading.engine.money import indian_group
from live_trading.marketdata.calendar import EXCHANGE_TZ

register = template.Library()

MINUS = "\N{MINUS SIGN}"
STATUS_TEXT = {"created": "Starting", "running": "Running", "paused": "Paused", "completed": "Completed",
               "stopped": "Stopped", "failed": "Failed", "interrupted": "Interrupted"}


def _decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


@register.filter
def rupees(value, sign: bool = False) -> str:
    """``"-1234567.5"`` -> ``"−₹12,34,567.50"`` (``+`` before a gain with ``sign``); "—" for nothing."""
    amount = _decimal(value)
    if amount is None:
        return "—" if value in (None, "") else str(value)
    amount = amount.quantize(Decimal("0.01"))
    whole, fraction = f"{abs(amount):.2f}".split(".")
    prefix = MINUS if amount < 0 else ("+" if sign and amount > 0 else "")
    return f"{prefix}₹{indian_group(whole)}.{fraction}"


@register.filter
def signed_rupees(value) -> str:
    return rupees(value, sign=True)


@register.filter
def pnl_class(value) -> str:
    """"profit", "loss" or "": the class that colours a P&L figure."""
    amount = _decimal(value)
    return "" if not amount else ("profit" if amount > 0 else "loss")


@register.filter
def count(value) -> str:
    """An integer with Indian grouping (``150000`` -> ``"1,50,000"``), a real minus sign."""
    text = str(value if value is not None else 0)
    digits = text.lstrip("+-")
    if not digits.isdigit():
        return text
    return f"{MINUS if text.startswith('-') else ''}{indian_group(digits)}"


def _exchange_time(value) -> datetime | None:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, int | float):
        moment = datetime.fromtimestamp(value, EXCHANGE_TZ)
    else:
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            return None
    return moment.astimezone(EXCHANGE_TZ)


@register.filter
def ist_time(value) -> str:
    """``"14:05:09 IST"`` from an ISO date-time or epoch seconds."""
    moment = _exchange_time(value) if value not in (None, "") else None
    return f"{moment:%H:%M:%S} IST" if moment else "—"


@register.filter
def ist_date(value) -> str:
    """``"29 Oct 2024"`` from a date, ``"YYYY-MM-DD"`` or a date-time (its exchange day)."""
    if isinstance(value, date) and not isinstance(value, datetime):
        day = value
    elif isinstance(value, str) and len(value) == 10:
        try:
            day = date.fromisoformat(value)
        except ValueError:
            return "—"
    else:
        moment = _exchange_time(value) if value not in (None, "") else None
        if moment is None:
            return "—"
        day = moment.date()
    return f"{day:%d %b %Y}"


@register.filter
def option_symbol(symbol) -> str:
    """``"24500 CE 31 Oct"`` from ``"NIFTY:2024-10-31:OPT:24500:CE"``; any other symbol as it is."""
    parts = str(symbol).split(":")
    if len(parts) != 5 or parts[2] != "OPT":
        return str(symbol)
    return f"{parts[3]} {parts[4]} {ist_date(parts[1])[:6]}"


@register.filter
def speed_text(speed) -> str:
    """``"60×"``, ``"0.5×"``; ``"max"`` for as fast as possible (``"max"`` or 0)."""
    key = speed_key(speed)
    return key if key == "max" else f"{key}×"


@register.filter
def speed_key(speed) -> str:
    """The preset a speed is (``"60"``, ``"max"``), as the speed buttons' ``data-speed`` name them."""
    if speed == "max":
        return "max"
    number = _decimal(speed)
    if not number:
        return "max"
    return f"{number.normalize():f}"


@register.filter
def status_text(status) -> str:
    return STATUS_TEXT.get(status, str(status))


@register.filter
def charges_paid(card) -> str:
    """The charges a card shows: the closed trades' and the open positions' entry charges (exact)."""
    data = card.get("data") or {}
    total = _decimal((data.get("summary") or {}).get("charges")) or Decimal(0)
    for position in (data.get("gps_data") or {}).get("positions") or []:
        total += _decimal(position.get("charges")) or Decimal(0)
    return f"{total:.2f}"


@register.simple_tag
def progress_text(progress) -> str:
    """``"4.09% · 920 of 22,500 ticks"``."""
    progress = progress or {}
    pct = float(progress.get("progress_percentage") or 0)
    return f"{pct:.2f}% · {count(progress.get('ticks_processed') or 0)} of {count(progress.get('total_ticks') or 0)} ticks"
