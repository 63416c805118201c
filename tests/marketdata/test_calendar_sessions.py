"""Special sessions of a calendar other than the NSE's, as data: US equities' early closes.

``US_EQUITY`` (tests/marketdata/other_markets.toml, appended to the package data file) trades 09:30-16:00
New York, Monday to Friday, with the NYSE's holidays of 2024-2025 and its early closes at 13:00
(``[[calendars.US_EQUITY.extra_sessions]]``): Thanksgiving, Thursday 28 Nov 2024, is a holiday and the
day after, Friday 29 Nov, closes at 13:00 (NYSE, "Holidays and trading hours"). The calendar is checked
against exchange_calendars' XNYS, an independent, maintained list; then 1-minute bars of AAPL (a seeded
random walk written here) over 27 and 29 Nov are imported, and every part that reads a day's hours is
held to the early close: the importer (a bar at or after 13:00 is refused naming its line), the replay
(the day's rows end at 12:59:59), progress (counted before the day is loaded) and the square-off (at
12:59:59, the session's last second, when the strategy's time is later).
"""

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from live_trading.engine.engine import EngineSettings
from live_trading.engine.fees import FeeModel
from live_trading.engine.multiday import MultiDayEngine
from live_trading.marketdata.calendar import calendar_of
from live_trading.marketdata.candles import day_candles
from live_trading.marketdata.importer import ImportFailed, import_files
from live_trading.marketdata.store import day_ticks, load_day
from live_trading.marketdata.universe import InstrumentError, Universe
from strategies.graph import parse_graph
from tests.marketdata.markets import (
    as_candles,
    bars_csv,
    imported_and_read_back,
    markets_universe,
    random_bars,
)

__all__ = ["markets_universe"]  # the fixture, used by name below

NEW_YORK = ZoneInfo("America/New_York")
WEDNESDAY, THANKSGIVING, FRIDAY = date(2024, 11, 27), date(2024, 11, 28), date(2024, 11, 29)
SHARES = 10


def ny(day: date, hms: str) -> datetime:
    h, m, s = (int(x) for x in hms.split(":"))
    return datetime(day.year, day.month, day.day, h, m, s, tzinfo=NEW_YORK)


def aapl_bars():
    """1-minute bars of AAPL: 390 on Wednesday 27 Nov 2024 (09:30-15:59), 210 on Friday 29 Nov (09:30-12:59)."""
    return (random_bars(ny(WEDNESDAY, "09:30:00"), 390, 60, first=234_00, seed=27)
            + random_bars(ny(FRIDAY, "09:30:00"), 210, 60, first=235_00, seed=29))


@pytest.fixture
def imported(markets_universe, tmp_path):
    data_dir = tmp_path / "market_data"
    bars = aapl_bars()
    written = import_files([bars_csv(tmp_path / "aapl_1m.csv", "AAPL", bars)], data_dir=data_dir).written
    assert [p.name for p in written] == ["2024-11-27.parquet", "2024-11-29.parquet"]
    return bars, data_dir


def test_the_calendar_as_data_agrees_with_exchange_calendars_xnys_in_2024_and_2025(markets_universe):
    import exchange_calendars

    xnys = exchange_calendars.get_calendar("XNYS")
    sessions = xnys.sessions_in_range("2024-01-01", "2025-12-31")
    expected = {ts.date(): ((int(xnys.session_open(ts).timestamp()), int(xnys.session_close(ts).timestamp())),)
                for ts in sessions}
    calendar = calendar_of("AAPL")
    ours = {d: calendar.windows_ts(d) for d in calendar.trading_days(date(2024, 1, 1), date(2025, 12, 31))}
    assert ours == expected
    assert len([d for d, windows in ours.items() if windows[0][1] - windows[0][0] == 12_600]) == 6  # early closes


def test_the_day_after_thanksgiving_closes_at_one(markets_universe):
    calendar = calendar_of("AAPL")
    assert calendar.trading_days(date(2024, 11, 25), date(2024, 12, 2)) == [
        date(2024, 11, 25), date(2024, 11, 26), WEDNESDAY, FRIDAY, date(2024, 12, 2)]
    assert calendar.describe_hours(FRIDAY) == "09:30:00-12:59:59 America/New_York"
    assert calendar.describe_hours(WEDNESDAY) == "09:30:00-15:59:59 America/New_York"
    assert calendar.windows_ts(FRIDAY) == ((int(ny(FRIDAY, "09:30:00").timestamp()),
                                           int(ny(FRIDAY, "13:00:00").timestamp())),)
    assert (calendar.expected_rows(WEDNESDAY), calendar.expected_rows(FRIDAY)) == (23_400, 12_600)
    assert calendar.special_session(FRIDAY).kind == "early_close"


