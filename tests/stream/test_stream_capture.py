"""simulate --out's stream files equal a real stream capture of the same run (issue 17, seed 003's files).

One session runs on a real daphne server, started paused with ``stream_ticks: all`` and seed 0; real SSE
clients open its stream before resuming it (alice, the owner, with the default options; charlie, staff,
with ``?compress=0&ticks=compact&node_diagnostics=1``) and read it to ``session_complete``. What they
received, laid out as seed 003's files (``stream.capture.StreamFiles``), must equal, byte for byte, what
``manage.py simulate --out`` writes for the same strategy, day, seed and stream options, after exactly
these replacements (and no others):

* the session's id (``sim-`` and 12 random hex digits) -> ``SESSION``, wherever it occurs (each event's
  ``session_id`` and SSE id); simulate's fixed ``sim-000000000000`` likewise;
* ``"strategy_id":"<the strategy's uuid>"`` (simulate: ``null``) -> ``"strategy_id":"STRATEGY"``, once in
  each of ``initial_state.json`` and ``final_state.json``;
* ``session_complete``'s top-level ``"timestamp"`` (wall-clock time; simulate's too) -> ``"NOW"``, once.

Each replacement is of an exact string, and both sides must make the same number of each (compared),
so no price, quantity, P&L, execution id, exchange timestamp, event number or line order is touched:
the event numbers in the SSE ids stay, so the order of events across the files is compared too.
"""

import gzip
import json
import re
from io import StringIO

import httpx
import pytest
from django.core.management import call_command

from live_trading.models import BrokerConnection
from live_trading.stream.capture import NAMES, STREAM_FILES, StreamFiles
from live_trading.stream.events import check, decompress_fields
from sessions_app.models import SimulationSession
from strategies.models import Strategy
from tests.stream.conftest import DAY, bearer, setup_for, stop_sessions
from tests.waiting import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

SIMULATED = "sim-000000000000"
PLAIN = "compress=0&ticks=compact&node_diagnostics=1"


@pytest.fixture(scope="module")
def server(server_factory):
    # Every tick of a max-speed day (22,500) stays queued for a reader that falls behind.
    return server_factory(STREAM_MAX_PENDING=100_000)


@pytest.fixture(autouse=True)
def _stop_sessions_after(server, alice, bob, charlie):
    yield
    for user in (alice, bob, charlie):
        stop_sessions(server, user)


def start(server, user, **options):
    strategy = Strategy.objects.filter(owner=user).first()
    if strategy is None:
        strategy, broker = setup_for(user)
    else:
        broker = BrokerConnection.objects.get(owner=user)
    body = {"strategy_id": str(strategy.id), "broker_connection_id": str(broker.id), "date": DAY,
            "mode": "backtest", **options}
    r = httpx.post(server.url("/api/v2/live/start"), json=body, headers=bearer(user), timeout=60)
    return strategy, r


def status_of(session_id):
    return SimulationSession.objects.get(pk=session_id).status


def capture(reader) -> dict[str, bytes]:
    files = StreamFiles()
    for e in reader.events:
        files.add(e.event, e.id, e.data)
    return files.files()


def simulate(tmp_path, name, query="") -> dict[str, bytes]:
    out = tmp_path / name
    call_command("simulate", "--strategy", "nifty_short_straddle", "--date", DAY, "--seed", "0", "--out", str(out),
                 "--stream", query, stdout=StringIO())
    return {n: (out / n).read_bytes() for n in NAMES}


def normalised(files: dict[str, bytes], session_id: str, strategy_id: str | None) -> tuple[dict, dict]:
    """The files with the replacements of the module's docstring, and how many of each were made."""
    out, counts = {}, {}
    strategy = json.dumps(strategy_id)
    for name, data in files.items():
        text = data.decode()
        counts[name, "session"] = text.count(session_id)
        text = text.replace(session_id, "SESSION")
        if name in ("initial_state.json", "final_state.json"):
            counts[name, "strategy"] = text.count(f'"strategy_id":{strategy}')
            text = text.replace(f'"strategy_id":{strategy}', '"strategy_id":"STRATEGY"')
        if name == "final_state.json":
            now = json.loads(text)["data"]["timestamp"]
            assert not now.startswith(DAY)  # wall-clock time, never an exchange time of the run
            counts[name, "now"] = text.count(f'"timestamp":"{now}"')
            text = text.replace(f'"timestamp":"{now}"', '"timestamp":"NOW"')
        out[name] = text.encode()
    return out, counts


