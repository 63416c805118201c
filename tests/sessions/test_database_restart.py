"""The database stopped and started again under a running session, in the middle of one of its batch writes;
and stopped for longer than the writer tries.

A private PostgreSQL (pgserver, as ``config/embedded_postgres`` runs it, in a temporary folder) so stopping it
disturbs no other test run. A real process (``SESSION_PROCESS``) migrates it and runs one session through
``actions.start_session``, its thread and writer; the test holds the session's row locked until a batch write
waits on it, stops the server (``pg_ctl stop -m fast``: every connection is cut, the waiting write included),
lets the writer find the database gone for a while, then starts it again. The session must end ``completed``
with exactly the rows of the engine run alone on the same strategy, day, seed and capital (``direct_run``):
the cut write retried with backoff, nothing lost, nothing written twice.

Down for longer than the writer's tries (``SIM_WRITE_ATTEMPTS`` 3 here), the writer gives up: once the database
is back the session is ``interrupted`` with the reason, the batch that could not be written is stored with that
status, no event was published that was not committed, and resuming it ends it ``completed`` with exactly the rows
of the engine run alone.

Loopback only (a Unix socket); every wait has a deadline.
"""

from __future__ import annotations

import contextlib
import os
import queue
import subprocess
import sys
import tempfile
import textwrap
import threading
import warnings
from pathlib import Path

import psycopg
import pytest
from django.conf import settings

from config.embedded_postgres import socket_dir
from tests.waiting import wait_for

