"""A stock and a future, each configured as data alone, bought with a stop; P&L worked by hand.

RELIANCE (NSE cash market: a lot of one share, a tick of 0.05, INR) and the E-mini S&P 500 future ES
(CME: 50 USD a point, a tick of 0.25 points, on the ``CME_EQUITY`` calendar, 18:00 to 17:00 New York)
are the tables of ``tests/marketdata/other_markets.toml`` appended to the package data file
(``markets.markets_universe``). A few 1-minute (RELIANCE) and 5-minute (ES) bars written here are imported;
each strategy buys when the price reaches a level, with a stop in points. The fills follow the bars'
ticks as docs/marketdata.md describes them (the open at the bar's first second, the extreme it moved away
from first a third in, the other two thirds in, the close at its last second); the prices, P&L and fees
below are worked by hand from the bars, not read from the engine.
"""

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from live_trading.engine.engine import EngineSettings
from live_trading.engine.fees import FeeModel
from live_trading.engine.multiday import MultiDayEngine
from live_trading.marketdata.importer import ImportFailed, import_files
from live_trading.marketdata.store import MarketDataMissing, day_ticks, load_day
from strategies.graph import parse_graph, validate_graph
from tests.marketdata.markets import as_candles, aware, imported_and_read_back, markets_universe

__all__ = ["markets_universe"]  # the fixture, used by name below

IST = ZoneInfo("Asia/Kolkata")
NEW_YORK = ZoneInfo("America/New_York")
RELIANCE_DAY = date(2024, 10, 29)
ES_DAY = date(2024, 10, 15)  # its session opened on Monday 14 Oct at 18:00 New York

RELIANCE_BARS = """timestamp,symbol,open,high,low,close,volume
2024-10-29 09:15:00,RELIANCE,1341.00,1346.50,1339.05,1345.00,5200
2024-10-29 09:16:00,RELIANCE,1345.00,1352.35,1344.10,1351.00,4100
2024-10-29 09:17:00,RELIANCE,1350.50,1353.00,1348.00,1349.00,3900
2024-10-29 09:18:00,RELIANCE,1349.00,1349.50,1345.20,1346.00,6100
2024-10-29 09:19:00,RELIANCE,1346.05,1348.00,1344.00,1347.90,2500
"""

ES_BARS = """timestamp,symbol,open,high,low,close,volume
2024-10-14 18:00:00,ES,5860.00,5862.50,5859.25,5861.00,310
2024-10-15 09:30:00,ES,5870.00,5876.50,5868.25,5875.75,5400
2024-10-15 09:35:00,ES,5875.75,5881.25,5874.00,5880.50,4800
2024-10-15 09:40:00,ES,5880.00,5884.00,5878.50,5879.00,3900
2024-10-15 09:45:00,ES,5879.25,5880.00,5876.75,5877.50,4700
2024-10-15 09:50:00,ES,5877.50,5879.00,5875.00,5878.25,2100
"""


def breakout(underlying: str, level: str, stop: str, lots: int, start: str, square_off: str) -> dict:
    """Buy ``lots`` of the underlying itself once its price reaches ``level``, with a stop ``stop`` points
    below the fill; intraday."""
    return {"format_version": 1, "name": f"{underlying} breakout", "nodes": [
        {"id": "start", "type": "start", "config": {"underlying": underlying, "start_time": start,
                                                    "square_off_time": square_off}},
        {"id": "up", "type": "entry_signal", "config": {"conditions": {"all": [
            {"left": {"type": "underlying_ltp"}, "operator": ">=", "right": {"type": "value", "value": level}}]}}},
        {"id": "buy", "type": "entry", "config": {"instrument": "underlying", "side": "buy", "lots": lots,
                                                  "stop_loss": {"type": "points", "value": stop}}},
    ], "edges": [{"from": "start", "to": "up"}, {"from": "up", "to": "buy"}]}


def reliance_graph() -> dict:
    return breakout("RELIANCE", "1350", "5", 10, "09:15", "15:15")


def es_graph() -> dict:
    return breakout("ES", "5880", "4", 2, "09:30", "16:00")


def run(graph: dict, day: date, data_dir, fees: FeeModel):
    engine = MultiDayEngine(
        parse_graph(graph), [day],
        settings=EngineSettings(fees=fees, starting_capital=10**6 * 100),
        load=lambda underlying, d: load_day(underlying, d, data_dir=data_dir, generate=False),
        count=lambda underlying, d: day_ticks(underlying, d, data_dir),
    )
    summary = engine.run()
    return engine.carry.store.trades, summary


