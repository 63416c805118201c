"""What a client sees of a session at one moment: the dashboard shape (seed 004), diagnostics, and the
state the stream sends on connect. A running session answers from its thread, between two ticks;
a finished one from what it left in the database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.db.models import Max
from django.utils import timezone

from live_trading.engine.events import Summary, progress
from live_trading.engine.money import money_str, rupees
from live_trading.marketdata.calendar import NSE, calendar_of, exchange_date
from live_trading.marketdata.universe import InstrumentError
from live_trading.reports.statistics import marked_days, paise
from live_trading.runner.registry import registry
from live_trading.runner.thread import answer
from live_trading.stream.events import stream_state
from sessions_app import lifecycle
from sessions_app.models import EquitySample, NodeEvent, PositionChange, SimulationSession, Trade

RECENT_FINISHED = 5  # finished sessions (of the last day) the dashboard shows besides the active ones
RECENT = timedelta(hours=24)
_ASK = object()


def diagnostics(session: SimulationSession, up_to_seq: int | None = None) -> dict:
    """``events_history`` keyed by execution id, in execution order, and each node's last execution
    (up to the ``up_to_seq``-th execution when given)."""
    events_history = {}
    current_state = {}
    rows = NodeEvent.objects.filter(session=session)
    if up_to_seq is not None:
        rows = rows.filter(seq__lte=up_to_seq)
    for payload in rows.order_by("seq").values_list("payload", flat=True):
        events_history[payload["execution_id"]] = payload
        current_state[payload["node_id"]] = payload
    return {"session_id": session.id, "events_history": events_history, "current_state": current_state}


def _request(session: SimulationSession):
    thread = registry.get(session.id)
    return None if thread is None else thread.request_snapshot()


def _live_data(session: SimulationSession, reply) -> tuple[dict, bool]:
    """(snapshot, fresh): the running thread's answer if this process runs it; else the state it saved
    when it ended; else (it runs in another process, or failed before saving) what it has committed."""
    return _live(session, reply, lambda s: s.final_state or committed_snapshot(s))


def _live(session: SimulationSession, reply, committed) -> tuple[dict, bool]:
    """(snapshot, fresh): the thread's answer to ``reply``, else ``committed(session)``."""
    snapshot = answer(reply)
    if snapshot is not None:
        return snapshot, True
    if reply is not None:  # the thread ended meanwhile: its final state is in the database now
        session.refresh_from_db()
    return committed(session), False


def live_summaries(sessions) -> dict[str, dict]:
    """Each session's totals now, by session id, in the engine's summary shape (``total_trades``,
    ``winning_trades``, ``losing_trades``, ``win_rate``, and money as two-place strings: ``gross_pnl``,
    ``charges``, ``net_pnl`` = ``total_pnl``, ``max_drawdown``; ``daily_pnl`` once it has ticked).

    The same figures the dashboard shows: a session running here answers from its thread, between two
    ticks (every running thread is asked at once); any other from its row, whose totals are those of
    its committed trades (final once it ended; for one running in another process, as of its last
    batch with a trade).
    """
    sessions = list(sessions)
    replies = {s.id: _request(s) for s in sessions if s.status in lifecycle.ACTIVE}
    # The P&L per day of every session its thread does not answer for, read in one query.
    unanswered = {s.id for s in sessions if replies.get(s.id) is None}
    daily = row_dailies([s for s in sessions if s.id in unanswered]) if unanswered else {}

    def committed(session):
        return {"summary": row_summary(session, daily.get(session.id, ()) if session.id in unanswered else _READ)}

    return {s.id: _live(s, replies.get(s.id), committed)[0]["summary"] for s in sessions}


def ticks_processed(session: SimulationSession) -> int:
    """How many ticks the session has processed: asked of its thread, between two ticks, when it runs in
    this process; else its row's (final once it ended; for a session another process runs, as of its
    last write)."""
    reply = _request(session) if session.status in lifecycle.ACTIVE else None
    return _live(session, reply, lambda s: {"progress": _progress(s)})[0]["progress"]["ticks_processed"]


