"""A database of a benchmark's own, so benchmarks never touch the development data.

Used by the benchmarks that need Django: ``use_database("livesim_bench")`` sets Django up, creates
the database on the configured server (the embedded PostgreSQL by default) if it is missing,
migrates it, and returns a ``DATABASE_URL`` for server processes the benchmark starts.
"""

from __future__ import annotations

import os


def use_database(name: str) -> str:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django
    import psycopg
    from django.conf import settings

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    params = connection.get_connection_params()
    params.pop("dbname", None)
    params.pop("database", None)
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    connection.close()
    settings.DATABASES["default"]["NAME"] = name
    connection.settings_dict["NAME"] = name
    call_command("migrate", verbosity=0)
    host, user = params.get("host", ""), params.get("user", "postgres")
    if host.startswith("/"):
        return f"postgresql://{user}@/{name}?host={host}"
    return f"postgresql://{user}@{host}:{params.get('port', 5432)}/{name}"
