"""Sharing a run (docs/reports.md): a finished session written to a folder (``export_session``, or
``simulate --out``) and read back by ``import_session`` as a new finished session of another user, whose
API answers are the original's. Bad folders are refused in one line naming the file and field, with
nothing written."""

import gzip
import io
import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from sessions_app.models import EquitySample, NodeEvent, PositionChange, SimulationSession, Trade
from strategies.models import Strategy, StrategyVersion
from tests.reports import expected
from tests.reports.conftest import run_session
from tests.reports.sessions import PARTIAL_AND_RE_ENTRY, STRADDLE

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
DAY = expected.DATE
ROOT = Path(__file__).resolve().parents[2]


def export(session_id: str, folder: Path) -> Path:
    call_command("export_session", session_id, str(folder), stdout=io.StringIO())
    return folder


def import_folder(folder: Path, owner: str) -> SimulationSession:
    out = io.StringIO()
    call_command("import_session", str(folder), "--owner", owner, stdout=out)
    session_id = out.getvalue().splitlines()[-1].split()[1]
    return SimulationSession.objects.get(pk=session_id)


EXPORT_FILES = ("diagnostics_export.json.gz", "trades_daily.json.gz", "positions.json")


def answers(client, session_id: str, *, timeframe: str = "1m", days=None) -> dict:
    """What the pages read of a session for review, each from its API (the candles of ``timeframe``), the
    list of its export files and the files themselves: without a date (a one-day session's) or, given
    ``days``, each of those trading days' (keyed ``"<day>/<file>"``)."""
    got = {}
    for name, path in (
        ("report", f"/api/sessions/{session_id}/report"),
        ("trades", f"/api/sessions/{session_id}/trades?page_size=500"),
        ("equity", f"/api/sessions/{session_id}/equity"),
        ("candles", f"/api/sessions/{session_id}/candles?timeframe={timeframe}"),
        ("diagnostics", f"/api/session/{session_id}/diagnostics"),
        ("state", f"/api/live-trading/session/{session_id}"),
        ("exports", f"/api/sessions/{session_id}/exports/"),
    ):
        response = client.get(path)
        assert response.status_code == 200, (path, response.content)
        got[name] = response.json()
    for day in days or [None]:
        for name in EXPORT_FILES:
            query, key = ("", name) if day is None else (f"?date={day}", f"{day}/{name}")
            response = client.get(f"/api/sessions/{session_id}/exports/{name}{query}")
            assert response.status_code == 200, (key, response.content)
            got[key] = json.loads(gzip.decompress(response.content) if name.endswith(".gz") else response.content)
    return got


def assert_same_answers(mine: dict, theirs: dict, ids) -> None:
    """An imported session's ``answers`` are the original's but for the session ids in ``ids`` and, in the
    state, the strategy, broker and user (the importer's own) and the last stream event (the stream was
    the original's)."""
    for name in theirs:
        if name == "state":
            for key in ("strategy_id", "broker_info", "user_id", "last_event_id"):
                mine[name].pop(key), theirs[name].pop(key)
        assert without_ids(mine[name], ids) == without_ids(theirs[name], ids), name


def without_ids(value, ids):
    """``value`` with every occurrence of the session ids in ``ids`` replaced by one placeholder (a
    session's answers name the session)."""
    text = json.dumps(value)
    for i in ids:
        text = text.replace(i, "<session>")
    return json.loads(text)


def rows(session_ids=None) -> dict:
    def count(model, field="session_id"):
        rows = model.objects.all()
        return rows.count() if session_ids is None else rows.filter(**{f"{field}__in": session_ids}).count()

    return {
        "sessions": count(SimulationSession, "id"),
        "events": count(NodeEvent),
        "positions": count(PositionChange),
        "trades": count(Trade),
        "samples": count(EquitySample),
        "strategies": Strategy.objects.count(),
        "versions": StrategyVersion.objects.count(),
    }


