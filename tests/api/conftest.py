"""API clients authenticated the way external frontends are: a Bearer token per user."""

import copy

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

# A small valid graph, written by hand from docs/strategies.md: sell one lot of the ATM weekly call at 09:20.
GRAPH = {
    "format_version": 1,
    "name": "ATM short call",
    "nodes": [
        {
            "id": "start",
            "type": "start",
            "config": {"underlying": "NIFTY", "start_time": "09:20", "square_off_time": "15:15"},
        },
        {
            "id": "sell-ce",
            "type": "entry",
            "config": {
                "instrument": "option",
                "expiry": "current_weekly",
                "strike": {"rule": "atm", "offset": 0},
                "right": "CE",
                "side": "sell",
                "lots": 1,
            },
        },
    ],
    "edges": [{"from": "start", "to": "sell-ce"}],
}


def graph(**changes):
    """Return a fresh copy of GRAPH with top-level ``changes``."""
    g = copy.deepcopy(GRAPH)
    g.update(changes)
    return g


def client_for(user) -> APIClient:
    """Return a client that sends ``Authorization: Bearer <user's token>``."""
    token, _ = Token.objects.get_or_create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token.key}")
    return client


@pytest.fixture
def anonymous():
    return APIClient()


@pytest.fixture
def as_alice(alice):
    return client_for(alice)


@pytest.fixture
def as_bob(bob):
    return client_for(bob)


@pytest.fixture
def as_charlie(charlie):
    return client_for(charlie)
