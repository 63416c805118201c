"""One trade, one shape: a finished session's trades are the same dicts on the stream, in its
``initial_state``, in the REST trade list and, as text, in the CSV export.

A two-day straddle through a real daphne server, read by a real SSE client: its trades include
re-entries (``re_entry_num`` 1 and 2) and, on the second day, second positions (``position_num`` 2).
"""

import csv
import io

import httpx
import pytest

from live_trading.stream.events import check
from sessions_app.models import SimulationSession
from tests.stream.clients import plain
from tests.stream.conftest import bearer, setup_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

FIRST, LAST = "2024-10-29", "2024-10-30"
# What a position and the trade that closed it say alike (the position event is the close's).
SHARED_WITH_POSITION = ("position_id", "re_entry_num", "entry_node_id", "symbol", "side", "entry_price",
                        "entry_time", "exit_price", "exit_time", "entry_flow_ids", "entry_trigger", "exit_reason")


@pytest.fixture(scope="module")
def server(server_factory):
    return server_factory()


def start_two_days(server, user) -> str:
    strategy, broker = setup_for(user)
    body = {"strategy_id": str(strategy.id), "broker_connection_id": str(broker.id), "date": FIRST, "to": LAST,
            "mode": "backtest"}
    r = httpx.post(server.url("/api/v2/live/start"), json=body, headers=bearer(user), timeout=30)
    assert r.status_code == 201, r.text
    return r.json()["session_id"]


def rest_trades(server, user, session_id) -> list[dict]:
    url, trades = server.url(f"/api/sessions/{session_id}/trades"), []
    while url:
        page = httpx.get(url, headers=bearer(user), timeout=30)
        assert page.status_code == 200, page.text
        trades += page.json()["results"]
        url = page.json()["next"]
    return trades


def initial_state_trades(server, readers, user, session_id) -> list[dict]:
    stream = readers(server.url(f"/api/v2/live/stream/{session_id}"), **bearer(user))
    assert stream.status == 200
    (state,) = [e for e in stream.until(lambda e: e.event == "initial_state") if e.event == "initial_state"]
    check(state.event, state.json, compressed=True)
    return plain(state)["trades"]["trades"]


def as_text(trade: dict) -> dict:
    """A trade dict as the CSV export writes it (docs/protocol.md): each value as text, flow ids
    separated by spaces."""
    return {k: " ".join(v) if isinstance(v, list) else str(v) for k, v in trade.items()}


def test_a_finished_sessions_trades_are_the_same_dicts_everywhere(server, readers, alice, bob, charlie):
    events = readers(server.url(f"/api/live-trading/stream/{alice.user_id}"), **bearer(alice))
    session_id = start_two_days(server, alice)
    events.until(lambda e: e.event == "session_complete" and e.json["session_id"] == session_id, timeout=120)

    streamed = [plain(e)["trades"]["trade"] for e in events.events if e.event == "trade_update"]
    closes = {(p["execution_id"], p["position"]["position_id"], p["position"]["re_entry_num"]): p
              for p in map(plain, events.events) if p.get("event_type") == "position_event" and p["action"] != "entry"}
    from_final_state = initial_state_trades(server, readers, alice, session_id)
    # As a process that did not run it sees a session that left no final snapshot: from its rows.
    SimulationSession.objects.filter(pk=session_id).update(final_state=None)
    from_rows = initial_state_trades(server, readers, alice, session_id)
    listed = rest_trades(server, alice, session_id)
    exported = httpx.get(server.url(f"/api/sessions/{session_id}/trades?export=csv"), headers=bearer(alice), timeout=30)

    assert {(t["re_entry_num"], t["position_num"]) for t in streamed} >= {(0, 1), (1, 1), (2, 1), (0, 2), (1, 2)}
    assert listed == streamed
    assert from_final_state == streamed
    assert from_rows == streamed
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert list(rows[0]) == list(streamed[0])
    assert rows == [as_text(t) for t in streamed]
    for trade in streamed:
        assert trade["position_id"] == f"{trade['entry_node_id']}-pos{trade['position_num']}"
        close = closes[(trade["exit_flow_ids"][-1], trade["position_id"], trade["re_entry_num"])]
        assert close["quantity"] == trade["quantity"]
        assert {k: close["position"][k] for k in SHARED_WITH_POSITION} == {k: trade[k] for k in SHARED_WITH_POSITION}
    # Staff read the same trades; another user finds no such session.
    assert rest_trades(server, charlie, session_id) == streamed
    for path in (f"/api/sessions/{session_id}/trades", f"/api/sessions/{session_id}/trades?export=csv",
                 f"/api/v2/live/stream/{session_id}"):
        assert httpx.get(server.url(path), headers=bearer(bob), timeout=30).status_code == 404
