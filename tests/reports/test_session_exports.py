"""A stored session's export files (GET /api/sessions/{id}/exports/...): the hand-worked straddle
(tests/reports/expected.py, session B) run for real, downloaded by its owner and by staff, refused to
another user."""

import gzip
import io
import json

import pytest
from django.core.management import CommandError, call_command

from sessions_app.models import PositionChange, SimulationSession
from tests.reports import expected
from tests.reports.conftest import run_session, start_session
from tests.reports.sessions import STRADDLE
from tests.reports.test_session_report import TRADE_KEYS
from tests.waiting import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
DAY = expected.DATE


def download(client, session_id, name, **query):
    response = client.get(f"/api/sessions/{session_id}/exports/{name}", query)
    assert response.status_code == 200, response.content
    assert response["Content-Disposition"] == f'attachment; filename="{session_id}-{DAY}-{name}"'
    return response


def test_the_owner_downloads_the_days_files_in_the_seeds_formats(as_alice, alice, scripted_market):
    session = run_session(as_alice, alice, STRADDLE)

    listing = as_alice.get(f"/api/sessions/{session.id}/exports/").json()
    assert listing == {"session_id": session.id, "manifest": {
        "name": "session.json", "url": f"/api/sessions/{session.id}/exports/session.json"}, "days": [{"date": DAY, "files": [
        {"name": name, "url": f"/api/sessions/{session.id}/exports/{name}?date={DAY}"}
        for name in ("diagnostics_export.json.gz", "trades_daily.json.gz", "positions.json")]}]}

    response = download(as_alice, session.id, "trades_daily.json.gz")
    assert response["Content-Type"] == "application/gzip"
    daily = json.loads(gzip.decompress(response.content))
    assert set(daily) == {"date", "summary", "trades"} and daily["date"] == DAY
    assert [{k: t[k] for k in TRADE_KEYS} for t in daily["trades"]] == expected.TRADES_B
    # PE target 1,448.30 won, CE square-off -302.49 lost; worst fall 444.70 (09:18) to -680.30 (09:20).
    assert daily["summary"] == {"total_trades": 2, "total_pnl": "1145.81", "gross_pnl": "1250.00",
                                "charges": "104.19", "net_pnl": "1145.81", "winning_trades": 1, "losing_trades": 1,
                                "win_rate": "50.00", "max_drawdown": "1125.00"}

    # Given the date, or not (a one-day session), the same file.
    dated = download(as_alice, session.id, "diagnostics_export.json.gz", date=DAY)
    assert dated.content == download(as_alice, session.id, "diagnostics_export.json.gz").content
    diagnostics = json.loads(gzip.decompress(dated.content))
    assert set(diagnostics) == {"events_history", "current_state"}
    history = diagnostics["events_history"]
    assert all(key == e["execution_id"] for key, e in history.items())
    # Seed 000's flow resolution: every execution a trade names is in the history.
    for t in daily["trades"]:
        assert set(t["entry_flow_ids"] + t["exit_flow_ids"]) <= set(history)
    latest = {}
    for e in history.values():
        latest[e["node_id"]] = e
    assert diagnostics["current_state"] == latest

    positions = download(as_alice, session.id, "positions.json")
    assert positions["Content-Type"] == "application/json"
    rows = json.loads(positions.content)
    assert sorted((p["position_id"], p["status"], p["entry_price"], p["exit_price"], p["quantity_closed"])
                  for p in rows) == [("entry-ce-pos1", "CLOSED", "100.00", "110.00", 25),
                                     ("entry-pe-pos1", "CLOSED", "100.00", "40.00", 25)]


def test_staff_reads_them_and_another_user_gets_404(as_alice, as_bob, as_charlie, alice, scripted_market):
    session = run_session(as_alice, alice, STRADDLE)
    for path in ("exports/", "exports/positions.json", "exports/trades_daily.json.gz", "exports/session.json"):
        assert as_bob.get(f"/api/sessions/{session.id}/{path}").status_code == 404
        assert as_charlie.get(f"/api/sessions/{session.id}/{path}").status_code == 200
    assert download(as_charlie, session.id, "positions.json").content == \
        download(as_alice, session.id, "positions.json").content


