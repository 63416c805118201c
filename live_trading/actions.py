"""Starting and controlling simulation sessions. Views and the admin call these; nothing else does."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from live_trading import market_cache
from live_trading.marketdata.instruments import get_underlying
from live_trading.models import BrokerConnection
from live_trading.refusals import Refused
from live_trading.runner import control
from live_trading.runner.build import InvalidRunRequest, prepare_run, start_thread
from live_trading.runner.resume import Resume, replaying
from live_trading.runner.thread import Control, wait_until
from sessions_app import leases, lifecycle
from sessions_app.actions import move_status
from sessions_app.models import EmergencyStop, SimulationSession, new_session_id
from sessions_app.replay import StoredRun
from strategies.graph.model import InvalidGraph
from strategies.models import Strategy

log = logging.getLogger(__name__)

STOP_WAIT_SECONDS = 5.0


class TooManySessions(Exception):
    """The user already runs as many sessions as allowed."""




@dataclass(frozen=True)
class StartRequest:
    strategy: Strategy
    broker_connection: BrokerConnection
    speed_multiplier: float  # 0: as fast as possible
    mode: str
    start_date: date
    end_date: date
    underlying: str | None = None
    seed: int | None = None
    stream_ticks: str = "coalesced"  # or "all": its streams get every tick_update (docs/protocol.md)
    paused: bool = False  # start paused, before the first tick
    fills_at: str = "next_open"  # EngineSettings.fills_at


def start_session(user, request: StartRequest) -> SimulationSession:
    """Create a session and start its engine thread in this process.

    Everything that can be refused is checked first (graph, days, contract facts, charge schedule,
    market data, limits), and the engine is built before the row is written, so a refused start leaves
    nothing behind. Raises ``InvalidGraph``, a ``Refused`` naming its field (``InvalidRunRequest``,
    ``MarketDataMissing``, ``NoChargeRates``...), ``TooManySessions`` or
    ``market_cache.GenerationLimitReached`` (the user's allowance of generated days, checked before any
    day is generated). After the start, least recently used synthetic days beyond the cap are evicted.
    """
    reservations: list[market_cache.Reservation] = []

    def admit(underlying: str, days: tuple[date, ...]) -> None:
        reservations.append(market_cache.reserve_generation(user, underlying, list(days)))

    try:
        session = _start_session(user, request, admit)
    except BaseException:
        for reservation in reservations:  # a failed start is charged only for the days it generated
            market_cache.refund(reservation)
        raise
    # Now that the row exists its days count as in use, so the cap cannot evict them.
    try:
        market_cache.enforce_cap()
    except OSError:  # the session runs either way; the next start tries again
        log.exception("could not evict synthetic market days")
    return session


def _start_session(user, request: StartRequest, admit) -> SimulationSession:
    speed = 0.0 if request.mode == SimulationSession.Mode.BACKTEST else request.speed_multiplier
    session_id = new_session_id()
    # The seed makes execution ids reproducible; by default each session gets its own, so two
    # sessions of one strategy never share ids on a user's stream.
    seed = request.seed if request.seed is not None else int(session_id[4:], 16)
    broker = request.broker_connection
    # The connection's fee model and slippage as they are now: the session records them and keeps them.
    fees, slippage_ticks = broker.engine_fees(), broker.slippage_ticks
    prepared = prepare_run(
        session_id, user.user_id, request.strategy.graph, request.start_date, request.end_date, seed=seed,
        starting_capital=broker.starting_capital, fees=fees, slippage_ticks=slippage_ticks,
        fills_at=request.fills_at, underlying=request.underlying, admit=admit, every_tick=request.stream_ticks == "all",
    )
    instrument = get_underlying(prepared.underlying)
    # Row locks in the one order of docs/runner.md ("Row locks"): the user, then the strategy and the broker
    # connection, each FOR NO KEY UPDATE, never FOR UPDATE: every batch write of the user's running sessions
    # holds FOR KEY SHARE on these rows at its commit (the foreign-key checks of its session row), which
    # FOR UPDATE would wait for while that write waits for this one's user row: a deadlock.
    with transaction.atomic():
        # Serialise starts per user so two concurrent requests cannot both pass the limit.
        get_user_model().objects.select_for_update(no_key=True).get(pk=user.pk)
        running = SimulationSession.objects.filter(owner=user).active().count()
        limit = settings.SIM_MAX_RUNNING_SESSIONS_PER_USER
        if running >= limit:
            raise TooManySessions(f"you already run {running} sessions, the most allowed at once is {limit}; stop one first")
        _lock_dependencies(user, request)
        session = SimulationSession.objects.create(
            id=session_id, owner=user, strategy=request.strategy, strategy_name=request.strategy.name,
            strategy_version=request.strategy.version, graph=request.strategy.graph,
            broker_connection=request.broker_connection, mode=request.mode, speed_multiplier=speed,
            start_date=request.start_date, end_date=request.end_date, underlying=prepared.underlying,
            seed=seed, starting_capital=broker.starting_capital, fees=fees.to_dict(), slippage_ticks=slippage_ticks,
            fills_at=request.fills_at, price_decimals=instrument.price_decimals, currency=instrument.currency,
            total_ticks=prepared.total_ticks, stream_ticks=request.stream_ticks,
            # Claimed by this process from the first moment: if it dies before its thread's first write, the
            # claim expires and another process fails the session (``fail_abandoned_starts``).
            **leases.lease_fields(prepared.writer.token),
        )
    control.ensure_listener()
    try:
        thread = start_thread(session, prepared, paused=f"started paused by {user.username}" if request.paused else "")
    except Exception as exc:  # the row exists: say why it never ran rather than leave it "created"
        log.exception("session %s could not start", session.id)
        move_status(session.id, lifecycle.FAILED, reason=f"could not start: {type(exc).__name__}: {exc}")
        raise
    # The thread records "running" itself; answer with that rather than race it.
    thread.recorded_start.wait(STOP_WAIT_SECONDS)
    session.refresh_from_db()
    return session


class CannotResume(Exception):
    """The session cannot be resumed now (not interrupted, its account or market data gone...); says why.
    ``status`` is the session's status."""

    def __init__(self, message: str, status: str | None):
        super().__init__(message)
        self.status = status