pytestmark = [pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
RETRY_LOG = "the database dropped a batch write"
# Each try of a write after the first borrows a connection from the pool, which waits up to this long for the
# database that is gone before the try fails (DB_POOL_TIMEOUT; 10 s by default, which only makes the wait longer).
POOL_TIMEOUT = 2

# The start of a process of its own on the private database: migrate, start one session at 3,000x (the day in
# 7.5 s) and print its id; every stored event the process publishes is kept in ``published``.
STARTS_A_SESSION = textwrap.dedent(
    """
    import logging, sys, time
    import django
    django.setup()
    logging.basicConfig(level=logging.WARNING, stream=sys.stdout, format="%(name)s %(message)s")
    from django.core.management import call_command
    from django.db import connection
    call_command("migrate", verbosity=0)
    from django.contrib.auth import get_user_model
    from live_trading import actions
    from live_trading.stream.hub import hub
    from sessions_app.models import NodeEvent, SimulationSession
    from tests.sessions.conftest import DAY, setup_for
    from tests.sessions.test_session_runs import assert_persisted_equals, direct_run

    published = []
    hub.observe(lambda envelope: published.append(envelope) if envelope.n is not None else None)

    def status_after(session_id, statuses, seconds):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                status = SimulationSession.objects.get(pk=session_id).status
            except Exception:  # the database is down for a while: that is the test
                status = None
                connection.close()
            if status not in (None, *statuses):
                return SimulationSession.objects.get(pk=session_id)
            time.sleep(0.1)
        sys.exit(f"still {status} after {seconds}s")

    def same_as_the_engine_alone(session):
        seqs = list(NodeEvent.objects.filter(session=session).order_by("seq").values_list("seq", flat=True))
        assert seqs == list(range(1, len(seqs) + 1)), seqs
        engine, sink = direct_run(session)
        assert_persisted_equals(session, sink)
        assert session.ticks_processed == 22500
        print("same as the engine alone", len(seqs), flush=True)

    alice = get_user_model().objects.create_user("alice", password="alice-password-1")
    strategy, broker = setup_for(alice)
    session = actions.start_session(alice, actions.StartRequest(
        strategy=strategy, broker_connection=broker, speed_multiplier=3000.0, mode="live",
        start_date=DAY, end_date=DAY))
    print("session", session.id, flush=True)
    """
)

# Then: wait for its end, compare every row with the engine run alone and print the verdict.
SESSION_PROCESS = STARTS_A_SESSION + textwrap.dedent(
    """
    session = status_after(session.id, ("created", "running"), 120)
    print("status", session.status, session.status_reason, flush=True)
    same_as_the_engine_alone(session)
    """
)

# Or, with the writer giving up (the test keeps the database down past its tries): wait for the session to end,
# check that every event published had its rows committed, then resume it and compare with the engine alone.
GIVING_UP_PROCESS = STARTS_A_SESSION + textwrap.dedent(
    """
    session = status_after(session.id, ("created", "running"), 180)
    print("status", session.status, "|", session.status_reason, flush=True)
    deadline = time.monotonic() + 60  # the end's events go out after its commit
    while not any(e.kind == "session_complete" for e in published) and time.monotonic() < deadline:
        time.sleep(0.05)
    numbers = [e.n for e in published]
    assert numbers == list(range(1, len(numbers) + 1)), numbers
    assert numbers[-1] == int(session.last_event_id), (numbers[-1], session.last_event_id)
    executions = {x for e in published if e.kind == "node_events" for x in e.data()["diagnostics"]["events_history"]}
    stored = set(NodeEvent.objects.filter(session=session).values_list("execution_id", flat=True))
    assert executions and executions <= stored, sorted(executions - stored)[:5]
    print("published only what was committed", len(numbers), session.ticks_processed, flush=True)

    actions.resume_interrupted(session, "resumed by the test")
    session = status_after(session.id, ("interrupted", "running"), 120)
    print("resumed to", session.status, session.status_reason, flush=True)
    same_as_the_engine_alone(session)
    """
)


class PrivatePostgres:
    """A pgserver PostgreSQL of its own in ``data_dir``, stopped and started at will."""

    def __init__(self, data_dir: Path):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs, when XDG_RUNTIME_DIR is unset
            import pgserver

        self.data_dir = data_dir
        self.server = pgserver.get_server(data_dir, cleanup_mode="stop")
        self.host = socket_dir(self.server.get_uri())
        self.url = f"postgresql://postgres@/postgres?host={self.host}"

    def connect(self, **kwargs):
        return psycopg.connect(host=self.host, user="postgres", dbname="postgres", **kwargs)

    def stop(self) -> None:
        """Stop it the way a restart does: ``-m fast`` rolls back every transaction and cuts every connection."""
        import pgserver

        pgserver.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.data_dir, user=self.server.system_user, timeout=30)

    def start(self) -> None:
        with self.server._lock:
            self.server.ensure_postgres_running()

    def cleanup(self) -> None:
        self.server.cleanup()


@pytest.fixture
def private_postgres():
    database = PrivatePostgres(Path(tempfile.mkdtemp(prefix="pgr-")) / "data")  # short: it holds a socket
    yield database
    database.cleanup()


class Lines:
    """A process's output, a line at a time, on a thread (so reading it has a deadline)."""

    def __init__(self, proc):
        self.all: list[str] = []
        self._queue: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, args=(proc.stdout,), daemon=True).start()

    def _read(self, stream):
        for line in stream:
            self.all.append(line)
            self._queue.put(line)

    def until(self, prefix: str, timeout: float) -> str:
        def found():
            while not self._queue.empty():
                line = self._queue.get()
                if line.startswith(prefix):
                    return line
            return None

        return wait_for(found, timeout=timeout, message=f"a line starting {prefix!r}; got {''.join(self.all)[-3000:]}")

    def count(self, text: str) -> int:
        return sum(text in line for line in self.all)

    def tail(self) -> str:
        """The last lines, without the pool's own complaints (one or two a second while the database is down)."""
        return "".join(line for line in self.all if "psycopg.pool" not in line and not line.startswith("\t"))[-3000:]


def waiting_writer(database) -> int | None:
    with database.connect(autocommit=True) as conn:
        row = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                           "AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'").fetchone()
    return row[0] if row else None


