"""The ownership rule: who may read which user's data and which user-owned rows (sessions,
strategies, broker connections). The REST API, the stream and the pages all ask here.

- A user reads their own data; another user's answers as if it did not exist (404), so ids cannot be
  probed.
- Staff read everyone's. Whether the *other* user's account is still active plays no part: a
  deactivated user's sessions may still run and their rows stay, and operators must be able to see and
  stop them. The *reader* must be an authenticated, active user, which authentication already ensures
  (the token and session backends refuse inactive accounts).
- Changing another user's objects is not part of reading: see ``accounts.api.OwnedObjectsMixin``.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import QuerySet


def _reader(viewer) -> bool:
    return viewer is not None and viewer.is_authenticated and viewer.is_active


def readable_user(viewer, user_id: str):
    """The user whose public id is ``user_id`` if ``viewer`` may read their data, else None."""
    if not _reader(viewer):
        return None
    if viewer.user_id == user_id:
        return viewer
    if not viewer.is_staff:
        return None
    return get_user_model().objects.filter(user_id=user_id).first()


def may_read_user(viewer, user_id: str) -> bool:
    """Whether ``viewer`` may read the data of the user whose public id is ``user_id``."""
    return readable_user(viewer, user_id) is not None


def readable(viewer, rows: QuerySet) -> QuerySet:
    """``rows`` (of a model with an ``owner``) narrowed to those ``viewer`` may read."""
    if not _reader(viewer):
        return rows.none()
    return rows if viewer.is_staff else rows.filter(owner=viewer)


def may_read(viewer, row) -> bool:
    """Whether ``viewer`` may read ``row`` (an object with an ``owner_id``)."""
    return _reader(viewer) and (viewer.is_staff or row.owner_id == viewer.pk)