def resume_interrupted(session: SimulationSession, reason: str, *, go_on: bool = False) -> SimulationSession:
    """Resume an interrupted session in this process, exactly where it stopped; return it running.

    A session interrupted while paused (or adopted paused) pauses again at once, before its next tick,
    unless ``go_on`` (a trader's own resume, which asks for it to run): then that pause is not asked.

    The engine is rebuilt from the session's own graph copy, days, seed and starting capital; its thread
    claims the session (interrupted -> running, a conditional UPDATE, so of two processes or requests one
    wins and the other returns the session as the winner left it) and takes its lease, replays it
    comparing every event with the stored rows (``live_trading.runner.resume``), then goes on live at the
    session's speed. A replay that differs ends the session ``failed`` with the reason, every row kept.
    Raises ``CannotResume`` when the session is not interrupted, its user already runs the most sessions
    allowed, or it cannot be rebuilt (its broker connection and recorded capital gone, its graph or days
    refused now, its market data missing); the session then stays as it was.
    """
    if session.status not in lifecycle.RESUMABLE:
        raise CannotResume(f"only an interrupted session can be resumed; this one is {session.status}", session.status)
    running = SimulationSession.objects.filter(owner_id=session.owner_id).active().count()
    limit = settings.SIM_MAX_RUNNING_SESSIONS_PER_USER
    if running >= limit:
        raise CannotResume(f"its user already runs {running} sessions, the most allowed at once is {limit}; "
                           "stop one first", session.status)
    stored = StoredRun.load(session)
    wrap = replaying(stored)
    prepared = _rebuild(session, wrap)
    control.ensure_listener()
    if go_on:
        SimulationSession.objects.filter(pk=session.id, status__in=lifecycle.RESUMABLE,
                                         requested_status=lifecycle.PAUSED).update(requested_status="")
    resume = Resume(stored, wrap.made, prepared.writer, prepared.stream, reason)
    try:
        thread = start_thread(session, prepared, resume=resume)
    except RuntimeError as exc:  # its thread already runs here: another request resumed it a moment ago
        raise CannotResume(str(exc), _status(session.id)) from exc
    thread.recorded_start.wait(STOP_WAIT_SECONDS)
    session.refresh_from_db()
    return session


