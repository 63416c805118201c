"""The embedded PostgreSQL: starts on first use, is shared by processes, stops with the last, keeps its data."""

import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# A small client: joins the embedded server for DATA_DIR, runs SQL given on the command line, prints
# the postmaster pid and the result; with --hold it waits for a line on stdin before exiting.
CLIENT = textwrap.dedent(
    """
    import sys, psycopg
    from pathlib import Path
    from config.embedded_postgres import ensure_running
    data_dir = Path(sys.argv[1])
    host = ensure_running(data_dir)
    with psycopg.connect(host=host, user="postgres", dbname="postgres", autocommit=True) as conn:
        cursor = conn.execute(sys.argv[2])
        rows = cursor.fetchall() if cursor.description else []
    pid = (data_dir / "postmaster.pid").read_text().split()[0]
    print(pid, rows, flush=True)
    if "--hold" in sys.argv:
        sys.stdin.readline()
    """
)


def client(data_dir, sql, *, hold=False):
    args = [sys.executable, "-c", CLIENT, str(data_dir), sql] + (["--hold"] if hold else [])
    return subprocess.Popen(args, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


def run(data_dir, sql):
    proc = client(data_dir, sql)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0
    pid, rows = out.strip().split(" ", 1)
    return pid, rows


@pytest.fixture
def data_dir():
    # Short path: Unix socket paths are limited to ~107 bytes. Not under pytest's own temporary folder:
    # pgserver runs PostgreSQL as a user of its own (under root) and opens the path's folders to it, and
    # another xdist worker's pytest closes /tmp/pytest-of-<user> to its owner again, mid-initdb.
    folder = Path(tempfile.mkdtemp(prefix="pg-"))
    yield folder / "data"
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.slow
def test_it_starts_on_first_use_stops_with_the_process_and_keeps_the_data(data_dir):
    run(data_dir, "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('still here')")
    assert not (data_dir / "postmaster.pid").exists(), "the server should stop when its last process exits"

    _, rows = run(data_dir, "SELECT v FROM kept")

    assert rows == "[('still here',)]"


@pytest.mark.slow
def test_processes_share_one_server_and_the_last_one_stops_it(data_dir):
    holder = client(data_dir, "SELECT 1", hold=True)
    holder_pid = holder.stdout.readline().split()[0]

    joiner_pid, rows = run(data_dir, "SELECT 2")
    still_running = (data_dir / "postmaster.pid").exists()
    holder.communicate("done\n", timeout=60)

    assert joiner_pid == holder_pid
    assert rows == "[(2,)]"
    assert still_running, "the server must outlive a process that only joined it"
    assert not (data_dir / "postmaster.pid").exists()


@pytest.mark.slow
def test_processes_starting_together_on_a_new_folder_all_join_one_server(data_dir):
    # A fresh clone's test workers start at once on a folder nobody has initialised; on a machine
    # without pgserver's system user they raced to create it and every test failed (config/embedded_postgres).
    clients = [client(data_dir, f"SELECT {n}", hold=True) for n in range(3)]
    answers = [c.stdout.readline().split(" ", 1) for c in clients]
    for c in clients:
        c.communicate("done\n", timeout=60)

    assert [rows.strip() for _, rows in answers] == ["[(0,)]", "[(1,)]", "[(2,)]"]
    assert len({pid for pid, _ in answers}) == 1, f"one server for all: {answers}"
    assert all(c.returncode == 0 for c in clients)
    assert not (data_dir / "postmaster.pid").exists()


@pytest.mark.slow
def test_a_killed_process_does_not_keep_the_server_running_after_the_next_one_exits(data_dir):
    # Tried by hand: SIGKILL a `make run`, start it again, Ctrl-C: the database kept running.
    killed = client(data_dir, "SELECT 1", hold=True)
    killed.stdout.readline()
    killed.kill()
    killed.wait(timeout=30)
    assert (data_dir / "postmaster.pid").exists(), "nobody stopped the server: the killed process could not"

    _, rows = run(data_dir, "SELECT 3")  # joins the orphaned server, then exits normally

    assert rows == "[(3,)]"
    assert not (data_dir / "postmaster.pid").exists(), "the last live process out must stop the server"


@pytest.mark.slow
def test_a_server_killed_then_started_again_stops_the_database_on_ctrl_c(tmp_path_factory):
    # The issue's steps, with `make run`'s command on a database of its own: SIGKILL a server, start it
    # again, Ctrl-C it: the embedded PostgreSQL stops with it.
    import os
    import signal
    import socket

    import httpx

    from tests.waiting import wait_for

    var_dir = tmp_path_factory.mktemp("var")  # short: the server's Unix socket path must stay under ~107 bytes
    pgdata = var_dir / "pgdata"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(VAR_DIR=str(var_dir), DEBUG="false", LOG_LEVEL="WARNING", SIM_RESUME_ON_START="false")

    def serve():
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        log = (var_dir / f"serve-{port}.log").open("wb")
        proc = subprocess.Popen([sys.executable, "manage.py", "serve", "--no-demo", "--host", "127.0.0.1", "--port",
                                 str(port)], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)

        def answers():
            assert proc.poll() is None, (var_dir / f"serve-{port}.log").read_text()[-2000:]
            try:
                return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(answers, timeout=120, interval=0.2, message="the server to answer")
        return proc

    killed = serve()
    killed.kill()
    killed.wait(30)
    assert (pgdata / "postmaster.pid").exists(), "a killed server cannot stop the database"

    again = serve()
    again.send_signal(signal.SIGINT)
    again.wait(60)

    wait_for(lambda: not (pgdata / "postmaster.pid").exists(), timeout=30,
             message="the embedded database to stop with the last live server")
