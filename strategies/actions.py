"""State changes of strategies. Views and the admin call these; nothing else writes a Strategy."""

from django.db import transaction
from django.db.models import F

from strategies.models import Strategy

EDITABLE_FIELDS = ("name", "description", "graph")


@transaction.atomic
def update_strategy(strategy: Strategy, **changes) -> Strategy:
    """Apply ``changes`` and bump the version in the same UPDATE, so concurrent edits each get their own."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"not editable: {', '.join(sorted(unknown))}")
    Strategy.objects.filter(pk=strategy.pk).update(version=F("version") + 1, **changes)
    strategy.refresh_from_db()
    return strategy
