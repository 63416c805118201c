"""The page fixtures (a real daphne, Debian's Chromium, logged-in tabs) of tests/pages."""

from tests.pages.conftest import browser, open_page, pages_server  # noqa: F401
