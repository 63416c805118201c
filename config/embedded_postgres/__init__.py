"""An embedded PostgreSQL for development and tests when no DATABASE_URL is given.

The server is a real PostgreSQL shipped in the ``pgserver`` wheel, with its data folder inside the
checkout. It starts lazily, on the first database connection a process makes, so commands that
never touch the database (``simulate``, ``generate_market_data``) never start it. Processes that use
the same folder share one server; pgserver stops it when the last of them exits.
"""

from __future__ import annotations

import threading
import warnings
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

_lock = threading.Lock()
_servers: dict[Path, object] = {}


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
            server = pgserver.get_server(data_dir, cleanup_mode="stop")
            _servers[data_dir] = server
    return socket_dir(server.get_uri())


def socket_dir(uri: str) -> str:
    """Return the socket directory named in a pgserver URI (``...?host=/path``)."""
    hosts = parse_qs(urlsplit(uri).query).get("host")
    if not hosts:
        raise RuntimeError(f"embedded PostgreSQL returned a URI without a socket directory: {uri}")
    return hosts[0]
