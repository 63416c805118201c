"""`make run` in a production posture: DEBUG off by default, no debug page, static files and the API
docs served by the app itself with no internet (a real daphne, DEBUG off, as `manage.py serve` runs)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
from django.contrib.staticfiles import finders

from tests.stream.conftest import server_factory  # noqa: F401  (a fixture)

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def settings_seen_by_a_fresh_process(tmp_path, **env) -> dict:
    """DEBUG and the secret key as a new process reads them from this environment."""
    environment = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRET_KEY")}
    environment.update(VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="config.settings", **env)
    code = ("import json; from django.conf import settings; "
            "print(json.dumps({'debug': settings.DEBUG, 'key': settings.SECRET_KEY}))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True,
                         check=True, timeout=60)
    return json.loads(out.stdout)


def test_debug_is_off_unless_asked_for_and_a_key_is_kept_under_var(tmp_path):
    unset = settings_seen_by_a_fresh_process(tmp_path)
    again = settings_seen_by_a_fresh_process(tmp_path)
    asked = settings_seen_by_a_fresh_process(tmp_path, DEBUG="1")

    assert unset["debug"] is False
    assert asked["debug"] is True
    assert unset["key"] == (tmp_path / "secret_key").read_text() == again["key"] == asked["key"]


@pytest.fixture(scope="module")
def server(server_factory):  # noqa: F811
    return server_factory()


def test_an_unauthenticated_oversized_body_gets_a_short_json_413(server):
    body = b'{"username": "' + b"a" * 2_700_000 + b'", "password": "x"}'  # over Django's 2.5 MB (2621440 bytes)

    response = httpx.post(server.url("/api/auth/token"), content=body,
                          headers={"Content-Type": "application/json"}, timeout=30)

    assert response.status_code == 413, response.text[:500]
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"detail": "body: larger than the 2621440 bytes a request may carry"}


def chunks(total: int, size: int = 100_000):
    """A request body sent with Transfer-Encoding: chunked (no Content-Length): ``total`` bytes of JSON."""
    yield b'{"username": "'
    left = total
    while left > 0:
        yield b"a" * min(size, left)
        left -= size
    yield b'", "password": "x"}'


def test_a_chunked_body_over_the_limit_is_a_413_too(server):
    response = httpx.post(server.url("/api/auth/token"), content=chunks(30_000_000),
                          headers={"Content-Type": "application/json"}, timeout=60)

    assert response.status_code == 413, response.text[:500]
    assert response.json() == {"detail": "body: larger than the 2621440 bytes a request may carry"}


def test_a_chunked_body_within_the_limit_is_read_like_any_other(server, alice):
    body = json.dumps({"username": "alice", "password": "alice-password-1"}).encode()

    response = httpx.post(server.url("/api/auth/token"), content=iter([body[:10], body[10:]]),
                          headers={"Content-Type": "application/json"}, timeout=30)
    wrong = httpx.post(server.url("/api/auth/token"), content=iter([b'{"username": "alice", ', b'"password": "no"}']),
                       headers={"Content-Type": "application/json"}, timeout=30)

    assert response.status_code == 200, response.text
    assert response.json()["user_id"] == alice.user_id
    assert wrong.status_code in (400, 401) and "required" not in wrong.text


def test_an_unknown_url_lists_no_routes(server):
    api = httpx.get(server.url("/api/no/such/thing"), timeout=10)
    page = httpx.get(server.url("/no/such/page"), timeout=10)

    assert api.status_code == 404
    assert api.json() == {"detail": "no such endpoint or object"}
    assert page.status_code == 404
    assert "api/v2/live" not in page.text and "admin/" not in page.text
    assert len(page.content) < 1000


class _Assets(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.urls += [value for name, value in attrs if name in ("src", "href") and value]


def test_the_api_docs_use_only_assets_the_server_serves_itself(server):
    page = httpx.get(server.url("/api/docs/"), timeout=10)
    parser = _Assets()
    parser.feed(page.text)

    assert page.status_code == 200
    # The page's own files: Swagger UI's script, preset and stylesheet, its icon, and the script that
    # starts it (served by the view itself, so the page has no inline script under the CSP).
    assert "<script>" not in page.text
    assert sorted(parser.urls) == [
        "/api/docs/?script=",
        "/static/drf_spectacular_sidecar/swagger-ui-dist/favicon-32x32.png",
        "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js",
        "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-standalone-preset.js",
        "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css",
    ]
    assert "http:" not in page.text and "https:" not in page.text and "cdn" not in page.text  # no other origin
    for url in parser.urls:
        asset = httpx.get(server.url(url), timeout=10)
        assert asset.status_code == 200, url
        if url.startswith("/api/docs/"):
            assert "SwaggerUIBundle" in asset.text and "/api/schema/" in asset.text
            continue
        assert asset.content == Path(finders.find(url.removeprefix("/static/"))).read_bytes(), url


def test_the_admins_static_files_are_served_with_debug_off(server):
    response = httpx.get(server.url("/static/admin/css/base.css"), timeout=10)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")
