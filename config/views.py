"""Operational endpoints that belong to no app."""

import psycopg
from django.db import connection
from django.http import JsonResponse

from config.bodies import too_large_detail

HEALTH_TIMEOUT_SECONDS = 2


def healthz(request):
    """Answer 200 when the database answers a query, 503 with the reason when it does not.

    It opens a connection of its own with a short timeout rather than borrowing from the pool: a
    health check must answer quickly, and must not wait behind busy sessions for a pooled connection.
    """
    params = {k: v for k, v in connection.get_connection_params().items() if k not in ("cursor_factory", "context")}
    try:
        with psycopg.connect(**params, connect_timeout=HEALTH_TIMEOUT_SECONDS) as conn:
            conn.execute("SELECT 1").fetchone()
    except Exception as exc:  # any failure to reach the database is "down", whatever the driver raised
        return JsonResponse({"status": "unavailable", "database": f"error: {type(exc).__name__}"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


def _api_error(request, status: int, detail: str, fallback):
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": detail}, status=status)
    return fallback


def bad_request(request, exception=None):
    """400 for what Django refuses before a view runs; 413 for a body over DATA_UPLOAD_MAX_MEMORY_SIZE.

    The message says what was wrong in the client's terms, never a setting's name or a path.
    """
    from django.core.exceptions import RequestDataTooBig
    from django.views import defaults

    if isinstance(exception, RequestDataTooBig):
        return JsonResponse({"detail": too_large_detail()}, status=413)
    return _api_error(request, 400, "bad request", defaults.bad_request(request, exception))


def not_found(request, exception=None):
    from django.views import defaults

    return _api_error(request, 404, "no such endpoint or object", defaults.page_not_found(request, exception))
