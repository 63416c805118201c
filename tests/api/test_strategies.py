"""Strategy endpoints on the real Postgres: owners, other users, staff, and every way input can be bad."""

import json
import uuid
from datetime import datetime
from pathlib import Path

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from strategies.actions import create_strategy
from strategies.models import Strategy
from tests.api.conftest import GRAPH, graph

pytestmark = pytest.mark.django_db

LIST = "/api/strategies/"
VALIDATE = "/api/strategies/validate"
EXAMPLES = sorted((Path(settings.BASE_DIR) / "strategies" / "examples").glob("*.json"))


def detail(strategy_or_id):
    return f"/api/strategies/{getattr(strategy_or_id, 'id', strategy_or_id)}/"


def bad_offset_graph():
    g = graph()
    g["nodes"][1]["config"]["strike"]["offset"] = 21
    return g


@pytest.fixture
def alices(alice):
    return create_strategy(alice, name="Straddle", description="Sell both legs", graph=graph())


# -- create -----------------------------------------------------------------------------------


def test_it_creates_a_strategy_at_version_1_owned_by_the_caller(alice, as_alice):
    response = as_alice.post(LIST, {"name": "Short call", "description": "One lot", "graph": GRAPH}, format="json")

    assert response.status_code == 201
    body = response.json()
    stored = Strategy.objects.get()
    assert body == {
        "id": str(stored.id),
        "owner": alice.user_id,
        "name": "Short call",
        "description": "One lot",
        "version": 1,
        "graph": GRAPH,
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
    }
    assert (stored.owner, stored.name, stored.version, stored.graph) == (alice, "Short call", 1, GRAPH)


def test_name_and_description_default_to_the_graphs_own(as_alice):
    response = as_alice.post(LIST, {"graph": graph(description="From the graph")}, format="json")

    assert response.status_code == 201
    assert (response.json()["name"], response.json()["description"]) == ("ATM short call", "From the graph")


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_every_shipped_example_graph_is_accepted(as_alice, path):
    example = json.loads(path.read_text())

    response = as_alice.post(LIST, {"graph": example}, format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["graph"] == example


def test_an_invalid_graph_is_refused_with_every_problem_named_by_path(as_alice):
    g = bad_offset_graph()
    g["nodes"][1]["config"]["lots"] = 0
    g["edges"].append({"from": "start", "to": "nowhere"})

    response = as_alice.post(LIST, {"name": "Bad", "graph": g}, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "graph": [
            "nodes[1].config.strike.offset: must be an integer between -20 and 20",
            "nodes[1].config.lots: must be an integer between 1 and 100",
            "edges[1].to: 'nowhere' is not a node id",
        ]
    }
    assert not Strategy.objects.exists()


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"name": "x"}, {"graph": ["This field is required."]}),
        ({"graph": "not an object"}, {"graph": ["must be an object"]}),
        ({"graph": GRAPH, "speed": 5}, {"speed": ["Unknown field."]}),
        ({"graph": GRAPH, "name": "n" * 121}, {"name": ["Ensure this field has no more than 120 characters."]}),
        ({"graph": GRAPH, "name": ""}, {"name": ["This field may not be blank."]}),
        ({"graph": GRAPH, "version": 7}, {"version": ["Unknown field."]}),
        ({"graph": GRAPH, "name": "a\x00b"}, {"name": ["Null characters are not allowed."]}),
        ({"graph": graph(name="nul \x00 in graph")}, {"graph": ["must not contain NUL characters"]}),
        ({"graph": graph(description="\ud800")}, {"graph": ["must not contain unpaired surrogate characters"]}),
    ],
    ids=["no-graph", "graph-not-object", "unknown-field", "long-name", "blank-name",
         "read-only-field", "nul-in-name", "nul-in-graph", "surrogate-in-graph"],
)
def test_bad_input_is_refused_naming_the_field_and_nothing_is_stored(as_alice, payload, expected):
    # Encoded as a client would, with \u escapes (a lone surrogate cannot be sent as UTF-8)
    response = as_alice.post(LIST, json.dumps(payload), content_type="application/json")

    assert response.status_code == 400
    assert response.json() == expected
    assert not Strategy.objects.exists()


def test_a_graph_with_more_than_200_nodes_is_refused_before_validation(as_alice):
    nodes = [{"id": f"n{i}", "type": "exit"} for i in range(201)]

    response = as_alice.post(LIST, {"graph": graph(nodes=nodes)}, format="json")

    assert response.status_code == 400
    assert response.json() == {"graph": ["nodes: at most 200 nodes, got 201"]}


def test_a_graph_over_256_kb_is_refused(as_alice):
    g = graph(description="x" * (256 * 1024))
    size = len(json.dumps(g, separators=(",", ":")).encode())

    response = as_alice.post(LIST, {"graph": g}, format="json")

    assert response.status_code == 400
    assert response.json() == {"graph": [f"is {size} bytes as compact JSON; at most 262144 are accepted"]}


