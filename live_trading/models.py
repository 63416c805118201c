"""Broker connections (which account a session trades through, with what capital), and synthetic-day charges."""

import uuid

from django.conf import settings
from django.db import models


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
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["owner", "created_at"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "broker_type", "account_id"], name="broker_account_unique"),
            models.CheckConstraint(condition=models.Q(starting_capital__gt=0), name="broker_capital_positive"),
        ]

    def __str__(self):
        return f"{self.broker_type}:{self.account_id}"


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