def trades_of(database, session_id: str) -> int:
    with database.connect(autocommit=True) as conn:
        return conn.execute("SELECT count(*) FROM sessions_app_trade WHERE session_id = %s", [session_id]).fetchone()[0]


@contextlib.contextmanager
def session_process(database, script: str, **env):
    """``script`` in a process of its own on ``database``: yield its output (``Lines``, stderr too); at the end
    it must have exited with 0, and it is killed if it still runs."""
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "DATABASE_URL": database.url,
                   "SECRET_KEY": settings.SECRET_KEY, "DEBUG": "false", "LOG_LEVEL": "WARNING",
                   "MARKET_DATA_DIR": str(settings.MARKET_DATA_DIR), "DB_POOL_TIMEOUT": str(POOL_TIMEOUT), **env}
    environment.pop("REDIS_URL", None)
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, env=environment, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output = Lines(proc)
    try:
        yield output
        assert proc.wait(30) == 0, output.tail()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def stop_during_a_batch_write(database, output: Lines) -> str:
    """Once the session wrote a trade, hold its row locked until a batch write waits on it, then stop the
    database: the write is cut in the middle. Return the session's id."""
    session_id = output.until("session ", timeout=90).split()[1]
    wait_for(lambda: trades_of(database, session_id) > 0, timeout=30, message="a trade written")
    # The session's row locked here: its next batch write waits on it, inside its transaction.
    lock = database.connect()
    lock.execute("SELECT 1 FROM sessions_app_simulationsession WHERE id = %s FOR UPDATE", [session_id])
    wait_for(lambda: waiting_writer(database), timeout=30, message="a batch write waiting on the row")
    database.stop()  # cuts the waiting write (and our lock) in the middle
    lock.close()
    return session_id


def test_a_database_restart_during_a_batch_write_is_retried_with_backoff_and_loses_nothing(private_postgres):
    with session_process(private_postgres, SESSION_PROCESS) as output:
        stop_during_a_batch_write(private_postgres, output)
        # Each try after the first borrows a connection from the pool, which waits up to its timeout
        # (POOL_TIMEOUT) for the database before it fails: three tries take a few seconds.
        wait_for(lambda: output.count(RETRY_LOG) >= 3, timeout=90,
                 message=f"the writer to try again, and again, while the database is down; got {output.tail()}")
        private_postgres.start()
        verdict = output.until("same as the engine alone", timeout=90)

    assert "status completed" in "".join(output.all), output.tail()
    assert int(verdict.split()[-1]) > 0
    waits = [line.rsplit("trying again in ", 1)[1].strip() for line in output.all if RETRY_LOG in line]
    assert waits[:3] == ["0.1s", "0.2s", "0.4s"], "a wait twice as long after each failed try"


def test_a_database_down_past_the_writers_tries_interrupts_the_session_which_resumes_losing_nothing(private_postgres):
    with session_process(private_postgres, GIVING_UP_PROCESS, SIM_WRITE_ATTEMPTS="3") as output:
        session_id = stop_during_a_batch_write(private_postgres, output)
        # Three tries: the cut one, then two that each wait the pool's timeout (POOL_TIMEOUT) for the database.
        wait_for(lambda: output.count(f"session {session_id}: a batch write failed on all 3 tries"), timeout=90,
                 message=f"the writer to give up; got {output.tail()}")
        private_postgres.start()
        status = output.until("status ", timeout=90)
        checked = output.until("published only what was committed", timeout=90)
        verdict = output.until("same as the engine alone", timeout=150)

    assert status.split(" | ")[0] == "status interrupted", output.tail()
    assert "the database could not be reached (3 tries of a batch write)" in status and "resume" in status
    assert int(checked.split()[-2]) > 0, "events were published before the database went"
    assert "resumed to completed" in "".join(output.all)
    assert int(verdict.split()[-1]) > 0
