"""Ports for the servers the tests start, safe with several pytest processes on one machine: the workers
of one run (pytest-xdist) and another checkout's run at the same time.

`free_port` hands out a port that nothing listens on now, below the kernel's range for outgoing
connections (so no client socket of any process is given it as its local port meanwhile), from a slice
of its own for each xdist worker (so two workers never pick the same one), starting at a place drawn
from the process id (so two runs of the same worker id rarely do), and never the same port twice in one
process. Something outside the process can still take the port between the check and the server's bind:
a server that fails to bind is started again on another port (`tests.stream.conftest.Server`,
`RedisServer`), and a server counts as ready only once the listening socket is its own (`listens_on`).
Servers inside the test process bind port 0 and read the port the kernel gave them instead.
"""

from __future__ import annotations

import os
import random
import socket
from pathlib import Path

import psutil

LOWEST = 10_000
SLICE = 1_000
IN_USE = "in use"
"""What a server's log says when its port was taken (daphne's 'Address already in use', serve's own)."""


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768


def worker_number() -> int:
    """This xdist worker's number (``gw3`` -> 3), or -1 outside xdist."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return int(worker[2:]) if worker.startswith("gw") and worker[2:].isdigit() else -1


def _slice() -> range:
    slices = max(1, (_ephemeral_low() - LOWEST) // SLICE)
    start = LOWEST + ((worker_number() + 1) % slices) * SLICE
    return range(start, start + SLICE)


_given: set[int] = set()
_next = random.Random(os.getpid()).randrange(SLICE)


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on, from this worker's slice; never one given before."""
    global _next
    ports = _slice()
    for _ in range(len(ports)):
        port = ports[_next % len(ports)]
        _next += 1
        if port not in _given and _bindable(port):
            _given.add(port)
            return port
    raise RuntimeError(f"no free port left in {ports.start}-{ports.stop - 1} for this test process")


def _bindable(port: int) -> bool:
    # With SO_REUSEADDR, as daphne, redis-server and Python's servers bind: a port whose last server just
    # stopped (connections in TIME_WAIT) is free, one that something listens on is not.
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def listens_on(pid: int, port: int) -> bool:
    """Whether process ``pid`` holds a listening TCP socket on ``port`` (so a request there reaches it and
    not some other process that had the port first)."""
    try:
        connections = psutil.Process(pid).net_connections(kind="tcp")
    except psutil.Error:
        return False
    return any(c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port for c in connections)
