"""Broker connections (which account a session trades through, with what capital, fees and slippage),
and synthetic-day charges."""

import uuid
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from live_trading.engine import fees


class FeeKind(models.TextChoices):
    """The fee models of ``live_trading.engine.fees`` (``FEE_KINDS``), with their labels."""

    NSE_FO = fees.NSE_FO, "NSE F&O charges (dated schedule)"
    NONE = fees.NONE, "No charges"
    PER_ORDER = fees.PER_ORDER, "Flat fee per order"
    PERCENT = fees.PERCENT, "Percent of turnover (optional cap per order)"


_MAX_FEE = Decimal(fees.MAX_FEE_PAISE) / 100


class BrokerConnection(models.Model):
    class BrokerType(models.TextChoices):
        PAPER = "paper", "Paper (simulated fills)"
        ANGEL_ONE = "angel-one", "Angel One"
        ZERODHA = "zerodha", "Zerodha"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="broker_connections")
    name = models.CharField(max_length=120, blank=True)
    broker_type = models.CharField(max_length=32, choices=BrokerType.choices, default=BrokerType.PAPER)
    account_id = models.CharField(max_length=64)
    starting_capital = models.DecimalField(max_digits=16, decimal_places=2)
    # What each order pays and how far fills slip (live_trading/engine/fees.py); a session records the
    # values it started with (SimulationSession.fees, .slippage_ticks), so editing them rewrites no history.
    fee_model = models.CharField(max_length=16, choices=FeeKind.choices, default=FeeKind.NSE_FO)
    fee_per_order = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True,
                                        help_text="Rupees per order (per_order fee model only).")
    fee_percent = models.DecimalField(max_digits=8, decimal_places=fees.PERCENT_PLACES, null=True, blank=True,
                                      help_text="Per cent of turnover, 0.03 = 0.03% (percent fee model only).")
    fee_cap = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True,
                                  help_text="Most rupees one order pays (percent fee model only; empty: no cap).")
    slippage_ticks = models.PositiveSmallIntegerField(
        default=0, help_text="Market orders fill this many price ticks worse than the LTP (0.05 for NSE options).")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["owner", "created_at"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "broker_type", "account_id"], name="broker_account_unique"),
            models.CheckConstraint(condition=models.Q(starting_capital__gt=0), name="broker_capital_positive"),
            # The rules of fees.FeeModel, so that no writer can leave a connection a session cannot run with.
            models.CheckConstraint(condition=Q(fee_model__in=fees.FEE_KINDS), name="broker_fee_model_known"),
            models.CheckConstraint(
                condition=Q(fee_per_order__isnull=True) | Q(fee_model=fees.PER_ORDER, fee_per_order__gte=0,
                                                            fee_per_order__lte=_MAX_FEE),
                name="broker_fee_per_order_fits"),
            models.CheckConstraint(
                condition=Q(fee_percent__isnull=True) | Q(fee_model=fees.PERCENT, fee_percent__gte=0,
                                                          fee_percent__lte=fees.MAX_PERCENT),
                name="broker_fee_percent_fits"),
            models.CheckConstraint(
                condition=Q(fee_cap__isnull=True) | Q(fee_model=fees.PERCENT, fee_cap__gte=0, fee_cap__lte=_MAX_FEE),
                name="broker_fee_cap_fits"),
            models.CheckConstraint(
                condition=~Q(fee_model=fees.PER_ORDER, fee_per_order__isnull=True)
                & ~Q(fee_model=fees.PERCENT, fee_percent__isnull=True),
                name="broker_fee_parameters_given"),
            models.CheckConstraint(condition=Q(slippage_ticks__lte=fees.MAX_SLIPPAGE_TICKS),
                                   name="broker_slippage_fits"),
        ]

    def __str__(self):
        return f"{self.broker_type}:{self.account_id}"

    def engine_fees(self) -> fees.FeeModel:
        """The connection's fee model as the engine takes it. Raises ``fees.InvalidFees`` naming the field."""
        return fees.FeeModel.from_rupees(self.fee_model, per_order=self.fee_per_order, percent=self.fee_percent,
                                         cap=self.fee_cap)

    def costs_text(self) -> str:
        """Its fee model and slippage in a trader's words (``fees.describe_costs``)."""
        return fees.describe_costs(self.engine_fees(), self.slippage_ticks)

    def clean(self):
        """Check the fee model and slippage as the engine does (the admin's form calls this)."""
        super().clean()
        try:
            self.engine_fees()
            fees.check_slippage_ticks(self.slippage_ticks)
        except fees.InvalidFees as exc:
            raise ValidationError({exc.subject: [str(exc)]}) from None


class SyntheticDayCharge(models.Model):
    """One synthetic market day a user's start generates, counted against the user's allowance.

    The rows of the last ``SYNTHETIC_DAYS_WINDOW_SECONDS`` are the user's use (live_trading.market_cache);
    older ones are deleted as new ones are written. In Postgres, so every server process sees them.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    underlying = models.CharField(max_length=32)
    day = models.DateField()
    charged_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["user", "charged_at"], name="synthetic_charge_user_time")]

    def __str__(self):
        return f"{self.underlying} {self.day} for user {self.user_id} at {self.charged_at}"