def test_the_imported_early_close_day_has_its_rows_and_no_more(imported):
    bars, data_dir = imported
    friday = load_day("AAPL", FRIDAY, data_dir=data_dir, generate=False)
    assert friday.n_ticks == 12_600  # every second of 09:30:00-12:59:59
    first, last = (datetime.fromtimestamp(int(ts), NEW_YORK) for ts in (friday.timestamps[0], friday.timestamps[-1]))
    assert (first, last) == (ny(FRIDAY, "09:30:00"), ny(FRIDAY, "12:59:59"))
    assert friday.prices[-1, 0] == bars[-1][4]  # the 12:59 bar's close
    assert (day_ticks("AAPL", WEDNESDAY, data_dir), day_ticks("AAPL", FRIDAY, data_dir)) == (23_400, 12_600)


@pytest.mark.parametrize(("rows", "timeframe", "message"), [
    (["2024-11-29 12:59:00,AAPL,235.10,235.20,235.00,235.15", "2024-11-29 13:00:00,AAPL,235.15,235.30,235.10,235.20"],
     "1m", "line 3, field 'timestamp': 2024-11-29 13:00:00-05:00 is outside the sessions of the US_EQUITY calendar "
           "(09:30:00-12:59:59 America/New_York, its trading days and holidays)"),
    (["2024-11-28 10:00:00,AAPL,235.10,235.20,235.00,235.15"],
     "1m", "line 2, field 'timestamp': 2024-11-28 10:00:00-05:00 is outside the sessions of the US_EQUITY calendar"),
    (["2024-11-29 12:30:00,AAPL,235.10,235.20,235.00,235.15", "2024-11-29 13:30:00,AAPL,235.10,235.20,235.00,235.15"],
     "1h", "line 3, field 'timestamp': 2024-11-29 13:30:00-05:00 is outside the sessions of the US_EQUITY calendar "
           "(09:30:00-12:59:59 America/New_York, its trading days and holidays)"),
    (["2024-11-29 09:30:00,AAPL,235.10,235.20,235.00,235.15", "2024-11-29 10:00:00,AAPL,235.10,235.20,235.00,235.15"],
     "1h", "line 3, field 'timestamp': a 1h candle must start on the 1h grid from the session open "
           "(09:30 America/New_York)"),
])
def test_bars_after_the_early_close_are_refused_naming_the_line(markets_universe, tmp_path, rows, timeframe, message):
    path = tmp_path / "late.csv"
    path.write_text("timestamp,symbol,open,high,low,close\n" + "\n".join(rows) + "\n")

    with pytest.raises(ImportFailed) as refused:
        import_files([path], data_dir=tmp_path / "md", timeframe=timeframe)

    assert message in str(refused.value)
    assert len(refused.value.issues) == 1
    assert not (tmp_path / "md").exists()


@pytest.mark.parametrize(("rows", "timeframe", "day", "ticks"), [
    # The last hourly bar before the early close, 12:30-13:00: its four ticks over its half hour.
    (["2024-11-29 11:30:00,AAPL,235.10,235.60,234.90,235.40,100", "2024-11-29 12:30:00,AAPL,235.40,235.45,234.95,235.00,70"],
     "1h", FRIDAY, ["11:30:00", "11:50:00", "12:10:00", "12:29:59", "12:30:00", "12:40:00", "12:50:00", "12:59:59"]),
    # A regular day's last hourly bar on the grid from 09:30, 15:30-16:00.
    (["2024-11-27 15:30:00,AAPL,235.10,235.60,234.90,235.40,100"], "1h", WEDNESDAY,
     ["15:30:00", "15:40:00", "15:50:00", "15:59:59"]),
    # A daily bar: the whole session, 09:30-16:00 (6 h 30 min: extremes at 11:40 and 13:50).
    (["2024-11-27 09:30:00,AAPL,234.00,236.60,233.90,235.40,9000"], "1d", WEDNESDAY,
     ["09:30:00", "11:40:00", "13:50:00", "15:59:59"]),
])
def test_a_bar_the_close_cuts_short_is_kept_over_its_part_of_the_session(markets_universe, tmp_path, rows, timeframe,
                                                                        day, ticks):
    seen, candles = imported_and_read_back(rows, timeframe, "AAPL", day, NEW_YORK, tmp_path)

    assert seen == ticks
    # Built again from the stored ticks, the candles are the imported bars.
    assert candles == as_candles(rows, "AAPL")


def bought_at_a_quarter_to_ten(holding: str = "intraday") -> dict:
    start = {"underlying": "AAPL", "start_time": "09:30", "square_off_time": "15:55"}
    if holding == "positional":
        start |= {"holding": "positional", "positional_square_off": "end_of_range"}
    return {"format_version": 1, "name": "AAPL at 09:45", "nodes": [
        {"id": "start", "type": "start", "config": start},
        {"id": "at", "type": "entry_signal", "config": {"conditions": {"all": [
            {"left": {"type": "time_of_day"}, "operator": ">=", "right": {"type": "value", "value": "09:45"}}]}}},
        {"id": "buy", "type": "entry", "config": {"instrument": "underlying", "side": "buy", "lots": SHARES}},
    ], "edges": [{"from": "start", "to": "at"}, {"from": "at", "to": "buy"}]}


