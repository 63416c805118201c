"""One running session: the thread that steps its engine, paces it, obeys control messages, and
leaves the session in a final status whatever happens."""

from __future__ import annotations

import logging
import queue
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Protocol

from live_trading.runner.pacing import MAX_SPEED, Pacer
from sessions_app import lifecycle
from sessions_app.leases import LeaseLost
from sessions_app.persistence import DatabaseUnavailable

log = logging.getLogger(__name__)


class SteppableEngine(Protocol):
    """What the runner needs of an engine (see live_trading.engine)."""

    calendar: object  # its market's TradingCalendar: the days and windows its replay is paced in

    def next_timestamp(self) -> int | None: ...
    def step(self) -> bool: ...
    def finish(self) -> None: ...


class SessionStore(Protocol):
    """Where the thread's results go (sessions_app.persistence.SessionWriter).

    ``requests`` (``sessions_app.leases.Requests``) is what control requests asked as of the store's
    last write; ``renew_seconds`` the longest the thread may go without a write (``maybe_flush``), each
    of which renews the session's lease. A write whose lease was taken raises ``LeaseLost``."""

    requests: object
    renew_seconds: float

    def maybe_flush(self, engine) -> None: ...
    def started(self) -> bool: ...
    def reclaimed(self, reason: str) -> bool: ...
    def paused(self, engine, reason: str) -> None: ...
    def resumed(self, engine, reason: str) -> None: ...
    def speed_changed(self, engine, speed: float) -> None: ...
    def finished(self, engine, status: str, reason: str, *, paused: str = "") -> None: ...
    def snapshot(self, engine, flush: bool = False) -> dict: ...


@dataclass(frozen=True)
class Control:
    action: str  # stop | interrupt | pause | resume | speed | snapshot
    reason: str = ""
    speed: float | None = None
    reply: Future | None = None  # snapshot: the engine's state, taken between two ticks
    flush: bool = False  # snapshot: write (and publish) what is pending first, for an exact initial state


