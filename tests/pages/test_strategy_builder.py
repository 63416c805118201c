"""Building a strategy in the form (/strategies/new, /strategies/<id>/edit) and editing it as JSON
(/strategies/<id>/json) in Chromium: the form's graph is validated by the API's validator, saved, and runs;
bad input shows at its fields and saves nothing; the JSON editor marks a validator error at its path's line
and refuses to save; another user's strategy is a 404, staff read it without changing it."""

import json

import httpx
import pytest
from playwright.sync_api import expect

from strategies.models import Strategy
from tests.pages.cards import session_card
from tests.pages.conftest import screenshots
from tests.stream.conftest import DAY, bearer, example, setup_for, stop_sessions
from tests.waiting import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

ENDED = ("completed", "stopped", "failed", "interrupted")


@pytest.fixture
def cleanup(pages_server, alice):
    yield
    stop_sessions(pages_server, alice)


def _leg(n, right, lots, stop):
    # Written by hand from docs/strategies.md: sell `lots` lots of the ATM weekly option, a percent stop.
    return {"id": f"leg-{n}", "type": "entry", "name": f"Sell {lots} lot{'s' if lots > 1 else ''} ATM {right}",
            "config": {"instrument": "option", "expiry": "current_weekly", "strike": {"rule": "atm", "offset": 0},
                       "right": right, "side": "sell", "lots": lots, "stop_loss": {"type": "percent", "value": stop}}}


EXPECTED_GRAPH = {
    "format_version": 1,
    "name": "Form straddle",
    "nodes": [
        {"id": "strategy-controller", "type": "start", "name": "Strategy Controller",
         "config": {"underlying": "NIFTY", "start_time": "09:15", "square_off_time": "15:15"}},
        {"id": "entry-condition", "type": "entry_signal", "name": "At 09:20",
         "config": {"conditions": {"all": [
             {"left": {"type": "time_of_day"}, "operator": ">=", "right": {"type": "value", "value": "09:20"}}]}}},
        _leg(1, "CE", 1, 25),
        _leg(2, "PE", 2, 30),
    ],
    "edges": [
        {"from": "strategy-controller", "to": "entry-condition"},
        {"from": "entry-condition", "to": "leg-1"},
        {"from": "entry-condition", "to": "leg-2"},
    ],
}


def test_a_two_leg_strategy_built_in_the_form_is_saved_and_runs_to_the_end(open_page, pages_server, alice,
                                                                            cleanup):
    _, broker = setup_for(alice)  # a paper account (and the example straddle, which stays untouched)
    page = open_page(alice, "/strategies/new")
    legs = page.locator("[data-leg]")
    assert legs.count() == 2  # the starting preset: a short straddle

    # Add a third leg and remove it again: the formset stays legs-0, legs-1.
    page.get_by_role("button", name="Add leg").click()
    assert legs.count() == 3
    page.get_by_role("group", name="Leg 3").get_by_role("button", name="Remove leg 3").click()
    assert legs.count() == 2
    assert page.locator("[name=legs-TOTAL_FORMS]").input_value() == "2"

    page.get_by_label("Name", exact=True).fill("Form straddle")
    leg2 = page.get_by_role("group", name="Leg 2")
    leg2.get_by_label("Lots").fill("2")
    leg2.get_by_label("Stop loss value").fill("30")
    screenshots(page, "strategy-form")

    page.get_by_role("button", name="Save strategy").click()
    page.wait_for_url(lambda url: "/strategies/" in url and url.endswith("/") and "/new" not in url)
    strategy = Strategy.objects.get(owner=alice, name="Form straddle")
    assert page.url == pages_server.url(f"/strategies/{strategy.id}/")
    assert strategy.graph == EXPECTED_GRAPH
    listed = httpx.get(pages_server.url("/api/strategies/"), headers=bearer(alice), timeout=30).json()["results"]
    assert "Form straddle" in [s["name"] for s in listed]
    # Its page draws it, a box per node of the graph the form built.
    drawn = page.locator("svg g[data-node]")
    expect(drawn).to_have_count(len(EXPECTED_GRAPH["nodes"]))
    assert sorted(drawn.evaluate_all("els => els.map(e => e.dataset.node)")) == sorted(
        n["id"] for n in EXPECTED_GRAPH["nodes"])
    # And the list has it.
    page.goto(pages_server.url("/strategies/"))
    expect(page.get_by_role("link", name="Form straddle", exact=True)).to_be_visible()

    # Run it: a backtest of a stored day, to the end, with trades of both legs.
    r = httpx.post(pages_server.url("/api/v2/live/start"), headers=bearer(alice), timeout=30, json={
        "strategy_id": str(strategy.id), "broker_connection_id": str(broker.id), "date": DAY, "mode": "backtest"})
    assert r.status_code == 201, r.text
    session_id = r.json()["session_id"]

    def status():
        return session_card(pages_server, alice, session_id)["status"]

    wait_for(lambda: status() in ENDED, timeout=120, message="the form's strategy to finish its day")
    assert status() == "completed"
    trades = httpx.get(pages_server.url(f"/api/sessions/{session_id}/trades"), headers=bearer(alice),
                       timeout=30).json()["results"]
    assert {t["trade_id"].split("-pos")[0] for t in trades} == {"leg-1", "leg-2"}

    # The form opens the saved strategy again with what was entered.
    page.goto(pages_server.url(f"/strategies/{strategy.id}/edit"))
    assert page.get_by_role("group", name="Leg 2").get_by_label("Lots").input_value() == "2"
    assert page.get_by_label("Entry time").input_value() == "09:20"