def engine_over(graph: dict, data_dir) -> MultiDayEngine:
    days = calendar_of("AAPL").trading_days(WEDNESDAY, FRIDAY)
    assert days == [WEDNESDAY, FRIDAY]  # Thanksgiving is not replayed
    return MultiDayEngine(parse_graph(graph), days,
                          settings=EngineSettings(fees=FeeModel("none"), starting_capital=10**6 * 100),
                          load=lambda underlying, day: load_day(underlying, day, data_dir=data_dir, generate=False))


def bar_at(bars, when: datetime):
    return next(b for b in bars if b[0] == when)


def test_replay_progress_and_square_off_follow_the_early_close(imported):
    bars, data_dir = imported
    engine = engine_over(bought_at_a_quarter_to_ten(), data_dir)
    # Counted from the calendar before the Friday is loaded: a full day and the short one.
    assert engine.total_ticks == 23_400 + 12_600

    engine.run()

    trades = [(datetime.fromtimestamp(t.entry_time, NEW_YORK), t.entry_price,
               datetime.fromtimestamp(t.exit_time, NEW_YORK), t.exit_price, t.exit_reason)
              for t in engine.carry.store.trades]
    # Each day: bought at 09:45:00, the 09:45 bar's open tick. Wednesday squares off at 15:55:00 (the 15:55
    # bar's open), Friday at its last second, 12:59:59 (the 12:59 bar's close), before 15:55 comes.
    assert trades == [
        (ny(WEDNESDAY, "09:45:00"), bar_at(bars, ny(WEDNESDAY, "09:45:00"))[1],
         ny(WEDNESDAY, "15:55:00"), bar_at(bars, ny(WEDNESDAY, "15:55:00"))[1], "square_off"),
        (ny(FRIDAY, "09:45:00"), bar_at(bars, ny(FRIDAY, "09:45:00"))[1],
         ny(FRIDAY, "12:59:59"), bar_at(bars, ny(FRIDAY, "12:59:00"))[4], "square_off"),
    ]
    assert (engine.ticks_processed, engine.total_ticks) == (36_000, 36_000)


def test_a_position_held_into_the_early_close_squares_off_at_its_last_second(imported):
    bars, data_dir = imported
    engine = engine_over(bought_at_a_quarter_to_ten("positional"), data_dir)

    summary = engine.run()

    [trade] = engine.carry.store.trades
    entry = bar_at(bars, ny(WEDNESDAY, "09:45:00"))[1]
    wednesday_close = bar_at(bars, ny(WEDNESDAY, "15:59:00"))[4]
    friday_close = bar_at(bars, ny(FRIDAY, "12:59:00"))[4]
    assert (datetime.fromtimestamp(trade.exit_time, NEW_YORK), trade.exit_price, trade.exit_reason) == (
        ny(FRIDAY, "12:59:59"), friday_close, "square_off")
    cent = Decimal("0.01")
    assert list(summary.daily_pnl) == [(WEDNESDAY, SHARES * (wednesday_close - entry) * cent),
                                       (FRIDAY, SHARES * (friday_close - wednesday_close) * cent)]


@pytest.mark.parametrize(("session", "message"), [
    ('date = 2024-11-29\nhours = [["09:30", "25:00"]]', "calendars.X.extra_sessions 2024-11-29.hours: '25:00' is not a time HH:MM"),
    ('date = 2024-11-29\nhours = [["09:30", "13:00"], ["12:30", "14:00"]]',
     "calendars.X.extra_sessions 2024-11-29.hours: windows must be increasing, not overlapping, within 24 hours"),
    ('hours = [["09:30", "13:00"]]', "calendars.X.extra_sessions: each entry needs a date (YYYY-MM-DD)"),
])
def test_a_malformed_special_session_is_refused_naming_the_field(tmp_path, session, message):
    path = tmp_path / "u.toml"
    path.write_text('[calendars.X]\ntime_zone = "America/New_York"\nweekdays = ["MON"]\nhours = [["09:30", "16:00"]]\n'
                    f"[[calendars.X.extra_sessions]]\n{session}\n"
                    '[underlyings.NIFTY]\nkind = "index"\n')
    with pytest.raises(InstrumentError) as refused:
        Universe.from_file(path)
    assert str(refused.value) == message


def test_the_early_close_is_cut_on_the_regular_candle_grid(imported):
    bars, data_dir = imported
    hourly = day_candles(load_day("AAPL", FRIDAY, data_dir=data_dir, generate=False), "AAPL", "1h")
    frame = pd.DataFrame([b for b in bars if b[0].date() == FRIDAY],
                         columns=["start", "open", "high", "low", "close", "volume"]).set_index("start")
    frame.index = pd.DatetimeIndex(frame.index).tz_convert(UTC)
    # pandas, on the grid from 09:30 New York: 09:30, 10:30, 11:30 and the last, shorter 12:30-13:00.
    expected = frame.resample("1h", origin=pd.Timestamp(ny(FRIDAY, "09:30:00")).tz_convert(UTC)).agg(
        {"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"})
    assert [(datetime.fromtimestamp(c.start, UTC), c.open, c.high, c.low, c.close, c.volume) for c in hourly] == [
        (t.to_pydatetime(), *(int(v) for v in row)) for t, row in expected.iterrows()]
    assert len(hourly) == 4
