"""State changes of strategies. Views and the admin call these; nothing else writes a Strategy or a
StrategyVersion: every create and edit records the state it saved as a version, in the same transaction.

Graphs are validated before they get here (the API's serializer, the admin's form); these functions
enforce only what the database enforces, turning a duplicate name into a ValidationError on ``name``.
"""

from contextlib import contextmanager

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from sessions_app.models import SimulationSession
from strategies.models import Strategy, StrategyVersion

EDITABLE_FIELDS = ("name", "description", "graph")
_NAME_CONSTRAINT = "strategy_name_unique_per_owner"


class StrategyInUse(Exception):
    """The strategy is used by a session that has not ended: ``session``, which the message names."""

    def __init__(self, session):
        super().__init__(in_use_message(session))
        self.session = session


def in_use_message(session) -> str:
    """Say which active session stops a strategy from being deleted (id and the trading date it replays)."""
    return (f"This strategy is used by session {session.id} (trading date {session.start_date:%d %b %Y}, "
            f"{session.status}); stop it before deleting the strategy.")


def _record_version(strategy: Strategy) -> StrategyVersion:
    return StrategyVersion.objects.create(
        strategy=strategy, version=strategy.version, name=strategy.name, description=strategy.description,
        graph=strategy.graph, created_at=strategy.updated_at,
    )


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
def create_strategy(owner, *, name: str, graph: dict, description: str = "", version: int = 1) -> Strategy:
    """Create ``owner``'s strategy at ``version`` (1, or the version an imported session ran:
    sessions_app.imports), recorded as its first StrategyVersion."""
    with _name_must_be_free(name):
        strategy = Strategy.objects.create(owner=owner, name=name, description=description, graph=graph,
                                           version=version)
    _record_version(strategy)
    return strategy


def copy_name(name: str, taken: set[str], label: str = "copy") -> str:
    """The first of ``"<name> (copy)"``, ``"<name> (copy 2)"``, ... not in ``taken``, cut to fit 120 characters
    (with another ``label``, ``"<name> (<label>)"`` and so on)."""
    n = 1
    while True:
        suffix = f" ({label})" if n == 1 else f" ({label} {n})"
        candidate = name[: 120 - len(suffix)] + suffix
        if candidate not in taken:
            return candidate
        n += 1


def duplicate_strategy(strategy: Strategy) -> Strategy:
    """Create a copy of ``strategy`` (its current name, description and graph) for the same owner, named
    ``"<name> (copy)"`` (or ``(copy 2)``, ... when taken), at version 1."""
    for _ in range(5):  # another copy made at the same moment may take the name first
        taken = set(Strategy.objects.filter(owner_id=strategy.owner_id).values_list("name", flat=True))
        name = copy_name(strategy.name, taken)
        try:
            return create_strategy(strategy.owner, name=name, description=strategy.description, graph=strategy.graph)
        except ValidationError:
            continue
    raise ValidationError({"name": [f"Could not find a free name for a copy of {strategy.name!r}."]})


class StrategyChanged(Exception):
    """The strategy was saved again (now at ``version``) after the edit being saved was started from an
    earlier version; the edit is not applied."""

    def __init__(self, version: int, expected: int):
        super().__init__(f"This strategy was saved again (it is now at version {version}) after you opened "
                         f"version {expected}; your changes are not saved.")
        self.version = version
        self.expected = expected


@transaction.atomic
def update_strategy(strategy: Strategy, *, base_version: int | None = None, **changes) -> Strategy:
    """Apply ``changes`` and bump the version in the same UPDATE, so concurrent edits each get their own,
    and record the new state as a StrategyVersion (the earlier ones stay as they were).

    ``base_version`` is the version the edit started from (a page opened in two tabs): when given and the
    strategy has moved on, nothing is written and ``StrategyChanged`` says its version now. The check is in
    the UPDATE's WHERE, so of two saves from the same version exactly one wins.

    ``updated_at`` is set here because a queryset update() skips ``auto_now``. The UPDATE holds the row
    lock until commit, so the state read back and recorded is this edit's, not a concurrent one's.
    """
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"not editable: {', '.join(sorted(unknown))}")
    rows = Strategy.objects.filter(pk=strategy.pk)
    if base_version is not None:
        rows = rows.filter(version=base_version)
    with _name_must_be_free(changes.get("name")):
        updated = rows.update(version=F("version") + 1, updated_at=timezone.now(), **changes)
    if not updated and base_version is not None:
        strategy.refresh_from_db()
        raise StrategyChanged(strategy.version, base_version)
    strategy.refresh_from_db()
    _record_version(strategy)
    return strategy


@transaction.atomic
def delete_strategy(strategy: Strategy) -> None:
    """Delete ``strategy`` and its versions. Sessions that ran it keep their own copy of the graph, name
    and version. Raise ``StrategyInUse`` naming the session if one that has not ended uses it.

    The row lock comes first, as a start takes it before creating its session: a start in progress
    either finishes first (its session is then found here and refuses the delete) or sees the strategy gone.
    """
    Strategy.objects.select_for_update().filter(pk=strategy.pk).first()
    running = SimulationSession.objects.active().filter(strategy=strategy).order_by("created_at").first()
    if running is not None:
        raise StrategyInUse(running)
    strategy.delete()
