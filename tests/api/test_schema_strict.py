"""The OpenAPI schema is as strict as the server: bodies that refuse unknown fields say so, and a strategy
graph has its JSON schema (strategies/graph/json_schema.py) rather than "any"."""

import copy
import json
from pathlib import Path

import jsonschema
import pytest

from tests.api.conftest import GRAPH

pytestmark = pytest.mark.django_db

EXAMPLES = Path(__file__).resolve().parents[2] / "strategies" / "examples"
# Every request body the server reads with StrictSerializerMixin (config/api.py).
STRICT_BODIES = ["StartRequest", "SpeedRequest", "StrategyInputRequest", "PatchedStrategyInputRequest",
                 "GraphCheckRequest", "BrokerConnectionInputRequest", "PatchedBrokerConnectionInputRequest",
                 "CredentialsRequest"]


@pytest.fixture(scope="module")
def components(django_db_blocker):
    from django.test import Client

    with django_db_blocker.unblock():
        response = Client().get("/api/schema/?format=json")
    assert response.status_code == 200
    return json.loads(response.content)["components"]["schemas"]


@pytest.mark.parametrize("name", STRICT_BODIES)
def test_a_strict_body_admits_no_other_properties(components, name):
    assert components[name]["additionalProperties"] is False


def test_a_strict_body_keeps_its_own_description_only(components):
    assert "description" not in components["StartRequest"]  # not the mixin's docstring


def graph_schema(components, body="StrategyInputRequest"):
    return components[body]["properties"]["graph"]


def test_the_graph_in_every_body_is_the_same_real_schema(components):
    schema = graph_schema(components)
    assert schema["additionalProperties"] is False
    assert schema["required"] == ["format_version", "name", "nodes"]
    assert graph_schema(components, "GraphCheckRequest") == schema
    assert graph_schema(components, "PatchedStrategyInputRequest") == schema


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.json")), ids=lambda p: p.stem)
def test_every_example_strategy_fits_the_graph_schema(components, path):
    jsonschema.validate(json.loads(path.read_text()), graph_schema(components))


def changed(change):
    graph = copy.deepcopy(GRAPH)
    change(graph)
    return graph


@pytest.mark.parametrize("graph", [
    changed(lambda g: g.update(colour="red")),                                     # unknown top-level key
    changed(lambda g: g.update(format_version=2)),
    changed(lambda g: g.update(nodes=[])),
    changed(lambda g: g["nodes"][0].update(shape="round")),                        # unknown node key
    changed(lambda g: g["nodes"][0].update(type="teleport")),
    changed(lambda g: g["nodes"][0].update(id="Start")),                          # ids are lower case
    changed(lambda g: g["nodes"][0]["config"].update(lots=1)),                     # an entry's key on a start
    changed(lambda g: g["edges"].append({"from": "start", "to": "sell-ce", "weight": 1})),
    changed(lambda g: g.pop("name")),
], ids=["unknown key", "version 2", "no nodes", "unknown node key", "unknown type", "upper-case id",
        "config key of another type", "unknown edge key", "no name"])
def test_the_graph_schema_refuses_what_the_server_refuses(as_alice, components, graph):
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(graph, graph_schema(components))
    response = as_alice.post("/api/strategies/validate", {"graph": graph}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["graph"]


def admitted(schema, value) -> bool:
    try:
        jsonschema.validate(value, schema)
    except jsonschema.ValidationError:
        return False
    return True


# Speeds: SIM_MAX_SPEED is 10000 and the least speed 0.1; "max" is the one way to say as fast as possible.
@pytest.mark.parametrize("speed, taken", [
    (1, True), (0.1, True), (60, True), (10000, True), ("max", True),
    (0, False), (0.05, False), (10000.5, False), (-1, False), ("0", False), ("60", False), ("Max", False),
    ("max ", False), (True, False), (None, False),
])
def test_the_speed_schema_admits_exactly_what_the_server_takes(components, settings, speed, taken):
    from live_trading.api.serializers import SpeedSerializer

    settings.SIM_MAX_SPEED = 10000

    assert admitted(components["SpeedRequest"], {"speed_multiplier": speed}) is taken
    assert SpeedSerializer(data={"speed_multiplier": speed}).is_valid() is taken


# Capital: rupees from 0.01, at most 14 digits before the point and 2 after.
@pytest.mark.parametrize("capital, taken", [
    ("0.01", True), ("12", True), ("1000000.50", True), ("99999999999999.99", True), ("007", True), (12.5, True),
    ("0", False), ("0.00", False), ("-5", False), ("-5.00", False), ("1.234", False), ("100000000000000", False),
    ("１２", False), ("1_000", False), (".5", False), ("5.", False), ("", False), (-5, False), (0, False),
])
def test_the_capital_schema_admits_exactly_what_the_server_takes(as_alice, components, capital, taken):
    body = {"account_id": "A1", "starting_capital": capital}

    assert admitted(components["BrokerConnectionInputRequest"], body) is taken
    assert as_alice.post("/api/broker-connections/", body, format="json").status_code == (201 if taken else 400)
