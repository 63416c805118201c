"""An embedded PostgreSQL for development and tests when no DATABASE_URL is given.

The server is a real PostgreSQL shipped in the ``pgserver`` wheel, with its data folder inside the
checkout. It starts lazily, on the first database connection a process makes, so commands that
never touch the database (``simulate``, ``generate_market_data``) never start it. Processes that use
the same folder share one server; pgserver stops it when the last of them exits.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import json
import os
import tempfile
import threading
import time
import warnings
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

_lock = threading.Lock()
_servers: dict[Path, object] = {}
STARTING_LOCK = Path(tempfile.gettempdir()) / "livesim-embedded-postgres.lock"


STARTING_PATIENCE = 120.0  # seconds another process may hold STARTING_LOCK before this one says so


@contextlib.contextmanager
def _one_starting_at_a_time():
    """Hold a lock that every process of this machine starting an embedded server takes (``STARTING_LOCK``).

    Run as root, pgserver creates the system user it runs PostgreSQL as (``useradd pgserver``) before it
    takes its own lock: the three test workers of a fresh clone, starting together on a machine without
    that user, raced there, and every test of the run failed with ``initdb: could not look up effective
    user ID 1002: user does not exist``. The file is opened read-only (enough for ``flock``) and created
    readable by all; where it cannot be opened (another user's, kept private by their umask, or refused
    by ``fs.protected_regular``) the start goes on without it, as before. RuntimeError, naming the file,
    if another process holds it for ``STARTING_PATIENCE`` seconds."""
    try:
        fd = os.open(STARTING_LOCK, os.O_RDONLY)
    except FileNotFoundError:
        try:
            fd = os.open(STARTING_LOCK, os.O_RDONLY | os.O_CREAT, 0o644)
            with contextlib.suppress(OSError):
                os.fchmod(fd, 0o644)  # whatever this process's umask
        except OSError:
            fd = None
    except OSError:
        fd = None
    if fd is None:
        yield
        return
    try:
        deadline = time.monotonic() + STARTING_PATIENCE
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"another process has been starting an embedded PostgreSQL for "
                                       f"{STARTING_PATIENCE:.0f}s, holding {STARTING_LOCK}") from None
                time.sleep(0.1)
        yield
    finally:
        os.close(fd)  # releases the lock


def ensure_running(data_dir: Path) -> str:
    """Start (or join) the server for ``data_dir`` and return the directory of its Unix socket."""
    data_dir = Path(data_dir).resolve()
    with _lock:
        server = _servers.get(data_dir)
        if server is None:
            with warnings.catch_warnings():
                # platformdirs warns when XDG_RUNTIME_DIR is unset (CI, containers) and falls back to /tmp
                warnings.simplefilter("ignore")
                import pgserver  # imported late: only processes that connect pay for it

            data_dir.mkdir(parents=True, exist_ok=True)
            with _one_starting_at_a_time():
                drop_dead_handles(data_dir)
                server = pgserver.get_server(data_dir, cleanup_mode="stop")
            _servers[data_dir] = server
            # Registered after pgserver's own exit handler, so it runs first (atexit runs the last
            # registered first): a process killed while this one ran is not counted when it leaves.
            atexit.register(drop_dead_handles, data_dir)
    return socket_dir(server.get_uri())


def drop_dead_handles(data_dir: Path) -> list[int]:
    """Remove from pgserver's list of processes using the server (``.handle_pids.json``) those no longer
    alive, and return the pids kept.

    pgserver adds a process's pid when it joins and removes it when it exits, and the last one out stops
    the server. A process killed outright (SIGKILL, out of memory) never removes its pid, so without
    this the server would be "in use" forever and keep running after every later Ctrl-C.
    """
    path = Path(data_dir) / ".handle_pids.json"
    try:
        pids = json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        return []
    alive = [pid for pid in pids if isinstance(pid, int) and _alive(pid)]
    if alive != pids:
        path.write_text(json.dumps(alive))
    return alive


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    if not os.path.isdir("/proc"):
        return True  # macOS: kill(0) is what we have
    # A zombie (killed, not yet reaped by its parent) still answers kill(0); it uses nothing any more.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False  # gone since


def socket_dir(uri: str) -> str:
    """Return the socket directory named in a pgserver URI (``...?host=/path``)."""
    hosts = parse_qs(urlsplit(uri).query).get("host")
    if not hosts:
        raise RuntimeError(f"embedded PostgreSQL returned a URI without a socket directory: {uri}")
    return hosts[0]