@pytest.fixture
def data_dir(markets_universe, tmp_path):
    (tmp_path / "reliance_1m.csv").write_text(RELIANCE_BARS)
    (tmp_path / "es_5m.csv").write_text(ES_BARS)
    path = tmp_path / "market_data"
    import_files([tmp_path / "reliance_1m.csv"], data_dir=path)
    written = import_files([tmp_path / "es_5m.csv"], data_dir=path, timeframe="5m").written
    # Monday 18:00 New York is the first bar of Tuesday's session: one day file.
    assert [p.relative_to(path).as_posix() for p in written] == ["imported/ES/2024-10-15.parquet"]
    return path


def test_a_stock_bought_with_a_stop_pays_a_percent_fee_per_order(data_dir):
    trades, summary = run(reliance_graph(), RELIANCE_DAY, data_dir,
                          FeeModel.from_rupees("percent", percent="0.03", cap="20"))

    # 09:16 bar rises 1345.00 -> 1351.00, its low 1344.10 at :20 and its high 1352.35 at :40: the first
    # price at or above 1350. Stop 1352.35 - 5 = 1347.35: the 09:17 bar's low 1348.00 stays above it, the
    # 09:18 bar (falling, high first) reaches 1345.20 at :40.
    [trade] = trades
    assert (datetime.fromtimestamp(trade.entry_time, IST), trade.entry_price, trade.quantity) == (
        datetime(2024, 10, 29, 9, 16, 40, tzinfo=IST), 1352_35, 10)  # 10 lots of one share
    assert (datetime.fromtimestamp(trade.exit_time, IST), trade.exit_price, trade.exit_reason) == (
        datetime(2024, 10, 29, 9, 18, 40, tzinfo=IST), 1345_20, "stop_loss")
    # (1345.20 - 1352.35) x 10 = -71.50; 0.03% of 13,523.50 = 4.057 -> 4.06, of 13,452.00 = 4.036 -> 4.04.
    assert (trade.pnl, trade.charges, trade.net_pnl) == (-71_50, 8_10, -79_60)
    assert (summary.gross_pnl, summary.charges, summary.net_pnl) == (
        Decimal("-71.50"), Decimal("8.10"), Decimal("-79.60"))


def test_a_future_bought_with_a_stop_counts_its_contract_size(data_dir):
    trades, summary = run(es_graph(), ES_DAY, data_dir, FeeModel.from_rupees("per_order", per_order="2.50"))

    # 09:35 bar rises: 5875.75, its low 5874.00 at 1:40, its high 5881.25 at 3:20 (at or above 5880).
    # Stop 5881.25 - 4 = 5877.25: the 09:40 bar's low 5878.50 stays above; the 09:45 bar (falling) reaches
    # 5876.75 at 3:20.
    [trade] = trades
    assert (datetime.fromtimestamp(trade.entry_time, NEW_YORK), trade.entry_price, trade.quantity) == (
        datetime(2024, 10, 15, 9, 38, 20, tzinfo=NEW_YORK), 5881_25, 100)  # 2 contracts x 50 USD a point
    assert (datetime.fromtimestamp(trade.exit_time, NEW_YORK), trade.exit_price, trade.exit_reason) == (
        datetime(2024, 10, 15, 9, 48, 20, tzinfo=NEW_YORK), 5876_75, "stop_loss")
    # -4.50 points x 50 USD x 2 contracts = -450.00 USD; two orders at 2.50 USD.
    assert (trade.pnl, trade.charges, trade.net_pnl) == (-450_00, 5_00, -455_00)
    assert summary.net_pnl == Decimal("-455.00")


def test_simulate_runs_the_future_from_its_imported_bars(data_dir, tmp_path, settings, capsys):
    settings.MARKET_DATA_DIR = data_dir
    path = tmp_path / "es.json"
    path.write_text(json.dumps(es_graph()))

    call_command("simulate", "--strategy", str(path), "--date", "2024-10-15", "--fees", "per_order",
                 "--fee-per-order", "2.50", "--json")

    result = json.loads(capsys.readouterr().out)
    [trade] = result["trades"]
    assert (aware(trade["entry_time"]), trade["entry_price"], trade["quantity"]) == (
        datetime(2024, 10, 15, 13, 38, 20, tzinfo=UTC), "5881.25", 100)
    assert (aware(trade["exit_time"]), trade["exit_price"], trade["pnl"], trade["net_pnl"]) == (
        datetime(2024, 10, 15, 13, 48, 20, tzinfo=UTC), "5876.75", "-450.00", "-455.00")
    assert result["summary"]["total_pnl"] == "-455.00"


