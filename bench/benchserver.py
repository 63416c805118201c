"""A daphne server process for a benchmark: started on a free port, ready when it answers /healthz,
stopped with SIGINT (as Ctrl-C stops `make run`: running sessions end at a tick boundary)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def daphne(database_url: str, *, backlog: int | None = None, shared_port: int | None = None, **env):
    """Serve ``config.asgi:application`` on ``database_url`` with ``env`` added to the environment;
    yield ``(process, base_url)`` once it answers (``process.log_path``: its log, a file). ``backlog``: its accept queue (default Twisted's 50);
    ``shared_port``: it also listens there, with the other servers given the same port
    (``live_trading.stream.front.shared_listener``, as ``make cluster`` runs its app processes)."""
    import httpx

    port = free_port()
    environment = {**os.environ, "LOG_LEVEL": "WARNING", "DATABASE_URL": database_url,
                   **{k: str(v) for k, v in env.items()}}
    listen = ["-b", "127.0.0.1", "-p", str(port)]
    if backlog is not None:
        listen = ["-e", f"tcp:port={port}:interface=127.0.0.1:backlog={backlog}"]
    shared_fd = None
    if shared_port is not None:
        from live_trading.stream import front

        shared_fd = front.shared_listener("127.0.0.1", shared_port, backlog or front.BACKLOG)
        listen += ["--fd", str(shared_fd)]
    # Its log goes to a file, never to a pipe: a pipe nobody reads fills after 64 KB of warnings, and
    # then the server's next log line blocks its event loop (the whole process stops answering).
    log_file = tempfile.NamedTemporaryFile(prefix="bench-daphne-", suffix=".log", delete=False)  # noqa: SIM115
    try:
        server = subprocess.Popen(
            [sys.executable, "-m", "daphne", *listen, "config.asgi:application"],
            cwd=ROOT, env=environment, stdout=log_file, stderr=subprocess.STDOUT,
            pass_fds=() if shared_fd is None else (shared_fd,))
    finally:
        log_file.close()
        if shared_fd is not None:
            os.close(shared_fd)  # the server's now
    server.log_path = Path(log_file.name)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            with contextlib.suppress(httpx.TransportError):
                httpx.get(f"{base}/healthz", timeout=2)
                break
            time.sleep(0.1)
        yield server, base
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
