"""Money and price constants of a strategy on an FX pair are read at the pair's precision.

EURUSD (``fx_underlyings.toml``) quotes five places, so a strategy's ``1.07250``, a stop of ``0.00250``
points and a max loss of ``30`` (USD) are 107250, 250 and 3,000,000 minor units (10^-5 USD), not
rupees and paise. The first 200 hourly bars of backtesting.py's EURUSD sample are imported as in
``test_fx_differential``; the expected entries and exits are worked out here with pandas from the same
bars, walking each bar's four ticks as the importer documents them (docs/marketdata.md: the open at its
first second, the extreme it moved away from first 20 minutes in, the other at 40, the close at its last
second; a bar with close >= open went to its low first).
"""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pandas as pd
import pytest
from backtesting.test import EURUSD

from live_trading.engine.engine import EngineSettings
from live_trading.engine.events import ListSink, NodeExecuted
from live_trading.engine.fees import FeeModel
from live_trading.engine.multiday import MultiDayEngine
from live_trading.marketdata.calendar import calendar_of
from live_trading.marketdata.importer import import_files
from live_trading.marketdata.store import load_day
from strategies.graph import parse_graph, validate_graph
from strategies.graph.describe import describe
from tests.engine.test_fx_differential import bars_csv, fx_universe, in_session

__all__ = ["fx_universe"]  # the fixture, used by name below

UNITS = 10 * 1000  # 10 lots of a micro lot
ENTRY_ABOVE = Decimal("1.07250")
PIP = Decimal("0.00001")


@pytest.fixture
def eurusd(fx_universe, tmp_path):
    """The imported bars (a CSV read back with pandas) and a function running a graph over their days,
    returning its trades and node events."""
    data_dir = tmp_path / "market_data"
    csv = bars_csv(tmp_path / "eurusd_1h.csv", in_session(EURUSD.iloc[:200]))
    import_files([csv], data_dir=data_dir, timeframe="1h")
    bars = pd.read_csv(csv, dtype={"open": str, "high": str, "low": str, "close": str})
    calendar = calendar_of("EURUSD")

    def trading_date(stamp):
        return calendar.trading_date(int(datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()))

    days = calendar.trading_days(trading_date(bars.timestamp.iloc[0]), trading_date(bars.timestamp.iloc[-1]))

    def run(graph):
        sink = ListSink()
        engine = MultiDayEngine(
            parse_graph(graph), days, sink,
            settings=EngineSettings(fees=FeeModel("none"), fills_at="bar_close", starting_capital=10**6 * 10**5,
                                    candle_timeframes=()),
            load=lambda underlying, day: load_day(underlying, day, data_dir=data_dir, generate=False),
        )
        engine.run()
        return [(datetime.fromtimestamp(t.entry_time, UTC), t.entry_price * PIP,
                 datetime.fromtimestamp(t.exit_time, UTC), t.exit_price * PIP, t.pnl * PIP, t.exit_reason)
                for t in engine.carry.store.trades], sink.of(NodeExecuted)

    return bars, run


def tick_path(bars: pd.DataFrame) -> list[tuple[datetime, Decimal]]:
    """Every bar's four ticks (time, price) in order, from the CSV's columns."""
    ticks = []
    for row in bars.itertuples():
        start = datetime.fromisoformat(row.timestamp.replace("Z", "+00:00"))
        o, h, low, c = (Decimal(x) for x in (row.open, row.high, row.low, row.close))
        first, second = (low, h) if c >= o else (h, low)
        ticks += [(start, o), (start + timedelta(minutes=20), first), (start + timedelta(minutes=40), second),
                  (start + timedelta(minutes=59, seconds=59), c)]
    return ticks


def long_exit(ticks, level: Decimal):
    """The entry (first tick at or above ENTRY_ABOVE) and the first later tick at or below ``entry - level``."""
    i, (entry_time, entry_price) = next((i, t) for i, t in enumerate(ticks) if t[1] >= ENTRY_ABOVE)
    exit_time, exit_price = next(t for t in ticks[i + 1:] if t[1] <= entry_price - level)
    return entry_time, entry_price, exit_time, exit_price


def graph(start_extra=None, entry_extra=None) -> dict:
    """Buy 10 micro lots of EURUSD once its price reaches 1.07250, held across days."""
    return {"format_version": 1, "name": "EURUSD breakout", "nodes": [
        {"id": "start", "type": "start", "config": {
            "underlying": "EURUSD", "start_time": "00:00", "square_off_time": "16:59",
            "holding": "positional", "positional_square_off": "end_of_range", **(start_extra or {})}},
        {"id": "up", "type": "entry_signal", "config": {"conditions": {"all": [
            {"left": {"type": "underlying_ltp"}, "operator": ">=", "right": {"type": "value", "value": "1.07250"}}]}}},
        {"id": "buy", "type": "entry", "config": {"instrument": "underlying", "side": "buy", "lots": 10,
                                                  **(entry_extra or {})}},
    ], "edges": [{"from": "start", "to": "up"}, {"from": "up", "to": "buy"}]}