@pytest.mark.parametrize(("graph", "underlying"), [(reliance_graph, "RELIANCE"), (es_graph, "ES")])
def test_option_entries_on_an_instrument_without_options_are_refused_naming_the_path(markets_universe, graph,
                                                                                    underlying):
    g = graph()
    g["nodes"][2]["config"] = {"instrument": "option", "expiry": "current_monthly", "right": "CE",
                               "strike": {"rule": "atm", "offset": 0}, "side": "buy", "lots": 1}
    g["nodes"][1]["config"]["conditions"]["all"][0]["left"] = {
        "type": "option_ltp", "expiry": "current_monthly", "right": "PE", "strike": {"rule": "atm"}}

    assert [str(e) for e in validate_graph(g)] == [
        f"nodes[1].config.conditions.all[0].left.type: {underlying} has no options",
        f'nodes[2].config.instrument: {underlying} has no options; trade it with "underlying"',
    ]


@pytest.mark.parametrize(("text", "message"), [
    ("2024-10-29 09:20:00,RELIANCE,1347.90,1349.00,1346.32,1348.00",
     "line 2, field 'low': 1346.32 is off the 0.05 tick"),
    ("2024-10-15 09:55:00,ES,5878.25,5880.10,5877.00,5879.00", "line 2, field 'high': 5880.10 is off the 0.25 tick"),
    ("2024-10-15 17:00:00,ES,5878.25,5880.00,5877.00,5879.00",
     "line 2, field 'timestamp': 2024-10-15 17:00:00-04:00 is outside the sessions of the CME_EQUITY calendar "
     "(18:00:00-16:59:59 America/New_York, its trading days and holidays)"),
])
def test_prices_off_the_instruments_tick_and_times_outside_its_hours_are_refused(markets_universe, tmp_path, text,
                                                                                message):
    path = tmp_path / "bad.csv"
    path.write_text("timestamp,symbol,open,high,low,close\n" + text + "\n")

    with pytest.raises(ImportFailed) as refused:
        import_files([path], data_dir=tmp_path / "md", timeframe="1m" if "RELIANCE" in text else "5m")

    assert message in str(refused.value)
    assert not (tmp_path / "md").exists()


def test_a_stock_day_that_was_not_imported_is_refused_not_generated(data_dir):
    with pytest.raises(MarketDataMissing, match=r"RELIANCE .*no synthetic market: import its data"):
        day_ticks("RELIANCE", date(2024, 10, 30), data_dir)
    with pytest.raises(MarketDataMissing, match=r"RELIANCE .*no synthetic market: import its data"):
        load_day("RELIANCE", date(2024, 10, 30), data_dir=data_dir)
    assert not (data_dir / "synthetic").exists()


@pytest.mark.parametrize(("rows", "timeframe", "ticks"), [
    # The NSE's last hourly bar on the grid from 09:15 is 15:15-15:30: its ticks over its quarter hour.
    (["2024-10-29 14:15:00,RELIANCE,1341.00,1346.50,1339.05,1345.00,5200",
      "2024-10-29 15:15:00,RELIANCE,1345.00,1345.50,1338.00,1340.00,7300"], "1h",
     ["14:15:00", "14:35:00", "14:55:00", "15:14:59", "15:15:00", "15:20:00", "15:25:00", "15:29:59"]),
    # A daily bar: the whole session, 22,500 seconds from 09:15.
    (["2024-10-29 09:15:00,RELIANCE,1341.00,1356.50,1331.05,1345.00,920000"], "1d",
     ["09:15:00", "11:20:00", "13:25:00", "15:29:59"]),
])
def test_an_nse_stocks_last_hourly_bar_and_its_daily_bar_are_imported(markets_universe, tmp_path, rows, timeframe,
                                                                      ticks):
    seen, candles = imported_and_read_back(rows, timeframe, "RELIANCE", RELIANCE_DAY, IST, tmp_path)

    assert seen == ticks
    assert candles == as_candles(rows, "RELIANCE")