def _rebuild(session: SimulationSession, wrap=None):
    """The session's engine built again (``prepare_run``) from its own graph, days, seed, capital, fee model
    and slippage.
    Raises ``CannotResume`` saying why it cannot be."""
    capital = session.starting_capital
    if capital is None and session.broker_connection is not None:
        capital = session.broker_connection.starting_capital  # started before the capital was recorded
    if capital is None:
        raise CannotResume("its starting capital is unknown: it was not recorded and its broker connection "
                           "was deleted", session.status)
    try:
        return prepare_run(
            session.id, session.owner.user_id, session.graph, session.start_date, session.end_date,
            seed=session.seed, starting_capital=capital, fees=session.engine_fees(),
            slippage_ticks=session.slippage_ticks, fills_at=session.fills_at, underlying=session.underlying,
            wrap_sink=wrap, every_tick=session.stream_ticks == "all",
        )
    except InvalidGraph as exc:
        raise CannotResume(f"its strategy graph is no longer valid: {'; '.join(map(str, exc.errors))}",
                           session.status) from exc
    except Refused as exc:
        raise CannotResume(f"it cannot be rebuilt: {exc}", session.status) from exc


def adopt_expired_sessions(taken=None, refused: dict[str, str] | None = None) -> list[tuple[SimulationSession, str]]:
    """Adopt, in this process, every running or paused session whose owner is gone: its lease expired
    past the grace period (``SIM_LEASE_SECONDS`` + ``SIM_LEASE_GRACE_SECONDS``), or its owner was a
    process of this host that no longer exists. Return each with what became of it (``resumed``, or why
    not, as ``resume_interrupted_sessions``).

    A session is first rebuilt here as a check; one this process cannot rebuild is left alone, still
    running under its expired lease. Then one conditional UPDATE takes the lease from the old owner
    (``leases.take_expired``: the session becomes ``interrupted`` and the old owner's writes are refused
    from then on), and the session is resumed as ``resume_interrupted`` does, from its last commit; a
    paused session goes on paused. ``taken(session)``, if given, is called as soon as this process holds
    a session's lease, before it resumes there (so what it logs precedes the row saying it runs here).
    ``refused``, if given, remembers (session id -> lease token) the sessions this process could not
    rebuild: they are not tried (nor reported) again until their lease changes, so a session nobody can
    rebuild costs each process one rebuild and one log line, not one every turn.
    First, sessions left ``created`` by a process that died before they started are failed
    (``fail_abandoned_starts``), with ``failed: <reason>`` as their outcome."""
    outcomes = fail_abandoned_starts()
    for session_id, token, runner in leases.adoptable():
        session = SimulationSession.objects.select_related("owner", "broker_connection").filter(pk=session_id).first()
        if session is None or session.lease_token != token:
            continue
        if refused is not None and refused.get(session_id) == token:
            continue
        try:
            _rebuild(session)
        except CannotResume as exc:
            if refused is not None:
                refused[session_id] = token
            outcomes.append((session, f"not adopted: {exc}"))
            continue
        reason = f"adopted by {leases.RUNNER_NAME}: its process ({runner or 'none'}) stopped renewing its lease"
        if not leases.take_expired(session_id, token, runner, reason):
            continue  # renewed, adopted elsewhere or stopped meanwhile
        session.refresh_from_db()
        if taken is not None:
            taken(session)
        try:
            outcomes.append((resume_interrupted(session, reason), "resumed"))
        except CannotResume as exc:
            outcomes.append((session, f"not resumed: {exc}"))
    return outcomes


def fail_abandoned_starts() -> list[tuple[SimulationSession, str]]:
    """Fail every session left ``created`` by a process that ended before the session's thread began
    (``leases.abandoned_starts``), saying so; return each with ``failed: <reason>``. Nothing of it ran (no
    row, no event), so there is nothing to resume: its user starts it again. The move is conditional on
    ``created``, so a thread that starts after all wins, or finds the session failed and does not run."""
    outcomes = []
    for session_id, runner in leases.abandoned_starts():
        reason = (f"its server process ({runner or 'unknown'}) ended before the session started; nothing ran, "
                  "start it again")
        if move_status(session_id, lifecycle.FAILED, reason=reason, from_statuses={lifecycle.CREATED}, lease_token=""):
            session = SimulationSession.objects.select_related("owner").get(pk=session_id)
            outcomes.append((session, f"failed: {reason}"))
    return outcomes


def resume_interrupted_sessions(reason: str = "resumed when the server started") -> list[tuple[SimulationSession, str]]:
    """Resume every interrupted session, oldest first; return each with what became of it (a line for the
    log: ``resumed``, or why it could not be).

    Sessions interrupted before their starting capital was recorded are left alone: they come from before
    resuming existed, when an interrupt squared the positions off, so their replay could only fail them.
    ``resume_interrupted`` still tries one on request."""
    outcomes = []
    for session in (SimulationSession.objects.filter(status__in=lifecycle.RESUMABLE, starting_capital__isnull=False)
                    .select_related("owner", "broker_connection").order_by("created_at")):
        try:
            outcomes.append((resume_interrupted(session, reason), "resumed"))
        except CannotResume as exc:
            outcomes.append((session, f"not resumed: {exc}"))
    return outcomes


