"""One validator per kind of identifier the API takes, used at the edge: in URL paths (as converters)
and in query parameters (as serializer fields).

An id that is not of its kind's form (a NUL byte, a lone surrogate, 10 KB of text, a non-ASCII
digit) never reaches the database: in a path it does not match, so the URL is a 404 like an unknown
id; in a query parameter it is a 400 naming the parameter.

Kinds and forms:

* session id: ``sim-`` and 12 hex digits as generated (``sessions_app.models.new_session_id``); the
  form accepted is letters, digits, ``-`` and ``_``, at most 20 (the column's length);
* user id: ``user_`` and 27 base62 characters as generated (``accounts.models.new_user_id``); the
  form accepted is letters, digits, ``-`` and ``_``, at most 64 (the column's length);
* object id (strategies, broker connections): a UUID, hex digits in either case, with hyphens.
"""

from __future__ import annotations

import re

from django.core.validators import RegexValidator
from django.urls import register_converter
from rest_framework import serializers

# ASCII only: \w and \d would admit "²" and "٣", which are digits to Python but not to the database.
SESSION_ID = r"[A-Za-z0-9_-]{1,20}"
USER_ID = r"[A-Za-z0-9_-]{1,64}"
UUID = r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"
def is_session_id(text: str) -> bool:
    """True when ``text`` has a session id's form (it may still name no session)."""
    return re.fullmatch(SESSION_ID, text) is not None


class _Converter:
    regex: str

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value) -> str:
        return str(value)


class SessionIdConverter(_Converter):
    regex = SESSION_ID


class UserIdConverter(_Converter):
    regex = USER_ID


class ObjectIdConverter(_Converter):
    """A UUID, passed to the view as a lower-case string."""

    regex = UUID

    def to_python(self, value: str) -> str:
        return value.lower()


register_converter(SessionIdConverter, "session_id")
register_converter(UserIdConverter, "user_id")
register_converter(ObjectIdConverter, "object_id")


class UserIdField(serializers.CharField):
    """A ``user_id`` in a query parameter or body; anything not of the form is a 400 naming the field."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 64)
        super().__init__(**kwargs)
        self.validators.append(RegexValidator(rf"^{USER_ID}\Z", "Not a user_id (letters, digits, - and _)."))
