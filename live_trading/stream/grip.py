"""Streams held by a GRIP front (Pushpin) instead of this process (``GRIP_URL``; docs/deployment.md).

With a front, a stream request reaches the app signed by Pushpin (``Grip-Sig``). The app answers it
as it answers any stream, with the same ``_Writer`` (replay after ``Last-Event-ID``, ``initial_state``
s, ids naming every followed session), but as one ordinary response: that body plus instructions
for Pushpin to hold the connection open (``Grip-Hold: stream``) on the channels of the sessions it
follows. The app keeps no socket, task or listener for it. Events then go from the session's process
to Pushpin (``GripPublisher``), once per channel, and Pushpin writes them to every held connection:

* ``s.<session>.<c|p>``: a session's stored events, compressed or plain (``?compress=0``), Pushpin
  item id ``n``, previous id ``n - 1``. Pushpin checks the chain per connection: an event that does not
  follow what the connection has (missed while it was being set up, a lost publish, a full client
  buffer) makes it ask the app's next link with the number it has (``Grip-Last``), and the app
  answers with the missed events from the replay window (or a fresh ``initial_state``), exactly as
  for a reconnect.
* ``t.<session>.<f|k>[n]``: its ``tick_update``, without ids (never replayed, coalesced as always), in
  the form the connection asked for: the seeds' list of open positions or ``?ticks=compact``'s map, and
  (``n``) with ``?node_diagnostics=1``'s condition values (a tick has no compressed field, so
  ``?compress=`` does not change it).
* ``u.<user>``: a hint, sent when one of the user's sessions starts, changes status or ends; a user
  stream then asks the next link, which adds a new session (its ``initial_state`` or first events)
  and drops an ended one, as a reconnect with the stream's id would.

The SSE id differs per connection (the sessions it follows, the user's watermark), so an event's
content says ``id: %I`` and Pushpin's ``build-id`` filter writes the connection's id from its
``id_format`` (``user-<user>:<t>,session-<a>:%(s.<a>.c)s,...``) with the numbers it tracks per
channel. ``?event_type=`` is Pushpin's ``skip-users`` filter: the connection's meta ``user`` is its
filter name and each event lists the filter names that do not want it. A heartbeat is Pushpin's
keep-alive, sent after ``STREAM_HEARTBEAT_MS`` of silence less a random 0-999 ms (Pushpin spreads the
keep-alives of many connections); its ``timestamp`` is the time the app last answered for the connection.
"""

from __future__ import annotations

import json
import logging
import time

import httpx
from django.conf import settings
from django.core import signing
from django.http import HttpResponse
from gripcontrol import validate_sig

from live_trading.stream.channels import channel_in_id
from live_trading.stream.channels import user_channel as user_stream_channel
from live_trading.stream.events import ALWAYS_SENT, FILTERS, TICK_FORMS, dumps, now_iso, sse_frame
from live_trading.stream.hub import Envelope, Outbox

log = logging.getLogger(__name__)

NEXT_SALT = "live_trading.stream.grip.next"
BATCH_BYTES = 512 * 1024  # per publish request; Pushpin's push_in_http_max_body_size is set above it
HINTED_KINDS = frozenset({"session_status", "session_complete"})


def stored_channel(session_id: str, compress: bool) -> str:
    return f"s.{session_id}.{'c' if compress else 'p'}"


def tick_channel(session_id: str, ticks: str, node_diagnostics: bool) -> str:
    """The channel of a session's ticks in the form ``ticks`` (``events.TICK_FORMS``), with or without
    ``node_diagnostics``."""
    return f"t.{session_id}.{'k' if ticks == 'compact' else 'f'}{'n' if node_diagnostics else ''}"


def form_channel(ctx) -> str:
    """A channel no event is published to, naming the form a connection asked for (``hold``)."""
    return f"f.{'c' if ctx.compress else 'p'}.{ctx.ticks}.{int(ctx.node_diagnostics)}.{ctx.event_type}"


def user_channel(user_id: str) -> str:
    return f"u.{user_id}"


def from_front(request) -> bool:
    """True if ``request`` came through the configured front: its ``Grip-Sig`` verifies with ``GRIP_KEY``."""
    if not settings.GRIP_URLS:
        return False
    sig = request.headers.get("Grip-Sig")
    return bool(sig) and validate_sig(sig, settings.GRIP_KEY)


