"""Benchmark of one positional session over 250 trading days (issue 16), runnable as
``.venv/bin/python bench/bench_positional.py``.

A two-leg options strategy (a short NIFTY strangle of the current weekly expiry, two strikes out of the
money, sold at 09:20 of the first day and held overnight with a 200% stop loss on each leg; both legs
are closed on Thursdays at 14:45, the weekly expiry, and each leg is sold again an hour after a close,
so the next morning after the Thursday close, up to 10 times a leg) runs as one ``MultiDayEngine``
session over the 250 trading days 2023-11-01 .. 2024-10-31 of the synthetic NIFTY market (seed 0),
events to a null sink.

Timed: the engine alone, from building the ``MultiDayEngine`` to its summary: every tick of every day,
candles and indicators, positions, fills, equity samples, settlement and each day's carry-over (the
day's option chain, its price columns, its candle builder). Not timed: reading each day's Parquet file
into a ``MarketDay`` (the market-data layer's cost, ~0.2-0.4 s a day here; measured by the engine as
``load_seconds`` and printed beside), and generating missing days, which happens once, before timing,
into the bench's own cache (``var/bench_market_data``; about 1.3 s a day, so ~5 minutes the first time).

Printed: the total, the engine's time per day at the first, middle and last fifth of the range (median
of the days in each fifth; the cost per day must not grow with the number of days), and the target
(under 10 s for the 250 days). No Django, no database.
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

from live_trading.engine.events import NullSink, TradeClosed
from live_trading.engine.multiday import MultiDayEngine
from live_trading.marketdata.calendar import trading_days
from live_trading.marketdata.store import ensure_synthetic_days, load_day
from strategies.graph import parse_graph

UNDERLYING = "NIFTY"
FIRST, LAST = date(2023, 11, 1), date(2024, 10, 31)  # 250 trading days
DATA_DIR = Path(__file__).resolve().parents[1] / "var" / "bench_market_data"
TARGET_SECONDS = 10.0


def leg(right: str) -> dict:
    return {"id": f"short-{right.lower()}", "type": "entry", "name": f"Sell OTM2 {right}",
            "config": {"instrument": "option", "expiry": "current_weekly", "strike": {"rule": "otm", "offset": 2},
                       "right": right, "side": "sell", "lots": 1, "stop_loss": {"type": "percent", "value": 200}}}


STRATEGY = {
    "format_version": 1,
    "name": "Positional NIFTY strangle, rolled weekly",
    "nodes": [
        {"id": "start", "type": "start", "name": "Strategy Controller",
         "config": {"underlying": UNDERLYING, "start_time": "09:15", "square_off_time": "15:15",
                    "holding": "positional", "positional_square_off": {"day": "last", "time": "15:15"}}},
        {"id": "at-0920", "type": "entry_signal", "name": "At 09:20",
         "config": {"conditions": {"all": [
             {"left": {"type": "time_of_day"}, "operator": ">=", "right": {"type": "value", "value": "09:20"}}]}}},
        leg("CE"),
        leg("PE"),
        *({"id": f"again-{right}", "type": "re_entry", "name": f"Sell the {right.upper()} again",
           "config": {"max_re_entries": 10, "on": ["stop_loss", "exit_condition_met"], "wait_seconds": 3600}}
          for right in ("ce", "pe")),
        {"id": "thursday-close", "type": "exit_signal", "name": "Thursday 14:45",
         "config": {"conditions": {"all": [
             {"left": {"type": "day_of_week"}, "operator": "==", "right": {"type": "value", "value": "thu"}},
             {"left": {"type": "time_of_day"}, "operator": ">=", "right": {"type": "value", "value": "14:45"}}]}}},
        {"id": "close-both", "type": "exit", "name": "Close both legs",
         "config": {"positions": ["short-ce", "short-pe"]}},
    ],
    "edges": [
        {"from": "start", "to": "at-0920"},
        {"from": "at-0920", "to": "short-ce"},
        {"from": "at-0920", "to": "short-pe"},
        {"from": "short-ce", "to": "again-ce"},
        {"from": "again-ce", "to": "short-ce"},
        {"from": "short-pe", "to": "again-pe"},
        {"from": "again-pe", "to": "short-pe"},
        {"from": "short-ce", "to": "thursday-close"},
        {"from": "short-pe", "to": "thursday-close"},
        {"from": "thursday-close", "to": "close-both"},
    ],
}


class DayClock:
    """The load function the engine calls at each day's start: reads the day (timed apart) and notes
    when each day's engine time begins, so the engine time of every day is known."""

    def __init__(self, data_dir: Path, sink):
        self.data_dir = data_dir
        self.sink = sink
        self.engine = None
        self.marks: list[tuple[float, float]] = []  # (load started, load ended) per day
        self.held: list[bool] = []  # per day: whether it started with positions held overnight
        self.trades: list[int] = []  # per day: trades closed before it

    def __call__(self, underlying, day):
        self.held.append(self.engine is not None and bool(self.engine.carry.store.open))
        self.trades.append(self.sink.trades)
        started = time.perf_counter()
        loaded = load_day(underlying, day, data_dir=self.data_dir)
        self.marks.append((started, time.perf_counter()))
        return loaded

    def day_seconds(self, end: float) -> list[float]:
        """Engine seconds of each day: from the end of its load to the start of the next day's load."""
        ends = [m[1] for m in self.marks]
        nexts = [m[0] for m in self.marks[1:]] + [end]
        return [b - a for a, b in zip(ends, nexts, strict=True)]


