"""Reports of stored sessions: their trades and equity samples read from the database and handed to
``statistics.report``, the one function of every figure (docs/reports.md).

The session page's Report tab, ``GET /api/sessions/{id}/report``, ``manage.py simulate --json`` and the
history and strategy pages all show what these return. A running session is reported on as it stands:
its committed trades and the samples written so far (``final`` is false).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings

from live_trading.engine.money import money_str
from live_trading.marketdata.calendar import market_calendar, trading_days_of
from live_trading.marketdata.store import day_source
from live_trading.reports.exports import MANIFEST, NAMES, exports, manifest
from live_trading.reports.statistics import Run, leg_names, paise, report
from live_trading.snapshots import row_summary
from sessions_app import lifecycle
from sessions_app.models import EquitySample, NodeEvent, PositionChange, SimulationSession, Trade


class MixedCurrencies(ValueError):
    """Sessions of more than one currency asked for one report: their money cannot be added without a
    conversion, which the simulator does not make. ``currencies`` lists them, sorted."""

    def __init__(self, currencies):
        self.currencies = sorted(currencies)
        super().__init__(f"the sessions trade in {' and '.join(self.currencies)}: a report adds the money of one "
                         "currency only; report each currency's sessions apart")


def by_currency(sessions: Iterable[SimulationSession]) -> dict[str, list[SimulationSession]]:
    """``sessions`` grouped by their currency (INR, USD, ...), in the order given within each, the groups in
    the order of their first session: what reports, totals and lists add up separately."""
    groups: dict[str, list[SimulationSession]] = {}
    for s in sessions:
        groups.setdefault(s.currency, []).append(s)
    return groups


def session_report(session: SimulationSession) -> dict:
    """The report of one session: ``statistics.report``'s dict (``statistics``, ``by_exit_reason``,
    ``by_leg``, ``daily``, ``equity_curve``) with the session it describes: ``session`` ``{"session_id",
    "strategy_name", "strategy_version", "underlying", "start_date", "end_date", "status", "currency",
    "price_decimals"}`` (its money is in ``currency`` with ``price_decimals`` places; its days and times
    are its market's, ``SimulationSession.calendar``) and
    ``final`` (false while the session may still trade: its figures so far). Each ``by_leg`` entry's
    ``name`` is its entry node's name in the graph the session ran."""
    return session_reports([session])[session.id]


def sessions_report(sessions: Iterable[SimulationSession]) -> dict:
    """The report over several sessions of one currency (a strategy's, say), in the shape of
    ``session_report`` with ``sessions`` (a list of those dicts, in the order reported: by start date, then
    start time) instead of ``session``, and their ``currency`` and ``price_decimals``. The equity curve
    chains them in that order, each starting where the one before ended; ``daily`` sums the P&L of every
    session's trades per trading day (of each session's market).

    Raises ``MixedCurrencies`` for sessions of several currencies (``by_currency`` groups them): money of
    different currencies is never added."""
    sessions = sorted(sessions, key=lambda s: (s.start_date, s.started_at or s.created_at, s.id))
    currencies = {s.currency for s in sessions}
    if len(currencies) > 1:
        raise MixedCurrencies(currencies)
    ids = [s.id for s in sessions]
    trades, samples = _gather(sessions)
    names = {}
    for s in sessions:  # the latest session's graph names a leg
        names.update(leg_names(s.graph))
    # Amounts of instruments of one currency with fewer places are exact with more: the most any of them has.
    places = max((s.price_decimals for s in sessions), default=2)
    calendars = {s.id: s.calendar for s in sessions}
    result = report((Run(trades[i], samples[i], calendars[i]) for i in ids), names, places)
    return {"sessions": [_describe(s) for s in sessions], "currency": next(iter(currencies), "INR"),
            "price_decimals": places, "final": all(s.status not in lifecycle.ACTIVE for s in sessions), **result}


def session_reports(sessions: Iterable[SimulationSession]) -> dict[str, dict]:
    """``session_report`` of each of ``sessions`` by session id, read in two queries whatever their
    number (for a list of sessions, such as the history page's)."""
    sessions = list(sessions)
    trades, samples = _gather(sessions)
    return {s.id: _one(s, trades[s.id], samples[s.id]) for s in sessions}


def _one(session: SimulationSession, trades: list, samples: list) -> dict:
    result = report([Run(trades, samples, session.calendar)], leg_names(session.graph), session.price_decimals)
    return {"session": _describe(session), "final": session.status not in lifecycle.ACTIVE, **result}


def _gather(sessions: list[SimulationSession]) -> tuple[dict[str, list], dict[str, list]]:
    """Each session's trades (``TradeRecord``s in closing order) and equity samples ((epoch seconds, net
    P&L, low, high, drop in minor units) in time order), by session id."""
    places = {s.id: s.price_decimals for s in sessions}
    ids = list(places)
    trades: dict[str, list] = {i: [] for i in ids}
    rows = Trade.objects.filter(session_id__in=ids).order_by("session_id", "seq")
    zones = {s.id: s.calendar.time_zone for s in sessions}
    for row in rows.iterator(chunk_size=2000):
        trades[row.session_id].append(row.record(places[row.session_id], zones[row.session_id]))
    samples: dict[str, list] = {i: [] for i in ids}
    values = (EquitySample.objects.filter(session_id__in=ids).order_by("session_id", "timestamp")
              .values_list("session_id", "timestamp", "realized_pnl", "unrealized_pnl", "low_pnl", "high_pnl", "drop"))
    for session_id, at, realized, unrealized, low, high, drop in values.iterator(chunk_size=5000):
        n = places[session_id]
        samples[session_id].append((int(at.timestamp()), paise(realized + unrealized, n), paise(low, n),
                                    paise(high, n), paise(drop, n)))
    return trades, samples


def _describe(session: SimulationSession) -> dict:
    return {"session_id": session.id, "strategy_name": session.strategy_name,
            "strategy_version": session.strategy_version, "underlying": session.underlying,
            "start_date": session.start_date.isoformat(), "end_date": session.end_date.isoformat(),
            "status": session.status, "currency": session.currency, "price_decimals": session.price_decimals}


def session_exports(session: SimulationSession) -> dict[str, dict]:
    """The session's export files per trading day (``exports.exports``), from its committed rows: node
    executions, position changes, trades and equity samples. A running session's are as of its last
    batch; a finished one's are final."""
    executions = NodeEvent.objects.filter(session=session).order_by("seq").values_list("payload", flat=True)
    positions = (p["position"] for p in
                 PositionChange.objects.filter(session=session).order_by("seq").values_list("payload", flat=True))
    trades, samples = _gather([session])
    calendar = market_calendar(session.underlying)
    days = calendar.trading_days(session.start_date, session.end_date)
    return exports(days, executions.iterator(chunk_size=2000), (t.to_dict() for t in trades[session.id]),
                   positions, samples[session.id], session.price_decimals, calendar)


def session_manifest(session: SimulationSession) -> dict:
    """The session's export manifest, ``session.json`` (``exports.manifest``), from its row and its
    committed equity samples and position changes."""
    samples = (EquitySample.objects.filter(session=session).order_by("timestamp").values_list(
        "timestamp", "realized_pnl", "unrealized_pnl", "charges", "low_pnl", "high_pnl", "drop"))
    changes = PositionChange.objects.filter(session=session).order_by("seq").values_list("payload", flat=True)
    broker = session.broker_connection
    days = trading_days_of(session.underlying, session.start_date, session.end_date)
    return manifest(
        session_id=session.id,
        strategy={"id": str(session.strategy_id) if session.strategy_id else None, "name": session.strategy_name,
                  "version": session.strategy_version, "graph": session.graph},
        underlying=session.underlying, price_decimals=session.price_decimals, currency=session.currency,
        days=days, mode=session.mode,
        speed_multiplier=session.speed_multiplier, seed=session.seed,
        starting_capital=(None if session.starting_capital is None
                          else money_str(session.starting_capital, session.price_decimals)),
        broker=None if broker is None else {"broker_type": broker.broker_type, "account_id": broker.account_id,
                                            "name": broker.name},
        fees=session.fees, slippage_ticks=session.slippage_ticks,
        status=session.status, status_reason=session.status_reason,
        created_at=_when(session.created_at), started_at=_when(session.started_at), ended_at=_when(session.ended_at),
        progress={"ticks_processed": session.ticks_processed, "total_ticks": session.total_ticks},
        summary=row_summary(session),
        equity_samples=[(int(at.timestamp()), *(paise(v, session.price_decimals) for v in money))
                        for at, *money in samples.iterator(chunk_size=5000)],
        position_events=changes.iterator(chunk_size=2000), final_state=session.final_state,
        market_data=[day_source(session.underlying, day, settings.MARKET_DATA_DIR) for day in days],
    )


def _when(at) -> str | None:
    return None if at is None else at.isoformat()


def export_index(session: SimulationSession) -> dict:
    """Where to download the session's export files: ``{"session_id", "manifest": {"name", "url"}, "days":
    [{"date", "files": [{"name", "url"}]}]}``, the manifest (``session.json``) and a day per trading day
    of the session, its three files in ``exports.NAMES`` order (the answer of
    ``GET /api/sessions/{id}/exports/``; the session page links the same URLs)."""
    days = [d.isoformat() for d in trading_days_of(session.underlying, session.start_date, session.end_date)]
    return {"session_id": session.id,
            "manifest": {"name": MANIFEST, "url": f"/api/sessions/{session.id}/exports/{MANIFEST}"},
            "days": [
        {"date": day, "files": [{"name": name, "url": f"/api/sessions/{session.id}/exports/{name}?date={day}"}
                                for name in NAMES]} for day in days]}
