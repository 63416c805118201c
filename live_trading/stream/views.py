"""The stream endpoints (docs/protocol.md, "Event stream").

* ``GET /api/live-trading/stream/<user_id>``: every session of a user, each event tagged with its
  ``session_id``;
* ``GET /api/v2/live/stream/<session_id>`` (the ``stream_url`` start returns) and
  ``GET /api/v1/sse/<session_id>?event_type=all|node|trade|position|tick|candle``: one session;
* ``POST /api/live-trading/stream-token``: a short-lived token for ``?token=``.

Options: ``?compress=0`` sends every field as plain JSON; ``?ticks=compact`` sends each
``tick_update``'s ``open_positions`` as ``{position_id: [current_price, unrealized_pnl]}`` instead of
the seeds' list of objects (``?ticks=full``, the default); ``?node_diagnostics=1`` adds the active
signal nodes' condition values to each ``tick_update``; ``?lastEventId=`` resumes a first
connection like the ``Last-Event-ID`` header does a reconnection (the header wins).

The views are async: an open stream is a coroutine waiting on its listener's mailbox, not a thread,
and holds no database connection. The database is read only to authenticate, to check ownership and
to build snapshots, and the connection is closed right after, on the request's own thread.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from urllib.parse import unquote

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connection
from django.http import Http404, JsonResponse, StreamingHttpResponse
from django.views.decorators.csrf import csrf_exempt
from django_eventstream.utils import add_default_headers, get_channelmanager, make_id, parse_last_event_id
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from accounts import ownership
from config.api import BodylessView
from config.ascii import is_ascii_number
from config.ids import is_session_id
from live_trading import snapshots
from live_trading.stream import auth, grip
from live_trading.stream.channels import (
    SESSION_PREFIX,
    channel_in_id,
    readable_sessions,
    user_channel,
)
from live_trading.stream.events import (
    ALWAYS_SENT,
    FILTERS,
    TICK_FORMS,
    InvalidOption,
    dumps,
    initial_state_body,
    now_iso,
    sse_frame,
    stream_options,
)
from live_trading.stream.gauge import open_streams
from live_trading.stream.hub import Listener, hub
from live_trading.stream.publish import ensure_bus
from sessions_app import lifecycle
from sessions_app.models import SimulationSession

log = logging.getLogger(__name__)

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
    since: int | None = None  # user stream: the client has seen every session created up to this (µs)
    event_type: str = "all"  # the ?event_type= filter's name
    ticks: str = "full"  # the ?ticks= form of tick_update.open_positions (events.TICK_FORMS)
    node_diagnostics: bool = False  # ?node_diagnostics=1: ticks carry the active nodes' condition values
    # A held connection's next link: the connection was open all along, so a session created after its
    # watermark started while it listened (as for a stream this process holds, ``_Writer.drain``).
    listening: bool = False


@csrf_exempt  # read-only: a POST gets the JSON 405 below, not the CSRF middleware's HTML 403
async def user_stream(request, user_id: str):
    """All of a user's sessions on one connection."""
    return await _open(request, user_id=user_id)


@csrf_exempt
async def session_stream(request, session_id: str):
    """One session; ``?event_type=`` narrows it to one kind of event."""
    return await _open(request, session_id=session_id)


