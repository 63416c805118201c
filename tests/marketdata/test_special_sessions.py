"""Special sessions: days the NSE traded with hours of their own, and everything that replays them.

Hours are the exchange's, as cited in docs/marketdata.md (written here as clock times, not read from
the data file): Saturday 20 Jan 2024 a full regular day (22 Jan a holiday); the DR-drill Saturdays
2 Mar and 18 May 2024 in two windows, 09:15-10:00 at the primary site and 11:30-12:30 at the DR site;
the Muhurat sessions 12 Nov 2023 18:15-19:15, 1 Nov 2024 18:00-19:00, 21 Oct 2025 13:45-14:45. A
window's close is exclusive: its last tick is one second before.
"""

from datetime import date, datetime

import numpy as np
import pytest

from live_trading.engine.events import ListSink, NodeExecuted, SessionComplete, TradeClosed
from live_trading.engine.multiday import MultiDayEngine
from live_trading.marketdata.calendar import (
    EXCHANGE_TZ,
    holds_expiries,
    is_trading_day,
    trading_days,
    trading_seconds,
    trading_timestamps,
)
from live_trading.marketdata.candles import day_candles
from live_trading.marketdata.feed import ReplayFeed
from live_trading.marketdata.importer import ImportFailed, import_files
from live_trading.marketdata.instruments import weekly_expiries
from live_trading.marketdata.store import load_day
from live_trading.marketdata.synthetic import generate_day
from tests.engine.scripted import at_time, build, option_entry, start

SATURDAY = date(2024, 1, 20)
DR_DRILL = date(2024, 3, 2)


def ist(day: date, hms: str) -> int:
    h, m, s = (int(x) for x in hms.split(":"))
    return int(datetime(day.year, day.month, day.day, h, m, s, tzinfo=EXCHANGE_TZ).timestamp())


def clock(ts: int) -> str:
    return datetime.fromtimestamp(int(ts), EXCHANGE_TZ).strftime("%H:%M:%S")


def windows_of(timestamps) -> list[tuple[str, str]]:
    """The runs of consecutive seconds in ``timestamps`` as (first, last) clock times."""
    ts = np.asarray(timestamps)
    breaks = np.nonzero(np.diff(ts) != 1)[0]
    starts = [0, *(breaks + 1)]
    ends = [*breaks, len(ts) - 1]
    return [(clock(ts[a]), clock(ts[b])) for a, b in zip(starts, ends, strict=True)]


@pytest.mark.parametrize(("day", "windows", "seconds"), [
    (date(2024, 10, 29), [("09:15:00", "15:29:59")], 22_500),  # a regular Tuesday: 6 h 15 min
    (SATURDAY, [("09:15:00", "15:29:59")], 22_500),
    (DR_DRILL, [("09:15:00", "09:59:59"), ("11:30:00", "12:29:59")], 45 * 60 + 60 * 60),
    (date(2024, 5, 18), [("09:15:00", "09:59:59"), ("11:30:00", "12:29:59")], 6_300),
    (date(2023, 11, 12), [("18:15:00", "19:14:59")], 3_600),  # a Sunday
    (date(2024, 11, 1), [("18:00:00", "18:59:59")], 3_600),
    (date(2025, 10, 21), [("13:45:00", "14:44:59")], 3_600),
])
def test_each_special_session_has_its_own_hours(day, windows, seconds):
    assert is_trading_day(day)
    assert windows_of(trading_timestamps(day)) == windows
    assert trading_seconds(day) == seconds


def test_the_saturday_made_up_for_the_monday_holiday():
    assert trading_days(date(2024, 1, 19), date(2024, 1, 23)) == [
        date(2024, 1, 19), SATURDAY, date(2024, 1, 23)]


def test_only_full_days_hold_expiries():
    # NIFTY's Tuesday weekly of 21 Oct 2025 fell on the Muhurat day: it expired on Monday 20 Oct.
    assert weekly_expiries("NIFTY", date(2025, 10, 20), date(2025, 10, 26)) == [date(2025, 10, 20)]
    assert not holds_expiries(date(2025, 10, 21)) and not holds_expiries(DR_DRILL)
    assert holds_expiries(SATURDAY)  # a regular day (NSE moved the MIDCPNIFTY expiry of 22 Jan onto it)


@pytest.fixture(scope="module")
def dr_day():
    return generate_day("NIFTY", DR_DRILL, 0)


def test_a_generated_dr_drill_day_has_both_windows_and_nothing_in_the_gap(dr_day):
    assert windows_of(dr_day.timestamps) == [("09:15:00", "09:59:59"), ("11:30:00", "12:29:59")]
    assert dr_day.prices.shape[0] == 6_300
    assert (dr_day.prices > 0).all()  # every symbol priced from the first second


def test_the_dr_drill_day_replays_both_windows_and_skips_the_gap(dr_day):
    seen = [ts for _, ts, _ in ReplayFeed(dr_day, symbols=["NIFTY"])]
    assert windows_of(seen) == [("09:15:00", "09:59:59"), ("11:30:00", "12:29:59")]
    candles = day_candles(dr_day, "NIFTY", "15m")
    # 09:15, 09:30, 09:45 in the first window; 11:30, 11:45, 12:00, 12:15 in the second.
    assert [clock(c.start) for c in candles] == ["09:15:00", "09:30:00", "09:45:00", "11:30:00", "11:45:00",
                                                 "12:00:00", "12:15:00"]