def test_simulate_out_writes_exactly_what_a_stream_capture_of_the_same_run_received(
        server, readers, alice, charlie, tmp_path):
    strategy, r = start(server, alice, seed=0, stream_ticks="all", paused=True)
    assert r.status_code == 201, r.text
    session_id = r.json()["session_id"]
    wait_for(lambda: status_of(session_id) == "paused", timeout=60, message="the session to pause at its start")
    url = server.url(f"/api/v2/live/stream/{session_id}")
    owners = readers(url, **bearer(alice))
    staffs = readers(f"{url}?{PLAIN}", **bearer(charlie))
    for reader in (owners, staffs):
        reader.until(lambda e: e.event == "initial_state", timeout=30)
    r = httpx.post(server.url(f"/api/v2/live/resume/{session_id}"), headers=bearer(alice), timeout=30)
    assert r.status_code == 200, r.text
    for reader in (owners, staffs):
        reader.until(lambda e: e.event == "session_complete", timeout=180)
    assert status_of(session_id) == "completed"

    for reader, query in ((owners, ""), (staffs, PLAIN)):
        raw = capture(reader)
        captured, captured_counts = normalised(raw, session_id, str(strategy.id))
        written, written_counts = normalised(simulate(tmp_path, f"out-{query or 'default'}", query), SIMULATED, None)
        assert captured_counts == written_counts
        for name in NAMES:
            assert captured[name] == written[name], f"{name} with ?{query} differs"

        # What was compared is the whole run: every tick, the trades, the ids in order.
        lines = {n: [json.loads(x) for x in raw[n].decode().splitlines()] for n in NAMES}
        ticks = lines[STREAM_FILES["tick_update"]]
        assert [t["data"]["seq"] for t in ticks] == list(range(1, 22_501))
        assert ticks[-1]["data"]["progress"]["ticks_processed"] == 22_500
        assert len(lines[STREAM_FILES["trade_update"]]) == 4  # the straddle's day (docs/strategies.md)
        (initial,), (final,) = lines["initial_state.json"], lines["final_state.json"]
        assert (initial["id"], initial["data"]["last_event_id"], initial["data"]["status"]) == (f"session-{session_id}:2", 2,
                                                                                                 "paused")
        numbers = sorted(int(x["id"].rsplit(":", 1)[1]) for n in NAMES for x in lines[n] if x["id"] and n != "initial_state.json")
        assert numbers[0] == 4 and numbers[-1] == int(SimulationSession.objects.get(pk=session_id).last_event_id)
        assert len(set(numbers)) == len(numbers)
        for n in NAMES:
            for x in lines[n]:
                check(x["event"], x["data"], compressed=not query)
        trades = decompress_fields("session_complete", final["data"])["trades"]["trades"]
        assert [t["net_pnl"] for t in trades] == [
            decompress_fields("trade_update", x["data"])["trades"]["trade"]["net_pnl"]
            for x in lines[STREAM_FILES["trade_update"]]]

    # The export files of the same run are the same as before (the stream files only join them).
    exported = tmp_path / "out-default" / "trades_daily.json.gz"
    assert len(json.loads(gzip.decompress(exported.read_bytes()))["trades"]) == 4


def test_the_capture_options_are_checked_and_open_nothing_of_another_users(server, readers, alice, bob, charlie):
    _, r = start(server, bob, stream_ticks="every")
    assert r.status_code == 400 and "stream_ticks" in r.json(), r.text
    _, r = start(server, bob, seed=-1)
    assert r.status_code == 400 and "seed" in r.json(), r.text
    _, r = start(server, bob, paused="later")
    assert r.status_code == 400 and "paused" in r.json(), r.text
    assert not SimulationSession.objects.filter(owner=bob).exists()

    _, r = start(server, alice, stream_ticks="all", paused=True)
    session_id = r.json()["session_id"]
    wait_for(lambda: status_of(session_id) == "paused", timeout=60, message="the session to pause at its start")
    # bob can neither read nor resume alice's paused session; it waits for her, not for him
    assert httpx.get(server.url(f"/api/v2/live/stream/{session_id}"), headers=bearer(bob), timeout=10).status_code == 404
    assert httpx.post(server.url(f"/api/v2/live/resume/{session_id}"), headers=bearer(bob), timeout=10).status_code == 404
    assert status_of(session_id) == "paused"
    # staff follows it like the owner: from the start, every tick in order
    stream = readers(server.url(f"/api/v2/live/stream/{session_id}?event_type=tick"), **bearer(charlie))
    stream.until(lambda e: e.event == "initial_state", timeout=30)
    assert httpx.post(server.url(f"/api/v2/live/resume/{session_id}"), headers=bearer(charlie),
                      timeout=30).status_code == 200
    stream.until(lambda e: e.event == "session_complete", timeout=180)
    seqs = [e.json["seq"] for e in stream.events if e.event == "tick_update"]
    assert seqs == list(range(1, 22_501))
    assert re.fullmatch(r"session-sim-[0-9a-f]{12}:2", stream.events[0].id)
