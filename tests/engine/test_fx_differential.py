"""An FX pair as data, checked against an independent backtester.

EURUSD is added the way a user adds an instrument: its table (``fx_underlyings.toml``, also shown in
docs/marketdata.md) appended to the package data file, naming the ``FX_24X5`` calendar the data file
ships. Ten months of hourly bars (backtesting.py's ``EURUSD`` sample, 5,000 bars from 19 Apr 2017 to
7 Feb 2018, times in UTC, prices to five places) are written to a CSV and imported through our importer
as 1h bars; one positional session over the whole range with fees ``none`` and fills at the signal
bar's close runs a moving-average crossover (buy 10 lots of 1,000 when SMA(100) of the 1h closes
crosses above SMA(300), sell when it crosses below). backtesting.py (pinned in requirements.txt) runs
the same rule on the same bars with ``trade_on_close=True``; the trades must agree exactly: entry and
exit bar, prices (to 0.00001), size and P&L.
"""

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from backtesting import Backtest, Strategy
from backtesting.lib import crossover
from backtesting.test import EURUSD, SMA

from live_trading.engine.engine import EngineSettings
from live_trading.engine.fees import FeeModel
from live_trading.engine.multiday import MultiDayEngine
from live_trading.marketdata import universe as universe_mod
from live_trading.marketdata.calendar import calendar_of
from live_trading.marketdata.importer import ImportFailed, import_files
from live_trading.marketdata.store import MarketDataMissing, load_day
from strategies.graph import parse_graph, validate_graph

FAST, SLOW = 100, 300
UNITS = 10 * 1000  # 10 lots of EURUSD's contract size (a micro lot, 1,000 euros)
HOUR = 3600


@pytest.fixture
def fx_universe(tmp_path):
    """The package data file with the EURUSD table appended: no code change."""
    path = tmp_path / "underlyings.toml"
    path.write_text(universe_mod.DATA_FILE.read_text() + "\n" + (Path(__file__).with_name("fx_underlyings.toml")).read_text())
    universe_mod.use_universe(universe_mod.Universe.from_file(path))
    yield
    universe_mod.use_universe(None)


def in_session(data):
    """The bars inside the FX_24X5 calendar's sessions: the sample has two at 17:00 New York on a Friday
    (6 and 20 Oct 2017), after the week's close, which the importer refuses (checked below)."""
    calendar = calendar_of("EURUSD")
    keep = [calendar.trading_date(int(ts.to_pydatetime().replace(tzinfo=UTC).timestamp())) is not None
            for ts in data.index]
    return data[keep]


def bars_csv(path: Path, data) -> Path:
    """`data`'s bars as a CSV in the importer's candle format, timestamps in UTC."""
    lines = ["timestamp,symbol,open,high,low,close,volume"]
    for ts, row in data.iterrows():
        prices = ",".join(f"{row[c]:.5f}" for c in ("Open", "High", "Low", "Close"))
        lines.append(f"{ts:%Y-%m-%dT%H:%M:%S}Z,EURUSD,{prices},{int(row['Volume'])}")
    path.write_text("\n".join(lines) + "\n")
    return path


def sma(period: int) -> dict:
    return {"type": "indicator", "name": "sma", "timeframe": "1h", "params": {"period": period}}


def crossover_graph() -> dict:
    def signal(node_id, kind, operator):
        return {"id": node_id, "type": kind, "name": node_id,
                "config": {"conditions": {"all": [{"left": sma(FAST), "operator": operator, "right": sma(SLOW)}]}}}

    return {"format_version": 1, "name": "EURUSD SMA crossover", "nodes": [
        {"id": "start", "type": "start", "name": "start", "config": {
            "underlying": "EURUSD", "start_time": "00:00", "square_off_time": "16:59",
            "holding": "positional", "positional_square_off": "at_expiry"}},
        signal("cross-up", "entry_signal", "crosses_above"),
        {"id": "buy", "type": "entry", "name": "buy", "config": {"instrument": "underlying", "side": "buy", "lots": 10}},
        signal("cross-down", "exit_signal", "crosses_below"),
        {"id": "sell", "type": "exit", "name": "sell", "config": {}},
        {"id": "again", "type": "re_entry", "name": "again", "config": {"max_re_entries": 10, "on": ["exit_condition_met"]}},
    ], "edges": [{"from": a, "to": b} for a, b in [
        ("start", "cross-up"), ("cross-up", "buy"), ("buy", "cross-down"), ("cross-down", "sell"),
        ("buy", "again"), ("again", "cross-up")]]}


class SmaCross(Strategy):
    def init(self):
        self.fast = self.I(SMA, self.data.Close, FAST)
        self.slow = self.I(SMA, self.data.Close, SLOW)

    def next(self):
        if crossover(self.fast, self.slow):
            self.buy(size=UNITS)
        elif crossover(self.slow, self.fast):
            self.position.close()


