"""A user's strategy: a node graph (format in docs/strategies.md) with a version bumped on every edit."""

import uuid

from django.conf import settings
from django.db import models


class Strategy(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="strategies")
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    graph = models.JSONField(help_text="The node graph, format version 1 (docs/strategies.md).")
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "strategies"
        ordering = ["owner", "name"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="strategy_name_unique_per_owner"),
            models.CheckConstraint(condition=models.Q(version__gte=1), name="strategy_version_positive"),
        ]

    def __str__(self):
        return f"{self.name} (v{self.version})"


class StrategyVersion(models.Model):
    """One saved state of a strategy: ``strategies.actions`` writes one for every create and edit, so the
    graph a session ran (``SimulationSession.strategy_version``) can be read back as it was."""

    strategy = models.ForeignKey(Strategy, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    graph = models.JSONField(help_text="The node graph as saved at this version.")
    created_at = models.DateTimeField(help_text="When this version was saved.")

    class Meta:
        ordering = ["strategy", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["strategy", "version"], name="strategy_version_unique"),
        ]

    def __str__(self):
        return f"{self.name} v{self.version}"
