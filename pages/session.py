"""``/sessions/<id>``: one session, live while it runs and the same page for review once it ends.

The first view is the REST session endpoint's own answer (``snapshots.session_state``, as
``GET /api/live-trading/session/<id>``), embedded as JSON for the page's script together with the
session's own copy of its strategy graph (for the flow diagrams: a session edited since is drawn as it ran). Who may see it is the API's rule
(``accounts.ownership.readable``, as ``live_trading.api.sessions.session_for``): another user's
session is a 404; staff may view any, and see the controls only with the permission the control
endpoints ask for (``live_trading.actions.may_control``).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render

from accounts import ownership
from live_trading import actions, snapshots
from live_trading.marketdata import candles
from live_trading.marketdata.calendar import NSE, calendar_of
from live_trading.marketdata.universe import InstrumentError
from live_trading.reports.sessions import export_index, session_report
from sessions_app.models import SimulationSession
from strategies.models import StrategyVersion


@login_required
def session_page(request, session_id: str):
    """The session page: header, chart, P&L curve, positions, trades, flow diagrams, node-event log; once
    the session has ended, its report (``session_report``, as ``GET /api/sessions/<id>/report``) first."""
    rows = SimulationSession.objects.select_related("owner", "broker_connection")
    session = get_object_or_404(ownership.readable(request.user, rows), pk=session_id)
    state = snapshots.session_state(session)
    page = {
        "session_id": session.id,
        "stream_url": f"/api/v2/live/stream/{session.id}",
        "may_control": actions.may_control(request.user, session.owner),
        "graph": {"nodes": session.graph.get("nodes", []), "edges": session.graph.get("edges", [])},
        # The chart's timeframe choices and their bucket grid, from the market-data definition.
        "timeframes": [{"name": name, "seconds": secs, "label": _timeframe_label(secs)}
                       for name, secs in candles.TIMEFRAMES.items()],
        "timeframe_anchor": candles.ANCHOR_SECOND,
        # Each trading day's first open ([date, epoch seconds]): the day a tick is on, for the P&L per day
        # (the instrument's trading day, as the summary's daily_pnl counts it: not always the IST date).
        "day_opens": _day_opens(session),
    }
    # The version it ran, linked to its read-only page for the strategy's owner (the strategy pages show a
    # trader only their own strategies); none when the strategy was deleted or the version not recorded.
    ran = None
    if session.strategy_id and session.owner_id == request.user.pk:
        ran = StrategyVersion.objects.filter(strategy_id=session.strategy_id, version=session.strategy_version).first()
    report = None if session.is_active else session_report(session)
    return render(request, "pages/session.html", {
        "state": state, "page": page, "session": session, "ran_version": ran, "report": report,
        "exports": export_index(session),
    })


def _day_opens(session: SimulationSession) -> list[list]:
    """``[[date "YYYY-MM-DD", epoch seconds of its first window's open], ...]`` for the session's days, on
    its underlying's calendar (the NSE's for one the data file no longer has)."""
    try:
        calendar = calendar_of(session.underlying)
    except InstrumentError:
        calendar = NSE
    return [[d.isoformat(), calendar.windows_ts(d)[0][0]]
            for d in calendar.trading_days(session.start_date, session.end_date)]


def _timeframe_label(seconds: int) -> str:
    """A timeframe as the chart's picker names it: ``1 minute``, ``15 minutes``, ``1 hour``, ``1 day``."""
    for unit, size in (("day", 86_400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0:
            n = seconds // size
            return f"{n} {unit}{'' if n == 1 else 's'}"
    return f"{seconds} seconds"
