"""A strategy's versions through the API (owner, another user, staff), and a delete refused while a session
that has not ended uses the strategy."""

import copy
from datetime import date

import pytest

from sessions_app import lifecycle
from sessions_app.models import SimulationSession
from strategies.actions import create_strategy
from strategies.models import Strategy
from tests.api.conftest import GRAPH

pytestmark = pytest.mark.django_db


def versions(strategy) -> str:
    return f"/api/strategies/{strategy.id}/versions/"


def version(strategy, n) -> str:
    return f"/api/strategies/{strategy.id}/versions/{n}"


def with_lots(lots: int) -> dict:
    g = copy.deepcopy(GRAPH)
    next(n for n in g["nodes"] if n["type"] == "entry")["config"]["lots"] = lots
    return g


@pytest.fixture
def edited(alice, as_alice):
    """Alice's strategy at version 3: created with 1 lot, edited to 2 lots, then renamed with 3 lots."""
    strategy = create_strategy(alice, name="Short call", description="v1", graph=with_lots(1))
    assert as_alice.patch(f"/api/strategies/{strategy.id}/", {"graph": with_lots(2)}, format="json").status_code == 200
    r = as_alice.put(f"/api/strategies/{strategy.id}/", {"name": "Short call x3", "description": "v3",
                                                         "graph": with_lots(3)}, format="json")
    assert r.status_code == 200 and r.json()["version"] == 3
    return strategy


def test_the_owner_lists_every_version_newest_first(as_alice, edited):
    body = as_alice.get(versions(edited)).json()

    assert body["count"] == 3
    assert [(v["version"], v["name"]) for v in body["results"]] == [
        (3, "Short call x3"), (2, "Short call"), (1, "Short call")]
    assert set(body["results"][0]) == {"version", "name", "created_at"}
    stamps = [v["created_at"] for v in body["results"]]
    assert stamps == sorted(stamps, reverse=True)


def test_an_earlier_version_reads_back_its_own_graph(as_alice, edited):
    first = as_alice.get(version(edited, 1))
    current = as_alice.get(version(edited, 3))

    assert first.status_code == 200
    assert {k: first.json()[k] for k in ("version", "name", "description", "graph")} == {
        "version": 1, "name": "Short call", "description": "v1", "graph": with_lots(1)}
    assert current.json()["graph"] == with_lots(3) == as_alice.get(f"/api/strategies/{edited.id}/").json()["graph"]


@pytest.mark.parametrize("n", ["0", "4", "99999999999999999999"])
def test_a_version_that_does_not_exist_is_404(as_alice, edited, n):
    response = as_alice.get(version(edited, n))

    assert response.status_code == 404
    assert response.json() == {"detail": "No StrategyVersion matches the given query."}


def test_another_users_strategy_versions_are_404_as_if_missing(as_bob, edited):
    missing = {"detail": "No Strategy matches the given query."}

    assert (as_bob.get(versions(edited)).status_code, as_bob.get(versions(edited)).json()) == (404, missing)
    assert (as_bob.get(version(edited, 1)).status_code, as_bob.get(version(edited, 1)).json()) == (404, missing)


def test_staff_read_anyones_versions(as_charlie, edited):
    assert as_charlie.get(versions(edited)).json()["count"] == 3
    assert as_charlie.get(version(edited, 2)).json()["graph"] == with_lots(2)


def test_versions_need_a_login(anonymous, edited):
    assert anonymous.get(versions(edited)).status_code == 401
    assert anonymous.get(version(edited, 1)).status_code == 401


# -- delete while a session uses it --------------------------------------------------------------


def session_of(strategy, status) -> SimulationSession:
    day = date(2024, 10, 29)
    return SimulationSession.objects.create(
        owner=strategy.owner, strategy=strategy, strategy_name=strategy.name, strategy_version=strategy.version,
        graph=strategy.graph, start_date=day, end_date=day, underlying="NIFTY", status=status,
    )


def test_deleting_a_strategy_a_running_session_uses_is_a_409_naming_the_session(alice, as_alice):
    strategy = create_strategy(alice, name="Busy", graph=GRAPH)
    session = session_of(strategy, lifecycle.RUNNING)

    response = as_alice.delete(f"/api/strategies/{strategy.id}/")

    assert response.status_code == 409
    assert response.json() == {"detail": f"This strategy is used by session {session.id} (trading date 29 Oct 2024, "
                                         "running); stop it before deleting the strategy."}
    assert Strategy.objects.filter(pk=strategy.pk).exists()


def test_once_the_session_has_ended_the_delete_goes_through(alice, as_alice):
    strategy = create_strategy(alice, name="Busy", graph=GRAPH)
    session = session_of(strategy, lifecycle.PAUSED)
    assert as_alice.delete(f"/api/strategies/{strategy.id}/").status_code == 409
    SimulationSession.objects.filter(pk=session.pk).update(status=lifecycle.STOPPED)

    assert as_alice.delete(f"/api/strategies/{strategy.id}/").status_code == 204
    assert not Strategy.objects.filter(pk=strategy.pk).exists()


def test_bob_learns_nothing_of_alices_busy_strategy(alice, as_bob):
    strategy = create_strategy(alice, name="Busy", graph=GRAPH)
    session_of(strategy, lifecycle.RUNNING)

    assert as_bob.delete(f"/api/strategies/{strategy.id}/").status_code == 404


def test_a_change_from_an_older_version_is_refused_while_the_current_one_goes_through(alice, as_alice, bob, as_bob):
    strategy = create_strategy(alice, name="Short call", graph=with_lots(1))
    url = f"/api/strategies/{strategy.id}/"
    assert as_alice.patch(url, {"graph": with_lots(2), "base_version": 1}, format="json").json()["version"] == 2

    stale = as_alice.put(url, {"graph": with_lots(3), "base_version": 1}, format="json")

    assert stale.status_code == 409
    assert "now at version 2" in stale.json()["detail"]
    strategy.refresh_from_db()
    assert (strategy.version, strategy.graph) == (2, with_lots(2))
    assert as_alice.put(url, {"graph": with_lots(3), "base_version": 2}, format="json").json()["version"] == 3
    # Another user learns nothing from a version number.
    assert as_bob.put(url, {"graph": with_lots(4), "base_version": 3}, format="json").status_code == 404
    # A new strategy has no earlier version: the field is ignored, not a 500.
    created = as_alice.post("/api/strategies/", {"name": "New", "graph": GRAPH, "base_version": 7}, format="json")
    assert (created.status_code, created.json()["version"]) == (201, 1)
    assert as_alice.put(url, {"graph": GRAPH, "base_version": "x"}, format="json").json() == {
        "base_version": ["A valid integer is required."]}
