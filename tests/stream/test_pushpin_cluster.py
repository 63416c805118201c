"""`make cluster`: Pushpin in front of two app processes starts, serves the pages, and Ctrl-C stops all of it;
killed outright, it leaves none of its processes running."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx
import psutil
import pytest
from django.conf import settings

from live_trading.stream import front
from tests.stream.conftest import ROOT, database_url_of_tests, free_port, redis_server_binary
from tests.waiting import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

if front.binary() is None or redis_server_binary() is None:
    pytest.skip("make cluster needs pushpin and redis-server (apt-get install pushpin redis-server)",
                allow_module_level=True)


def accepts(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
        return True
    return False


def answers(url: str) -> bool:
    with contextlib.suppress(httpx.HTTPError):
        return httpx.get(url, timeout=2).status_code == 200
    return False


def start_cluster(django_db_blocker):
    """``manage.py cluster --processes 2`` on the test database; return (its process, its log's path, the front's
    port). Its own process group, so a failure of the test can kill all of it."""
    with django_db_blocker.unblock():
        database_url = database_url_of_tests()
    port = free_port()
    var = tempfile.mkdtemp(prefix="cl-")
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": settings.SECRET_KEY, "VAR_DIR": var,
           "MARKET_DATA_DIR": str(settings.MARKET_DATA_DIR), "LOG_LEVEL": "WARNING", "DEBUG": "false"}
    env.pop("REDIS_URL", None)
    log_path = Path(var, "cluster.log")
    with log_path.open("wb") as log:
        command = subprocess.Popen([sys.executable, "manage.py", "cluster", "--processes", "2", "--no-demo", "--port",
                                    str(port)], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    return command, log_path, port


def app_ports_once_ready(log_path: Path, port: int) -> list[int]:
    wait_for(lambda: answers(f"http://127.0.0.1:{port}/healthz"), timeout=120, message="the front to answer")
    # The front may answer before the command's own output reaches its log file.
    wait_for(lambda: " (logs" in log_path.read_text().partition("processes on ")[2], timeout=30,
             message="the cluster to list its app processes")
    output = log_path.read_text()
    return [int(p.rsplit(":", 1)[1]) for p in output.split("processes on ", 1)[1].split(" (logs")[0].split(", ")]


def kill_all_of(command) -> None:
    if command.poll() is None:  # a failure: the cluster's app processes, Pushpin and Redis go too
        with contextlib.suppress(ProcessLookupError):
            os.killpg(command.pid, signal.SIGKILL)
        command.wait(10)


def test_make_cluster_serves_through_pushpin_and_ctrl_c_stops_everything(django_db_blocker):
    command, log_path, port = start_cluster(django_db_blocker)
    try:
        app_ports = app_ports_once_ready(log_path, port)

        page = httpx.get(f"http://127.0.0.1:{port}/", timeout=10)
        health = {httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10).status_code for _ in range(4)}
        assert len(app_ports) == 2 and all(accepts(p) for p in app_ports)
        assert page.status_code in (200, 302)
        assert health == {200}

        command.send_signal(signal.SIGINT)  # what Ctrl-C sends
        assert command.wait(90) == 0
        assert not accepts(port) and not any(accepts(p) for p in app_ports)
        assert "stopped: app processes, Pushpin, Redis" in log_path.read_text()
    finally:
        kill_all_of(command)


def alive(process: psutil.Process) -> bool:
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_make_cluster_killed_outright_leaves_none_of_its_processes_running(django_db_blocker):
    command, log_path, port = start_cluster(django_db_blocker)
    try:
        app_ports = app_ports_once_ready(log_path, port)
        children = psutil.Process(command.pid).children(recursive=True)
        names = " ".join(" ".join(c.cmdline()) for c in children)
        assert names.count("manage.py serve") == 2 and "redis-server" in names and "pushpin" in names, names

        os.kill(command.pid, signal.SIGKILL)  # no handler, no finally: nothing of the command runs
        command.wait(10)

        wait_for(lambda: not any(alive(c) for c in children), timeout=60,
                 message="every process the cluster started to end with it")
        assert not accepts(port) and not any(accepts(p) for p in app_ports)
    finally:
        kill_all_of(command)