async def _open(request, *, user_id: str | None = None, session_id: str | None = None):
    if request.method != "GET":
        response = _error(405, f'Method "{request.method}" not allowed; a stream is opened with GET.')
        response["Allow"] = "GET"
        return response
    front = grip.from_front(request)
    if front and "grip" in request.GET:  # Pushpin asking for what its held connection misses
        return await _next_link(request, user_id, session_id)
    try:
        user = await auth.authenticate(request)
    except auth.BadCredentials as exc:
        return _error(401, str(exc))
    if user is None:
        return _error(401, "Authentication credentials were not provided.")
    event_type = request.GET.get("event_type", "all")
    if event_type not in FILTERS:
        return JsonResponse({"event_type": [f"Unknown event type; one of {', '.join(FILTERS)}."]}, status=400)
    try:
        options = stream_options(request.GET)
    except InvalidOption as exc:
        return JsonResponse({exc.field: [str(exc)]}, status=400)
    last_event_id = request.headers.get("Last-Event-ID") or request.GET.get("lastEventId") or ""
    try:
        ctx = await sync_to_async(_then_close)(_resolve, request, user, user_id, session_id, last_event_id)
    except Http404:
        return _error(404, "Not found.")
    ctx.compress = options["compress"]
    ctx.kinds = FILTERS[event_type]
    ctx.event_type = event_type
    ctx.ticks = options["ticks"]
    ctx.node_diagnostics = options["node_diagnostics"]
    if front:  # Pushpin holds the connection; this process only answers
        return await held(request, ctx, user, first=True)
    response = StreamingHttpResponse(_stream(ctx), content_type="text/event-stream")
    add_default_headers(response, request)  # no-cache, no proxy buffering, CORS for allowed origins
    return response


def _resolve(request, user, user_id, session_id, last_event_id) -> StreamContext:
    """Check the user may read what the URL names and parse where the client wants to resume."""
    request.user = user
    kwargs = {"session_id": session_id} if session_id else {"user_id": user_id}
    get_channelmanager().get_channels_for_request(request, kwargs)  # Http404 unless readable
    wanted, since = parse_cursors(last_event_id, session_id, user_id)
    if session_id:
        owner = readable_sessions(user, [session_id])[session_id]
        resume = {session_id: wanted[session_id]} if session_id in wanted else {}
        return StreamContext(owner, session_id, None, True, None, resume)
    target = ownership.readable_user(user, user_id)  # not None: the channel manager let it through
    owned = set(SimulationSession.objects.filter(pk__in=list(wanted), owner=target).values_list("pk", flat=True))
    resume = {sid: last for sid, last in wanted.items() if sid in owned}
    return StreamContext(user_id, None, target, True, None, resume, since if resume or not wanted else None)


MAX_RESUMED_SESSIONS = 1000  # an id naming more sessions than this is not one this server wrote


def parse_cursors(last_event_id: str, session_id: str | None = None,
                  user_id: str | None = None) -> tuple[dict[str, int], int | None]:
    """What a ``Last-Event-ID`` says the client has: ``({session_id: last number}, created_up_to)``.

    Accepts what the stream writes: ``session-<id>:<n>`` pairs, comma-separated (django-eventstream's
    format), and on ``user_id``'s stream ``user-<user_id>:<t>``, the creation time (microseconds
    since the epoch) up to which the client has seen every session (None when absent); on a
    session's stream also that session's bare number. Session ids and numbers must have their forms
    (``config.ids``: ASCII only, ``int()`` takes ``٣``). Anything else is an id this server never wrote: ``({}, None)``, and the client gets a
    fresh ``initial_state``, never an error.
    """
    unknown = {}, None
    if not last_event_id or len(last_event_id) > 64 * MAX_RESUMED_SESSIONS:
        return unknown
    if session_id and _is_number(last_event_id):
        return {session_id: int(last_event_id)}, None
    try:
        parsed = parse_last_event_id(last_event_id)
    except ValueError:
        return unknown
    if len(parsed) > MAX_RESUMED_SESSIONS:
        return unknown
    wanted, since = {}, None
    for quoted, last in parsed.items():
        channel = unquote(quoted)
        if not _is_number(last):
            return unknown
        if user_id is not None and channel == user_channel(user_id):
            since = int(last)
            continue
        sid = channel[len(SESSION_PREFIX):]
        if not (channel.startswith(SESSION_PREFIX) and is_session_id(sid)):
            return unknown
        wanted[sid] = int(last)
    return wanted, since


def _is_number(text: str) -> bool:
    return len(text) <= 18 and is_ascii_number(text)  # 18 digits: any stored number or watermark


# -- the stream ----------------------------------------------------------------------------------