def _lock_dependencies(user, request: StartRequest) -> None:
    """Lock the strategy and broker connection rows the new session will point to, or refuse if they went.

    They were checked when the request was validated, but preparing takes seconds, and a delete in
    between would fail the session's foreign key at commit. The delete actions lock the row FOR UPDATE
    first, which this lock (FOR NO KEY UPDATE) waits for and makes wait, so a delete either happens
    before this (and the start is refused, naming the field) or waits for the session row and then
    sees it. FOR NO KEY UPDATE, not FOR UPDATE: the FOR KEY SHARE that the user's running sessions'
    writes take on these rows does not conflict with it (docs/runner.md, "Row locks").
    """
    for model, obj, field, noun in (
        (Strategy, request.strategy, "strategy_id", "strategy"),
        (BrokerConnection, request.broker_connection, "broker_connection_id", "broker connection"),
    ):
        if not model.objects.select_for_update(no_key=True).filter(pk=obj.pk, owner=user).values_list("pk", flat=True):
            raise InvalidRunRequest(field, f"no such {noun} of yours (it was deleted while the session was starting)")


def _send(session: SimulationSession, message: Control) -> bool:
    return control.deliver(session.id, message)


def stop_session(session: SimulationSession, by) -> SimulationSession:
    """Stop a session wherever it runs and return it in its final status.

    A session no live process answers for (its process died) is marked stopped here directly; the
    conditional status move makes that safe against the owner waking up at the same moment.
    """
    if session.status in lifecycle.FINAL:
        return session
    reason = _request_stop([session.id], by)
    delivered = _send(session, Control("stop", reason))
    if delivered:
        wait_until(lambda: _status(session.id) in lifecycle.FINAL, STOP_WAIT_SECONDS)
    if _status(session.id) not in lifecycle.FINAL:
        _stop_unanswered(session.id, reason)
    session.refresh_from_db()
    return session


def _request_stop(ids: list[str], by) -> str:
    """Write a stop request on the rows of the sessions ``ids`` (session ids): who asked (``by``, a user),
    when, and the reason, which is returned (``stopped by <username>``). Their owners read it at their
    next renewal (``leases.renew``) wherever they run.

    The reason goes in the same UPDATE as the request: an owner renewing its lease in between would
    otherwise obey the stop with the reason of an earlier pause or speed request. The rows are locked
    in id order first (docs/runner.md, "Row locks"), so two stops of overlapping sets (a user's stop-all
    and the emergency stop) cannot each hold a row the other waits for."""
    reason = f"stopped by {by.username}"
    if not ids:
        return reason
    with transaction.atomic():
        rows = SimulationSession.objects.filter(pk__in=ids)
        list(rows.order_by("pk").select_for_update(no_key=True).values_list("pk", flat=True))
        rows.update(stop_requested_by=by, stop_requested_at=timezone.now(), requested_reason=reason[:200])
    return reason


def _stop_unanswered(session_id: str, reason: str) -> None:
    """Mark stopped a session no process stopped in time. Its lease is cleared in the same UPDATE, so if
    an owner lives after all (hung, cut off), its next write is refused and its thread ends."""
    move_status(session_id, lifecycle.STOPPED, reason=f"{reason} (no running process answered)", lease_token="")


def stop_sessions_of(owner, by) -> list[SimulationSession]:
    """Stop every active session of ``owner``; return them in their final status."""
    return stop_sessions(list(SimulationSession.objects.filter(owner=owner).active()), by)


def stop_sessions(sessions, by) -> list[SimulationSession]:
    """Stop several sessions: ask them all first, then wait, so N sessions take one wait, not N."""
    sessions = [s for s in sessions if s.status in lifecycle.ACTIVE]
    reason = _request_stop([s.id for s in sessions], by)
    for session in sessions:
        _send(session, Control("stop", reason))
    ids = [s.id for s in sessions]
    wait_until(lambda: not SimulationSession.objects.filter(pk__in=ids).active().exists(),
               STOP_WAIT_SECONDS)
    for session in sessions:
        if _status(session.id) not in lifecycle.FINAL:
            _stop_unanswered(session.id, reason)
        session.refresh_from_db()
    return sessions


STOP_ALL_PERMISSION = "sessions_app.stop_all_sessions"