def test_malformed_json_is_a_400_naming_the_body(as_alice):
    response = as_alice.post(LIST, '{"graph": {', content_type="application/json")

    assert response.status_code == 400
    assert response.json()["detail"].startswith("body: JSON parse error")


def test_a_body_that_is_not_an_object_is_refused(as_alice):
    response = as_alice.post(LIST, [GRAPH], format="json")

    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}


def test_a_second_strategy_with_the_same_name_is_refused(as_alice, alices):
    response = as_alice.post(LIST, {"name": "Straddle", "graph": GRAPH}, format="json")

    assert response.status_code == 400
    assert response.json() == {"name": ["You already have a strategy named 'Straddle'."]}
    assert Strategy.objects.count() == 1


def test_another_user_may_use_the_same_name(as_bob, alices):
    response = as_bob.post(LIST, {"name": "Straddle", "graph": GRAPH}, format="json")

    assert response.status_code == 201


# -- list and read ----------------------------------------------------------------------------


def test_the_list_holds_only_the_callers_strategies_by_name(alice, bob, as_alice):
    b = create_strategy(alice, name="B", graph=graph())
    a = create_strategy(alice, name="A", graph=graph())
    create_strategy(bob, name="Bob's", graph=graph())

    response = as_alice.get(LIST)

    assert response.status_code == 200
    body = response.json()
    assert (body["count"], body["next"], body["previous"]) == (2, None, None)
    assert [s["id"] for s in body["results"]] == [str(a.id), str(b.id)]


def test_the_list_is_paginated_50_a_page(alice, as_alice):
    Strategy.objects.bulk_create(Strategy(owner=alice, name=f"s{i:03}", graph=GRAPH) for i in range(51))

    first = as_alice.get(LIST).json()
    second = as_alice.get(LIST, {"page": 2}).json()

    assert (first["count"], len(first["results"]), len(second["results"])) == (51, 50, 1)
    assert second["results"][0]["name"] == "s050"


def test_bob_cannot_list_alices_strategies(alice, as_bob, alices):
    assert as_bob.get(LIST).json()["count"] == 0

    response = as_bob.get(LIST, {"owner": alice.user_id})

    assert response.status_code == 403
    assert response.json() == {"detail": "Only staff may list other users' strategies."}


def test_staff_list_their_own_unless_they_name_an_owner(alice, as_charlie, alices):
    assert as_charlie.get(LIST).json()["count"] == 0

    response = as_charlie.get(LIST, {"owner": alice.user_id})

    assert response.status_code == 200
    assert [s["id"] for s in response.json()["results"]] == [str(alices.id)]


def test_the_owner_reads_a_strategy(alice, as_alice, alices):
    response = as_alice.get(detail(alices))

    assert response.status_code == 200
    assert response.json()["name"] == "Straddle"
    assert response.json()["owner"] == alice.user_id


def test_another_users_strategy_is_404_like_an_unknown_id(as_bob, alices):
    for url in (detail(alices), detail(uuid.uuid4())):
        response = as_bob.get(url)
        assert response.status_code == 404
        assert response.json() == {"detail": "No Strategy matches the given query."}


def test_a_path_id_that_is_not_a_uuid_is_404(as_alice):
    assert as_alice.get("/api/strategies/123/").status_code == 404


def test_staff_read_anyones_strategy(as_charlie, alices):
    response = as_charlie.get(detail(alices))

    assert response.status_code == 200
    assert response.json()["id"] == str(alices.id)


# -- update -----------------------------------------------------------------------------------


def test_put_replaces_the_strategy_and_bumps_the_version(as_alice, alices):
    new_graph = graph(name="Replaced")

    response = as_alice.put(detail(alices), {"graph": new_graph}, format="json")

    assert response.status_code == 200
    assert (response.json()["name"], response.json()["description"]) == ("Replaced", "")
    assert response.json()["version"] == 2
    alices.refresh_from_db()
    assert (alices.name, alices.graph, alices.version) == ("Replaced", new_graph, 2)


def test_patch_changes_only_the_fields_given_and_bumps_the_version(as_alice, alices):
    response = as_alice.patch(detail(alices), {"name": "Strangle"}, format="json")

    assert response.status_code == 200
    alices.refresh_from_db()
    assert (alices.name, alices.description, alices.graph, alices.version) == ("Strangle", "Sell both legs", GRAPH, 2)


def test_an_edit_moves_updated_at_but_not_created_at(as_alice, alices):
    before = as_alice.get(detail(alices)).json()

    after = as_alice.patch(detail(alices), {"description": "x"}, format="json").json()

    assert after["created_at"] == before["created_at"]
    assert datetime.fromisoformat(after["updated_at"]) > datetime.fromisoformat(before["updated_at"])


def test_each_edit_gets_its_own_version(as_alice, alices):
    versions = [as_alice.patch(detail(alices), {"description": str(i)}, format="json").json()["version"]
                for i in range(3)]

    assert versions == [2, 3, 4]


