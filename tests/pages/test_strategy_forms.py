"""The strategy pages' edges through Django's test client: odd version numbers, wrong methods and other
users' ids answer 4xx, never a 500 (the browser tests are in test_strategies.py)."""

import pytest
from django.test import Client

from strategies.actions import create_strategy
from strategies.models import Strategy
from tests.api.conftest import GRAPH
from tests.engine.test_fx_differential import fx_universe

__all__ = ["fx_universe"]  # the fixture, used by name below

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("n", ["0", "2", "2147483648", "99999999999999999999"])
def test_a_version_that_does_not_exist_is_404(alice, n):
    strategy = create_strategy(alice, name="Mine", graph=GRAPH)

    assert logged_in(alice).get(f"/strategies/{strategy.id}/versions/{n}").status_code == 404


def test_duplicate_and_delete_take_only_post(alice):
    strategy = create_strategy(alice, name="Mine", graph=GRAPH)
    client = logged_in(alice)

    assert client.get(f"/strategies/{strategy.id}/duplicate").status_code == 405
    assert client.get(f"/strategies/{strategy.id}/delete").status_code == 405
    assert Strategy.objects.filter(owner=alice).count() == 1


def test_another_users_strategy_cannot_be_copied_or_deleted(alice, bob, charlie):
    strategy = create_strategy(alice, name="Mine", graph=GRAPH)

    for user in (bob, charlie):
        client = logged_in(user)
        assert client.post(f"/strategies/{strategy.id}/duplicate").status_code == 404
        assert client.post(f"/strategies/{strategy.id}/delete").status_code == 404
    assert list(Strategy.objects.values_list("name", flat=True)) == ["Mine"]


def test_the_pages_ask_for_a_login(client, alice):
    strategy = create_strategy(alice, name="Mine", graph=GRAPH)

    for path in ("/strategies/", f"/strategies/{strategy.id}/", f"/strategies/{strategy.id}/versions/1"):
        response = client.get(path)
        assert (response.status_code, response["Location"].split("?")[0]) == (302, "/login/")


def test_a_form_saved_after_another_tab_saved_is_refused_with_the_edit_kept(alice):
    # Two tabs open the form at version 1. The first saves; the second's save must not silently replace it.
    from pages.strategy_form import LegFormSet, StrategyFields
    from strategies.actions import update_strategy

    strategy = create_strategy(alice, name="Mine", graph=GRAPH)
    client = logged_in(alice)
    page = client.get(f"/strategies/{strategy.id}/edit")
    assert 'name="base_version" value="1"' in page.content.decode()
    fields, legs = page.context["fields"], page.context["legs"]
    data = {**{k: v for k, v in fields.initial.items() if v is not None}, "name": "Second tab's name",
            "exit_quantity": "all"}
    data.update({"legs-TOTAL_FORMS": "1", "legs-INITIAL_FORMS": "1", "legs-MIN_NUM_FORMS": "1",
                 "legs-MAX_NUM_FORMS": "20"})
    data.update({f"legs-0-{k}": v for k, v in legs.initial[0].items() if v is not None})
    assert StrategyFields(data).is_valid() and LegFormSet(data, prefix="legs").is_valid()
    update_strategy(strategy, base_version=1, name="First tab's name")

    refused = client.post(f"/strategies/{strategy.id}/edit", data)

    assert refused.status_code == 409
    html = refused.content.decode()
    assert "now at version 2" in html and "Save again to replace version 2" in html
    assert 'value="Second tab&#x27;s name"' in html and 'name="base_version" value="2"' in html
    strategy.refresh_from_db()
    assert (strategy.version, strategy.name) == (2, "First tab's name")
    # Saving again, knowingly, from version 2 goes through.
    again = client.post(f"/strategies/{strategy.id}/edit", {**data, "base_version": "2"})
    assert again.status_code == 302
    strategy.refresh_from_db()
    assert (strategy.version, strategy.name) == (3, "Second tab's name")


def test_a_strategy_with_more_legs_than_the_form_holds_is_sent_to_the_json_editor(alice):
    # 21 legs were shown in the form, whose Save could then only answer "Please submit at most 20 forms".
    import json
    from dataclasses import replace

    from pages.strategy_form import DEFAULT_FORM
    from strategies.graph.form import graph_from_form

    graph = graph_from_form(replace(DEFAULT_FORM, name="Wide", legs=DEFAULT_FORM.legs[:1] * 21))
    strategy = create_strategy(alice, name="Wide", graph=graph)
    client = logged_in(alice)

    page = client.get(f"/strategies/{strategy.id}/edit")
    assert page.templates[0].name == "pages/strategy_not_form.html"
    assert "it has 21 legs and the form holds at most 20" in page.content.decode()
    from_editor = client.post(f"/strategies/{strategy.id}/edit", {"graph_json": json.dumps(graph)})
    assert from_editor.status_code == 400
    assert "it has 21 legs and the form holds at most 20" in from_editor.content.decode()


