"""The server's policy around the market-data store: which days are in use, the synthetic cache's cap,
and each user's allowance of generated days. The store (live_trading.marketdata.store) stays plain
Python; what needs settings or the database is here.

In use: a day is in use while an active session (created, running or paused, in any server process)
covers it, because a session loads its days one after another as it reaches them. Such days are
never evicted. A day being loaded by a start that has no row yet is protected by `load_day` itself,
which generates a synthetic day again if it vanishes before it is read.

The allowance is counted in Postgres (`SyntheticDayCharge`), not in Django's cache: the cache is
per process unless a shared backend is configured, while every deployment of this project has the
database, and the check runs under the same user-row lock that serialises a user's starts.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from live_trading.marketdata import store
from live_trading.marketdata.calendar import trading_days_of
from live_trading.models import SyntheticDayCharge
from sessions_app.models import SimulationSession

log = logging.getLogger(__name__)

MB = 1024 * 1024


class GenerationLimitReached(Exception):
    """A start would generate more synthetic days than the user may now.

    `retry_after` is the whole seconds until enough of the user's allowance is free again, or None
    when the request can never fit (it needs more days than the whole allowance).
    """

    def __init__(self, message: str, retry_after: int | None):
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Reservation:
    """The days a start was charged for (so a start that fails can give back what it never generated)."""

    user_id: int
    underlying: str
    days: tuple[date, ...]


def days_in_use() -> set[tuple[str, date]]:
    """(underlying, day) of every trading day some active session, in any process, covers."""
    used = set()
    ranges = SimulationSession.objects.active().values_list(
        "underlying", "start_date", "end_date")
    for underlying, start, end in ranges.distinct():
        used.update((underlying, day) for day in trading_days_of(underlying, start, end))
    return used


def stored_days() -> list[store.StoredDay]:
    """Every day in the server's market-data folder (`store.list_days`)."""
    return store.list_days(settings.MARKET_DATA_DIR)


def sessions_replaying(underlying: str, day: date) -> list[str]:
    """Ids of the active sessions whose range covers `day` of `underlying`, oldest first."""
    candidates = SimulationSession.objects.active().filter(
        underlying=underlying, start_date__lte=day, end_date__gte=day)
    return list(candidates.order_by("created_at").values_list("id", flat=True))


def enforce_cap() -> list[store.StoredDay]:
    """Evict least recently used synthetic days beyond ``SYNTHETIC_CACHE_MB``; return those removed."""
    cap = settings.SYNTHETIC_CACHE_MB * MB
    removed = store.evict_synthetic(cap, days_in_use(), settings.MARKET_DATA_DIR)
    for stored in removed:
        log.info("evicted synthetic market day %s %s (%d bytes, last used %s)", stored.underlying,
                 stored.day.isoformat(), stored.size_bytes, datetime.fromtimestamp(stored.last_used).isoformat())
    return removed


def reserve_generation(user, underlying: str, days: list[date]) -> Reservation:
    """Charge `user` for the days of a start that have no data yet, or refuse.

    A day the user was charged for within the window is not charged again. Raises
    `GenerationLimitReached` (nothing charged) when the user's charges in the last
    ``SYNTHETIC_DAYS_WINDOW_SECONDS`` plus the new ones would pass ``SYNTHETIC_DAYS_PER_USER``.
    """
    missing = store.missing_days(underlying, days, data_dir=settings.MARKET_DATA_DIR)
    if not missing:
        return Reservation(user.pk, underlying, ())
    limit = settings.SYNTHETIC_DAYS_PER_USER
    window = timedelta(seconds=settings.SYNTHETIC_DAYS_WINDOW_SECONDS)
    with transaction.atomic():
        # One start of a user at a time; FOR NO KEY UPDATE, as the start's own lock (docs/runner.md, "Row locks").
        get_user_model().objects.select_for_update(no_key=True).get(pk=user.pk)
        now = timezone.now()
        recent = SyntheticDayCharge.objects.filter(user=user, charged_at__gt=now - window)
        charged = set(recent.filter(underlying=underlying, day__in=missing).values_list("day", flat=True))
        new = [day for day in missing if day not in charged]
        if not new:
            return Reservation(user.pk, underlying, ())
        times = sorted(recent.values_list("charged_at", flat=True))
        what = (f"these days need {len(new)} synthetic market day(s) generated ({_days(new)}), and each user "
                f"may have at most {limit} generated per {_duration(window)}")
        if limit == 0:
            raise GenerationLimitReached(
                f"no market data for {_days(new)}, and this server generates no synthetic days for starts", None)
        if len(new) > limit:
            raise GenerationLimitReached(f"{what}; choose fewer days without data", None)
        excess = len(times) + len(new) - limit
        if excess > 0:
            retry_at = times[excess - 1] + window
            wait = max(1, math.ceil((retry_at - now).total_seconds()))
            raise GenerationLimitReached(
                f"{what} ({len(times)} used); retry after {timezone.localtime(retry_at).isoformat(timespec='seconds')} "
                f"(in {wait} s), or choose days that have data", wait)
        SyntheticDayCharge.objects.filter(user=user, charged_at__lte=now - window).delete()
        SyntheticDayCharge.objects.bulk_create(
            SyntheticDayCharge(user=user, underlying=underlying, day=day, charged_at=now) for day in new)
    return Reservation(user.pk, underlying, tuple(new))


def refund(reservation: Reservation) -> None:
    """Give back the charges of a failed start for the days it did not generate."""
    ungenerated = store.missing_days(reservation.underlying, reservation.days, data_dir=settings.MARKET_DATA_DIR)
    if ungenerated:
        SyntheticDayCharge.objects.filter(user_id=reservation.user_id, underlying=reservation.underlying,
                                          day__in=ungenerated).delete()


def _days(days: list[date]) -> str:
    shown = ", ".join(day.isoformat() for day in days[:3])
    return shown + (f" and {len(days) - 3} more" if len(days) > 3 else "")


def _duration(window: timedelta) -> str:
    seconds = int(window.total_seconds())
    for unit, size in (("hour", 3600), ("minute", 60)):
        if seconds % size == 0:
            count = seconds // size
            return unit if count == 1 else f"{count} {unit}s"
    return f"{seconds} s"
