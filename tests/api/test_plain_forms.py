"""Numbers and dates given as text are taken only in their plain ASCII form, in every body and query
parameter (config.api.PlainFormsMixin): Python's parsers would take other scripts' digits, underscores,
spaces and ISO 8601's basic form, none of which a client means. Each refusal is a 400 naming the field."""

import pytest

from live_trading.models import BrokerConnection
from sessions_app.models import SimulationSession
from tests.sessions.conftest import setup_for, start_body

pytestmark = pytest.mark.django_db

NOT_A_NUMBER = ["A valid number is required."]
NOT_A_DATE = ["Date has wrong format. Use one of these formats instead: YYYY-MM-DD."]
# Fullwidth and Arabic-Indic digits, an underscore, spaces, an exponent, a plus sign, ISO 8601's basic form,
# a month of one digit: each is a number or a date to Python, none is one to the API.
NUMBERS = ["１２", "٣", "1_000", " 12", "12 ", "1e3", "+5", "0x10", ""]
DATES = ["２０２４-10-29", "2024-10-٢٩", "20241029", "2024-1-29", "2024-10-29 ", "2024-10-29T00:00"]


def connection(**change):
    return {"name": "paper", "broker_type": "paper", "account_id": "PAPER-1", "starting_capital": "1000.00", **change}


@pytest.mark.parametrize("capital", NUMBERS)
def test_a_starting_capital_not_written_plainly_is_refused(as_alice, capital):
    response = as_alice.post("/api/broker-connections/", connection(starting_capital=capital), format="json")

    assert (response.status_code, response.json()) == (400, {"starting_capital": NOT_A_NUMBER})
    assert BrokerConnection.objects.count() == 0


@pytest.mark.parametrize("capital, stored", [("12", "12.00"), ("1000000.50", "1000000.50"), (12, "12.00")])
def test_a_plain_starting_capital_is_taken(as_alice, capital, stored):
    response = as_alice.post("/api/broker-connections/", connection(starting_capital=capital), format="json")

    assert (response.status_code, response.json()["starting_capital"]) == (201, stored)


def test_a_change_of_starting_capital_is_held_to_the_same_form(as_alice, as_bob, alice):
    created = as_alice.post("/api/broker-connections/", connection(), format="json").json()

    response = as_alice.patch(f"/api/broker-connections/{created['id']}/", {"starting_capital": "５"}, format="json")

    assert (response.status_code, response.json()) == (400, {"starting_capital": NOT_A_NUMBER})
    assert str(BrokerConnection.objects.get().starting_capital) == "1000.00"
    assert as_bob.patch(f"/api/broker-connections/{created['id']}/", {"starting_capital": "5"},
                        format="json").status_code == 404


@pytest.mark.parametrize("field", ["date", "to"])
@pytest.mark.parametrize("day", DATES)
def test_a_start_date_not_written_yyyy_mm_dd_in_ascii_is_refused(as_alice, alice, field, day):
    strategy, broker = setup_for(alice)

    response = as_alice.post("/api/v2/live/start", start_body(strategy, broker, **{field: day}), format="json")

    assert (response.status_code, response.json()) == (400, {field: NOT_A_DATE})
    assert SimulationSession.objects.count() == 0


@pytest.mark.parametrize("day", DATES)
def test_the_session_list_refuses_a_date_filter_not_written_yyyy_mm_dd_in_ascii(as_alice, as_charlie, day):
    for client in (as_alice, as_charlie):
        response = client.get("/api/sessions/", {"date": day})

        assert (response.status_code, response.json()) == (400, {"date": NOT_A_DATE})


def test_the_session_list_takes_a_plain_date(as_alice, as_bob):
    assert as_alice.get("/api/sessions/", {"date": "2024-10-29"}).json()["results"] == []
    assert as_bob.get("/api/sessions/", {"date": "2024-10-29"}).status_code == 200
