"""Importing real data: every refusal writes nothing, good data lands in exchange time, re-imports are harmless."""

from datetime import date

import pandas as pd
import pytest

from live_trading.marketdata.calendar import market_open_ts
from live_trading.marketdata.candles import Candle, aggregate, day_candles
from live_trading.marketdata.importer import ImportFailed, import_files
from live_trading.marketdata.store import imported_path, load_day

DAY = date(2024, 10, 29)
OPEN = market_open_ts(DAY)
PE = "NIFTY:2024-11-07:OPT:24250:PE"

GOOD_TICKS = """timestamp,symbol,price,volume,oi
2024-10-29 09:15:00,NIFTY,24300.15,,
2024-10-29 09:15:00,NIFTY24N0724250PE,120.05,75,1000
2024-10-29T09:15:01+05:30,NIFTY,24301.00,0,
2024-10-29T03:45:02Z,NIFTY:2024-11-07:OPT:24250:PE,119.50,150,1075
"""


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def files_in(folder):
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def refuse(data_dir, *paths):
    with pytest.raises(ImportFailed) as info:
        import_files(paths, data_dir=data_dir)
    return str(info.value)


def test_good_ticks_land_in_exchange_time_with_canonical_symbols(tmp_path, data_dir):
    result = import_files([write(tmp_path, "ticks.csv", GOOD_TICKS)], data_dir=data_dir)
    assert result.written == [imported_path("NIFTY", DAY, data_dir)]
    day = load_day("NIFTY", DAY, data_dir=data_dir, generate=False)
    assert day.source == "imported" and day.symbols == ["NIFTY", PE]
    col = day.column(PE)
    # 09:15:00 naive, 09:15:01+05:30 and 03:45:02Z are the first three seconds of the session.
    assert day.prices[0].tolist() == [2_430_015, 12_005]
    assert day.prices[1].tolist() == [2_430_100, 12_005]
    assert day.prices[2].tolist() == [2_430_100, 11_950]
    assert day.volumes[:3, col].tolist() == [75, 0, 150]
    assert day.oi[2, col] == 1075
    assert day.tick_mask[:3].tolist() == [[True, True], [True, False], [False, True]]


def test_importing_the_same_file_twice_gives_the_same_bytes(tmp_path, data_dir):
    source = write(tmp_path, "ticks.csv", GOOD_TICKS)
    import_files([source], data_dir=data_dir)
    first = imported_path("NIFTY", DAY, data_dir).read_bytes()
    import_files([source], data_dir=data_dir)
    assert imported_path("NIFTY", DAY, data_dir).read_bytes() == first
    assert files_in(data_dir) == ["imported/NIFTY/2024-10-29.parquet"]


CANDLES = """timestamp,symbol,open,high,low,close,volume,oi
2024-10-29 09:15:00,NIFTY:2024-10-31:OPT:24300:CE,100,110,95.5,105,750,5000
2024-10-29 09:16:00,NIFTY:2024-10-31:OPT:24300:CE,105,106,90,91,300,5100
2024-10-29 09:17:00,NIFTY:2024-10-31:OPT:24300:CE,91,93,91,92.5,150,5100
"""


SPOT = "timestamp,symbol,price\n2024-10-29 09:15:00,NIFTY,24300.15\n"


def test_imported_candles_come_back_exactly_and_aggregate(tmp_path, data_dir):
    import_files([write(tmp_path, "bars.csv", CANDLES), write(tmp_path, "spot.csv", SPOT)], data_dir=data_dir)
    day = load_day("NIFTY", DAY, data_dir=data_dir, generate=False)
    ce = "NIFTY:2024-10-31:OPT:24300:CE"
    minutes = day_candles(day, ce, "1m")
    assert minutes == [
        Candle(ce, 60, OPEN, 10_000, 11_000, 9_550, 10_500, 750),
        Candle(ce, 60, OPEN + 60, 10_500, 10_600, 9_000, 9_100, 300),
        Candle(ce, 60, OPEN + 120, 9_100, 9_300, 9_100, 9_250, 150),
    ]
    assert day_candles(day, ce, "3m") == aggregate(minutes, "3m") == [
        Candle(ce, 180, OPEN, 10_000, 11_000, 9_000, 9_250, 1_200)
    ]
    assert day.bar_symbols == {ce}


