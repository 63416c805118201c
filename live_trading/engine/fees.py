"""Fee models: what each paper order pays, chosen per broker connection, and slippage in ticks.

A broker connection (and ``manage.py simulate``) picks one of four kinds:

* ``nse_fo``: the dated NSE F&O schedule of ``charges.py`` (brokerage, STT, exchange charges, SEBI
  fee, stamp duty, GST), with the rates in force on the session's day. The default, and what every
  session ran with before fee models existed.
* ``none``: nothing; every order's ``Charges`` is zero.
* ``per_order``: a flat fee per executed order (``per_order`` hundredths of the instrument's currency:
  paise on the NSE), whatever its size or side.
* ``percent``: ``percent`` per cent of the order's turnover (price x quantity), rounded half up to
  the instrument's minor unit (the paisa on the NSE), at most ``cap`` hundredths per order when a cap is
  given (0.03% capped at Rs 20 is a discount broker's futures tariff).

Amounts are written in hundredths of the currency whatever the instrument; ``FeeModel.for_day`` turns them
into the instrument's minor units (10**-``price_decimals``), and refuses ``nse_fo`` on money that is not
rupees and paise.

A ``per_order`` or ``percent`` fee is the whole charge of the order: it is shown as the brokerage line
of ``Charges`` (the other lines zero) and no tax is added on it, so a contract note, report or page
lists it as one line.

Slippage is not a fee: ``slippage_ticks`` moves a market order's fill against the trader by that many
of the instrument's price ticks (``broker.PaperBroker.fill_price``). It is checked here with the fee
parameters because a connection sets both.

Every limit below is checked in one place (``FeeModel.__post_init__`` and ``check_slippage_ticks``):
the API's serializer and the ``simulate`` command refuse with the same messages, naming the field.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import partial

from live_trading.engine.charges import (
    SCHEDULE,
    ZERO_CHARGES,
    ChargeRates,
    Charges,
    exercise_charges,
    order_charges,
    rates_on,
)
from live_trading.engine.money import round_half_up, rupees_str
from live_trading.refusals import Refused

NSE_FO, NONE, PER_ORDER, PERCENT = "nse_fo", "none", "per_order", "percent"
FEE_KINDS = (NSE_FO, NONE, PER_ORDER, PERCENT)

# Bounds that catch a slip of the keyboard (a fee in paise typed as rupees, 3 typed as 300 per cent),
# not any broker's real tariff: Indian brokers charge Rs 0-100 an order and well under 1% of turnover.
MAX_FEE_PAISE = 10_000_00  # Rs 10,000 an order, for ``per_order`` and ``cap``
MAX_PERCENT = Decimal(10)
PERCENT_PLACES = 5  # 0.03503, NSE's option transaction charge, is written exactly
MAX_SLIPPAGE_TICKS = 1000  # 50 rupees on a 0.05 tick: far beyond any liquid contract's spread

_PARAMETERS = {PER_ORDER: ("per_order",), PERCENT: ("percent", "cap")}  # what each kind takes; cap optional

OrderFees = Callable[..., Charges]
"""``fees(*, option: bool, side: "buy" | "sell", turnover: paise) -> Charges`` of one order."""


class InvalidFees(Refused, ValueError):
    """A fee model or slippage the simulator refuses; ``subject`` is the field (``fee_model``,
    ``fee_per_order``, ``fee_percent``, ``fee_cap``, ``slippage_ticks``)."""

    def __init__(self, field: str, message: str):
        super().__init__(message, subject=field)


@dataclass(frozen=True, slots=True)
class FeeModel:
    """A fee model: ``kind`` one of ``FEE_KINDS``; ``per_order`` (paise, ``per_order`` only),
    ``percent`` (per cent of turnover, ``Decimal("0.03")`` is 0.03%, ``percent`` only) and ``cap``
    (paise per order, optional, ``percent`` only).

    Raises ``InvalidFees`` naming the field for an unknown kind, a parameter the kind does not take or
    lacks, a negative amount, or one past the limits above (``MAX_FEE_PAISE``, ``MAX_PERCENT`` with at
    most ``PERCENT_PLACES`` places).
    """

    kind: str = NSE_FO
    per_order: int | None = None
    percent: Decimal | None = None
    cap: int | None = None

    def __post_init__(self):
        if self.kind not in FEE_KINDS:
            raise InvalidFees("fee_model", f"{self.kind!r} is not a fee model; one of {', '.join(FEE_KINDS)}")
        takes = _PARAMETERS.get(self.kind, ())
        for name in ("per_order", "percent", "cap"):
            given = getattr(self, name) is not None
            if not given and name in takes and name != "cap":
                raise InvalidFees(f"fee_{name}", f"required with the {self.kind} fee model")
            if given and name not in takes:
                owner = PER_ORDER if name == "per_order" else PERCENT
                raise InvalidFees(
                    f"fee_{name}", f"only the {owner} fee model takes it; this one is {self.kind}"
                )
        for name in ("per_order", "cap"):
            value = getattr(self, name)
            if value is not None and (type(value) is not int or not 0 <= value <= MAX_FEE_PAISE):
                raise InvalidFees(
                    f"fee_{name}", f"must be from 0 to {rupees_str(MAX_FEE_PAISE)} rupees an order"
                )
        if self.percent is not None:
            p = self.percent
            if (
                not isinstance(p, Decimal)
                or not p.is_finite()
                or not 0 <= p <= MAX_PERCENT
                or p.is_signed()  # -0: no tariff, and it would read back as "-0%"
                or p.normalize().as_tuple().exponent < -PERCENT_PLACES
            ):
                raise InvalidFees(
                    "fee_percent",
                    f"must be a number of per cent from 0 to {MAX_PERCENT} "
                    f"with at most {PERCENT_PLACES} decimal places",
                )

    @classmethod
    def from_rupees(cls, kind: str, *, per_order=None, percent=None, cap=None) -> FeeModel:
        """Build from the edge's units: ``per_order`` and ``cap`` in rupees (Decimal, int or a string
        such as ``"20.00"``, at most two places), ``percent`` in per cent (Decimal or string). Raises
        ``InvalidFees`` naming the field, as the constructor does, for text that is not a number too."""
        return cls(
            kind,
            per_order=_paise("fee_per_order", per_order),
            percent=_decimal("fee_percent", percent),
            cap=_paise("fee_cap", cap),
        )

    def for_day(self, day: date, schedule: tuple[ChargeRates, ...] = SCHEDULE, *, places: int = 2,
                currency: str = "INR") -> OrderFees:
        """The charges function of the orders of ``day`` on an instrument whose money is integers of
        10**-``places`` of ``currency`` (its ``price_decimals``; 2 and INR: paise). The charges it returns
        are in those minor units: a ``per_order`` fee or ``cap`` (hundredths of the currency, as written
        on the connection: ``"2.50"`` is 250) is 250,000 minor units on EURUSD (five places), and a
        ``percent`` fee is rounded half up to the instrument's minor unit.

        Raises ``charges.NoChargeRates`` (subject ``date``) when the model is ``nse_fo`` and ``schedule``
        has no rates for ``day``; the other models need no schedule and take any day. Raises
        ``InvalidFees`` (subject ``fee_model``) for ``nse_fo`` on an instrument not in rupees and paise
        (its rates and roundings are the NSE's), and (``fee_per_order``, ``fee_cap``) for an amount
        finer than the instrument's minor unit (``places`` below 2)."""
        if self.kind == NSE_FO:
            if (currency, places) != ("INR", 2):
                raise InvalidFees(
                    "fee_model",
                    f"nse_fo charges the NSE's schedule in rupees and paise; this instrument's money is {currency} "
                    f"with {places} decimal places: choose none, per_order or percent",
                )
            return partial(order_charges, rates_on(day, schedule))
        if self.kind == NONE:
            return _no_charges
        if self.kind == PER_ORDER:
            return partial(_brokerage_only, Charges(brokerage=_minor_units("fee_per_order", self.per_order, places)))
        cap = None if self.cap is None else _minor_units("fee_cap", self.cap, places)
        return partial(_percent_of_turnover, self.percent, cap)

    def settlement_charges(self, day: date, *, holder: bool, intrinsic_value: int,
                           schedule: tuple[ChargeRates, ...] = SCHEDULE) -> Charges:
        """The charges of an option settled at expiry on ``day`` (``intrinsic_value``: paise, for the whole
        quantity). ``nse_fo``: STT on exercise for the holder (``charges.exercise_charges``, the rate in
        force on ``day``); the other models charge per order, and a settlement is not an order: nothing."""
        if self.kind != NSE_FO:
            return ZERO_CHARGES
        return exercise_charges(rates_on(day, schedule), holder=holder, intrinsic_value=intrinsic_value)

    def describe(self) -> str:
        """The model in a trader's words, for pages and the command line: ``NSE F&O charges``, ``no
        charges``, ``Rs 20.00 an order``, ``0.03% of turnover, at most Rs 20.00 an order``."""
        if self.kind == NSE_FO:
            return "NSE F&O charges"
        if self.kind == NONE:
            return "no charges"
        if self.kind == PER_ORDER:
            return f"Rs {rupees_str(self.per_order)} an order"
        cap = "" if self.cap is None else f", at most Rs {rupees_str(self.cap)} an order"
        return f"{_plain(self.percent)}% of turnover{cap}"

    def to_dict(self) -> dict:
        """The wire and record form: ``{"fee_model", "fee_per_order", "fee_percent", "fee_cap"}``, rupees
        as two-place strings, the percentage without trailing zeros, parameters the model does not take ``None``."""
        return {
            "fee_model": self.kind,
            "fee_per_order": None if self.per_order is None else rupees_str(self.per_order),
            "fee_percent": None if self.percent is None else _plain(self.percent),
            "fee_cap": None if self.cap is None else rupees_str(self.cap),
        }

    @classmethod
    def from_dict(cls, data: dict) -> FeeModel:
        """The inverse of ``to_dict`` (a missing key is ``None``; a missing ``fee_model`` is ``nse_fo``)."""
        return cls.from_rupees(
            data.get("fee_model", NSE_FO),
            per_order=data.get("fee_per_order"),
            percent=data.get("fee_percent"),
            cap=data.get("fee_cap"),
        )


NSE_FO_FEES = FeeModel()


def describe_costs(model: FeeModel, slippage_ticks: int) -> str:
    """A connection's or session's trading costs in a trader's words: ``NSE F&O charges, no slippage``,
    ``Rs 20.00 an order, 1 tick of slippage``."""
    ticks = (
        "no slippage"
        if not slippage_ticks
        else f"{slippage_ticks} tick{'s' if slippage_ticks != 1 else ''} of slippage"
    )
    return f"{model.describe()}, {ticks}"


def check_slippage_ticks(ticks) -> int:
    """Return ``ticks`` if it is a whole number from 0 to ``MAX_SLIPPAGE_TICKS``; else raise
    ``InvalidFees`` naming ``slippage_ticks``."""
    if type(ticks) is not int or not 0 <= ticks <= MAX_SLIPPAGE_TICKS:
        raise InvalidFees("slippage_ticks", f"must be a whole number of ticks from 0 to {MAX_SLIPPAGE_TICKS}")
    return ticks


def _no_charges(*, option: bool, side: str, turnover: int) -> Charges:
    return ZERO_CHARGES


def _brokerage_only(charges: Charges, *, option: bool, side: str, turnover: int) -> Charges:
    return charges


def _percent_of_turnover(
    percent: Decimal, cap: int | None, *, option: bool, side: str, turnover: int
) -> Charges:
    fee = round_half_up(Decimal(turnover) * percent / 100)
    return Charges(brokerage=fee if cap is None else min(fee, cap))


def _minor_units(field: str, hundredths: int, places: int) -> int:
    """``hundredths`` of a currency (a connection's fee, two places) in minor units of 10**-``places``;
    ``InvalidFees`` naming ``field`` when it is finer than that unit (``places`` 0 or 1)."""
    if places >= 2:
        return hundredths * 10 ** (places - 2)
    whole, rest = divmod(hundredths, 10 ** (2 - places))
    if rest:
        raise InvalidFees(field, f"{rupees_str(hundredths)} has more decimal places than the instrument's {places}")
    return whole


def _plain(number: Decimal) -> str:
    """``Decimal("0.03000")`` -> ``"0.03"``, ``Decimal("10")`` -> ``"10"``: no trailing zeros, no exponent."""
    return format(number.normalize(), "f")


def _decimal(field: str, value) -> Decimal | None:
    if value is None or isinstance(value, Decimal):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise InvalidFees(field, "must be a number")
    try:
        return Decimal(value)
    except InvalidOperation:
        raise InvalidFees(field, f"{value!r} is not a number") from None


def _paise(field: str, rupees) -> int | None:
    amount = _decimal(field, rupees)
    if amount is None:
        return None
    if not amount.is_finite() or amount.as_tuple().exponent < -2:
        raise InvalidFees(field, "must be rupees with at most two decimal places")
    return int(amount * 100)
