"""This process's side of the stream: the replay window of each session, the open streams, fan-out.

Why not django-eventstream's own storage and listener manager (its ``DjangoModelStorage`` and
``views.ListenerManager``): the model storage reads Postgres on every poll of every stream, which
ties database connections to open streams; the listener manager keeps at most 10 undelivered events
per stream and then drops them (fine with storage to re-read, lossy without), has no notion of a
tick that a newer tick replaces, and in Redis mode delivers only what comes back from Redis, so a
Redis outage stops delivery even inside one process. Here instead:

* every stored event has a per-session number ``n`` (1, 2, 3, ...) given by the session's sink, and
  the last ``STREAM_REPLAY_WINDOW`` of them are kept in memory per session (a ``Ring``), so replay
  after a reconnect costs no I/O; with Redis the same window is also kept in Redis (``redis_bus``),
  for streams served by another process;
* each open stream has a ``Listener`` with a queue in which stored events are kept in order and a
  session's newer ``tick_update`` replaces its older, undelivered one; a stream that falls more than
  ``STREAM_MAX_PENDING`` stored events behind re-reads the window instead (or gets a fresh
  ``initial_state`` when the window has moved past it);
* publishing, from any thread, appends to the ring and hands the event to the event loop once; the
  loop fans it out to the listeners, so a slow client never blocks the publisher or other clients.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import threading
import time
from collections import OrderedDict, deque

from django.conf import settings

from live_trading.stream.events import COMPRESSED_FIELDS, compress_fields, dumps, sse_frame, tick_form

log = logging.getLogger(__name__)


class Envelope:
    """One published stream event. ``n`` is its per-session stored-event number (None: not stored).

    ``plain`` is the data as compact JSON with nothing compressed; the compressed form is made once,
    when a stream first needs it, and shared by every stream of this process.
    """

    __slots__ = ("_compressed", "_data", "_frames", "coalesce", "kind", "n", "plain", "session_id", "user_id")

    def __init__(self, kind: str, session_id: str, user_id: str, n: int | None, plain: str, data: dict | None = None,
                 *, coalesce: bool = True):
        self.kind = kind
        # a tick_update a newer one may replace while undelivered (false: a session streaming every tick)
        self.coalesce = coalesce
        self.session_id = session_id
        self.user_id = user_id
        self.n = n
        self.plain = plain
        self._data = data
        self._compressed = None
        self._frames = None

    def body(self, compress: bool) -> str:
        """Return the data JSON, with the kind's compressed fields compressed when ``compress``."""
        if not compress or self.kind not in COMPRESSED_FIELDS:
            return self.plain
        if self._compressed is None:
            self._compressed = dumps(compress_fields(self.kind, self.data()))
        return self._compressed

    def data_text(self, compress: bool, ticks: str = "full", node_diagnostics: bool = False) -> str:
        """The ``data`` line as a stream with these options writes it: ``body``, or for a ``tick_update``
        the form ``events.tick_form`` makes for ``ticks`` and ``node_diagnostics``."""
        if self.kind == "tick_update":
            return dumps(tick_form(self.data(), ticks, node_diagnostics))
        return self.body(compress)

    def frame(self, compress: bool, ticks: str = "full", node_diagnostics: bool = False) -> bytes:
        """The whole SSE event without an id (unstored events), encoded once per form for every stream."""
        if self.kind == "tick_update":
            return self._cached(("tick", ticks, node_diagnostics), lambda: sse_frame(
                self.kind, self.data_text(compress, ticks, node_diagnostics)).encode())
        return self._cached(("frame", compress), lambda: sse_frame(self.kind, self.body(compress)).encode())

    def head(self) -> bytes:
        """``event: <kind>\nid: ``: what precedes a stored event's id, which differs per stream."""
        return self._cached("head", lambda: f"event: {self.kind}\nid: ".encode())

    def tail(self, compress: bool) -> bytes:
        """``\ndata: <json>\n\n``: what follows a stored event's id."""
        return self._cached(("tail", compress), lambda: f"\ndata: {self.body(compress)}\n\n".encode())

    def _cached(self, key, make) -> bytes:
        if self._frames is None:
            self._frames = {}
        value = self._frames.get(key)
        if value is None:
            value = self._frames[key] = make()
        return value

    def replacing(self, older: Envelope) -> Envelope:
        """This ``tick_update`` in place of an ``older`` one a stream never got: the state is the
        newer tick's, but ``ltp_updates`` holds only what changed since the tick before, so the LTPs
        the older one carried and this one does not are carried over (a copy; rare: it takes a
        stream that has not written for a whole tick interval)."""
        data = self.data()
        older_ltps, newer_ltps = older.data().get("ltp_updates") or {}, data.get("ltp_updates") or {}
        if older_ltps.keys() <= newer_ltps.keys():
            return self
        data = {**data, "ltp_updates": {**older_ltps, **newer_ltps}}
        return Envelope(self.kind, self.session_id, self.user_id, None, dumps(data), data)

    def data(self) -> dict:
        """The data as a dict (parsed from ``plain`` when the envelope came from Redis; not kept)."""
        return self._data if self._data is not None else json.loads(self.plain)

    # The form in which an envelope travels through Redis: a JSON header line, then the data.
    def to_message(self, origin: str) -> str:
        head = {"o": origin, "k": self.kind, "s": self.session_id, "u": self.user_id, "n": self.n}
        if not self.coalesce:
            head["c"] = 0
        return f"{dumps(head)}\n{self.plain}"

    @classmethod
    def from_message(cls, text: str | bytes) -> tuple[str, Envelope]:
        if isinstance(text, bytes):
            text = text.decode()
        header, _, plain = text.partition("\n")
        h = json.loads(header)
        return h["o"], cls(h["k"], h["s"], h["u"], h["n"], plain, coalesce=h.get("c", 1) != 0)

    def __repr__(self):
        return f"<Envelope {self.kind} {self.session_id}#{self.n}>"