def test_a_later_import_replaces_only_its_own_symbols(tmp_path, data_dir):
    ticks = write(tmp_path, "ticks.csv", GOOD_TICKS)
    import_files([ticks], data_dir=data_dir)
    import_files([write(tmp_path, "bars.csv", CANDLES)], data_dir=data_dir)
    day = load_day("NIFTY", DAY, data_dir=data_dir, generate=False)
    assert day.symbols == ["NIFTY", "NIFTY:2024-10-31:OPT:24300:CE", PE]
    assert day.prices[0, 0] == 2_430_015
    merged = imported_path("NIFTY", DAY, data_dir).read_bytes()
    import_files([ticks], data_dir=data_dir)
    assert imported_path("NIFTY", DAY, data_dir).read_bytes() == merged


def test_parquet_input_with_aware_timestamps_and_float_prices(tmp_path, data_dir):
    frame = pd.DataFrame(
        {
            "timestamp": pd.to_datetime(["2024-10-29 03:45:00", "2024-10-29 03:45:05"]).tz_localize("UTC"),
            "symbol": ["NIFTY", "NIFTY"],
            "price": [24300.15, 24299.9],
            "volume": [0, 0],
        }
    )
    path = tmp_path / "ticks.parquet"
    frame.to_parquet(path)
    import_files([path], data_dir=data_dir)
    day = load_day("NIFTY", DAY, data_dir=data_dir, generate=False)
    assert day.prices[0, 0] == 2_430_015 and day.prices[5, 0] == 2_429_990


def test_parquet_problems_are_reported_by_row(tmp_path, data_dir):
    frame = pd.DataFrame({"timestamp": ["2024-10-29 09:15:00", "yesterday"], "symbol": ["NIFTY"] * 2,
                          "price": [24300.15, 24300.2]})
    path = tmp_path / "ticks.parquet"
    frame.to_parquet(path)
    message = refuse(data_dir, path)
    assert f"{path}, row 2, field 'timestamp'" in message
    assert files_in(data_dir) == []