_READ = object()


def row_summary(session: SimulationSession, daily=_READ) -> dict:
    """The totals a session's row holds, in the engine's summary shape (``Summary.to_dict``), with the
    P&L of each trading day (``daily_pnl``) marked from its stored equity samples: the last sample of
    each day less the day before's (``statistics.marked_days``, the report's ``mtm_pnl``), which for a
    session that ended are the engine's own figures at each close. ``daily``: those days already read
    (``row_dailies``), else read here; none without samples (a session that never ticked)."""
    if daily is _READ:
        daily = row_dailies([session]).get(session.id, ())
    return Summary(
        total_trades=session.total_trades, winning_trades=session.winning_trades,
        losing_trades=session.losing_trades, win_rate=session.win_rate, gross_pnl=session.gross_pnl,
        charges=session.charges, net_pnl=session.realized_pnl, max_drawdown=session.max_drawdown,
        daily_pnl=daily, places=session.price_decimals,
    ).to_dict()


def row_dailies(sessions) -> dict[str, tuple]:
    """Each session's P&L per trading day from its stored equity samples, by session id: ``((date, Decimal
    in the session's currency), ...)`` as ``Summary.daily_pnl`` holds it.

    A day is the instrument's trading day, as the engine counts it (``Market.date``): the IST date on the
    NSE, read for them all in one query of each day's last sample; another market's (an FX pair's day
    runs 17:00 to 17:00 New York) from all its samples, each on the trading day of the last second
    before it (a sample holds the figures after every tick before its time)."""
    places = {s.id: s.price_decimals for s in sessions}
    day_of = {s.id: _trading_day(s.underlying) for s in sessions}
    points = EquitySample.objects.day_closes([i for i, f in day_of.items() if f is exchange_date])
    others = [i for i, f in day_of.items() if f is not exchange_date]
    if others:
        points.update(EquitySample.objects.nets(others))
    return {sid: tuple((day, rupees(pnl, places[sid])) for day, pnl in
                       marked_days(((t, paise(net, places[sid])) for t, net in samples), day_of[sid]))
            for sid, samples in points.items()}


def _trading_day(underlying: str):
    """The trading day of a sample at epoch second t: ``exchange_date`` on the NSE (and for an underlying
    the data file no longer has), else the market's calendar's ``day_of(t - 1)`` (a sample holds the
    figures after every tick before it), the one notion of a day the reports and exports use."""
    try:
        calendar = calendar_of(underlying)
    except InstrumentError:
        return exchange_date
    if calendar is NSE:
        return exchange_date
    return lambda t: calendar.day_of(t - 1)


def row_totals(summary: dict) -> dict:
    """A summary (``live_summaries``) in the session row's column names, as the session list shows them."""
    return {"total_trades": summary["total_trades"], "winning_trades": summary["winning_trades"],
            "losing_trades": summary["losing_trades"], "win_rate": summary["win_rate"],
            "gross_pnl": summary["gross_pnl"], "charges": summary["charges"], "realized_pnl": summary["net_pnl"],
            "max_drawdown": summary["max_drawdown"]}


