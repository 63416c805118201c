"""A crypto pair as data: BTCUSD on the CRYPTO_24X7 calendar, over a weekend, as one positional session.

BTCUSD is the table of ``tests/engine/fx_underlyings.toml`` (two places, USD, a contract of one coin)
appended to the package data file; its calendar, ``CRYPTO_24X7``, is the data file's: every day, 00:00 to
24:00 UTC. Four days of 5-minute bars, Friday 8 to Monday 11 March 2024 (a seeded random walk written
here), are imported through the importer as one file; the session buys two coins at 03:00 UTC on the
Saturday and sells at 21:00 UTC on the Sunday, fees 0.1% of turnover. Everything expected is worked out
here from the bars: the fills (the ticks of the bars at those times), the P&L of each UTC day (marked
at each day's last close, the charges on the day they are paid), and that every 5-minute bar of the
weekend is replayed (96 hourly candles, no gap).
"""

from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest

from live_trading.engine.engine import EngineSettings
from live_trading.engine.events import CandleCompleted, ListSink
from live_trading.engine.fees import FeeModel
from live_trading.engine.multiday import MultiDayEngine
from live_trading.marketdata.calendar import calendar_of
from live_trading.marketdata.importer import import_files
from live_trading.marketdata.store import day_ticks, load_day
from strategies.graph import parse_graph, validate_graph
from tests.marketdata.markets import bars_csv, markets_universe, random_bars, tick_path

__all__ = ["markets_universe"]  # the fixture, used by name below

FRIDAY = date(2024, 3, 8)
DAYS = [FRIDAY + timedelta(days=i) for i in range(4)]  # Fri, Sat, Sun, Mon
BAR = 300
FEE_PERCENT = Decimal("0.1")
COINS = 2


def weekend_bars():
    """288 five-minute bars a day from Fri 8 Mar 2024 00:00 UTC to Mon 11 Mar 23:55, in cents."""
    return random_bars(datetime(2024, 3, 8, tzinfo=UTC), 4 * 288, BAR, first=6_800_000, seed=16)


def weekend_graph() -> dict:
    def clock_signal(node_id, kind, day, at):
        return {"id": node_id, "type": kind, "config": {"conditions": {"all": [
            {"left": {"type": "day_of_week"}, "operator": "==", "right": {"type": "value", "value": day}},
            {"left": {"type": "time_of_day"}, "operator": ">=", "right": {"type": "value", "value": at}}]}}}

    return {"format_version": 1, "name": "BTCUSD over the weekend", "nodes": [
        {"id": "start", "type": "start", "config": {
            "underlying": "BTCUSD", "start_time": "00:00", "square_off_time": "23:59",
            "holding": "positional", "positional_square_off": "end_of_range"}},
        clock_signal("saturday", "entry_signal", "sat", "03:00"),
        {"id": "buy", "type": "entry", "config": {"instrument": "underlying", "side": "buy", "lots": COINS}},
        clock_signal("sunday", "exit_signal", "sun", "21:00"),
        {"id": "sell", "type": "exit", "config": {}},
    ], "edges": [{"from": a, "to": b} for a, b in [
        ("start", "saturday"), ("saturday", "buy"), ("buy", "sunday"), ("sunday", "sell")]]}


def fee(price: Decimal) -> Decimal:
    """0.1% of an order's turnover, to the cent, half up."""
    return (price * COINS * FEE_PERCENT / 100).quantize(Decimal("0.01"), ROUND_HALF_UP)


def expected(bars):
    """From the bars alone: the entry and exit (time, price), and the net P&L of each UTC day."""
    ticks = [(t, Decimal(p).scaleb(-2)) for t, p in tick_path(bars, BAR)]
    entry = next(t for t in ticks if t[0] >= datetime(2024, 3, 9, 3, 0, tzinfo=UTC))
    exit_ = next(t for t in ticks if t[0] >= datetime(2024, 3, 10, 21, 0, tzinfo=UTC))
    last_close = {d: Decimal(next(b for b in reversed(bars) if b[0].date() == d)[4]).scaleb(-2) for d in DAYS}
    saturday = COINS * (last_close[DAYS[1]] - entry[1]) - fee(entry[1])
    sunday = COINS * (exit_[1] - last_close[DAYS[1]]) - fee(exit_[1])
    return entry, exit_, [(DAYS[0], Decimal("0.00")), (DAYS[1], saturday), (DAYS[2], sunday), (DAYS[3], Decimal("0.00"))]