CONDITIONS_GRAPH = {
    "format_version": 1,
    "name": "RSI puts",
    "nodes": [
        {"id": "strategy-controller", "type": "start", "name": "Strategy Controller",
         "config": {"underlying": "NIFTY", "start_time": "09:15", "square_off_time": "15:15"}},
        {"id": "entry-condition", "type": "entry_signal", "name": "RSI(14) 5m crosses below 30",
         "config": {"conditions": {"all": [
             {"left": {"type": "indicator", "name": "rsi", "params": {"period": 14}, "timeframe": "5m"},
              "operator": "crosses_below", "right": {"type": "value", "value": 30}}]}}},
        {"id": "leg-1", "type": "entry", "name": "Buy 1 lot ATM PE",
         "config": {"instrument": "option", "expiry": "current_weekly", "strike": {"rule": "atm", "offset": 0},
                    "right": "PE", "side": "buy", "lots": 1, "target": {"type": "percent", "value": 40}}},
        {"id": "re-entry-1", "type": "re_entry", "name": "Re-enter leg 1",
         "config": {"max_re_entries": 2, "on": ["stop_loss", "target"], "wait_seconds": 60}},
        {"id": "exit-condition", "type": "exit_signal", "name": "Legs' P&L is at or above 2000",
         "config": {"conditions": {"all": [
             {"left": {"type": "position_pnl", "entries": ["leg-1"]}, "operator": ">=",
              "right": {"type": "value", "value": 2000}}]}}},
        {"id": "exit", "type": "exit", "name": "Close part of every leg",
         "config": {"positions": ["leg-1"], "quantity": {"type": "percent", "value": 50}}},
    ],
    "edges": [
        {"from": "strategy-controller", "to": "entry-condition"},
        {"from": "entry-condition", "to": "leg-1"},
        {"from": "leg-1", "to": "re-entry-1"},
        {"from": "re-entry-1", "to": "leg-1"},
        {"from": "leg-1", "to": "exit-condition"},
        {"from": "exit-condition", "to": "exit"},
    ],
}