def test_an_imported_session_answers_as_the_original(
    as_alice, as_bob, as_charlie, alice, bob, scripted_market, tmp_path
):
    """Bob's finished session (a partial exit, a stop and a re-entry), exported and imported for alice: her
    session's report, trades, equity, candles, diagnostics, state and export files are bob's, but for
    its id and the strategy it links to; bob cannot see her copy, staff can."""
    original = run_session(as_bob, bob, PARTIAL_AND_RE_ENTRY)
    Strategy.objects.create(owner=alice, name="Partial and re-entry (imported)", graph=PARTIAL_AND_RE_ENTRY)

    imported = import_folder(export(original.id, tmp_path / "shared"), "alice")

    assert imported.id != original.id and imported.owner == alice and imported.imported_from == original.id
    assert imported.status == "completed" and not imported.is_active
    # A strategy of alice's that holds the graph it ran, under a name none of hers had.
    assert imported.strategy.owner == alice and imported.strategy.name == "Partial and re-entry (imported 2)"
    assert imported.strategy.graph == original.graph
    assert StrategyVersion.objects.filter(
        strategy=imported.strategy, version=original.strategy_version
    ).exists()

    mine, theirs = answers(as_alice, imported.id), answers(as_bob, original.id)
    assert mine["report"]["statistics"]["trades"] == 4  # the hand-worked session A: something to compare
    assert_same_answers(mine, theirs, (imported.id, original.id))
    assert mine["report"]["session"]["session_id"] == imported.id

    for path in (
        f"/api/sessions/{imported.id}/report",
        f"/api/sessions/{imported.id}/trades",
        f"/api/live-trading/session/{imported.id}",
        f"/api/sessions/{imported.id}/exports/session.json",
    ):
        assert as_bob.get(path).status_code == 404, path
        assert as_charlie.get(path).status_code == 200, path
    dashboard = as_alice.get(f"/api/live-trading/dashboard/{alice.user_id}")
    assert dashboard.status_code == 200 and imported.id in dashboard.json()["sessions"]
    assert imported.id not in [s["session_id"] for s in as_bob.get("/api/sessions/").json()["results"]]
    assert imported.id in [s["session_id"] for s in as_alice.get("/api/sessions/").json()["results"]]


def test_the_manifest_download_is_the_folders(as_alice, alice, scripted_market, tmp_path):
    session = run_session(as_alice, alice, STRADDLE)
    folder = export(session.id, tmp_path / "out")
    listing = as_alice.get(f"/api/sessions/{session.id}/exports/").json()
    assert listing["manifest"] == {
        "name": "session.json",
        "url": f"/api/sessions/{session.id}/exports/session.json",
    }

    response = as_alice.get(listing["manifest"]["url"])

    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="{session.id}-session.json"'
    assert response.content == (folder / "session.json").read_bytes()
    manifest = json.loads(response.content)
    assert (manifest["format"], manifest["format_version"], manifest["session_id"]) == (
        "livesim-session",
        1,
        session.id,
    )
    assert manifest["strategy"]["graph"] == session.graph and manifest["days"] == [DAY]


def test_an_export_replaces_links_in_its_folder_and_writes_through_none(
    as_alice, alice, scripted_market, tmp_path
):
    """A folder prepared with ``positions.json`` linking to another file: the export replaces the link with
    its file and leaves the linked file as it was; replay's ``simulate --out`` writes the same way."""
    session = run_session(as_alice, alice, STRADDLE)
    precious = tmp_path / "precious.txt"
    precious.write_text("keep me")
    out = tmp_path / "out"
    out.mkdir()
    (out / "positions.json").symlink_to(precious)

    export(session.id, out)

    assert precious.read_text() == "keep me"
    assert not (out / "positions.json").is_symlink()
    assert (out / "positions.json").read_bytes() == as_alice.get(
        f"/api/sessions/{session.id}/exports/positions.json"
    ).content
    assert sorted(p.name for p in out.iterdir()) == [  # no temporary file left behind
        "diagnostics_export.json.gz",
        "positions.json",
        "session.json",
        "trades_daily.json.gz",
    ]


