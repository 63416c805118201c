"""State changes of simulation sessions."""

from __future__ import annotations

from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from sessions_app import lifecycle
from sessions_app.models import SimulationSession


def move_status(session_id: str, to: str, *, reason: str = "", from_statuses=None, **fields) -> bool:
    """Move a session to status ``to`` if, and only if, it is in a status that allows it.

    The check and the write are one conditional UPDATE, so when two processes race to move the same
    session exactly one of them wins; the loser gets ``False`` and must not act on the move.
    ``fields`` are written in the same UPDATE (progress, summary figures, ``stop_requested_by``...).
    """
    allowed = lifecycle.ALLOWED_FROM.get(to)
    if allowed is None:
        raise lifecycle.IllegalTransition(f"no session can move to {to!r}")
    if from_statuses is not None:
        allowed = allowed & frozenset(from_statuses)
    now = timezone.now()
    values = {"status": to, "status_reason": reason, "status_changed_at": now, **fields}
    if to == lifecycle.RUNNING:
        values["started_at"] = Coalesce(F("started_at"), Value(now))  # the first start, not a resume
    elif to in lifecycle.FINAL:
        values["ended_at"] = now
    return SimulationSession.objects.filter(pk=session_id, status__in=allowed).update(**values) == 1
