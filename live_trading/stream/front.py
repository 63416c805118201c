"""Pushpin in front of the app processes, on one machine: its configuration and its process.

Used by ``manage.py cluster`` (``make cluster``), the tests and the benchmark. Pushpin (Debian's
``pushpin`` package) runs as a few processes under its runner: condure (the client connections),
pushpin-proxy (forwards each request to the first of its route's targets that accepts it; the
others take over when it is down), pushpin-handler (holds the streams, takes publishes on ``publish_port``)
and zurl (its requests to the app's next links).
Everything it needs is written into one directory: the config, the routes, its sockets and logs.
docs/deployment.md says what each setting is for and how to run it across machines.

Pushpin 1.36 does not balance: it tries a route's targets in the order listed, for every request
(``src/proxy/proxysession.cpp``, ``tryNextTarget``: ``target = targets.takeFirst()``), so with one
target per app process every request goes to the first. On one machine the app processes share one
port instead (``shared_listener``: each binds it with ``SO_REUSEPORT``) and that port is Pushpin's one
target: the kernel hands each new connection to one of the processes listening on it, by a hash of the
connection's addresses, and only to those alive, so streams and requests spread over the processes and
a process that died gets none.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx

from config.children import dies_with_this_process

BACKLOG = 1024
"""Connections the kernel queues for an app process before it accepts them (``listen``'s backlog; the
kernel caps it at ``net.core.somaxconn``, 4096 here). Twisted's default, 50, overflows when a front that
restarted sends every stream back at once, and Pushpin answers ``502`` for a connection it could not make."""

CONFIG = """\
# Written by live_trading/stream/front.py; docs/deployment.md explains the settings.
[global]
include={{libdir}}/internal.conf
rundir={rundir}
ipc_prefix=pp-
port_offset=0
stats_connection_ttl=120

[runner]
services=condure,zurl,pushpin-proxy,pushpin-handler
http_port={listen}
logdir={logdir}
log_level={log_level}
client_buffer_size=8192
client_maxconn={max_connections}
condure_bin=condure
zurl_bin=zurl

[proxy]
routesfile={routes}
debug=false
auto_cross_origin=false
sig_iss=pushpin
sig_key={sig_key}
updates_check=off
# Debian's internal.conf expects a system-wide zurl; use the one the runner starts.
zurl_out_specs=ipc://{{rundir}}/{{ipc_prefix}}zurl-in
zurl_out_stream_specs=ipc://{{rundir}}/{{ipc_prefix}}zurl-in-stream
zurl_in_specs=ipc://{{rundir}}/{{ipc_prefix}}zurl-out