def reference_trades(data, on_close: bool) -> tuple[list[tuple], list[tuple]]:
    """backtesting.py's closed trades (entry bar, exit bar, size, entry and exit price, P&L) and the
    trades still open after the last bar (entry bar, size, entry price). Its end-of-data close
    (``finalize_trades``) is a convention of its own (at the last bar it iterated, not the last bar), so
    open trades are compared by their entry alone."""
    stats = Backtest(data, SmaCross, cash=1_000_000, commission=0, trade_on_close=on_close).run()
    closed = [(utc(t.EntryTime), utc(t.ExitTime), t.Size, Decimal(f"{t.EntryPrice:.5f}"), Decimal(f"{t.ExitPrice:.5f}"),
               Decimal(f"{t.PnL:.5f}")) for t in stats["_trades"].itertuples()]
    still_open = [(utc(t.entry_time), t.size, Decimal(f"{t.entry_price:.5f}")) for t in stats["_strategy"].trades]
    return closed, still_open


def utc(stamp) -> datetime:
    return stamp.to_pydatetime().replace(tzinfo=UTC)


@pytest.mark.parametrize(("fills_at", "on_close", "tick_in_bar"), [
    ("bar_close", True, HOUR - 1),  # fills on the signal bar's close tick, its last second
    ("next_open", False, 0),  # fills on the next bar's open tick, its first second
])
def test_an_sma_crossover_on_imported_hourly_eurusd_trades_as_backtesting_py_does(fx_universe, tmp_path, fills_at,
                                                                                  on_close, tick_in_bar):
    data_dir = tmp_path / "market_data"
    with pytest.raises(ImportFailed) as refused:
        import_files([bars_csv(tmp_path / "raw.csv", EURUSD)], data_dir=data_dir, timeframe="1h")
    assert [(i.line, i.field) for i in refused.value.issues] == [(2942, "timestamp"), (3183, "timestamp")]
    assert "2017-10-06 17:00:00-04:00 is outside the sessions of the FX_24X5 calendar" in str(refused.value)
    data = in_session(EURUSD)
    assert len(data) == len(EURUSD) - 2

    result = import_files([bars_csv(tmp_path / "eurusd_1h.csv", data)], data_dir=data_dir, timeframe="1h")
    calendar = calendar_of("EURUSD")
    first, last = data.index[0].to_pydatetime(), data.index[-1].to_pydatetime()
    days = calendar.trading_days(calendar.trading_date(int(first.replace(tzinfo=UTC).timestamp())),
                                 calendar.trading_date(int(last.replace(tzinfo=UTC).timestamp())))
    assert len(result.written) == len(days)  # one file per trading day, each holding its 1h bars
    engine = MultiDayEngine(
        parse_graph(crossover_graph()), days,
        settings=EngineSettings(fees=FeeModel("none"), fills_at=fills_at, starting_capital=10**6 * 10**5,
                                candle_timeframes=()),
        load=lambda underlying, day: load_day(underlying, day, data_dir=data_dir, generate=False),
    )
    engine.run()

    scale = Decimal(10) ** -5
    ours = []
    for t in engine.carry.store.trades:
        ours.append((datetime.fromtimestamp(t.entry_time - tick_in_bar, UTC),
                     datetime.fromtimestamp(t.exit_time - tick_in_bar, UTC),
                     t.quantity, t.entry_price * scale, t.exit_price * scale, t.pnl * scale))
    closed, still_open = reference_trades(data, on_close)
    assert len(closed) == 8 and len(still_open) == 1
    assert ours[:-1] == closed
    # The position open at the end is closed by the session's end at the last bar's close (session_end).
    entry, _, size, entry_price, exit_price, _ = ours[-1]
    assert [(entry, size, entry_price)] == still_open
    assert exit_price == Decimal(f"{data.Close.iloc[-1]:.5f}")


def test_an_fx_day_that_was_not_imported_is_refused_not_generated(fx_universe, tmp_path):
    with pytest.raises(MarketDataMissing, match=r"EURUSD .*no synthetic market: import its data"):
        load_day("EURUSD", date(2017, 4, 19), data_dir=tmp_path)
    assert not any(tmp_path.rglob("*.parquet"))


def test_an_option_entry_on_a_pair_without_options_is_refused_with_its_path(fx_universe):
    graph = crossover_graph()
    graph["nodes"][2]["config"] = {"instrument": "option", "expiry": "current_weekly", "right": "CE",
                                   "strike": {"rule": "atm", "offset": 0}, "side": "buy", "lots": 1}
    problems = [(e.path, e.message) for e in validate_graph(graph)]
    assert problems == [("nodes[2].config.instrument", 'EURUSD has no options; trade it with "underlying"')]
