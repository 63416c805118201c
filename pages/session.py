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
from live_trading import actions, charts, snapshots
from live_trading.marketdata import candles, instruments
from live_trading.marketdata.calendar import calendar_of
from live_trading.marketdata.store import MarketDataMissing
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
        # Each trading day's first open ([date, epoch seconds]): the day a tick is on, for the P&L per day
        # (the instrument's trading day, as the summary's daily_pnl counts it: not always the IST date).
        "day_opens": _day_opens(session),
        **chart_grid(session),
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
    its market's calendar (``SimulationSession.calendar``: the NSE's for an underlying the data file no
    longer has)."""
    calendar = session.calendar
    return [[d.isoformat(), calendar.windows_ts(d)[0][0]]
            for d in calendar.trading_days(session.start_date, session.end_date)]


def chart_grid(session: SimulationSession) -> dict:
    """How the session's candle chart cuts and scales its bars: ``timeframe_anchor``, the seconds after
    its market's midnight the candle grid starts from (``calendar.anchor_ts`` of its first day: 33300 =
    09:15 on the NSE, 61200 = 17:00 New York for spot FX); ``price_tick``, the smallest price step the
    price scale moves by (the instrument's tick: 0.05 for NIFTY, 0.00001 for EURUSD); ``timeframe``, the
    one it opens on: 1m, or for a market replayed from imported bars the shortest that holds a whole bar
    (1h for hourly bars, whose 1-minute candles are four ticks an hour). An underlying the data file no
    longer has: the NSE's."""
    places = session.price_decimals
    try:
        cal = calendar_of(session.underlying)
        info = instruments.get_underlying(session.underlying)
    except InstrumentError:
        return {"timeframe_anchor": candles.ANCHOR_SECOND, "price_tick": 5 / 10**places, "timeframe": "1m"}
    day = session.start_date
    return {"timeframe_anchor": (cal.anchor_ts(day) - cal.midnight_ts(day)) % 86_400,
            "price_tick": info.tick_size_paise / 10**places, "timeframe": _opening_timeframe(session, info)}


def _opening_timeframe(session: SimulationSession, info) -> str:
    """The chart's first timeframe: the shortest of ``candles.TIMEFRAMES`` at least as long as the bars its
    first day was imported as (the day file's ``bar_seconds``); 1m for ticks and for NSE days (generated
    per second; their files are not read for this)."""
    if info.synthetic:
        return "1m"
    try:
        bar = charts.underlying_day(session.underlying, session.start_date).bar_seconds.get(session.underlying, 60)
    except MarketDataMissing:
        return "1m"
    return next((name for name, secs in candles.TIMEFRAMES.items() if secs >= bar), "1m")


def _timeframe_label(seconds: int) -> str:
    """A timeframe as the chart's picker names it: ``1 minute``, ``15 minutes``, ``1 hour``, ``1 day``."""
    for unit, size in (("day", 86_400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0:
            n = seconds // size
            return f"{n} {unit}{'' if n == 1 else 's'}"
    return f"{seconds} seconds"
