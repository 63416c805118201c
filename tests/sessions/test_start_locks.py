"""Starting sessions while the same user's other sessions write: PostgreSQL never finds a deadlock.

Every write of a running session updates its row twice in one transaction (the lease renewal, then the
progress or status), so at its commit PostgreSQL checks the row's foreign keys again and takes FOR KEY
SHARE on the broker connection, then on the user, then on the strategy (the constraints' order). A start
that locked the user row FOR UPDATE and then asked for the broker connection FOR UPDATE could meet such
a commit halfway, each waiting for the other (seen in CI, once in a while). PostgreSQL breaks the cycle
by aborting the side whose check finds it first: a start answered 500, or a session's write was tried
again as if the database had dropped it, silently. Both are counted in ``pg_stat_database.deadlocks``,
which is what this test reads (docs/runner.md, "Row locks").

To meet every time what CI met once in a while, each start is held between its user lock and its
broker connection lock: the test edits the strategy meanwhile (an UPDATE left uncommitted holds the row
FOR NO KEY UPDATE, as a save of the strategy does), which the start's strategy lock waits for. The edit
is given up once every one of alice's running sessions has committed a write while the start waited
(its user row locked), or once one of those writes waits behind the start.
"""

from __future__ import annotations

import logging

import psycopg
import pytest
from django.db import connection, connections

from live_trading.runner.registry import registry
from sessions_app.models import SimulationSession
from tests.conftest import client_for
from tests.sessions.conftest import Background, setup_for, start_body
from tests.stream.conftest import database_url_of_tests
from tests.waiting import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

WRITERS = 3  # alice's sessions running while she starts others
STARTS = 6
SPEED = 100  # 100 ticks a second: every session writes a batch about every 250 ms


def conninfo() -> str:
    """The test database, for connections of the test's own outside Django's pool: the system's
    PostgreSQL or the embedded one (its socket directory), as the stream tests' servers reach it."""
    return database_url_of_tests()


def deadlocks_counted() -> int:
    """How many deadlocks PostgreSQL has broken in the test database, every backend's included.

    A backend adds its count to the shared statistics when it has been idle a while or when it ends, so
    every connection of this process is closed first (the pool with them, its backends then end) and the
    count is read once no other client backend of this database is left."""
    connections.close_all()
    connection.close_pool()
    with psycopg.connect(conninfo(), autocommit=True) as db:
        def alone() -> bool:
            return db.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                              "AND backend_type = 'client backend' AND pid <> pg_backend_pid()").fetchone()[0] == 0

        wait_for(alone, timeout=30, message="the pool's backends to end")
        db.execute("SELECT pg_stat_clear_snapshot()")
        return db.execute("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()").fetchone()[0]


def waits_for(db, pid: int) -> bool:
    """Whether a backend waits for a lock that backend ``pid`` holds."""
    return db.execute("SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid)))",
                      [pid]).fetchone()[0]


def waits_behind(db, pid: int) -> bool:
    """Whether a backend waits for a backend that waits for ``pid`` (here: a session's write waiting for
    the start, which waits for the strategy's edit)."""
    return db.execute(
        "SELECT EXISTS (SELECT 1 FROM pg_stat_activity a, unnest(pg_blocking_pids(a.pid)) AS b(pid) "
        "WHERE a.datname = current_database() AND %s = ANY(pg_blocking_pids(b.pid)))", [pid]).fetchone()[0]


def wrote_since(session_ids: list[str], since) -> bool:
    """Whether every one of the sessions committed a write that renewed its lease after ``since``
    (database time: the renewal sets ``heartbeat_at`` to its statement's time)."""
    return SimulationSession.objects.filter(pk__in=session_ids, heartbeat_at__gt=since).count() == len(session_ids)


def written(session_id: str) -> int:
    return SimulationSession.objects.filter(pk=session_id).values_list("ticks_processed", flat=True).get()


def test_starts_never_deadlock_with_the_writes_of_the_users_running_sessions(alice, bob, charlie, caplog):
    caplog.set_level(logging.WARNING)
    strategy, broker = setup_for(alice)
    as_alice, as_charlie = client_for(alice), client_for(charlie)
    before = deadlocks_counted()  # before any session runs: nothing holds a connection of the pool
    bobs = client_for(bob).post("/api/v2/live/start", start_body(*setup_for(bob), speed_multiplier=SPEED),
                                format="json")
    assert bobs.status_code == 201, bobs.content  # another user's session writes meanwhile too

    writers = []
    for _ in range(WRITERS):
        response = as_alice.post("/api/v2/live/start", start_body(strategy, broker, speed_multiplier=SPEED),
                                 format="json")
        assert response.status_code == 201, response.content
        writers.append(response.json()["session_id"])
    wait_for(lambda: all(written(sid) > 0 for sid in writers), message="alice's sessions to write")

    started = []
    with psycopg.connect(conninfo()) as edit:
        for _ in range(STARTS):
            edit.execute("UPDATE strategies_strategy SET description = 'being edited' WHERE id = %s", [strategy.pk])
            edit_pid = edit.execute("SELECT pg_backend_pid()").fetchone()[0]
            starter = Background(lambda: client_for(alice).post(
                "/api/v2/live/start", start_body(strategy, broker, speed_multiplier=SPEED), format="json"))
            starter.start()
            with psycopg.connect(conninfo(), autocommit=True) as watch:
                wait_for(lambda: waits_for(watch, edit_pid), timeout=60,  # noqa: B023
                         message="the start to wait for the strategy's edit, alice's row locked")
                since = watch.execute("SELECT statement_timestamp()").fetchone()[0]
                wait_for(lambda: wrote_since(writers, since) or waits_behind(watch, edit_pid),  # noqa: B023
                         timeout=60, message="alice's sessions to write while the start waits, or to wait for it")
            edit.rollback()
            response = starter.outcome()
            assert response.status_code == 201, response.content
            started.append(session_id := response.json()["session_id"])
            stopped = as_alice.post(f"/api/v2/live/stop/{session_id}")
            assert stopped.status_code == 200, stopped.content
            assert stopped.json()["status"] == "stopped"

    everything = as_charlie.post(f"/api/v2/live/stop/user/{alice.user_id}")
    assert everything.status_code == 200, everything.content
    assert sorted(everything.json()["stopped_sessions"]) == sorted(writers)
    assert SimulationSession.objects.get(owner=bob).status == "running"  # alice's stop-all is hers alone
    assert client_for(bob).post(f"/api/v2/live/stop/user/{bob.user_id}").status_code == 200
    registry.shutdown("the test counts deadlocks", timeout=20)  # every session thread ended, its writes done
    after = deadlocks_counted()

    deadlocks = [r.getMessage() for r in caplog.records if "deadlock" in r.getMessage()]
    assert after - before == 0, (f"PostgreSQL broke {after - before} deadlock(s); the log said, of "
                                 f"{len(deadlocks)} record(s): {deadlocks[:3]}")
    assert deadlocks == []
    rows = {s.id: s for s in SimulationSession.objects.filter(owner=alice)}
    assert {sid: rows[sid].status_reason for sid in started} == dict.fromkeys(started, "stopped by alice")
    assert {sid: (rows[sid].status_reason, rows[sid].stop_requested_by_id) for sid in writers} == dict.fromkeys(
        writers, ("stopped by charlie", charlie.pk))
