"""Request bodies are bounded before Django reads them.

Django's ASGI handler reads a whole body into a temporary file before any view or check runs, and
takes the length from ``Content-Length`` alone: a body sent chunked (no ``Content-Length``) was read
in full, whatever its size, and then treated as empty. This wraps the ASGI application so that

* a declared ``Content-Length`` over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` is answered ``413`` at once,
  without reading the body;
* a body without one is read here up to that limit (``413`` past it) and handed to Django with the
  length it turned out to have, so a chunked JSON body is read like any other.
"""

from __future__ import annotations

import json

from django.conf import settings


def too_large_detail() -> str:
    """The one wording of a 413, here and in config/views.py."""
    return f"body: larger than the {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes a request may carry"


async def _answer_413(send) -> None:
    body = json.dumps({"detail": too_large_detail()}).encode()
    await send({"type": "http.response.start", "status": 413, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
        (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


def bounded_bodies(app):
    """Wrap the ASGI ``app`` (see the module's docstring); other scopes pass through untouched."""

    async def application(scope, receive, send):
        if scope["type"] != "http":
            return await app(scope, receive, send)
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        declared = next((value for name, value in scope["headers"] if name == b"content-length"), None)
        if declared is not None:
            if declared.strip().isdigit() and int(declared) > limit:
                return await _answer_413(send)
            return await app(scope, receive, send)
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return await _answer_413(send)
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        if size:
            scope = {**scope, "headers": [*scope["headers"], (b"content-length", str(size).encode())]}
        first = {"type": "http.request", "body": b"".join(chunks), "more_body": False}

        async def replay():
            nonlocal first
            if first is not None:
                message, first = first, None
                return message
            return await receive()

        return await app(scope, replay, send)

    return application