async def _stream(ctx: StreamContext):
    ensure_bus()
    listener = Listener(user_id=ctx.user_id, session_id=ctx.session_id)
    hub.register(listener)  # first, so that nothing published from now on can be missed
    out = _Writer(ctx)
    loop = asyncio.get_running_loop()
    heartbeat = settings.STREAM_HEARTBEAT_MS / 1000
    open_streams.up()
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
        open_streams.down()
        hub.unregister(listener)


async def held(request, ctx: StreamContext, user, *, first: bool):
    """Answer a stream request that came through the front: what ``_stream`` would write first (on a
    next link, what the connection misses), and the channels for Pushpin to hold it on (``grip``)."""
    out = _Writer(ctx)
    body = await out.start()
    following = []
    for sid, n in out.pos.items():
        if sid == ctx.session_id or (sid not in out.finished and not await _ended_at(sid, n)):
            following.append((sid, n))
    if first:
        body = f"retry: {settings.STREAM_RETRY_MS}\n\n".encode() + body
    watermark = f"{out.user_channel}:{out.created_up_to}" if out.created_up_to is not None else ""
    response = grip.hold(body, path=request.path, ctx=ctx, following=following, ids_in_format=watermark,
                         token=grip.next_token(user, ctx, out.created_up_to))
    add_default_headers(response, request)
    return response


async def _next_link(request, user_id: str | None, session_id: str | None):
    """Pushpin's request for a held connection's next link (a session it follows started, changed status
    or ended, or an event did not follow what the connection has): answered as a reconnect with the id
    the connection is at, its numbers per session coming from ``Grip-Last``."""
    payload = grip.read_next_token(request.GET["grip"])
    user = await sync_to_async(_then_close)(grip.user_of, payload) if payload else None
    if user is None or payload.get("k") not in FILTERS or payload.get("t", "full") not in TICK_FORMS:
        return _error(403, "This stream's credentials are no longer valid; open it again.")
    last_event_id = grip.last_event_id_from(request.headers.get("Grip-Last", ""), user_id, payload.get("w"))
    try:
        ctx = await sync_to_async(_then_close)(_resolve, request, user, user_id, session_id, last_event_id)
    except Http404:
        return _error(404, "Not found.")
    ctx.compress = bool(payload["c"])
    ctx.event_type = payload["k"]
    ctx.kinds = FILTERS[ctx.event_type]
    ctx.ticks = payload.get("t", "full")
    ctx.node_diagnostics = bool(payload.get("n"))
    ctx.listening = True
    return await held(request, ctx, user, first=False)


async def _ended_at(session_id: str, n: int) -> bool:
    """True if the session's event ``n`` is its ``session_complete`` (a client at ``n`` has its end)."""
    if n <= 0:
        return False
    events = await hub.replay(session_id, n - 1)
    return bool(events) and events[0].n == n and events[0].kind == "session_complete"


