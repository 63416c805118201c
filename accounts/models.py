"""Users. The API addresses a user by ``user_id``, a stable string, never by the integer primary key."""

import secrets
import string

from django.contrib.auth.models import AbstractUser
from django.db import models

_ALPHABET = string.ascii_letters + string.digits


def new_user_id() -> str:
    """Return a fresh id of the seeds' form, ``user_`` and 27 base62 characters."""
    return "user_" + "".join(secrets.choice(_ALPHABET) for _ in range(27))


class User(AbstractUser):
    user_id = models.CharField(max_length=64, unique=True, default=new_user_id, editable=False)

    def __str__(self):
        return self.username