# -- publishing ----------------------------------------------------------------------------------


def _skipped_by(kind: str) -> str:
    """The ``?event_type=`` filter names that do not want ``kind`` (Pushpin's ``skip_users``)."""
    if kind in ALWAYS_SENT:
        return ""
    return ",".join(name for name, kinds in FILTERS.items() if kinds is not None and kind not in kinds)


def items_for(env: Envelope) -> list[dict]:
    """Pushpin publish items for one event: every form (a stored event compressed and plain, a tick
    full and compact), and a hint to the user's streams when a session's status changes."""
    items = []
    meta = {"skip_users": skip} if (skip := _skipped_by(env.kind)) else {}
    if env.n is None:
        for ticks in TICK_FORMS:
            for nodes in (False, True):
                items.append({"channel": tick_channel(env.session_id, ticks, nodes),
                              "formats": {"http-stream": {"content": env.frame(False, ticks, nodes).decode()}}})
    else:
        for compress in (True, False):
            # build-id writes the connection's id at %I and reads %% as %
            content = (env.head() + b"%I" + env.tail(compress).replace(b"%", b"%%")).decode()
            items.append({"channel": stored_channel(env.session_id, compress), "id": str(env.n),
                          "prev-id": str(env.n - 1),
                          "formats": {"http-stream": {"content": content, "content-filters": ["build-id"]}}})
    if meta:
        for item in items:
            item["meta"] = meta
    if env.kind in HINTED_KINDS and env.user_id:
        items.append({"channel": user_channel(env.user_id), "formats": {"http-stream": {"action": "hint"}}})
    return items


class GripPublisher:
    """Sends this process's events to every front (``hub.front``); ``send`` returns at once.

    One thread drains an outbox (a session's newer tick replaces its older, unsent one) in batches,
    one HTTP request per batch per front. While a front does not take them, events are kept in order
    and sent again with a capped backoff (as ``redis_bus`` does).
    """

    def __init__(self, urls: list[str]):
        self.urls = [u.rstrip("/") + "/publish/" for u in urls]
        self._outbox = Outbox("stream-grip-publisher", self._run)
        self.sent = 0
        self.failures = 0

    def send(self, env: Envelope) -> None:
        self._outbox.put(env)

    def flush(self, timeout: float) -> bool:
        """Wait until everything queued was handed to the fronts (at most ``timeout`` s)."""
        return self._outbox.flush(timeout)

    def _run(self) -> None:
        client = httpx.Client(timeout=httpx.Timeout(5.0, connect=2.0))
        backoff, down_since = 0.05, None
        while True:
            batch = self._outbox.take()
            try:
                for body in _bodies(batch):
                    for url in self.urls:
                        client.post(url, content=body, headers={"Content-Type": "application/json"}).raise_for_status()
            except httpx.HTTPError as exc:
                # Kept and sent again: a hint must not be lost (a user stream would never hear of a new
                # session); a stored event a front got twice only makes it check with the app.
                self.failures += 1
                if down_since is None:
                    down_since = time.monotonic()
                    log.warning("stream: could not publish to the front (%s); keeping events to send when it is back",
                                exc)
                self._outbox.put_back(batch)
                time.sleep(backoff)
                backoff = min(backoff * 2, 1.0)
                continue
            self._outbox.done()
            self.sent += len(batch)
            if down_since is not None:
                log.warning("stream: the front takes events again after %.1fs", time.monotonic() - down_since)
                down_since = None
            backoff = 0.05


def _bodies(batch: list[Envelope]):
    """``{"items": [...]}`` request bodies of at most about ``BATCH_BYTES`` each, in order."""
    parts, size = [], 0
    for env in batch:
        for item in items_for(env):
            text = json.dumps(item, separators=(",", ":"))
            if parts and size + len(text) > BATCH_BYTES:
                yield ('{"items":[' + ",".join(parts) + "]}").encode()
                parts, size = [], 0
            parts.append(text)
            size += len(text) + 1
    if parts:
        yield ('{"items":[' + ",".join(parts) + "]}").encode()