[handler]
push_in_spec=ipc://{{rundir}}/{{ipc_prefix}}push-in
push_in_sub_specs=ipc://{{rundir}}/{{ipc_prefix}}push-in-sub
push_in_sub_connect=false
push_in_http_addr={publish_host}
push_in_http_port={publish_port}
push_in_http_max_headers_size=10000
push_in_http_max_body_size=4000000
stats_spec=ipc://{{rundir}}/{{ipc_prefix}}stats
command_spec=ipc://{{rundir}}/{{ipc_prefix}}command
# deliveries a second: none (-1, no limiter). Any limit, Debian's 2500 included, turns on Pushpin 1.36's
# limiter, whose 25 ms batch timer every new delivery restarts (QTimer::setInterval on a running timer,
# src/handler/ratelimiter.cpp): with publishes coming faster than every 25 ms nothing is delivered until
# they pause, which held events back for as long as publishing went on (docs/benchmarks.md, issue 14)
message_rate=-1
message_hwm=1000000
message_wait=5000
id_cache_ttl=60
# a user stream follows every session of its user: one channel each, two with ticks
connection_subscription_max=1000
# the app publishes over HTTP, not a SUB socket: nothing to re-fetch when a channel gets its first
# subscriber (a connection that missed events is recovered through its next link anyway)
update_on_first_subscription=false
subscription_linger=60
stats_subscription_ttl=60
stats_report_interval=10
stats_format=tnetstring
"""


def binary() -> str | None:
    """The ``pushpin`` command, or None when Pushpin is not installed (apt-get install pushpin)."""
    return shutil.which("pushpin")


def write_config(directory: Path, *, listen: str, publish_host: str, publish_port: int, backends: list[str],
                 sig_key: str, max_connections: int = 50_000, log_level: int = 2) -> Path:
    """Write ``pushpin.conf`` and ``routes`` into ``directory`` and return the config's path.

    ``listen`` is where clients connect (``[host:]port``); ``backends`` the app processes' addresses
    (``host:port`` each), tried in order for every request: Pushpin 1.36 fails over, it does not
    balance (and reads a target after a comma as an option of the first, dropping it). To spread the
    load, give one address that the app processes share (``shared_listener``); ``sig_key``
    the key Pushpin signs the requests it forwards with (the app's ``GRIP_KEY``); ``log_level`` 3 logs
    every decision (debug). Keep ``directory`` short: it holds Unix sockets, whose paths may not exceed
    107 bytes.
    """
    directory = Path(directory)
    (directory / "run").mkdir(parents=True, exist_ok=True)
    (directory / "log").mkdir(parents=True, exist_ok=True)
    routes = directory / "routes"
    routes.write_text("# every request goes to the first target that accepts it, the next when it is down\n* "
                      + " ".join(backends) + "\n")
    config = directory / "pushpin.conf"
    config.write_text(CONFIG.format(rundir=directory / "run", logdir=directory / "log", listen=listen,
                                    max_connections=max_connections, routes=routes, sig_key=sig_key,
                                    publish_host=publish_host, publish_port=publish_port, log_level=log_level))
    return config


class Pushpin:
    """A Pushpin runner started with ``write_config``'s files; ``stop`` ends it and its processes."""

    def __init__(self, directory: Path, *, host: str = "127.0.0.1", port: int, publish_port: int,
                 backends: list[str], sig_key: str, max_connections: int = 50_000, log_level: int = 2):
        self.directory = Path(directory)
        self.host, self.port, self.publish_port = host, port, publish_port
        self.base = f"http://{host}:{port}"
        self.publish_url = f"http://127.0.0.1:{publish_port}"
        config = write_config(self.directory, listen=f"{host}:{port}", publish_host="127.0.0.1",
                              publish_port=publish_port, backends=backends, sig_key=sig_key,
                              max_connections=max_connections, log_level=log_level)
        self.log_path = self.directory / "pushpin.log"
        with self.log_path.open("ab") as log:
            # its own session: a Ctrl-C meant for the command that started it does not reach it first
            # and SIGTERM when that command ends, even killed outright (its runner then stops its processes)
            self.proc = subprocess.Popen(dies_with_this_process([binary() or "pushpin", "--config", str(config),
                                                                 "--merge-output"]),
                                         stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self, timeout: float = 20.0) -> None:
        """Return once Pushpin accepts clients and publishes, and a request through it reaches an app
        process and comes back (``GET /healthz``, ``_answers``: the app processes must be up); RuntimeError (with its
        log) if not in time. Its client port accepting is not enough: a fresh clone's first stream
        through a Pushpin just started got no answer in 20 s, once."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"pushpin exited with {self.proc.returncode}: {self.log()}")
            if (_accepts(self.host, self.port) and _accepts("127.0.0.1", self.publish_port)
                    and _answers(self.host, self.port, "/healthz")):
                return
            time.sleep(0.1)
        raise RuntimeError(f"no app process answered below 500 through pushpin within {timeout}s (pushpin down, or the app not up or its /healthz failing): {self.log()}")

    def log(self) -> str:
        with contextlib.suppress(OSError):
            return self.log_path.read_text(errors="replace")[-4000:]
        return ""

    def pids(self) -> list[int]:
        """The runner and the processes it started (condure, zurl, proxy, handler)."""
        import psutil

        with contextlib.suppress(psutil.Error):
            runner = psutil.Process(self.proc.pid)
            return [runner.pid, *(p.pid for p in runner.children(recursive=True))]
        return []

    def stop(self, timeout: float = 10.0) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # the runner stops its processes, then exits
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)


def shared_listener(host: str, port: int, backlog: int = BACKLOG) -> int:
    """A TCP socket listening on ``host:port`` (IPv4) with ``SO_REUSEPORT``, so that every app process of
    this machine (same user) that binds the same port this way listens on it too; return its file
    descriptor, for daphne's ``--fd`` (the caller owns it: daphne closes it once it has taken it over).

    Linux gives each new connection to one of the sockets bound so, by a hash of its addresses and ports
    (an even spread over many connections), and to none of a process that is gone: its socket closed
    with it. A connection already queued for a process that is then killed is reset (Pushpin answers that
    one request ``502``). A process stopped but alive (SIGSTOP) keeps its share, which waits. OSError when the port is taken by a socket bound
    without ``SO_REUSEPORT`` or by another user."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
        sock.listen(backlog)
    except BaseException:
        sock.close()
        raise
    return sock.detach()


def _accepts(host: str, port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
        return True
    return False


def _answers(host: str, port: int, path: str) -> bool:
    """True if ``GET path`` on ``host:port`` gets an answer below 500 within 2 s: through the front, the app's
    (a 400 for a host name the app does not serve included), not Pushpin's 502 for an app it cannot reach."""
    with contextlib.suppress(httpx.HTTPError):
        return httpx.get(f"http://{host}:{port}{path}", timeout=2).status_code < 500
    return False
