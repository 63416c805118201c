"""Building and editing a strategy: the form (``/strategies/new``, ``/strategies/<id>/edit``) and the JSON
editor (``/strategies/new/json``, ``/strategies/<id>/json``).

The form posts here; its graph is validated by ``validate_graph`` (the API's function) and written by
``strategies.actions``. The JSON editor validates and saves through the REST API from its script. Each
page can hand its unsaved content to the other by a POST (the form's fields to the editor, the editor's
text to the form), so switching never drops an edit.
"""

from __future__ import annotations

import json
from dataclasses import replace

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.middleware.csp import get_nonce
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.csp import CSP
from django.views.decorators.csp import csp_override

from accounts.ownership import readable
from pages.strategy_form import (
    DEFAULT_FORM,
    LegFormSet,
    StrategyFields,
    build_graph,
    clock_of,
    currency_sign,
    initial_from,
    label_clock,
    label_currency,
    to_strategy_form,
)
from strategies import actions
from strategies.graph.form import NotRepresentable, form_from_graph, graph_from_form
from strategies.models import Strategy
from strategies.serializers import MAX_GRAPH_BYTES, unstorable

LEGS_PREFIX = "legs"
# CodeMirror mounts its styles in a <style> element (style-mod, on a document root); the pages that can
# show the editor let that one element in by the request's nonce, which the script hands to CodeMirror
# (EditorView.cspNonce). Scripts stay 'self' only.
EDITOR_CSP = {**settings.SECURE_CSP, "style-src": [CSP.SELF, CSP.NONCE]}


def _strategy(request, strategy_id):
    """The strategy if the user may read it (their own, or anyone's for staff), else 404."""
    if strategy_id is None:
        return None
    strategy = readable(request.user, Strategy.objects.filter(pk=strategy_id)).first()
    if strategy is None:
        raise Http404("No such strategy.")
    return strategy


def _may_change(request, strategy) -> bool:
    return strategy is None or strategy.owner_id == request.user.pk


def strategy_url(strategy) -> str:
    """The strategy's own page (``strategy``), by path until that route exists."""
    try:
        return reverse("strategy", args=[strategy.pk])
    except NoReverseMatch:
        return f"/strategies/{strategy.pk}/"


def _forms_from_graph(graph: dict, base_version: int | None = None):
    """Unbound forms showing ``graph`` (edited from ``base_version`` of the strategy), or NotRepresentable."""
    init, legs = initial_from(form_from_graph(graph))
    init["base_version"] = base_version
    return StrategyFields(initial=init), LegFormSet(prefix=LEGS_PREFIX, initial=legs)


def _as_saved(strategy) -> dict:
    """The strategy's graph under its own name and description: a rename through the API or the admin
    changes those and not the graph's copies, which the form and the editor would otherwise show and save
    back, undoing the rename."""
    graph = {**strategy.graph, "name": strategy.name}
    if strategy.description or "description" in graph:
        graph["description"] = strategy.description
    return graph


def _base_version(value) -> int | None:
    """A posted ``base_version`` as a version number, or None when missing or not one."""
    try:
        n = int(value)
    except (TypeError, ValueError):
        return None
    return n if 1 <= n < 2**31 else None


def _render_form(request, strategy, fields, legs, *, summary=(), notice="", status=200):
    label_currency(fields, legs)  # money and price labels in the underlying's currency
    label_clock(fields)  # time fields on the underlying's clock
    underlyings = [value for value, _ in fields.fields["underlying"].choices]
    signs = {value: currency_sign(value) for value in underlyings}
    return render(request, "pages/strategy_builder.html", {
        "currency_signs": signs, "clocks": {value: clock_of(value) for value in underlyings},
        "nav": "strategies", "strategy": strategy, "fields": fields, "legs": legs, "summary": list(summary),
        "notice": notice, "read_only": not _may_change(request, strategy),
        "unsaved": status != 200 or bool(notice),  # shown with errors, or carried from the editor
        "json_url": reverse("strategy-json", args=[strategy.pk]) if strategy else reverse("strategy-new-json"),
    }, status=status)


def _render_editor(request, strategy, text: str, *, reason: str = "", status=200, base_version=None):
    if reason == "" and text:
        try:
            _forms_from_graph(json.loads(text))
        except (ValueError, RecursionError) as e:
            reason = getattr(e, "reason", "the text is not valid JSON")
    return render(request, "pages/strategy_json.html", {
        "nav": "strategies", "strategy": strategy, "text": text, "form_reason": reason,
        "read_only": not _may_change(request, strategy),
        "form_url": reverse("strategy-edit", args=[strategy.pk]) if strategy else reverse("strategy-new"),
        "editor": {"strategy_id": str(strategy.pk) if strategy else None, "nonce": str(get_nonce(request)),
                   "base_version": (base_version or strategy.version) if strategy else None},
    }, status=status)


