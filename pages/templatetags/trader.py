"""How the pages' first view shows figures, as ``static/livesim/format.js`` and the page modules then do.

The server renders each card before any script runs (and for good when scripts are off), so a trader
never sees raw API strings ("-644.19", "2024-10-29T09:30:20+05:30") flash into "−₹644.19", "09:30:20 IST".
These filters are the Python twin of ``format.js`` (the same rules, the same tables; both are run on the
same cases in ``tests/pages/test_formatting.py``), and the page tests compare both with one independent
formatting of the API's answer (``tests/pages/cards.py``).

What a figure is in is a ``Market``: the currency and places of the session's instrument and its
market's time zone (``market_of`` reads them from a session card, a session row or a report). Money
(P&L, charges, drawdown, capital) is shown in the currency's minor units (``money``: "₹1,23,456.50",
"$1,234.56"); a price (LTP, entry, exit) at the instrument's places (``price``: "₹181.60", "$1.07164");
a time on the market's clock with its zone's abbreviation (``exchange_time``: "14:05:09 IST",
"09:00:00 EDT"). A filter given no market formats as the NSE's: INR, two places, IST.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from django import template

from live_trading.engine.money import indian_group

register = template.Library()

MINUS = "\N{MINUS SIGN}"
STATUS_TEXT = {"created": "Starting", "running": "Running", "paused": "Paused", "completed": "Completed",
               "stopped": "Stopped", "failed": "Failed", "interrupted": "Interrupted"}
CURRENCY_SIGNS = {"INR": "₹", "USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}
"""Currencies written with a sign; any other is written with its ISO code and a space ("CHF 12.30")."""
MINOR_UNITS = {"JPY": 0, "KRW": 0, "BHD": 3, "KWD": 3, "OMR": 3, "JOD": 3, "TND": 3}
"""ISO 4217 minor units of the currencies that do not have two: money is shown with these places."""


@dataclass(frozen=True)
class Market:
    """What a session's figures are in: ``currency`` (ISO code; "" for a sum across currencies: no sign,
    two places), ``price_decimals`` (its instrument's places) and ``time_zone`` (IANA, its market's clock)."""

    currency: str = "INR"
    price_decimals: int = 2
    time_zone: str = "Asia/Kolkata"

    @property
    def money_places(self) -> int:
        return MINOR_UNITS.get(self.currency, 2)


NSE = Market()


def market_of(source) -> Market:
    """The market of a session card or report (a dict with ``currency``, ``price_decimals``,
    ``time_zone``), a session row (those attributes) or a ``Market``; the NSE's for None or what a
    source does not say."""
    if isinstance(source, Market):
        return source
    if source is None or source == "":
        return NSE
    if isinstance(source, dict):
        get = source.get
    else:
        def get(name):
            return getattr(source, name, None)
    places = get("price_decimals")
    currency = get("currency")
    return Market(currency=NSE.currency if currency is None else currency,
                  price_decimals=places if isinstance(places, int) else NSE.price_decimals,
                  time_zone=get("time_zone") or NSE.time_zone)


def common_market(sources) -> Market:
    """What sums over several sessions are in (a strategy's report, a history total, two sessions
    compared): their market when they share a currency; otherwise a sum across currencies, which is not
    converted (``currency`` "", no sign). Places: the most any has; the clock: the first one's."""
    markets = [market_of(s) for s in sources] or [NSE]
    currencies = {m.currency for m in markets}
    return Market(currency=currencies.pop() if len(currencies) == 1 else "",
                  price_decimals=max(m.price_decimals for m in markets), time_zone=markets[0].time_zone)


def market_json(market) -> dict:
    """A market as the pages' scripts take it (``format.js`` ``marketOf``)."""
    m = market_of(market)
    return {"currency": m.currency, "price_decimals": m.price_decimals, "time_zone": m.time_zone}


def _decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def western_group(digits: str) -> str:
    """``"1234567"`` -> ``"1,234,567"``."""
    return f"{int(digits):,}"


def _group(currency: str, digits: str) -> str:
    return indian_group(digits) if currency == "INR" else western_group(digits)


def amount(value, currency: str = "INR", places: int = 2, sign: bool = False) -> str:
    """An amount of ``currency`` with ``places`` places, rounded half away from zero: its sign or code, the
    currency's grouping (Indian for INR), a real minus (U+2212), ``+`` before a gain with ``sign``; "—"
    for nothing. The core of ``money`` and ``price``."""
    number = _decimal(value)
    if number is None or not number.is_finite():
        return "—" if value in (None, "") else str(value)
    number = number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    whole, _, fraction = f"{abs(number):.{places}f}".partition(".")
    mark = CURRENCY_SIGNS.get(currency, f"{currency} " if currency else "")
    prefix = MINUS if number < 0 else ("+" if sign and number > 0 else "")
    return f"{prefix}{mark}{_group(currency, whole)}{'.' + fraction if places else ''}"


