"""static/livesim/livesim.d.ts is what `manage.py typescript_declarations` writes from the server's own
definitions (the stream's TypedDicts and the OpenAPI document), it is current, and TypeScript accepts it:
a program using it type-checks, and one that misuses a field does not; the stream client (whose JSDoc
names these types) type-checks against it too."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from live_trading.management.commands.typescript_declarations import DEFAULT_OUT, openapi_document
from live_trading.stream import events

ROOT = Path(__file__).resolve().parents[2]
TSC = ROOT / "node_modules" / "typescript" / "bin" / "tsc"


def test_the_committed_declarations_are_current():
    call_command("typescript_declarations", "--check")  # raises CommandError when stale


def test_check_fails_on_a_stale_file(tmp_path):
    stale = tmp_path / "livesim.d.ts"
    stale.write_text(DEFAULT_OUT.read_text().replace("  seq: number;\n", "", 1))
    with pytest.raises(CommandError, match="not current"):
        call_command("typescript_declarations", "--check", "--out", str(stale))
    call_command("typescript_declarations", "--out", str(stale))  # regenerating makes it current
    assert stale.read_text() == DEFAULT_OUT.read_text()


def interface(text, name):
    match = re.search(rf"^export interface {name} \{{\n(.*?)^\}}", text, re.S | re.M)
    assert match, f"no interface {name}"
    return match.group(1)


def test_every_stream_event_and_field_is_declared():
    text = DEFAULT_OUT.read_text()
    declared = interface(text, "StreamEvents")
    for kind, definition in events.DEFINITIONS.items():
        assert f"  {kind}: {definition.__name__};" in declared
        fields = interface(text, definition.__name__)
        for key in definition.__annotations__:
            optional = "?" if key in definition.__optional_keys__ else ""
            assert re.search(rf"^  {key}{re.escape(optional)}: ", fields, re.M), f"{kind}.{key}"


def test_every_rest_schema_and_path_is_declared():
    text = DEFAULT_OUT.read_text()
    document = openapi_document()
    for name in document["components"]["schemas"]:
        assert f"export type Schema{name} = components['schemas']['{name}'];" in text
    for path in document["paths"]:
        assert f'    "{path}": {{' in text


def tsc(tmp_path, program):
    if shutil.which("node") is None or not TSC.exists():
        pytest.fail("TypeScript is not installed: run `make setup` (npm ci)")
    shutil.copy(DEFAULT_OUT, tmp_path / "livesim.d.ts")
    (tmp_path / "program.ts").write_text(program)
    return subprocess.run(["node", str(TSC), "--noEmit", "--strict", "--target", "es2022", "--moduleResolution",
                           "bundler", "--module", "esnext", str(tmp_path / "program.ts")],
                          capture_output=True, text=True, timeout=120, check=False)


# A trade_update as seed 000 shows it (money as two-place strings), with the fields this server adds.
PROGRAM = """
import type {StreamEventsPlain, SchemaTrade, paths} from "./livesim";
const update: StreamEventsPlain["trade_update"] = {session_id: "sim-1", seq: 1, trades: {
  trade: {trade_id: "entry-2-pos1", position_id: "entry-2-pos1", position_num: 1, re_entry_num: 0,
    entry_node_id: "entry-2", symbol: "NIFTY:2024-11-07:OPT:24250:PE", side: "sell", quantity: 75,
    entry_price: "181.60", entry_time: "2024-10-29T09:19:00+05:30", exit_price: "260.05",
    exit_time: "2024-10-29T10:48:00+05:30", pnl: "-5883.75", pnl_percent: "-43.20", charges: "61.30",
    net_pnl: "-5945.05", duration_minutes: 89, status: "CLOSED", entry_flow_ids: ["a"], exit_flow_ids: ["a", "b"],
    entry_trigger: "entry-2", exit_reason: "exit_condition_met"},
  summary: {total_trades: 1, total_pnl: "-5883.75", gross_pnl: "-5883.75", charges: "61.30", net_pnl: "-5945.05",
    winning_trades: 0, losing_trades: 1, win_rate: "0.00", max_drawdown: "5945.05"}}};
const side: "buy" | "sell" = update.trades.trade.side;
const listed: SchemaTrade["trade_id"] = update.trades.trade.trade_id;
type Token = paths["/api/live-trading/stream-token"]["post"]["responses"][200]["content"]["application/json"];
const seconds: number = ({token: "t", expires_in: 300, user_id: "u"} as Token).expires_in;
console.log(side, listed, seconds);
"""


def test_a_program_using_the_declarations_type_checks(tmp_path):
    done = tsc(tmp_path, PROGRAM)
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_program_misusing_a_field_does_not(tmp_path):
    done = tsc(tmp_path, PROGRAM.replace('side: "sell"', 'side: "short"'))
    assert done.returncode != 0
    assert "short" in done.stdout


def test_the_declarations_are_served_as_text(client):
    response = client.get("/static/livesim/livesim.d.ts")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert b"".join(response.streaming_content).decode() == DEFAULT_OUT.read_text()


STREAM_CLIENT = ROOT / "static" / "livesim" / "stream-client.js"


def check_js(tmp_path, source):
    """``tsc --checkJs`` on ``source`` as stream-client.js beside the declarations, as the pages have them."""
    if shutil.which("node") is None or not TSC.exists():
        pytest.fail("TypeScript is not installed: run `make setup` (npm ci)")
    shutil.copy(DEFAULT_OUT, tmp_path / "livesim.d.ts")
    (tmp_path / "stream-client.js").write_text(source)
    return subprocess.run(["node", str(TSC), "--noEmit", "--allowJs", "--checkJs", "--target", "es2022", "--module",
                           "esnext", "--moduleResolution", "bundler", "--lib", "es2022,dom,dom.iterable",
                           str(tmp_path / "stream-client.js")], capture_output=True, text=True, timeout=120, check=False)


def test_the_stream_client_type_checks_against_the_declarations(tmp_path):
    done = check_js(tmp_path, STREAM_CLIENT.read_text())
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_stream_clients_types_are_the_declarations(tmp_path):
    # An event kind the server does not send, in the client's list of kinds, is refused by the declarations.
    source = STREAM_CLIENT.read_text().replace('"heartbeat"]', '"heartbeat", "backtest_complete"]', 1)
    assert source != STREAM_CLIENT.read_text()
    done = check_js(tmp_path, source)
    assert done.returncode != 0 and "backtest_complete" in done.stdout