class CoalescingQueue:
    """A FIFO of envelopes in which a session's newer ``tick_update`` replaces its older one.

    The replaced tick leaves its place and the newer one goes to the back, so a tick never overtakes
    the node, position or trade events that were published before it. A tick that must not be
    coalesced (``Envelope.coalesce`` false: a session streaming every tick) is kept beside the others,
    while fewer than ``keep`` envelopes wait; beyond that it is coalesced all the same (its ``seq``
    shows the client the gap), so a stream that cannot keep up holds a bounded backlog.
    """

    __slots__ = ("_items", "_tick_at", "keep", "stored")

    def __init__(self, keep: int = 0):
        self._items: list[Envelope | None] = []
        self._tick_at: dict[str, int] = {}
        self.stored = 0
        self.keep = keep

    def append(self, env: Envelope) -> None:
        if env.n is None:
            i = self._tick_at.get(env.session_id)
            if i is not None and not (not env.coalesce and len(self._items) < self.keep):
                env = env.replacing(self._items[i])
                self._items[i] = None
            self._tick_at[env.session_id] = len(self._items)
        else:
            self.stored += 1
        self._items.append(env)

    def extendleft(self, envs: list[Envelope]) -> None:
        """Put ``envs`` back in front (a batch that could not be sent), ticks still coalesced."""
        rest = self.take()
        for env in envs:
            self.append(env)
        for env in rest:
            self.append(env)

    def take(self) -> list[Envelope]:
        items = [e for e in self._items if e is not None]
        self._items = []
        self._tick_at = {}
        self.stored = 0
        return items

    def drop_stored(self) -> None:
        """Forget the queued stored events (the stream re-reads them from the ring); keep ticks."""
        kept = [e for e in self._items if e is not None and e.n is None]
        self.take()
        for env in kept:
            self.append(env)

    def __len__(self):
        return len(self._items) - self._items.count(None)


class Outbox:
    """Envelopes waiting for one sender thread, ticks coalesced (``CoalescingQueue``): ``put`` returns
    at once and starts the thread ``target`` if it is not running; the thread loops on ``take`` (blocks
    until there is something) and ``done`` (the batch left), or ``put_back`` (it could not)."""

    def __init__(self, name: str, target):
        self.name = name
        self._target = target
        self._queue = CoalescingQueue(keep=settings.STREAM_MAX_PENDING)
        self._cv = threading.Condition()
        self._thread: threading.Thread | None = None
        self._in_flight = 0

    def put(self, env: Envelope) -> None:
        with self._cv:
            self._queue.append(env)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._target, name=self.name, daemon=True)
                self._thread.start()
            self._cv.notify()

    def take(self) -> list[Envelope]:
        with self._cv:
            while not len(self._queue):
                self._cv.wait()
            batch = self._queue.take()
            self._in_flight = len(batch)
            return batch

    def done(self) -> None:
        with self._cv:
            self._in_flight = 0

    def put_back(self, batch: list[Envelope]) -> None:
        with self._cv:
            self._queue.extendleft(batch)
            self._in_flight = 0

    def pending(self) -> int:
        """Envelopes not sent yet (queued, or in the batch being sent)."""
        with self._cv:
            return len(self._queue) + self._in_flight

    def flush(self, timeout: float) -> bool:
        """Wait until everything queued was sent (at most ``timeout`` s); False if it was not."""
        deadline = time.monotonic() + timeout
        while self.pending():
            if time.monotonic() >= deadline:
                log.warning("stream: %d events not sent by %s before exit", self.pending(), self.name)
                return False
            time.sleep(0.01)
        return True


