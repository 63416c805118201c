"""The engine's stream sink: domain events in, wire events out, published after the commit.

The session runner attaches one ``StreamSink`` per session next to the persistence writer:

    sink = StreamSink(session_id, user_id)
    # engine sink: FanoutSink(writer, sink); the writer calls sink.flush() from transaction.on_commit
    # after the batch whose rows the buffered events refer to, and records sink.last_event_id in it

``emit`` converts and buffers node, position, trade and candle events (numbered at once, published
by ``flush`` after the commit: a candle too, though it refers to no row, so that the session row always
records the number of every event published); ``tick`` publishes a light ``tick_update`` at most
``tick_rate`` times a second, the latest state winning, or with ``every_tick`` each tick, in order with
the other events; ``status`` and ``complete`` publish lifecycle events. Node, position and trade
events are never dropped or merged across kinds; consecutive node executions of one tick (one exchange
timestamp) travel in one ``node_events`` (seed 000: several executions per emission), whenever the
writer happens to commit, so the events a session publishes do not depend on the wall clock.

``publish`` and ``counters`` default to the stream's (``stream.publish``); ``manage.py simulate --out``
passes its own to write the same events to files (``stream.capture``).
"""

from __future__ import annotations

import threading
import time
from datetime import tzinfo

from django.conf import settings

from live_trading.engine.events import (
    CandleCompleted,
    EquitySample,
    NodeExecuted,
    PositionEvent,
    SessionComplete,
    TickSnapshot,
    TradeClosed,
    progress,
)
from live_trading.engine.money import iso
from live_trading.marketdata.calendar import EXCHANGE_TZ
from live_trading.stream import publish as publishing
from live_trading.stream.events import SESSION_STATUSES, now_iso


