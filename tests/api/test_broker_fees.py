"""A broker connection's fee model and slippage through the API, on the real Postgres: each model is
stored and read back, bad input is a 400 naming the field with nothing written, a change of model clears
the parameters the new one does not take, only the owner changes them, the admin checks them the same
way, and the OpenAPI schema documents them."""

import json
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from live_trading.broker_actions import create_broker_connection
from live_trading.engine.fees import FeeModel
from live_trading.models import BrokerConnection

pytestmark = pytest.mark.django_db

LIST = "/api/broker-connections/"
NEW = {"broker_type": "paper", "account_id": "PAPER-001", "starting_capital": "1000000.00"}
NO_PARAMETERS = {"fee_per_order": None, "fee_percent": None, "fee_cap": None}


def detail(connection):
    return f"/api/broker-connections/{connection.id}/"


def fees_of(body: dict) -> dict:
    return {k: body[k] for k in ("fee_model", "fee_per_order", "fee_percent", "fee_cap", "slippage_ticks")}


@pytest.fixture
def alices(alice):
    return create_broker_connection(
        alice,
        account_id="ZX1234",
        broker_type="zerodha",
        starting_capital=Decimal("500000.00"),
        fee_model="percent",
        fee_percent=Decimal("0.03"),
        fee_cap=Decimal("20.00"),
        slippage_ticks=1,
    )


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ({}, {"fee_model": "nse_fo", **NO_PARAMETERS, "slippage_ticks": 0}),
        (
            {"fee_model": "none", "slippage_ticks": 2},
            {"fee_model": "none", **NO_PARAMETERS, "slippage_ticks": 2},
        ),
        (
            {"fee_model": "per_order", "fee_per_order": "15.5"},
            {**NO_PARAMETERS, "fee_model": "per_order", "fee_per_order": "15.50", "slippage_ticks": 0},
        ),
        (
            {"fee_model": "percent", "fee_percent": "0.03503", "fee_cap": 20, "slippage_ticks": "3"},
            {
                "fee_model": "percent",
                "fee_per_order": None,
                "fee_percent": "0.03503",
                "fee_cap": "20.00",
                "slippage_ticks": 3,
            },
        ),
        (
            {"fee_model": "percent", "fee_percent": 1, "fee_cap": None},
            {
                "fee_model": "percent",
                "fee_per_order": None,
                "fee_percent": "1.00000",
                "fee_cap": None,
                "slippage_ticks": 0,
            },
        ),
    ],
    ids=["default", "none", "per_order", "percent-capped", "percent-uncapped"],
)
def test_each_fee_model_is_stored_and_read_back(as_alice, given, stored):
    response = as_alice.post(LIST, {**NEW, **given}, format="json")

    assert response.status_code == 201, response.content
    assert fees_of(response.json()) == stored
    connection = BrokerConnection.objects.get()
    assert fees_of(as_alice.get(detail(connection)).json()) == stored
    assert connection.engine_fees() == FeeModel.from_dict(stored)  # what a session started on it runs with


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({"fee_model": "flat"}, {"fee_model": ['"flat" is not a valid choice.']}),
        ({"fee_model": 3}, {"fee_model": ['"3" is not a valid choice.']}),
        ({"fee_model": None}, {"fee_model": ["This field may not be null."]}),
        (
            {"fee_model": "none", "fee_cap": "20"},
            {"fee_cap": ["only the percent fee model takes it; this one is none"]},
        ),
        ({"fee_cap": "20"}, {"fee_cap": ["only the percent fee model takes it; this one is nse_fo"]}),
        (
            {"fee_model": "per_order", "fee_per_order": "20", "fee_cap": "20"},
            {"fee_cap": ["only the percent fee model takes it; this one is per_order"]},
        ),
        (
            {"fee_model": "percent", "fee_percent": "0.03", "fee_per_order": "1"},
            {"fee_per_order": ["only the per_order fee model takes it; this one is percent"]},
        ),
        ({"fee_model": "per_order"}, {"fee_per_order": ["required with the per_order fee model"]}),
        ({"fee_model": "percent", "fee_cap": "20"}, {"fee_percent": ["required with the percent fee model"]}),
        (
            {"fee_model": "per_order", "fee_per_order": "-1"},
            {"fee_per_order": ["Ensure this value is greater than or equal to 0."]},
        ),
        (
            {"fee_model": "per_order", "fee_per_order": "10000.01"},
            {"fee_per_order": ["Ensure this value is less than or equal to 10000."]},
        ),
        (
            {"fee_model": "per_order", "fee_per_order": "1.005"},
            {"fee_per_order": ["Ensure that there are no more than 2 decimal places."]},
        ),
        (
            {"fee_model": "per_order", "fee_per_order": "twenty"},
            {"fee_per_order": ["A valid number is required."]},
        ),
        (
            {"fee_model": "percent", "fee_percent": "-0.01"},
            {"fee_percent": ["Ensure this value is greater than or equal to 0."]},
        ),
        (
            {"fee_model": "percent", "fee_percent": "300"},
            {"fee_percent": ["Ensure this value is less than or equal to 10."]},
        ),
        (
            {"fee_model": "percent", "fee_percent": "0.000001"},
            {"fee_percent": ["Ensure that there are no more than 5 decimal places."]},
        ),
        ({"fee_model": "percent", "fee_percent": "1e1"}, {"fee_percent": ["A valid number is required."]}),
        ({"fee_model": "percent", "fee_percent": "NaN"}, {"fee_percent": ["A valid number is required."]}),
        (
            {"fee_model": "percent", "fee_percent": "0.03", "fee_cap": "-5"},
            {"fee_cap": ["Ensure this value is greater than or equal to 0."]},
        ),
        ({"slippage_ticks": -1}, {"slippage_ticks": ["Ensure this value is greater than or equal to 0."]}),
        ({"slippage_ticks": 1001}, {"slippage_ticks": ["Ensure this value is less than or equal to 1000."]}),
        ({"slippage_ticks": 1.5}, {"slippage_ticks": ["A valid integer is required."]}),
        ({"slippage_ticks": "two"}, {"slippage_ticks": ["A valid integer is required."]}),
        ({"slippage_ticks": "２"}, {"slippage_ticks": ["A valid integer is required."]}),
        ({"slippage_ticks": None}, {"slippage_ticks": ["This field may not be null."]}),
    ],
    ids=[
        "unknown-model",
        "number-model",
        "null-model",
        "cap-with-none",
        "cap-with-default",
        "cap-with-per-order",
        "per-order-with-percent",
        "per-order-missing",
        "percent-missing",
        "negative-fee",
        "absurd-fee",
        "fee-three-places",
        "fee-words",
        "negative-percent",
        "absurd-percent",
        "percent-six-places",
        "percent-exponent",
        "percent-nan",
        "negative-cap",
        "negative-slippage",
        "absurd-slippage",
        "fractional-slippage",
        "slippage-words",
        "slippage-fullwidth",
        "null-slippage",
    ],
)
def test_bad_fees_are_refused_naming_the_field_and_nothing_is_stored(as_alice, given, expected):
    response = as_alice.post(LIST, json.dumps({**NEW, **given}), content_type="application/json")

    assert response.status_code == 400
    assert response.json() == expected
    assert not BrokerConnection.objects.exists()


