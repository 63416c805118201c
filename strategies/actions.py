"""State changes of strategies. Views and the admin call these; nothing else writes a Strategy.

Graphs are validated before they get here (the API's serializer, the admin's form); these functions
enforce only what the database enforces, turning a duplicate name into a ValidationError on ``name``.
"""

from contextlib import contextmanager

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from strategies.models import Strategy

EDITABLE_FIELDS = ("name", "description", "graph")
_NAME_CONSTRAINT = "strategy_name_unique_per_owner"


@contextmanager
def _name_must_be_free(name):
    """Turn the unique-name constraint's IntegrityError into a ValidationError naming ``name``."""
    try:
        yield
    except IntegrityError as e:
        if getattr(getattr(e.__cause__, "diag", None), "constraint_name", None) == _NAME_CONSTRAINT:
            raise ValidationError({"name": [f"You already have a strategy named {name!r}."]}) from e
        raise


@transaction.atomic
def create_strategy(owner, *, name: str, graph: dict, description: str = "") -> Strategy:
    """Create ``owner``'s strategy at version 1."""
    with _name_must_be_free(name):
        return Strategy.objects.create(owner=owner, name=name, description=description, graph=graph)


@transaction.atomic
def update_strategy(strategy: Strategy, **changes) -> Strategy:
    """Apply ``changes`` and bump the version in the same UPDATE, so concurrent edits each get their own.

    ``updated_at`` is set here because a queryset update() skips ``auto_now``.
    """
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"not editable: {', '.join(sorted(unknown))}")
    with _name_must_be_free(changes.get("name")):
        Strategy.objects.filter(pk=strategy.pk).update(version=F("version") + 1, updated_at=timezone.now(), **changes)
    strategy.refresh_from_db()
    return strategy


@transaction.atomic
def delete_strategy(strategy: Strategy) -> None:
    """Delete ``strategy``. Sessions that ran it keep their own copy of the graph, name and version.

    The row lock comes first, as a start takes it before creating its session: a start in progress
    either finishes first (its session is then found here and unlinked) or sees the strategy gone.
    """
    Strategy.objects.select_for_update().filter(pk=strategy.pk).first()
    strategy.delete()
