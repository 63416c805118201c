"""One end-to-end check with a real browser: headless Chromium's own EventSource, opened the way an
external frontend does (another origin, a stream token in ?token=), decompressing with the browser's
DecompressionStream. What the page saw must equal what a Python SSE client saw on the same stream."""

import json
import subprocess
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from live_trading.stream.events import decompress_fields
from tests.stream.clients import FINAL, assert_same_state, fresh_state
from tests.stream.conftest import bearer, free_port, start_session, stop_sessions
from tests.waiting import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip("Debian's chromium is not installed (apt-get install chromium); the browser check needs it",
                allow_module_level=True)

PAGE = """<!doctype html>
<meta charset="utf-8">
<title>stream check</title>
<script>
const KINDS = %(kinds)s;
const COMPRESSED = %(compressed)s;
const seen = [];
async function gunzip(text) {
  const bytes = Uint8Array.from(atob(text), c => c.charCodeAt(0));
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  return JSON.parse(await new Response(stream).text());
}
function post(path, body) {
  return fetch(path, {method: "POST", body: JSON.stringify(body)});
}
let chain = Promise.resolve();
const source = new EventSource(%(url)s);
source.onopen = () => post("/opened", {});
for (const kind of KINDS) {
  source.addEventListener(kind, (event) => {
    const lastEventId = event.lastEventId;
    chain = chain.then(async () => {
      const data = JSON.parse(event.data);
      for (const field of COMPRESSED[kind] || []) {
        if (typeof data[field] === "string") data[field] = await gunzip(data[field]);
      }
      seen.push({kind, lastEventId, data});
      if (kind === "session_complete") {
        source.close();
        await post("/result", seen);
      }
    });
  });
}
</script>
"""


class Page:
    """A tiny site on another origin that serves the page (and ``files``: path -> a local file, or a
    function returning (body, content type)) and receives what it reports: POST /opened, POST /result."""

    def __init__(self, port: int, html: str, files: dict | None = None):
        self.port = port
        self.origin = f"http://127.0.0.1:{self.port}"
        self.opened = threading.Event()
        self.result = None
        self.got_result = threading.Event()
        files = files or {}
        page = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path in files:
                    served = files[self.path]
                    body, kind = served() if callable(served) else (served.read_bytes(), "text/javascript")
                else:
                    body, kind = html.encode(), "text/html; charset=utf-8"
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if self.path == "/opened":
                    page.opened.set()
                else:
                    page.result = json.loads(body)
                    page.got_result.set()
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def open_chromium(url: str):
    """Headless Debian Chromium on ``url``, with a throwaway profile; returns a function that closes both."""
    profile = tempfile.TemporaryDirectory(prefix="chromium-profile-")
    browser = subprocess.Popen(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-quic", "--disable-component-update", "--disable-sync", f"--user-data-dir={profile.name}",
         "--no-first-run", url],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )

    def close():
        browser.terminate()
        try:
            browser.wait(10)
        except subprocess.TimeoutExpired:
            browser.kill()
        profile.cleanup()

    return close


def test_a_browser_eventsource_sees_exactly_what_a_python_client_sees(server_factory, readers, alice, bob, charlie):
    page_port = free_port()
    server = server_factory(STREAM_ALLOW_ORIGINS=f"http://127.0.0.1:{page_port}")
    token = httpx.post(server.url("/api/live-trading/stream-token"), headers=bearer(alice), timeout=10).json()["token"]
    stream_url = server.url(f"/api/live-trading/stream/{alice.user_id}?token={token}")
    from live_trading.stream.events import COMPRESSED_FIELDS, DEFINITIONS

    page = Page(page_port, PAGE % {"kinds": json.dumps(sorted(DEFINITIONS)), "url": json.dumps(stream_url),
                                   "compressed": json.dumps({k: list(v) for k, v in COMPRESSED_FIELDS.items()})})
    python = readers(server.url(f"/api/live-trading/stream/{alice.user_id}"), **bearer(alice))
    close_browser = open_chromium(f"{page.origin}/")
    try:
        assert page.opened.wait(30), "the browser's EventSource did not open"
        session_id = start_session(server, alice, mode="backtest")
        assert page.got_result.wait(60), "the browser did not report session_complete"
        python.until(lambda e: e.event == "session_complete", timeout=30)
    finally:
        close_browser()
        page.close()
        for user in (alice, bob, charlie):
            stop_sessions(server, user)

    expected = [{"kind": e.event, "lastEventId": e.last_event_id or "", "data": decompress_fields(e.event, e.json)}
                for e in python.events if e.event != "heartbeat"]
    seen = [x for x in page.result if x["kind"] != "heartbeat"]
    for x in seen:
        x["data"].pop("uncompressed_sizes", None)  # what decompress_fields drops: sizes of what was compressed
    assert {x["data"]["session_id"] for x in seen} == {session_id}
    assert [(x["kind"], x["lastEventId"]) for x in seen] == [(x["kind"], x["lastEventId"]) for x in expected]
    assert seen == expected
    assert any(x["kind"] == "trade_update" for x in seen)



# -- two sessions through a connection that keeps breaking -------------------------------------------

CLIENT_JS = Path(__file__).resolve().parents[2] / "static" / "livesim" / "stream-client.js"

FOLLOW_PAGE = """<!doctype html>
<meta charset="utf-8">
<title>stream client check</title>
<script type="module">
import {follow} from "/stream-client.js";
let opened = 0, reported = false;
const errors = [];
const client = follow(%(url)s, {
  onChange(sessionId, session) {
    const all = [...client.sessions.values()];
    if (reported || client.sessions.size < %(sessions)d || !all.every((s) => %(final)s.includes(s.status))) return;
    reported = true;
    client.close();
    fetch("/result", {method: "POST", body: JSON.stringify({opened, errors, reopened: client.reopened,
      sessions: Object.fromEntries([...client.sessions].map(([id, s]) => [id, s]))})});
  },
  onError(error, kind) { errors.push(`${kind}: ${error}`); },
  onOpen() { opened += 1; fetch("/opened", {method: "POST", body: "{}"}); },
  reopen: async () => (await (await fetch("/token")).json()).url,  // the stream token expired: a new one
});
</script>
"""


