"""Operational endpoints that belong to no app."""

from django.db import connection
from django.http import JsonResponse


def healthz(request):
    """Answer 200 when the database answers a query, 503 with the reason when it does not."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any failure to reach the database is "down", whatever the driver raised
        return JsonResponse({"status": "unavailable", "database": f"error: {type(exc).__name__}"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})
