"""Timeframes 1m .. 1h and 1d: how a day is cut into candles (on the 09:15 grid, the last intraday bar
shorter, one 1d bar a day), and conditions on 1h and 1d indicators in a positional session, where the
candles and indicators run on across days. Every expected bar is worked by hand from the scripted prices."""

from datetime import date

import pytest

from live_trading.engine.events import CandleCompleted, ListSink, NodeExecuted
from live_trading.engine.money import iso
from live_trading.engine.multiday import MultiDayEngine
from live_trading.marketdata.calendar import market_open_ts
from live_trading.marketdata.candles import TIMEFRAMES, aggregate, bucket_start, day_candles
from tests.engine.scripted import build, opt, option_entry, scripted_day, start

DAY = date(2024, 10, 29)


def hm(hhmm: str, on: date = DAY) -> int:
    """Epoch seconds of an exchange time ("10:15" or "10:15:30") on ``on``."""
    h, m, *s = (int(x) for x in hhmm.split(":"))
    return market_open_ts(on) - (9 * 3600 + 15 * 60) + h * 3600 + m * 60 + (s[0] if s else 0)


# A whole regular day, 09:15:00-15:29:59. NIFTY is 24000 until 09:39:59, 24100 from 09:40:00, 23900
# from 10:05:00, 24200 from 10:20:00, 24050 from 15:20:00 and 24080 at the last second, 15:29:59.
WHOLE_DAY = {
    "NIFTY": {"09:15:00": 24000, "09:40:00": 24100, "10:05:00": 23900, "10:20:00": 24200,
              "15:20:00": 24050, "15:29:59": 24080},
}


