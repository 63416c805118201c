"""The synthetic cache: listing days with their source, least-recently-used eviction that spares imported
days and days in use, removing an imported day, and the warning when an import hides a synthetic day.

Days here are small real day files (a few ticks), so sizes are a few kilobytes and each test is quick."""

import os
from datetime import UTC, date, datetime

import numpy as np
import pytest

from live_trading.marketdata.day import from_ticks, write_day
from live_trading.marketdata.importer import import_files
from live_trading.marketdata.store import (
    MarketDataMissing,
    StoredDay,
    evict_synthetic,
    imported_path,
    list_days,
    load_day,
    missing_days,
    remove_imported,
    synthetic_path,
)

MON, TUE, WED, THU = date(2024, 10, 28), date(2024, 10, 29), date(2024, 10, 30), date(2024, 10, 31)
CE = "NIFTY:2024-10-31:OPT:24300:CE"
PE = "NIFTY:2024-10-31:OPT:24300:PE"
# Fixed access times (epoch seconds), far apart, so the least recently used order is unambiguous.
T1, T2, T3, T4 = 1_730_000_000, 1_730_000_100, 1_730_000_200, 1_730_000_300


def small_day(day, symbols=("NIFTY",), source="synthetic"):
    n = len(symbols)
    return from_ticks("NIFTY", day, list(symbols), rows=np.zeros(n, np.int64), cols=np.arange(n),
                      price=np.full(n, 2_430_000), volume=np.zeros(n, np.int64), oi=np.zeros(n, np.int64),
                      source=source, seed=0 if source == "synthetic" else None)


def put(path, day, used_at, **kwargs):
    write_day(small_day(day, **kwargs), path)
    os.utime(path, (used_at, used_at))
    return path


def test_days_are_listed_with_source_seed_size_last_use_and_what_an_import_hides(data_dir):
    imported = put(imported_path("NIFTY", TUE, data_dir), TUE, T2, source="imported")
    hidden = put(synthetic_path("NIFTY", TUE, 0, data_dir), TUE, T1)
    other = put(synthetic_path("NIFTY", WED, 3, data_dir), WED, T3)
    (other.parent / ".2024-10-31.seed0.v2.parquet.abc.tmp").write_bytes(b"a write in progress")

    days = list_days(data_dir)

    assert days == [
        StoredDay("NIFTY", TUE, "imported", imported, imported.stat().st_size, T2),
        StoredDay("NIFTY", TUE, "synthetic", hidden, hidden.stat().st_size, T1, seed=0, version=2, shadowed=True),
        StoredDay("NIFTY", WED, "synthetic", other, other.stat().st_size, T3, seed=3, version=2),
    ]
    assert days[0].last_used_at == datetime(2024, 10, 27, 3, 35, 0, tzinfo=UTC)  # 1_730_000_100 s


def test_eviction_removes_least_recently_used_synthetic_days_until_under_the_cap(data_dir):
    oldest = put(synthetic_path("NIFTY", MON, 0, data_dir), MON, T1)
    older = put(synthetic_path("NIFTY", TUE, 0, data_dir), TUE, T2)
    newer = put(synthetic_path("NIFTY", WED, 0, data_dir), WED, T3)
    newest = put(synthetic_path("NIFTY", THU, 0, data_dir), THU, T4)
    # Room for exactly the two most recently used.
    cap = newer.stat().st_size + newest.stat().st_size

    removed = evict_synthetic(cap, data_dir=data_dir)

    assert [d.path for d in removed] == [oldest, older]
    assert [d.path for d in list_days(data_dir)] == [newer, newest]


def test_eviction_never_removes_imported_days_nor_days_in_use(data_dir):
    imported = put(imported_path("NIFTY", MON, data_dir), MON, T1, source="imported")
    in_use = put(synthetic_path("NIFTY", TUE, 0, data_dir), TUE, T1)
    unused = put(synthetic_path("NIFTY", WED, 0, data_dir), WED, T4)

    removed = evict_synthetic(0, in_use={("NIFTY", TUE)}, data_dir=data_dir)

    # Even a cap of nothing leaves the imported day and the day in use, above the cap.
    assert [d.path for d in removed] == [unused]
    assert imported.exists() and in_use.exists() and not unused.exists()


