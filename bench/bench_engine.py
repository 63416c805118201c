"""Benchmark of the strategy engine (issue 4), runnable as ``.venv/bin/python bench/bench_engine.py``.

1. One full synthetic NIFTY day (22,500 one-second ticks, 2024-10-29) with the short straddle (with
   re-entries) and with the RSI reversal strategy, events to a null sink: wall time and ticks/s.
2. The opening-range breakout example on the same day's underlying ticks, in our engine and in
   backtrader (1-second bars of the underlying), after checking that both made the same trades
   (side, entry and exit time and price): our time, backtrader's, the ratio.

Timings are the median of several runs, on an already loaded day (loading/generating the day's
Parquet file is the market-data layer's and is not timed for either engine). Our time includes
building the engine (compiling the graph, converting price columns); backtrader's includes feeding
it the DataFrame. No Django, no database.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import backtrader as bt
import numpy as np
import pandas as pd

from live_trading.engine.engine import Engine
from live_trading.engine.events import ListSink, NullSink, TradeClosed
from live_trading.marketdata.calendar import IST_OFFSET_SECONDS as IST_OFFSET
from live_trading.marketdata.store import load_day
from strategies.graph import parse_graph
from strategies.graph.examples import load_example

DAY = date(2024, 10, 29)


def timed(fn, repeat):
    times = []
    result = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), min(times), result


def run_ours(graph, day, sink=None):
    engine = Engine(graph, day, sink or NullSink())
    engine.run()
    return engine


# ------------------------------------------------------------------------------------------------
# The opening-range breakout in backtrader, written from the strategy's description in
# docs/strategies.md, not from our engine's code: the range is the high and low of the ticks from
# 09:15:00 to 09:29:59; from 09:30 a long is bought when the price crosses above the high (previous
# price at or below it, this one above), a short sold when it crosses below the low; one of each at
# most, none from 13:00; 30-point stop and 60-point target checked on every later tick before the
# 15:00 time exit. Two copies of the feed keep the long and the short as separate positions, as our
# engine keeps them.


def tod(dt) -> int:
    return dt.hour * 3600 + dt.minute * 60 + dt.second


class OpeningRangeBreakout(bt.Strategy):
    params = (("stop", 30.0), ("target", 60.0), ("lot", 25))

    def __init__(self):
        self.or_high = None
        self.or_low = None
        self.range_hi = -1e18
        self.range_lo = 1e18
        self.prev = None  # (price, or_high, or_low) on the previous bar
        self.legs = {"buy": {"state": "flat"}, "sell": {"state": "flat"}}
        self.trades = []
        self.fills = []  # backtrader's own execution prices, in order

    def next(self):
        dt = self.data0.datetime.datetime(0)
        t = tod(dt)
        price = self.data0.close[0]
        if t < 9 * 3600 + 30 * 60:
            self.range_hi = max(self.range_hi, price)
            self.range_lo = min(self.range_lo, price)
        elif self.or_high is None:
            self.or_high, self.or_low = self.range_hi, self.range_lo
        # Stops and targets first, then the time exit, then new entries (the engine's order).
        for side, feed in (("buy", self.data0), ("sell", self.data1)):
            leg = self.legs[side]
            if leg["state"] != "open" or leg["entry_dt"] == dt:
                continue
            sign = 1 if side == "buy" else -1
            move = (price - leg["entry_price"]) * sign
            reason = None
            if move <= -self.p.stop:
                reason = "stop_loss"
            elif move >= self.p.target:
                reason = "target"
            elif t >= 15 * 3600:
                reason = "exit_condition_met"
            if reason:
                self.close(data=feed)
                leg.update(state="done")
                self.trades.append((side, leg["entry_dt"], leg["entry_price"], dt, price, reason))
        if self.or_high is not None and self.prev is not None and self.prev[1] is not None and t < 13 * 3600:
            p_price, p_hi, p_lo = self.prev
            if self.legs["buy"]["state"] == "flat" and p_price <= p_hi and price > self.or_high:
                self.buy(data=self.data0, size=self.p.lot)
                self.legs["buy"] = {"state": "open", "entry_dt": dt, "entry_price": price}
            if self.legs["sell"]["state"] == "flat" and p_price >= p_lo and price < self.or_low:
                self.sell(data=self.data1, size=self.p.lot)
                self.legs["sell"] = {"state": "open", "entry_dt": dt, "entry_price": price}
        self.prev = (price, self.or_high, self.or_low)

    def notify_order(self, order):
        if order.status == order.Completed:
            self.fills.append(order.executed.price)


def underlying_frame(day) -> pd.DataFrame:
    ts = np.asarray(day.timestamps) + IST_OFFSET  # naive exchange time, as backtrader shows it
    price = day.prices[:, 0] / 100.0
    return pd.DataFrame(
        {"open": price, "high": price, "low": price, "close": price, "volume": 0.0, "openinterest": 0.0},
        index=pd.to_datetime(ts, unit="s"),
    )


def run_backtrader(frame):
    cerebro = bt.Cerebro(stdstats=False)
    cerebro.broker.set_coc(True)  # market orders fill at the close of the bar that placed them
    cerebro.broker.setcash(10_000_000)
    for name in ("long", "short"):
        cerebro.adddata(bt.feeds.PandasData(dataname=frame, timeframe=bt.TimeFrame.Seconds), name=name)
    cerebro.addstrategy(OpeningRangeBreakout)
    [strategy] = cerebro.run()
    return strategy


def ours_trades(graph, day):
    sink = ListSink()
    run_ours(graph, day, sink)
    out = []
    for e in sink.of(TradeClosed):
        t = e.trade
        out.append((t.side, _dt(t.entry_time), float(t.entry_price), _dt(t.exit_time), float(t.exit_price), t.exit_reason))
    return out


def _dt(ts):
    return pd.Timestamp(ts + IST_OFFSET, unit="s").to_pydatetime()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--bt-repeat", type=int, default=3)
    args = ap.parse_args(argv)

    day = load_day("NIFTY", DAY)
    n = day.n_ticks
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"backtrader {bt.__version__}")
    print(f"data: synthetic NIFTY {DAY}, {n} ticks, {len(day.symbols)} symbols\n")

    print(f"1. full day, null sink (median of {args.repeat} runs)")
    for name in ("nifty_short_straddle", "nifty_rsi_reversal"):
        graph = parse_graph(load_example(name))
        med, best, engine = timed(lambda g=graph: run_ours(g, day), args.repeat)
        s = engine.summary()
        print(f"   {name:<30} {med * 1000:7.1f} ms  (best {best * 1000:.1f})  {n / med:>9,.0f} ticks/s  "
              f"trades {s.total_trades}, net {s.net_pnl}  {'OK' if med < 0.3 else 'MISSED'} (< 300 ms)")

    print("\n2. opening-range breakout: ours vs backtrader")
    graph = parse_graph(load_example("nifty_opening_range_breakout"))
    ours = ours_trades(graph, day)
    frame = underlying_frame(day)
    strategy = run_backtrader(frame)
    theirs = strategy.trades
    for label, trades in (("ours", ours), ("backtrader", theirs)):
        for tr in trades:
            print(f"   {label:<10} {tr[0]:<4} {tr[1]:%H:%M:%S} {tr[2]:>9.2f} -> {tr[3]:%H:%M:%S} {tr[4]:>9.2f}  {tr[5]}")
    # backtrader's fills, in execution order, must be our entry and exit prices in time order.
    our_fills = [price for _, price in sorted(x for tr in ours for x in ((tr[1], tr[2]), (tr[3], tr[4])))]
    if ours != theirs or not ours or strategy.fills != our_fills:
        print(f"   TRADES DIFFER (backtrader fills {strategy.fills}): no timing reported")
        return 1
    print(f"   same {len(ours)} trades (side, entry/exit time and price, reason)")
    our_med, our_best, _ = timed(lambda: run_ours(graph, day), args.repeat)
    bt_med, bt_best, _ = timed(lambda: run_backtrader(frame), args.bt_repeat)
    ratio = bt_med / our_med
    print(f"   ours       {our_med * 1000:8.1f} ms (best {our_best * 1000:.1f})")
    print(f"   backtrader {bt_med * 1000:8.1f} ms (best {bt_best * 1000:.1f})")
    print(f"   ratio      {ratio:8.1f}x  {'OK' if ratio >= 10 else 'MISSED'} (>= 10x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
