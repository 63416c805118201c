"""The one way to publish a stream event (``publish``), and the per-session numbering it relies on.

Every stored event of a session gets the next number ``n`` of that session (1, 2, 3, ...): it is
the event's position in the session's replay window and, as ``session-<id>:<n>``, its SSE id. The
numbers are handed out in the process that runs the session (its ``StreamSink`` takes them when
the engine emits, so the persistence writer can record, in the same transaction as the rows, which
event a snapshot of those rows includes). Every event's data also carries ``session_id`` and
``seq``, the count of events of its kind in the session so far (seed 001).
"""

from __future__ import annotations

import atexit
import threading
from collections import OrderedDict, defaultdict

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from live_trading.stream.events import DEFINITIONS, STORED_KINDS, UNSTORED_KINDS, dumps
from live_trading.stream.hub import Envelope, hub

_MAX_COUNTERS = 20_000


class SessionCounters:
    """The next stored-event number and per-kind ``seq`` of one session, in this process."""

    __slots__ = ("_lock", "last", "seq")

    def __init__(self, last: int):
        self._lock = threading.Lock()
        self.last = last
        self.seq: dict[str, int] = defaultdict(int)

    def next_id(self) -> int:
        with self._lock:
            self.last += 1
            return self.last

    def next_seq(self, kind: str) -> int:
        with self._lock:
            self.seq[kind] += 1
            return self.seq[kind]


_counters: OrderedDict[str, SessionCounters] = OrderedDict()
_counters_lock = threading.Lock()


def counters(session_id: str) -> SessionCounters:
    """Return the session's counters, continuing from what this process already published for it."""
    with _counters_lock:
        c = _counters.get(session_id)
        if c is None:
            c = _counters[session_id] = SessionCounters(hub.current_id(session_id))
            while len(_counters) > _MAX_COUNTERS:
                _counters.popitem(last=False)
        return c


def forget(session_id: str) -> None:
    """Drop a finished session's counters (its window stays for late reconnects)."""
    with _counters_lock:
        _counters.pop(session_id, None)


def publish(*, user_id: str, session_id: str, event: str, data: dict, store: bool = True,
            event_id: int | None = None, coalesce: bool = True) -> int | None:
    """Publish one stream event to the streams of its user and of its session, in every process.

    ``data`` gets ``session_id`` and, unless it has one, the next ``seq`` of its kind. Stored kinds
    get the session's next number (or ``event_id``, already taken from ``counters``) and are kept
    for replay; ``tick_update`` is never stored, and unless ``coalesce`` is false (a session that
    streams every tick) a stream that has not written it yet replaces it with the next one. Returns
    the number, or None for an unstored event. Call it after the database commit of whatever the
    event refers to. Never blocks on I/O.
    """
    ensure_bus()
    env = envelope(counters(session_id), user_id=user_id, session_id=session_id, event=event, data=data,
                   store=store, event_id=event_id, coalesce=coalesce)
    hub.publish(env)
    return env.n


def envelope(c: SessionCounters, *, user_id: str, session_id: str, event: str, data: dict, store: bool = True,
             event_id: int | None = None, coalesce: bool = True) -> Envelope:
    """The ``Envelope`` ``publish`` sends, its number and ``seq`` taken from ``c``: the one place an event's
    data gets its ``session_id`` and ``seq`` and is encoded (``simulate --out`` writes the same bytes)."""
    if event not in STORED_KINDS and event not in UNSTORED_KINDS:
        known = ", ".join(sorted(STORED_KINDS | UNSTORED_KINDS))
        raise ValueError(f"{event!r} is not a kind that is published ({'per connection' if event in DEFINITIONS else 'unknown'}); "
                         f"publish one of {known}")
    payload = {"session_id": session_id, "seq": data["seq"] if "seq" in data else c.next_seq(event)}
    payload.update((k, v) for k, v in data.items() if k not in ("session_id", "seq"))
    n = None
    if store and event in STORED_KINDS:
        n = event_id if event_id is not None else c.next_id()
    return Envelope(event, session_id, user_id, n, dumps(payload), payload, coalesce=coalesce)


# -- Redis, when configured ----------------------------------------------------------------------

_bus_lock = threading.Lock()
_bus_config = None


def ensure_bus() -> None:
    """Attach the Redis bus to the hub when ``EVENTSTREAM_REDIS`` is set, and the front's publisher
    when ``GRIP_URL`` is (and only then)."""
    global _bus_config
    if _bus_config is not None:
        return  # decided; a settings change (tests) resets it
    config = getattr(settings, "EVENTSTREAM_REDIS", None)
    key = (repr(sorted(config.items())) if config else None, settings.STREAM_REDIS_PREFIX,
           settings.STREAM_REPLAY_WINDOW, tuple(settings.GRIP_URLS))
    if key == _bus_config:
        return
    with _bus_lock:
        if key == _bus_config:
            return
        if config:
            from live_trading.stream.redis_bus import RedisBus

            hub.bus = RedisBus(config, settings.STREAM_REDIS_PREFIX, settings.STREAM_REPLAY_WINDOW, hub)
        else:
            hub.bus = None
        if settings.GRIP_URLS:
            from live_trading.stream.grip import GripPublisher

            hub.front = GripPublisher(settings.GRIP_URLS)
        else:
            hub.front = None
        _bus_config = key


def _flush_at_exit() -> None:
    # Registered when this module is first imported, which is before the session registry registers
    # its own exit handler (at the first session start); handlers run last-registered first, so this
    # runs after the sessions were interrupted and published their last events.
    for out in (hub.bus, hub.front):
        if out is not None:
            out.flush(timeout=2.0)


atexit.register(_flush_at_exit)


@receiver(setting_changed)
def _settings_changed(*, setting, **kwargs):
    global _bus_config
    if setting in ("EVENTSTREAM_REDIS", "STREAM_REDIS_PREFIX", "STREAM_REPLAY_WINDOW", "GRIP_URLS"):
        _bus_config = None
