"""Control messages (stop, pause, resume, speed) that reach a session's thread wherever it runs.

The session's row is where every request is written (``sessions_app.leases``: ``stop_requested_at``,
``requested_status``, ``requested_speed``), and the process that owns the session reads it with each
renewal of its lease (at least every ``SIM_LEASE_RENEW_SECONDS``), so a request reaches the session in
whichever process runs it, with no other service. A session running in this process is also told
directly, at once; with ``REDIS_URL`` set, the message also goes to a group every session-running
process listens on, so the owner obeys it without waiting for its next renewal.
"""

from __future__ import annotations

import asyncio
import logging
import threading

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings

from live_trading.runner.registry import registry
from live_trading.runner.thread import Control
from sessions_app import leases

log = logging.getLogger(__name__)

GROUP = "session-control"
_REJOIN_SECONDS = 600  # group membership expires in the layer; join again well before it does


def deliver(session_id: str, message: Control) -> bool:
    """Send ``message`` (stop, pause, resume, speed) to the session's thread wherever it runs. False when no
    process holds the session (it is not running or paused, or its lease expired: its owner is gone).

    A stop's request is the ``stop_requested_at`` its caller wrote; a pause, resume or speed is written
    here. The owner obeys the row at its next renewal, or at once when the message reaches it directly."""
    if message.action in ("pause", "resume", "speed"):
        status = {"pause": "paused", "resume": "running"}.get(message.action, "")
        if not leases.request(session_id, status=status, speed=message.speed, reason=message.reason):
            return False
    elif message.action == "stop":
        leases.request(session_id, reason=message.reason)
    if registry.send(session_id, message):
        return True
    if not leases.held(session_id):
        return False
    if not settings.REDIS_URL:
        return True  # the owner reads the request with its next renewal
    async_to_sync(get_channel_layer().group_send)(
        GROUP,
        {"type": "session.control", "session_id": session_id, "action": message.action,
         "reason": message.reason, "speed": message.speed},
    )
    return True


class ControlListener(threading.Thread):
    """Receive control messages from other processes and hand them to this process's sessions."""

    def __init__(self):
        super().__init__(name="session-control-listener", daemon=True)
        self.ready = threading.Event()

    def run(self):
        asyncio.run(self._listen_forever())

    async def _listen_forever(self):
        while True:
            try:
                await self._listen()
            except Exception as exc:  # Redis restarted or unreachable: wait, then join again
                log.warning("control listener lost its layer (%s); reconnecting", exc)
                await asyncio.sleep(1)

    async def _listen(self):
        layer = get_channel_layer()
        channel = await layer.new_channel()
        await layer.group_add(GROUP, channel)
        self.ready.set()
        loop = asyncio.get_running_loop()
        rejoin_at = loop.time() + _REJOIN_SECONDS
        while True:
            try:
                message = await asyncio.wait_for(layer.receive(channel), timeout=_REJOIN_SECONDS)
            except TimeoutError:
                message = None
            if loop.time() >= rejoin_at:
                await layer.group_add(GROUP, channel)
                rejoin_at = loop.time() + _REJOIN_SECONDS
            if message and message.get("type") == "session.control":
                registry.send(
                    message["session_id"],
                    Control(message["action"], message.get("reason") or "", message.get("speed")),
                )


_listener: ControlListener | None = None
_listener_lock = threading.Lock()


def ensure_listener() -> None:
    """Start this process's listener once, if sessions can be controlled from other processes."""
    global _listener
    if not settings.REDIS_URL:
        return
    with _listener_lock:
        if _listener is None:
            _listener = ControlListener()
            _listener.start()
    _listener.ready.wait(timeout=5)