def test_an_indicator_entry_an_exit_condition_and_re_entries_from_the_form(open_page, pages_server, alice):
    page = open_page(alice, "/strategies/new")
    page.get_by_label("Name", exact=True).fill("RSI puts")
    page.get_by_role("group", name="Leg 2").get_by_role("button", name="Remove leg 2").click()
    leg = page.get_by_role("group", name="Leg 1")
    leg.get_by_label("Side").select_option("Buy")
    leg.get_by_label("Right").select_option("PE (put)")
    leg.get_by_label("Stop loss", exact=True).select_option("none")
    assert leg.get_by_label("Stop loss value").is_hidden()
    leg.get_by_label("Target", exact=True).select_option("% of entry")
    leg.get_by_label("Target value").fill("40")

    page.get_by_role("radio", name="When a condition holds").check()
    entry = page.get_by_role("group", name="Entry condition")
    watch = entry.get_by_role("group", name="Watch")
    watch.get_by_label("Type").select_option("Indicator")
    watch.get_by_label("Indicator").select_option("RSI")
    watch.get_by_label("Period").fill("14")
    watch.get_by_label("Timeframe").select_option("5m")
    entry.get_by_label("Operator").select_option("crosses below")
    against = entry.get_by_role("group", name="Compare with")
    against.get_by_label("Type").select_option("a value")
    assert against.get_by_label("Indicator").is_hidden()
    against.get_by_label("Value").fill("30")

    page.get_by_label("Close the legs when a condition holds").check()
    exit_ = page.get_by_role("group", name="Exit condition")
    exit_.get_by_role("group", name="Watch").get_by_label("Type").select_option("Legs' P&L (₹)")
    exit_.get_by_label("Operator").select_option("is at or above")
    exit_.get_by_role("group", name="Compare with").get_by_label("Value").fill("2000")
    page.get_by_label("Close", exact=True).select_option("A percentage of every leg")
    page.get_by_label("Percent or lots to close").fill("50")

    page.get_by_label("Re-enter each leg after it closes").check()
    page.get_by_label("Times at most").fill("2")
    page.get_by_label("Wait (seconds)").fill("60")
    page.get_by_role("checkbox", name="Target").check()
    screenshots(page, "strategy-form-conditions")

    page.get_by_label("Wait (seconds)").press("Enter")  # the keyboard saves, as the button does
    page.wait_for_url(lambda url: url.endswith("/") and "/new" not in url)
    strategy = Strategy.objects.get(owner=alice, name="RSI puts")
    assert strategy.graph == CONDITIONS_GRAPH

    # The form shows it again as entered.
    page.goto(pages_server.url(f"/strategies/{strategy.id}/edit"))
    assert page.get_by_role("radio", name="When a condition holds").is_checked()
    watch = page.get_by_role("group", name="Entry condition").get_by_role("group", name="Watch")
    assert watch.get_by_label("Period").input_value() == "14"
    assert page.get_by_label("Percent or lots to close").input_value() == "50"


def test_bad_form_input_shows_at_its_fields_and_saves_nothing(open_page, pages_server, alice):
    page = open_page(alice, "/strategies/new")
    page._expect_4xx = True  # refusals answer 400
    page.get_by_label("Name", exact=True).fill("Broken")

    # Not a number (as an older browser would send it): Django's field says so, nothing is saved.
    lots = page.get_by_role("group", name="Leg 1").get_by_label("Lots")
    lots.evaluate("el => { el.type = 'text'; }")
    lots.fill("one")
    page.get_by_role("button", name="Save strategy").click()
    page.locator("#id_legs-0-lots_error").wait_for()
    assert page.locator("#id_legs-0-lots_error").inner_text() == "Enter a whole number."
    assert page.get_by_role("group", name="Leg 1").get_by_label("Lots").get_attribute("aria-invalid") == "true"
    assert Strategy.objects.count() == 0

    # Square-off before the start and 0 lots: the graph validator's errors, at the fields they name.
    page.get_by_label("Start time", exact=True).fill("15:00")
    page.get_by_label("Square-off time").fill("10:00")
    page.get_by_role("group", name="Leg 1").get_by_label("Lots").fill("0")
    page.get_by_role("button", name="Save strategy").click()
    page.locator("#id_square_off_time_error").wait_for()
    assert page.locator("#id_square_off_time_error").inner_text() == "must be after the start time"
    assert page.locator("#id_legs-0-lots_error").inner_text() == "must be an integer between 1 and 100"
    assert page.get_by_role("alert").inner_text().startswith("The strategy was not saved")
    assert Strategy.objects.count() == 0
    screenshots(page, "strategy-form-errors")

    # A name alice already uses: said at the name, and still only her first strategy exists.
    setup_for(alice)
    page.get_by_label("Name", exact=True).fill("NIFTY short straddle")
    page.get_by_label("Start time", exact=True).fill("09:15")
    page.get_by_label("Square-off time").fill("15:15")
    page.get_by_role("group", name="Leg 1").get_by_label("Lots").fill("1")
    page.get_by_role("button", name="Save strategy").click()
    page.locator("#id_name_error").wait_for()
    assert page.locator("#id_name_error").inner_text() == "You already have a strategy named 'NIFTY short straddle'."
    assert page.locator("#id_square_off_time_error").count() == 0
    assert Strategy.objects.count() == 1


def _replace_text(page, text):
    page.locator(".cm-content").click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(text)


def _marker_line(page) -> int:
    """The line number shown beside the first lint marker in the gutter."""
    return page.evaluate("""() => {
      const marker = document.querySelector('.cm-gutter-lint .cm-lint-marker-error');
      const top = marker.closest('.cm-gutterElement').getBoundingClientRect().top;
      const numbers = [...document.querySelectorAll('.cm-lineNumbers .cm-gutterElement')];
      const same = numbers.find((n) => Math.abs(n.getBoundingClientRect().top - top) < 2 && n.textContent);
      return Number(same.textContent);
    }""")