def test_a_second_import_of_the_same_folder_is_refused_naming_the_first(
    as_alice, alice, bob, scripted_market, tmp_path
):
    folder = export(run_session(as_alice, alice, STRADDLE).id, tmp_path / "out")
    first = import_folder(folder, "bob")
    before = rows()

    with pytest.raises(CommandError) as refused:
        call_command("import_session", str(folder), "--owner", "bob")

    assert refused.value.returncode == 2
    message = str(refused.value)
    assert "\n" not in message and "already imported" in message and first.id in message
    assert rows() == before
    assert import_folder(folder, "alice").owner == alice  # another owner may import it too


def test_a_replays_folder_imports_with_the_stored_sessions_report(
    as_alice, alice, bob, scripted_market, tmp_path
):
    """``simulate --out`` (no database) writes a folder that imports; the same strategy, day and seed
    run as a stored session report the same figures."""
    stored = run_session(as_alice, alice, STRADDLE)
    strategy = tmp_path / "straddle.json"
    strategy.write_text(json.dumps(STRADDLE))
    call_command(
        "simulate",
        "--strategy",
        str(strategy),
        "--date",
        DAY,
        "--seed",
        str(stored.seed),
        "--out",
        str(tmp_path / "replay"),
        stdout=io.StringIO(),
    )

    imported = import_folder(tmp_path / "replay", "bob")

    assert imported.imported_from == "" and imported.strategy.name == "Straddle (imported)"
    mine = client_report(bob, imported.id)
    theirs = as_alice.get(f"/api/sessions/{stored.id}/report").json()
    assert mine["statistics"]["net_pnl"] == "1145.81"  # the hand-worked straddle
    for key in ("statistics", "by_exit_reason", "by_leg", "daily", "equity_curve"):
        assert mine[key] == theirs[key], key


def test_a_replay_with_its_own_fees_and_slippage_imports_with_them(alice, scripted_market, tmp_path):
    """The fee model and slippage a run had travel with it: the imported session records them, so its
    page says them and a replay of its graph would charge the same."""
    strategy = tmp_path / "straddle.json"
    strategy.write_text(json.dumps(STRADDLE))
    call_command(
        "simulate",
        "--strategy",
        str(strategy),
        "--date",
        DAY,
        "--fees",
        "per_order",
        "--fee-per-order",
        "20",
        "--slippage-ticks",
        "2",
        "--out",
        str(tmp_path / "replay"),
        stdout=io.StringIO(),
    )

    imported = import_folder(tmp_path / "replay", "alice")

    assert imported.fees["fee_model"] == "per_order" and imported.slippage_ticks == 2
    assert Decimal(imported.fees["fee_per_order"]) == Decimal("20")
    trades = Trade.objects.filter(session=imported)
    assert trades and all(t.charges == Decimal("40.00") for t in trades)  # Rs 20 an order, in and out


def test_a_two_day_replay_imports_with_each_days_files(as_bob, bob, settings, tmp_path):
    """``simulate --to`` over two trading days: a folder per day and the manifest; imported, the session
    spans both days, its report is the replay's and each day's downloads are the folder's files."""
    settings.MARKET_DATA_DIR = tmp_path / "market"
    folder = tmp_path / "two-days"
    printed = io.StringIO()
    call_command(
        "simulate",
        "--strategy",
        "nifty_short_straddle",
        "--date",
        "2024-10-29",
        "--to",
        "2024-10-30",
        "--json",
        "--out",
        str(folder),
        stdout=printed,
    )
    replay = json.loads(printed.getvalue())

    imported = import_folder(folder, "bob")

    assert (imported.start_date.isoformat(), imported.end_date.isoformat()) == ("2024-10-29", "2024-10-30")
    report = client_report(bob, imported.id)
    assert report["statistics"]["trades"] == len(replay["trades"]) > 0
    for key in ("statistics", "by_exit_reason", "by_leg", "daily", "equity_curve"):
        assert report[key] == replay["report"][key], key
    for day in ("2024-10-29", "2024-10-30"):
        for name in ("diagnostics_export.json.gz", "trades_daily.json.gz", "positions.json"):
            response = as_bob.get(f"/api/sessions/{imported.id}/exports/{name}", {"date": day})
            assert response.status_code == 200, response.content
            served = gzip.decompress(response.content) if name.endswith(".gz") else response.content
            written = (folder / day / name).read_bytes()
            written = gzip.decompress(written) if name.endswith(".gz") else written
            assert json.loads(served) == json.loads(written), (day, name)