class NotAllowed(Exception):
    """The user lacks the permission the action needs."""


CONTROL_OTHERS_PERMISSION = "sessions_app.change_simulationsession"


def may_control(user, owner) -> bool:
    """Whether ``user`` may stop, pause, resume or re-pace the sessions of ``owner`` (a user): their
    own, or anyone's for staff with the permission the admin asks for the same (reading another user's
    sessions takes staff status alone)."""
    return user.pk == owner.pk or bool(user.is_active and user.is_staff and user.has_perm(CONTROL_OTHERS_PERMISSION))


def may_stop_all(user) -> bool:
    """Whether ``user`` may stop every user's sessions: staff with the stop-all permission."""
    return bool(user.is_active and user.is_staff and user.has_perm(STOP_ALL_PERMISSION))


def stop_all_sessions(by, via: str) -> tuple[EmergencyStop, list[SimulationSession]]:
    """Stop every active session of every user and write the audit record (``EmergencyStop``).

    ``via`` is an ``EmergencyStop.Via`` value (``"api"`` or ``"admin"``). Returns the record and the
    sessions stopped (each in its final status, owner loaded). Raises ``NotAllowed`` unless
    ``may_stop_all(by)``; the record is written even when no session was active.
    """
    if not may_stop_all(by):
        raise NotAllowed(f"stopping every session needs the {STOP_ALL_PERMISSION} permission")
    asked_at = timezone.now()
    stopped = stop_sessions(list(SimulationSession.objects.active().select_related("owner")), by)
    owners = list(dict.fromkeys(s.owner.user_id for s in stopped))
    record = EmergencyStop.objects.create(
        stopped_by=by, stopped_by_username=by.get_username(), stopped_at=asked_at, via=via,
        sessions_stopped=len(stopped), users_affected=len(owners), session_ids=[s.id for s in stopped],
        user_ids=owners,
    )
    log.warning("emergency stop by %s via %s: %d session(s) of %d user(s)", record.stopped_by_username, via,
                len(stopped), len(owners))
    return record, stopped


def pause_session(session: SimulationSession, by) -> SimulationSession:
    """Pause at the next tick; return the session paused. Raises ``SessionNotRunning`` (see ``set_speed``)."""
    return _control_and_wait(session, Control("pause", f"paused by {by.username}"),
                             lambda status, speed: status == lifecycle.PAUSED)


def resume_session(session: SimulationSession, by) -> SimulationSession:
    """Resume a paused session; return it running. Raises ``SessionNotRunning`` (see ``set_speed``)."""
    return _control_and_wait(session, Control("resume", f"resumed by {by.username}"),
                             lambda status, speed: status == lifecycle.RUNNING)


def set_speed(session: SimulationSession, speed: float, by) -> SimulationSession:
    """Set the speed multiplier (0: as fast as possible); return the session once its thread applied it.

    Raises ``SessionNotRunning`` when no process answers for the session, or when it ended (a stop
    won the race) before applying the change; its ``status`` is the session's status then.
    """
    return _control_and_wait(session, Control("speed", f"speed set by {by.username}", speed=speed),
                             lambda status, current: current == speed)


class SessionNotRunning(Exception):
    """A control message could not reach the session, or the session ended first; ``status`` is its status."""

    def __init__(self, message: str, status: str | None):
        super().__init__(message)
        self.status = status


def _control_and_wait(session: SimulationSession, message: Control, applied) -> SimulationSession:
    """Send ``message``, then wait until ``applied(status, speed)`` holds or the session ended.

    A stop racing the message may reach the thread first; the thread then ends without obeying it.
    Waiting for a final status as well answers that loser at once rather than after the whole wait.
    """
    if not _send(session, message):
        status = _status(session.id)
        if status in lifecycle.FINAL:  # it ended (a stop won the race) before the request could be written
            raise SessionNotRunning(f"the session is {status}", status)
        raise SessionNotRunning("no running process answers for this session", status)

    def settled() -> bool:
        row = SimulationSession.objects.filter(pk=session.id).values_list("status", "speed_multiplier").first()
        return row is None or applied(*row) or row[0] in lifecycle.FINAL

    wait_until(settled, STOP_WAIT_SECONDS)
    session.refresh_from_db()
    if session.status in lifecycle.FINAL and not applied(session.status, session.speed_multiplier):
        raise SessionNotRunning(f"the session is {session.status}", session.status)
    return session


def _status(session_id: str) -> str | None:
    return SimulationSession.objects.filter(pk=session_id).values_list("status", flat=True).first()
