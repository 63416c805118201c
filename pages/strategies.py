"""The strategy pages: ``/strategies/`` (the list, with duplicate and delete), a strategy's page (its graph
drawn, the strategy in words, its versions and sessions) and a version's read-only page.

Who sees what: a trader's own strategies only, staff included, as on the dashboard; another user's
strategy is a 404 whoever asks (staff look at other users' strategies in the admin). State changes go
through ``strategies.actions``, as the API's do; the graph is drawn by ``static/livesim/strategies.js``
with the session page's drawing module, from the graph embedded with ``json_script``.
"""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from pages.views import strategy_underlying
from sessions_app.models import EquitySample, SimulationSession
from strategies import actions
from strategies.graph import InvalidGraph, parse_graph
from strategies.graph.describe import describe
from strategies.models import Strategy, StrategyVersion


def own_strategy(request, strategy_id: str) -> Strategy:
    """The logged-in user's strategy ``strategy_id``; 404 for anyone else's, staff included."""
    return get_object_or_404(Strategy.objects.filter(owner=request.user), pk=strategy_id)


def legs(graph: dict) -> dict:
    """The entry nodes of a stored graph: their count and a short ``"sell CE + sell PE"`` (``"buy NIFTY"``
    for the underlying itself)."""
    underlying = strategy_underlying(graph) or "underlying"
    parts = []
    for node in graph.get("nodes") or []:
        if not isinstance(node, dict) or node.get("type") != "entry":
            continue
        config = node.get("config") or {}
        what = config.get("right") if config.get("instrument") == "option" else underlying
        parts.append(f"{config.get('side', '?')} {what}")
    return {"count": len(parts), "summary": " + ".join(parts)}


def in_words(graph: dict) -> dict:
    """``{"lines": [...]}`` from ``describe``, or ``{"problem": ...}`` for a stored graph today's validator refuses."""
    try:
        return {"lines": describe(parse_graph(graph))}
    except InvalidGraph as e:
        return {"problem": f"This graph no longer passes validation, so it cannot be put in words: {e}"}


def drawable(graph: dict) -> dict:
    """What the drawing needs of a graph: its nodes and edges."""
    return {"nodes": graph.get("nodes", []), "edges": graph.get("edges", [])}


def _ordered(value: dict, keys: tuple) -> dict:
    return {**{k: value[k] for k in keys if k in value}, **{k: v for k, v in value.items() if k not in keys}}


def readable_json(graph: dict) -> str:
    """The graph pretty-printed with its keys in the documented order (jsonb keeps its own order)."""
    ordered = _ordered(graph, ("format_version", "name", "description", "nodes", "edges"))
    if isinstance(ordered.get("nodes"), list):
        ordered["nodes"] = [_ordered(n, ("id", "type", "name", "config", "position")) if isinstance(n, dict) else n
                            for n in ordered["nodes"]]
    if isinstance(ordered.get("edges"), list):
        ordered["edges"] = [_ordered(e, ("from", "to")) if isinstance(e, dict) else e for e in ordered["edges"]]
    return json.dumps(ordered, indent=2, ensure_ascii=False)


def with_so_far(sessions) -> list:
    """``sessions`` with ``so_far`` set on each not yet ended: its latest net P&L (realized + unrealized,
    from its equity samples; None before the first). The row's own ``realized_pnl`` is written when the
    session ends, so while it runs it reads 0.00, which is no figure of the run."""
    active = [s for s in sessions if s.is_active]
    latest = {}
    if active:
        samples = (EquitySample.objects.filter(session__in=active)
                   .order_by("session_id", "-timestamp").distinct("session_id"))
        latest = {e.session_id: e.net_pnl for e in samples}
    for s in active:
        s.so_far = latest.get(s.id)
    return sessions


