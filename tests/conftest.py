"""Shared fixtures: three users in every module that needs them (an owner, another user, staff), and API
clients authenticated as each the way external frontends are, with a Bearer token."""

from collections import Counter
from functools import cache

import pytest
from django.contrib.auth.hashers import make_password
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


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """Drop any connection pool made before the test database exists, so every test uses the test database.

    Django's PostgreSQL pool (``OPTIONS['pool']``) is made the first time a connection is even closed, with
    the database name of that moment. A test without database access that closes one (``simulate``, a
    command) made it with the main database's name; ``create_test_db`` renames the database but keeps that
    pool, so the workers that ran such a test first migrated and ran every later test in the main database
    (the developer's, or the embedded one), seeing whatever an earlier run left there."""
    from django.db import connections

    for connection in connections.all():
        if connection.alias in getattr(type(connection), "_connection_pools", {}):
            connection.close_pool()


@pytest.fixture(scope="session", autouse=True)
def _tests_use_the_test_database(request):
    """Fail the run at once if a test would read or write another database than the test database."""
    if not any(item.get_closest_marker("django_db") for item in request.session.items):
        yield
        return
    request.getfixturevalue("django_db_setup")
    from django.db import connection

    with request.getfixturevalue("django_db_blocker").unblock(), connection.cursor() as cursor:
        cursor.execute("SELECT current_database()")
        (name,) = cursor.fetchone()
    assert name == connection.settings_dict["NAME"] and name.startswith("test_"), (
        f"tests are connected to database {name!r}, not the test database {connection.settings_dict['NAME']!r}")
    yield


@cache
def password_hash(password: str) -> str:
    """``password`` hashed as the product stores it (PBKDF2 with the settings' iterations), once per test
    process: a hash takes about a second of CPU on a busy two-core machine, and most tests create two or
    three users. The hash is the real one, so logging in with the password still checks it for real."""
    return make_password(password)


def create_user(django_user_model, username: str, password: str, **fields):
    """A user as ``create_user`` makes one, with ``password``'s hash computed once per process."""
    user = django_user_model(username=django_user_model.normalize_username(username), **fields)
    user.password = password_hash(password)
    user.save()
    return user


@pytest.fixture
def alice(django_user_model):
    """The owner in most tests."""
    return create_user(django_user_model, "alice", "alice-password-1")


@pytest.fixture
def bob(django_user_model):
    """Another user, who must never see alice's things."""
    return create_user(django_user_model, "bob", "bob-password-1")


@pytest.fixture
def charlie(django_user_model):
    """Staff."""
    return create_user(django_user_model, "charlie", "charlie-password-1", is_staff=True, is_superuser=True)


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
