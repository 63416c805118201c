"""Real servers and real SSE clients for the stream tests.

A ``Server`` is daphne in a subprocess, on a free port, using the test database (the embedded
PostgreSQL is shared between processes; its socket directory is the host). Users, strategies and
broker connections are committed by the test (``transactional_db``) so the server sees them, and
events come from real sessions started through the server's own API. ``SSEReader`` is a real SSE
client: httpx streaming on a thread, parsing the wire format itself.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from django.conf import settings
from django.db import connection

from config.children import dies_with_this_process
from live_trading.models import BrokerConnection
from live_trading.stream import front
from strategies.models import Strategy
from tests.ports import IN_USE, free_port, listens_on
from tests.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "strategies" / "examples"
DAY = "2024-10-29"


def database_url_of_tests() -> str:
    """The test database, for another process: the embedded server's socket directory is the host."""
    params = connection.get_connection_params()
    name = connection.settings_dict["NAME"]
    user = connection.settings_dict.get("USER") or "postgres"
    host = params.get("host") or connection.settings_dict.get("HOST") or ""
    port = params.get("port") or connection.settings_dict.get("PORT") or ""
    if host.startswith("/"):
        query = f"?host={quote(host, safe='')}" + (f"&port={port}" if port else "")
        return f"postgresql://{quote(user)}@/{name}{query}"
    return f"postgresql://{quote(user)}@{host}:{port}/{name}"


