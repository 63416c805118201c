"""The stream endpoints (docs/protocol.md, "Event stream").

* ``GET /api/live-trading/stream/<user_id>``: every session of a user, each event tagged with its
  ``session_id``;
* ``GET /api/v2/live/stream/<session_id>`` (the ``stream_url`` start returns) and
  ``GET /api/v1/sse/<session_id>?event_type=all|node|trade|position|tick|candle``: one session;
* ``POST /api/live-trading/stream-token``: a short-lived token for ``?token=``.

Options: ``?compress=0`` sends every field as plain JSON; ``?lastEventId=`` resumes a first
connection like the ``Last-Event-ID`` header does a reconnection (the header wins).

The views are async: an open stream is a coroutine waiting on its listener's mailbox, not a thread,
and holds no database connection. The database is read only to authenticate, to check ownership and
to build snapshots, and the connection is closed right after, on the request's own thread.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from dataclasses import dataclass, field
from urllib.parse import unquote

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.http import Http404, HttpResponseNotAllowed, JsonResponse, StreamingHttpResponse
from django_eventstream.utils import add_default_headers, get_channelmanager, make_id, parse_last_event_id
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from live_trading.stream import auth
from live_trading.stream.channels import SESSION_PREFIX, readable_sessions, session_channel
from live_trading.stream.events import ALWAYS_SENT, FILTERS, compress_fields, dumps, sse_frame
from live_trading.stream.hub import Listener, hub
from live_trading.stream.publish import ensure_bus
from live_trading.stream.sink import now_iso

log = logging.getLogger(__name__)

_FALSE = {"0", "false", "no", "off"}


def _error(status: int, detail: str) -> JsonResponse:
    return JsonResponse({"detail": detail}, status=status)


# -- opening a stream ------------------------------------------------------------------------------


@dataclass
class StreamContext:
    """What one open stream needs, resolved before streaming starts."""

    user_id: str  # whose sessions (the stream's user, or the owner of its one session)
    session_id: str | None  # set for a session's stream
    target_user: object  # the user whose active sessions a user stream starts with
    compress: bool
    kinds: frozenset | None  # None: every kind
    resume: dict[str, int] = field(default_factory=dict)  # session -> last stored number the client has


async def user_stream(request, user_id: str):
    """All of a user's sessions on one connection."""
    return await _open(request, user_id=user_id)


async def session_stream(request, session_id: str):
    """One session; ``?event_type=`` narrows it to one kind of event."""
    return await _open(request, session_id=session_id)


async def _open(request, *, user_id: str | None = None, session_id: str | None = None):
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    try:
        user = await auth.authenticate(request)
    except auth.BadCredentials as exc:
        return _error(401, str(exc))
    if user is None:
        return _error(401, "Authentication credentials were not provided.")
    event_type = request.GET.get("event_type", "all")
    if event_type not in FILTERS:
        return JsonResponse({"event_type": [f"Unknown event type; one of {', '.join(FILTERS)}."]}, status=400)
    compress = request.GET.get("compress", "1").strip().lower() not in _FALSE
    last_event_id = request.headers.get("Last-Event-ID") or request.GET.get("lastEventId") or ""
    try:
        ctx = await sync_to_async(_then_close)(_resolve, request, user, user_id, session_id, last_event_id)
    except Http404:
        return _error(404, "Not found.")
    ctx.compress = compress
    ctx.kinds = FILTERS[event_type]
    response = StreamingHttpResponse(_stream(ctx), content_type="text/event-stream")
    add_default_headers(response, request)  # no-cache, no proxy buffering, CORS for allowed origins
    return response


