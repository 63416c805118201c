"""``/sessions/<id>``: one session, live while it runs and the same page for review once it ends.

The first view is the REST session endpoint's own answer (``snapshots.session_state``, as
``GET /api/live-trading/session/<id>``), embedded as JSON for the page's script together with the
session's own copy of its strategy graph (for the flow diagrams). Who may see it is the API's rule
(``accounts.ownership.readable``, as ``live_trading.api.sessions.session_for``): another user's
session is a 404; staff may view any, and see the controls only with the permission the control
endpoints ask for (``live_trading.actions.may_control``).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render

from accounts import ownership
from live_trading import actions, snapshots
from sessions_app.models import SimulationSession


@login_required
def session_page(request, session_id: str):
    """The session page: header, chart, P&L curve, positions, trades, flow diagrams, node-event log."""
    rows = SimulationSession.objects.select_related("owner", "broker_connection")
    session = get_object_or_404(ownership.readable(request.user, rows), pk=session_id)
    state = snapshots.session_state(session)
    page = {
        "session_id": session.id,
        "stream_url": f"/api/v2/live/stream/{session.id}",
        "may_control": actions.may_control(request.user, session.owner),
        "graph": {"nodes": session.graph.get("nodes", []), "edges": session.graph.get("edges", [])},
    }
    return render(request, "pages/session.html", {"state": state, "page": page, "session": session})