def test_a_broken_graph_is_marked_at_its_paths_line_and_cannot_be_saved(open_page, pages_server, alice):
    strategy, _ = setup_for(alice)
    page = open_page(alice, f"/strategies/{strategy.id}/json")
    status = page.locator("#editor-status")
    wait_for(lambda: status.inner_text() == "Valid: the graph would be accepted.", message="the stored graph checked")
    wait_for(lambda: page.locator("#graph-drawing svg [data-node]").count() == len(strategy.graph["nodes"]),
             message="every node drawn")

    page._expect_4xx = True  # the validator answers 400 for the broken graph
    broken = example("nifty_short_straddle")
    broken["nodes"][2]["config"]["lots"] = 0
    text = json.dumps(broken, indent=2)
    _replace_text(page, text)
    wait_for(lambda: "1 problem" in status.inner_text(), message="the validator's answer")
    # The error in the list takes the editor to its line (CodeMirror draws only the lines in view).
    page.locator("#graph-errors li button").click()
    markers = page.locator(".cm-gutter-lint .cm-lint-marker-error")
    wait_for(lambda: markers.count() == 1, message="the lint marker in the gutter")

    # The line holding nodes[2].config.lots, found in the text by hand: the first "lots": 0.
    line = next(i for i, t in enumerate(text.splitlines(), start=1) if t.strip() == '"lots": 0,')
    assert _marker_line(page) == line
    assert page.locator("#graph-errors li").all_inner_texts() == [
        f"Line {line}: nodes[2].config.lots: must be an integer between 1 and 100"]
    assert page.get_by_role("button", name="Save", exact=True).is_disabled()
    screenshots(page, "strategy-json-error")

    # Not JSON at all: the parser's error, still no saving; the stored graph never changed.
    _replace_text(page, text.replace('"lots": 0,', '"lots": 0'))
    wait_for(lambda: status.inner_text() == "The text is not valid JSON.", message="the syntax error")
    assert page.get_by_role("button", name="Save", exact=True).is_disabled()
    strategy.refresh_from_db()
    assert (strategy.version, strategy.graph) == (1, example("nifty_short_straddle"))

    # "Open in form" carries the text; the form cannot show it, says why, and the text stays.
    _replace_text(page, text)
    page.get_by_role("button", name="Open in form").click()
    page.locator("#form-reason").wait_for()
    assert "nodes[2].config.lots" in page.locator("#form-reason").inner_text()
    assert page.evaluate("window.strategyEditor.state.doc.toString()") == text


def test_a_valid_edit_in_the_editor_is_saved_through_the_api(open_page, pages_server, alice):
    strategy, _ = setup_for(alice)
    page = open_page(alice, f"/strategies/{strategy.id}/json")
    status = page.locator("#editor-status")
    changed = example("nifty_short_straddle")
    changed["nodes"][2]["config"]["lots"] = 3
    _replace_text(page, json.dumps(changed, indent=2))
    wait_for(lambda: status.inner_text() == "Valid: the graph would be accepted.", message="the edit checked")
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url(pages_server.url(f"/strategies/{strategy.id}/"))
    strategy.refresh_from_db()
    assert (strategy.version, strategy.graph) == (2, changed)


def test_the_form_says_why_it_cannot_show_a_strategy_and_offers_the_editor(open_page, alice):
    strategy, _ = setup_for(alice, "nifty_rsi_reversal")
    page = open_page(alice, f"/strategies/{strategy.id}/edit")
    assert "the graph has 2 entry signals" in page.locator("#not-form-reason").inner_text()
    screenshots(page, "strategy-not-form")
    page.get_by_role("link", name="Open in JSON editor").click()
    page.wait_for_url(lambda url: url.endswith(f"/strategies/{strategy.id}/json"))


def test_another_users_strategy_is_not_found_and_staff_cannot_change_it(open_page, pages_server, alice, bob, charlie):
    strategy, _ = setup_for(alice)
    page = open_page(bob, None)
    page._expect_4xx = True
    for path in (f"/strategies/{strategy.id}/edit", f"/strategies/{strategy.id}/json"):
        assert page.goto(pages_server.url(path)).status == 404

    staff = open_page(charlie, f"/strategies/{strategy.id}/edit")
    assert staff.get_by_role("button", name="Save strategy").is_disabled()
    staff._expect_4xx = True
    staff.evaluate("document.querySelector('#builder-form button[type=submit][disabled]').disabled = false")
    with staff.expect_response(lambda r: r.request.method == "POST") as answer:
        staff.get_by_role("button", name="Save strategy").click()
    assert answer.value.status == 403
    strategy.refresh_from_db()
    assert strategy.version == 1