@pytest.fixture
def imported(markets_universe, tmp_path):
    data_dir = tmp_path / "market_data"
    bars = weekend_bars()
    result = import_files([bars_csv(tmp_path / "btcusd_5m.csv", "BTCUSD", bars)], data_dir=data_dir, timeframe="5m")
    assert [p.name for p in result.written] == [f"{d.isoformat()}.parquet" for d in DAYS]  # cut at 00:00 UTC
    return bars, data_dir


def test_the_crypto_calendar_trades_every_day_cut_at_midnight_utc(markets_universe):
    calendar = calendar_of("BTCUSD")
    assert calendar.trading_days(FRIDAY, date(2024, 3, 11)) == DAYS
    assert calendar.windows_ts(date(2024, 3, 9)) == ((int(datetime(2024, 3, 9, tzinfo=UTC).timestamp()),
                                                      int(datetime(2024, 3, 10, tzinfo=UTC).timestamp())),)
    assert calendar.trading_date(int(datetime(2024, 3, 9, 23, 59, 59, tzinfo=UTC).timestamp())) == date(2024, 3, 9)
    assert calendar.trading_date(int(datetime(2024, 3, 10, tzinfo=UTC).timestamp())) == date(2024, 3, 10)


def test_a_positional_session_over_a_weekend_fills_on_saturday_and_sunday_and_reports_each_utc_day(imported):
    bars, data_dir = imported
    sink = ListSink()
    engine = MultiDayEngine(
        parse_graph(weekend_graph()), DAYS, sink,
        settings=EngineSettings(fees=FeeModel("percent", percent=FEE_PERCENT), starting_capital=10**6 * 100,
                                candle_timeframes=("1h",)),
        load=lambda underlying, day: load_day(underlying, day, data_dir=data_dir, generate=False),
        count=lambda underlying, day: day_ticks(underlying, day, data_dir),
    )
    # Progress counts every tick of the four days before any but the first is loaded: four a bar.
    assert engine.total_ticks == 4 * 288 * 4

    summary = engine.run()

    (entry_time, entry_price), (exit_time, exit_price), daily = expected(bars)
    assert entry_time == datetime(2024, 3, 9, 3, 0, tzinfo=UTC)  # the 03:00 bar's open, a Saturday
    assert exit_time == datetime(2024, 3, 10, 21, 0, tzinfo=UTC)  # the 21:00 bar's open, a Sunday
    [trade] = engine.carry.store.trades
    scale = Decimal("0.01")
    assert (datetime.fromtimestamp(trade.entry_time, UTC), trade.entry_price * scale, trade.quantity) == (
        entry_time, entry_price, COINS)
    assert (datetime.fromtimestamp(trade.exit_time, UTC), trade.exit_price * scale) == (exit_time, exit_price)
    assert trade.pnl * scale == COINS * (exit_price - entry_price)
    assert trade.charges * scale == fee(entry_price) + fee(exit_price)
    assert list(summary.daily_pnl) == daily
    assert summary.net_pnl == sum(pnl for _, pnl in daily)
    assert (engine.ticks_processed, engine.total_ticks) == (4 * 288 * 4, 4 * 288 * 4)
    # No gap: an hourly candle for every hour from Friday 00:00 to Monday 23:00 UTC, weekend included.
    hours = [datetime.fromtimestamp(e.start, UTC) for e in sink.of(CandleCompleted) if e.timeframe == "1h"]
    assert hours == [datetime(2024, 3, 8, tzinfo=UTC) + timedelta(hours=h) for h in range(96)]


def test_weekend_days_are_accepted_in_a_crypto_strategy(markets_universe):
    assert validate_graph(weekend_graph()) == []
    nse = weekend_graph()
    nse["nodes"][0]["config"] = {"underlying": "NIFTY", "start_time": "09:15", "square_off_time": "15:15",
                                 "holding": "positional", "positional_square_off": "end_of_range"}
    assert [str(e) for e in validate_graph(nse)] == [
        "nodes[1].config.conditions.all[0].right.value: the exchange is closed on weekends",
        "nodes[1].config.conditions.all[1].right.value: '03:00' is outside the exchange session 09:15:00-15:29:59, "
        "so the condition cannot change",
        "nodes[3].config.conditions.all[0].right.value: the exchange is closed on weekends",
        "nodes[3].config.conditions.all[1].right.value: '21:00' is outside the exchange session 09:15:00-15:29:59, "
        "so the condition cannot change",
    ]
