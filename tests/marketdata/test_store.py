"""Where days are stored, on-demand generation, precedence of imported data, missing data."""

import os
from datetime import date

import numpy as np
import pytest

from live_trading.marketdata.day import from_ticks, read_day, write_day
from live_trading.marketdata.store import (
    MarketDataMissing,
    imported_path,
    load_day,
    market_data_dir,
    synthetic_path,
)

DAY = date(2024, 10, 29)


def test_a_missing_synthetic_day_is_generated_on_demand_and_then_reused(data_dir):
    path = synthetic_path("NIFTY", DAY, 0, data_dir)
    assert not path.exists()
    day = load_day("NIFTY", DAY, data_dir=data_dir)
    assert path.exists() and day.source == "synthetic" and day.seed == 0
    stamp = path.stat().st_mtime_ns
    again = load_day("NIFTY", DAY, data_dir=data_dir, generate=False)
    assert path.stat().st_mtime_ns == stamp
    assert np.array_equal(day.prices, again.prices)


def test_a_day_file_reads_back_exactly(nifty_day, tmp_path):
    path = tmp_path / "day.parquet"
    write_day(nifty_day, path)
    back = read_day(path)
    assert back.symbols == nifty_day.symbols
    for name in ("timestamps", "prices", "volumes", "oi", "tick_mask"):
        assert np.array_equal(getattr(back, name), getattr(nifty_day, name)), name
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_a_day_read_for_some_symbols_has_their_columns_exactly_and_the_underlying_first(nifty_day, tmp_path):
    path = tmp_path / "day.parquet"
    write_day(nifty_day, path)
    option = nifty_day.symbols[40]

    alone = read_day(path, symbols=())
    some = read_day(path, symbols=[option, "NIFTY:2030-01-01:OPT:1:CE"])  # the second is not in the file

    assert alone.symbols == ["NIFTY"] and some.symbols == ["NIFTY", option]
    for name in ("timestamps", "prices", "volumes", "oi", "tick_mask"):
        full = getattr(nifty_day, name)
        if name != "timestamps":
            full = full[:, [0, 40]]
        assert np.array_equal(getattr(some, name), full), name
        assert np.array_equal(getattr(alone, name), full[:, :1] if name != "timestamps" else full), name


def test_the_head_of_a_day_is_its_first_rows(nifty_day):
    nifty_day.price_list(0)  # the whole day's list, built once and shared by its readers
    head = nifty_day.head(61)  # 09:15:00 to 09:16:00
    assert head.n_ticks == 61 and head.symbols == nifty_day.symbols
    assert head.timestamps[-1] - head.timestamps[0] == 60
    assert np.array_equal(head.prices, nifty_day.prices[:61]) and np.array_equal(head.tick_mask, nifty_day.tick_mask[:61])
    assert head.price_list(0) == nifty_day.prices[:61, 0].tolist()  # not the whole day's shared list


def test_missing_data_that_may_not_be_generated_names_the_day(data_dir):
    with pytest.raises(MarketDataMissing, match="2024-10-29"):
        load_day("NIFTY", DAY, data_dir=data_dir, generate=False)


def test_a_holiday_without_imported_data_is_missing(data_dir):
    with pytest.raises(MarketDataMissing, match=r"2024-11-20.*not a trading day"):
        load_day("NIFTY", date(2024, 11, 20), data_dir=data_dir)


def test_imported_data_takes_precedence_over_synthetic(data_dir):
    load_day("NIFTY", DAY, data_dir=data_dir)
    real = from_ticks(
        "NIFTY", DAY, ["NIFTY"], rows=np.array([0, 5]), cols=np.array([0, 0]),
        price=np.array([2_430_000, 2_430_100]), volume=np.array([0, 0]), oi=np.array([0, 0]), source="imported",
    )
    write_day(real, imported_path("NIFTY", DAY, data_dir))
    day = load_day("NIFTY", DAY, data_dir=data_dir)
    assert day.source == "imported" and day.symbols == ["NIFTY"]
    assert day.prices[4, 0] == 2_430_000 and day.prices[5, 0] == 2_430_100


def test_the_data_folder_comes_from_the_argument_then_the_environment_then_var(tmp_path, monkeypatch):
    monkeypatch.setenv("MARKET_DATA_DIR", str(tmp_path / "env"))
    assert market_data_dir() == tmp_path / "env"
    assert market_data_dir(tmp_path / "arg") == tmp_path / "arg"
    monkeypatch.delenv("MARKET_DATA_DIR")
    assert market_data_dir().parts[-2:] == ("var", "market_data")
    assert os.path.isabs(market_data_dir())


def test_another_seed_is_another_file(data_dir):
    load_day("NIFTY", DAY, data_dir=data_dir, seed=3)
    assert synthetic_path("NIFTY", DAY, 3, data_dir).exists()
    assert not synthetic_path("NIFTY", DAY, 0, data_dir).exists()


def test_column_lookup_names_the_day_when_a_symbol_is_absent(nifty_day):
    assert nifty_day.column("NIFTY") == 0
    with pytest.raises(KeyError, match="2024-10-29"):
        nifty_day.column("NIFTY:2030-01-01:OPT:1:CE")


def options_only_day():
    """An imported file as a partial import wrote it before imports had to include the underlying."""
    pe = "NIFTY:2024-11-07:OPT:24250:PE"
    return from_ticks("NIFTY", DAY, ["NIFTY", pe], rows=np.array([0, 1]), cols=np.array([1, 1]),
                      price=np.array([12_005, 12_010]), volume=np.array([75, 75]), oi=np.array([0, 0]),
                      source="imported")


def test_an_imported_day_whose_underlying_never_has_a_price_is_missing(data_dir):
    path = imported_path("NIFTY", DAY, data_dir)
    path.parent.mkdir(parents=True)
    write_day(options_only_day(), path)
    for generate in (True, False):  # never replayed, and never silently replaced by the synthetic day
        with pytest.raises(MarketDataMissing, match=r"2024-10-29.*no prices for the underlying NIFTY itself"):
            load_day("NIFTY", DAY, data_dir=data_dir, generate=generate)
    assert not synthetic_path("NIFTY", DAY, 0, data_dir).exists()
