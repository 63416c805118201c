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
import os
import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime

from django.db import connection, transaction
from django.utils import timezone

from live_trading.engine.events import (
    EquitySample,
    NodeExecuted,
    PositionEvent,
    SessionComplete,
    Summary,
    TradeClosed,
)
from sessions_app import lifecycle
from sessions_app.actions import move_status
from sessions_app.models import EquitySample as EquitySampleRow
from sessions_app.models import NodeEvent, PositionChange, SimulationSession, Trade

log = logging.getLogger(__name__)

FLUSH_ROWS = 200
FLUSH_SECONDS = 0.25
HEARTBEAT_SECONDS = 5.0
RUNNER_NAME = f"{socket.gethostname()}:{os.getpid()}"


def _dt(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, tz=UTC)


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
        self._equity: list[tuple[int, int, int, int]] = []
        self._first_pending_at: float | None = None
        self._last_heartbeat = clock()
        self._seq = {"node": 0, "position": 0, "trade": 0}
        self.summary: Summary | None = None

    # -- the engine's sink ----------------------------------------------------------------------
    def emit(self, event) -> None:
        if isinstance(event, NodeExecuted):
            self._seq["node"] += 1
            self._node_events.append(NodeEvent(
                session_id=self.session_id, seq=self._seq["node"], execution_id=event.execution_id,
                parent_execution_id=event.parent_execution_id or "", node_id=event.node_id,
                node_name=event.node_name, node_type=event.node_type, event_type=event.event_type,
                timestamp=_dt(event.ts), payload=event.to_dict(),
            ))
        elif isinstance(event, PositionEvent):
            self._seq["position"] += 1
            self._position_changes.append(PositionChange(
                session_id=self.session_id, seq=self._seq["position"], action=event.action,
                position_id=event.position.position_id, re_entry_num=event.position.re_entry_num,
                execution_id=event.execution_id, timestamp=_dt(event.ts), payload=event.to_dict(),
            ))
        elif isinstance(event, TradeClosed):
            self._seq["trade"] += 1
            t = event.trade
            self._trades.append(Trade(
                session_id=self.session_id, seq=self._seq["trade"], trade_id=t.trade_id, position_id=t.position_id,
                re_entry_num=t.re_entry_num, symbol=t.symbol, side=t.side, quantity=t.quantity,
                entry_price=t.entry_price, exit_price=t.exit_price, entry_time=_dt(t.entry_time),
                exit_time=_dt(t.exit_time), pnl=t.pnl, pnl_percent=t.pnl_percent, charges=t.charges,
                net_pnl=t.net_pnl, status=t.status, entry_flow_ids=list(t.entry_flow_ids),
                exit_flow_ids=list(t.exit_flow_ids), entry_trigger=t.entry_trigger, exit_reason=t.exit_reason,
            ))
            self.summary = event.summary
        elif isinstance(event, EquitySample):
            # A minute's sample waits for the next write (a batch, the heartbeat or the end) rather than
            # start one: a session's curve is read for review, and this adds no transaction.
            self._equity.append((event.ts, event.realized_pnl_paise, event.unrealized_pnl_paise, event.charges_paise))
            return
        elif isinstance(event, SessionComplete):
            self.summary = event.summary
            return
        else:
            return
        if self._first_pending_at is None:
            self._first_pending_at = self._clock()

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
        elif now - self._last_heartbeat >= HEARTBEAT_SECONDS:
            self._write(engine)

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
                moved = move_status(
                    self.session_id, lifecycle.RUNNING, reason="started", from_statuses={lifecycle.CREATED},
                    runner=RUNNER_NAME, heartbeat_at=timezone.now(),
                )
                if moved:
                    self._announce("started")
            return moved
        finally:
            self._release()

    def paused(self, engine, reason: str) -> None:
        self._write(engine, status=lifecycle.PAUSED, reason=reason or "paused", announce="paused")

    def resumed(self, engine, reason: str) -> None:
        self._write(engine, status=lifecycle.RUNNING, reason=reason or "resumed", announce="resumed")

    def speed_changed(self, engine, speed: float) -> None:
        self._write(engine, announce="speed_changed", speed_multiplier=speed)

    def finished(self, engine, status: str, reason: str) -> None:
        """Flush everything, then move to the final status with the summary, in one transaction."""
        try:
            summary = engine.summary()
        except Exception:  # a broken engine (the reason we fail) may not answer; keep the last we saw
            summary = self.summary
        fields = _totals(summary) if summary is not None else {}
        try:
            fields["final_state"] = engine.snapshot()
        except Exception:  # a broken engine (the reason we fail) may not answer; keep what we have
            log.exception("session %s: no final snapshot", self.session_id)
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
        try:
            self.stream.complete(self._final_state(self.session_id))
        finally:
            self._release()

    # -- the write --------------------------------------------------------------------------------
    def _write(self, engine, *, status: str | None = None, reason: str = "", announce: str | None = None,
               speed_multiplier: float | None = None, **fields) -> bool:
        node_events, position_changes, trades = self._node_events, self._position_changes, self._trades
        self._node_events, self._position_changes, self._trades = [], [], []
        equity, self._equity = self._equity, []
        self._first_pending_at = None
        now = self._clock()
        self._last_heartbeat = now
        progress = {"heartbeat_at": timezone.now(), "last_event_id": str(self._last_event_id() or "")}
        if "last_event_id" in fields:
            progress["last_event_id"] = fields.pop("last_event_id")
        if engine is not None:
            progress["ticks_processed"] = engine.ticks_processed
        if speed_multiplier is not None:
            fields["speed_multiplier"] = speed_multiplier
        if trades and self.summary is not None:
            # The row's totals are those of the trades committed with it, so a reader in any process
            # (lists, another server's dashboard, the admin) sees them while the session runs.
            fields = {**_totals(self.summary), **fields}
        moved = True
        try:
            with transaction.atomic():
                NodeEvent.objects.bulk_create(node_events)
                PositionChange.objects.bulk_create(position_changes)
                Trade.objects.bulk_create(trades)
                EquitySampleRow.objects.insert(self.session_id, equity)
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
                        self._announce(announce, **info)
        finally:
            self._release()
        return moved

    def _last_event_id(self):
        return self.stream.last_event_id if self.stream is not None else None

    def _announce(self, kind: str, **info) -> None:
        """Publish a session_status once the change it reports is committed."""
        if self.stream is not None:
            transaction.on_commit(lambda: self.stream.status(kind, **info))

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