class Server:
    """daphne serving ``config.asgi:application`` in a subprocess; with ``serve``, through
    ``manage.py serve --no-demo`` as ``make run`` starts it.

    On a free port (`tests.ports`); started again on another one if something else took the port before
    daphne bound it. With ``shared_port``, it also listens on that port, shared with the other servers
    given it (``front.shared_listener``, as ``make cluster``'s app processes do). Its log (daphne's access
    log included: a line per answered request) goes to a file of its own in ``log_dir`` (default: the
    temporary folder).
    """

    def __init__(self, database_url: str, *, serve: bool = False, log_dir: Path | None = None,
                 shared_port: int | None = None, **env):
        self.shared_port = shared_port
        for attempt in range(1, PORT_ATTEMPTS + 1):
            try:
                self._start(database_url, serve, log_dir, env)
                return
            except PortTaken:
                if attempt == PORT_ATTEMPTS:
                    raise

    def _start(self, database_url: str, serve: bool, log_dir: Path | None, env: dict) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        fd, log_path = tempfile.mkstemp(prefix=f"stream-test-daphne-{self.port}-", suffix=".log", dir=log_dir)
        self.log_path = Path(log_path)
        self._log = os.fdopen(fd, "wb")
        # Named, so a test can count this process's database connections in pg_stat_activity.
        self.application_name = f"stream-test-{self.port}"
        database_url += ("&" if "?" in database_url else "?") + f"application_name={self.application_name}"
        environment = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": database_url,
            "SECRET_KEY": settings.SECRET_KEY,
            "DEBUG": "false",
            "LOG_LEVEL": "WARNING",
            "MARKET_DATA_DIR": str(settings.MARKET_DATA_DIR),
            **{k: str(v) for k, v in env.items()},
        }
        environment.pop("REDIS_URL", None) if "REDIS_URL" not in env else None
        shared_fd = None
        if serve:
            command = ["manage.py", "serve", "--no-demo", "--host", "127.0.0.1", "--port", str(self.port)]
            if self.shared_port is not None:
                command += ["--shared-port", str(self.shared_port)]
        else:
            command = ["-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port), "config.asgi:application"]
            if self.shared_port is not None:
                shared_fd = front.shared_listener("127.0.0.1", self.shared_port)
                command[-1:-1] = ["--fd", str(shared_fd)]
        try:
            self.proc = subprocess.Popen(
                dies_with_this_process([sys.executable, *command]), cwd=ROOT, env=environment, stdout=self._log,
                stderr=subprocess.STDOUT, pass_fds=() if shared_fd is None else (shared_fd,),
            )
        finally:
            if shared_fd is not None:
                os.close(shared_fd)  # the server's now: the shared port is released when it ends
        self._wait_ready()

    def _wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self._log.close()
                if IN_USE in self.log():
                    raise PortTaken(self.port)
                raise RuntimeError(f"daphne exited with {self.proc.returncode}: {self.log()}")
            # Only once the listening socket is daphne's own: before that, another process that had the
            # port first would answer.
            if listens_on(self.proc.pid, self.port):
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(f"{self.base}/healthz", timeout=2).status_code == 200:
                        return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"daphne did not answer within {timeout}s: {self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def url(self, path: str) -> str:
        return f"{self.base}{path}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()


PORT_ATTEMPTS = 5


class PortTaken(Exception):
    """A server could not listen: something else took its port between `free_port` and the bind."""


@pytest.fixture(scope="module")
def server_factory(django_db_setup, django_db_blocker, tmp_path_factory):
    """Start servers on the test database; each is stopped when the module ends. Their logs stay in
    this run's temporary folder (``/tmp/pytest-of-<user>/pytest-<n>/``, a folder per worker)."""
    servers = []
    log_dir = tmp_path_factory.mktemp("server-logs")
    with django_db_blocker.unblock():
        url = database_url_of_tests()

    def start(*, serve: bool = False, shared_port: int | None = None, **env) -> Server:
        s = Server(url, serve=serve, log_dir=log_dir, shared_port=shared_port, **env)
        servers.append(s)
        return s

    yield start
    for s in servers:
        s.stop()


# -- users and sessions ---------------------------------------------------------------------------


def api_token(user) -> str:
    from rest_framework.authtoken.models import Token

    return Token.objects.get_or_create(user=user)[0].key


def bearer(user) -> dict:
    return {"Authorization": f"Bearer {api_token(user)}"}


def example(name: str) -> dict:
    return json.loads((EXAMPLES / f"{name}.json").read_text())


def setup_for(user, strategy_name: str = "nifty_short_straddle"):
    graph = example(strategy_name)
    strategy = Strategy.objects.create(owner=user, name=graph.get("name", strategy_name), graph=graph)
    broker, _ = BrokerConnection.objects.get_or_create(owner=user, account_id=f"PAPER-{user.username}",
                                                       defaults={"starting_capital": Decimal("1000000.00")})
    return strategy, broker


def start_session(server: Server, user, *, strategy_name="nifty_short_straddle", speed=None, mode=None,
                  seed=None) -> str:
    """Start a session on ``server`` through its API; return its id."""
    strategy, broker = setup_for(user, strategy_name)
    body = {"strategy_id": str(strategy.id), "broker_connection_id": str(broker.id), "date": DAY}
    if speed is not None:
        body["speed_multiplier"] = speed
    if mode is not None:
        body["mode"] = mode
    if seed is not None:
        body["seed"] = seed
    r = httpx.post(server.url("/api/v2/live/start"), json=body, headers=bearer(user), timeout=30)
    assert r.status_code == 201, f"{r.text}\n--- the server's log ---\n{server.log()}"
    return r.json()["session_id"]


def stop_sessions(server: Server, user) -> None:
    with contextlib.suppress(httpx.HTTPError):
        httpx.post(server.url(f"/api/v2/live/stop/user/{user.user_id}"), headers=bearer(user), timeout=30)




# -- a real SSE client --------------------------------------------------------------------------


@dataclass
class Event:
    event: str
    data: str
    id: str | None = None  # the id this event carried (None: no id field)
    last_event_id: str | None = None  # what a browser's lastEventId is after it
    raw_size: int = 0
    received_at: float = 0.0

    @property
    def json(self):
        return json.loads(self.data)


class SSEParser:
    """The SSE wire format, a line at a time, as a browser parses it: ``event``, ``data`` (joined with
    newlines), ``id`` (sticky, like ``lastEventId``), ``retry``; comments ignored; an event with data
    is dispatched on a blank line."""

    def __init__(self):
        self.last_event_id: str | None = None
        self.retry: int | None = None
        self._reset()

    def _reset(self):
        self._kind, self._data, self._size, self._id = "message", [], 0, None

    def feed(self, line: str) -> Event | None:
        """Take one line (without its newline); return the event it completes, if any."""
        self._size += len(line.encode()) + 1
        if line == "":
            event = None
            if self._data:
                event = Event(self._kind, "\n".join(self._data), self._id, self.last_event_id, self._size,
                              time.monotonic())
            self._reset()
            return event
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "event":
            self._kind = value
        elif name == "data":
            self._data.append(value)
        elif name == "id":
            self.last_event_id = self._id = value
        elif name == "retry" and value.isdigit():
            self.retry = int(value)
        return None


@dataclass
class SSEReader:
    """Read one SSE response on a thread; events land in ``events`` (and a queue) as they arrive.

    Follows the SSE parsing rules: ``event``, ``data`` (joined with newlines), ``id`` (sticky, as a
    browser keeps ``lastEventId``), ``retry``; comments ignored; an event is dispatched on a blank line.
    """

    url: str
    headers: dict = field(default_factory=dict)
    status: int | None = None
    retry: int | None = None
    last_event_id: str | None = None
    events: list = field(default_factory=list)
    error: BaseException | None = None

    def __post_init__(self):
        self._queue: queue.Queue = queue.Queue()
        self._ready = threading.Event()
        self._closed = False
        self._response = None
        self._client = httpx.Client(timeout=httpx.Timeout(10.0, read=None))
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        if not self._ready.wait(20):
            raise AssertionError(f"no response from {self.url}")
        if self.error is not None and self.status is None:
            raise self.error

    def _run(self):
        try:
            with self._client.stream("GET", self.url, headers=self.headers) as response:
                self._response = response
                self.status = response.status_code
                self.body = None
                if response.status_code != 200:
                    self.body = response.read().decode()
                    self._ready.set()
                    return
                self._ready.set()
                self._parse(response)
        except BaseException as exc:  # reported to the test through .error
            if not self._closed:
                self.error = exc
        finally:
            self._ready.set()
            self._queue.put(None)

    def _parse(self, response):
        parser = SSEParser()
        for line in response.iter_lines():
            event = parser.feed(line)
            self.retry = parser.retry
            if event is not None:
                self.last_event_id = parser.last_event_id
                self.events.append(event)
                self._queue.put(event)

    def next_or_end(self, timeout: float = 10.0) -> Event | None:
        """The next event, or None once the response has ended; ``queue.Empty`` after ``timeout`` seconds."""
        item = self._queue.get(timeout=timeout)
        if item is None:
            self._queue.put(None)
        return item

    def next(self, timeout: float = 10.0) -> Event:
        item = self._queue.get(timeout=timeout)
        if item is None:
            self._queue.put(None)
            raise AssertionError(f"the stream ended ({self.error!r})")
        return item

    def until(self, predicate, timeout: float = 30.0) -> list:
        """Collect events until ``predicate(event)`` is true of one (included); return them."""
        got = []
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"timed out; got {[e.event for e in got][-20:]}")
            try:
                event = self.next(timeout=remaining)
            except queue.Empty:
                raise AssertionError(f"timed out; got {[e.event for e in got][-20:]}") from None
            got.append(event)
            if predicate(event):
                return got

    def close(self):
        self._closed = True
        with contextlib.suppress(Exception):
            if self._response is not None:
                self._response.close()
        with contextlib.suppress(Exception):
            self._client.close()
        self._thread.join(5)