def client_report(user, session_id):
    from tests.conftest import client_for

    response = client_for(user).get(f"/api/sessions/{session_id}/report")
    assert response.status_code == 200, response.content
    return response.json()


def test_export_session_refuses_an_unknown_session_in_one_line(tmp_path):
    with pytest.raises(CommandError, match=r"^session_id: no session 'sim-000000000000'$") as refused:
        call_command("export_session", "sim-000000000000", str(tmp_path / "out"))
    assert refused.value.returncode == 2 and not (tmp_path / "out").exists()


# -- bad folders ----------------------------------------------------------------------------------------


def _json(folder, name, change):
    path = folder / name
    data = json.loads(gzip.decompress(path.read_bytes()) if name.endswith(".gz") else path.read_bytes())
    change(data)
    raw = json.dumps(data).encode()
    path.write_bytes(gzip.compress(raw) if name.endswith(".gz") else raw)


def _link_outside(folder, name):
    """``name`` replaced by a link to an identical copy outside the folder: refused for where it is."""
    outside = folder.with_name(f"outside-{name}")
    (folder / name).rename(outside)
    (folder / name).symlink_to(outside)


def _fifo(folder, name):
    (folder / name).unlink()
    os.mkfifo(folder / name)


HUGE = 64 * 2**20 + 1  # one byte past the reader's limit; the content is valid JSON padded with spaces


def _first_trade(change):
    return lambda d: change(d["trades"][0])