@register.filter
def money(value, market=None) -> str:
    """Money (P&L, charges, drawdown, capital) in ``market``'s currency at its minor units:
    ``"-1234567.5"`` -> ``"−₹12,34,567.50"``; ``"-12.30000"`` of a USD session -> ``"−$12.30"``."""
    m = market_of(market)
    return amount(value, m.currency, m.money_places)


@register.filter
def signed_money(value, market=None) -> str:
    """``money`` with ``+`` before a gain."""
    m = market_of(market)
    return amount(value, m.currency, m.money_places, sign=True)


@register.filter
def price(value, market=None) -> str:
    """A price (LTP, entry, exit) at ``market``'s instrument places: ``"181.6"`` -> ``"₹181.60"``,
    ``"1.07164"`` of an EURUSD session -> ``"$1.07164"``."""
    m = market_of(market)
    return amount(value, m.currency, m.price_decimals)


@register.filter
def pnl_class(value) -> str:
    """"profit", "loss" or "": the class that colours a P&L figure."""
    number = _decimal(value)
    return "" if not number else ("profit" if number > 0 else "loss")


@register.filter
def count(value, market=None) -> str:
    """An integer grouped as ``market``'s money is (``150000`` -> ``"1,50,000"`` on the NSE, ``"150,000"``
    elsewhere), a real minus sign."""
    text = str(value if value is not None else 0)
    digits = text.lstrip("+-")
    if not digits.isdigit():
        return text
    return f"{MINUS if text.startswith('-') else ''}{_group(market_of(market).currency, digits)}"


def zone_name(moment: datetime) -> str:
    """The abbreviation of an aware ``moment``'s zone, as ``format.js`` writes it: "IST" for India, else
    tzdata's ("EST", "EDT", "UTC"); a zone without letters as ICU writes it ("GMT+5:45")."""
    if getattr(moment.tzinfo, "key", None) == "Asia/Kolkata":
        return "IST"
    name = moment.tzname() or ""
    if name[:1] in ("+", "-"):
        hours, minutes = name[1:3], name[3:5]
        return f"GMT{name[0]}{int(hours)}{':' + minutes if minutes and minutes != '00' else ''}"
    return name


def _on_clock(value, market=None) -> datetime | None:
    """An ISO date-time (any offset), an aware datetime or epoch seconds as a datetime on ``market``'s clock."""
    if value in (None, ""):
        return None
    zone = ZoneInfo(market_of(market).time_zone)
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, int | float):
        return datetime.fromtimestamp(value, zone)
    else:
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            return None
    return moment.astimezone(zone)


@register.filter
def exchange_time(value, market=None) -> str:
    """``"14:05:09 IST"``, ``"09:00:00 EDT"`` from an ISO date-time or epoch seconds, on ``market``'s clock."""
    moment = _on_clock(value, market)
    return f"{moment:%H:%M:%S} {zone_name(moment)}" if moment else "—"


@register.filter
def exchange_date(value, market=None) -> str:
    """``"29 Oct 2024"`` from a date or ``"YYYY-MM-DD"`` (a trading day, as it is) or a date-time (its day
    on ``market``'s clock)."""
    if isinstance(value, date) and not isinstance(value, datetime):
        day = value
    elif isinstance(value, str) and len(value) == 10:
        try:
            day = date.fromisoformat(value)
        except ValueError:
            return "—"
    else:
        moment = _on_clock(value, market)
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
    return f"{parts[3]} {parts[4]} {exchange_date(parts[1])[:6]}"


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
    """The charges a card shows: the closed trades' and the open positions' entry charges, exact, as a
    decimal string with the card's places (``price_decimals``: ``"154.41"``, ``"0.00000"``)."""
    data = card.get("data") or {}
    total = _decimal((data.get("summary") or {}).get("charges")) or Decimal(0)
    for position in (data.get("gps_data") or {}).get("positions") or []:
        total += _decimal(position.get("charges")) or Decimal(0)
    return f"{total:.{market_of(card).price_decimals}f}"


@register.simple_tag
def progress_text(progress, market=None) -> str:
    """``"4.09% · 920 of 22,500 ticks"`` (counts grouped as ``market``'s money is)."""
    progress = progress or {}
    pct = float(progress.get("progress_percentage") or 0)
    done, total = (count(progress.get(k) or 0, market) for k in ("ticks_processed", "total_ticks"))
    return f"{pct:.2f}% · {done} of {total} ticks"