class CuttingProxy:
    """A TCP proxy in front of the server that drops each connection after a random number of response
    body bytes (chunk framing included), ``cuts`` times; after that it only forwards."""

    def __init__(self, target_port: int, cuts: int, seed: int):
        import asyncio
        import random

        self.target_port = target_port
        self.left = cuts
        self.cut = 0
        self.open = set()
        self.rng = random.Random(seed)
        self.loop = asyncio.new_event_loop()
        started = threading.Event()

        async def serve():
            # Port 0: the kernel picks a free port, which no other process can take before the bind.
            self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
            self.port = self.server.sockets[0].getsockname()[1]
            started.set()

        threading.Thread(target=lambda: (self.loop.run_until_complete(serve()), self.loop.run_forever()),
                         daemon=True).start()
        assert started.wait(10)

    async def _handle(self, client_reader, client_writer):
        import asyncio

        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self.open.add(client_writer)
        budget = None
        if self.left > 0:
            self.left -= 1
            budget = self.rng.randint(1, 600) if self.rng.random() < 0.5 else self.rng.randint(600, 40_000)

        async def pump(reader, writer, limit):
            head = b""
            try:
                while data := await reader.read(4096):
                    if limit is not None and b"\r\n\r\n" not in head:
                        # Count from the body: a response cut inside its head is not a stream that broke
                        # but a server that never answered, which EventSource rightly gives up on.
                        head += data
                        if b"\r\n\r\n" not in head:
                            writer.write(data)
                            continue
                        body_start = head.index(b"\r\n\r\n") + 4 - (len(head) - len(data))
                        limit += body_start
                    if limit is not None and len(data) >= limit:
                        writer.write(data[:limit])
                        await writer.drain()
                        self.cut += 1
                        break
                    if limit is not None:
                        limit -= len(data)
                    writer.write(data)
                    await writer.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                self.open.discard(client_writer)
                for w in (client_writer, upstream_writer):
                    w.close()

        await asyncio.gather(pump(client_reader, upstream_writer, None), pump(upstream_reader, client_writer, budget))

    def drop_all(self):
        """Drop every connection open now, as a network change would."""
        def drop():
            for writer in list(self.open):
                writer.transport.abort()
        self.loop.call_soon_threadsafe(drop)

    def close(self):
        self.loop.call_soon_threadsafe(self.server.close)
        self.loop.call_soon_threadsafe(self.loop.stop)


def test_the_js_client_follows_two_sessions_through_forced_disconnects(server_factory, alice, bob, charlie):
    import random


    page_port = free_port()
    # Stream tokens last 10 s here (the least allowed): once the first has expired, the proxy drops every
    # connection, the browser's own reconnect fails (401), and the client must ask the page for a new
    # token and reopen from the last id it saw.
    server = server_factory(STREAM_ALLOW_ORIGINS=f"http://127.0.0.1:{page_port}", STREAM_RETRY_MS=100,
                            STREAM_HEARTBEAT_MS=500, STREAM_TOKEN_MAX_AGE=10)
    seed = random.randrange(10**9)
    proxy = CuttingProxy(server.port, cuts=25, seed=seed)
    alices = bearer(alice)

    def stream_url():
        token = httpx.post(server.url("/api/live-trading/stream-token"), headers=alices, timeout=10).json()["token"]
        return f"http://127.0.0.1:{proxy.port}/api/live-trading/stream/{alice.user_id}?token={token}"

    first = start_session(server, alice, speed=1000)
    bobs = start_session(server, bob, speed=1000)  # not alice's: never on her page
    first_url, issued = stream_url(), time.monotonic()
    page = Page(page_port, FOLLOW_PAGE % {"url": json.dumps(first_url), "sessions": 2, "final": json.dumps(FINAL)},
                files={"/stream-client.js": CLIENT_JS,
                       "/token": lambda: (json.dumps({"url": stream_url()}).encode(), "application/json")})
    close_browser = open_chromium(f"{page.origin}/")
    try:
        assert page.opened.wait(30), "the browser's EventSource did not open"
        second = start_session(server, alice, strategy_name="nifty_rsi_reversal", speed=1000)
        wait_for(lambda: time.monotonic() > issued + 10.5, timeout=30, message="the first stream token to expire")
        proxy.drop_all()
        assert page.got_result.wait(120), f"the page did not see both sessions end (seed {seed}, {proxy.cut} cuts)"
    finally:
        close_browser()
        page.close()
        proxy.close()
        for user in (alice, bob, charlie):
            stop_sessions(server, user)

    result = page.result
    assert result["errors"] == []
    assert proxy.cut >= 10 and result["opened"] > proxy.cut // 2, (proxy.cut, result["opened"], seed)
    assert result["reopened"] >= 1, "no reconnect outlived its token: the renewal path was not taken"
    assert set(result["sessions"]) == {first, second} and bobs not in result["sessions"]
    for sid, seen in result["sessions"].items():
        mine = {"events_history": seen["eventsHistory"], "current_state": seen["currentState"], "trades": seen["trades"],
                "positions": {(p["position_id"], p["re_entry_num"]): p for p in seen["positions"].values()},
                "status": seen["status"]}
        assert_same_state(mine, fresh_state(server, charlie, sid))  # staff reads alice's sessions too
