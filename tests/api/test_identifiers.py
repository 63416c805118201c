"""Ids that are not of their kind's form never reach the database (config/ids.py): a path answers the
JSON 404 of an unknown id, a query parameter a 400 naming it. Each case once answered 500 DataError."""

import pytest

pytestmark = pytest.mark.django_db

SESSION_PATHS = [
    "/api/live-trading/session/{}",
    "/api/session/{}/diagnostics",
    "/api/sessions/{}/trades",
    "/api/sessions/{}/candles",
    "/api/sessions/{}/equity",
    "/api/sessions/{}/report",
    "/api/v2/live/stream/{}",
    "/api/v1/sse/{}",
]
SESSION_CONTROL_PATHS = ["/api/v2/live/pause/{}", "/api/v2/live/resume/{}", "/api/v2/live/speed/{}",
                         "/api/v2/live/stop/{}"]
USER_PATHS = ["/api/live-trading/dashboard/{}", "/api/live-trading/stream/{}"]
OBJECT_PATHS = ["/api/strategies/{}/", "/api/broker-connections/{}/"]

# As a client sends them on the wire: percent-encoded, a lone surrogate as the bytes ED A0 80.
HOSTILE = ["%00", "sim-%00", "%ED%A0%80", "sim-" + "a" * 10_000, "%C2%B2", "%D9%A3", "sim-abc%20def"]


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.mark.parametrize("template", SESSION_PATHS + USER_PATHS + OBJECT_PATHS)
def test_a_malformed_id_in_a_path_is_a_json_404(as_alice, as_charlie, template):
    for client in (as_alice, as_charlie):
        for value in HOSTILE:
            response = client.get(template.format(value))
            assert response.status_code == 404, (value, response.content[:200])
            assert response.json() == {"detail": "no such endpoint or object"}


@pytest.mark.parametrize("template", [*SESSION_CONTROL_PATHS, "/api/v2/live/stop/user/{}"])
def test_a_malformed_id_in_a_control_path_is_a_json_404(as_alice, as_charlie, template):
    for client in (as_alice, as_charlie):
        for value in HOSTILE:
            response = client.post(template.format(value), {"speed_multiplier": 2}, format="json")
            assert response.status_code == 404, (value, response.content[:200])


def test_a_well_formed_unknown_id_is_still_the_views_404(as_alice):
    response = as_alice.get("/api/live-trading/session/sim-000000000000")
    assert response.status_code == 404
    assert response.json() == {"detail": "No SimulationSession matches the given query."}


def test_an_upper_case_uuid_finds_the_object(as_alice, alice):
    from strategies.actions import create_strategy
    from tests.api.conftest import GRAPH

    strategy = create_strategy(alice, name="Upper", graph=GRAPH)

    response = as_alice.get(f"/api/strategies/{str(strategy.id).upper()}/")

    assert response.status_code == 200
    assert response.json()["id"] == str(strategy.id)


@pytest.mark.parametrize("path", ["/api/strategies/", "/api/broker-connections/"])
def test_a_malformed_owner_parameter_is_a_400_naming_it(as_charlie, path):
    for value in ["%00", "user_%00", "%ED%A0%80", "u" * 65, "user%20x"]:
        response = as_charlie.get(f"{path}?owner={value}")
        assert response.status_code == 400, value
        assert list(response.json()) == ["owner"]


def test_a_page_number_is_ascii_digits(as_alice):
    # "٣" is 3 to int(); a page number is ASCII digits, like every number the API takes.
    for page in ["%D9%A3", "%C2%B2", "%00", "1%00"]:
        response = as_alice.get(f"/api/strategies/?page={page}")
        assert response.status_code == 404, page
        assert response.json() == {"detail": "Invalid page."}
