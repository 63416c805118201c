"""Typed readers for settings that come from the environment.

Each helper returns a parsed value or the default, and raises ``ImproperlyConfigured`` naming the
variable when a value is present but cannot be used, so a typo fails at start-up instead of
silently running with the wrong setting.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

from config.ascii import is_ascii_number

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None, *, environ=os.environ) -> str | None:
    """Return the variable as a string, or ``default`` when it is unset."""
    return environ.get(name, default)


def env_bool(name: str, default: bool, *, environ=os.environ) -> bool:
    """Return the variable as a boolean: 1/true/yes/on or 0/false/no/off, any case."""
    raw = environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean: use one of 1/0, true/false, yes/no, on/off")


def env_int(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None,
            environ=os.environ) -> int:
    """Return the variable as an integer within ``[minimum, maximum]``."""
    raw = environ.get(name)
    if raw is None:
        return default
    text = raw.strip()
    if not is_ascii_number(text.removeprefix("-")):  # int() also takes "５", "1_000" and "٣"
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer")
    value = int(text)
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={value} is below the minimum {minimum}")
    if maximum is not None and value > maximum:
        raise ImproperlyConfigured(f"{name}={value} is above the maximum {maximum}")
    return value


def env_list(name: str, default: list[str], *, environ=os.environ) -> list[str]:
    """Return a comma-separated variable as a list of non-empty, stripped items."""
    raw = environ.get(name)
    if raw is None:
        return list(default)
    items = [item.strip() for item in raw.split(",")]
    if any(not item for item in items):
        raise ImproperlyConfigured(f"{name}={raw!r} has an empty item; separate values with single commas")
    return items


def database_from_url(url: str, *, name: str = "DATABASE_URL") -> dict:
    """Turn ``postgres://user:password@host:port/dbname?option=value`` into a Django DATABASES entry."""
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql"}:
        raise ImproperlyConfigured(
            f"{name} must start with postgres:// or postgresql://, not {parts.scheme or 'nothing'}:// "
            "(the project runs on PostgreSQL only)"
        )
    db_name = unquote(parts.path.lstrip("/"))
    if not db_name:
        raise ImproperlyConfigured(f"{name} has no database name: add /<name> after the host")
    try:
        port = parts.port
    except ValueError:
        raise ImproperlyConfigured(f"{name} has a port that is not a number") from None
    options = dict(parse_qsl(parts.query))
    host = unquote(parts.hostname or "") or options.pop("host", "")
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": db_name,
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": host,
        "PORT": str(port or ""),
        "OPTIONS": options,
    }


def secret_key(debug: bool, key_file: Path, *, environ=os.environ) -> str:
    """Return SECRET_KEY from the environment, or a generated key kept in ``key_file``.

    With DEBUG off a key from the environment must be at least 32 characters. Unset, a random key is
    generated once into ``key_file`` (mode 0600) and read back on every later start, so `make run`
    needs no manual step and sessions and stream tokens survive a restart. Processes on several
    machines must share one key: set SECRET_KEY there. Raises ``ImproperlyConfigured``.
    """
    key = environ.get("SECRET_KEY")
    if key:
        if not debug and len(key) < 32:
            raise ImproperlyConfigured("SECRET_KEY is shorter than 32 characters; generate a long random one")
        return key
    if not key_file.exists():
        key_file.parent.mkdir(parents=True, exist_ok=True)
        # Written whole to a private file, then linked into place: of two processes starting together,
        # one key wins and both read it; neither can read a half-written one.
        draft = key_file.with_name(f".{key_file.name}.{os.getpid()}")
        draft.unlink(missing_ok=True)
        with os.fdopen(os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as out:
            out.write(secrets.token_urlsafe(50))
        try:
            with contextlib.suppress(FileExistsError):
                os.link(draft, key_file)
        finally:
            draft.unlink()
    return _read_key(key_file)


def _read_key(key_file: Path) -> str:
    key = key_file.read_text().strip()
    if len(key) < 32:
        raise ImproperlyConfigured(f"{key_file} holds a key shorter than 32 characters; delete it to generate one")
    return key


def env_redis_url(name: str = "REDIS_URL", *, environ=os.environ) -> str | None:
    """Return a ``redis://`` / ``rediss://`` / ``unix://`` URL, checked, or None when unset."""
    raw = environ.get(name)
    if not raw:
        return None
    parts = urlsplit(raw)
    if parts.scheme not in {"redis", "rediss", "unix"}:
        raise ImproperlyConfigured(
            f"{name}={raw!r} must start with redis://, rediss:// or unix:// (e.g. redis://127.0.0.1:6379/0)"
        )
    if parts.scheme == "unix":
        return raw  # a socket path; the database, if any, is a query parameter
    try:
        _ = parts.port
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} has a port that is not a number") from None
    if not parts.hostname:
        raise ImproperlyConfigured(f"{name}={raw!r} has no host")
    database = parts.path.lstrip("/")
    if database and not database.isdigit():
        raise ImproperlyConfigured(f"{name}={raw!r}: the database after the host must be a number, not {database!r}")
    return raw