class CountingSink(NullSink):
    """A null sink that counts trades (the figures printed beside the time: what the session did)."""

    def __init__(self):
        self.trades = 0
        self.events = 0

    def emit(self, event) -> None:
        self.events += 1
        if type(event) is TradeClosed:
            self.trades += 1


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--days", type=int, default=250, help="run the first N of the 250 days (while iterating)")
    ap.add_argument("--data-dir", type=Path, default=DATA_DIR)
    ap.add_argument("--profile", type=Path, help="write a cProfile of the engine run to this file")
    args = ap.parse_args(argv)

    days = trading_days(FIRST, LAST)[: args.days]
    t0 = time.perf_counter()
    made = [d for d, _, generated in ensure_synthetic_days(UNDERLYING, days[0], days[-1], data_dir=args.data_dir)
            if generated]
    if made:
        print(f"generated {len(made)} synthetic days into {args.data_dir} in {time.perf_counter() - t0:.0f} s")

    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.1f} at the start")
    print(f"data: synthetic {UNDERLYING}, seed 0, {len(days)} trading days {days[0]} .. {days[-1]}")

    graph = parse_graph(STRATEGY)
    sink = CountingSink()
    clock = DayClock(args.data_dir, sink)
    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    started = time.perf_counter()
    engine = clock.engine = MultiDayEngine(graph, days, sink, load=clock)
    summary = engine.run()
    ended = time.perf_counter()
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(args.profile)

    load = sum(b - a for a, b in clock.marks)
    engine_total = ended - started - load
    per_day = clock.day_seconds(ended)
    n = len(per_day)
    fifth = max(n // 5, 1)
    spans = {"first": (0, fifth), "middle": (2 * fifth, 3 * fifth), "last": (n - fifth, n)}
    parts = {name: per_day[a:b] for name, (a, b) in spans.items()}
    trades_by_day = [b - a for a, b in zip(clock.trades, [*clock.trades[1:], sink.trades], strict=True)]
    ticks = engine.ticks_processed
    print(f"session: {engine.status}, {ticks:,} ticks, {summary.total_trades} trades, {sink.events:,} events, "
          f"net P&L {summary.net_pnl}")
    print(f"\n   engine, {n} days, null sink       {engine_total:8.2f} s   ({ticks / engine_total:,.0f} ticks/s)   "
          f"{'OK' if engine_total < TARGET_SECONDS * n / 250 else 'MISSED'} (< {TARGET_SECONDS * n / 250:g} s)")
    print(f"   reading the days' files (not timed) {load:8.2f} s   ({load / n * 1000:.0f} ms a day)")
    for name, part in parts.items():
        a, b = spans[name]
        print(f"   engine per day, {name:<6} fifth      {statistics.median(part) * 1000:8.1f} ms median   "
              f"(min {min(part) * 1000:.1f}, max {max(part) * 1000:.1f}; {len(part)} days, "
              f"{sum(clock.held[a:b])} held overnight into, {sum(trades_by_day[a:b])} trades)")
    for label, pick in (("held overnight into", True), ("flat at the open", False)):
        chosen = [t for t, held in zip(per_day, clock.held, strict=True) if held is pick]
        if chosen:
            print(f"   engine per day, {label:<20} {statistics.median(chosen) * 1000:6.1f} ms median   "
                  f"(min {min(chosen) * 1000:.1f}, max {max(chosen) * 1000:.1f}; {len(chosen)} days)")
    ratio = statistics.median(parts["last"]) / statistics.median(parts["first"])
    print(f"   last fifth / first fifth            {ratio:8.2f}x  {'OK' if ratio < 1.25 else 'GROWS'} (no growth)")
    print(f"   load average at the end             {os.getloadavg()[0]:8.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
