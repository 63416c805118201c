"""No input gives a 5xx: every endpoint's path and query parameters driven with arbitrary text.

The endpoints are read from the URL resolver, so one added later is covered with no change here.
Each is called with every method its view has, as the owner (alice) and as staff (charlie), through
Django's test client; a server error raises here (the test client re-raises it) or shows as a 5xx.
A sweep first sends each kind of value that once gave a 500 to every parameter in turn (so none is
left to chance); then Hypothesis draws arbitrary ones. Values are sent as a client sends them: percent-encoded UTF-8, a lone surrogate as its three bytes
(invalid UTF-8), so NUL bytes, lone surrogates, non-ASCII digits ("²", "٣") and 10 KB values all
arrive. Half the time a path parameter is one of alice's real ids instead, so the query parameters
reach past the 404 into the view.
"""

import re
from urllib.parse import quote

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.conftest import objects_of
from tests.conftest import client_for

# Committed data, as in tests/api/test_schema_fuzz.py: hundreds of requests inside one test transaction
# lose its connection to the pool (a harness limit, not the server's).
pytestmark = pytest.mark.django_db(transaction=True)

PARAMETER = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")
METHODS = ("get", "post", "put", "patch", "delete")
# Every query parameter some endpoint reads; each endpoint gets all of them, and one made-up name.
QUERY_NAMES = ("page", "owner", "status", "date", "compress", "export", "format", "event_type", "lastEventId",
               "token")


def api_endpoints(resolver=None, prefix=""):
    """(route, url name, view) of every URL pattern under /api/, e.g. ("api/sessions/<session_id:...>/trades", ...)."""
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from api_endpoints(pattern, route)
        elif isinstance(pattern, URLPattern) and route.startswith("api/"):
            yield route, pattern.name, pattern.callback


ENDPOINTS = sorted(api_endpoints(), key=lambda e: e[0])


def methods_of(view) -> list[str]:
    view_class = getattr(view, "view_class", None)
    if view_class is None:
        return ["get"]  # a function view (the streams): GET is its only method
    return [m for m in METHODS if hasattr(view_class, m)]


def encoded(text: str) -> str:
    return quote(text, safe="", errors="surrogatepass")


HOSTILE = ["\x00", "\ud800", "\udfff", "²", "٣", "１", "sim-\x00", "user_\x00", "-1", "9" * 400, "..", " ", ""]
# What the sweep sends to every parameter: each kind of value that once gave a 500.
SWEPT = ["\x00", "\ud800", "²", "٣", "9" * 10_000]
TEXT = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(st.characters(codec=None, exclude_categories=()), max_size=40),
    st.characters().map(lambda c: c * 10_000),
)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world(alice, bob, charlie):
    """Alice's objects (the real ids paths may take) and clients for alice and charlie (staff)."""
    ids = objects_of(alice)
    real = {"session_id": ids["session_id"], "user_id": alice.user_id,
            "object_id": {"api-strategy": ids["strategy"], "api-broker-connection": ids["broker"]}}
    return {"clients": {"owner": client_for(alice), "staff": client_for(charlie)}, "real": real}


def real_id(real: dict, converter: str, url_name: str) -> str | None:
    value = real.get(converter)
    return value.get(url_name) if isinstance(value, dict) else value


def request(world, role, method, path, query=""):
    response = world["clients"][role].generic(method.upper(), f"{path}?{query}" if query else path,
                                              data=b"{}", content_type="application/json")
    if hasattr(response, "close"):
        response.close()  # an event stream is answered but never read here
    return response


def sweep(world, route, url_name, view):
    """Every parameter in turn takes each value that once gave a 500, the others being real and valid."""
    method = methods_of(view)[0]
    query_names = list(QUERY_NAMES)
    params = [m["name"] for m in PARAMETER.finditer(route)]

    def path_with(hostile_name=None, value=""):
        def value_for(match):
            real = real_id(world["real"], match["converter"] or "str", url_name)
            if match["name"] == hostile_name or real is None:
                return encoded(value or "x")
            return real

        return "/" + PARAMETER.sub(value_for, route)

    for i, value in enumerate(SWEPT):
        role = ("owner", "staff")[i % 2]
        for name in params:
            response = request(world, role, method, path_with(name, value))
            assert response.status_code < 500, (name, value[:20], response.status_code)
        for name in query_names:
            response = request(world, role, method, path_with(), f"{name}={encoded(value)}")
            assert response.status_code < 500, (name, value[:20], response.status_code)


@pytest.mark.parametrize(("route", "url_name", "view"), ENDPOINTS, ids=[e[0] for e in ENDPOINTS])
def test_no_path_or_query_value_gives_a_server_error(world, route, url_name, view):
    sweep(world, route, url_name, view)
    methods = methods_of(view)
    query_names = list(QUERY_NAMES)

    @settings(max_examples=10, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def check(data):
        method = data.draw(st.sampled_from(methods), label="method")
        role = data.draw(st.sampled_from(["owner", "staff"]), label="as")

        def value_for(match):
            converter = match["converter"] or "str"
            real = real_id(world["real"], converter, url_name)
            # Only reads take real ids: a DELETE of alice's objects would leave the later examples nothing.
            if real is not None and method == "get" and data.draw(st.booleans(), label="real id"):
                return real
            return encoded(data.draw(TEXT, label=match["name"]))

        path = "/" + PARAMETER.sub(value_for, route)
        names = data.draw(st.lists(st.sampled_from([*query_names, "x"]), max_size=3, unique=True), label="query")
        query = "&".join(f"{name}={encoded(data.draw(TEXT, label=name))}" for name in names)

        response = request(world, role, method, path, query)

        assert response.status_code < 500, (method, path[:200], query[:200], response.status_code)

    check()


def test_every_api_url_pattern_is_fuzzed():
    # The resolver lists them; a sanity check that the walk found the session, stream and object endpoints.
    names = {name for _, name, _ in ENDPOINTS}
    assert {"live-session", "session-diagnostics", "session-trades", "live-pause", "live-resume", "live-speed",
            "live-stop", "live-stop-user", "live-dashboard", "stream-user", "stream-session",
            "stream-session-filtered", "api-strategy", "api-broker-connection", "session-list", "session-candles",
            "session-equity"} <= names
