"""The embedded PostgreSQL: starts on first use, is shared by processes, stops with the last, keeps its data."""

import subprocess
import sys
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
def data_dir(tmp_path_factory):
    # Short path: Unix socket paths are limited to ~107 bytes.
    return tmp_path_factory.mktemp("pg") / "data"


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
