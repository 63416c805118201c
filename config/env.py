"""Typed readers for settings that come from the environment.

Each helper returns a parsed value or the default, and raises ``ImproperlyConfigured`` naming the
variable when a value is present but cannot be used, so a typo fails at start-up instead of
silently running with the wrong setting.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

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
    try:
        value = int(raw.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer") from None
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
    """Return SECRET_KEY from the environment; in DEBUG, fall back to a generated key kept in ``key_file``."""
    key = environ.get("SECRET_KEY")
    if key:
        if not debug and len(key) < 32:
            raise ImproperlyConfigured("SECRET_KEY is shorter than 32 characters; generate a long random one")
        return key
    if not debug:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    if key_file.exists():
        return key_file.read_text().strip()
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    key_file.write_text(key)
    key_file.chmod(0o600)
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