def _rows(user) -> list[dict]:
    strategies = list(Strategy.objects.filter(owner=user).order_by("name"))
    # The latest session of each strategy, in one query (PostgreSQL's DISTINCT ON).
    latest = {
        s.strategy_id: s
        for s in with_so_far(list(SimulationSession.objects.filter(strategy__in=strategies)
                                  .order_by("strategy_id", "-created_at")
                                  .distinct("strategy_id")))
    }
    return [
        {"strategy": s, "underlying": strategy_underlying(s.graph), "legs": legs(s.graph), "last": latest.get(s.id)}
        for s in strategies
    ]


@login_required
def strategy_list(request, refusal: dict | None = None, status: int = 200):
    """``/strategies/``: a row (a card when narrow) per strategy of the user, with its last run."""
    return render(request, "pages/strategies.html", {
        "nav": "strategies", "rows": _rows(request.user), "refusal": refusal,
    }, status=status)


@login_required
@require_POST
def duplicate(request, strategy_id: str):
    """``POST /strategies/<id>/duplicate``: a copy named ``"<name> (copy)"``; its page opens."""
    strategy = own_strategy(request, strategy_id)
    try:
        copy = actions.duplicate_strategy(strategy)
    except ValidationError as e:
        refusal = {"name": strategy.name, "message": " ".join(e.messages), "session": None}
        return strategy_list(request, refusal=refusal, status=409)
    return redirect("strategy", strategy_id=copy.id)


@login_required
@require_POST
def delete(request, strategy_id: str):
    """``POST /strategies/<id>/delete``: delete and go back to the list; refused (409, the list with the
    reason and a link to the session) while a session that has not ended uses the strategy."""
    strategy = own_strategy(request, strategy_id)
    try:
        actions.delete_strategy(strategy)
    except actions.StrategyInUse as e:
        refusal = {"name": strategy.name, "message": str(e), "session": e.session}
        return strategy_list(request, refusal=refusal, status=409)
    return redirect("strategies")


SESSIONS_SHOWN = 50  # the latest; the history page lists them all


def _sessions(strategy: Strategy, version: int | None = None) -> dict:
    """The latest ``SESSIONS_SHOWN`` sessions of ``strategy`` (of one version of it), newest first, and how many there are."""
    rows = SimulationSession.objects.filter(strategy=strategy)
    if version is not None:
        rows = rows.filter(strategy_version=version)
    total = rows.count()
    return {"rows": with_so_far(list(rows.order_by("-created_at")[:SESSIONS_SHOWN])), "total": total}


@login_required
def strategy_page(request, strategy_id: str):
    """``/strategies/<id>/``: the graph drawn, the strategy in words, its versions and the sessions that ran it."""
    strategy = own_strategy(request, strategy_id)
    return render(request, "pages/strategy.html", {
        "nav": "strategies",
        "strategy": strategy,
        "underlying": strategy_underlying(strategy.graph),
        "legs": legs(strategy.graph),
        "words": in_words(strategy.graph),
        "graph": drawable(strategy.graph),
        "label": f"Graph of {strategy.name}",
        "versions": StrategyVersion.objects.filter(strategy=strategy).order_by("-version"),
        "sessions": _sessions(strategy),
    })


@login_required
def version_page(request, strategy_id: str, version: int):
    """``/strategies/<id>/versions/<n>``: one saved version, read-only: drawn, in words, as JSON, and the
    sessions that ran it."""
    strategy = own_strategy(request, strategy_id)
    if version >= 2**31:  # beyond the column: no such version, and not for the database to say so
        raise Http404("No such version.")
    saved = get_object_or_404(StrategyVersion, strategy=strategy, version=version)
    return render(request, "pages/strategy_version.html", {
        "nav": "strategies",
        "strategy": strategy,
        "saved": saved,
        "words": in_words(saved.graph),
        "graph": drawable(saved.graph),
        "label": f"Graph of {saved.name}, version {saved.version}",
        "pretty": readable_json(saved.graph),
        "sessions": _sessions(strategy, version),
    })