def test_an_invalid_graph_in_an_update_changes_nothing(as_alice, alices):
    response = as_alice.patch(detail(alices), {"name": "Renamed", "graph": bad_offset_graph()}, format="json")

    assert response.status_code == 400
    assert response.json() == {"graph": ["nodes[1].config.strike.offset: must be an integer between -20 and 20"]}
    alices.refresh_from_db()
    assert (alices.name, alices.graph, alices.version) == ("Straddle", GRAPH, 1)


def test_renaming_onto_another_of_ones_strategies_is_refused(alice, as_alice, alices):
    create_strategy(alice, name="Other", graph=graph())

    response = as_alice.patch(detail(alices), {"name": "Other"}, format="json")

    assert response.status_code == 400
    assert response.json() == {"name": ["You already have a strategy named 'Other'."]}


def test_put_keeping_its_own_name_is_fine(as_alice, alices):
    response = as_alice.put(detail(alices), {"name": "Straddle", "graph": GRAPH}, format="json")

    assert response.status_code == 200


def test_an_unknown_field_in_a_patch_is_refused(as_alice, alices):
    response = as_alice.patch(detail(alices), {"owner": "user_x"}, format="json")

    assert response.status_code == 400
    assert response.json() == {"owner": ["Unknown field."]}


def test_bob_cannot_change_or_delete_alices_strategy(as_bob, alices):
    assert as_bob.patch(detail(alices), {"name": "Mine"}, format="json").status_code == 404
    assert as_bob.put(detail(alices), {"graph": GRAPH}, format="json").status_code == 404
    assert as_bob.delete(detail(alices)).status_code == 404
    alices.refresh_from_db()
    assert (alices.name, alices.version) == ("Straddle", 1)


def test_staff_cannot_change_or_delete_another_users_strategy(as_charlie, alices):
    response = as_charlie.patch(detail(alices), {"name": "Staff edit"}, format="json")

    assert response.status_code == 403
    assert response.json() == {"detail": "Staff may read other users' strategies but not change them."}
    assert as_charlie.delete(detail(alices)).status_code == 403
    alices.refresh_from_db()
    assert (alices.name, alices.version) == ("Straddle", 1)


# -- delete -----------------------------------------------------------------------------------


def test_the_owner_deletes_a_strategy(as_alice, alices):
    response = as_alice.delete(detail(alices))

    assert response.status_code == 204
    assert not Strategy.objects.exists()
    assert as_alice.get(detail(alices)).status_code == 404


# -- validate ---------------------------------------------------------------------------------


def test_validate_says_a_valid_graph_is_valid_and_stores_nothing(as_alice):
    response = as_alice.post(VALIDATE, {"graph": GRAPH}, format="json")

    assert response.status_code == 200
    assert response.json() == {"valid": True}
    assert not Strategy.objects.exists()


def test_validate_names_each_problem_by_path(as_alice):
    g = graph()
    del g["format_version"]

    response = as_alice.post(VALIDATE, {"graph": g}, format="json")

    assert response.status_code == 400
    assert response.json() == {"graph": ["format_version: is required"]}


def test_validate_refuses_unknown_fields_and_a_missing_graph(as_bob):
    assert as_bob.post(VALIDATE, {}, format="json").json() == {"graph": ["This field is required."]}
    assert as_bob.post(VALIDATE, {"graph": GRAPH, "x": 1}, format="json").json() == {"x": ["Unknown field."]}


def test_staff_validate_too(as_charlie):
    assert as_charlie.post(VALIDATE, {"graph": GRAPH}, format="json").json() == {"valid": True}


# -- authentication ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url"),
    [("get", LIST), ("post", LIST), ("post", VALIDATE), ("get", None), ("patch", None), ("delete", None)],
)
def test_every_strategy_endpoint_needs_credentials(anonymous, alices, method, url):
    response = getattr(anonymous, method)(url or detail(alices), {}, format="json")

    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided."}


def test_a_wrong_bearer_token_is_401(alices):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer 0000000000000000000000000000000000000000")

    response = client.get(LIST)

    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid token."}


def test_a_logged_in_browser_session_works_and_needs_csrf_for_changes(alice, alices):
    client = APIClient(enforce_csrf_checks=True)
    client.login(username="alice", password="alice-password-1")

    assert client.get(LIST).json()["count"] == 1
    response = client.post(LIST, {"graph": GRAPH}, format="json")
    assert response.status_code == 403
    assert response.json()["detail"].startswith("CSRF Failed")


def test_a_body_nested_too_deep_is_a_400(as_alice):
    body = '{"graph": ' + "[" * 100_000 + "]" * 100_000 + "}"

    response = as_alice.post(VALIDATE, body, content_type="application/json")

    assert response.status_code == 400
    assert response.json() == {"detail": "body: JSON is nested too deeply"}