class Ring:
    """The last ``window`` stored events of one session, in ``n`` order."""

    __slots__ = ("events", "last", "user_id")

    def __init__(self, window: int, user_id: str):
        self.events: deque[Envelope] = deque(maxlen=window)
        self.last = 0
        self.user_id = user_id

    def append(self, env: Envelope) -> bool:
        if env.n <= self.last:
            return False  # already have it
        self.events.append(env)
        self.last = env.n
        return True

    def after(self, n: int) -> list[Envelope] | None:
        """Return the events after ``n``, in order; None when the window cannot tell (``n`` is older
        than the window, or newer than anything this process has seen)."""
        return events_after(list(self.events), self.last, n)


def events_after(events: list[Envelope], last: int, n: int) -> list[Envelope] | None:
    """The events after ``n`` in a contiguous window ending at ``last``; None if it does not cover n."""
    if n == last:
        return []
    if n < 0 or n > last or not events or events[0].n > n + 1:
        return None
    return [e for e in events if e.n > n]


class Listener:
    """One open stream's mailbox: what the hub delivered that the stream has not written yet.

    ``session_id`` set: the stream of one session; otherwise the stream of every session of
    ``user_id``. Lives on one event loop; only that loop's thread touches it. Waking is a bare
    future (no timer per wait): the hub's heartbeat task wakes a stream that has been silent for
    ``STREAM_HEARTBEAT_MS``, so an idle stream costs nothing between heartbeats.
    """

    __slots__ = ("_signalled", "_waiter", "last_write", "loop", "max_pending", "overflow", "queue", "resets",
                 "session_id", "user_id")

    def __init__(self, *, user_id: str, session_id: str | None = None, max_pending: int | None = None):
        self.user_id = user_id
        self.session_id = session_id
        self.max_pending = max_pending or settings.STREAM_MAX_PENDING
        self.queue = CoalescingQueue(keep=self.max_pending)
        self.overflow = False
        self.resets: set[str] = set()
        self.loop = asyncio.get_running_loop()
        self.last_write = self.loop.time()
        self._waiter = None
        self._signalled = False

    def deliver(self, env: Envelope) -> None:
        if env.n is not None and self.queue.stored >= self.max_pending:
            # Too far behind: stop queueing; the stream re-reads the replay window when it catches up.
            self.overflow = True
            self.queue.drop_stored()
        else:
            self.queue.append(env)
        self.wake()

    def reset(self, session_id: str) -> None:
        """The events of ``session_id`` cannot be delivered in order any more: the stream must send a
        fresh ``initial_state`` for it."""
        self.resets.add(session_id)
        self.wake()

    def wake(self) -> None:
        self._signalled = True
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)

    def idle(self) -> bool:
        """The stream has written everything delivered to it and waits for more: its mailbox is empty
        and it is back in ``wait`` (a stream writes what it took before it waits again)."""
        waiter = self._waiter
        return (waiter is not None and not waiter.done() and not len(self.queue) and not self.resets
                and not self.overflow)

    async def wait(self) -> None:
        """Until something was delivered (or a heartbeat is due) since the last wait."""
        if not self._signalled:
            self._waiter = self.loop.create_future()
            await self._waiter
        self._signalled = False


