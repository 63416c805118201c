"""Broker connection endpoints on the real Postgres: owners, other users, staff, bad input, and the
refusal to delete a connection a live session uses."""

import json
import uuid
from datetime import date
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from live_trading.broker_actions import create_broker_connection
from live_trading.models import BrokerConnection
from sessions_app.models import SimulationSession
from tests.api.conftest import GRAPH

pytestmark = pytest.mark.django_db

LIST = "/api/broker-connections/"
NEW = {"name": "Paper", "broker_type": "paper", "account_id": "PAPER-001", "starting_capital": "1000000.00"}


def detail(connection_or_id):
    return f"/api/broker-connections/{getattr(connection_or_id, 'id', connection_or_id)}/"


@pytest.fixture
def alices(alice):
    return create_broker_connection(
        alice, name="Zerodha main", broker_type="zerodha", account_id="ZX1234", starting_capital=Decimal("500000.00")
    )


def session_using(connection, status):
    return SimulationSession.objects.create(
        owner=connection.owner, broker_connection=connection, strategy_name="s", strategy_version=1, graph=GRAPH,
        start_date=date(2024, 11, 4), end_date=date(2024, 11, 4), underlying="NIFTY", status=status,
    )


# -- create -----------------------------------------------------------------------------------


def test_it_creates_a_connection_owned_by_the_caller(alice, as_alice):
    response = as_alice.post(LIST, NEW, format="json")

    assert response.status_code == 201
    stored = BrokerConnection.objects.get()
    body = response.json()
    assert body == {
        "id": str(stored.id),
        "owner": alice.user_id,
        "name": "Paper",
        "broker_type": "paper",
        "account_id": "PAPER-001",
        "starting_capital": "1000000.00",
        "fee_model": "nse_fo",
        "fee_per_order": None,
        "fee_percent": None,
        "fee_cap": None,
        "slippage_ticks": 0,
        "created_at": body["created_at"],
    }
    assert (stored.owner, stored.starting_capital) == (alice, Decimal("1000000.00"))


def test_broker_type_defaults_to_paper_and_name_to_empty(as_alice):
    response = as_alice.post(LIST, {"account_id": "A1", "starting_capital": "250000"}, format="json")

    assert response.status_code == 201
    assert (response.json()["broker_type"], response.json()["name"]) == ("paper", "")
    assert response.json()["starting_capital"] == "250000.00"


def test_capital_given_as_a_json_number_is_stored_exactly(as_alice):
    response = as_alice.post(LIST, {"account_id": "A1", "starting_capital": 100000.1}, format="json")

    assert response.status_code == 201
    assert response.json()["starting_capital"] == "100000.10"
    assert BrokerConnection.objects.get().starting_capital == Decimal("100000.10")


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"starting_capital": "100.123"}, {"starting_capital": ["Ensure that there are no more than 2 decimal places."]}),
        ({"starting_capital": "-5.00"}, {"starting_capital": ["Ensure this value is greater than or equal to 0.01."]}),
        ({"starting_capital": "0"}, {"starting_capital": ["Ensure this value is greater than or equal to 0.01."]}),
        ({"starting_capital": "lots"}, {"starting_capital": ["A valid number is required."]}),
        ({"starting_capital": "NaN"}, {"starting_capital": ["A valid number is required."]}),
        ({"starting_capital": "12345678901234567.00"},
         {"starting_capital": ["Ensure that there are no more than 16 digits in total."]}),
        ({"starting_capital": None}, {"starting_capital": ["This field may not be null."]}),
        ({"broker_type": "robinhood"}, {"broker_type": ['"robinhood" is not a valid choice.']}),
        ({"account_id": ""}, {"account_id": ["This field may not be blank."]}),
        ({"account_id": "x" * 65}, {"account_id": ["Ensure this field has no more than 64 characters."]}),
        ({"account_id": "a\x00"}, {"account_id": ["Null characters are not allowed."]}),
        ({"name": "n" * 121}, {"name": ["Ensure this field has no more than 120 characters."]}),
        ({"owner": "user_x"}, {"owner": ["Unknown field."]}),
        ({"id": str(uuid.uuid4())}, {"id": ["Unknown field."]}),
    ],
    ids=["three-places", "negative", "zero", "words", "nan", "too-many-digits", "null", "bad-type",
         "blank-account", "long-account", "nul-account", "long-name", "owner", "id"],
)
def test_bad_input_is_refused_naming_the_field_and_nothing_is_stored(as_alice, changes, expected):
    response = as_alice.post(LIST, json.dumps({**NEW, **changes}), content_type="application/json")

    assert response.status_code == 400
    assert response.json() == expected
    assert not BrokerConnection.objects.exists()


