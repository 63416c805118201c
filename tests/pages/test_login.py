"""Logging in and out: `/` is the login page for a visitor and the dashboard for a user; the pages carry
a Content-Security-Policy without inline scripts and serve their libraries from this origin."""

import httpx
import pytest

from tests.pages.conftest import PASSWORDS, screenshots

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_a_visitor_gets_the_login_page_at_root_and_a_wrong_password_is_refused(open_page, alice):
    page = open_page(None, "/")
    assert page.get_by_role("heading", name="Log in").is_visible()
    screenshots(page, "login")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("not-her-password")
    page._expect_4xx = True  # the refused login answers 200 with the form again; nothing else may fail
    page.get_by_role("button", name="Log in").click()
    assert page.get_by_role("alert").inner_text().startswith("Please enter a correct username and password")
    assert page.get_by_role("heading", name="Log in").is_visible()


def test_owner_logs_in_to_the_dashboard_and_out_again(open_page, pages_server, alice):
    page = open_page(alice, "/")
    assert page.url == pages_server.url("/")
    assert page.get_by_role("heading", name="Your sessions").is_visible()
    assert page.locator(".site-user-name").inner_text() == "alice"
    assert page.get_by_role("link", name="Admin").count() == 0
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(pages_server.url("/login/"))
    page.goto(pages_server.url("/"))
    assert page.get_by_role("heading", name="Log in").is_visible()


def test_staff_sees_the_admin_link_and_another_user_sees_only_their_name(open_page, bob, charlie):
    staff = open_page(charlie, "/")
    assert staff.get_by_role("link", name="Admin").is_visible()
    other = open_page(bob, "/")
    assert other.locator(".site-user-name").inner_text() == "bob"
    assert other.get_by_role("link", name="Admin").count() == 0


def test_pages_have_a_csp_without_inline_scripts_and_local_libraries(pages_server, alice):
    with httpx.Client(base_url=pages_server.base, timeout=10) as client:
        login = client.get("/login/")
        policy = login.headers["content-security-policy"]
        directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
        assert directives["script-src"] == "'self'"
        assert "'unsafe-inline'" not in policy and "http" not in policy
        assert "<script>" not in login.text
        for path in ("/static/vendor/lightweight-charts/lightweight-charts.standalone.production.mjs",
                     "/static/vendor/elkjs/elk.bundled.js", "/static/livesim/format.js",
                     "/static/livesim/stream-client.js"):
            assert client.get(path).status_code == 200, path
        # Logging in needs the CSRF token: a form post without it is refused.
        refused = client.post("/login/", data={"username": "alice", "password": PASSWORDS["alice"]})
        assert refused.status_code == 403


def test_the_api_docs_and_the_admin_work_under_the_csp(open_page, pages_server, charlie):
    """The policy applies to every page: Swagger UI and the admin must still run without console errors."""
    page = open_page(charlie, "/api/docs/")
    page.locator(".swagger-ui .info .title").wait_for()
    assert "Live trading simulation API" in page.locator(".swagger-ui .info .title").inner_text()
    page.goto(pages_server.url("/admin/"))
    assert page.get_by_role("heading", name="Site administration").is_visible()
