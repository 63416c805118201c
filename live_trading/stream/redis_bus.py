"""Several server processes: events published in one reach the streams served by the others.

django-eventstream's Redis mode (``EVENTSTREAM_REDIS``) publishes on one pub/sub channel and has
each process listen on it with ``views.RedisListener``. Two things in it lose events, which this
module does differently:

* Its listener is one task, started with the first stream, that ends on the first connection error
  that redis-py's own few retries do not absorb (a Redis restart of more than a few seconds), and
  is never started again; and even when redis-py reconnects on its own, what was published while it
  was away is gone, since pub/sub keeps nothing. Here ``_listen_forever`` supervises the
  subscription: it reconnects with a capped backoff for as long as it takes, and after every
  (re)subscription catches up from the replay window kept in Redis for every session this process
  knows. A gap noticed later (a message whose number does not follow) is filled the same way.
* Its ``send_event`` publishes synchronously from the caller's thread and raises while Redis is
  down. Here publishing goes through an outbox drained by one thread, which keeps what it could
  not send (ticks coalesced) and sends it, in order, once Redis answers again.

Each stored event is written by one Lua script that appends it to the session's window
(``<prefix>:win:<session>``, the last ``STREAM_REPLAY_WINDOW`` events), records the session's last
number, and publishes it, atomically; a number not above the last is ignored, so resending after an
uncertain failure cannot duplicate anything. Numbers come from the session's sink, not from Redis,
so a Redis that restarts empty cannot hand out an id twice.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid

import redis
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import NoBackoff
from redis.retry import Retry

from live_trading.stream.hub import Envelope, Outbox, events_after

log = logging.getLogger(__name__)

WINDOW_TTL = 24 * 3600  # seconds a session's window outlives its last event in Redis
MAX_BACKOFF = 1.0

_APPEND_AND_PUBLISH = """
local n = tonumber(ARGV[2])
if n then
  local last = tonumber(redis.call('GET', KEYS[2]) or '0')
  if n <= last then return 0 end
  redis.call('SET', KEYS[2], n, 'EX', ARGV[5])
  redis.call('RPUSH', KEYS[1], ARGV[1])
  redis.call('LTRIM', KEYS[1], -tonumber(ARGV[3]), -1)
  redis.call('EXPIRE', KEYS[1], ARGV[5])
