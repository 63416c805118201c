"""Indian F&O transaction charges (NSE), as rates with the dates they took effect.

Each order pays, on its own turnover (price x quantity, in paise):

* brokerage: a flat fee per executed order for options; for futures (and trades on the underlying,
  which the simulator treats as index futures) 0.03% of turnover capped at that flat fee;
* STT, securities transaction tax: on the sell side only, on premium for options;
* exchange transaction charge: NSE's, both sides, on premium for options;
* SEBI turnover fee: Rs 10 per crore, both sides;
* stamp duty: on the buy side only;
* GST: 18% on brokerage + exchange charge + SEBI fee.

Rounding, as Indian contract notes and the brokers' calculators do it: each charge is computed
exactly, then rounded half up to the paisa, except STT, which is rounded half up to the whole rupee;
GST is computed on the already rounded brokerage, exchange charge and SEBI fee. The simulator rounds
per order (a contract note rounds per scrip per day, which can differ by a paisa or a rupee of STT
when one symbol trades several times a day). The NSE investor protection fund charge (IPFT) is not
charged separately: brokers fold it into the exchange charge.
"""

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from live_trading.engine.money import round_half_up, rupees_str
from live_trading.refusals import Refused

_PCT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class ChargeRates:
    """The rates in force from ``effective_from`` until the next entry of the schedule.

    Rates are fractions of turnover (``0.001`` is 0.1%); brokerage is paise per order.
    """

    effective_from: date
    brokerage_per_order: int
    brokerage_futures_rate: Decimal
    stt_option_sell: Decimal
    stt_future_sell: Decimal
    exchange_option: Decimal
    exchange_future: Decimal
    sebi: Decimal
    stamp_option_buy: Decimal
    stamp_future_buy: Decimal
    gst: Decimal


def _pct(s: str) -> Decimal:
    return Decimal(s) * _PCT


# Sources: NSE circulars on transaction charges; Finance Act 2023 (STT on options 0.05% -> 0.0625%,
# futures 0.01% -> 0.0125% from 2023-04-01) and Finance (No. 2) Act 2024 (0.1% and 0.02% from
# 2024-10-01); NSE's revised charges from 2024-10-01 (options Rs 35.03/lakh of premium, futures
# Rs 1.73/lakh) under SEBI's July 2024 circular on MII charges; stamp duty from 2020-07-01.
SCHEDULE: tuple[ChargeRates, ...] = (
    ChargeRates(
        effective_from=date(2023, 4, 1),
        brokerage_per_order=2000,
        brokerage_futures_rate=_pct("0.03"),
        stt_option_sell=_pct("0.0625"),
        stt_future_sell=_pct("0.0125"),
        exchange_option=_pct("0.0495"),
        exchange_future=_pct("0.0019"),
        sebi=_pct("0.0001"),
        stamp_option_buy=_pct("0.003"),
        stamp_future_buy=_pct("0.002"),
        gst=_pct("18"),
    ),
    ChargeRates(
        effective_from=date(2024, 10, 1),
        brokerage_per_order=2000,
        brokerage_futures_rate=_pct("0.03"),
        stt_option_sell=_pct("0.1"),
        stt_future_sell=_pct("0.02"),
        exchange_option=_pct("0.03503"),
        exchange_future=_pct("0.00173"),
        sebi=_pct("0.0001"),
        stamp_option_buy=_pct("0.003"),
        stamp_future_buy=_pct("0.002"),
        gst=_pct("18"),
    ),
)


class NoChargeRates(Refused, LookupError):
    """No schedule entry covers the requested date."""

    subject = "date"


def rates_on(day: date, schedule: tuple[ChargeRates, ...] = SCHEDULE) -> ChargeRates:
    """Return the rates in force on ``day`` (the latest entry that took effect on or before it)."""
    found = None
    for r in schedule:
        if r.effective_from <= day:
            found = r
    if found is None:
        raise NoChargeRates(f"no charge rates in force on {day}; the schedule starts {schedule[0].effective_from}")
    return found


@dataclass(frozen=True, slots=True)
class Charges:
    """What one order paid, each component in integer paise."""

    brokerage: int = 0
    stt: int = 0
    exchange: int = 0
    sebi: int = 0
    stamp: int = 0
    gst: int = 0

    @property
    def total(self) -> int:
        return self.brokerage + self.stt + self.exchange + self.sebi + self.stamp + self.gst

    def as_rupees(self) -> dict:
        """Return the components and total as two-place strings (the wire form)."""
        return {
            "brokerage": rupees_str(self.brokerage),
            "stt": rupees_str(self.stt),
            "exchange_charges": rupees_str(self.exchange),
            "sebi_fee": rupees_str(self.sebi),
            "stamp_duty": rupees_str(self.stamp),
            "gst": rupees_str(self.gst),
            "total": rupees_str(self.total),
        }


ZERO_CHARGES = Charges()


def order_charges(rates: ChargeRates, *, option: bool, side: str, turnover: int) -> Charges:
    """Return the charges of one order with ``turnover`` paise, ``side`` ``buy`` or ``sell``."""
    t = Decimal(turnover)
    if option:
        brokerage = rates.brokerage_per_order
        exchange = round_half_up(t * rates.exchange_option)
        stt_rate, stamp_rate = rates.stt_option_sell, rates.stamp_option_buy
    else:
        brokerage = min(rates.brokerage_per_order, round_half_up(t * rates.brokerage_futures_rate))
        exchange = round_half_up(t * rates.exchange_future)
        stt_rate, stamp_rate = rates.stt_future_sell, rates.stamp_future_buy
    stt = 0
    stamp = 0
    if side == "sell":
        # STT is levied in whole rupees: round the exact amount to the nearest 100 paise.
        stt = int((t * stt_rate / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)) * 100
    else:
        stamp = round_half_up(t * stamp_rate)
    sebi = round_half_up(t * rates.sebi)
    gst = round_half_up((brokerage + exchange + sebi) * rates.gst)
    return Charges(brokerage=brokerage, stt=stt, exchange=exchange, sebi=sebi, stamp=stamp, gst=gst)
