"""Indian F&O transaction charges (NSE), as rates with the dates they took effect.

Each order pays, on its own turnover (price x quantity, in paise):

* brokerage: a flat fee per executed order for options; for futures (and trades on the underlying,
  which the simulator treats as index futures) 0.03% of turnover capped at that flat fee;
* STT, securities transaction tax: on the sell side only, on premium for options;
* exchange charges: NSE's transaction charge plus its investor protection fund (IPFT) charge, both
  sides, on premium for options, shown as one line as contract notes show them;
* SEBI turnover fee: Rs 10 per crore, both sides;
* stamp duty: on the buy side only;
* GST: 18% on brokerage + exchange charge + SEBI fee.

Rounding, as Indian contract notes and the brokers' calculators do it: each charge is computed
exactly, then rounded half up to the paisa, except STT, which is rounded half up to the whole rupee;
GST is computed on the already rounded brokerage, exchange charge and SEBI fee. The simulator rounds
per order (a contract note rounds per scrip per day, which can differ by a paisa or a rupee of STT
when one symbol trades several times a day). The NSE investor protection fund trust charge (IPFT) is
a rate of its own in each dated row; brokers levy it separately but print it inside the exchange
transaction charges of the contract note, so `Charges.exchange` holds the sum, computed on the summed
rate and rounded once (0.03503% + 0.0005% = 0.03553% of premium from 1 Oct 2024), and GST is charged on
it as on the rest of that line.

Sources and effective dates of every rate: docs/marketdata.md, "Charges".
"""

from dataclasses import dataclass, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from live_trading.engine.money import round_half_up, rupees_str
from live_trading.refusals import Refused

_PCT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class ChargeRates:
    """The rates in force from ``effective_from`` until the next entry of the schedule.

    Rates are fractions of turnover (``0.001`` is 0.1%); brokerage is paise per order. ``exchange_*``
    is NSE's transaction charge alone, ``ipft_*`` its investor protection fund charge.
    """

    effective_from: date
    brokerage_per_order: int
    brokerage_futures_rate: Decimal
    stt_option_sell: Decimal
    stt_future_sell: Decimal
    exchange_option: Decimal
    exchange_future: Decimal
    ipft_option: Decimal
    ipft_future: Decimal
    sebi: Decimal
    stamp_option_buy: Decimal
    stamp_future_buy: Decimal
    gst: Decimal
    stt_option_exercise: Decimal  # on the intrinsic value of an option exercised (settled in the money)


def _pct(s: str) -> Decimal:
    return Decimal(s) * _PCT


# Sources (details in docs/marketdata.md): Finance Act 2023 (STT on options 0.05% -> 0.0625%, futures
# 0.01% -> 0.0125% from 2023-04-01); Finance (No. 2) Act 2024 (0.1% and 0.02% from 2024-10-01); Finance
# Act 2026, Budget of 1 Feb 2026 (0.15% and 0.05% from 2026-04-01); NSE transaction charges from
# 2023-04-01 and, under SEBI's circular of 1 Jul 2024 on MII charges, from 2024-10-01 (options Rs 35.03
# per lakh of premium, futures Rs 1.73 per lakh); NSE's IPFT contribution recalibrated from 2023-04-01
# (NSE circular of Mar 2023: Rs 50 per crore of option premium, Rs 10 per crore of futures turnover);
# SEBI fee Rs 10 per crore; stamp duty from 2020-07-01. STT on options exercised: 0.125% of the intrinsic
# value (the base since the Finance Act 2016; the rate unchanged by the 2023 and 2024 Acts), 0.15% from
# 2026-04-01 (Finance Act 2026).
_IPFT_OPTION = _pct("0.0005")  # Rs 50 per crore of premium
_IPFT_FUTURE = _pct("0.0001")  # Rs 10 per crore of turnover
_FROM_APRIL_2023 = ChargeRates(
    effective_from=date(2023, 4, 1),
    brokerage_per_order=2000,
    brokerage_futures_rate=_pct("0.03"),
    stt_option_sell=_pct("0.0625"),
    stt_future_sell=_pct("0.0125"),
    exchange_option=_pct("0.0495"),
    exchange_future=_pct("0.0019"),
    ipft_option=_IPFT_OPTION,
    ipft_future=_IPFT_FUTURE,
    sebi=_pct("0.0001"),
    stamp_option_buy=_pct("0.003"),
    stamp_future_buy=_pct("0.002"),
    gst=_pct("18"),
    stt_option_exercise=_pct("0.125"),
)
# Each later row is the one before with what changed on its date.
_FROM_OCTOBER_2024 = replace(_FROM_APRIL_2023, effective_from=date(2024, 10, 1), stt_option_sell=_pct("0.1"),
                             stt_future_sell=_pct("0.02"), exchange_option=_pct("0.03503"),
                             exchange_future=_pct("0.00173"))
_FROM_APRIL_2026 = replace(_FROM_OCTOBER_2024, effective_from=date(2026, 4, 1), stt_option_sell=_pct("0.15"),
                           stt_future_sell=_pct("0.05"), stt_option_exercise=_pct("0.15"))
SCHEDULE: tuple[ChargeRates, ...] = (_FROM_APRIL_2023, _FROM_OCTOBER_2024, _FROM_APRIL_2026)


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

    def as_rupees(self, places: int = 2) -> dict:
        """Return the components and total as two-place strings (the wire form)."""
        return {
            "brokerage": rupees_str(self.brokerage, places),
            "stt": rupees_str(self.stt, places),
            "exchange_charges": rupees_str(self.exchange, places),
            "sebi_fee": rupees_str(self.sebi, places),
            "stamp_duty": rupees_str(self.stamp, places),
            "gst": rupees_str(self.gst, places),
            "total": rupees_str(self.total, places),
        }


ZERO_CHARGES = Charges()


def order_charges(rates: ChargeRates, *, option: bool, side: str, turnover: int) -> Charges:
    """Return the charges of one order with ``turnover`` paise, ``side`` ``buy`` or ``sell``."""
    t = Decimal(turnover)
    if option:
        brokerage = rates.brokerage_per_order
        exchange = round_half_up(t * (rates.exchange_option + rates.ipft_option))
        stt_rate, stamp_rate = rates.stt_option_sell, rates.stamp_option_buy
    else:
        brokerage = min(rates.brokerage_per_order, round_half_up(t * rates.brokerage_futures_rate))
        exchange = round_half_up(t * (rates.exchange_future + rates.ipft_future))
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


def exercise_charges(rates: ChargeRates, *, holder: bool, intrinsic_value: int) -> Charges:
    """Return the charges of an option settled at expiry: ``intrinsic_value`` paise is the settlement
    value (intrinsic value per unit x quantity). Only the holder of an option exercised in the money
    pays, STT at ``stt_option_exercise`` on that value, rounded half up to the whole rupee as all STT
    (Securities Transaction Tax, the "sale of an option in securities, where the option is exercised",
    payable by the purchaser); the writer pays nothing. Settlement is not an order: no brokerage,
    exchange charge, SEBI fee, stamp duty or GST (docs/strategies.md, "Expiry settlement").
    """
    if not holder or intrinsic_value <= 0:
        return ZERO_CHARGES
    stt = Decimal(intrinsic_value) * rates.stt_option_exercise / 100
    return Charges(stt=int(stt.quantize(Decimal(1), rounding=ROUND_HALF_UP)) * 100)