@pytest.fixture
def readers():
    """Open SSE readers; all are closed at the end of the test."""
    opened = []

    def open_reader(url, **headers) -> SSEReader:
        r = SSEReader(url, headers)
        opened.append(r)
        return r

    yield open_reader
    for r in opened:
        r.close()


def redis_server_binary() -> str | None:
    return shutil.which("redis-server") or ("/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None)


class RedisServer:
    """A private redis-server on a free port (`tests.ports`): no persistence, so a restart starts empty.

    Started again on another port if something else took the port first; `start` after `kill` comes
    back on the same port (the servers using it keep their REDIS_URL)."""

    def __init__(self):
        self.proc = None
        for attempt in range(1, PORT_ATTEMPTS + 1):
            self.port = free_port()
            self.url = f"redis://127.0.0.1:{self.port}/0"
            try:
                self.start()
                return
            except PortTaken:
                if attempt == PORT_ATTEMPTS:
                    raise

    def start(self):
        import redis

        with tempfile.TemporaryFile() as log:
            self.proc = subprocess.Popen(
                dies_with_this_process([redis_server_binary(), "--port", str(self.port), "--bind", "127.0.0.1",
                                        "--save", "", "--appendonly", "no"]),
                stdout=log, stderr=subprocess.STDOUT,
            )
            client = redis.Redis(port=self.port)

            def ready():
                if self.proc.poll() is not None:
                    log.seek(0)
                    output = log.read().decode(errors="replace")
                    if IN_USE in output:
                        raise PortTaken(self.port)
                    raise RuntimeError(f"redis-server exited with {self.proc.returncode}: {output[-2000:]}")
                return listens_on(self.proc.pid, self.port) and _pings(client)

            wait_for(ready, timeout=10, message="redis-server to answer")

    def kill(self):
        self.proc.kill()
        self.proc.wait(10)

    def stop(self):
        if self.proc.poll() is None:
            self.kill()


def _pings(client) -> bool:
    import redis

    try:
        return client.ping()
    except redis.RedisError:
        return False


@pytest.fixture(scope="module")
def redis_server():
    """A private redis-server for the module (tests that need one skip at import when none is installed)."""
    server = RedisServer()
    yield server
    server.stop()