def hold_all_day(square_off="15:15:00"):
    """Sell one ATM CE at 09:16 and hold it to the square-off time."""
    return build([start(square_off=square_off), at_time("entry-condition-1", "09:16:00"),
                  option_entry("entry-2", "CE", "sell")],
                 [("strategy-controller", "entry-condition-1"), ("entry-condition-1", "entry-2")])


def test_a_session_over_the_dr_drill_day_squares_off_at_the_last_second_of_the_second_window(dr_day):
    sink = ListSink()
    engine = MultiDayEngine(hold_all_day(), [dr_day], sink)

    engine.run()

    [trade] = [e.trade for e in sink.of(TradeClosed)]
    assert (clock(trade.entry_time), clock(trade.exit_time)) == ("09:16:00", "12:29:59")
    assert trade.exit_reason == "square_off"
    [complete] = sink.of(SessionComplete)
    assert (complete.ticks_processed, engine.total_ticks) == (6_300, 6_300)


def test_a_session_across_the_dr_drill_saturday_counts_its_ticks_before_loading_it(tmp_path):
    days = trading_days(date(2024, 3, 1), date(2024, 3, 4))
    assert days == [date(2024, 3, 1), DR_DRILL, date(2024, 3, 4)]
    engine = MultiDayEngine(hold_all_day(), days, ListSink(),
                            load=lambda u, d: load_day(u, d, data_dir=tmp_path))
    assert engine.total_ticks == 22_500 + 6_300 + 22_500  # before the Saturday is loaded


@pytest.mark.parametrize(("day", "first", "last"), [
    (date(2024, 11, 1), "18:00:00", "18:59:59"),
    (date(2023, 11, 12), "18:15:00", "19:14:59"),
    (date(2025, 10, 21), "13:45:00", "14:44:59"),
])
def test_a_muhurat_session_replays_its_own_hour(day, first, last):
    market = generate_day("NIFTY", day, 0)
    sink = ListSink()

    MultiDayEngine(hold_all_day(), [market], sink).run()

    [complete] = sink.of(SessionComplete)
    assert complete.ticks_processed == 3_600
    assert (clock(market.timestamps[0]), clock(market.timestamps[-1])) == (first, last)
    executed = [(e.node_id, e.event_type, clock(e.ts)) for e in sink.of(NodeExecuted)]
    # The strategy's clock times are the regular session's: at the first tick its start (09:15) has
    # passed; on the evenings its square-off (15:15) too, so it stops there without trading; on the
    # afternoon of 2025 the square-off comes at the session's last second.
    assert executed[0][2] == first
    trades = sink.of(TradeClosed)
    if day == date(2025, 10, 21):
        assert [clock(t.trade.exit_time) for t in trades] == [last]
    else:
        assert trades == []


def test_the_full_saturday_and_the_dr_drill_accept_imports_of_their_hours(tmp_path):
    data_dir = tmp_path / "md"
    saturday = tmp_path / "sat.csv"
    saturday.write_text("timestamp,symbol,price\n2024-01-20 09:15:00,NIFTY,21600.05\n"
                        "2024-01-20 15:29:59,NIFTY,21580.10\n")
    drill = tmp_path / "drill.csv"
    drill.write_text("timestamp,symbol,price\n2024-03-02 09:59:59,NIFTY,22350.00\n"
                     "2024-03-02 11:30:00,NIFTY,22360.00\n2024-03-02 12:29:59,NIFTY,22370.50\n")

    import_files([saturday, drill], data_dir=data_dir)

    sat = load_day("NIFTY", SATURDAY, data_dir=data_dir, generate=False)
    assert sat.source == "imported" and sat.n_ticks == 22_500
    assert sat.prices[-1, 0] == 21_580_10
    dr = load_day("NIFTY", DR_DRILL, data_dir=data_dir, generate=False)
    assert dr.n_ticks == 6_300
    # 09:59:59 is the first window's last row (2,699); 11:30:00 the second's first (2,700).
    assert (dr.prices[2_699, 0], dr.prices[2_700, 0], dr.prices[-1, 0]) == (22_350_00, 22_360_00, 22_370_50)


@pytest.mark.parametrize(("text", "message"), [
    ("2024-03-02 10:00:00,NIFTY,22350.00",
     "line 2, field 'timestamp': outside the session 09:15:00-09:59:59, 11:30:00-12:29:59 IST of 2024-03-02"),
    ("2024-11-01 15:00:00,NIFTY,24300.00",
     "line 2, field 'timestamp': outside the session 18:00:00-18:59:59 IST of 2024-11-01"),
    ("2024-01-22 09:15:00,NIFTY,21600.00", "line 2, field 'timestamp': 2024-01-22 is not a trading day"),
])
def test_an_import_outside_the_days_hours_is_refused_naming_them(tmp_path, text, message):
    path = tmp_path / "bad.csv"
    path.write_text("timestamp,symbol,price\n" + text + "\n")

    with pytest.raises(ImportFailed) as info:
        import_files([path], data_dir=tmp_path / "md")

    assert message in str(info.value)
    assert not (tmp_path / "md").exists() or list((tmp_path / "md").rglob("*.parquet")) == []
