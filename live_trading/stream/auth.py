"""Who opens a stream: the session cookie (browsers), ``Authorization: Bearer <API token>``, or a
short-lived signed stream token in ``?token=`` (external frontends: ``EventSource`` cannot set
headers). Tokens come from ``POST /api/live-trading/stream-token``; they name the user, expire after
``STREAM_TOKEN_MAX_AGE`` seconds, and stop working when the user's password changes. A stream that
is already open is not cut when its token expires; a reconnection needs a fresh token."""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.utils.crypto import constant_time_compare

SALT = "live_trading.stream.token"


class BadCredentials(Exception):
    """Credentials were given but are not valid (expired or forged token, unknown API token)."""


def issue_token(user) -> dict:
    """Return ``{"token", "expires_in", "user_id"}`` for ``user``."""
    token = signing.dumps({"u": user.pk, "h": user.get_session_auth_hash()[:16]}, salt=SALT, compress=True)
    return {"token": token, "expires_in": settings.STREAM_TOKEN_MAX_AGE, "user_id": user.user_id}


def user_from_token(token: str):
    """The active user a stream token names; BadCredentials if it is expired, forged or stale."""
    try:
        payload = signing.loads(token, salt=SALT, max_age=settings.STREAM_TOKEN_MAX_AGE)
    except signing.SignatureExpired:
        raise BadCredentials("The stream token has expired; ask for a new one.") from None
    except signing.BadSignature:
        raise BadCredentials("Invalid stream token.") from None
    user = get_user_model().objects.filter(pk=payload.get("u"), is_active=True).first()
    if user is None or not constant_time_compare(user.get_session_auth_hash()[:16], payload.get("h", "")):
        raise BadCredentials("Invalid stream token.")
    return user


def _user_from_api_token(key: str):
    from rest_framework.authtoken.models import Token

    token = Token.objects.select_related("user").filter(key=key).first()
    if token is None or not token.user.is_active:
        raise BadCredentials("Invalid token.")
    return token.user


async def authenticate(request):
    """Return the user opening the stream, None if no credentials came; BadCredentials if bad ones did."""
    token = request.GET.get("token")
    if token:
        return await sync_to_async(user_from_token)(token)
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return await sync_to_async(_user_from_api_token)(header[len("Bearer "):].strip())
    user = await request.auser()
    return user if user.is_authenticated else None