def _resolve(request, user, user_id, session_id, last_event_id) -> StreamContext:
    """Check the user may read what the URL names and parse where the client wants to resume."""
    request.user = user
    kwargs = {"session_id": session_id} if session_id else {"user_id": user_id}
    get_channelmanager().get_channels_for_request(request, kwargs)  # Http404 unless readable
    wanted = {}
    if session_id and last_event_id.isdigit():
        wanted = {session_id: int(last_event_id)}  # a session's stream also takes its bare number
    elif last_event_id:
        try:
            for quoted, last in parse_last_event_id(last_event_id).items():
                channel = unquote(quoted)
                if channel.startswith(SESSION_PREFIX) and int(last) >= 0:
                    wanted[channel[len(SESSION_PREFIX):]] = int(last)
        except ValueError:
            wanted = {}  # an id we cannot read is an unknown id: the client gets a fresh initial_state
    if session_id:
        owner = readable_sessions(user, [session_id])[session_id]
        resume = {session_id: wanted[session_id]} if session_id in wanted else {}
        return StreamContext(owner, session_id, None, True, None, resume)
    target = user if user.user_id == user_id else get_user_model().objects.get(user_id=user_id)
    owned = readable_sessions(target, wanted)
    resume = {sid: last for sid, last in wanted.items() if owned.get(sid) == user_id}
    return StreamContext(user_id, None, target, True, None, resume)


# -- the stream ----------------------------------------------------------------------------------


async def _stream(ctx: StreamContext):
    ensure_bus()
    listener = Listener(user_id=ctx.user_id, session_id=ctx.session_id)
    hub.register(listener)  # first, so that nothing published from now on can be missed
    out = _Writer(ctx)
    loop = asyncio.get_running_loop()
    heartbeat = settings.STREAM_HEARTBEAT_MS / 1000
    try:
        yield f"retry: {settings.STREAM_RETRY_MS}\n\n".encode()
        body = await out.start()
        body += await out.drain(listener)
        if body:
            yield body
        listener.last_write = loop.time()
        while True:
            await listener.wait()
            body = await out.drain(listener)
            if not body and loop.time() - listener.last_write >= heartbeat:
                body = sse_frame("heartbeat", dumps({"timestamp": now_iso()})).encode()
            if body:
                yield body
                listener.last_write = loop.time()
    finally:
        hub.unregister(listener)


