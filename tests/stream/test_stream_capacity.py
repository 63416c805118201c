"""500 open streams on one server process hold no database connections of their own."""

import asyncio
import time

import httpx
import pytest
from django.db import connection

from tests.stream.conftest import api_token, start_session, stop_sessions

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

STREAMS = 500
MAX_CONNECTIONS = 20


def connections_of(server) -> int:
    """The server process's connections to the test database (asked from a worker thread, whose own
    connection goes back to the pool at once)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                           "AND application_name = %s", [server.application_name])
            return cursor.fetchone()[0]
    finally:
        connection.close()


async def open_streams(url: str, tokens: list[str]):
    """Open one stream per token; return the client and the open responses (first chunk read)."""
    client = httpx.AsyncClient(limits=httpx.Limits(max_connections=STREAMS + 10), timeout=httpx.Timeout(60.0))
    responses = []

    async def one(token):
        request = client.build_request("GET", url, headers={"Authorization": f"Bearer {token}"})
        response = await client.send(request, stream=True)
        assert response.status_code == 200
        chunks = response.aiter_text()
        first = await anext(chunks)
        assert first.startswith("retry:")
        responses.append((response, chunks))

    for i in range(0, len(tokens), 50):
        await asyncio.gather(*(one(t) for t in tokens[i:i + 50]))
    return client, responses


async def first_session_event(chunks, session_id: str) -> str:
    buffer = ""
    async for chunk in chunks:
        buffer += chunk
        while "\n\n" in buffer:
            frame, buffer = buffer.split("\n\n", 1)
            if session_id in frame:
                return frame
    raise AssertionError("stream ended")


def test_500_open_streams_hold_no_database_connections_and_all_get_the_events(server_factory, alice, bob, charlie):
    server = server_factory(STREAM_HEARTBEAT_MS=60_000)
    url = server.url(f"/api/live-trading/stream/{alice.user_id}")
    tokens = [api_token(alice)] * STREAMS

    async def scenario():
        client, responses = await open_streams(url, tokens)
        try:
            await asyncio.sleep(0.5)
            open_connections = await asyncio.to_thread(connections_of, server)
            started = time.monotonic()
            session_id = await asyncio.to_thread(start_session, server, alice, speed=300)
            frames = await asyncio.wait_for(
                asyncio.gather(*(first_session_event(chunks, session_id) for _, chunks in responses)), timeout=60)
            delivered_in = time.monotonic() - started
            busy_connections = await asyncio.to_thread(connections_of, server)
            return open_connections, busy_connections, frames, delivered_in
        finally:
            for response, _ in responses:
                await response.aclose()
            await client.aclose()

    open_connections, busy_connections, frames, delivered_in = asyncio.run(scenario())
    stop_sessions(server, alice)

    assert open_connections <= MAX_CONNECTIONS, f"{open_connections} connections with {STREAMS} streams open"
    assert busy_connections <= MAX_CONNECTIONS, f"{busy_connections} connections with a session running"
    assert len(frames) == STREAMS and len(set(frames)) == 1  # every stream got the same first event
    assert delivered_in < 30
    assert bob.user_id not in frames[0] and charlie.user_id not in frames[0]
