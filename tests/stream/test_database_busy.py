"""A server whose database is busy answers 503 with Retry-After, never 500 (config/busy.py).

Found by the Pushpin benchmark: 5,000 streams opened at 200 a second outran the app's connection pool,
requests waited past ``DB_POOL_TIMEOUT`` and got psycopg_pool's ``PoolTimeout`` as a 500 (847 of 2,000
streams through Pushpin, which then ends a held stream whose catch-up request failed). Here the same
happens on purpose, on a real server: its pool holds 2 connections and gives up after 1 s, and this test
holds the tables that authentication reads (API tokens, login sessions) locked, so the first requests
keep the pool's connections while they wait for the lock and the others time out waiting for the pool.
alice opens streams, bob reads and writes through the API, charlie (staff) opens pages; every request
is answered 200/201 or 503 with the retry advice, none 500, a 503 wrote nothing, and once the lock is
released the same requests succeed.
"""

import asyncio
import json

import httpx
import psycopg
import pytest
from django.test import Client

from strategies.models import Strategy
from tests.stream.conftest import api_token, database_url_of_tests, example
from tests.waiting import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

RETRY_AFTER = "2"  # DB_BUSY_RETRY_AFTER's default

def cookie_of(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value

def requests_for(server, alice, bob, charlie) -> list[tuple[str, str, dict, bytes | None]]:
    """(method, url, headers, body) of what the three users ask at once."""
    stream = server.url(f"/api/live-trading/stream/{alice.user_id}")
    as_alice = {"Authorization": f"Bearer {api_token(alice)}", "Accept": "text/event-stream"}
    as_bob = {"Authorization": f"Bearer {api_token(bob)}", "Content-Type": "application/json"}
    as_charlie = {"Cookie": f"sessionid={cookie_of(charlie)}"}
    graph = {**example("nifty_short_straddle"), "name": "bob's busy-hour strategy"}
    return [
        *[("GET", stream, as_alice, None) for _ in range(3)],
        ("GET", server.url("/api/strategies/"), as_bob, None),
        ("POST", server.url("/api/strategies/"), as_bob, json.dumps({"name": graph["name"], "graph": graph}).encode()),
        *[("GET", server.url("/strategies/"), as_charlie, None) for _ in range(2)],
    ]

async def ask_all(requests) -> list[httpx.Response]:
    """Send every request at once; return each answer with its head (a stream's body is not read)."""
    async with httpx.AsyncClient(timeout=httpx.Timeout(60.0)) as client:
        async def one(method, url, headers, body):
            response = await client.send(client.build_request(method, url, headers=headers, content=body), stream=True)
            if "text/event-stream" not in response.headers.get("content-type", ""):
                await response.aread()
            await response.aclose()
            return response

        return await asyncio.gather(*(one(*r) for r in requests))

def test_a_busy_database_is_a_503_with_retry_after_and_nothing_written(server_factory, alice, bob, charlie):
    server = server_factory(DB_POOL_MAX="2", DB_POOL_TIMEOUT="1")
    requests = requests_for(server, alice, bob, charlie)
    bobs_before = Strategy.objects.filter(owner=bob).count()

    with psycopg.connect(database_url_of_tests()) as locker:
        locker.execute("LOCK TABLE authtoken_token, django_session IN ACCESS EXCLUSIVE MODE")
        answers = {}

        def ask():
            answers["all"] = asyncio.run(ask_all(requests))

        import threading

        asking = threading.Thread(target=ask, daemon=True)
        asking.start()
        # Two requests hold the pool's two connections, waiting for the lock; the rest give up on the pool
        # after its 1 s and are answered at once: the server's log says so.
        wait_for(lambda: server.log().count("answered 503") >= len(requests) - 2, timeout=60,
                 message=f"the requests the pool could not serve to be refused: {server.log()}")
        locker.rollback()  # the lock goes: the two waiting requests go on
    asking.join(60)
    answers = answers["all"]

    statuses = [a.status_code for a in answers]
    assert 500 not in statuses and set(statuses) <= {200, 201, 503}, statuses
    refused = [a for a in answers if a.status_code == 503]
    assert len(refused) >= len(requests) - 2, statuses
    for (method, url, _, _), answer in zip(requests, answers, strict=True):
        if answer.status_code != 503:
            continue
        assert answer.headers["Retry-After"] == RETRY_AFTER, (method, url)
        if "/api/" in url:
            assert answer.json() == {"detail": "The database is busy or out of reach; nothing was changed. "
                                               "Try again in a moment."}, url
        else:
            assert answer.headers["content-type"].startswith("text/plain"), url
            assert "busy" in answer.text
    post = answers[4]
    assert Strategy.objects.filter(owner=bob).count() == bobs_before + (1 if post.status_code == 201 else 0), \
        "a refused write wrote nothing"
    assert "Traceback" not in server.log()

    # The database free again, the same requests succeed (a stream opens; bob's strategy is made once).
    again = asyncio.run(ask_all([r for r, a in zip(requests, answers, strict=True) if a.status_code == 503]))
    assert {a.status_code for a in again} <= {200, 201}, [a.status_code for a in again]
    assert Strategy.objects.filter(owner=bob, name="bob's busy-hour strategy").count() == 1
    # and each user still sees only their own: bob's list has no one else's strategy
    with httpx.Client() as client:
        listed = client.get(server.url("/api/strategies/"), headers={"Authorization": f"Bearer {api_token(bob)}"})
    assert listed.status_code == 200
    assert {s["name"] for s in listed.json()["results"]} <= set(Strategy.objects.filter(owner=bob).values_list("name", flat=True))