end
redis.call('PUBLISH', ARGV[4], ARGV[1])
return 1
"""


class RedisBus:
    """This process's connection to the other processes' streams (``hub.bus``)."""

    def __init__(self, connection: dict, prefix: str, window: int, hub):
        self.connection = dict(connection)
        self.prefix = prefix
        self.window = window
        self.hub = hub
        self.origin = uuid.uuid4().hex
        self.channel = f"{prefix}:events"
        # publishing
        self._outbox = Outbox("stream-redis-publisher", self._publish_forever)
        self.sent = 0
        self.send_failures = 0
        # listening
        self._listen_task: asyncio.Task | None = None
        self._listen_loop = None
        self._clients: dict = {}  # event loop -> redis.asyncio client for window reads
        self.subscriptions = 0

    def window_key(self, session_id: str) -> str:
        return f"{self.prefix}:win:{session_id}"

    def last_key(self, session_id: str) -> str:
        return f"{self.prefix}:last:{session_id}"

    # -- publishing -------------------------------------------------------------------------------

    def send(self, env: Envelope) -> None:
        """Queue ``env`` for the other processes; returns at once."""
        self._outbox.put(env)

    def pending(self) -> int:
        """Events not yet known to be in Redis (queued, or in the batch being sent)."""
        return self._outbox.pending()

    def flush(self, timeout: float) -> bool:
        """Wait until everything queued is in Redis (at most ``timeout`` s); False if it is not."""
        return self._outbox.flush(timeout)

    def _publish_forever(self) -> None:
        client = redis.Redis(**self.connection, socket_timeout=5, socket_connect_timeout=2,
                             retry=Retry(NoBackoff(), 0))
        script = client.register_script(_APPEND_AND_PUBLISH)
        backoff = 0.05
        down_since = None
        while True:
            batch = self._outbox.take()
            try:
                pipe = client.pipeline(transaction=False)
                for env in batch:
                    script(
                        keys=[self.window_key(env.session_id), self.last_key(env.session_id)],
                        args=[env.to_message(self.origin), "" if env.n is None else env.n, self.window,
                              self.channel, WINDOW_TTL],
                        client=pipe,
                    )
                pipe.execute()
            except (redis.RedisError, OSError) as exc:
                self.send_failures += 1
                if down_since is None:
                    down_since = time.monotonic()
                    log.warning("stream: Redis unavailable (%s); keeping events to send when it is back", exc)
                self._outbox.put_back(batch)
                time.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)
                continue
            self._outbox.done()
            self.sent += len(batch)
            if down_since is not None:
                log.warning("stream: Redis back after %.1fs; sent what was kept", time.monotonic() - down_since)
                down_since = None
            backoff = 0.05

    # -- listening --------------------------------------------------------------------------------

    def ensure_listening(self) -> None:
        """Run the supervised subscription on the current event loop (once per process)."""
        loop = asyncio.get_running_loop()
        task = self._listen_task
        if task is not None and not task.done() and self._listen_loop is loop:
            return
        self._listen_loop = loop
        self._listen_task = loop.create_task(self._listen_forever(), name="stream-redis-listener")

    def _async_client(self):
        return aioredis.Redis(**self.connection, socket_connect_timeout=2, socket_timeout=None,
                              health_check_interval=15, retry=AsyncRetry(NoBackoff(), 0))

    async def _listen_forever(self) -> None:
        backoff = 0.05
        lost_at = None  # monotonic time the subscription was lost (None: subscribed, or never was)
        while True:
            client = self._async_client()
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
                self.subscriptions += 1
                if lost_at is not None:
                    log.warning("stream: subscribed to Redis again after %.1fs; catching up from the replay windows",
                                time.monotonic() - lost_at)
                    lost_at = None
                await self._catch_up(client)
                backoff = 0.05
                while True:
                    message = await pubsub.get_message(timeout=5.0)
                    if message is not None and message["type"] == "message":
                        await self._on_message(client, message["data"])
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # any failure of the subscription: start it again
                if lost_at is None:
                    lost_at = time.monotonic()
                    log.warning("stream: Redis subscription lost (%s: %s); reconnecting until it is back",
                                type(exc).__name__, exc)
            finally:
                try:
                    await pubsub.aclose()
                    await client.aclose()
                except Exception:  # already broken; nothing more to release
                    pass
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF)

    async def _on_message(self, client, data) -> None:
        origin, env = Envelope.from_message(data)
        if origin == self.origin:
            return  # this process delivered it locally when it published it
        if not self.hub.receive(env):
            # A gap: fill it from the session's window in Redis (which holds this event too, as the
            # script appends before it publishes). Messages behind this one wait on the socket, so
            # they arrive after the fill, as duplicates or as the next number.
            await self._fill(client, env.session_id, env.user_id)

    async def _fill(self, client, session_id: str, user_id: str, window: list[Envelope] | None = None) -> None:
        """Bring this process's window of a session up to date from Redis's; if Redis no longer has
        the events that follow ours, start again from what it has and reset the session's streams."""
        if window is None:
            window = await self._read(client, session_id)
        last = self.hub.current_id(session_id)
        events = events_after(window, window[-1].n, last) if window else None
        if events is None:
            log.warning("stream: events of %s after #%d are gone from Redis; its streams get a fresh initial_state",
                        session_id, last)
            self.hub.restart_ring(session_id, user_id, window)
            return
        for e in events:
            self.hub.receive(e)

    async def _catch_up(self, client) -> None:
        for session_id, user_id, last in self.hub.known_sessions():
            if not last:
                continue
            window = await self._read(client, session_id)
            if window and window[-1].n > last:
                await self._fill(client, session_id, user_id, window)

    async def _read(self, client, session_id: str) -> list[Envelope]:
        raw = await client.lrange(self.window_key(session_id), 0, -1)
        events: list[Envelope] = []
        for item in raw:
            _, env = Envelope.from_message(item)
            if not events or env.n > events[-1].n:
                events.append(env)
        return events

    async def read_window(self, session_id: str) -> list[Envelope] | None:
        """The session's window as Redis has it (for a stream's replay); None if Redis is unreachable."""
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            client = self._clients[loop] = self._async_client()
        try:
            return await self._read(client, session_id)
        except (redis.RedisError, OSError) as exc:
            log.warning("stream: could not read the replay window of %s from Redis (%s)", session_id, exc)
            return None
