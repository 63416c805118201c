"""The market-data management commands through call_command (no database involved): what they write,
and their refusals: one line, exit code 2, nothing written."""

import os
from datetime import date

import numpy as np
import pytest


def test_generate_market_data_writes_trading_days_of_a_range(call_command, data_dir, capsys):
    call_command("generate_market_data", "--underlying", "NIFTY", "--date", "2024-10-31", "--to", "2024-11-04",
                 "--seed", "5", "--data-dir", str(data_dir))
    files = sorted(p.name for p in (data_dir / "synthetic" / "NIFTY").iterdir())
    # 1 Nov 2024, a holiday, had the Muhurat evening session; 2-3 Nov a weekend.
    assert files == ["2024-10-31.seed5.v2.parquet", "2024-11-01.seed5.v2.parquet", "2024-11-04.seed5.v2.parquet"]
    assert "generated" in capsys.readouterr().out


def test_generate_market_data_opens_days_at_a_given_vix_and_replaces_existing_ones(call_command, data_dir, capsys):
    from live_trading.marketdata.day import read_day
    from live_trading.marketdata.synthetic import generate_day

    args = ("generate_market_data", "--date", "2024-10-29", "--data-dir", str(data_dir))
    call_command(*args)
    call_command(*args, "--vix", "30")  # no --force needed: a vix is a request for those figures

    assert "NIFTY 2024-10-29 seed 0 vix 30: generated" in capsys.readouterr().out
    written = read_day(data_dir / "synthetic" / "NIFTY" / "2024-10-29.seed0.v2.parquet")
    assert np.array_equal(written.prices, generate_day("NIFTY", date(2024, 10, 29), 0, vix=30.0).prices)


@pytest.mark.parametrize("vix", ["3.99", "151", "abc", "1e2", "-3"])
def test_generate_market_data_refuses_a_vix_out_of_bounds_in_one_line(call_command, data_dir, vix):
    message = refusal(call_command, "generate_market_data", "--date", "2024-10-29", "--vix", vix,
                      "--data-dir", str(data_dir))

    assert message == f"--vix: {vix!r} is not a volatility in per cent a year from 4 to 150"
    assert files_in(data_dir) == []


def test_import_market_data_refuses_bad_input_with_exit_code_2(call_command, data_dir, tmp_path):
    from django.core.management.base import CommandError

    bad = tmp_path / "bad.csv"
    bad.write_text("timestamp,symbol,price\n2024-10-29 09:15:00,NIFTY:2024-10-31:OPT:24300:CE,101.02\n")
    with pytest.raises(CommandError, match=r"bad.csv, line 2, field 'price'") as info:
        call_command("import_market_data", str(bad), "--data-dir", str(data_dir))
    assert info.value.returncode == 2
    assert list(data_dir.rglob("*")) == []


def files_in(folder):
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def refusal(call_command, *args) -> str:
    """Run a command that must refuse; return its message after checking the exit code is 2."""
    from django.core.management.base import CommandError

    with pytest.raises(CommandError) as info:
        call_command(*args)
    assert info.value.returncode == 2
    return str(info.value)


def test_simulate_refuses_an_imported_day_the_charge_schedule_does_not_cover(call_command, data_dir, tmp_path,
                                                                             settings):
    # The charge schedule starts on 1 Apr 2023; an imported day of 2017 is data the engine cannot charge.
    old = tmp_path / "old.csv"
    old.write_text("timestamp,symbol,price\n2017-04-20 09:15:00,NIFTY,9100.05\n2017-04-20 09:15:01,NIFTY,9101.00\n")
    call_command("import_market_data", str(old), "--data-dir", str(data_dir))
    imported = files_in(data_dir)
    settings.MARKET_DATA_DIR = data_dir

    message = refusal(call_command, "simulate", "--strategy", "nifty_short_straddle", "--date", "2017-04-20")

    assert message == "--date: no charge rates in force on 2017-04-20; the schedule starts 2023-04-01"
    assert files_in(data_dir) == imported


@pytest.mark.parametrize("day", ["1900-01-01", "2019-12-31", "2023-01-02"])
def test_simulate_refuses_a_day_before_the_charge_schedule_without_generating_data(call_command, data_dir,
                                                                                   settings, day):
    settings.MARKET_DATA_DIR = data_dir

    message = refusal(call_command, "simulate", "--strategy", "nifty_short_straddle", "--date", day)

    assert message == f"--date: no charge rates in force on {day}; the schedule starts 2023-04-01"
    assert files_in(data_dir) == []