def bars(tf: str) -> list[tuple]:
    day = scripted_day(WHOLE_DAY, until="15:29:59")
    return [(iso(c.start)[11:16], c.open // 100, c.high // 100, c.low // 100, c.close // 100)
            for c in day_candles(day, "NIFTY", tf)]


def test_the_timeframes_are_the_eight_of_the_issue():
    assert TIMEFRAMES == {"1m": 60, "3m": 180, "5m": 300, "10m": 600, "15m": 900, "30m": 1800, "1h": 3600,
                          "1d": 86_400}


@pytest.mark.parametrize(("tf", "count"), [("1m", 375), ("3m", 125), ("5m", 75), ("10m", 38), ("15m", 25),
                                           ("30m", 13), ("1h", 7), ("1d", 1)])
def test_a_day_has_its_session_cut_from_0915(tf, count):
    """375 minutes from 09:15 to 15:30: 37.5 ten-minute bars make 38 (the last 15:25-15:30), 12.5
    half-hours 13, 6.25 hours 7 (the last 15:15-15:30). Each starts on the 09:15 grid."""
    got = bars(tf)
    assert len(got) == count
    step = TIMEFRAMES[tf] // 60
    assert [t for t, *_ in got] == [f"{(555 + k * step) // 60:02d}:{(555 + k * step) % 60:02d}"
                                    for k in range(count)][: count]


def test_hour_bars_run_from_0915_and_the_last_is_1515_to_the_close():
    # 09:15-10:14:59: 24000, 24100 from 09:40, 23900 from 10:05 -> O 24000 H 24100 L 23900 C 23900.
    # 10:15-11:14:59: 23900, then 24200 from 10:20 -> O 23900 H 24200 L 23900 C 24200. Then flat
    # 24200 to 15:14:59; 15:15-15:29:59: 24200, 24050 from 15:20, 24080 at 15:29:59.
    assert bars("1h") == [
        ("09:15", 24000, 24100, 23900, 23900),
        ("10:15", 23900, 24200, 23900, 24200),
        ("11:15", 24200, 24200, 24200, 24200),
        ("12:15", 24200, 24200, 24200, 24200),
        ("13:15", 24200, 24200, 24200, 24200),
        ("14:15", 24200, 24200, 24200, 24200),
        ("15:15", 24200, 24200, 24050, 24080),
    ]


def test_half_hour_and_ten_minute_bars():
    # 30m: 09:15-09:44:59 has 24000 then 24100 (09:40); 09:45-10:14:59 24100 then 23900 (10:05);
    # 10:15-10:44:59 23900 then 24200 (10:20); the last, 15:15-15:29:59, as the last hour's.
    half = bars("30m")
    assert half[:3] == [
        ("09:15", 24000, 24100, 24000, 24100),
        ("09:45", 24100, 24100, 23900, 23900),
        ("10:15", 23900, 24200, 23900, 24200),
    ]
    assert half[-1] == ("15:15", 24200, 24200, 24050, 24080)
    # 10m: 09:35-09:44:59 crosses 09:40; 10:05-10:14:59 is all 23900; 15:15-15:24:59 crosses 15:20;
    # the last, 15:25-15:29:59, is 24050 then 24080.
    ten = dict((t, rest) for t, *rest in bars("10m"))
    assert ten["09:35"] == [24000, 24100, 24000, 24100]
    assert ten["10:05"] == [23900, 23900, 23900, 23900]
    assert ten["15:15"] == [24200, 24200, 24050, 24050]
    assert ten["15:25"] == [24050, 24080, 24050, 24080]


def test_a_day_bar_opens_at_the_first_tick_and_closes_at_the_last():
    assert bars("1d") == [("09:15", 24000, 24200, 23900, 24080)]


def test_longer_bars_from_one_minute_bars_are_the_same():
    day = scripted_day(WHOLE_DAY, until="15:29:59")
    minutes = day_candles(day, "NIFTY", "1m")
    for tf in TIMEFRAMES:
        assert aggregate(minutes, tf) == day_candles(day, "NIFTY", tf), tf


def test_bucket_start_is_on_the_0915_grid():
    assert bucket_start(hm("10:20"), 3600) == hm("10:15")
    assert bucket_start(hm("10:14:59"), 3600) == hm("09:15")
    assert bucket_start(hm("15:29:59"), 3600) == hm("15:15")
    assert bucket_start(hm("09:50"), 1800) == hm("09:45")
    assert bucket_start(hm("09:24:59"), 600) == hm("09:15")
    assert bucket_start(hm("09:25"), 600) == hm("09:25")
    assert bucket_start(hm("15:29:59"), 86_400) == hm("09:15")
    assert bucket_start(hm("09:32:42"), 900) == hm("09:30")  # as before: the 15m grid is midnight's too


# -- conditions on 1h and 1d indicators, over days -------------------------------------------------------

WEEK = [date(2024, 10, 28), date(2024, 10, 29), date(2024, 10, 30), date(2024, 10, 31)]  # Mon..Thu
CE = opt(24250, "CE")
# NIFTY each day: the open at 09:15, a price at 10:00 and the last from 10:20 (days end at 10:30:00). All
# stay within 24225-24274, so the ATM strike is 24250 all week.
PRICES = [(24240, 24260, 24250), (24250, 24230, 24245), (24245, 24270, 24265), (24265, 24255, 24260)]


def week():
    return [
        scripted_day({"NIFTY": {"09:15:00": o, "10:00:00": mid, "10:20:00": c}, CE: {"09:15:00": 100}},
                     until="10:30:00", on=on)
        for on, (o, mid, c) in zip(WEEK, PRICES, strict=True)
    ]


def sma_strategy(tf: str, period: int, above: int, holding: str | None = "positional"):
    """Buy the ATM call when the SMA(``period``) of ``tf`` closes is above ``above`` rupees."""
    extra = {} if holding is None else {"holding": "positional", "positional_square_off": "end_of_range"}
    signal = {"id": "entry-condition", "type": "entry_signal", "name": "sma", "config": {"conditions": {"all": [
        {"left": {"type": "indicator", "name": "sma", "timeframe": tf, "params": {"period": period}},
         "operator": ">", "right": {"type": "value", "value": above}}]}}}
    return build([start(square_off="10:29:00", **extra), signal, option_entry("long-ce", "CE", "buy")],
                 [("strategy-controller", "entry-condition"), ("entry-condition", "long-ce")])


def run_week(graph):
    sink = ListSink()
    MultiDayEngine(graph, week(), sink).run()
    orders = [iso(e.ts) for e in sink.of(NodeExecuted) if e.event_type == "order_placed" and e.node_id == "long-ce"]
    return sink, orders


def test_a_condition_on_an_hourly_sma_reads_bars_of_earlier_days():
    # 1h closes: Mon 09:15 bar (09:15-10:14:59) 24260, completed at Mon 10:15:00; Mon 10:15 bar 24250
    # (at Mon's close); Tue 09:15 bar 24230 at Tue 10:15:00. SMA(3) then = (24260 + 24250 + 24230) / 3 =
    # 24246.67 > 24245: the first moment it exists and is above, Tue 10:15:00. (Bars across the night
    # would have merged Mon 10:15 and Tue 09:15; indicators reset each day would never have three.)
    sink, orders = run_week(sma_strategy("1h", 3, 24245))
    assert orders[0] == "2024-10-29T10:15:00+05:30"
    hours = [(iso(e.start), e.close // 100) for e in sink.of(CandleCompleted) if e.timeframe == "1h"]
    assert hours[:4] == [("2024-10-28T09:15:00+05:30", 24260), ("2024-10-28T10:15:00+05:30", 24250),
                         ("2024-10-29T09:15:00+05:30", 24230), ("2024-10-29T10:15:00+05:30", 24245)]


def test_a_condition_on_a_daily_sma_needs_three_days():
    # 1d closes Mon 24250, Tue 24245, Wed 24265, each complete at its day's close. SMA(3) exists from
    # Thursday's first tick: (24250 + 24245 + 24265) / 3 = 24253.33 > 24250, so the entry is Thu 09:15:00.
    sink, orders = run_week(sma_strategy("1d", 3, 24250))
    assert orders == ["2024-10-31T09:15:00+05:30"]
    days = [(iso(e.start), e.open // 100, e.high // 100, e.low // 100, e.close // 100, e.indicators)
            for e in sink.of(CandleCompleted) if e.timeframe == "1d"]
    assert days[:3] == [
        ("2024-10-28T09:15:00+05:30", 24240, 24260, 24240, 24250, {"sma(3)_1d": None}),
        ("2024-10-29T09:15:00+05:30", 24250, 24250, 24230, 24245, {"sma(3)_1d": None}),
        ("2024-10-30T09:15:00+05:30", 24245, 24270, 24245, 24265, {"sma(3)_1d": pytest.approx(7_276_000 / 3)}),  # paise
    ]


def test_an_intraday_session_has_no_daily_sma_of_three():
    # Intraday, every day starts afresh: one 1d bar a day, never three.
    _, orders = run_week(sma_strategy("1d", 3, 24250, holding=None))
    assert orders == []


def test_yesterdays_day_candle_is_read_with_offset_0():
    # Monday's 1d candle (close 24250) completes at Monday's close: "close of the last 1d candle > 24249"
    # first holds at Tuesday's first tick.
    signal = {"id": "entry-condition", "type": "entry_signal", "name": "day", "config": {"conditions": {"all": [
        {"left": {"type": "candle", "timeframe": "1d", "field": "close", "offset": 0},
         "operator": ">", "right": {"type": "value", "value": 24249}}]}}}
    graph = build([start(square_off="10:29:00", holding="positional", positional_square_off="end_of_range"),
                   signal, option_entry("long-ce", "CE", "buy")],
                  [("strategy-controller", "entry-condition"), ("entry-condition", "long-ce")])
    _, orders = run_week(graph)
    assert orders == ["2024-10-29T09:15:00+05:30"]
