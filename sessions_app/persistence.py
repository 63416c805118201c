"""Writing a running session to Postgres: node events, position changes and trades in batches (a batch
with trades also updates the session's totals to those trades'), progress as a heartbeat, the P&L
samples of its curve with whichever write comes next, and the final status with the summary.

The writer runs on the session's own thread. It buffers rows and writes them in one transaction when
200 have gathered or 250 ms have passed since the first of them, whichever comes first; the stream
publishes the events of a batch only after that batch commits, so a client that fetches on an event
always finds its row. Before any status change the buffer is flushed in the same transaction, so a
stopped, failed or interrupted session keeps everything the engine produced up to that tick.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction

from live_trading.engine.events import (
    CandleCompleted,
    EquitySample,
    NodeExecuted,
    PositionEvent,
    SessionComplete,
    Summary,
    TradeClosed,
)
from sessions_app import leases, lifecycle
from sessions_app.actions import move_status
from sessions_app.models import EquitySample as EquitySampleRow
from sessions_app.models import NodeEvent, PositionChange, SimulationSession, Trade, from_epoch

log = logging.getLogger(__name__)
T = TypeVar("T")

FLUSH_ROWS = 200
FLUSH_SECONDS = 0.25
RUNNER_NAME = leases.RUNNER_NAME
WRITE_BACKOFF = 0.1  # a batch write the database drops is tried again, after 0.1, 0.2, 0.4 ... 5 s
WRITE_BACKOFF_MAX = 5.0


class DatabaseUnavailable(Exception):
    """Every try of a batch write failed (``settings.SIM_WRITE_ATTEMPTS``): the database stayed out of
    reach. Nothing of the batch was written or published; its rows are pending again, so the write that
    records the session's end (``finished``) takes them with it. The message is the session's reason."""


def _totals(summary: Summary) -> dict:
    """The session row's totals columns from the engine's summary (``realized_pnl`` is net of charges)."""
    return dict(
        gross_pnl=summary.gross_pnl, realized_pnl=summary.net_pnl, charges=summary.charges,
        total_trades=summary.total_trades, winning_trades=summary.winning_trades,
        losing_trades=summary.losing_trades, win_rate=summary.win_rate, max_drawdown=summary.max_drawdown,
    )


class SessionWriter:
    """Persist one session's events. ``stream`` (optional) is told what to publish after each commit;
    with it comes ``final_state(session_id) -> dict``, the state its ``session_complete`` carries, read
    from what was committed (the runner passes it in: the snapshots sit above this module)."""

    wants_ticks = False

    def __init__(self, session_id: str, *, stream=None, final_state: Callable[[str], dict] | None = None,
                 clock=time.monotonic):
        if stream is not None and final_state is None:
            raise TypeError("a writer with a stream needs final_state")
        self.session_id = session_id
        self.stream = stream
        self._final_state = final_state
        self._clock = clock
        self._node_events: list[NodeEvent] = []
        self._position_changes: list[PositionChange] = []
        self._trades: list[Trade] = []
        self._equity: list[tuple[int, ...]] = []
        self._places = 2  # the decimal places of the equity samples' money (EquitySample.places)
        self._first_pending_at: float | None = None
        self._last_heartbeat = clock()
        self._seq = {"node": 0, "position": 0, "trade": 0}
        self.summary: Summary | None = None
        self.token = leases.new_token()  # this writer's lease on the session, once it claimed it
        self.requests = leases.Requests()  # what control requests asked, as of the last renewal

    # -- the engine's sink ----------------------------------------------------------------------
    def emit(self, event) -> None:
        if isinstance(event, NodeExecuted):
            self._seq["node"] += 1
            self._node_events.append(NodeEvent.from_payload(
                event.to_dict(), session_id=self.session_id, seq=self._seq["node"], timestamp=from_epoch(event.ts)))
        elif isinstance(event, PositionEvent):
            self._seq["position"] += 1
            self._position_changes.append(PositionChange.from_payload(
                event.to_dict(), session_id=self.session_id, seq=self._seq["position"], timestamp=from_epoch(event.ts)))
        elif isinstance(event, TradeClosed):
            self._seq["trade"] += 1
            self._trades.append(Trade.from_record(event.trade, session_id=self.session_id, seq=self._seq["trade"]))
            self.summary = event.summary
        elif isinstance(event, EquitySample):
            # A minute's sample waits for the next write (a batch, the heartbeat or the end) rather than
            # start one: a session's curve is read for review, and this adds no transaction.
            self._equity.append((event.ts, event.realized_pnl_paise, event.unrealized_pnl_paise, event.charges_paise,
                                 event.low_pnl_paise, event.high_pnl_paise, event.drop_paise))
            self._places = event.places
            return
        elif isinstance(event, SessionComplete):
            self.summary = event.summary
            return
        elif not (isinstance(event, CandleCompleted) and self.stream is not None):
            return
        # A candle is no row here, but the stream publishes it after a commit: have one come soon.
        if self._first_pending_at is None:
            self._first_pending_at = self._clock()

    @property
    def renew_seconds(self) -> float:
        """The longest the session's thread may go without a write (each renews the lease)."""
        return float(settings.SIM_LEASE_RENEW_SECONDS)

    @property
    def pending(self) -> int:
        return len(self._node_events) + len(self._position_changes) + len(self._trades)

    # -- called by the session thread -----------------------------------------------------------
    def maybe_flush(self, engine) -> None:
        """Flush when the batch is full or old enough; otherwise, now and then, record progress."""
        now = self._clock()
        first = self._first_pending_at
        if first is not None and (now - first >= FLUSH_SECONDS or self.pending >= FLUSH_ROWS):
            self.flush(engine)
        elif now - self._last_heartbeat >= settings.SIM_LEASE_RENEW_SECONDS:
            self._write(engine)  # renews the lease and reads the control requests

    def flush(self, engine) -> None:
        self._write(engine)

    def marks(self) -> dict:
        """How many rows of each kind this session has produced, and the stream's last event number:
        a snapshot taken now includes exactly these (see snapshots.initial_state)."""
        return {"node_seq": self._seq["node"], "position_seq": self._seq["position"],
                "trade_seq": self._seq["trade"], "last_event_id": self._last_event_id()}

    def snapshot(self, engine, flush: bool = False) -> dict:
        """The engine's state with ``marks``; with ``flush``, after writing and publishing what is pending."""
        if flush and self.pending:
            self.flush(engine)
        return {**engine.snapshot(), "marks": self.marks()}

    def started(self) -> bool:
        """Record that this process runs the session. False if it was stopped before it could start."""
        try:
            with transaction.atomic():
                number = self._reserve()
                moved = move_status(
                    self.session_id, lifecycle.RUNNING, reason="started", from_statuses={lifecycle.CREATED},
                    **leases.lease_fields(self.token),
                    **({"last_event_id": str(number)} if number is not None else {}),
                )
                if moved:
                    self._announce("started", number)
                else:
                    self._unreserve(number)
            return moved
        finally:
            self._release()

    def reclaimed(self, reason: str) -> bool:
        """Claim an interrupted session back for this process (interrupted -> running), before its replay.
        False if it is not interrupted any more (resumed elsewhere, stopped). Announces nothing yet:
        ``went_live`` does, once the replay has reached the stored tick and the numbering goes on."""
        try:
            return move_status(self.session_id, lifecycle.RUNNING, reason=reason,
                               from_statuses={lifecycle.INTERRUPTED}, ended_at=None,
                               **leases.lease_fields(self.token))
        finally:
            self._release()

    def keep_lease(self) -> None:
        """Renew the lease with nothing to write (a long fast-forward writes nothing for a while).
        Raises ``leases.LeaseLost`` when it was taken."""
        try:
            with transaction.atomic():
                self.requests = leases.renew(self.session_id, self.token)
        finally:
            self._release()

    def continue_from(self, counts: dict, summary: Summary | None) -> None:
        """Go on after a replay that matched the stored rows: ``counts`` of node events, position
        changes and trades stored so far (the next row of each kind gets the next ``seq``)."""
        self._seq = {kind: counts[kind] for kind in self._seq}
        self.summary = summary

    def went_live(self, engine, reason: str) -> None:
        """Announce that a resumed session goes on live (``session_status`` ``resumed``)."""
        self._write(engine, reason=reason, announce="resumed")

    def paused(self, engine, reason: str) -> None:
        self._write(engine, status=lifecycle.PAUSED, reason=reason or "paused", announce="paused")

    def resumed(self, engine, reason: str) -> None:
        self._write(engine, status=lifecycle.RUNNING, reason=reason or "resumed", announce="resumed",
                    from_statuses={lifecycle.PAUSED})

    def speed_changed(self, engine, speed: float) -> None:
        self._write(engine, announce="speed_changed", speed_multiplier=speed)

    def finished(self, engine, status: str, reason: str, *, paused: str = "") -> None:
        """Flush everything, then move to the final status with the summary, in one transaction.

        ``engine`` None: the end of a resume whose replay differed from the stored rows; the session's
        totals and final state stay those it stored, as do all its rows. ``paused``: the reason of the
        pause an interrupted session was in, written as a pause request (``requested_status``) that the
        thread resuming it obeys at its first write, before any tick (as for an adopted paused session)."""
        fields = {}
        if engine is not None:
            try:
                summary = engine.summary()
            except Exception:  # a broken engine (the reason we fail) may not answer; keep the last we saw
                summary = self.summary
            fields = _totals(summary) if summary is not None else {}
            try:
                fields["final_state"] = engine.snapshot()
            except Exception:  # a broken engine (the reason we fail) may not answer; keep what we have
                log.exception("session %s: no final snapshot", self.session_id)
        if paused:
            fields.update(requested_status=lifecycle.PAUSED, requested_reason=paused[:200])
        if self.stream is not None:
            # The row records the number of the session's very last event (the status, then
            # session_complete, published after the commit), so a card or initial_state read from it
            # includes the end and a client resuming from it is not sent session_complete again.
            ends = 1 if status == lifecycle.COMPLETED else 2
            fields["last_event_id"] = str(self.stream.last_event_id + ends)
        if self._write(engine, status=status, reason=reason, **fields) and self.stream is not None:
            if status != lifecycle.COMPLETED:
                self._publish(self.stream.status, status, reason=reason)
            self._publish(self._complete)

    def _complete(self) -> None:
        """Publish ``session_complete`` with the final state read from what was just committed. Right after
        the database came back the pool may take a while to have a connection again: tried as a write is."""
        self.stream.complete(self._tried("the read of its final state", lambda: self._final_state(self.session_id)))

    # -- the write --------------------------------------------------------------------------------
    def _write(self, engine, *, status: str | None = None, reason: str = "", announce: str | None = None,
               speed_multiplier: float | None = None, **fields) -> bool:
        node_events, position_changes, trades = self._node_events, self._position_changes, self._trades
        self._node_events, self._position_changes, self._trades = [], [], []
        equity, self._equity = self._equity, []
        self._first_pending_at = None
        now = self._clock()
        self._last_heartbeat = now
        # The number of an announced status is taken now and stored with the rows, so the row never
        # says less than what was published: a resume after a crash goes on after it, never reusing it.
        number = self._reserve() if announce else None
        progress = {"last_event_id": str(self._last_event_id() or "")}
        if "last_event_id" in fields:
            progress["last_event_id"] = fields.pop("last_event_id")
        if engine is not None:
            progress["ticks_processed"] = engine.ticks_processed
            # The start wrote an estimate from the calendar; each day's own count replaces it as the day
            # is loaded (a market replayed from bars has far fewer ticks than its windows have seconds).
            progress["total_ticks"] = engine.total_ticks
        if speed_multiplier is not None:
            fields["speed_multiplier"] = speed_multiplier
        if trades and self.summary is not None:
            # The row's totals are those of the trades committed with it, so a reader in any process
            # (lists, another server's dashboard, the admin) sees them while the session runs.
            fields = {**_totals(self.summary), **fields}
        try:
            moved = self._commit(node_events, position_changes, trades, equity, status, reason, progress, fields,
                                 announce, number, speed_multiplier)
        except BaseException as exc:
            self._unreserve(number)
            if isinstance(exc, DatabaseUnavailable):  # not written: pending again, ahead of anything newer
                self._node_events[:0], self._position_changes[:0] = node_events, position_changes
                self._trades[:0], self._equity[:0] = trades, equity
                if self.pending and self._first_pending_at is None:
                    self._first_pending_at = now
            raise
        if not moved:
            self._unreserve(number)
        return moved

    def _commit(self, node_events, position_changes, trades, equity, status, reason, progress, fields, announce,
                number, speed_multiplier) -> bool:
        """Write one batch in one transaction; when the database drops the connection (restarted, failed
        over), try again on a fresh one, waiting longer each time (0.1 s, 0.2 s, … 5 s), up to
        ``settings.SIM_WRITE_ATTEMPTS`` tries, then raise ``DatabaseUnavailable``. A failed try wrote
        nothing, so nothing is written twice. Each try after the first borrows a connection from the
        pool, which waits up to its timeout (10 s) for a database that is gone: the default 10 tries give
        it about 9 x 10 s plus the waits between them (21 s), under two minutes.

        The transaction's first statement renews this writer's lease (``leases.renew``) and reads the
        control requests into ``requests``; raises ``leases.LeaseLost``, having written nothing, when
        the lease was taken."""
        def write() -> bool:
            moved = True
            with transaction.atomic():
                self.requests = leases.renew(self.session_id, self.token)
                NodeEvent.objects.bulk_create(node_events)
                PositionChange.objects.bulk_create(position_changes)
                Trade.objects.bulk_create(trades)
                EquitySampleRow.objects.insert(self.session_id, equity, self._places)
                if status is None:
                    SimulationSession.objects.filter(pk=self.session_id).update(**progress, **fields)
                else:
                    moved = move_status(self.session_id, status, reason=reason, **progress, **fields)
                    if not moved:
                        log.warning("session %s could not move to %s", self.session_id, status)
                if self.stream is not None:
                    transaction.on_commit(self.stream.flush)
                    if announce and moved:
                        info = {"reason": reason} if reason else {}
                        if speed_multiplier is not None:
                            info["speed_multiplier"] = speed_multiplier
                        self._announce(announce, number, **info)
            return moved

        def rolled_back() -> None:  # nothing of it was written: insert its rows afresh
            for row in (*node_events, *position_changes, *trades):
                row.pk = None
                row._state.adding = True

        return self._tried("a batch write", write, rolled_back)

    def _tried(self, what: str, attempt: Callable[[], T], failed: Callable[[], None] = lambda: None) -> T:
        """``attempt()``, tried again on a fresh connection when the database drops one, after 0.1 s, 0.2 s …
        5 s (``failed()`` after each failed try), ``settings.SIM_WRITE_ATTEMPTS`` tries in all; then
        ``DatabaseUnavailable``. ``what`` names it in the log and the reason."""
        tries = 0
        while True:
            try:
                return attempt()
            except (OperationalError, InterfaceError) as exc:
                tries += 1
                failed()
                if tries >= settings.SIM_WRITE_ATTEMPTS:
                    log.error("session %s: %s failed on all %d tries (%s); the database is out of reach, giving up",
                              self.session_id, what, tries, exc)
                    raise DatabaseUnavailable(f"the database could not be reached ({tries} tries of {what}); "
                                              "everything before it is kept: resume the session") from exc
                wait = min(WRITE_BACKOFF * 2 ** (tries - 1), WRITE_BACKOFF_MAX)
                log.warning("session %s: the database dropped %s (%s); trying again in %.1fs",
                            self.session_id, what, exc, wait)
                self._release()
                time.sleep(wait)
            finally:
                self._release()

    def _last_event_id(self):
        return self.stream.last_event_id if self.stream is not None else None

    def _reserve(self) -> int | None:
        return self.stream.reserve() if self.stream is not None else None

    def _unreserve(self, number: int | None) -> None:
        if number is not None:
            self.stream.unreserve(number)

    def _announce(self, kind: str, number: int | None, **info) -> None:
        """Publish a session_status (as event ``number``) once the change it reports is committed."""
        if self.stream is not None:
            transaction.on_commit(lambda: self.stream.status(kind, event_id=number, **info))

    @staticmethod
    def _publish(fn, *args, **kwargs) -> None:
        # A stream that cannot publish must not turn a finished session into a failed one.
        try:
            fn(*args, **kwargs)
        except Exception:
            log.exception("could not publish the end of a session")

    def _release(self) -> None:
        # Back to the pool (settings: DATABASES OPTIONS pool): a session holds a connection only while
        # it writes, so many sessions share a few connections.
        connection.close()
