"""A database that is busy or out of reach is a 503 with ``Retry-After``, never a 500.

Under a burst (thousands of streams opened at once, docs/benchmarks.md "Streams held by Pushpin") a
request can wait longer than ``DB_POOL_TIMEOUT`` for a pooled connection, and psycopg_pool gives up; a
restart of PostgreSQL, a statement cancelled by the server or a deadlock end a request the same way.
Django reports all of them as ``OperationalError`` (or ``InterfaceError`` for a connection already
closed). Nothing of such a request was written (its transaction did not commit), so the honest answer is
"try again shortly": ``503`` with ``Retry-After`` (``DB_BUSY_RETRY_AFTER`` seconds), a JSON ``detail``
under ``/api/`` and a line of text elsewhere. EventSource and ``stream-client.js`` then reconnect with
the last event id, and Pushpin ends a held stream whose next link got it, which the client resumes the
same way (docs/protocol.md). Any other exception stays a 500.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.utils.deprecation import MiddlewareMixin

log = logging.getLogger(__name__)

DETAIL = "The database is busy or out of reach; nothing was changed. Try again in a moment."


class DatabaseBusyMiddleware(MiddlewareMixin):
    """The last middleware (closest to the views): turns a view's database ``OperationalError`` or
    ``InterfaceError`` into the ``503`` above, logged as a warning with the request's path."""

    def process_exception(self, request, exception):
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        log.warning("%s %s: answered 503, the database is busy or out of reach (%s)", request.method,
                    request.path, str(exception).splitlines()[0] if str(exception) else type(exception).__name__)
        if request.path.startswith("/api/"):
            response = JsonResponse({"detail": DETAIL}, status=503)
        else:
            response = HttpResponse(DETAIL + "\n", status=503, content_type="text/plain; charset=utf-8")
        response["Retry-After"] = str(settings.DB_BUSY_RETRY_AFTER)
        response["Cache-Control"] = "no-store"
        return response
