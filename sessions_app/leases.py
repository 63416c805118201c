"""Leases: which process owns a running session, for how long, and what it has been asked to do.

The owner of a running (or paused) session holds a lease in the session's row: ``lease_token`` (its
own random token) and ``lease_expires_at`` (database time). Every batch write of the owner starts
with ``renew``: a conditional ``UPDATE ... WHERE id = .. AND lease_token = mine`` that pushes the
expiry ``SIM_LEASE_SECONDS`` ahead and returns the control requests written since (stop, pause,
resume, speed). When it matches no row, the lease was taken: the write is abandoned (``LeaseLost``)
and the owner's thread stops, so a process that lost a session never writes a row of it again.

A lease unrenewed past its expiry plus ``SIM_LEASE_GRACE_SECONDS`` (or at once, when its owner was a
process of this host that no longer exists) is taken by ``take_expired``: one conditional
``UPDATE`` moves the session to ``interrupted`` and clears the token, fencing the old owner out; the
caller then resumes it as any interrupted session. Times are the database's, so the processes'
clocks do not matter.
"""

from __future__ import annotations

import os
import secrets
import socket
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Now
from django.utils import timezone

from sessions_app import lifecycle
from sessions_app.models import SimulationSession

HOST = socket.gethostname()
RUNNER_NAME = f"{HOST}:{os.getpid()}"
OWNED = (lifecycle.RUNNING, lifecycle.PAUSED)  # the statuses a live owner holds a session in


class LeaseLost(Exception):
    """This process's lease on the session was taken (it was adopted elsewhere, or stopped without it)."""


@dataclass(frozen=True)
class Requests:
    """What control requests ask of a session, as its row says at a renewal.

    ``stop``: a stop was requested; ``status``: ``"paused"``, ``"running"`` or ``""`` (nothing asked);
    ``speed``: the speed multiplier asked, or None; ``reason``: who asked, for the status it records."""

    stop: bool = False
    status: str = ""
    speed: float | None = None
    reason: str = ""


def new_token() -> str:
    """A fresh lease token (32 hex characters)."""
    return secrets.token_hex(16)


def lease_fields(token: str) -> dict:
    """The columns a claim writes: this process as the runner, holding ``token`` for a lease from now."""
    return {"runner": RUNNER_NAME, "lease_token": token, "heartbeat_at": Now(), "lease_expires_at": _from_now()}


def renew(session_id: str, token: str) -> Requests:
    """Renew the lease (in the caller's transaction, as its first statement) and read the requests.

    Raises ``LeaseLost`` when the session's lease is not ``token`` any more; the caller's transaction
    must then write nothing (raising out of ``transaction.atomic`` rolls it back)."""
    table = SimulationSession._meta.db_table
    with connection.cursor() as cursor:
        # A transaction of ours left open by a paused (SIGSTOP) process must not hold the session's row
        # locked past the lease: an adopter would wait on it. Postgres ends such a session's connection.
        cursor.execute("SELECT set_config('idle_in_transaction_session_timeout', %s, true)",
                       [str(settings.SIM_LEASE_SECONDS * 1000)])
        cursor.execute(
            f"UPDATE {table} SET lease_expires_at = statement_timestamp() + make_interval(secs => %s), "
            f"heartbeat_at = statement_timestamp() WHERE id = %s AND lease_token = %s "
            f"RETURNING stop_requested_at IS NOT NULL, requested_status, requested_speed, requested_reason",
            [settings.SIM_LEASE_SECONDS, session_id, token],
        )
        row = cursor.fetchone()
    if row is None:
        raise LeaseLost(f"session {session_id}: this process's lease was taken")
    return Requests(*row)


def request(session_id: str, *, status: str = "", speed: float | None = None, reason: str = "") -> bool:
    """Write a pause / resume (``status``) or speed request where the owner reads it at its next renewal.
    False when the session is not held by any process (not running or paused)."""
    fields = {"requested_reason": reason[:200]}
    if status:
        fields["requested_status"] = status
    if speed is not None:
        fields["requested_speed"] = speed
    return SimulationSession.objects.filter(pk=session_id, status__in=OWNED).update(**fields) == 1


def held(session_id: str) -> bool:
    """Whether a live process holds the session: it is running or paused and its lease has not expired."""
    return SimulationSession.objects.filter(pk=session_id, status__in=OWNED, lease_expires_at__gt=Now()).exists()


def owner_gone(runner: str) -> bool:
    """Whether ``runner`` (host:pid) names a process of this host that no longer exists (it cannot renew)."""
    host, _, pid = runner.rpartition(":")
    if host != HOST or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def expired(grace: bool = True):
    """The sessions whose lease expired (past the grace period with ``grace``), or that have none."""
    cutoff = Now() - timedelta(seconds=settings.SIM_LEASE_GRACE_SECONDS if grace else 0)
    return SimulationSession.objects.filter(status__in=OWNED).filter(
        Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=cutoff))


def adoptable() -> list[tuple[str, str, str]]:
    """(id, token, runner) of the sessions another process may take now: expired past the grace
    period, or owned by a process of this host that is gone. Oldest first."""
    rows = SimulationSession.objects.filter(status__in=OWNED).order_by("created_at").values_list(
        "id", "lease_token", "runner", "lease_expires_at")
    stale = set(expired().values_list("id", flat=True))
    return [(sid, token, runner) for sid, token, runner, _ in rows if sid in stale or owner_gone(runner)]


def abandoned_starts() -> list[tuple[str, str]]:
    """(id, runner) of the sessions left ``created`` by a process that ended between writing the row and
    its thread's first write (``created -> running``): the claim written with the row expired past the
    grace period, or its process was one of this host that no longer exists, or the row has no claim
    (written before rows carried one) and is older than a lease and its grace. Oldest first."""
    grace = timedelta(seconds=settings.SIM_LEASE_GRACE_SECONDS)
    old = Now() - timedelta(seconds=settings.SIM_LEASE_SECONDS) - grace
    created = SimulationSession.objects.filter(status=lifecycle.CREATED)
    stale = set(created.filter(Q(lease_expires_at__lt=Now() - grace)
                               | Q(lease_expires_at__isnull=True, created_at__lt=old)).values_list("id", flat=True))
    return [(sid, runner) for sid, runner in created.order_by("created_at").values_list("id", "runner")
            if sid in stale or owner_gone(runner)]


def take_expired(session_id: str, token: str, runner: str, reason: str) -> bool:
    """Take the lease of a session ``adoptable`` found (still held with ``token``, still expired, or
    its owner still gone): move it to ``interrupted`` and clear the token, in one conditional UPDATE.
    From then the old owner's writes are refused. False if anything changed meanwhile."""
    still = Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=Now() - timedelta(
        seconds=settings.SIM_LEASE_GRACE_SECONDS))
    if owner_gone(runner):
        still = Q()  # a process that does not exist renews nothing
    now = timezone.now()
    return SimulationSession.objects.filter(still, pk=session_id, status__in=OWNED, lease_token=token).update(
        status=lifecycle.INTERRUPTED, status_reason=reason, status_changed_at=now, ended_at=now, lease_token="",
        requested_status=_paused_or_blank()) == 1


def _paused_or_blank():
    # A paused session is adopted paused: its new owner reads this request at its first renewal.
    return Case(When(status=lifecycle.PAUSED, then=Value(lifecycle.PAUSED)), default=F("requested_status"))


def _from_now():
    return Now() + timedelta(seconds=settings.SIM_LEASE_SECONDS)
