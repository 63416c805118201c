"""Real pages in a real browser: daphne in a subprocess on the test database (``tests.stream.conftest.Server``),
Playwright for Python driving Debian's Chromium (never a downloaded browser).

``pages_server`` serves the product; ``browser`` is one Chromium per module; ``open_page(user)`` gives a
logged-in tab (through the real login form) that records console errors and failed requests, which
``assert_clean(page)`` (called for every tab at teardown) turns into a failure. ``screenshots(page, name)``
keeps the page at 1280 and 390 px wide in ``test-artifacts/screenshots/`` (ignored by git) to look at.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.stream.conftest import Server, database_url_of_tests

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
WIDTHS = (1280, 390)
# The user stream (dashboard) and a session's stream (session page).
STREAM_PATHS = ("/api/live-trading/stream", "/api/v2/live/stream")
PASSWORDS = {"alice": "alice-password-1", "bob": "bob-password-1", "charlie": "charlie-password-1"}

if not CHROMIUM.exists():
    pytest.skip("Debian's chromium is not installed (apt-get install chromium); the page tests need it",
                allow_module_level=True)

# Playwright's sync API keeps an event loop on this thread; the ORM calls the tests make between
# browser calls are ordinary synchronous ones.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="module")
def pages_server(django_db_setup, django_db_blocker, tmp_path_factory):
    """The product served by daphne on the test database, for one module."""
    with django_db_blocker.unblock():
        url = database_url_of_tests()
    server = Server(url, log_dir=tmp_path_factory.mktemp("server-logs"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser():
    """Headless Debian Chromium through Playwright, one per module."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox", "--disable-gpu"],
        )
        yield chromium
        chromium.close()


@dataclass
class Problems:
    """What a tab reported that a trader would call broken."""

    console_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)


def watch(page) -> Problems:
    problems = Problems()
    # Which document of the tab sent each request: the count of main-frame navigations begun before it.
    # A navigation's own request comes before the browser drops the old document's requests, so a request
    # sent by a document the tab has since left counts fewer navigations than the tab has begun.
    navigations, sent_under = [0], {}

    def on_request(request):
        if request.is_navigation_request() and request.frame == page.main_frame:
            navigations[0] += 1
        sent_under[request] = navigations[0]

    def left_behind(request) -> bool:
        return sent_under.pop(request, navigations[0]) < navigations[0]

    page.on("request", on_request)
    page.on("requestfinished", lambda r: sent_under.pop(r, None))
    page.on("console", lambda m: problems.console_errors.append(m.text)
            if m.type == "error" and not _stream_cut(m) and not _expected_4xx(page, m) else None)
    page.on("pageerror", lambda e: problems.console_errors.append(f"uncaught: {e} {e.stack}"))
    page.on("requestfailed", lambda r: problems.failed_requests.append(f"{r.method} {r.url}: {r.failure}")
            if not _expected_abort(r, left_behind(r)) else None)
    page.on("response", lambda r: problems.failed_requests.append(f"{r.request.method} {r.url}: {r.status}")
            if r.status >= 400 and not getattr(page, "_expect_4xx", False) else None)
    return problems


def _stream_cut(message) -> bool:
    # Chromium logs a stream that breaks (a test cutting it, or holding the tab offline) and its own
    # reconnection attempts; the page's reaction to that is what those tests check, as _expected_abort.
    return "net::ERR_" in message.text and any(path in (message.location or {}).get("url", "") for path in STREAM_PATHS)


def _expected_4xx(page, message) -> bool:
    # Chromium also logs a 4xx answer to the console; on a tab that expects one it is no error of the page.
    return getattr(page, "_expect_4xx", False) and "the server responded with a status of 4" in message.text


def _expected_abort(request, left_behind: bool = False) -> bool:
    # A stream the page closes (navigation, reload, going offline on purpose) ends "aborted"; so does
    # so does a static file (an icon, a stylesheet's image) still loading when the page navigates on,
    # as a form's submit does. A static file that is missing answers 404, which the response check sees.
    failure = request.failure or ""
    # The strategy pages' live check (``/api/strategies/validate``, sent as the trader types) still in
    # flight when the page moves on is dropped by the browser the same way: nothing waits for its answer.
    # So is any GET of a document the tab has left (``left_behind``: a chart's data still loading when the
    # test opens the next page); a GET of the current document that is aborted still counts.
    return ("/events/" in request.url or any(path in request.url for path in STREAM_PATHS)
            or "ERR_INTERNET_DISCONNECTED" in failure
            or ("ERR_ABORTED" in failure and request.method == "GET" and left_behind)
            or ("ERR_ABORTED" in failure and request.method == "POST" and request.url.endswith("/api/strategies/validate"))
            or ("ERR_ABORTED" in failure and request.method == "GET"
                and ("/static/" in request.url or request.url.endswith("/favicon.svg"))))


@pytest.fixture
def open_page(browser, pages_server):
    """``open_page(user, path="/", width=1280)``: a new browser context logged in as ``user`` through the
    login form, at ``path``. Every tab is checked for console errors and failed requests at teardown."""
    opened = []

    def open_(user=None, path: str = "/", width: int = 1280):
        context = browser.new_context(viewport={"width": width, "height": 900}, locale="en-IN",
                                      timezone_id="Europe/London")
        page = context.new_page()
        problems = watch(page)
        opened.append((context, page, problems))
        page.set_default_timeout(20_000)
        if user is not None:
            log_in(page, pages_server, user)
        if path is not None:
            page.goto(pages_server.url(path))
        return page

    yield open_
    try:
        for _, page, problems in opened:
            assert not problems.console_errors, f"console errors on {page.url}: {problems.console_errors}"
            assert not problems.failed_requests, f"failed requests on {page.url}: {problems.failed_requests}"
    finally:
        for context, _, _ in opened:
            context.close()


def log_in(page, server: Server, user) -> None:
    """Log in through the login page's form, as a person does."""
    page.goto(server.url("/login/"))
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORDS[user.username])
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(server.url("/"))


def screenshots(page, name: str) -> list[Path]:
    """Keep ``page`` at each width in ``WIDTHS`` as ``test-artifacts/screenshots/<name>-<width>.png``, and
    check that nothing makes the page scroll sideways at that width."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    original = page.viewport_size
    paths = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at {width}px wide"
        path = SCREENSHOTS / f"{name}-{width}.png"
        page.screenshot(path=str(path), full_page=True)
        paths.append(path)
    page.set_viewport_size(original)
    return paths