def test_a_missing_account_and_capital_are_named(as_alice):
    response = as_alice.post(LIST, {"name": "x"}, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "account_id": ["This field is required."],
        "starting_capital": ["This field is required."],
    }


def test_the_same_account_at_the_same_broker_is_refused_once_per_user(as_alice, as_bob, alices):
    payload = {"broker_type": "zerodha", "account_id": "ZX1234", "starting_capital": "1.00"}

    response = as_alice.post(LIST, payload, format="json")

    assert response.status_code == 400
    assert response.json() == {"account_id": ["You already have a zerodha connection for account 'ZX1234'."]}
    assert as_alice.post(LIST, {**payload, "broker_type": "angel-one"}, format="json").status_code == 201
    assert as_bob.post(LIST, payload, format="json").status_code == 201


# -- list and read ----------------------------------------------------------------------------


def test_the_list_holds_only_the_callers_connections_oldest_first(alice, bob, as_alice, alices):
    second = create_broker_connection(alice, account_id="P2", starting_capital=Decimal("1.00"))
    create_broker_connection(bob, account_id="B1", starting_capital=Decimal("1.00"))

    response = as_alice.get(LIST)

    assert response.status_code == 200
    body = response.json()
    assert (body["count"], body["next"], body["previous"]) == (2, None, None)
    assert [c["id"] for c in body["results"]] == [str(alices.id), str(second.id)]


def test_bob_cannot_list_alices_connections(alice, as_bob, alices):
    assert as_bob.get(LIST).json()["count"] == 0

    response = as_bob.get(LIST, {"owner": alice.user_id})

    assert response.status_code == 403
    assert response.json() == {"detail": "Only staff may list other users' broker connections."}


def test_staff_list_their_own_unless_they_name_an_owner(alice, as_charlie, alices):
    assert as_charlie.get(LIST).json()["count"] == 0

    response = as_charlie.get(LIST, {"owner": alice.user_id})

    assert [c["account_id"] for c in response.json()["results"]] == ["ZX1234"]


def test_the_owner_reads_a_connection(alice, as_alice, alices):
    response = as_alice.get(detail(alices))

    assert response.status_code == 200
    assert response.json()["starting_capital"] == "500000.00"
    assert response.json()["owner"] == alice.user_id


def test_another_users_connection_is_404_like_an_unknown_id(as_bob, alices):
    for url in (detail(alices), detail(uuid.uuid4())):
        response = as_bob.get(url)
        assert response.status_code == 404
        assert response.json() == {"detail": "No BrokerConnection matches the given query."}


def test_a_path_id_that_is_not_a_uuid_is_404(as_alice):
    assert as_alice.get("/api/broker-connections/42/").status_code == 404


def test_staff_read_anyones_connection(as_charlie, alices):
    assert as_charlie.get(detail(alices)).json()["id"] == str(alices.id)


# -- update -----------------------------------------------------------------------------------


def test_patch_changes_only_the_capital(as_alice, alices):
    response = as_alice.patch(detail(alices), {"starting_capital": "750000.50"}, format="json")

    assert response.status_code == 200
    assert response.json()["starting_capital"] == "750000.50"
    alices.refresh_from_db()
    assert (alices.name, alices.account_id, alices.starting_capital) == ("Zerodha main", "ZX1234", Decimal("750000.50"))