@pytest.mark.parametrize("underlying, day, monday", [
    ("NIFTY", "1900-01-01", "1900-01-01"), ("NIFTY", "2019-12-31", "2019-12-30"),
    ("BANKNIFTY", "2022-12-01", "2022-11-28"),
])
def test_generate_market_data_refuses_a_day_the_contract_facts_do_not_cover(call_command, data_dir, underlying,
                                                                            day, monday):
    # Weekly expiries are looked up by the week's Monday; the weekly rules of the data file start with the
    # week of 2 Jan 2023.
    message = refusal(call_command, "generate_market_data", "--underlying", underlying, "--date", day,
                      "--data-dir", str(data_dir))

    assert message == (f"--date: no {underlying} weekly expiry rule known for the week of {monday}"
                       " (the data file has it from 2023-01-02)")
    assert files_in(data_dir) == []


def test_generate_market_data_writes_a_banknifty_day_of_july_2023_with_its_weeklies_in_lots_of_25(
        call_command, data_dir):
    # NSE's circular of 31 Mar 2023: BANKNIFTY 25 -> 15 from the July 2023 monthly (27 Jul) and the
    # August weeklies; the weeklies of 6, 13 and 20 Jul 2023 kept 25. On 3 Jul 2023 the chain is the
    # current weekly (6 Jul) and the current monthly (27 Jul); every option tick trades whole lots.
    import numpy as np

    from live_trading.marketdata.day import read_day

    call_command("generate_market_data", "--underlying", "BANKNIFTY", "--date", "2023-07-03",
                 "--data-dir", str(data_dir))

    day = read_day(data_dir / "synthetic" / "BANKNIFTY" / "2023-07-03.seed0.v2.parquet")
    expiries = sorted({s.split(":")[1] for s in day.symbols[1:]})
    assert expiries == ["2023-07-06", "2023-07-27"]
    for expiry, lot in (("2023-07-06", 25), ("2023-07-27", 15)):
        columns = [day.column(s) for s in day.symbols if f":{expiry}:" in s]
        traded = day.volumes[:, columns]
        assert traded.sum() > 0
        assert np.all(traded % lot == 0), f"{expiry}: volumes not in lots of {lot}"
    weekly = [day.column(s) for s in day.symbols if ":2023-07-06:" in s]
    assert np.any(day.volumes[:, weekly] % 15 != 0)  # lots of 25, not of 15


def test_simulate_refuses_a_banknifty_day_before_the_facts_naming_the_date_and_the_schedule(call_command, data_dir,
                                                                                            settings):
    settings.MARKET_DATA_DIR = data_dir

    message = refusal(call_command, "simulate", "--strategy", "banknifty_iron_condor", "--date", "2022-12-01")

    assert message == "--date: no charge rates in force on 2022-12-01; the schedule starts 2023-04-01"
    assert files_in(data_dir) == []


@pytest.mark.parametrize(("command", "dates"), [
    ("generate_market_data", ["--date", "9999-12-31"]),  # the last date Python has: no day after it
    ("generate_market_data", ["--date", "2024-10-29", "--to", "9999-12-31"]),
    ("generate_market_data", ["--date", "2600-01-04"]),  # the daily walk from 2010 would recurse too deep
    ("simulate", ["--strategy", "nifty_short_straddle", "--date", "2024-10-29", "--to", "9999-12-31"]),
])
def test_a_day_after_the_last_one_modelled_is_one_line_not_a_traceback(call_command, data_dir, settings,
                                                                       command, dates):
    settings.MARKET_DATA_DIR = data_dir
    extra = ["--data-dir", str(data_dir)] if command == "generate_market_data" else []

    message = refusal(call_command, command, *dates, *extra)

    option, given = dates[-2], dates[-1]
    assert message == f"{option}: {given!r} is after 2099-12-31, the last day the market data models"
    assert files_in(data_dir) == []


def test_generate_day_refuses_a_day_after_the_last_one_modelled_naming_it():
    from live_trading.marketdata.synthetic import generate_day
    from live_trading.marketdata.universe import InstrumentError

    with pytest.raises(InstrumentError, match=r"^no market data after 2099-12-31: 2600-01-04 is beyond it$") as info:
        generate_day("NIFTY", date(2600, 1, 4))
    assert info.value.subject == "date"


def test_generate_market_data_names_an_unknown_underlying(call_command, data_dir):
    message = refusal(call_command, "generate_market_data", "--underlying", "NIFTYX", "--date", "2024-10-29",
                      "--data-dir", str(data_dir))

    assert message.startswith("--underlying: unknown underlying 'NIFTYX' (known: ")
    assert files_in(data_dir) == []


def test_an_invalid_strategy_is_one_line(call_command, tmp_path):
    strategy = tmp_path / "s.json"
    strategy.write_text('{"format_version": 1, "nodes": [], "edges": []}')

    message = refusal(call_command, "simulate", "--strategy", str(strategy), "--date", "2024-10-29")

    assert message.startswith("--strategy: invalid strategy: ")
    assert "\n" not in message