@csp_override(EDITOR_CSP)
@login_required
def builder(request, strategy_id=None):
    """The form. GET shows the strategy (or a two-leg straddle to start from); POST saves it, or, with
    ``graph_json`` from the JSON editor, shows that graph in the form unsaved."""
    strategy = _strategy(request, strategy_id)
    if request.method == "POST" and "graph_json" in request.POST:
        return _from_editor(request, strategy)
    if request.method == "POST":
        if not _may_change(request, strategy):
            raise PermissionDenied("Only the strategy's owner can change it.")
        fields = StrategyFields(request.POST)
        legs = LegFormSet(request.POST, prefix=LEGS_PREFIX)
        graph, summary = build_graph(fields, legs)
        if graph is not None:
            changes = {"name": graph["name"], "description": graph.get("description", ""), "graph": graph}
            try:
                if strategy is None:
                    strategy = actions.create_strategy(request.user, **changes)
                else:
                    base = fields.cleaned_data.get("base_version")
                    strategy = actions.update_strategy(strategy, base_version=base, **changes)
            except ValidationError as e:
                for message in e.message_dict.get("name", []):
                    fields.add_error("name", message)
            except actions.StrategyChanged as e:
                return _changed_elsewhere(request, strategy, e)
            else:
                return redirect(strategy_url(strategy))
        return _render_form(request, strategy, fields, legs, summary=summary, status=400)
    if strategy is None:
        init, leg_init = initial_from(DEFAULT_FORM)
        return _render_form(request, None, StrategyFields(initial=init),
                            LegFormSet(prefix=LEGS_PREFIX, initial=leg_init))
    try:
        fields, legs = _forms_from_graph(_as_saved(strategy), strategy.version)
    except NotRepresentable as e:
        return render(request, "pages/strategy_not_form.html", {
            "nav": "strategies", "strategy": strategy, "reason": e.reason,
            "json_url": reverse("strategy-json", args=[strategy.pk])})
    return _render_form(request, strategy, fields, legs)


def _changed_elsewhere(request, strategy, changed):
    """The form again with the trader's unsaved values, saying another save came first; it now stands on
    the current version, so saving again replaces that one knowingly."""
    data = request.POST.copy()
    data["base_version"] = str(changed.version)
    message = (f"{changed} Save again to replace version {changed.version} with what you see here, or "
               f"look at version {changed.version} on the strategy's page first.")
    fields, legs = StrategyFields(data), LegFormSet(data, prefix=LEGS_PREFIX)
    fields.is_valid(), legs.is_valid()
    return _render_form(request, strategy, fields, legs, summary=[message], status=409)


def _from_editor(request, strategy):
    text = request.POST.get("graph_json", "")
    if len(text.encode()) > 4 * MAX_GRAPH_BYTES:
        return _render_editor(request, strategy, "", reason="The text is too long for a strategy.", status=400)
    base = _base_version(request.POST.get("base_version"))
    try:
        graph = json.loads(text)
        # A "\ud800" escape parses to a lone surrogate, which no page can be encoded with.
        problem = unstorable(graph)
        if problem:
            raise NotRepresentable(f"the text {problem}")
        fields, legs = _forms_from_graph(graph, base)
    except RecursionError:
        return _render_editor(request, strategy, text, reason="the text is nested too deeply", status=400,
                              base_version=base)
    except ValueError as e:
        reason = getattr(e, "reason", None) or f"the text is not valid JSON ({e})"
        return _render_editor(request, strategy, text, reason=reason, status=400, base_version=base)
    return _render_form(request, strategy, fields, legs,
                        notice="Opened from the JSON editor: not saved yet. Save to keep it.")


@csp_override(EDITOR_CSP)
@login_required
def json_editor(request, strategy_id=None):
    """The JSON editor. GET shows the stored graph (or the form's starting straddle); POST with the form's
    fields shows the graph they build, unsaved (the form with its errors if its fields are not even that)."""
    strategy = _strategy(request, strategy_id)
    if request.method == "POST":
        fields = StrategyFields(request.POST)
        legs = LegFormSet(request.POST, prefix=LEGS_PREFIX)
        if not (fields.is_valid() & legs.is_valid()):
            return _render_form(request, strategy, fields, legs, status=400,
                                summary=["Fix the fields marked below to open the strategy in the JSON editor."])
        graph = graph_from_form(to_strategy_form(fields, legs))
        return _render_editor(request, strategy, json.dumps(graph, indent=2, ensure_ascii=False),
                              base_version=fields.cleaned_data.get("base_version"))
    graph = _as_saved(strategy) if strategy else graph_from_form(replace(DEFAULT_FORM, name="My strategy"))
    return _render_editor(request, strategy, json.dumps(graph, indent=2, ensure_ascii=False))