def test_put_replaces_the_fields(as_alice, alices):
    response = as_alice.put(detail(alices), NEW, format="json")

    assert response.status_code == 200
    alices.refresh_from_db()
    assert (alices.name, alices.broker_type, alices.account_id, alices.starting_capital) == (
        "Paper", "paper", "PAPER-001", Decimal("1000000.00"))


def test_an_update_onto_another_of_ones_accounts_is_refused(alice, as_alice, alices):
    create_broker_connection(alice, broker_type="paper", account_id="P2", starting_capital=Decimal("1.00"))

    response = as_alice.patch(detail(alices), {"broker_type": "paper", "account_id": "P2"}, format="json")

    assert response.status_code == 400
    assert response.json() == {"account_id": ["You already have a paper connection for account 'P2'."]}
    alices.refresh_from_db()
    assert (alices.broker_type, alices.account_id) == ("zerodha", "ZX1234")


def test_bad_capital_in_an_update_changes_nothing(as_alice, alices):
    response = as_alice.patch(detail(alices), {"name": "x", "starting_capital": "-1"}, format="json")

    assert response.status_code == 400
    assert response.json() == {"starting_capital": ["Ensure this value is greater than or equal to 0.01."]}
    alices.refresh_from_db()
    assert (alices.name, alices.starting_capital) == ("Zerodha main", Decimal("500000.00"))


def test_bob_cannot_change_or_delete_alices_connection(as_bob, alices):
    assert as_bob.patch(detail(alices), {"name": "Mine"}, format="json").status_code == 404
    assert as_bob.delete(detail(alices)).status_code == 404
    alices.refresh_from_db()
    assert alices.name == "Zerodha main"


def test_staff_cannot_change_or_delete_another_users_connection(as_charlie, alices):
    response = as_charlie.patch(detail(alices), {"name": "Staff"}, format="json")

    assert response.status_code == 403
    assert response.json() == {"detail": "Staff may read other users' broker connections but not change them."}
    assert as_charlie.delete(detail(alices)).status_code == 403
    assert BrokerConnection.objects.filter(pk=alices.pk, name="Zerodha main").exists()


# -- delete -----------------------------------------------------------------------------------


def test_the_owner_deletes_an_unused_connection(as_alice, alices):
    response = as_alice.delete(detail(alices))

    assert response.status_code == 204
    assert not BrokerConnection.objects.exists()


@pytest.mark.parametrize("status", ["created", "running", "paused"])
def test_a_connection_a_live_session_uses_cannot_be_deleted(as_alice, alices, status):
    session = session_using(alices, status)

    response = as_alice.delete(detail(alices))

    assert response.status_code == 409
    assert response.json() == {
        "detail": f"This broker connection is used by 1 session(s) that have not ended ({session.id}); "
        "stop them before deleting it."
    }
    assert BrokerConnection.objects.filter(pk=alices.pk).exists()


def test_ended_sessions_keep_their_results_when_the_connection_goes(as_alice, alices):
    ended = [session_using(alices, s) for s in ("completed", "stopped", "failed", "interrupted")]

    response = as_alice.delete(detail(alices))

    assert response.status_code == 204
    assert [SimulationSession.objects.get(pk=s.pk).broker_connection_id for s in ended] == [None] * 4


# -- authentication ---------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "url"), [("get", LIST), ("post", LIST), ("get", None), ("put", None),
                                             ("delete", None)])
def test_every_broker_endpoint_needs_credentials(anonymous, alices, method, url):
    response = getattr(anonymous, method)(url or detail(alices), {}, format="json")

    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided."}


def test_a_logged_in_browser_session_works(alice, alices):
    client = APIClient()
    client.login(username="alice", password="alice-password-1")

    assert client.get(LIST).json()["count"] == 1