BAD = {
    "no folder": (lambda f: f.rename(f.with_name("gone")), "no such folder"),
    "no manifest": (lambda f: (f / "session.json").unlink(), "session.json: missing"),
    "no day file": (lambda f: (f / "positions.json").unlink(), "positions.json: missing"),
    "corrupt gzip": (
        lambda f: (f / "trades_daily.json.gz").write_bytes(b"\x1f\x8b\x08\x00garbage"),
        "trades_daily.json.gz: not gzip data",
    ),
    "a link out of the folder": (
        lambda f: _link_outside(f, "positions.json"),
        "positions.json: a link to a file outside the folder",
    ),
    "a FIFO": (lambda f: _fifo(f, "positions.json"), "positions.json: not a regular file"),
    "a device": (
        lambda f: ((f / "positions.json").unlink(), (f / "positions.json").symlink_to("/dev/zero")),
        "positions.json: a link to a file outside the folder",
    ),
    "a huge file": (
        lambda f: (f / "positions.json").write_bytes(b"[]" + b" " * HUGE),
        "positions.json: larger than 64 MiB",
    ),
    "a gzip bomb": (
        lambda f: (f / "trades_daily.json.gz").write_bytes(gzip.compress(b"{}" + b" " * HUGE, 9)),
        "trades_daily.json.gz: larger than 64 MiB once gunzipped",
    ),
    "bad JSON": (lambda f: (f / "positions.json").write_text("[{"), "positions.json: not JSON"),
    "bad JSON in gzip": (
        lambda f: (f / "diagnostics_export.json.gz").write_bytes(gzip.compress(b"{nope")),
        "diagnostics_export.json.gz: not JSON",
    ),
    "wrong format version": (
        lambda f: _json(f, "session.json", lambda m: m.update(format_version=2)),
        "session.json: format_version: 2 is not a version this server reads (1)",
    ),
    "not a manifest": (
        lambda f: _json(f, "session.json", lambda m: m.update(format="seed-003")),
        "session.json: format:",
    ),
    "negative quantity": (
        lambda f: _json(f, "trades_daily.json.gz", _first_trade(lambda t: t.update(quantity=-25))),
        "trades_daily.json.gz: trades[0].quantity: -25 is not a whole number from 1",
    ),
    "unknown fee model": (
        lambda f: _json(f, "session.json", lambda m: m.update(fees={"fee_model": "zero"})),
        "session.json: fees.fee_model:",
    ),
    "a fee in other digits": (
        lambda f: _json(
            f, "session.json", lambda m: m.update(fees={"fee_model": "per_order", "fee_per_order": "２０"})
        ),
        "session.json: fees.fee_per_order: '２０' is not an amount in rupees",
    ),
    "a fee as a number": (
        lambda f: _json(
            f, "session.json", lambda m: m.update(fees={"fee_model": "per_order", "fee_per_order": 20})
        ),
        "session.json: fees.fee_per_order: 20 is not an amount in rupees",
    ),
    "a cap with an exponent": (
        lambda f: _json(
            f,
            "session.json",
            lambda m: m.update(fees={"fee_model": "percent", "fee_percent": "0.03", "fee_cap": "2e1"}),
        ),
        "session.json: fees.fee_cap: '2e1' is not an amount in rupees",
    ),
    "a percent with an exponent": (
        lambda f: _json(
            f, "session.json", lambda m: m.update(fees={"fee_model": "percent", "fee_percent": "3E-2"})
        ),
        "session.json: fees.fee_percent: '3E-2' is not a per cent",
    ),
    "a final state of another shape": (
        lambda f: _json(f, "session.json", lambda m: m["final_state"].update(gps_data="x")),
        "session.json: final_state.gps_data: 'x' is not what the engine's final state holds",
    ),
    "final positions of another shape": (
        lambda f: _json(f, "session.json", lambda m: m["final_state"]["gps_data"].update(positions="x")),
        "session.json: final_state.gps_data.positions:",
    ),
    "a final position without status": (
        lambda f: _json(
            f, "session.json", lambda m: m["final_state"]["gps_data"]["positions"][0].pop("status")
        ),
        "session.json: final_state.gps_data.positions[0]: not a position",
    ),
    "a final state without its parts": (
        lambda f: _json(f, "session.json", lambda m: m.update(final_state={"status": "completed"})),
        "session.json: final_state.progress: null is not",
    ),
    "negative slippage": (
        lambda f: _json(f, "session.json", lambda m: m.update(slippage_ticks=-1)),
        "session.json: slippage_ticks:",
    ),
    "non-numeric price": (
        lambda f: _json(f, "trades_daily.json.gz", _first_trade(lambda t: t.update(entry_price="abc"))),
        "trades_daily.json.gz: trades[0].entry_price: 'abc' is not an amount in rupees",
    ),
    "float price": (
        lambda f: _json(f, "trades_daily.json.gz", _first_trade(lambda t: t.update(exit_price=1e300))),
        "trades_daily.json.gz: trades[0].exit_price:",
    ),
    "bad trade time": (
        lambda f: _json(f, "trades_daily.json.gz", _first_trade(lambda t: t.update(exit_time="soon"))),
        "trades_daily.json.gz: trades[0].exit_time:",
    ),
    "running session": (
        lambda f: _json(f, "session.json", lambda m: m.update(status="running")),
        "session.json: status: 'running' is not a finished session's status",
    ),
    "bad mode": (lambda f: _json(f, "session.json", lambda m: m.update(mode="turbo")), "session.json: mode:"),
    "negative speed": (
        lambda f: _json(f, "session.json", lambda m: m.update(speed_multiplier=-1)),
        "session.json: speed_multiplier:",
    ),
    "invalid graph": (
        lambda f: _json(f, "session.json", lambda m: m["strategy"]["graph"].update(nodes=[])),
        "session.json: strategy.graph: invalid strategy",
    ),
    "bad sample": (
        lambda f: _json(f, "session.json", lambda m: m["equity_samples"][3].__setitem__(1, "x")),
        "session.json: equity_samples[3][1]:",
    ),
    "a sample on another day": (
        lambda f: _json(f, "session.json", lambda m: m["equity_samples"][0].__setitem__(0, 0)),
        "session.json: equity_samples[0][0]: 1970-01-01T05:30:00+05:30 is on none of the days",
    ),
    "exit before entry": (
        lambda f: _json(
            f, "trades_daily.json.gz", _first_trade(lambda t: t.update(exit_time="2024-10-29T09:00:00+05:30"))
        ),
        "trades_daily.json.gz: trades[0].exit_time: 2024-10-29T09:00:00+05:30 is before its entry_time",
    ),
    "a trade altered": (
        lambda f: _json(f, "trades_daily.json.gz", _first_trade(lambda t: t.update(net_pnl="9999.00"))),
        "trades_daily.json.gz: summary: does not agree",
    ),
    "a position dropped": (
        lambda f: _json(f, "positions.json", lambda p: p.pop()),
        "positions.json: [1]: does not agree",
    ),
    "an event on another day": (
        lambda f: _json(
            f,
            "diagnostics_export.json.gz",
            lambda d: next(iter(d["events_history"].values())).update(timestamp="2024-10-30T09:15:00+05:30"),
        ),
        "diagnostics_export.json.gz: events_history[",
    ),
    "not a trading day": (
        lambda f: _json(
            f,
            "session.json",
            lambda m: m.update(days=["2024-10-27"], start_date="2024-10-27", end_date="2024-10-27"),
        ),
        "session.json: days:",
    ),
}