def test_loading_a_day_marks_it_used_so_eviction_keeps_it(data_dir):
    first = put(synthetic_path("NIFTY", MON, 0, data_dir), MON, T1)
    second = put(synthetic_path("NIFTY", TUE, 0, data_dir), TUE, T2)

    load_day("NIFTY", MON, data_dir=data_dir)  # now MON is the most recently used
    removed = evict_synthetic(first.stat().st_size, data_dir=data_dir)

    assert [d.path for d in removed] == [second]
    assert first.stat().st_mtime == T1  # the use moved the access time only


def test_missing_days_are_trading_days_with_neither_an_import_nor_a_synthetic_day(data_dir):
    put(imported_path("NIFTY", MON, data_dir), MON, T1, source="imported")
    put(synthetic_path("NIFTY", TUE, 0, data_dir), TUE, T1)

    # 20 Nov 2024 is an exchange holiday (an election); 2 Nov a Saturday.
    assert missing_days("NIFTY", [MON, TUE, WED, date(2024, 11, 20), date(2024, 11, 2)], data_dir=data_dir) == [WED]


def test_removing_an_imported_day_brings_back_the_synthetic_day(data_dir):
    path = put(imported_path("NIFTY", TUE, data_dir), TUE, T1, source="imported")
    put(synthetic_path("NIFTY", TUE, 0, data_dir), TUE, T2)
    size = path.stat().st_size

    removed = remove_imported("NIFTY", TUE, data_dir)

    assert removed == StoredDay("NIFTY", TUE, "imported", path, size, T1)
    assert load_day("NIFTY", TUE, data_dir=data_dir, generate=False).source == "synthetic"
    with pytest.raises(MarketDataMissing, match="no NIFTY market data for 2024-10-29: nothing is imported"):
        remove_imported("NIFTY", TUE, data_dir)


def test_an_import_that_hides_a_synthetic_day_says_which_and_what_changes(tmp_path, data_dir):
    put(synthetic_path("NIFTY", TUE, 0, data_dir), TUE, T1, symbols=("NIFTY", CE, PE))
    csv = tmp_path / "ticks.csv"
    csv.write_text("timestamp,symbol,price\n2024-10-29 09:15:00,NIFTY,24300.15\n"
                   "2024-10-29 09:15:00,NIFTY:2024-10-31:OPT:24300:CE,120.05\n")

    first = import_files([csv], data_dir=data_dir)
    again = import_files([csv], data_dir=data_dir)

    [shadowed] = first.shadowed
    # The import has NIFTY and the CE; the synthetic day had those and the PE, which the import lacks.
    assert (shadowed.underlying, shadowed.day, shadowed.synthetic) == ("NIFTY", TUE, synthetic_path("NIFTY", TUE, 0, data_dir))
    assert (shadowed.imported_symbols, shadowed.synthetic_symbols, shadowed.missing_symbols) == (2, 3, 1)
    assert str(shadowed) == (
        "NIFTY 2024-10-29 also has a synthetic day (2024-10-29.seed0.v2.parquet); sessions started on that day now "
        "replay the imported data (2 instruments) instead of the synthetic day (3 instruments, 1 of them not in "
        "the import, so strategies that select those find no price and place no order)")
    assert again.shadowed == []  # the day was imported already: nothing changes


def test_an_import_of_a_day_without_a_synthetic_day_warns_of_nothing(tmp_path, data_dir):
    csv = tmp_path / "ticks.csv"
    csv.write_text("timestamp,symbol,price\n2024-10-29 09:15:00,NIFTY,24300.15\n")

    assert import_files([csv], data_dir=data_dir).shadowed == []