def test_a_stop_loss_in_points_fires_at_the_pairs_price_not_at_rupees(eurusd):
    bars, run = eurusd
    entry_time, entry_price, exit_time, exit_price = long_exit(tick_path(bars), Decimal("0.00250"))
    # Worked out from the bars: the 10:00 bar of 19 Apr rises (1.07214 -> 1.07260) and touches its high
    # 1.07296 40 minutes in; 1.07296 - 0.00250 = 1.07046 is first crossed by the 13:00 bar's low, 1.07045.
    assert (entry_time, entry_price) == (datetime(2017, 4, 19, 10, 40, tzinfo=UTC), Decimal("1.07296"))
    assert (exit_time, exit_price) == (datetime(2017, 4, 19, 13, 40, tzinfo=UTC), Decimal("1.07045"))

    trades, events = run(graph(entry_extra={"stop_loss": {"type": "points", "value": "0.00250"}}))

    pnl = (exit_price - entry_price) * UNITS
    assert pnl == Decimal("-25.10000")
    assert trades == [(entry_time, entry_price, exit_time, exit_price, pnl, "stop_loss")]
    # The events show the pair's prices, not hundredths of them.
    [signal] = [e.details for e in events if e.event_type == "signal_emitted"]
    assert [(c["current_value"], c["threshold"]) for c in signal["evaluated_conditions"]["condition_results"]] == [
        (1.07296, 1.0725)]
    [stop] = [e.details for e in events if e.event_type == "exit_triggered"]
    assert (stop["ltp"], stop["levels"]["stop_loss"]) == (1.07045, 1.07046)


def test_a_max_loss_in_dollars_squares_off_at_the_loss_of_that_many_dollars(eurusd):
    bars, run = eurusd
    # 30 USD on 10,000 euros is a move of 0.00300.
    entry_time, entry_price, exit_time, exit_price = long_exit(tick_path(bars), Decimal("30") / UNITS)
    assert exit_price <= entry_price - Decimal("0.00300")

    trades, events = run(graph(start_extra={"max_loss": "30"}))

    pnl = (exit_price - entry_price) * UNITS
    assert pnl <= -30
    assert trades == [(entry_time, entry_price, exit_time, exit_price, pnl, "max_loss")]
    [started] = [e.details for e in events if e.event_type == "strategy_started"]
    assert started["strategy"]["max_loss"] == "30.00000"
    [square] = [e.details for e in events if e.event_type == "square_off"]
    assert square["exit_reason"] == "max_loss"
    assert (square["current_value"], square["threshold"]) == (float(pnl), -30.0)


def test_constants_finer_than_the_pairs_five_places_are_refused_with_their_path(fx_universe):
    g = graph(start_extra={"max_loss": "30.000001"},
              entry_extra={"stop_loss": {"type": "points", "value": "0.000025"},
                           "target": {"type": "points", "value": 0.0005},
                           "trailing_stop": {"type": "percent", "value": "0.125"}})
    g["nodes"][1]["config"]["conditions"]["all"][0]["right"]["value"] = "1.072505"

    problems = [str(e) for e in validate_graph(g)]

    assert problems == [
        "nodes[0].config.max_loss: must have at most 5 decimal places for EURUSD",
        "nodes[1].config.conditions.all[0].right.value: must have at most 5 decimal places for EURUSD"
        " (compared with a price)",
        "nodes[2].config.stop_loss.value: must have at most 5 decimal places for EURUSD",
    ]


def test_five_places_are_read_as_the_pairs_minor_units(fx_universe):
    g = graph(start_extra={"max_loss": "30", "max_profit": 12.5},
              entry_extra={"stop_loss": {"type": "points", "value": "0.00250"}})

    parsed = parse_graph(g)

    start, signal, entry = (n.config for n in parsed.nodes)
    assert (start.max_loss, start.max_profit) == (3_000_000, 1_250_000)
    assert signal.conditions.items[0].right.value == 107_250
    assert entry.stop_loss.distance(107_296) == 250


def test_the_strategy_in_words_names_the_pairs_currency_and_places(fx_universe):
    g = graph(start_extra={"max_loss": "30", "max_profit": "1234.5"},
              entry_extra={"stop_loss": {"type": "points", "value": "0.00250"}})

    lines = describe(parse_graph(g))

    assert lines == [
        "EURUSD, positional, from 00:00 on the first day; square off 16:59 on the last day, at a loss of USD 30"
        " or at a profit of USD 1,234.50000.",
        "When EURUSD is at least USD 1.07250: buy 10 lots of EURUSD (as futures); stop 0.0025 points.",
    ]