@pytest.fixture
def replay_folder(scripted_market, tmp_path) -> Path:
    """The straddle replayed by ``simulate --out`` on the scripted day: a good folder to spoil."""
    strategy = tmp_path / "straddle.json"
    strategy.write_text(json.dumps(STRADDLE))
    folder = tmp_path / "replay"
    call_command(
        "simulate", "--strategy", str(strategy), "--date", DAY, "--out", str(folder), stdout=io.StringIO()
    )
    return folder


@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_folder_is_refused_in_one_line_naming_file_and_field(case, alice, bob, replay_folder):
    import_folder(replay_folder, "bob")  # bob's import of the good folder: rows that must stay as they are
    spoil, says = BAD[case]
    spoil(replay_folder)
    before = rows()

    with pytest.raises(CommandError) as refused:
        call_command("import_session", str(replay_folder), "--owner", "alice")

    assert refused.value.returncode == 2
    message = str(refused.value)
    assert "\n" not in message and says in message, message
    assert rows() == before


def test_an_unknown_owner_is_refused(replay_folder):
    before = rows()
    with pytest.raises(CommandError, match=r"^--owner: no user named 'zed'$") as refused:
        call_command("import_session", str(replay_folder), "--owner", "zed")
    assert refused.value.returncode == 2 and rows() == before


def test_manage_py_exits_2_with_one_line_and_writes_nothing(alice, replay_folder):
    """As a user runs it: the process's exit code and its one line on stderr."""
    _json(replay_folder, "session.json", lambda m: m.update(format_version=99))
    db = connection.settings_dict
    env = {**os.environ, "DATABASE_URL": f"postgresql://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"}

    result = subprocess.run(
        [sys.executable, "manage.py", "import_session", str(replay_folder), "--owner", "alice"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 2
    assert result.stderr == (
        f"CommandError: {replay_folder}: session.json: format_version: 99 is not a version this "
        "server reads (1)\n"
    )
    assert rows()["sessions"] == 0


def test_the_import_says_which_days_market_data_this_machine_lacks(alice, replay_folder, settings, tmp_path):
    """The manifest says where the day's market data came from; imported where the chart has none, the
    command says so (everything else the pages show is in the database)."""
    manifest = json.loads((replay_folder / "session.json").read_bytes())
    assert manifest["market_data"] == [{"date": DAY, "source": "imported", "seed": None}]  # the scripted day
    settings.MARKET_DATA_DIR = tmp_path / "empty"
    out = io.StringIO()

    call_command("import_session", str(replay_folder), "--owner", "alice", stdout=out)

    lines = out.getvalue().splitlines()
    assert lines[0].startswith(f"note: no NIFTY market data for {DAY} here; the candle chart needs it")
    assert lines[1].startswith("imported sim-") and SimulationSession.objects.filter(owner=alice).count() == 1
