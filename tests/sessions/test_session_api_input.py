"""Every refusal of the session endpoints: a 4xx naming the field, and no session row written."""

import json

import pytest

from sessions_app.models import SimulationSession
from strategies.models import Strategy
from tests.sessions.conftest import DAY, start_body

pytestmark = pytest.mark.django_db


def start(client, body, **kwargs):
    return client.post("/api/v2/live/start", body, format="json", **kwargs)


def assert_nothing_written():
    assert SimulationSession.objects.count() == 0


def test_malformed_json_is_a_400_about_the_body(as_alice, alice_setup):
    response = as_alice.post("/api/v2/live/start", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("body: JSON parse error")
    assert_nothing_written()


def test_a_body_that_is_not_an_object_is_refused(as_alice, alice_setup):
    response = as_alice.post("/api/v2/live/start", json.dumps([1, 2]), content_type="application/json")
    assert response.status_code == 400
    assert_nothing_written()


@pytest.mark.parametrize(
    "change, expected",
    [
        ({"strategy_id": "abc"}, {"strategy_id": ["Must be a valid UUID."]}),
        ({"strategy_id": "00000000-0000-0000-0000-000000000000"}, {"strategy_id": ["no such strategy of yours"]}),
        ({"speed_multipler": 2}, {"speed_multipler": ["Unknown field."]}),
        ({"speed_multiplier": "fast"}, {"speed_multiplier": ['must be a number or "max"']}),
        ({"speed_multiplier": True}, {"speed_multiplier": ['must be a number or "max"']}),
        ({"speed_multiplier": 0.05}, {"speed_multiplier": ['must be from 0.1 to 10000, or "max" for as fast as possible']}),
        ({"speed_multiplier": 1e9}, {"speed_multiplier": ['must be from 0.1 to 10000, or "max" for as fast as possible']}),
        *[({"speed_multiplier": spelled}, {"speed_multiplier": ['must be a number or "max"']})
          for spelled in ("1_000", " 60", "1e3", "inf", "NaN", "-1", "٣٠", "+5", "", "0", "60", "Max", " max")],
        ({"speed_multiplier": 0}, {"speed_multiplier": ['must be from 0.1 to 10000, or "max" for as fast as possible']}),
        ({"speed_multiplier": 10**400}, {"speed_multiplier": ['must be from 0.1 to 10000, or "max" for as fast as possible']}),
        ({"mode": "turbo"}, {"mode": ['"turbo" is not a valid choice.']}),
        ({"date": "29-10-2024"}, {"date": ["Date has wrong format. Use one of these formats instead: YYYY-MM-DD."]}),
        ({"date": "2024-11-20"}, {"date": ["2024-11-20 is not a trading day (a weekend or exchange holiday)"]}),
        ({"date": "2024-10-26"}, {"date": ["2024-10-26 is not a trading day (a weekend or exchange holiday)"]}),
        ({"date": "2099-01-01"}, {"date": ["must be a past trading day"]}),
        ({"to": "2024-10-28"}, {"to": ["must not be before date"]}),
        ({"to": "2025-01-31"}, {"to": ["a session replays at most 31 days"]}),
        ({"user_id": "user_someone_else"}, {"user_id": ["must be your own user_id (or left out)"]}),
        ({"underlying": "BANKNIFTY"}, {"underlying": ["the strategy trades NIFTY, not BANKNIFTY"]}),
    ],
)
def test_bad_start_requests_name_the_field(as_alice, alice_setup, change, expected):
    strategy, broker = alice_setup
    response = start(as_alice, {**start_body(strategy, broker), **change})
    assert response.status_code == 400, response.content
    assert response.json() == expected
    assert_nothing_written()


def test_a_strategy_whose_graph_became_invalid_cannot_start(as_alice, alice, alice_setup):
    _, broker = alice_setup
    broken = Strategy.objects.create(owner=alice, name="broken", graph={"format_version": 1, "nodes": [], "edges": []})

    response = start(as_alice, start_body(broken, broker))

    assert response.status_code == 400
    errors = response.json()["strategy_id"]
    assert errors and all(e.startswith("the strategy is invalid: ") for e in errors)
    assert_nothing_written()


def test_an_oversized_body_is_refused(as_alice, alice_setup, settings):
    strategy, broker = alice_setup
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    response = start(as_alice, {**start_body(strategy, broker), "underlying": "N" * 20_000})
    assert response.status_code == 413
    assert response.json() == {"detail": "body: larger than the 10000 bytes a request may carry"}
    assert_nothing_written()


def test_unknown_api_paths_answer_json(as_alice):
    response = as_alice.get("/api/no/such/thing")
    assert response.status_code == 404
    assert response.json() == {"detail": "no such endpoint or object"}


def test_anonymous_callers_are_refused(client, alice, alice_setup):
    strategy, broker = alice_setup
    assert client.post("/api/v2/live/start", start_body(strategy, broker), content_type="application/json").status_code == 401
    assert client.get(f"/api/live-trading/dashboard/{alice.user_id}").status_code == 401
    assert client.post("/api/v2/live/stop/all").status_code == 401


@pytest.mark.parametrize("method, path", [
    ("get", "/api/live-trading/session/sim-000000000000"),
    ("get", "/api/session/sim-000000000000/diagnostics"),
    ("get", "/api/sessions/sim-000000000000/trades"),
    ("post", "/api/v2/live/stop/sim-000000000000"),
    ("post", "/api/v2/live/pause/sim-000000000000"),
    ("post", "/api/v2/live/resume/sim-000000000000"),
    ("get", "/api/live-trading/dashboard/user_nobody"),
    ("post", "/api/v2/live/stop/user/user_nobody"),
])
def test_unknown_ids_are_404(as_alice, as_charlie, method, path):
    assert getattr(as_alice, method)(path).status_code == 404
    assert getattr(as_charlie, method)(path).status_code == 404


def finished_session(owner, strategy, broker):
    return SimulationSession.objects.create(
        owner=owner, strategy=strategy, strategy_name=strategy.name, strategy_version=1, graph=strategy.graph,
        broker_connection=broker, start_date=DAY, end_date=DAY, underlying="NIFTY", status="completed",
    )


@pytest.mark.parametrize("action", ["pause", "resume"])
def test_controlling_a_finished_session_is_a_conflict(as_alice, alice, alice_setup, action):
    session = finished_session(alice, *alice_setup)
    response = as_alice.post(f"/api/v2/live/{action}/{session.id}")
    assert response.status_code == 409
    assert response.json() == {"detail": "the session is completed", "status": "completed"}


def test_speed_changes_are_validated(as_alice, alice, alice_setup):
    session = finished_session(alice, *alice_setup)
    assert as_alice.post(f"/api/v2/live/speed/{session.id}", {}, format="json").json() == {
        "speed_multiplier": ["This field is required."]}
    assert as_alice.post(f"/api/v2/live/speed/{session.id}", {"speed_multiplier": -1}, format="json").status_code == 400
    assert as_alice.post(f"/api/v2/live/speed/{session.id}", {"speed_multiplier": 2}, format="json").status_code == 409


def test_stopping_a_finished_session_says_so(as_alice, alice, alice_setup):
    session = finished_session(alice, *alice_setup)
    response = as_alice.post(f"/api/v2/live/stop/{session.id}")
    body = {k: response.json()[k] for k in ("session_id", "status", "message")}
    assert body == {"session_id": session.id, "status": "completed", "message": "Session already completed"}


def test_session_list_filters_and_their_errors(as_alice, as_bob, as_charlie, alice, alice_setup):
    session = finished_session(alice, *alice_setup)
    assert [s["session_id"] for s in as_alice.get("/api/sessions/", {"status": "completed"}).json()["results"]] == [
        session.id]
    assert as_alice.get("/api/sessions/", {"status": "running"}).json()["count"] == 0
    assert as_alice.get("/api/sessions/", {"date": "2024-10-29"}).json()["count"] == 1
    assert as_alice.get("/api/sessions/", {"date": "2024-10-30"}).json()["count"] == 0
    assert as_alice.get("/api/sessions/", {"status": "exploded"}).json() == {"status": ['"exploded" is not a valid choice.']}
    assert as_alice.get("/api/sessions/", {"date": "yesterday"}).json() == {
        "date": ["Date has wrong format. Use one of these formats instead: YYYY-MM-DD."]}
    assert as_bob.get("/api/sessions/").json()["count"] == 0
    assert as_charlie.get("/api/sessions/").json()["count"] == 0  # the list is one's own; staff use the admin


def test_compressed_diagnostics_round_trip(as_alice, alice, alice_setup):
    import base64
    import gzip

    session = finished_session(alice, *alice_setup)
    plain = as_alice.get(f"/api/session/{session.id}/diagnostics").json()
    packed = as_alice.get(f"/api/session/{session.id}/diagnostics", {"compress": "1"}).json()

    assert packed["encoding"] == "gzip+base64"
    assert json.loads(gzip.decompress(base64.b64decode(packed["diagnostics"]))) == plain


@pytest.mark.parametrize("day", ["1900-01-01", "2019-12-31", "2023-01-02"])
def test_a_day_before_the_charge_schedule_is_refused_before_any_data_is_generated(as_alice, alice_setup, settings,
                                                                                  tmp_path, day):
    # Charges are known from 1 Apr 2023 (live_trading/engine/charges.py); 2 Jan 2023 has contract facts,
    # so it once generated its 12 MB market day before the engine refused it with a 500.
    settings.MARKET_DATA_DIR = tmp_path
    strategy, broker = alice_setup

    response = start(as_alice, {**start_body(strategy, broker), "date": day})

    assert response.status_code == 400
    assert response.json() == {"date": [f"no charge rates in force on {day}; the schedule starts 2023-04-01"]}
    assert_nothing_written()
    assert list(tmp_path.rglob("*")) == []