FAILURES = {
    "unknown column": (
        "timestamp,symbol,price,colour\n2024-10-29 09:15:00,NIFTY,24300.15,red\n",
        "line 1, field 'colour': unknown column",
    ),
    "unparseable timestamp": (
        "timestamp,symbol,price\n2024-10-29 09:15:00,NIFTY,24300.15\n29/10/2024 09:15:01,NIFTY,24300.20\n",
        "line 3, field 'timestamp'",
    ),
    "impossible timestamp": (
        "timestamp,symbol,price\n2024-10-32 09:15:00,NIFTY,24300.15\n",
        "line 2, field 'timestamp': '2024-10-32 09:15:00' is not a valid date",
    ),
    "zero price": (
        "timestamp,symbol,price\n2024-10-29 09:15:00,NIFTY,0.00\n",
        "line 2, field 'price': 0.00 is not positive",
    ),
    "negative price": (
        "timestamp,symbol,price\n2024-10-29 09:15:00,NIFTY,-5\n",
        "line 2, field 'price': '-5' is negative",
    ),
    "off-tick option price": (
        f"timestamp,symbol,price\n2024-10-29 09:15:00,{PE},120.03\n",
        "line 2, field 'price': 120.03 is off the 0.05 tick",
    ),
    "price with three decimals": (
        "timestamp,symbol,price\n2024-10-29 09:15:00,NIFTY,24300.155\n",
        "line 2, field 'price': 24300.155 has more than two decimals",
    ),
    "duplicate row": (
        "timestamp,symbol,price\n2024-10-29 09:15:00,NIFTY,24300.15\n2024-10-29 09:15:00,NIFTY,24300.15\n",
        "line 3, field 'timestamp': duplicate: NIFTY already has a row at this time (line 2)",
    ),
    "out-of-order row": (
        "timestamp,symbol,price\n2024-10-29 09:15:05,NIFTY,24300.15\n2024-10-29 09:15:01,NIFTY,24300.20\n",
        "line 3, field 'timestamp': out of order",
    ),
    "unknown underlying": (
        "timestamp,symbol,price\n2024-10-29 09:15:00,NIFTY,24300.15\n2024-10-29 09:15:00,GOLD,71000\n",
        "line 3, field 'symbol': unknown symbol 'GOLD'",
    ),
    "malformed symbol": (
        "timestamp,symbol,price\n2024-10-29 09:15:00,NIFTY:2024-11-07:OPT:24250,120.05\n",
        "line 2, field 'symbol': unknown symbol",
    ),
    "mixed days": (
        "timestamp,symbol,price\n2024-10-29 09:15:00,NIFTY,24300.15\n2024-10-30 09:15:00,NIFTY,24310.15\n",
        "line 3, field 'timestamp': mixed days",
    ),
    "outside the session": (
        "timestamp,symbol,price\n2024-10-29 15:30:00,NIFTY,24300.15\n",
        "line 2, field 'timestamp': outside the session",
    ),
    "expired option": (
        "timestamp,symbol,price\n2024-10-29 09:15:00,NIFTY:2024-10-24:OPT:24250:PE,10\n",
        "line 2, field 'symbol': NIFTY:2024-10-24:OPT:24250:PE expired",
    ),
    "holiday": (
        "timestamp,symbol,price\n2024-11-20 09:15:00,NIFTY,24300.15\n",
        "line 2, field 'timestamp': 2024-11-20 is not a trading day",
    ),
    "negative volume": (
        "timestamp,symbol,price,volume\n2024-10-29 09:15:00,NIFTY,24300.15,-1\n",
        "line 2, field 'volume'",
    ),
    "price and candles together": (
        "timestamp,symbol,price,open,high,low,close\n2024-10-29 09:15:00,NIFTY,1,1,1,1,1\n",
        "field 'price': give either price",
    ),
    "no price at all": ("timestamp,symbol,volume\n2024-10-29 09:15:00,NIFTY,1\n", "field 'price': need a price"),
    "candle high below close": (
        "timestamp,symbol,open,high,low,close\n2024-10-29 09:15:00,NIFTY,100,101,99,102\n",
        "line 2, field 'high': high is below",
    ),
    "candle not on a minute": (
        "timestamp,symbol,open,high,low,close\n2024-10-29 09:15:30,NIFTY,100,101,99,100\n",
        "line 2, field 'timestamp': a 1-minute candle must start on a whole minute",
    ),
    "sub-second timestamp": (
        "timestamp,symbol,price\n2024-10-29 09:15:00.250,NIFTY,24300.15\n",
        "line 2, field 'timestamp'",
    ),
    "no rows": ("timestamp,symbol,price\n", "no data rows"),
    # 29 Oct 2024 lists the NIFTY weeklies 31 Oct-28 Nov (Thursdays) and the monthlies of Oct, Nov, Dec.
    "option expiring on a Friday": (
        "timestamp,symbol,price\n2024-10-29 09:15:00,NIFTY,24300.15\n2024-10-29 09:15:00,NIFTY:2024-11-08:OPT:24250:PE,120\n",
        "line 3, field 'symbol': NIFTY:2024-11-08:OPT:24250:PE: 2024-11-08 (Friday) is not a NIFTY expiry listed on 2024-10-29",
    ),
    "option expiring years ahead": (
        # The last Tuesday of January 2030 follows the expiry rule but was not listed in October 2024.
        "timestamp,symbol,price\n2024-10-29 09:15:00,NIFTY,24300.15\n2024-10-29 09:15:00,NIFTY:2030-01-29:OPT:24250:PE,120\n",
        "line 3, field 'symbol': NIFTY:2030-01-29:OPT:24250:PE: 2030-01-29 (Tuesday) is not a NIFTY expiry listed",
    ),
    "option strike off the 50-point grid": (
        f"timestamp,symbol,price\n2024-10-29 09:15:00,NIFTY,24300.15\n2024-10-29 09:15:00,{PE.replace('24250', '24255')},120\n",
        "line 3, field 'symbol': NIFTY:2024-11-07:OPT:24255:PE: strike 24255 is off NIFTY's strike step of 50 rupees",
    ),
    "BANKNIFTY weekly after weeklies ended": (
        "timestamp,symbol,price\n2024-12-02 09:15:00,BANKNIFTY,51000\n2024-12-02 09:15:00,BANKNIFTY:2024-12-04:OPT:51000:CE,300\n",
        "line 3, field 'symbol': BANKNIFTY:2024-12-04:OPT:51000:CE: 2024-12-04 (Wednesday) is not a BANKNIFTY expiry",
    ),
    "BANKNIFTY strike off the 100-point grid": (
        "timestamp,symbol,price\n2024-12-02 09:15:00,BANKNIFTY,51000\n2024-12-02 09:15:00,BANKNIFTY:2024-12-24:OPT:51050:CE,300\n",
        "line 3, field 'symbol': BANKNIFTY:2024-12-24:OPT:51050:CE: strike 51050 is off BANKNIFTY's strike step of 100",
    ),
    # Digits of other scripts: Python's int and Decimal read them, and the regex \d matches them (config.ascii).
    "price in Arabic-Indic digits": (
        "timestamp,symbol,price\n2024-10-29 09:15:00,NIFTY,\u0662\u0664\u0663\u0660\u0660.15\n",
        "line 2, field 'price': '\u0662\u0664\u0663\u0660\u0660.15' is not a price in rupees",
    ),
    "fullwidth volume": (
        "timestamp,symbol,price,volume\n2024-10-29 09:15:00,NIFTY,24300.15,\uff17\uff15\n",
        "line 2, field 'volume'",
    ),
    "Devanagari open interest": (
        f"timestamp,symbol,price,oi\n2024-10-29 09:15:00,NIFTY,24300.15,\n2024-10-29 09:15:00,{PE},120.05,\u0967\u0966\n",
        "line 3, field 'oi'",
    ),
    "candle price in fullwidth digits": (
        "timestamp,symbol,open,high,low,close\n2024-10-29 09:15:00,NIFTY,100,\uff11\uff10\uff11,99,100\n",
        "line 2, field 'high'",
    ),
    "timestamp in Arabic-Indic digits": (
        "timestamp,symbol,price\n\u0662\u0660\u0662\u0664-10-29 09:15:00,NIFTY,24300.15\n",
        "line 2, field 'timestamp'",
    ),
    "broker symbol with fullwidth strike": (
        "timestamp,symbol,price\n2024-10-29 09:15:00,NIFTY,24300.15\n2024-10-29 09:15:00,NIFTY24N07\uff12\uff14\uff12\uff15\uff10PE,120\n",
        "line 3, field 'symbol': unknown symbol 'NIFTY24N07\uff12\uff14\uff12\uff15\uff10PE'",
    ),
    "weekly broker symbol of the monthly expiry": (
        "timestamp,symbol,price\n2024-10-29 09:15:00,NIFTY,24300.15\n2024-10-29 09:15:00,NIFTY24O3124250PE,120\n",
        "line 3, field 'symbol': unknown symbol 'NIFTY24O3124250PE'",
    ),
}