def test_manage_py_exits_2_with_one_line_on_stderr(data_dir):
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "MARKET_DATA_DIR": str(data_dir)}
    result = subprocess.run(
        [sys.executable, "manage.py", "simulate", "--strategy", "nifty_short_straddle", "--date", "2023-01-02"],
        cwd=root, env=env, capture_output=True, text=True, timeout=120,
    )

    assert result.returncode == 2
    assert result.stderr == "CommandError: --date: no charge rates in force on 2023-01-02; the schedule starts 2023-04-01\n"
    assert files_in(data_dir) == []


def run_manage_py(*args, data_dir):
    """Run ``manage.py`` as a user does; return the finished process (its exit code, stdout and stderr)."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "MARKET_DATA_DIR": str(data_dir)}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=root, env=env, capture_output=True, text=True,
                          timeout=120)


@pytest.mark.parametrize("args, line", [
    (["simulate", "--strategy", "nifty_short_straddle", "--date", "2024-13-01"],
     "manage.py simulate: error: --date: '2024-13-01' is not a date: month must be in 1..12"),
    (["simulate", "--strategy", "nifty_short_straddle", "--date", "2024-10-29", "--seed", "-1"],
     "manage.py simulate: error: --seed: '-1' is not a whole number of 0 or more"),
    (["market_days", "--remove"], "manage.py market_days: error: --remove: expected 2 arguments"),
    (["seed_demo", "--bogus"], "manage.py seed_demo: error: unrecognized arguments: --bogus"),
    (["issue_token"], "manage.py issue_token: error: the following arguments are required: username"),
], ids=["bad date", "negative seed", "remove without arguments", "unknown option", "missing argument"])
def test_an_argument_argparse_refuses_is_one_line_with_exit_code_2(data_dir, args, line):
    result = run_manage_py(*args, data_dir=data_dir)

    assert (result.returncode, result.stderr, result.stdout) == (2, line + "\n", "")
    assert files_in(data_dir) == []


@pytest.mark.parametrize("args, message", [
    (["--date", "20241029"], "--date: '20241029' is not a date in the form YYYY-MM-DD"),
    (["--date", "2024-1-29"], "--date: '2024-1-29' is not a date in the form YYYY-MM-DD"),
    (["--date", "２０２４-10-29"], "--date: '２０２４-10-29' is not a date in the form YYYY-MM-DD"),
    (["--date", "2024-10-29", "--seed", "٣"], "--seed: '٣' is not a whole number of 0 or more"),
    (["--date", "2024-10-29", "--slippage-ticks", "1_0"], "--slippage-ticks: '1_0' is not a whole number of 0 or more"),
    (["--date", "2024-10-29", "--underlying", "FOO"], "--underlying: unknown underlying 'FOO' (known: BANKNIFTY, NIFTY)"),
    # 1 Oct to 1 Nov 2024 is 32 calendar days; SIM_MAX_DAYS_PER_SESSION is 31, as for a session started by API.
    (["--date", "2024-10-01", "--to", "2024-11-01"], "--to: a session replays at most 31 days"),
    (["--date", "2024-10-29", "--to", "2024-10-28"], "--to: must not be before date"),
])
def test_simulate_refuses_bad_arguments_before_running(call_command, data_dir, settings, args, message):
    settings.MARKET_DATA_DIR = data_dir
    settings.SIM_MAX_DAYS_PER_SESSION = 31

    assert refusal(call_command, "simulate", "--strategy", "nifty_short_straddle", *args) == message
    assert files_in(data_dir) == []


def test_a_data_dir_that_cannot_be_created_is_one_line_naming_the_option(data_dir, tmp_path):
    day = tmp_path / "day.csv"
    day.write_text("timestamp,symbol,price\n2024-10-29 09:15:00,NIFTY,24300.15\n")

    result = run_manage_py("import_market_data", str(day), "--data-dir", "/proc/foo", data_dir=data_dir)

    assert (result.returncode, result.stderr) == (2, "CommandError: --data-dir /proc/foo: No such file or directory\n")


def test_a_data_dir_that_is_a_file_names_the_option_and_the_path(call_command, tmp_path):
    day = tmp_path / "day.csv"
    day.write_text("timestamp,symbol,price\n2024-10-29 09:15:00,NIFTY,24300.15\n")
    a_file = tmp_path / "not-a-folder"
    a_file.write_text("")

    message = refusal(call_command, "import_market_data", str(day), "--data-dir", str(a_file))

    assert message == f"--data-dir {a_file}: Not a directory: '{a_file}/imported/NIFTY'"


def test_market_days_refuses_a_data_dir_that_does_not_exist(call_command, tmp_path):
    message = refusal(call_command, "market_days", "--data-dir", str(tmp_path / "nowhere"))

    assert message == f"--data-dir: '{tmp_path / 'nowhere'}' is not an existing folder"


def test_simulate_over_the_dr_drill_saturday_reports_its_6300_trading_seconds(call_command, data_dir, settings,
                                                                               capsys):
    # 2 Mar 2024: 09:15-10:00 (2,700 s) and 11:30-12:30 (3,600 s); the gap is not trading time.
    import json

    settings.MARKET_DATA_DIR = data_dir
    call_command("simulate", "--strategy", "nifty_short_straddle", "--date", "2024-03-02", "--json")

    out = json.loads(capsys.readouterr().out)
    assert out["ticks"] == 6_300
    assert (out["report"]["statistics"]["trading_seconds"], out["report"]["statistics"]["trading_days"]) == (6_300, 1)


def test_simulate_runs_a_positional_strangle_over_a_week_to_its_expiry(call_command, data_dir, settings, capsys,
                                                                         tmp_path):
    # Sold Monday 4 Nov 2024 09:20, four strikes out of the money; NIFTY's weekly expiry is Thursday 7 Nov.
    import json
    from decimal import Decimal

    from live_trading.marketdata.store import load_day
    from live_trading.marketdata.symbols import parse_symbol

    graph = {"format_version": 1, "name": "Positional strangle", "nodes": [
        {"id": "start", "type": "start", "config": {
            "underlying": "NIFTY", "start_time": "09:20", "square_off_time": "15:15", "holding": "positional",
            "positional_square_off": "at_expiry"}},
        *[{"id": f"short-{right.lower()}", "type": "entry", "config": {
            "instrument": "option", "expiry": "current_weekly", "strike": {"rule": "otm", "offset": 4},
            "right": right, "side": "sell", "lots": 1}} for right in ("CE", "PE")]],
        "edges": [{"from": "start", "to": "short-ce"}, {"from": "start", "to": "short-pe"}]}
    strategy = tmp_path / "strangle.json"
    strategy.write_text(json.dumps(graph))
    settings.MARKET_DATA_DIR = data_dir
    call_command("simulate", "--strategy", str(strategy), "--date", "2024-11-04", "--to", "2024-11-07", "--json")
    out = json.loads(capsys.readouterr().out)

    assert out["days"] == ["2024-11-04", "2024-11-05", "2024-11-06", "2024-11-07"]
    thursday = load_day("NIFTY", date(2024, 11, 7), data_dir=data_dir)
    settlement = Decimal(int(thursday.prices[-1, 0])) / 100  # NIFTY's last price on the expiry day
    trades = out["trades"]
    assert len(trades) == 2
    for t in trades:
        assert (t["entry_time"], t["exit_time"]) == ("2024-11-04T09:20:00+05:30", "2024-11-07T15:29:59+05:30")
        option = parse_symbol(t["symbol"])
        intrinsic = max(settlement - option.strike if option.right == "CE" else option.strike - settlement, 0)
        assert Decimal(t["exit_price"]) == intrinsic
        assert t["exit_reason"] == ("settled" if intrinsic else "expired")
    days = out["summary"]["daily_pnl"]
    assert [d["date"] for d in days] == out["days"]
    assert sum(Decimal(d["pnl"]) for d in days) == Decimal(out["summary"]["net_pnl"])
    # the report marks the same days to market
    assert [r["mtm_pnl"] for r in out["report"]["daily"]] == [d["pnl"] for d in days]


@pytest.mark.parametrize("stream, message", [
    ("compres=0", "--stream: compres: not an option of the stream files; they take compress, ticks, node_diagnostics"),
    # a stream filtered by event_type sends fewer events than the files hold: not what they stand for
    ("compress=0&event_type=tick", "--stream: event_type: not an option of the stream files; they take compress, "
                                   "ticks, node_diagnostics"),
    ("ticks=COMPACT", "--stream: ticks: Unknown tick form; one of full, compact."),
    ("node_diagnostics=yes", "--stream: node_diagnostics: Must be 0 or 1."),
], ids=["a typo", "a filter", "a tick form", "node_diagnostics"])
def test_simulate_refuses_stream_options_its_files_cannot_stand_for_naming_them(call_command, data_dir, settings,
                                                                                tmp_path, stream, message):
    settings.MARKET_DATA_DIR = data_dir
    out = tmp_path / "out"

    assert refusal(call_command, "simulate", "--strategy", "nifty_short_straddle", "--date", "2024-10-29",
                   "--out", str(out), "--stream", stream) == message
    assert not out.exists()
    assert files_in(data_dir) == []


def test_simulate_refuses_stream_options_without_out(call_command, data_dir, settings):
    settings.MARKET_DATA_DIR = data_dir

    assert refusal(call_command, "simulate", "--strategy", "nifty_short_straddle", "--date", "2024-10-29",
                   "--stream", "compress=0") == "--stream: only with --out (the options of the stream files it writes)"