class _Writer:
    """Turns what a stream has to say into SSE text, keeping each session's position exactly.

    ``pos[session]`` is the number of the last stored event of that session the client has (from
    its ``Last-Event-ID``, an ``initial_state`` or an event written here); the SSE id of every
    stored event and snapshot lists those positions in django-eventstream's format,
    ``session-<id>:<n>`` joined by commas. An event at or below a position is a duplicate and is
    skipped; one beyond the next is a gap, filled from the replay window or, when the window no
    longer covers it, by a fresh ``initial_state``. A session leaves the id after its last event
    (``session_complete``, or a ``failed`` / ``interrupted`` status).
    """

    def __init__(self, ctx: StreamContext):
        self.ctx = ctx
        self.pos: dict[str, int] = {}
        self.finished: set[str] = set()

    async def start(self) -> str:
        """The first thing the stream sends: replay for the sessions the client can resume, a fresh
        ``initial_state`` for the others it should know (the user's active sessions, or the one)."""
        parts = []
        fresh = []
        for sid, last in self.ctx.resume.items():
            events = await hub.replay(sid, last)
            if events is None:
                fresh.append(sid)
            else:
                self.pos[sid] = last
                parts.extend(self._stored(e) for e in events)
        if self.ctx.session_id:
            candidates = [self.ctx.session_id]
        else:
            candidates = await sync_to_async(_then_close)(_active_session_ids, self.ctx.target_user)
        fresh.extend(sid for sid in candidates if sid not in self.ctx.resume)
        for sid in fresh:
            parts.append(await self._initial_state(sid))
        return b"".join(parts)

    async def drain(self, listener: Listener) -> str:
        """Everything the hub delivered since the last call, in order."""
        parts = []
        if listener.overflow:  # the stream fell too far behind: re-read the windows
            listener.overflow = False
            for sid in list(self.pos):
                parts.append(await self._catch_up(sid))
        while listener.resets:
            parts.append(await self._initial_state(listener.resets.pop()))
        for env in listener.queue.take():
            sid = env.session_id
            if env.n is None:  # a tick: nothing to check, only whether the client wants it
                if sid in self.pos and self._wanted(env.kind):
                    parts.append(env.frame(self.ctx.compress))
                continue
            if sid not in self.pos:
                if env.n == 1:
                    self.pos[sid] = 0  # a session that started while we listen
                else:
                    parts.append(await self._catch_up(sid))
            last = self.pos[sid]
            if env.n <= last:
                continue
            if env.n > last + 1:
                parts.append(await self._catch_up(sid))
                continue
            parts.append(self._stored(env))
        return b"".join(parts)

    async def _catch_up(self, sid: str) -> str:
        """Bring ``sid`` up to date: replay from the window, or a fresh ``initial_state``."""
        events = await hub.replay(sid, self.pos.get(sid, 0))
        if events is None:
            return await self._initial_state(sid)
        self.pos.setdefault(sid, 0)
        return b"".join(self._stored(e) for e in events)

    def _stored(self, env) -> str:
        """Write one stored event and move its session's position (unless filtered out)."""
        sid = env.session_id
        if env.n <= self.pos.get(sid, 0):
            return b""
        self.pos[sid] = env.n
        if env.kind == "session_complete" or (
                env.kind == "session_status" and json.loads(env.plain).get("status") in ("failed", "interrupted")):
            self.finished.add(sid)
        if not self._wanted(env.kind):
            return b""
        event_id = self._id(also=sid)
        return b"".join((env.head(), event_id.encode(), env.tail(self.ctx.compress)))

    def _wanted(self, kind: str) -> bool:
        return self.ctx.kinds is None or kind in self.ctx.kinds or kind in ALWAYS_SENT

    def _id(self, also: str | None = None) -> str:
        """``session-<id>:<n>`` per session, comma-separated (django-eventstream's ``make_id``)."""
        return ",".join(f"{_channel_in_id(s)}:{n}" for s, n in self.pos.items() if s not in self.finished or s == also)

    async def _initial_state(self, sid: str) -> str:
        """A fresh snapshot of ``sid``, then any published event it does not include yet."""
        state = await sync_to_async(_then_close)(_initial_state, sid)
        last = int(state.get("last_event_id") or 0)
        data = {**state, "session_id": sid, "last_event_id": last}
        self.pos[sid] = last
        self.finished.discard(sid)
        body = dumps(compress_fields("initial_state", data) if self.ctx.compress else data)
        parts = [sse_frame("initial_state", body, self._id()).encode()]
        events, _ = hub.window(sid)
        parts.extend(self._stored(e) for e in events if e.n > last)
        return b"".join(parts)


@functools.lru_cache(maxsize=10_000)
def _channel_in_id(session_id: str) -> str:
    return make_id({session_channel(session_id): 0})[:-2]  # quoted as django-eventstream quotes it


def _then_close(fn, *args):
    """Run ``fn`` and close this thread's database connection: an open stream must not keep one."""
    try:
        return fn(*args)
    finally:
        connection.close()


def _initial_state(session_id: str) -> dict:
    from live_trading import snapshots

    return snapshots.initial_state(session_id)


def _active_session_ids(user) -> list[str]:
    from live_trading import snapshots

    return snapshots.active_session_ids(user)


# -- tokens for ?token= ---------------------------------------------------------------------------


class StreamTokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Put it in the stream URL as ?token=...")
    expires_in = serializers.IntegerField(help_text="Seconds during which a stream may be opened with it.")
    user_id = serializers.CharField()


class StreamTokenView(APIView):
    """A short-lived token to open a stream where headers cannot be set (``EventSource``)."""

    @extend_schema(
        request=None,
        responses={200: OpenApiResponse(StreamTokenSerializer, examples=[OpenApiExample(
            "Token", {"token": "eyJ1IjoxLCJoIjoiYjM...:1tXQzA:Qy3...", "expires_in": 300,
                      "user_id": "user_2yfjTGEKjL7XkklQyBaMP6SN2Lc"})])},
        summary="Get a stream token",
        description="Open `/api/live-trading/stream/{user_id}?token=<token>` (or a session's stream) with it "
        "within `expires_in` seconds. An open stream is not cut when it expires; reconnect with a new one.",
    )
    def post(self, request):
        return Response(auth.issue_token(request.user))