@pytest.mark.parametrize("case", FAILURES)
def test_it_refuses_bad_input_naming_file_line_and_field_and_writes_nothing(case, tmp_path, data_dir):
    text, expected = FAILURES[case]
    path = write(tmp_path, "input.csv", text)
    message = refuse(data_dir, path)
    assert f"{path}, {expected}" in message or expected in message
    assert str(path) in message
    assert files_in(data_dir) == []


def test_it_refuses_off_tick_prices_and_writes_nothing(tmp_path, data_dir):
    message = refuse(data_dir, write(tmp_path, "a.csv", f"timestamp,symbol,price\n2024-10-29 09:15:00,{PE},0.07\n"))
    assert "off the 0.05 tick" in message
    assert files_in(data_dir) == []


def test_a_refused_import_leaves_earlier_data_untouched(tmp_path, data_dir):
    import_files([write(tmp_path, "good.csv", GOOD_TICKS)], data_dir=data_dir)
    before = imported_path("NIFTY", DAY, data_dir).read_bytes()
    bad = write(tmp_path, "bad.csv", f"timestamp,symbol,price\n2024-10-29 09:15:00,{PE},120.03\n")
    good = write(tmp_path, "good2.csv", "timestamp,symbol,price\n2024-10-29 09:20:00,BANKNIFTY,51000\n")
    refuse(data_dir, good, bad)  # one bad file: none of them is imported
    assert imported_path("NIFTY", DAY, data_dir).read_bytes() == before
    assert files_in(data_dir) == ["imported/NIFTY/2024-10-29.parquet"]


def test_the_same_symbol_in_two_files_of_one_import_is_refused(tmp_path, data_dir):
    a = write(tmp_path, "a.csv", "timestamp,symbol,price\n2024-10-29 09:15:00,NIFTY,24300.15\n")
    b = write(tmp_path, "b.csv", "timestamp,symbol,price\n2024-10-29 09:16:00,NIFTY,24300.20\n")
    assert "also in" in refuse(data_dir, a, b)
    assert files_in(data_dir) == []


