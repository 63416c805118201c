"""Which channels a request may read, decided on the server from the authenticated user.

Channels are ``user-<user_id>`` (every session of a user, live events only) and
``session-<session_id>`` (one session; its stored events are kept for replay, so it is the channel
named in SSE ids). A client never names a channel: the URL names a user or a session, and this
manager turns that into channels only if the user may read them, following the one ownership
rule (``accounts/ownership.py``): your own, or anyone's for staff; anything else is 404, like an id that
does not exist. It implements django-eventstream's ``ChannelManagerBase`` and is installed as
``EVENTSTREAM_CHANNELMANAGER_CLASS``.
"""

from __future__ import annotations

import functools

from django.http import Http404
from django_eventstream.channelmanager import ChannelManagerBase
from django_eventstream.utils import make_id

from accounts import ownership
from accounts.ownership import may_read_user
from sessions_app.models import SimulationSession

USER_PREFIX = "user-"
SESSION_PREFIX = "session-"


def user_channel(user_id: str) -> str:
    return f"{USER_PREFIX}{user_id}"


def session_channel(session_id: str) -> str:
    return f"{SESSION_PREFIX}{session_id}"


@functools.lru_cache(maxsize=10_000)
def channel_in_id(session_id: str) -> str:
    """A session's channel as an event id names it (``session-<id>``, quoted as django-eventstream's
    ``make_id`` quotes it), without the ``:<n>`` position."""
    return make_id({session_channel(session_id): 0})[:-2]


def readable_sessions(user, session_ids) -> dict[str, str]:
    """Of ``session_ids``, those ``user`` may read, mapped to their owner's ``user_id``."""
    if not session_ids:
        return {}
    qs = ownership.readable(user, SimulationSession.objects.filter(pk__in=list(session_ids)))
    return dict(qs.values_list("pk", "owner__user_id"))


class StreamChannelManager(ChannelManagerBase):
    def get_channels_for_request(self, request, view_kwargs):
        """The one channel the URL names, if ``request.user`` may read it; Http404 otherwise."""
        user = getattr(request, "user", None)
        if "session_id" in view_kwargs:
            channel = session_channel(view_kwargs["session_id"])
        elif "user_id" in view_kwargs:
            channel = user_channel(view_kwargs["user_id"])
        else:
            raise Http404("no stream here")
        if not self.can_read_channel(user, channel):
            raise Http404("No such stream.")
        return {channel}

    def can_read_channel(self, user, channel):
        if channel.startswith(USER_PREFIX):
            return may_read_user(user, channel[len(USER_PREFIX):])
        if channel.startswith(SESSION_PREFIX):
            session_id = channel[len(SESSION_PREFIX):]
            return session_id in readable_sessions(user, [session_id])
        return False

    def is_channel_reliable(self, channel):
        # Session channels keep their events for replay; a user's channel is their sessions' live feed.
        return channel.startswith(SESSION_PREFIX)