def committed_snapshot(session: SimulationSession) -> dict:
    """A snapshot in the engine's shape built from the rows a session has committed: its trades, and
    each position as its latest position change left it. Prices and unrealized P&L are as of that
    change, the summary as of its last committed trade (``is_fresh`` is false wherever this is shown);
    orders, LTPs and candles are not stored."""
    latest = {}
    for payload in PositionChange.objects.filter(session=session).order_by("seq").values_list("payload", flat=True):
        position = payload["position"]
        latest[(position["position_id"], position["re_entry_num"])] = position
    positions = list(latest.values())
    places = session.price_decimals
    zone = session.calendar.time_zone
    trades = [t.record(places, zone).to_dict() for t in Trade.objects.filter(session=session).order_by("seq")]
    realized = sum((Decimal(p["realized_pnl"]) for p in positions), Decimal(0))
    unrealized = sum((Decimal(p["unrealized_pnl"]) for p in positions if p["status"] != "CLOSED"), Decimal(0))
    return {
        "timestamp": None,
        "progress": _progress(session),
        "gps_data": {"positions": positions, "trades": trades, "pnl": {
            "realized_pnl": money_str(realized, places), "unrealized_pnl": money_str(unrealized, places),
            "total_pnl": money_str(realized + unrealized, places), "closed_trades": len(trades),
            "open_trades": sum(1 for p in positions if p["status"] != "CLOSED"),
        }},
        "broker_data": {"orders": [], "account_info": None},
        "market_data": {"ltp_store": {}, "candle_data": {}},
        "nodes": {},
        "active_nodes": [],
        "summary": row_summary(session),
    }


def _progress(session: SimulationSession) -> dict:
    return progress(session.ticks_processed, session.total_ticks)


def session_state(session: SimulationSession, reply=_ASK) -> dict:
    """One session in the dashboard's shape: identity, status, what its figures are in (``currency``,
    ``price_decimals``, ``time_zone``), progress and ``data`` (no events history)."""
    snapshot, fresh = _live_data(session, _request(session) if reply is _ASK else reply)
    broker = session.broker_connection
    data = {
        "timestamp": snapshot.get("timestamp"),
        "is_fresh": fresh,
        "gps_data": _card_gps(snapshot["gps_data"]),
        "broker_data": snapshot["broker_data"],
        "market_data": snapshot["market_data"],
        "nodes": snapshot.get("nodes", {}),
        "active_nodes": snapshot.get("active_nodes", []),
        "summary": snapshot.get("summary"),
    }
    return {
        "session_id": session.id,
        "user_id": session.owner.user_id,
        "strategy_id": str(session.strategy_id) if session.strategy_id else None,
        "strategy_name": session.strategy_name,
        "strategy_version": session.strategy_version,
        "broker_info": {
            "broker_connection_id": str(broker.id), "broker_type": broker.broker_type, "account_id": broker.account_id,
        } if broker else None,
        "status": session.status,
        "status_reason": session.status_reason,
        "mode": session.mode,
        "speed_multiplier": "max" if session.speed_multiplier == 0 else session.speed_multiplier,
        "underlying": session.underlying,
        "start_date": session.start_date.isoformat(),
        "end_date": session.end_date.isoformat(),
        # What its figures are in (docs/protocol.md): the instrument's currency and places, the market's clock.
        "currency": session.currency,
        "price_decimals": session.price_decimals,
        "time_zone": session.time_zone,
        "progress": snapshot.get("progress") or _progress(session),
        "last_event_id": _last_event_id(session, snapshot),
        "data": data,
    }


def _last_event_id(session: SimulationSession, snapshot: dict | None) -> int | None:
    """The stream's last event this state includes: open the stream with it as Last-Event-ID."""
    marks = (snapshot or {}).get("marks")
    value = marks["last_event_id"] if marks and session.status in lifecycle.ACTIVE else session.last_event_id
    return int(value) if value not in (None, "") else None


def _card_gps(gps: dict) -> dict:
    """A card lists the positions still (partly) open; the closed ones are its trades, with the same
    prices and flow ids, so listing them twice would double the card for nothing."""
    return {**gps, "positions": [p for p in gps["positions"] if p["status"] != "CLOSED"]}


