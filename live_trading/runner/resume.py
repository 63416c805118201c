"""Resuming an interrupted session exactly where it stopped: a deterministic fast-forward.

The engine is rebuilt from the session's own copy of its graph, its days, seed and starting capital
(``live_trading.actions.resume_interrupted`` does that with ``prepare_run``). Its thread claims the session
back (interrupted -> running), then steps the engine as fast as it goes up to the last tick whose rows
were committed, its events going to a ``ReplayCheck`` that compares each with the stored row and writes
nothing. When the replay matches, the writer and the stream go on from the stored counts: the next row
of each kind gets the next ``seq``, the next stream event the number after the last one published, and
the pacer anchors on the next tick, so the session goes on at its speed from that exchange time.

What the crashed process produced after its last commit was never published (a batch's events go out
after its commit; a status's number is stored with the status), so no client saw it; the replay
produces it again, identically, after the stored tick. A replay that differs leaves the session
``failed`` with the difference as its reason, every row kept.

``Resume`` holds no Django state of its own; another process adopting a session whose lease expired
builds one the same way.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from live_trading.engine.events import CandleCompleted
from sessions_app.replay import Divergence, ReplayCheck, StoredRun


class Replaying:
    """The engine's sink of a resumed session: the check while it fast-forwards, then the live sinks
    (the writer and the stream). Asks the engine for no tick snapshot while replaying."""

    def __init__(self, live, check: ReplayCheck):
        self.live = live
        self.check = check
        self.replaying = True
        self.wants_ticks = bool(getattr(live, "wants_ticks", False))
        self._live_due = getattr(live, "tick_due", None)
        self.candles = 0

    def tick_due(self) -> bool:
        if self.replaying:
            return False
        return self._live_due() if self._live_due is not None else True

    def emit(self, event) -> None:
        if not self.replaying:
            self.live.emit(event)
            return
        if isinstance(event, CandleCompleted):
            self.candles += 1
        self.check.emit(event)

    def go_live(self) -> None:
        self.replaying = False


@dataclass
class Resume:
    """What a session thread needs to resume: the stored run, the sink to switch, its writer and stream."""

    stored: StoredRun
    sink: Replaying
    writer: object  # sessions_app.persistence.SessionWriter
    stream: object  # live_trading.stream.sink.StreamSink
    reason: str
    seconds: float | None = field(default=None)  # how long the fast-forward took, once done

    def fast_forward(self, engine) -> str | None:
        """Step ``engine`` to the stored tick, checking every event; then hand it to the live sinks and
        announce ``resumed``. Return None, or the reason the session cannot go on (the replay differs).
        Called on the session's thread after it claimed the session."""
        stored = self.stored
        # Numbered after what was published before, so a failure's status and session_complete are too.
        self.stream.continue_from(stored.last_event_id)
        started = time.perf_counter()
        renew_every = getattr(self.writer, "renew_seconds", 2.0)
        renewed = started
        try:
            while engine.ticks_processed < stored.ticks and engine.step():
                if engine.ticks_processed % 1000 == 0 and time.perf_counter() - renewed >= renew_every:
                    self.writer.keep_lease()  # a replay of many days outlasts a lease; LeaseLost if taken
                    renewed = time.perf_counter()
            if engine.ticks_processed != stored.ticks:
                raise Divergence(f"the replay ends after {engine.ticks_processed} ticks, but the session had "
                                 f"stored {stored.ticks}")
            self.sink.check.finish()
        except Divergence as exc:
            return f"could not resume: {exc} (the market data or the engine changed since it ran)"
        self.seconds = time.perf_counter() - started
        counts, summary = self.sink.check.counts, self.sink.check.summary
        self.writer.continue_from(counts, summary)
        self.stream.continue_from(stored.last_event_id, summary, seq={
            "position_event": counts["position"], "trade_update": counts["trade"], "candle_update": self.sink.candles})
        self.sink.go_live()
        self.writer.went_live(engine, self.reason)
        return None


def replaying(stored: StoredRun):
    """A ``wrap_sink`` for ``prepare_run`` that checks the replay against ``stored``; the wrapper it
    made is its ``made`` attribute once called."""

    def wrap(live):
        wrap.made = Replaying(live, ReplayCheck(stored))
        return wrap.made

    wrap.made = None
    return wrap