class Hub:
    """The process-wide registry of replay rings and listeners (``hub`` below)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._rings: OrderedDict[str, Ring] = OrderedDict()
        self._by_session: dict[str, set[Listener]] = {}
        self._by_user: dict[str, set[Listener]] = {}
        self._loops: dict[asyncio.AbstractEventLoop, int] = {}  # loop -> listeners on it
        self._observers: tuple = ()
        self._heartbeats: dict = {}  # loop -> its heartbeat task
        self._gc = _CollectorPacing()
        self.bus = None  # live_trading.stream.redis_bus.RedisBus when REDIS_URL is set
        self.front = None  # live_trading.stream.grip.GripPublisher when GRIP_URL is set

    def observe(self, callback) -> None:
        """Call ``callback(envelope)`` for every event published in this process, on the publishing
        thread (metrics, benchmarks, tests). It must be quick and must not raise."""
        self._observers = (*self._observers, callback)

    def unobserve(self, callback) -> None:
        self._observers = tuple(c for c in self._observers if c is not callback)

    # -- publishing (any thread) ------------------------------------------------------------------

    def publish(self, env: Envelope) -> None:
        """Keep ``env`` for replay (if stored), deliver it to this process's streams, and hand it to
        Redis for the other processes' streams and to the front (Pushpin) for the streams it holds.
        Never blocks on I/O."""
        if env.n is not None:
            with self._lock:
                if not self._ring(env.session_id, env.user_id).append(env):
                    return
        for observer in self._observers:
            observer(env)
        self._schedule(env)
        bus = self.bus
        if bus is not None:
            bus.send(env)
        front = self.front
        if front is not None:
            front.send(env)

    def current_id(self, session_id: str) -> int:
        """The highest stored-event number this process has for the session (0: none)."""
        with self._lock:
            ring = self._rings.get(session_id)
            return ring.last if ring else 0

    def window(self, session_id: str) -> tuple[list[Envelope], int]:
        """The session's events in this process's window and the last number seen ([], 0: none)."""
        with self._lock:
            ring = self._rings.get(session_id)
            return (list(ring.events), ring.last) if ring is not None else ([], 0)

    def _ring(self, session_id: str, user_id: str) -> Ring:
        ring = self._rings.get(session_id)
        if ring is None:
            ring = self._rings[session_id] = Ring(settings.STREAM_REPLAY_WINDOW, user_id)
            while len(self._rings) > settings.STREAM_RING_SESSIONS:
                self._rings.popitem(last=False)
        else:
            self._rings.move_to_end(session_id)
        return ring

    def _schedule(self, env: Envelope) -> None:
        for loop in list(self._loops):
            try:
                running = asyncio.get_running_loop()
            except RuntimeError:
                running = None
            if running is loop:
                self._dispatch(env)
                continue
            try:
                loop.call_soon_threadsafe(self._dispatch, env)
            except RuntimeError:  # the loop was closed under its listeners
                self._loops.pop(loop, None)

    def _dispatch(self, env: Envelope) -> None:
        """On a listener's loop: put ``env`` in the mailbox of every stream that wants it."""
        loop = asyncio.get_running_loop()
        for listener in self._by_session.get(env.session_id, ()):
            if listener.loop is loop:
                listener.deliver(env)
        for listener in self._by_user.get(env.user_id, ()):
            if listener.loop is loop:
                listener.deliver(env)

    # -- what arrives from other processes (on the loop the Redis listener runs on) ------------

    def receive(self, env: Envelope) -> bool:
        """Take an event another process published. Returns False when it does not follow the last
        one this process has for its session (the caller fills the gap from Redis, then retries)."""
        if env.n is not None:
            with self._lock:
                ring = self._rings.get(env.session_id)
                if ring is not None and env.n <= ring.last:
                    return True  # a duplicate
                if ring is not None and ring.last and env.n != ring.last + 1:
                    return False
                self._ring(env.session_id, env.user_id).append(env)
        self._schedule(env)
        return True

    def restart_ring(self, session_id: str, user_id: str, envs: list[Envelope]) -> None:
        """Continuity of a session was lost (Redis lost events): start its window again from
        ``envs`` and tell its streams to send a fresh ``initial_state``."""
        with self._lock:
            ring = self._rings[session_id] = Ring(settings.STREAM_REPLAY_WINDOW, user_id)
            for env in envs:
                ring.append(env)
        for listeners in (self._by_session.get(session_id, ()), self._by_user.get(user_id, ())):
            for listener in listeners:
                listener.loop.call_soon_threadsafe(listener.reset, session_id)

    def known_sessions(self) -> list[tuple[str, str, int]]:
        """(session_id, user_id, last n) of every session with a window here."""
        with self._lock:
            return [(sid, ring.user_id, ring.last) for sid, ring in self._rings.items()]

    # -- streams (on the event loop) --------------------------------------------------------------

    def register(self, listener: Listener) -> None:
        index = self._by_session if listener.session_id else self._by_user
        key = listener.session_id or listener.user_id
        index.setdefault(key, set()).add(listener)
        self._loops[listener.loop] = self._loops.get(listener.loop, 0) + 1
        task = self._heartbeats.get(listener.loop)
        if task is None or task.done():
            self._heartbeats[listener.loop] = listener.loop.create_task(self._heartbeat(listener.loop))
        if self.bus is not None:
            self.bus.ensure_listening()
        self._gc.opened(self.listener_count())

    async def _heartbeat(self, loop) -> None:
        """Wake the streams of ``loop`` that have been silent for a heartbeat interval (they then
        send one); ends when the loop has no streams left."""
        interval = settings.STREAM_HEARTBEAT_MS / 1000
        while self._loops.get(loop):
            await asyncio.sleep(min(interval / 4, 1.0))
            due = loop.time() - interval
            for group in (*self._by_session.values(), *self._by_user.values()):
                for listener in group:
                    if listener.loop is loop and listener.last_write <= due:
                        listener.wake()
            self._gc.tick()
        self._heartbeats.pop(loop, None)

    def unregister(self, listener: Listener) -> None:
        index = self._by_session if listener.session_id else self._by_user
        key = listener.session_id or listener.user_id
        group = index.get(key)
        if group is not None:
            group.discard(listener)
            if not group:
                del index[key]
        left = self._loops.get(listener.loop, 0) - 1
        if left > 0:
            self._loops[listener.loop] = left
        else:
            self._loops.pop(listener.loop, None)

    def listener_count(self) -> int:
        return sum(self._loops.values())

    async def drained(self, timeout: float) -> int:
        """Wait until every open stream on this event loop has written all that was delivered to it,
        or ``timeout`` seconds pass; return how many had not (0: all written).

        A stopping server calls it once its sessions have published their last events, so that open
        streams send those (the ``interrupted`` status, ``session_complete``) before it closes them.
        What a stream writes has then been handed to the server's transport.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        await asyncio.sleep(0)  # let deliveries already handed to this loop reach their mailboxes
        while True:
            busy = sum(1 for group in (*self._by_session.values(), *self._by_user.values())
                       for listener in group if listener.loop is loop and not listener.idle())
            if not busy or loop.time() >= deadline:
                return busy
            await asyncio.sleep(0.01)

    async def replay(self, session_id: str, after: int) -> list[Envelope] | None:
        """The stored events of a session after ``after``, from this process's window, else from
        Redis; None when neither covers the gap (the stream then sends a fresh ``initial_state``)."""
        with self._lock:
            ring = self._rings.get(session_id)
            events = ring.after(after) if ring is not None else None
        if events is not None or self.bus is None:
            return events
        window = await self.bus.read_window(session_id)
        if window is None:
            return None
        return events_after(window, window[-1].n if window else 0, after)


class _CollectorPacing:
    """Keep Python's cyclic collector off the fan-out's critical path.

    Open streams are long-lived objects (a request, its context and thread, its coroutine and
    listener per stream); with 500 of them every full collection walks them all, which measured
    90-165 ms on the benchmark machine, every 10-15 s while events fan out: the whole p99 of
    delivery latency. ``gc.freeze()`` moves everything alive to a generation the collector skips;
    it is done whenever a quarter of the open streams have opened since the last time (cheap: no
    collection). Objects frozen and later dropped are freed by reference counting as usual; only
    reference cycles among them wait, until every ``STREAM_GC_REFREEZE_SECONDS`` everything is
    unfrozen, collected once (one full pause) and frozen again. 0 turns all of this off.
    """

    def __init__(self):
        self._opened_since_freeze = 0
        self._next_refreeze = None

    def _enabled(self) -> bool:
        return settings.STREAM_GC_REFREEZE_SECONDS > 0

    def opened(self, count: int) -> None:
        """A stream opened; ``count`` are open now. Freeze once a quarter of them are new since the last
        freeze (so a crowd of reconnecting clients is frozen too, not only a growing one)."""
        if not self._enabled():
            return
        self._opened_since_freeze += 1
        if self._opened_since_freeze >= max(10, count // 4):
            gc.freeze()
            self._opened_since_freeze = 0

    def tick(self) -> None:
        if not self._enabled():
            return
        now = time.monotonic()
        if self._next_refreeze is None:
            self._next_refreeze = now + settings.STREAM_GC_REFREEZE_SECONDS
        elif now >= self._next_refreeze:
            gc.unfreeze()
            gc.collect()
            gc.freeze()
            self._next_refreeze = now + settings.STREAM_GC_REFREEZE_SECONDS


hub = Hub()
