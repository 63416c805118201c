"""Shared fixtures: three users in every module that needs them (an owner, another user, staff), and API
clients authenticated as each the way external frontends are, with a Bearer token."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient


@pytest.fixture
def alice(django_user_model):
    """The owner in most tests."""
    return django_user_model.objects.create_user("alice", password="alice-password-1")


@pytest.fixture
def bob(django_user_model):
    """Another user, who must never see alice's things."""
    return django_user_model.objects.create_user("bob", password="bob-password-1")


@pytest.fixture
def charlie(django_user_model):
    """Staff."""
    return django_user_model.objects.create_user("charlie", password="charlie-password-1", is_staff=True,
                                                 is_superuser=True)


def client_for(user) -> APIClient:
    """Return a client that sends ``Authorization: Bearer <user's token>``."""
    token, _ = Token.objects.get_or_create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token.key}")
    return client


@pytest.fixture
def anonymous():
    return APIClient()


@pytest.fixture
def as_alice(alice):
    return client_for(alice)


@pytest.fixture
def as_bob(bob):
    return client_for(bob)


@pytest.fixture
def as_charlie(charlie):
    return client_for(charlie)