class StreamSink:
    """Publish one session's events to its user's and its own streams."""

    def __init__(self, session_id: str, user_id: str, *, tick_rate: float | None = None, every_tick: bool = False,
                 clock=time.monotonic, publish=None, counters: publishing.SessionCounters | None = None,
                 zone: tzinfo = EXCHANGE_TZ):
        """``zone``: the session's market clock (its underlying's calendar's time zone), on which its
        ``session_status`` and ``session_complete`` give the time they were sent; the engine's events carry
        their own (``zone`` of each event)."""
        self.session_id = session_id
        self.user_id = user_id
        self.zone = zone
        rate = settings.STREAM_TICK_RATE if tick_rate is None else tick_rate
        self.every_tick = every_tick
        self.wants_ticks = rate > 0 or every_tick
        self.wants_node_diagnostics = self.wants_ticks  # published with every tick; a stream asks for them
        self._interval = 1.0 / rate if rate > 0 else float("inf")
        self._clock = clock
        self._publish = publish or publishing.publish
        self._counters = counters if counters is not None else publishing.counters(session_id)
        self._lock = threading.Lock()
        # (kind, n, data) numbered, not yet published; with every_tick also ("tick_update", None, data)
        self._buffer: list[tuple[str, int | None, dict]] = []
        self._open_node_group: dict | None = None
        self._open_node_ts: int | None = None
        # ticks
        self._next_tick_at = 0.0
        self._skipped: list[TickSnapshot] = []
        self._ltp_sent: dict[str, int] = {}
        self.summary = None

    @property
    def last_event_id(self) -> int:
        """The number of the last stored event this sink numbered (published or about to be): what a
        snapshot of the rows written so far includes. The writer stores it with those rows."""
        return self._counters.last

    def reserve(self) -> int:
        """Take the next event number now for an event published later (a status, after its commit)."""
        with self._lock:
            return self._counters.next_id()

    def unreserve(self, number: int) -> None:
        """Give back ``number`` from ``reserve`` when its event will not be published, if none came after it."""
        with self._lock:
            if self._counters.last == number:
                self._counters.last = number - 1

    def continue_from(self, last_event_id: int, summary=None, seq: dict[str, int] | None = None) -> None:
        """Number the next event after ``last_event_id`` (a resumed session: what it published before),
        and count each kind's ``seq`` on from ``seq`` where known."""
        with self._lock:
            self._counters.last = max(self._counters.last, last_event_id)
            for kind, count in (seq or {}).items():
                self._counters.seq[kind] = max(self._counters.seq[kind], count)
        if summary is not None:
            self.summary = summary

    # -- the engine's sink --------------------------------------------------------------------------

    def emit(self, event) -> None:
        """Take one domain event from the engine (on its thread)."""
        if isinstance(event, TickSnapshot):
            self.tick(event)
            return
        if isinstance(event, EquitySample):
            return  # persisted for the P&L curve; a client follows the P&L in ticks
        with self._lock:
            if isinstance(event, NodeExecuted):
                self._add_node_execution(event.ts, event.to_dict())
                return
            self._open_node_group = None
            if isinstance(event, PositionEvent):
                self._buffer_event("position_event", event.to_dict())
            elif isinstance(event, TradeClosed):
                self._buffer_event("trade_update", {"trades": event.to_dict()})
                self.summary = event.summary
            elif isinstance(event, CandleCompleted):
                # A candle refers to no row, but it waits for the next commit all the same (the writer
                # makes one within FLUSH_SECONDS): the session row then records its number, so a
                # resume after a crash never gives that number to another event.
                self._buffer_event("candle_update", event.to_dict())
            elif isinstance(event, SessionComplete):
                self.summary = event.summary  # published by complete(), with the final snapshot

    def _buffer_event(self, kind: str, data: dict) -> None:
        self._buffer.append((kind, self._counters.next_id(), data))

    def _add_node_execution(self, ts: int, execution: dict) -> None:
        group = self._open_node_group
        if group is None or ts != self._open_node_ts:
            # One event per tick: the writer commits only between ticks, so where a group ends never
            # depends on when it commits (live and simulate --out group alike).
            group = self._open_node_group = {"events_history": {}, "current_state": {}}
            self._open_node_ts = ts
            self._buffer_event("node_events", {"diagnostics": group})
        group["events_history"][execution["execution_id"]] = execution
        group["current_state"][execution["node_id"]] = execution

    # -- publishing ---------------------------------------------------------------------------------

    def flush(self) -> None:
        """Publish what is buffered, in order. Call after the commit of the rows it refers to."""
        with self._lock:
            buffered, self._buffer = self._buffer, []
            self._open_node_group = None
        for kind, n, data in buffered:
            if n is None:  # every_tick: a tick that waited for the events before it
                self._publish(user_id=self.user_id, session_id=self.session_id, event=kind, data=data, store=False,
                              coalesce=False)
                continue
            self._publish(user_id=self.user_id, session_id=self.session_id, event=kind, data=data, event_id=n)
        if self._skipped and self._clock() >= self._next_tick_at:
            self._publish_tick()

    def tick_due(self) -> bool:
        """Whether a ``tick_update`` may go out now. The engine asks before building a TickSnapshot,
        so ticks the stream would coalesce away are never built (their LTP changes come with the next).
        Not while one already waits for events ahead of it to be committed: it goes out with them.
        With ``every_tick``, always."""
        if self.every_tick:
            return True
        return not self._skipped and self._clock() >= self._next_tick_at

    def tick(self, snapshot: TickSnapshot) -> None:
        """Publish a ``tick_update`` unless one went out less than 1/tick_rate s ago (then keep it:
        the next one published carries the latest state and every LTP change since the last).
        With ``every_tick``, publish each one, after the events before it (which wait for their commit)."""
        if self.every_tick:
            with self._lock:
                data = self._tick_data(snapshot, [snapshot])
                if self._buffer:
                    self._buffer.append(("tick_update", None, data))
                    return
            self._publish(user_id=self.user_id, session_id=self.session_id, event="tick_update", data=data,
                          store=False, coalesce=False)
            return
        self._skipped.append(snapshot)
        if self._clock() < self._next_tick_at or self._buffer:
            return  # too soon, or events before it wait for their commit: flush() sends it after them
        self._publish_tick()

    def _publish_tick(self) -> None:
        snaps, self._skipped = self._skipped, []
        self._next_tick_at = self._clock() + self._interval
        latest = snaps[-1]
        self._publish(user_id=self.user_id, session_id=self.session_id, event="tick_update",
                      data=self._tick_data(latest, snaps), store=False)

    def _tick_data(self, latest: TickSnapshot, snaps: list[TickSnapshot]) -> dict:
        """The light tick (seed 002 over 003, spec README rule 5): progress, active nodes, the
        underlying's LTP if it changed, the P&L snapshot, and the open positions as the seeds list
        them (000, 003, 004: ``position_id``, ``symbol``, ``side``, ``quantity``, ``entry_price``,
        ``current_price``, ``unrealized_pnl``; JSON numbers in rupees) plus ``re_entry_num``.

        This is the one form published; a stream opened with ``?ticks=compact`` gets it rewritten
        by ``events.tick_form`` on the way out (``{position_id: [current_price, unrealized_pnl]}``,
        about 35 bytes a position instead of about 190; docs/benchmarks.md)."""
        processed, total = latest.ticks_processed, latest.total_ticks
        realized, unrealized = latest.realized_pnl_paise, latest.unrealized_pnl_paise
        scale = 10**latest.places  # minor units per unit of the currency: 100 paise a rupee
        return {
            "timestamp": iso(latest.ts, latest.zone),
            "progress": progress(processed, total),
            "active_nodes": list(latest.active_nodes),
            "ltp_updates": self._underlying_changes(snaps),
            "open_positions": [{"position_id": p.position_id, "re_entry_num": p.re_entry_num, "symbol": p.symbol,
                                "side": p.side, "quantity": p.quantity, "entry_price": p.entry_price_paise / scale,
                                "current_price": p.current_price_paise / scale,
                                "unrealized_pnl": p.unrealized_pnl_paise / scale}
                               for p in latest.open_positions],
            "pnl_summary": {"realized_pnl": realized / scale, "unrealized_pnl": unrealized / scale,
                            "total_pnl": (realized + unrealized) / scale, "closed_trades": latest.closed_trades,
                            "open_trades": len(latest.open_positions)},
            # the latest tick's (coalesced with it); streams without ?node_diagnostics=1 never get it
            "node_diagnostics": dict(latest.node_diagnostics),
        }

    def _underlying_changes(self, snaps: list[TickSnapshot]) -> dict[str, float]:
        """The underlying's LTP if it changed since the last tick_update. The engine reports every
        symbol of the chain that changed (a hundred and more a tick), the underlying first (its
        column 0); scan back to the last tick it changed on, one comparison per tick."""
        out = {}
        for snap in reversed(snaps):
            changes = snap.ltp_updates
            if changes and ":" not in changes[0][0]:
                for symbol, paise in changes:
                    if ":" in symbol:
                        break
                    if self._ltp_sent.get(symbol) != paise:
                        self._ltp_sent[symbol] = paise
                        out[symbol] = paise / 10**snap.places
                break
        return out

    def status(self, kind: str, event_id: int | None = None, **info) -> int:
        """Publish a ``session_status`` (started, paused, resumed, speed_changed, stopped, failed,
        interrupted) after flushing what is buffered. Call it once the status change is committed.
        ``event_id``: its number, taken with ``reserve``; ``info``: ``reason``, ``speed_multiplier``."""
        if kind not in SESSION_STATUSES:
            raise ValueError(f"unknown session status {kind!r}; one of {', '.join(SESSION_STATUSES)}")
        self.flush()
        if self._skipped:
            self._publish_tick()  # the state the session stopped or paused in
        if event_id is None:
            with self._lock:
                event_id = self._counters.next_id()
        n = event_id
        data = {"status": kind, "timestamp": now_iso(self.zone), **info}
        return self._publish(user_id=self.user_id, session_id=self.session_id, event="session_status",
                             data=data, event_id=n)

    def complete(self, final_state: dict) -> int:
        """Publish ``session_complete`` with the final snapshot (``diagnostics``, ``trades`` and
        ``positions`` compressed on the wire), after flushing what is buffered."""
        self.flush()
        if self._skipped:
            self._publish_tick()
        with self._lock:
            n = self._counters.next_id()
        data = dict(final_state)
        data.setdefault("status", "completed")
        data.setdefault("timestamp", now_iso(self.zone))
        if "summary" not in data:
            data["summary"] = self.summary.to_dict() if self.summary is not None else None
        data.pop("last_event_id", None)
        n = self._publish(user_id=self.user_id, session_id=self.session_id, event="session_complete",
                          data=data, event_id=n)
        if self._publish is publishing.publish:
            publishing.forget(self.session_id)
        return n

