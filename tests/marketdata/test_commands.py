"""The market-data management commands through call_command (no database involved): what they write,
and their refusals: one line, exit code 2, nothing written."""

import os

import django
import pytest
from django.conf import settings


@pytest.fixture(scope="module")
def call_command():
    if not settings.configured:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.core.management import call_command

    return call_command


def test_generate_market_data_writes_trading_days_of_a_range(call_command, data_dir, capsys):
    call_command("generate_market_data", "--underlying", "NIFTY", "--date", "2024-10-31", "--to", "2024-11-01",
                 "--seed", "5", "--data-dir", str(data_dir))
    files = sorted(p.name for p in (data_dir / "synthetic" / "NIFTY").iterdir())
    assert files == ["2024-10-31.seed5.v1.parquet"]  # 1 Nov 2024 is a holiday
    assert "generated" in capsys.readouterr().out


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


@pytest.mark.parametrize("day, monday", [("1900-01-01", "1900-01-01"), ("2019-12-31", "2019-12-30")])
def test_generate_market_data_refuses_a_day_the_contract_facts_do_not_cover(call_command, data_dir, day, monday):
    # Weekly expiries are looked up by the week's Monday; NIFTY's weekly rules start in 2020.
    message = refusal(call_command, "generate_market_data", "--date", day, "--data-dir", str(data_dir))

    assert message == f"--date: no NIFTY weekly expiry rule known on {monday}"
    assert files_in(data_dir) == []


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