# -- holding a stream ----------------------------------------------------------------------------


def next_token(user, ctx, created_up_to: int | None) -> str:
    """What the next link needs to answer for the connection without its credentials: who, what,
    in which form, and the user stream's watermark. Signed; stops working when the password changes."""
    return signing.dumps({"u": user.pk, "h": user.get_session_auth_hash()[:16], "c": int(ctx.compress),
                          "k": ctx.event_type, "t": ctx.ticks, "n": int(ctx.node_diagnostics), "w": created_up_to}, salt=NEXT_SALT, compress=True)


def read_next_token(token: str) -> dict | None:
    try:
        return signing.loads(token, salt=NEXT_SALT)
    except signing.BadSignature:
        return None


def user_of(payload: dict):
    """The active user a next-link token names, if its password did not change since; else None."""
    from django.contrib.auth import get_user_model
    from django.utils.crypto import constant_time_compare

    user = get_user_model().objects.filter(pk=payload.get("u"), is_active=True).first()
    if user is None or not constant_time_compare(user.get_session_auth_hash()[:16], payload.get("h", "")):
        return None
    return user


def last_event_id_from(grip_last: str, user_id: str | None, watermark: int | None) -> str:
    """The ``Last-Event-ID`` a connection's ``Grip-Last`` header amounts to (the numbers Pushpin has
    per session channel, plus the user stream's watermark)."""
    pairs = [f"{user_stream_channel(user_id)}:{watermark}"] if user_id and watermark is not None else []
    for part in grip_last.split(","):
        channel, _, params = part.strip().partition(";")
        name, _, last = params.strip().partition("=")
        kind, _, rest = channel.strip().partition(".")
        session_id, _, _form = rest.rpartition(".")
        if kind == "s" and name == "last-id" and session_id:
            pairs.append(f"{channel_in_id(session_id)}:{last.strip()}")
    return ",".join(pairs)


def hold(body: bytes, *, path: str, ctx, following: list[tuple[str, int]], ids_in_format: str,
         token: str) -> HttpResponse:
    """``body``, and the instructions for Pushpin to hold the connection on the channels of ``following``
    (``(session_id, number the client has)`` each), with ``path?grip=<token>`` as its next link.

    ``ids_in_format`` is the user stream's watermark pair (or ""), put before the sessions' pairs.
    """

    channels, pairs = [], [ids_in_format] if ids_in_format else []
    filters = "; filter=build-id" + ("; filter=skip-users" if ctx.event_type != "all" else "")
    for sid, last in following:
        channel = stored_channel(sid, ctx.compress)
        channels.append(f"{channel}; prev-id={last}{filters}")
        channels.append(tick_channel(sid, ctx.ticks, ctx.node_diagnostics) + ("; filter=skip-users" if ctx.event_type != "all" else ""))
        pairs.append(f"{channel_in_id(sid)}:%({channel})s")
    if not ctx.session_id:
        channels.append(user_channel(ctx.user_id))
    # Pushpin shares one next-link request among connections whose links have the same path (the query,
    # where the token says the form, is not compared) and the same Grip-Last headers: a compact-tick or
    # plain stream would be answered for a full or compressed one. A channel named by the form, with a
    # prev-id and never published to, puts the form in Grip-Last.
    channels.append(f"{form_channel(ctx)}; prev-id=0")
    response = HttpResponse(body, content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["Grip-Hold"] = "stream"
    response["Grip-Channel"] = ", ".join(channels)
    meta = {"id_format": ",".join(pairs)}
    if ctx.event_type != "all":
        meta["user"] = ctx.event_type
    response["Grip-Set-Meta"] = ", ".join(f'{k}="{v}"' for k, v in meta.items())
    response["Grip-Link"] = f"<{path}?grip={token}>; rel=next"
    heartbeat = sse_frame("heartbeat", dumps({"timestamp": now_iso()})).replace("\\", "\\\\").replace("\n", "\\n")
    seconds = max(1, round(settings.STREAM_HEARTBEAT_MS / 1000))
    response["Grip-Keep-Alive"] = f"{heartbeat}; format=cstring; timeout={seconds}"
    # Pushpin's own connection to the app ends with this answer, so none stays open per stream
    response["Connection"] = "close"
    return response
