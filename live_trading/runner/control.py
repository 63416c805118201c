"""Control messages (stop, pause, resume, speed) that reach a session's thread wherever it runs.

A session running in this process is told directly. With ``REDIS_URL`` set, several server
processes share a Channels layer on Redis: the message goes to a group every session-running
process listens on, and the process that runs the session obeys it.
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

log = logging.getLogger(__name__)

GROUP = "session-control"
_REJOIN_SECONDS = 600  # group membership expires in the layer; join again well before it does


def deliver(session_id: str, message: Control) -> bool:
    """Send ``message`` to the session's thread. False when no process can be reached that might run it."""
    if registry.send(session_id, message):
        return True
    if not settings.REDIS_URL:
        return False  # one process only, and the session does not run in it
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
