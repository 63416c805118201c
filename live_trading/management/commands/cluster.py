"""`make cluster`: the several-process set-up on one machine, Pushpin in front of N app processes.

Started in this order, each waited for (with a deadline): the database (embedded under var/pgdata,
or DATABASE_URL) migrated with the demo data; Redis (REDIS_URL, or a private redis-server from the
system's package on a free port, nothing persisted); N ``manage.py serve`` processes on free
loopback ports, sharing Redis and publishing to Pushpin (GRIP_URL, GRIP_KEY), and all listening on one
more port they share (``--shared-port``: the kernel spreads the connections over them, see
``live_trading.stream.front``); Pushpin on --port, forwarding to that shared port, with its config
generated into var/cluster/. Ctrl-C (or SIGTERM) stops them in reverse: every app
process interrupts its sessions as ``make run`` does, and their last events still reach the clients
through Pushpin; then Pushpin, then Redis; the embedded database stops when this command exits.
Killed outright (SIGKILL), the command runs no code: each child gets SIGTERM from the kernel instead
(``config.children``), so none outlives it.
docs/deployment.md says how to run the same across machines.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import httpx
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection

from config.children import dies_with_this_process
from config.cli import RefusingCommand, port_number
from live_trading.demo import DEMO_USER, STAFF_USER, load_demo_data
from live_trading.management.commands.serve import Command as Serve
from live_trading.management.commands.serve import check_port_free
from live_trading.stream import front

READY_SECONDS = 60.0  # an app process migrates, sweeps and starts daphne in a few seconds
STOP_SECONDS = 30.0  # an app process interrupts its sessions and drains its streams in well under this


class Command(RefusingCommand):
    help = "Serve with Pushpin in front of N app processes, Redis and PostgreSQL on this machine (Ctrl-C stops all)."

    def add_arguments(self, parser):
        parser.add_argument("--processes", type=int, default=2, help="app processes behind Pushpin (default 2)")
        parser.add_argument("--host", default="127.0.0.1", help="where Pushpin listens for clients")
        parser.add_argument("--port", type=port_number, default=settings.SERVER_PORT)
        parser.add_argument("--no-demo", action="store_true", help="skip demo users, strategies and market days")

    def handle(self, *args, processes, host, port, no_demo, **options):
        if not 1 <= processes <= 32:
            raise CommandError("--processes: between 1 and 32")
        if front.binary() is None:
            raise CommandError("pushpin is not installed: apt-get install pushpin (docs/deployment.md)")
        check_port_free(host, port)
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("database migrated")
        if not no_demo:
            data = load_demo_data()
            Serve().prepare_demo_market_days()
        logging.getLogger("httpx").setLevel(logging.WARNING)  # its readiness probes, one line each
        work = settings.VAR_DIR / "cluster"
        work.mkdir(parents=True, exist_ok=True)
        started = _Started()
        stopping = []
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stopping.append(True))
        try:
            redis_url = settings.REDIS_URL or started.redis(work)
            key = secrets.token_urlsafe(32)
            publish_port = _free_port()
            env = {**os.environ, "DATABASE_URL": _database_url(), "REDIS_URL": redis_url,
                   "GRIP_URL": f"http://127.0.0.1:{publish_port}", "GRIP_KEY": key, "SECRET_KEY": settings.SECRET_KEY}
            shared_port = _free_port()
            backends = [started.app(work, i, env, shared_port) for i in range(processes)]
            for app in backends:
                app.wait_ready(stopping)
            pushpin = started.pushpin(_short(work / "pushpin"), host=host, port=port, publish_port=publish_port,
                                      backends=[f"127.0.0.1:{shared_port}"], sig_key=key)
            pushpin.wait_ready()
            self._banner(f"http://{host}:{port}", backends, shared_port, redis_url, work, None if no_demo else data)
            while not stopping:
                time.sleep(0.2)
                gone = [app for app in backends if app.proc.poll() is not None]
                if gone:
                    self.stderr.write(f"app process on port {gone[0].port} exited ({gone[0].proc.returncode}); "
                                      f"stopping the rest. Its log: {gone[0].log_path}")
                    break
        finally:
            for line in started.stop():
                self.stdout.write(line)
        self.stdout.write("stopped: app processes, Pushpin, Redis; the database stops with this command")

    def _banner(self, base, backends, shared_port, redis_url, work, data):
        self.stdout.write(self.style.SUCCESS(f"\nServing on {base} through Pushpin  (Ctrl-C stops all of it)"))
        self.stdout.write(f"  pages       {base}/")
        self.stdout.write(f"  API docs    {base}/api/docs/")
        self.stdout.write(f"  health      {base}/healthz")
        self.stdout.write(f"  app         {len(backends)} processes on "
                          f"{', '.join(f'127.0.0.1:{a.port}' for a in backends)} (logs in {work})")
        self.stdout.write(f"  spread      Pushpin forwards to 127.0.0.1:{shared_port}, which every app process "
                          "listens on: the kernel spreads the connections")
        self.stdout.write(f"  redis       {redis_url}")
        if data is not None:
            self.stdout.write(f"  demo user   {DEMO_USER['username']} / {DEMO_USER['password']}  ({data.demo_user.user_id})")
            self.stdout.write(f"  staff user  {STAFF_USER['username']} / {STAFF_USER['password']}")
        self.stdout.write("")
        self.stdout.flush()


class _App:
    """One ``manage.py serve`` process behind Pushpin."""

    def __init__(self, work: Path, index: int, env: dict, shared_port: int):
        self.port = _free_port()
        self.log_path = work / f"app-{index + 1}.log"
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                dies_with_this_process([sys.executable, "manage.py", "serve", "--no-demo", "--host", "127.0.0.1",
                                        "--port", str(self.port), "--shared-port", str(shared_port)]),
                cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self, stopping: list) -> None:
        deadline = time.monotonic() + READY_SECONDS
        while time.monotonic() < deadline and not stopping:
            if self.proc.poll() is not None:
                raise CommandError(f"the app process on port {self.port} exited: {self.log_path.read_text()[-2000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=2).status_code == 200:
                    return
            time.sleep(0.2)
        if not stopping:
            raise CommandError(f"the app process on port {self.port} did not answer within {READY_SECONDS:.0f}s "
                               f"(its log: {self.log_path})")

    def interruptions(self) -> list[str]:
        """What the process said about the sessions it interrupted (``serve``'s report)."""
        text = self.log_path.read_text(errors="replace")
        return [line for line in text.splitlines()
                if line.startswith(("interrupted ", "could not interrupt ")) or "had not sent everything" in line]


class _Started:
    """What the command started, stopped in reverse order."""

    def __init__(self):
        self.apps: list[_App] = []
        self.front: front.Pushpin | None = None
        self.redis_proc: subprocess.Popen | None = None

    def redis(self, work: Path) -> str:
        binary = shutil.which("redis-server")
        if binary is None:
            raise CommandError("several app processes share events through Redis: apt-get install redis-server, "
                               "or set REDIS_URL")
        port = _free_port()
        self.redis_proc = subprocess.Popen(
            dies_with_this_process([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                                    "--dir", str(work)]),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 10
        while not _accepts(port):
            if time.monotonic() > deadline or self.redis_proc.poll() is not None:
                raise CommandError("redis-server did not start")
            time.sleep(0.05)
        return f"redis://127.0.0.1:{port}/0"

    def app(self, work: Path, index: int, env: dict, shared_port: int) -> _App:
        app = _App(work, index, env, shared_port)
        self.apps.append(app)
        return app

    def pushpin(self, directory: Path, **kwargs) -> front.Pushpin:
        self.front = front.Pushpin(directory, **kwargs)
        return self.front

    def stop(self) -> list[str]:
        """Interrupt the app processes (all at once; each as Ctrl-C stops ``make run``), then stop Pushpin and
        Redis. Return what the app processes reported."""
        for app in self.apps:
            if app.proc.poll() is None:
                app.proc.send_signal(signal.SIGINT)
        deadline = time.monotonic() + STOP_SECONDS
        for app in self.apps:
            try:
                app.proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                app.proc.kill()
                app.proc.wait(5)
        lines = [line for app in self.apps for line in app.interruptions()]
        if self.front is not None:
            self.front.stop()
        if self.redis_proc is not None and self.redis_proc.poll() is None:
            self.redis_proc.terminate()
            self.redis_proc.wait(10)
        return lines


def _database_url() -> str:
    """The database this process uses, as a URL for the app processes (the embedded server's socket
    directory is its host), so that they share it rather than each starting one."""
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    params = connection.get_connection_params()  # starts the embedded server if it is not running
    name, user = connection.settings_dict["NAME"], connection.settings_dict.get("USER") or "postgres"
    host, port = params.get("host") or "", params.get("port") or ""
    if host.startswith("/"):
        return f"postgresql://{quote(user)}@/{name}?host={quote(host, safe='')}" + (f"&port={port}" if port else "")
    return f"postgresql://{quote(user)}@{host}:{port}/{name}"


def _short(directory: Path) -> Path:
    """``directory``, or a fresh one under /tmp if Pushpin's socket paths in it would be too long."""
    if len(str(directory)) <= 60:
        return directory
    return Path(tempfile.mkdtemp(prefix="livesim-pushpin-"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _accepts(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
        return True
    return False
