"""django-eventstream's storage interface over this process's replay windows (``hub``).

Installed as ``EVENTSTREAM_STORAGE_CLASS`` so that the library's own helpers (``get_events``,
``get_current_event_id``) see the same events and ids as our streams. Why in memory and not the
library's ``DjangoModelStorage``: that one reads Postgres on every poll of every open stream (500
streams would need as many connections) and writes a row per event; what replay needs is only the
last ``STREAM_REPLAY_WINDOW`` events of each session, which fit in memory, and with several
processes the same window is kept in Redis (``redis_bus``). A window that has moved past a client
costs nothing but a fresh ``initial_state``, so nothing here needs to be durable.
"""

from __future__ import annotations

from django_eventstream.event import Event
from django_eventstream.storage import EventDoesNotExist, StorageBase

from live_trading.stream.channels import SESSION_PREFIX
from live_trading.stream.hub import events_after, hub
from live_trading.stream.publish import publish


class RingStorage(StorageBase):
    def append_event(self, channel, event_type, data):
        """Publish through ``publish`` (the one way in); kept for the library's interface."""
        session_id = self._session(channel)
        payload = data if isinstance(data, dict) else {"value": data}
        n = publish(user_id=payload.get("user_id", ""), session_id=session_id, event=event_type, data=payload)
        return Event(channel, event_type, payload, id=n)

    def get_events(self, channel, last_id, limit=100):
        session_id = self._session(channel)
        window, current = hub.window(session_id)
        events = events_after(window, current, int(last_id))
        if events is None:
            raise EventDoesNotExist(f"No such event {last_id}", current)
        return [Event(channel, e.kind, e.plain, id=e.n) for e in events[:limit]]

    def get_current_id(self, channel):
        return hub.current_id(self._session(channel))

    @staticmethod
    def _session(channel: str) -> str:
        if not channel.startswith(SESSION_PREFIX):
            raise ValueError(f"only session channels are stored, not {channel!r}")
        return channel[len(SESSION_PREFIX):]