def test_a_change_of_model_clears_the_parameters_the_new_one_does_not_take(as_alice, alices):
    response = as_alice.patch(detail(alices), {"fee_model": "none"}, format="json")

    assert response.status_code == 200
    assert fees_of(response.json()) == {"fee_model": "none", **NO_PARAMETERS, "slippage_ticks": 1}
    alices.refresh_from_db()
    assert (alices.fee_model, alices.fee_percent, alices.fee_cap) == ("none", None, None)


def test_a_change_of_one_parameter_keeps_the_others(as_alice, alices):
    response = as_alice.patch(detail(alices), {"fee_cap": "25"}, format="json")

    assert response.status_code == 200
    assert fees_of(response.json()) == {
        "fee_model": "percent",
        "fee_per_order": None,
        "fee_percent": "0.03000",
        "fee_cap": "25.00",
        "slippage_ticks": 1,
    }


def test_a_change_to_per_order_needs_its_fee_and_changes_nothing_without_it(as_alice, alices):
    response = as_alice.patch(detail(alices), {"fee_model": "per_order", "name": "x"}, format="json")

    assert response.status_code == 400
    assert response.json() == {"fee_per_order": ["required with the per_order fee model"]}
    alices.refresh_from_db()
    assert (alices.name, alices.fee_model, alices.fee_percent) == ("", "percent", Decimal("0.03000"))


