"""``GET /api/sessions/?owner=`` behaves as on strategies and broker connections (accounts.api's
OwnedObjectsMixin): staff list that user's sessions, anyone may name themselves, a user naming someone
else gets 403, and an owner that is not of a user_id's form is a 400 naming ``owner``."""

from datetime import date

import pytest

from sessions_app.models import SimulationSession

pytestmark = pytest.mark.django_db

LIST = "/api/sessions/"


def session_of(user, status="stopped") -> str:
    """A finished session row of ``user`` (nothing runs); return its id."""
    return SimulationSession.objects.create(
        owner=user, strategy_name="NIFTY short straddle", strategy_version=1, graph={}, start_date=date(2024, 10, 29),
        end_date=date(2024, 10, 29), underlying="NIFTY", status=status).id


def listed(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["session_id"] for row in response.json()["results"]]


@pytest.fixture
def alices(alice):
    return session_of(alice)


def test_staff_list_the_sessions_of_the_user_they_name(alice, as_charlie, alices, charlie):
    own = session_of(charlie)

    assert listed(as_charlie.get(LIST, {"owner": alice.user_id})) == [alices]
    assert listed(as_charlie.get(LIST)) == [own]


def test_staff_filters_apply_to_the_named_users_sessions(alice, as_charlie, alices):
    running = session_of(alice, status="running")

    assert listed(as_charlie.get(LIST, {"owner": alice.user_id, "status": "running"})) == [running]


def test_a_user_naming_another_user_is_refused(alice, as_bob, alices):
    response = as_bob.get(LIST, {"owner": alice.user_id})

    assert (response.status_code, response.json()) == (403, {"detail": "Only staff may list other users' sessions."})


def test_anyone_may_name_themselves(alice, as_alice, alices, bob):
    session_of(bob)

    assert listed(as_alice.get(LIST, {"owner": alice.user_id})) == [alices]


@pytest.mark.parametrize("owner", ["\x00", "user_\u00e9", "x" * 65, "user 1"])
def test_an_owner_not_of_a_user_ids_form_is_a_400_naming_owner(as_alice, as_charlie, owner):
    for client in (as_alice, as_charlie):
        response = client.get(LIST, {"owner": owner})

        assert response.status_code == 400
        assert list(response.json()) == ["owner"]