def test_bad_names_and_dates_are_refused_naming_them(as_alice, alice, scripted_market):
    session = run_session(as_alice, alice, STRADDLE)
    assert as_alice.get(f"/api/sessions/{session.id}/exports/trades.csv").status_code == 404
    for bad in ("2024-10-30", "yesterday", DAY.replace("-", ""), DAY.replace("2024", "２０２４")):
        response = as_alice.get(f"/api/sessions/{session.id}/exports/positions.json", {"date": bad})
        assert response.status_code == 400
        assert "date" in response.json()


def test_the_schema_documents_the_exports(as_alice):
    schema = as_alice.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    paths = schema["paths"]
    assert "/api/sessions/{session_id}/exports/" in paths
    operation = paths["/api/sessions/{session_id}/exports/{name}"]["get"]
    assert set(operation["responses"]["200"]["content"]) == {"application/gzip", "application/json"}


def test_simulate_out_writes_the_files_the_stored_session_gives(as_alice, alice, scripted_market, tmp_path):
    """The same strategy on the same day with the same seed: ``simulate --out`` (in memory, no database)
    writes the files the server's session gives through the API, with the same content (the stored
    JSON's key order is the database's, so parsed objects are compared)."""
    session = run_session(as_alice, alice, STRADDLE)
    strategy = tmp_path / "straddle.json"
    strategy.write_text(json.dumps(STRADDLE))
    out = tmp_path / "out"

    call_command("simulate", "--strategy", str(strategy), "--date", DAY, "--seed", str(session.seed),
                 "--out", str(out), stdout=io.StringIO())

    # the export files, the manifest, and the run's stream in seed 003's files (tests/stream/test_stream_capture.py)
    assert sorted(p.name for p in out.iterdir()) == [
        "candle_updates_stream.jsonl", "diagnostics_export.json.gz", "final_state.json", "initial_state.json",
        "node_events_stream.jsonl", "position_events_stream.jsonl", "positions.json", "session.json",
        "tick_updates_stream.jsonl", "trade_updates_stream.jsonl", "trades_daily.json.gz"]
    for name in ("diagnostics_export.json.gz", "trades_daily.json.gz", "positions.json"):
        written = (out / name).read_bytes()
        served = download(as_alice, session.id, name).content
        if name.endswith(".gz"):
            written, served = gzip.decompress(written), gzip.decompress(served)
        assert json.loads(written) == json.loads(served), name
    daily = json.loads(gzip.decompress((out / "trades_daily.json.gz").read_bytes()))
    assert daily["summary"]["net_pnl"] == "1145.81"  # the hand-worked straddle


def test_simulate_out_refuses_a_file_for_a_folder(tmp_path, scripted_market):
    target = tmp_path / "taken"
    target.write_text("")
    with pytest.raises(CommandError, match="--out"):
        call_command("simulate", "--strategy", "nifty_short_straddle", "--date", DAY, "--out", str(target))


def test_a_running_session_exports_what_it_has_committed(as_alice, alice, scripted_market):
    session_id = start_session(as_alice, alice, STRADDLE, speed=30)  # 09:16 entries after 2 s; PE target at 09:24
    wait_for(lambda: PositionChange.objects.filter(session_id=session_id).count() == 2, message="both entries")
    assert SimulationSession.objects.get(pk=session_id).status == "running"

    positions = json.loads(as_alice.get(f"/api/sessions/{session_id}/exports/positions.json").content)
    daily = gzip_json(as_alice.get(f"/api/sessions/{session_id}/exports/trades_daily.json.gz"))
    as_alice.post(f"/api/v2/live/stop/{session_id}")

    # Both legs sold at 100 at 09:16, still open; no trade closed yet (the PE's target is at 09:24).
    assert sorted((p["position_id"], p["status"], p["entry_price"]) for p in positions) == [
        ("entry-ce-pos1", "OPEN", "100.00"), ("entry-pe-pos1", "OPEN", "100.00")]
    assert daily["trades"] == [] and daily["summary"]["total_trades"] == 0


def gzip_json(response) -> dict:
    assert response.status_code == 200, response.content
    return json.loads(gzip.decompress(response.content))