def test_a_cap_on_a_per_order_connection_is_refused_and_changes_nothing(as_alice, alice):
    connection = create_broker_connection(
        alice,
        account_id="P1",
        starting_capital=Decimal("1.00"),
        fee_model="per_order",
        fee_per_order=Decimal("20"),
    )

    response = as_alice.patch(detail(connection), {"fee_cap": "10"}, format="json")

    assert response.status_code == 400
    assert response.json() == {"fee_cap": ["only the percent fee model takes it; this one is per_order"]}
    connection.refresh_from_db()
    assert (connection.fee_model, connection.fee_per_order, connection.fee_cap) == (
        "per_order",
        Decimal("20.00"),
        None,
    )


def test_bob_can_neither_see_nor_change_alices_fees(as_bob, alices):
    assert as_bob.get(detail(alices)).status_code == 404
    assert (
        as_bob.patch(detail(alices), {"fee_model": "none", "slippage_ticks": 0}, format="json").status_code
        == 404
    )
    assert as_bob.get(LIST).json()["count"] == 0
    alices.refresh_from_db()
    assert (alices.fee_model, alices.slippage_ticks) == ("percent", 1)


def test_staff_read_alices_fees_but_cannot_change_them(as_charlie, alices):
    assert fees_of(as_charlie.get(detail(alices)).json())["fee_cap"] == "20.00"
    assert as_charlie.patch(detail(alices), {"fee_model": "none"}, format="json").status_code == 403
    alices.refresh_from_db()
    assert alices.fee_model == "percent"


@pytest.mark.parametrize(
    "fields",
    [
        {"fee_model": "per_order"},  # no fee
        {"fee_model": "none", "fee_cap": Decimal("1")},  # a cap without percent
        {"fee_model": "percent", "fee_percent": Decimal("11")},
        {"fee_model": "flat"},
        {"slippage_ticks": 1001},
    ],
)
def test_the_database_refuses_a_connection_no_session_could_run_with(alice, fields):
    with pytest.raises(IntegrityError), transaction.atomic():
        BrokerConnection.objects.create(owner=alice, account_id="X", starting_capital=Decimal("1"), **fields)


def test_the_admin_form_checks_fees_as_the_api_does(alice, client, charlie, alices):
    client.force_login(charlie)
    url = f"/admin/live_trading/brokerconnection/{alices.id}/change/"
    form = {
        "owner": alice.pk,
        "name": "",
        "broker_type": "zerodha",
        "account_id": "ZX1234",
        "starting_capital": "500000.00",
        "fee_model": "none",
        "fee_per_order": "",
        "fee_percent": "",
        "fee_cap": "20",
        "slippage_ticks": "1",
    }

    refused = client.post(url, form)

    assert refused.status_code == 200  # the form again, with the error
    assert "only the percent fee model takes it; this one is none" in refused.content.decode()
    assert client.post(url, {**form, "fee_cap": ""}).status_code == 302
    alices.refresh_from_db()
    assert (alices.fee_model, alices.fee_cap) == ("none", None)


def test_the_schema_documents_the_fee_fields(client):
    schemas = client.get("/api/schema/?format=json").json()["components"]["schemas"]

    body = schemas["BrokerConnectionInputRequest"]["properties"]
    assert set(body) >= {"fee_model", "fee_per_order", "fee_percent", "fee_cap", "slippage_ticks"}
    assert (body["slippage_ticks"]["minimum"], body["slippage_ticks"]["maximum"]) == (0, 1000)
    assert schemas["FeeModelEnum"]["enum"] == ["nse_fo", "none", "per_order", "percent"]
    assert body["fee_model"]["allOf"] == [{"$ref": "#/components/schemas/FeeModelEnum"}]
    assert set(schemas["SessionFees"]["properties"]) == {
        "fee_model",
        "fee_per_order",
        "fee_percent",
        "fee_cap",
    }
    assert "slippage_ticks" in schemas["SessionRow"]["properties"]
    assert "slippage_ticks" in schemas["BrokerConnection"]["properties"]
