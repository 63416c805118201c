"""Tokens (the endpoint and ``manage.py issue_token``) and ``/api/me``."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

TOKEN = "/api/auth/token"
ME = "/api/me"
BAD_CREDENTIALS = {"non_field_errors": ["Unable to log in with the username and password given."]}


def issue_token(*args) -> str:
    out = StringIO()
    call_command("issue_token", *args, stdout=out)
    return out.getvalue().strip()


def bearer(key) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


# -- POST /api/auth/token ---------------------------------------------------------------------


def test_the_right_password_gets_the_users_token(alice, anonymous):
    response = anonymous.post(TOKEN, {"username": "alice", "password": "alice-password-1"}, format="json")

    assert response.status_code == 200
    assert response.json() == {"token": Token.objects.get(user=alice).key, "user_id": alice.user_id}
    assert len(response.json()["token"]) == 40


def test_every_login_gets_the_same_token(alice, anonymous):
    credentials = {"username": "alice", "password": "alice-password-1"}

    first = anonymous.post(TOKEN, credentials, format="json").json()["token"]
    second = anonymous.post(TOKEN, credentials, format="json").json()["token"]

    assert first == second
    assert Token.objects.filter(user=alice).count() == 1


@pytest.mark.parametrize(
    ("username", "password"),
    [("alice", "wrong"), ("nobody", "alice-password-1"), ("bob", "alice-password-1"), ("ALICE", "alice-password-1")],
)
def test_bad_credentials_get_one_message_whatever_was_wrong(alice, bob, anonymous, username, password):
    response = anonymous.post(TOKEN, {"username": username, "password": password}, format="json")

    assert response.status_code == 400
    assert response.json() == BAD_CREDENTIALS
    assert not Token.objects.exists()


def test_an_inactive_user_gets_the_same_message(alice, anonymous):
    alice.is_active = False
    alice.save()

    response = anonymous.post(TOKEN, {"username": "alice", "password": "alice-password-1"}, format="json")

    assert response.status_code == 400
    assert response.json() == BAD_CREDENTIALS


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"username": "alice"}, {"password": ["This field is required."]}),
        ({"password": "x"}, {"username": ["This field is required."]}),
        ({"username": "alice", "password": "x", "remember": True}, {"remember": ["Unknown field."]}),
        ({"username": "a\x00", "password": "x"}, {"username": ["Null characters are not allowed."]}),
        ({"username": ["alice"], "password": "x"}, {"username": ["Not a valid string."]}),
    ],
)
def test_malformed_credentials_name_the_field(alice, anonymous, payload, expected):
    response = anonymous.post(TOKEN, payload, format="json")

    assert response.status_code == 400
    assert response.json() == expected


def test_a_stale_bearer_header_does_not_stop_a_login(alice):
    client = bearer("0" * 40)

    response = client.post(TOKEN, {"username": "alice", "password": "alice-password-1"}, format="json")

    assert response.status_code == 200


def test_staff_log_in_the_same_way(charlie, anonymous):
    response = anonymous.post(TOKEN, {"username": "charlie", "password": "charlie-password-1"}, format="json")

    assert response.json()["user_id"] == charlie.user_id


# -- GET /api/me ------------------------------------------------------------------------------


def test_me_says_who_the_token_belongs_to(alice, bob, as_alice, as_bob):
    assert as_alice.get(ME).json() == {"user_id": alice.user_id, "username": "alice", "is_staff": False}
    assert as_bob.get(ME).json() == {"user_id": bob.user_id, "username": "bob", "is_staff": False}


def test_me_says_staff_are_staff(charlie, as_charlie):
    assert as_charlie.get(ME).json() == {"user_id": charlie.user_id, "username": "charlie", "is_staff": True}


def test_me_needs_credentials(anonymous):
    response = anonymous.get(ME)

    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided."}
    assert response["WWW-Authenticate"] == "Bearer"


def test_me_works_with_a_browser_session(alice):
    client = APIClient()
    client.login(username="alice", password="alice-password-1")

    assert client.get(ME).json()["username"] == "alice"


def test_a_token_from_the_endpoint_works_as_bearer(alice, anonymous):
    key = anonymous.post(TOKEN, {"username": "alice", "password": "alice-password-1"}, format="json").json()["token"]

    assert bearer(key).get(ME).json()["user_id"] == alice.user_id


# -- manage.py issue_token --------------------------------------------------------------------


def test_issue_token_prints_the_users_token_creating_it_once(alice, bob):
    printed = issue_token("alice")

    assert printed == Token.objects.get(user=alice).key
    assert issue_token("alice") == printed
    assert bearer(printed).get(ME).json()["username"] == "alice"


def test_issue_token_prints_the_token_the_endpoint_gave(alice, anonymous):
    key = anonymous.post(TOKEN, {"username": "alice", "password": "alice-password-1"}, format="json").json()["token"]

    assert issue_token("alice") == key


def test_rotate_replaces_the_token_and_the_old_one_stops_working(alice, charlie):
    old = issue_token("alice")

    new = issue_token("alice", "--rotate")

    assert new != old
    assert bearer(old).get(ME).status_code == 401
    assert bearer(new).get(ME).json()["username"] == "alice"
    assert list(Token.objects.filter(user=alice).values_list("key", flat=True)) == [new]


def test_issue_token_refuses_an_unknown_user(alice):
    with pytest.raises(CommandError, match="No user named 'nobody'"):
        issue_token("nobody")
    assert not Token.objects.exists()


def test_issue_token_refuses_an_inactive_user(bob):
    bob.is_active = False
    bob.save()

    with pytest.raises(CommandError, match="'bob' is inactive"):
        issue_token("bob")
