"""market_days lists the stored days; import_market_data warns when an import hides a synthetic day;
removing an imported day by command (refusal while a session covers it: tests/sessions/test_market_cache.py).
"""

from datetime import date

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from live_trading.marketdata.store import imported_path, synthetic_path
from tests.marketdata.test_cache import CE, PE, T1, T2, TUE, WED, put

pytestmark = pytest.mark.django_db  # --remove asks the database which sessions are active


def test_days_are_listed_with_source_seed_size_and_last_use_in_ist(data_dir, capsys, settings):
    settings.SYNTHETIC_CACHE_MB = 100
    imported = put(imported_path("NIFTY", TUE, data_dir), TUE, T2, source="imported")
    hidden = put(synthetic_path("NIFTY", TUE, 0, data_dir), TUE, T1)
    other = put(synthetic_path("NIFTY", WED, 7, data_dir), WED, T1)
    kb = {p: f"{p.stat().st_size / 1024:.0f} kB" for p in (imported, hidden, other)}

    call_command("market_days", "--data-dir", str(data_dir))

    # T1 = 1_730_000_000 s = 2024-10-27 03:33:20 UTC = 09:03:20 IST; T2 is 100 s later.
    assert capsys.readouterr().out.splitlines() == [
        "underlying  date        source      seed      size  last used (IST)",
        f"NIFTY       2024-10-29  imported       -{kb[imported]:>10}  2024-10-27 09:05:00",
        f"NIFTY       2024-10-29  synthetic      0{kb[hidden]:>10}  2024-10-27 09:03:20  hidden by the imported day",
        f"NIFTY       2024-10-30  synthetic      7{kb[other]:>10}  2024-10-27 09:03:20",
        f"1 imported day(s), {kb[imported]}; 2 synthetic day(s), "
        f"{(hidden.stat().st_size + other.stat().st_size) / 1024:.0f} kB of a 100 MB cache",
    ]


def test_an_import_that_hides_a_synthetic_day_prints_a_warning_naming_the_day(tmp_path, data_dir, capsys):
    put(synthetic_path("NIFTY", TUE, 0, data_dir), TUE, T1, symbols=("NIFTY", CE, PE))
    csv = tmp_path / "ticks.csv"
    csv.write_text("timestamp,symbol,price\n2024-10-29 09:15:00,NIFTY,24300.15\n")

    call_command("import_market_data", str(csv), "--data-dir", str(data_dir))

    assert capsys.readouterr().err == (
        "warning: NIFTY 2024-10-29 also has a synthetic day (2024-10-29.seed0.v2.parquet); sessions started on "
        "that day now replay the imported data (1 instruments) instead of the synthetic day (3 instruments, 2 of "
        "them not in the import, so strategies that select those find no price and place no order); "
        "`python manage.py market_days --remove NIFTY 2024-10-29` goes back to the synthetic day\n")


@pytest.mark.parametrize("synthetic_cached, then", [
    (True, "the synthetic day"),
    (False, "a synthetic day, generated when a session first needs it"),  # evicted from the cache, or never made
])
def test_removing_an_imported_day_prints_what_it_removed_and_what_replaces_it(data_dir, capsys, synthetic_cached,
                                                                                then):
    path = put(imported_path("NIFTY", TUE, data_dir), TUE, T1, source="imported")
    size = path.stat().st_size
    if synthetic_cached:
        put(synthetic_path("NIFTY", TUE, 0, data_dir), TUE, T1)

    call_command("market_days", "--remove", "NIFTY", "2024-10-29", "--data-dir", str(data_dir))

    assert not path.exists()
    assert capsys.readouterr().out == (f"removed {path} ({size / 1024:.0f} kB); sessions started on NIFTY "
                                       f"2024-10-29 now replay {then}\n")


@pytest.mark.parametrize("underlying, day, message", [
    ("NIFTY", "2024-10-30", "no NIFTY market data for 2024-10-30: nothing is imported for that day"),
    ("NIFTY", "2024-13-01", "--remove NIFTY 2024-13-01: '2024-13-01' is not a date: month must be in 1..12"),
    ("NIFTY", "2024-1-29", "--remove NIFTY 2024-1-29: '2024-1-29' is not a date in the form YYYY-MM-DD"),
    ("FOO", "2024-10-29", "--remove FOO 2024-10-29: unknown underlying 'FOO' (known: BANKNIFTY, NIFTY)"),
])
def test_removing_what_is_not_an_imported_day_is_a_one_line_error_with_exit_code_2(data_dir, underlying, day, message):
    put(synthetic_path("NIFTY", date(2024, 10, 30), 0, data_dir), date(2024, 10, 30), T1)

    with pytest.raises(CommandError) as refused:
        call_command("market_days", "--remove", underlying, day, "--data-dir", str(data_dir))

    assert (str(refused.value), refused.value.returncode) == (message, 2)
    assert synthetic_path("NIFTY", date(2024, 10, 30), 0, data_dir).exists()  # a synthetic day is not removable