class _Writer:
    """Turns what a stream has to say into SSE text, keeping each session's position exactly.

    ``pos[session]`` is the number of the last stored event of that session the client has (from
    its ``Last-Event-ID``, an ``initial_state`` or an event written here); the SSE id of every
    stored event and snapshot lists those positions in django-eventstream's format,
    ``session-<id>:<n>`` joined by commas. An event at or below a position is a duplicate and is
    skipped; one beyond the next is a gap, filled from the replay window or, when the window no
    longer covers it, by a fresh ``initial_state``. A session leaves the id only once its last event
    (``session_complete``, or an ``initial_state`` of a finished session, which includes it) was
    written on this connection.
    """

    def __init__(self, ctx: StreamContext):
        self.ctx = ctx
        self.pos: dict[str, int] = {}
        self.finished: set[str] = set()
        self.created_up_to: int | None = None  # user stream: every session created up to this is known
        self.user_channel = make_id({user_channel(ctx.user_id): 0})[:-2]

    async def start(self) -> bytes:
        """The first thing the stream sends: replay for the sessions the client can resume, a fresh
        ``initial_state`` for the others it should know (the user's active sessions, or the one).

        Every session the connection follows is in the id of every event from the first on: a
        session resumed at the client's number, a session still to get its ``initial_state`` at 0
        ("nothing yet"). An id written before another session's part of this answer must still
        name that session, or a client cut off in between would resume without it and never hear
        of it again; at 0, a reconnect gets that session's events from its first (or, beyond the
        window, its ``initial_state``), which is exactly what the client lacks.
        """
        replays = {}
        fresh = []
        for sid, last in self.ctx.resume.items():
            self.pos[sid] = last
            events = await hub.replay(sid, last)
            if events is None:
                fresh.append(sid)
            else:
                replays[sid] = events
        started = set()
        if self.ctx.session_id:
            candidates = [self.ctx.session_id]
        else:
            candidates, self.created_up_to, started = await sync_to_async(_then_close)(
                _stream_sessions, self.ctx.target_user, self.ctx.since)
        for sid in candidates:
            if sid not in self.ctx.resume:
                self.pos[sid] = 0
                fresh.append(sid)
        parts = [self._stored(e) for events in replays.values() for e in events]
        for sid in fresh:
            if self.ctx.listening and sid in started:
                # Started while the connection listened: its events from the first, while the window
                # has them, as a held stream gets them. Not an initial_state: one taken after the
                # session ended (stopped within moments of its start) holds its end, and the client
                # would never get that session's session_complete.
                parts.append(await self._catch_up(sid))
            else:
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
                    parts.append(env.frame(self.ctx.compress, self.ctx.ticks, self.ctx.node_diagnostics))
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
        if env.kind == "session_complete":
            self.finished.add(sid)
        else:  # an interrupted session that was resumed goes on after its session_complete
            self.finished.discard(sid)
        if not self._wanted(env.kind):
            return b""
        event_id = self._id(also=sid)
        return b"".join((env.head(), event_id.encode(), env.tail(self.ctx.compress)))

    def _wanted(self, kind: str) -> bool:
        return self.ctx.kinds is None or kind in self.ctx.kinds or kind in ALWAYS_SENT

    def _id(self, also: str | None = None) -> str:
        """``session-<id>:<n>`` per session, comma-separated (django-eventstream's ``make_id``), after
        ``user-<user_id>:<created_up_to>`` on a user's stream."""
        pairs = [f"{channel_in_id(s)}:{n}" for s, n in self.pos.items() if s not in self.finished or s == also]
        if self.created_up_to is not None:
            pairs.insert(0, f"{self.user_channel}:{self.created_up_to}")
        return ",".join(pairs)

    async def _initial_state(self, sid: str) -> str:
        """A fresh snapshot of ``sid``, then any published event it does not include yet."""
        state = await sync_to_async(_then_close)(_initial_state, sid)
        last = int(state.get("last_event_id") or 0)
        self.pos[sid] = last
        self.finished.discard(sid)
        body = initial_state_body({**state, "session_id": sid}, self.ctx.compress)
        parts = [sse_frame("initial_state", body, self._id()).encode()]
        if state["status"] in lifecycle.FINAL:  # it includes the session's last event: nothing more comes
            self.finished.add(sid)
        events, _ = hub.window(sid)
        parts.extend(self._stored(e) for e in events if e.n > last)
        return b"".join(parts)


def _then_close(fn, *args):
    """Run ``fn`` and close this thread's database connection: an open stream must not keep one."""
    try:
        return fn(*args)
    finally:
        connection.close()


def _initial_state(session_id: str) -> dict:
    return snapshots.initial_state(session_id)


def _stream_sessions(user, since):
    return snapshots.stream_sessions(user, since)


# -- tokens for ?token= ---------------------------------------------------------------------------


class StreamTokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Put it in the stream URL as ?token=...")
    expires_in = serializers.IntegerField(help_text="Seconds during which a stream may be opened with it.")
    user_id = serializers.CharField()


class StreamTokenView(BodylessView):
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