def test_a_missing_file_is_reported(tmp_path, data_dir):
    assert "no such file" in refuse(data_dir, tmp_path / "nope.csv")


def test_all_problems_of_a_file_are_listed(tmp_path, data_dir):
    text = "timestamp,symbol,price\n2024-10-29 09:15:00,NIFTY,24300.13\nnot a time,NIFTY,1\n2024-10-29 09:15:02,XX:1,5\n"
    with pytest.raises(ImportFailed) as info:
        import_files([write(tmp_path, "many.csv", text)], data_dir=data_dir)
    # Index values are published to the paisa, so 24300.13 is a valid NIFTY price.
    assert [(i.line, i.field) for i in info.value.issues] == [(3, "timestamp"), (4, "symbol")]


def test_listed_options_on_the_strike_grid_are_accepted(tmp_path, data_dir):
    text = (
        "timestamp,symbol,price\n2024-10-29 09:15:00,NIFTY,24300.15\n"
        "2024-10-29 09:15:00,NIFTY:2024-10-31:OPT:24300:CE,100\n"  # this week's, also the monthly
        "2024-10-29 09:15:00,NIFTY:2024-11-28:OPT:24300:CE,300\n"  # a weekly five weeks out (Nov monthly)
        "2024-10-29 09:15:00,NIFTY:2024-12-26:OPT:24300:CE,500\n"  # the third monthly
    )
    assert import_files([write(tmp_path, "ok.csv", text)], data_dir=data_dir).rows == 4


OPTIONS_ONLY = f"""timestamp,symbol,price
2024-10-29 09:15:00,{PE},120.05
2024-10-29 09:15:01,{PE},120.10
2024-10-29 09:15:00,NIFTY:2024-11-07:OPT:24250:CE,150.00
2024-10-29 09:15:01,NIFTY:2024-11-07:OPT:24250:CE,149.95
"""


def test_options_without_their_underlying_are_refused_naming_the_file_and_field(tmp_path, data_dir):
    path = write(tmp_path, "options.csv", OPTIONS_ONLY)
    message = refuse(data_dir, path)
    assert f"{path}, line 2, field 'symbol': no rows for the underlying NIFTY on 2024-10-29" in message
    assert files_in(data_dir) == []


def test_options_without_their_underlying_in_parquet_are_refused_by_row(tmp_path, data_dir):
    path = tmp_path / "options.parquet"
    pd.DataFrame({"timestamp": ["2024-10-29 09:15:00"], "symbol": [PE], "price": [120.05]}).to_parquet(path)
    assert f"{path}, row 1, field 'symbol': no rows for the underlying NIFTY" in refuse(data_dir, path)
    assert files_in(data_dir) == []


def test_the_underlying_may_come_from_another_file_of_the_same_import(tmp_path, data_dir):
    options = write(tmp_path, "options.csv", OPTIONS_ONLY)
    import_files([options, write(tmp_path, "spot.csv", SPOT)], data_dir=data_dir)
    day = load_day("NIFTY", DAY, data_dir=data_dir, generate=False)
    assert day.prices[0, 0] == 2_430_015 and day.prices[0, day.column(PE)] == 12_005


def test_options_may_join_a_day_already_imported_with_its_underlying(tmp_path, data_dir):
    import_files([write(tmp_path, "spot.csv", SPOT)], data_dir=data_dir)
    import_files([write(tmp_path, "options.csv", OPTIONS_ONLY)], data_dir=data_dir)
    day = load_day("NIFTY", DAY, data_dir=data_dir, generate=False)
    assert day.prices[1].tolist() == [2_430_015, 14_995, 12_010]  # NIFTY, the CE, the PE


def test_options_of_an_underlying_missing_from_a_mixed_file_are_refused(tmp_path, data_dir):
    text = SPOT + "2024-10-29 09:15:00,BANKNIFTY:2024-10-30:OPT:51000:CE,300\n"
    message = refuse(data_dir, write(tmp_path, "mixed.csv", text))
    assert "line 3, field 'symbol': no rows for the underlying BANKNIFTY on 2024-10-29" in message
    assert files_in(data_dir) == []
