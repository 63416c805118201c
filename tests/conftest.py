"""Shared fixtures: three users in every module that needs them (an owner, another user, staff), and API
clients authenticated as each the way external frontends are, with a Bearer token."""

from collections import Counter

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient


def pytest_collection_modifyitems(config, items):
    """Give every test a node id of its own: pytest-xdist hands tests to its workers by id and runs one
    test per id. Schemathesis names its cases ``test_x[GET /api/...]`` and sets their ids the way pytest
    before 9 kept them (``_nodeid``), so under pytest 9 every case has the undecorated function's id and
    xdist would run one case of 31; such a case gets its name into its id. Any other clash stops the run,
    naming the ids, rather than losing tests silently."""
    for item in items:
        own = f"{item.parent.nodeid}::{item.name}"
        if item.nodeid != own and item.nodeid == f"{item.parent.nodeid}::{getattr(item, 'originalname', None)}":
            item._id = type(item.id).parse(own)
    clashes = [nodeid for nodeid, count in Counter(item.nodeid for item in items).items() if count > 1]
    if clashes:
        raise pytest.UsageError(f"tests sharing a node id (xdist would run only one of each): {clashes[:10]}")


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