class SessionThread(threading.Thread):
    """Replay a session's market through its engine at its speed.

    Control messages arrive on a queue; waiting for the next tick is a blocking ``get`` on that
    queue, so stop and pause take effect at once even at real-time speed, always at a tick boundary.
    """

    def __init__(self, session_id: str, engine: SteppableEngine, store: SessionStore, speed: float, *, on_exit=None,
                 resume=None, start_paused: str = ""):
        super().__init__(name=f"session-{session_id}", daemon=True)
        self.session_id = session_id
        self.engine = engine
        self.store = store
        self.pacer = Pacer(speed, calendar=engine.calendar)
        self.control: queue.Queue[Control] = queue.Queue()
        self.paused = False
        self.pause_reason = ""  # why it is paused, while it is (kept through an interruption)
        self.recorded_start = threading.Event()  # set once the thread has recorded (or given up) its start
        self.final_status: str | None = None
        self._on_exit = on_exit
        # An interrupted session's thread (live_trading.runner.resume.Resume): it claims the session back,
        # fast-forwards the engine to the last committed tick, then goes on as any session does.
        self.resume = resume
        # A session started paused: the reason of the pause it takes before its first tick (a client can
        # then open its stream before anything happened, and resume it: docs/protocol.md, "Capturing a run").
        self.start_paused = start_paused

    # -- called from other threads -------------------------------------------------------------
    def send(self, message: Control) -> None:
        self.control.put(message)

    def request_snapshot(self, *, flush: bool = False) -> Future | None:
        """Ask for the session's state between two ticks; the answer arrives on the returned future.
        Asking several threads first and waiting after lets their answers overlap. With ``flush`` the
        thread first writes and publishes what is pending, so the database holds everything the
        snapshot's marks count."""
        if not self.is_alive():
            return None
        reply: Future = Future()
        self.send(Control("snapshot", reply=reply, flush=flush))
        return reply

    def snapshot(self, timeout: float = 2.0, *, flush: bool = False) -> dict | None:
        """The session's state between two ticks, or None if the thread ended before answering."""
        return answer(self.request_snapshot(flush=flush), timeout)


    # -- the thread --------------------------------------------------------------------------------
    def run(self) -> None:
        status, reason = "failed", "the session thread ended unexpectedly"
        # Whether this thread must record the session's end: a fresh session's unless someone else moved
        # it first; a resumed one's only once this thread has claimed it back.
        ours = self.resume is None
        engine = self.engine  # None for the end of a resume whose replay differed: no state of it is true
        try:
            ours = self.store.started() if self.resume is None else self.store.reclaimed(self.resume.reason)
            if ours and self.resume is None and self.start_paused:
                # Paused before the start answers: the answer says "paused", and a stream opened after it
                # starts from the pause, whatever the client does at once (a resume is obeyed after it).
                self._obey(Control("pause", self.start_paused))
            self.recorded_start.set()
            if not ours:
                return  # someone else moved the session first (stopped before it started, resumed elsewhere)
            if self.resume is not None:
                refused = self.resume.fast_forward(self.engine)
                if refused:
                    engine, reason = None, refused
                    return
            status, reason = self._replay()
        except LeaseLost:
            # Another process adopted the session (this one was paused or cut off past its lease), or it
            # was stopped without this process: not ours any more, so record nothing and end.
            log.warning("session %s: this process lost its lease; its thread ends without writing", self.session_id)
            ours, status = False, "lost"
        except DatabaseUnavailable as exc:
            # The writer gave up; its rows are pending again. Interrupted, as a stopping server leaves it:
            # the end's write takes those rows with it, and a resume goes on from there. If the database is
            # still gone that write fails too, and the session waits, running under a lease nobody renews,
            # for an adopter (docs/runner.md).
            status, reason = lifecycle.INTERRUPTED, str(exc)
        except Exception as exc:
            log.exception("session %s failed", self.session_id)
            status, reason = "failed", f"{type(exc).__name__}: {exc}"
        finally:
            self.recorded_start.set()
            if ours:
                try:
                    # Interrupted while paused: the resume (the next server start) goes on paused, as an
                    # adopted session does, rather than run with nobody who asked for it watching.
                    paused = self.pause_reason if self.paused and status == lifecycle.INTERRUPTED else ""
                    self.store.finished(engine, status, reason, paused=paused)
                except LeaseLost:
                    log.warning("session %s: its lease was taken before it could record its end", self.session_id)
                except Exception:
                    log.exception("session %s: could not record its end (%s)", self.session_id, status)
            self.final_status = status
            if self._on_exit:
                self._on_exit(self)

    def _replay(self) -> tuple[str, str]:
        engine, store, pacer, control = self.engine, self.store, self.pacer, self.control
        renew = store.renew_seconds
        seen = None
        while True:
            while not control.empty():
                outcome = self._obey(control.get_nowait())
                if outcome:
                    return outcome
            if store.requests is not seen:  # a write renewed the lease and read the control requests
                seen = store.requests
                outcome = self._follow(seen)
                if outcome:
                    return outcome
            if self.paused:
                try:  # sleep until told otherwise, renewing the lease now and then
                    outcome = self._obey(control.get(timeout=renew))
                except queue.Empty:
                    store.maybe_flush(engine)
                    continue
                if outcome:
                    return outcome
                continue
            if pacer.speed == MAX_SPEED:
                # No pacing: no need to look at the next tick's time first.
                more = engine.step()
                store.maybe_flush(engine)
                if not more:
                    engine.finish()
                    return "completed", "replayed every tick"
                continue
            ts = engine.next_timestamp()
            if ts is None:
                engine.finish()
                return "completed", "replayed every tick"
            delay = pacer.delay(ts)
            if delay > 0:
                # Wait for the tick to be due, or for a message, whichever comes first; a long wait is cut
                # into pieces so that the lease is renewed (and control requests read) meanwhile.
                try:
                    outcome = self._obey(control.get(timeout=min(delay, renew)))
                except queue.Empty:
                    if delay > renew:
                        store.maybe_flush(engine)
                        continue
                else:
                    if outcome:
                        return outcome
                    continue  # a pause or a new speed changes when this tick is due
            engine.step()
            store.maybe_flush(engine)

    def _follow(self, asked):
        """Obey what control requests written to the session's row ask, where it differs from what the
        thread does (a request that reached it directly as well was obeyed already)."""
        if asked.stop:
            return self._obey(Control("stop", asked.reason))
        if asked.status == "paused" and not self.paused:
            self._obey(Control("pause", asked.reason))
        elif asked.status == "running" and self.paused:
            self._obey(Control("resume", asked.reason))
        if asked.speed is not None and asked.speed != self.pacer.speed:
            self._obey(Control("speed", asked.reason, speed=asked.speed))
        return None

    def _obey(self, message: Control):
        if message.action == "snapshot":
            try:
                message.reply.set_result(self.store.snapshot(self.engine, flush=message.flush))
            except Exception as exc:  # the asker gets the error; the session goes on
                message.reply.set_exception(exc)
            return None
        if message.action == "stop":
            self.engine.finish()  # closes what is open (session_end) and emits the final events
            return "stopped", message.reason or "stopped"
        if message.action == "interrupt":
            # Not an end: the positions stay open and nothing is squared off, so that a resume, replaying
            # the engine to this tick, finds exactly the rows written here and goes on as if never stopped.
            return "interrupted", message.reason or "interrupted"
        if message.action == "pause" and not self.paused:
            self.paused = True
            self.pause_reason = message.reason or "paused"
            self.store.paused(self.engine, message.reason)
        elif message.action == "resume" and self.paused:
            self.paused = False
            self.pacer.reanchor()
            self.store.resumed(self.engine, message.reason)
        elif message.action == "speed" and message.speed is not None:
            self.pacer.set_speed(message.speed)
            self.store.speed_changed(self.engine, message.speed)
        return None


def wait_until(predicate, timeout: float, interval: float = 0.02) -> bool:
    """Poll ``predicate`` until it is true or ``timeout`` seconds pass; return its last value."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return bool(predicate())
        time.sleep(interval)


def answer(reply: Future | None, timeout: float = 2.0):
    """The result of a snapshot request, or None if there was none or it did not come in time."""
    if reply is None:
        return None
    try:
        return reply.result(timeout)
    except TimeoutError:
        return None
