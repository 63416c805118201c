"""One end-to-end check with a real browser: headless Chromium's own EventSource, opened the way an
external frontend does (another origin, a stream token in ?token=), decompressing with the browser's
DecompressionStream. What the page saw must equal what a Python SSE client saw on the same stream."""

import json
import subprocess
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from live_trading.stream.events import decompress_fields
from tests.stream.conftest import bearer, free_port, start_session, stop_sessions

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
    """A tiny site on another origin that serves the page and receives what it reports."""

    def __init__(self, port: int, stream_url: str):
        from live_trading.stream.events import COMPRESSED_FIELDS, DEFINITIONS

        self.port = port
        self.origin = f"http://127.0.0.1:{self.port}"
        self.opened = threading.Event()
        self.result = None
        self.got_result = threading.Event()
        html = PAGE % {"kinds": json.dumps(sorted(DEFINITIONS)), "url": json.dumps(stream_url),
                       "compressed": json.dumps({k: list(v) for k, v in COMPRESSED_FIELDS.items()})}
        page = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                body = html.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
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


def test_a_browser_eventsource_sees_exactly_what_a_python_client_sees(server_factory, readers, alice, bob, charlie):
    page_port = free_port()
    server = server_factory(STREAM_ALLOW_ORIGINS=f"http://127.0.0.1:{page_port}")
    token = httpx.post(server.url("/api/live-trading/stream-token"), headers=bearer(alice), timeout=10).json()["token"]
    stream_url = server.url(f"/api/live-trading/stream/{alice.user_id}?token={token}")
    page = Page(page_port, stream_url)
    python = readers(server.url(f"/api/live-trading/stream/{alice.user_id}"), **bearer(alice))
    profile = tempfile.TemporaryDirectory(prefix="chromium-profile-")
    browser = subprocess.Popen(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         f"--user-data-dir={profile.name}", "--no-first-run", f"{page.origin}/"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        assert page.opened.wait(30), "the browser's EventSource did not open"
        session_id = start_session(server, alice, mode="backtest")
        assert page.got_result.wait(60), "the browser did not report session_complete"
        python.until(lambda e: e.event == "session_complete", timeout=30)
    finally:
        browser.terminate()
        try:
            browser.wait(10)
        except subprocess.TimeoutExpired:
            browser.kill()
        page.close()
        profile.cleanup()
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