def dashboard(user) -> dict:
    """Every active session of ``user`` and the few most recent finished ones, keyed by session id.
    Older sessions are in ``/api/sessions/`` (paginated); ``total_sessions`` counts them all."""
    base = SimulationSession.objects.filter(owner=user).select_related("owner", "broker_connection").defer("graph")
    active = list(base.active().defer("final_state").order_by("-created_at"))
    replies = {s.id: _request(s) for s in active}  # every running thread answers at once
    finished = list(base.ended().filter(created_at__gte=timezone.now() - RECENT)
                    .order_by("-created_at")[:RECENT_FINISHED])
    sessions = {s.id: session_state(s, replies.get(s.id)) for s in active + finished}
    return {
        "user_id": user.user_id,
        "total_sessions": base.count(),
        "active_sessions": len(active),
        "cache_time": timezone.localtime().isoformat(),
        "sessions": sessions,
    }


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# A reconnect sends at most this many ended sessions created while the client was away, and only from
# the last day (RECENT, as the dashboard): a stale or forged watermark must not replay a user's history.
MAX_NEW_SESSIONS = 20


def stream_sessions(user, since: int | None = None) -> tuple[list[str], int, set[str]]:
    """The sessions a user's stream starts with, the stream's new watermark, and which of them are new.

    Returns ``(session_ids, created_up_to, created_since)``: the user's active sessions and, when the client says
    it has seen every session created up to ``since`` (microseconds since the epoch, a watermark an
    earlier connection gave it), also every later one, finished or not, so that a session that
    started and ended while the client was away is not missed (oldest first; of the ended ones, the
    last ``MAX_NEW_SESSIONS`` created within ``RECENT``). ``created_up_to`` is the creation time of
    the user's newest session (0: none). Starts are serialised per user (``actions.start_session``),
    so no session committed later can have been created earlier than that. ``created_since``: those of
    ``session_ids`` created after ``since`` (empty without it), which the client has never heard of.
    """
    mine = SimulationSession.objects.filter(owner=user)
    ids = list(mine.active().order_by("created_at").values_list("id", flat=True))
    if since is not None:
        now = timezone.now()
        after = max(EPOCH + min(timedelta(microseconds=since), now - EPOCH), now - RECENT)
        new = mine.filter(created_at__gt=after).ended().order_by("-created_at")
        ids += reversed(list(new.values_list("id", flat=True)[:MAX_NEW_SESSIONS]))
        created_since = set(mine.filter(pk__in=ids, created_at__gt=after).values_list("id", flat=True))
    else:
        created_since = set()
    newest = mine.aggregate(newest=Max("created_at"))["newest"]
    return ids, (newest - EPOCH) // timedelta(microseconds=1) if newest is not None else 0, created_since


def initial_state(session_id: str) -> dict:
    """What the stream sends a client that connects without a usable Last-Event-ID: the session's state
    including exactly the events up to ``last_event_id`` (the stream then sends those after it).

    A session running here is asked, between two ticks, to write what is pending and say how far it
    got; the node executions are read from the database up to that mark, the rest comes from the
    engine's own snapshot. Any other session is read from the database.
    """
    session = SimulationSession.objects.select_related("owner").get(pk=session_id)
    thread = registry.get(session_id)
    snapshot = thread.snapshot(flush=True) if thread is not None else None
    if snapshot is None:
        session.refresh_from_db()
        return finished_state(session_id)
    marks = snapshot["marks"]
    return _stream_state(session, snapshot, diagnostics(session, marks["node_seq"]), marks["last_event_id"])


def finished_state(session_id: str) -> dict:
    """The stream's state of a session from what was committed: its final snapshot when it ended, or
    (running in another process) its committed rows, which include exactly up to its last_event_id."""
    session = SimulationSession.objects.select_related("owner").get(pk=session_id)
    snapshot = session.final_state or committed_snapshot(session)
    return _stream_state(session, snapshot, diagnostics(session), session.last_event_id)


def _stream_state(session: SimulationSession, snapshot: dict, diag: dict, last_event_id) -> dict:
    return stream_state(
        session_id=session.id, last_event_id=int(last_event_id) if last_event_id not in (None, "") else 0,
        status=session.status, strategy_id=str(session.strategy_id) if session.strategy_id else None,
        strategy_name=session.strategy_name, underlying=session.underlying,
        start_date=session.start_date.isoformat(), end_date=session.end_date.isoformat(),
        progress=_progress(session), snapshot=snapshot, diagnostics=diag)