def test_a_rename_made_elsewhere_is_what_the_form_and_the_editor_show_and_keep(alice):
    # A rename through the API or the admin changes the strategy's name and description, not the graph's
    # copies; the form showed the graph's old name, and saving it (or the editor's text) undid the rename.
    import json
    import re

    from strategies.actions import update_strategy

    strategy = create_strategy(alice, name="Old name", graph=GRAPH)
    update_strategy(strategy, name="New name", description="Renamed through the API")
    client = logged_in(alice)

    form = client.get(f"/strategies/{strategy.id}/edit")
    editor = client.get(f"/strategies/{strategy.id}/json").content.decode()

    assert form.context["fields"].initial["name"] == "New name"
    assert form.context["fields"].initial["description"] == "Renamed through the API"
    text = json.loads(re.search(r'id="editor-text" type="application/json">(.*?)</script>', editor, re.S).group(1))
    assert (json.loads(text)["name"], json.loads(text)["description"]) == ("New name", "Renamed through the API")


def test_a_running_session_shows_its_net_pnl_so_far_not_the_rows_zero(alice):
    # The session row's realized_pnl is written when the session ends; while it runs it is 0.00, which the
    # list and the strategy's page showed as the last run's net P&L.
    from datetime import UTC, date, datetime
    from decimal import Decimal

    from sessions_app import lifecycle
    from sessions_app.models import EquitySample, SimulationSession

    strategy = create_strategy(alice, name="Mine", graph=GRAPH)
    running = SimulationSession.objects.create(
        owner=alice, strategy=strategy, strategy_name=strategy.name, strategy_version=1, graph=GRAPH,
        start_date=date(2024, 10, 29), end_date=date(2024, 10, 29), underlying="NIFTY", status=lifecycle.RUNNING)
    for minute, realized, unrealized in ((20, "0", "-300"), (21, "-500.00", "-1200.50")):
        net = Decimal(realized) + Decimal(unrealized)  # one tick a minute: no range, no fall within it
        EquitySample.objects.create(session=running, timestamp=datetime(2024, 10, 29, 4, minute, tzinfo=UTC),
                                    realized_pnl=Decimal(realized), unrealized_pnl=Decimal(unrealized),
                                    charges=Decimal("40.00"), low_pnl=net, high_pnl=net, drop=0)
    client = logged_in(alice)

    listed = client.get("/strategies/").content.decode()
    page = client.get(f"/strategies/{strategy.id}/").content.decode()

    # The latest sample: -500.00 realized (net of charges) + -1,200.50 open = -1,700.50.
    for html in (listed, page):
        assert "−₹1,700.50 <span class=\"muted\">so far</span>" in html
        assert "₹0.00" not in html


@pytest.mark.parametrize("field", ["name", "description"])
def test_editor_text_with_a_lone_surrogate_stays_in_the_editor_with_the_reason(alice, field):
    # "\ud800" is valid JSON text but parses to a lone surrogate: the form showing it could not be encoded (a 500).
    import json

    text = json.dumps({**GRAPH, field: "SURROGATE"}).replace('"SURROGATE"', '"\\ud800"')

    response = logged_in(alice).post("/strategies/new", {"graph_json": text})

    assert response.status_code == 400
    assert response.templates[0].name == "pages/strategy_json.html"
    assert "the text must not contain unpaired surrogate characters" in response.content.decode()


def test_the_forms_money_and_price_labels_name_the_underlyings_currency(alice, fx_universe):
    """₹ for an NSE underlying (the new form's NIFTY); the dollar for EURUSD (the table of
    tests/engine/fx_underlyings.toml appended to the data file), in the fields, the leg template and the
    choices, when the form comes back with the trader's EURUSD."""
    client = logged_in(alice)
    page = client.get("/strategies/new").content.decode()
    assert "Strategy max loss (₹)" in page and "Legs&#x27; P&amp;L (₹)" in page and "points (₹)" in page

    refused = client.post("/strategies/new", {
        "name": "", "underlying": "EURUSD", "start_time": "09:15", "square_off_time": "15:15", "entry_kind": "start",
        "legs-TOTAL_FORMS": "1", "legs-INITIAL_FORMS": "0", "legs-MIN_NUM_FORMS": "1", "legs-MAX_NUM_FORMS": "20",
        "legs-0-instrument": "underlying", "legs-0-side": "buy", "legs-0-lots": "1"})
    assert refused.status_code == 400
    page = refused.content.decode()
    assert "Strategy max loss ($)" in page and "Strategy max profit ($)" in page
    assert "Legs&#x27; P&amp;L ($)" in page and "Closest to a premium ($)" in page
    assert page.count("points ($)") == 3 * 2  # stop, target and trail of the leg and of the leg template
    assert "(₹)" not in page and "A number, $ or HH:MM" in page
    assert Strategy.objects.count() == 0
