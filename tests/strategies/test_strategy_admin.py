"""The strategies' admin writes through ``strategies.actions``: a strategy added there has its version 1,
an edit keeps the previous graph, and one a session still uses is not deleted, alone or in bulk."""

import json

import pytest
from django.test import Client

from sessions_app import lifecycle
from strategies.actions import create_strategy
from strategies.models import Strategy, StrategyVersion
from tests.api.conftest import GRAPH
from tests.api.test_strategy_versions import session_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(charlie):
    client = Client()
    client.force_login(charlie)
    return client


def form(owner, name, graph=GRAPH, versions=0):
    """The admin form's fields, with the management form of the (read-only) versions inline."""
    return {"owner": owner.pk, "name": name, "description": "", "graph": json.dumps(graph),
            "versions-TOTAL_FORMS": str(versions), "versions-INITIAL_FORMS": str(versions),
            "versions-MIN_NUM_FORMS": "0", "versions-MAX_NUM_FORMS": "1000"}


def test_a_strategy_added_in_the_admin_has_its_first_version(staff, alice):
    response = staff.post("/admin/strategies/strategy/add/", form(alice, "Added by staff"))
    assert response.status_code == 302, response.content[:2000]
    strategy = Strategy.objects.get(owner=alice, name="Added by staff")
    assert list(StrategyVersion.objects.filter(strategy=strategy).values_list("version", "graph")) == [(1, GRAPH)]


def test_an_edit_in_the_admin_keeps_the_previous_graph(staff, alice):
    strategy = create_strategy(alice, name="Edited", graph=GRAPH)
    edited = {**GRAPH, "description": "edited by staff"}
    response = staff.post(f"/admin/strategies/strategy/{strategy.pk}/change/", form(alice, "Edited", edited, 1))
    assert response.status_code == 302, response.content[:2000]
    rows = dict(StrategyVersion.objects.filter(strategy=strategy).values_list("version", "graph"))
    assert rows == {1: GRAPH, 2: edited}


def test_the_versions_are_listed_read_only(staff, alice):
    strategy = create_strategy(alice, name="Listed", graph=GRAPH)
    page = staff.get(f"/admin/strategies/strategy/{strategy.pk}/change/").content.decode()
    assert "Strategy versions" in page or "strategy versions" in page.lower()
    assert 'name="versions-0-name"' not in page  # shown as text, not as a field


def test_a_strategy_a_running_session_uses_is_not_deleted_in_the_admin(staff, alice, bob):
    busy = create_strategy(alice, name="Busy", graph=GRAPH)
    session = session_of(busy, lifecycle.RUNNING)
    idle = create_strategy(bob, name="Idle", graph=GRAPH)

    response = staff.post(f"/admin/strategies/strategy/{busy.pk}/delete/", {"post": "yes"}, follow=True)
    assert response.status_code == 200
    assert session.id in response.content.decode()
    assert Strategy.objects.filter(pk=busy.pk).exists()

    response = staff.post("/admin/strategies/strategy/", {
        "action": "delete_selected", "_selected_action": [str(busy.pk), str(idle.pk)], "post": "yes"}, follow=True)
    assert response.status_code == 200
    assert session.id in response.content.decode()
    assert list(Strategy.objects.values_list("name", flat=True)) == ["Busy"]


def test_someone_without_staff_status_never_gets_in(alice):
    client = Client()
    client.force_login(alice)
    assert client.get("/admin/strategies/strategy/").status_code == 302  # to the admin's login


def test_the_owner_is_not_offered_for_change_and_a_save_without_changes_adds_no_version(staff, alice, bob):
    # The actions change name, description and graph only: an owner field on the change page was dropped
    # silently on save ("changed successfully", still alice's), and a save changing nothing made a version.
    strategy = create_strategy(alice, name="Kept", graph=GRAPH)
    page = staff.get(f"/admin/strategies/strategy/{strategy.pk}/change/").content.decode()
    assert 'name="owner"' not in page

    response = staff.post(f"/admin/strategies/strategy/{strategy.pk}/change/", form(bob, "Kept", GRAPH, 1))

    assert response.status_code == 302, response.content[:2000]
    strategy.refresh_from_db()
    assert (strategy.owner, strategy.version) == (alice, 1)
    assert StrategyVersion.objects.filter(strategy=strategy).count() == 1


@pytest.mark.parametrize(("graph_text", "message"), [
    # jsonb has no Infinity: the INSERT failed (a 500) for a number the validator does not read.
    (lambda text: text.replace('"config": {"underlying"', '"position": {"x": 1e9999, "y": 0}, "config": {"underlying"'),
     "must not contain infinite or NaN numbers"),
    # A lone surrogate was refused, and the page saying so could not be encoded (a 500).
    (lambda text: text.replace('"format_version": 1', '"format_version": 1, "description": "\\ud800"'),
     "must not contain unpaired surrogate characters"),
])
def test_a_graph_jsonb_cannot_hold_is_refused_at_the_graph_field(staff, alice, graph_text, message):
    data = form(alice, "Unstorable")
    data["graph"] = graph_text(data["graph"])
    assert data["graph"] != form(alice, "Unstorable")["graph"]

    response = staff.post("/admin/strategies/strategy/add/", data)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Strategy.objects.filter(name="Unstorable").exists()