def test_switching_between_form_and_editor_carries_unsaved_edits_and_a_new_graph_saves(open_page, pages_server,
                                                                                       alice):
    page = open_page(alice, "/strategies/new")
    page.get_by_label("Name", exact=True).fill("Carried")
    page.get_by_role("group", name="Leg 1").get_by_label("Lots").fill("3")
    page.get_by_role("button", name="Open in JSON editor").click()

    # The editor shows the graph the unsaved form builds.
    status = page.locator("#editor-status")
    wait_for(lambda: status.inner_text() == "Valid: the graph would be accepted.", message="the carried graph")
    graph = json.loads(page.evaluate("window.strategyEditor.state.doc.toString()"))
    assert (graph["name"], graph["nodes"][2]["id"], graph["nodes"][2]["config"]["lots"]) == ("Carried", "leg-1", 3)
    assert Strategy.objects.count() == 0

    # An edit in the editor goes back to the form, still unsaved.
    graph["nodes"][3]["config"]["lots"] = 4
    _replace_text(page, json.dumps(graph, indent=2))
    wait_for(lambda: status.inner_text() == "Valid: the graph would be accepted.", message="the edit checked")
    page.get_by_role("button", name="Open in form").click()
    page.get_by_role("status").filter(has_text="not saved yet").wait_for()
    assert page.get_by_role("group", name="Leg 1").get_by_label("Lots").input_value() == "3"
    assert page.get_by_role("group", name="Leg 2").get_by_label("Lots").input_value() == "4"
    assert Strategy.objects.count() == 0

    # A new strategy written in the editor is saved through the API.
    page.goto(pages_server.url("/strategies/new/json"))
    wait_for(lambda: status.inner_text() == "Valid: the graph would be accepted.", message="the starting graph")
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url(lambda url: url.endswith("/") and "/new" not in url)
    assert list(Strategy.objects.filter(owner=alice).values_list("name", flat=True)) == ["My strategy"]


def test_a_save_in_the_editor_after_another_tab_saved_is_refused_then_replaces_it_knowingly(
        open_page, pages_server, alice):
    # setup_for writes the strategy without a version row; its version is 1 all the same.
    from strategies.actions import update_strategy

    strategy, _ = setup_for(alice)
    page = open_page(alice, f"/strategies/{strategy.id}/json")
    page._expect_4xx = True  # the refused save is the API's 409
    status = page.locator("#editor-status")
    other_tab = example("nifty_short_straddle")
    other_tab["nodes"][2]["config"]["lots"] = 2
    update_strategy(Strategy.objects.get(pk=strategy.pk), graph=other_tab)  # saved in another tab: version 2
    mine = example("nifty_short_straddle")
    mine["nodes"][2]["config"]["lots"] = 3
    _replace_text(page, json.dumps(mine, indent=2))
    wait_for(lambda: status.inner_text() == "Valid: the graph would be accepted.", message="the edit checked")

    page.get_by_role("button", name="Save", exact=True).click()

    expect(status).to_contain_text("now at version 2")
    expect(status).to_contain_text("Save again to replace version 2 with this text.")
    strategy.refresh_from_db()
    assert (strategy.version, strategy.graph) == (2, other_tab)
    screenshots(page, "strategy-json-saved-elsewhere")
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url(pages_server.url(f"/strategies/{strategy.id}/"))
    strategy.refresh_from_db()
    assert (strategy.version, strategy.graph) == (3, mine)


def test_leaving_the_form_with_unsaved_changes_asks_first(open_page, pages_server, alice):
    strategy, _ = setup_for(alice)
    page = open_page(alice, f"/strategies/{strategy.id}/edit")
    asked = []

    def answer(dialog):
        asked.append(dialog.type)
        dialog.dismiss()  # stay

    page.on("dialog", answer)
    page.get_by_role("group", name="Leg 1").get_by_label("Lots").fill("3")
    page.get_by_role("link", name="Back to strategies").click()

    wait_for(lambda: asked == ["beforeunload"], message="the browser asked before leaving")
    assert page.get_by_role("group", name="Leg 1").get_by_label("Lots").input_value() == "3"
    # Put back as it was, the form has nothing unsaved: leaving asks nothing.
    page.get_by_role("group", name="Leg 1").get_by_label("Lots").fill("1")
    page.get_by_role("link", name="Back to strategies").click()
    page.wait_for_url(pages_server.url("/strategies/"))
    assert asked == ["beforeunload"]
