"""The figures of the operations page (``/admin/operations/``): what the server is doing right now.

Each function reads one thing and returns plain data for the template; none changes anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import connection
from django.utils import timezone

from live_trading import market_cache
from live_trading.engine.events import progress
from live_trading.runner.registry import registry
from live_trading.stream.gauge import open_streams
from sessions_app.models import EmergencyStop, SimulationSession
from sessions_app.persistence import RUNNER_NAME

LAST_STOPS = 5  # stop-all audit records the page lists


@dataclass
class ProcessSessions:
    """The active sessions one server process (``runner``, ``host:pid``) says it runs.

    ``heartbeat_age`` is the seconds since the process last wrote progress for any of them (None: it
    never did; a session not yet started has no runner and is listed under ``""``). ``this_process``
    says whether it is the process serving the page.
    """

    runner: str
    rows: list[dict] = field(default_factory=list)  # {"session": SimulationSession, "progress": progress dict}
    heartbeat_age: float | None = None
    this_process: bool = False


def sessions_by_process(now: datetime | None = None) -> list[ProcessSessions]:
    """Every active session (created, running, paused) grouped by the process running it, this process first."""
    now = now or timezone.now()
    groups: dict[str, ProcessSessions] = {}
    active = (SimulationSession.objects.active().select_related("owner").defer("graph", "final_state")
              .order_by("runner", "created_at"))
    for session in active:
        group = groups.setdefault(session.runner, ProcessSessions(session.runner,
                                                                  this_process=session.runner == RUNNER_NAME))
        group.rows.append({"session": session, "progress": progress(session.ticks_processed, session.total_ticks)})
        if session.heartbeat_at is not None:
            age = (now - session.heartbeat_at).total_seconds()
            group.heartbeat_age = age if group.heartbeat_age is None else min(group.heartbeat_age, age)
    return sorted(groups.values(), key=lambda g: (not g.this_process, g.runner))


@dataclass(frozen=True)
class ThisProcess:
    """The process serving the page: its name, open SSE streams and session threads."""

    runner: str
    open_streams: int
    session_threads: int


def this_process() -> ThisProcess:
    """This process's ``host:pid``, its open streams (``stream.gauge``) and its session threads (the registry)."""
    return ThisProcess(RUNNER_NAME, open_streams.value, len(registry))


def database_pool() -> dict | None:
    """psycopg_pool's ``get_stats()`` of this process's pool (``pool_min``, ``pool_max``, ``pool_size``,
    ``pool_available``, ``requests_waiting``, ...), plus ``in_use`` = size - available; None when the
    database has no pool (``DATABASES['default']['OPTIONS']['pool']`` in config/settings.py)."""
    pool = getattr(connection, "pool", None)
    if pool is None:
        return None
    stats = pool.get_stats()
    stats["in_use"] = stats.get("pool_size", 0) - stats.get("pool_available", 0)
    return stats


@dataclass(frozen=True)
class CacheFigures:
    """The market-data folder: days and bytes by source, the synthetic cap, and the days in use.

    There is no in-memory cache of days: each session loads the day it replays into its own thread.
    """

    folder: str
    imported_days: int
    imported_bytes: int
    synthetic_days: int
    synthetic_bytes: int
    cap_bytes: int
    days_in_use: int


def market_data_cache() -> CacheFigures:
    """What ``market_cache.stored_days()`` finds on disk, against ``SYNTHETIC_CACHE_MB``."""
    days = market_cache.stored_days()
    imported = [d for d in days if d.source == "imported"]
    synthetic = [d for d in days if d.source == "synthetic"]
    return CacheFigures(
        folder=str(settings.MARKET_DATA_DIR),
        imported_days=len(imported), imported_bytes=sum(d.size_bytes for d in imported),
        synthetic_days=len(synthetic), synthetic_bytes=sum(d.size_bytes for d in synthetic),
        cap_bytes=settings.SYNTHETIC_CACHE_MB * market_cache.MB,
        days_in_use=len(market_cache.days_in_use()),
    )


def last_stops(limit: int = LAST_STOPS) -> list[EmergencyStop]:
    """The latest stop-all audit records, newest first."""
    return list(EmergencyStop.objects.order_by("-stopped_at")[:limit])
