"""Replay a strategy over one or more days from the command line, without the server or the database.

    python manage.py simulate --strategy nifty_short_straddle --date 2024-10-29 [--to 2024-10-31]
                              [--underlying NIFTY] [--seed 0] [--slippage-ticks 0] [--json]

``--strategy`` is an example's name (strategies/examples) or a path to a JSON file. The command
never opens a database connection: no system checks, no ORM. An invalid strategy, missing market
data or a day the contract facts or charge schedule do not cover ends it with exit code 2 and a
one-line reason, before any market data is generated.
"""

from __future__ import annotations

import json
import sys
import time

from django.conf import settings
from django.core.management.base import CommandError

from config.cli import RefusingCommand, iso_date, non_negative_int, underlying_name
from live_trading.engine.engine import EngineSettings
from live_trading.engine.events import NodeExecuted, TradeClosed
from live_trading.engine.multiday import MultiDayEngine
from live_trading.marketdata.calendar import trading_days
from live_trading.marketdata.store import load_day
from live_trading.refusals import check_replay_span
from strategies.graph import InvalidGraph, parse_graph
from strategies.graph.examples import load_strategy_source

PROGRESS_EVERY = 500  # ticks between progress-bar updates: the bar must not cost the loop
REFUSED = ("order_rejected", "order_skipped")


class _TradeSink:
    """Keeps the trades and the orders that were refused; everything else is dropped."""

    wants_ticks = False

    def __init__(self):
        self.trades = []
        self.refused = []

    def emit(self, event) -> None:
        if isinstance(event, TradeClosed):
            self.trades.append(event.trade)
        elif isinstance(event, NodeExecuted) and event.event_type in REFUSED:
            self.refused.append({"timestamp": event.timestamp, "node_id": event.node_id,
                                 "event_type": event.event_type, "reason": event.details.get("reason", "")})


class Command(RefusingCommand):
    help = "Replay a strategy over market data and print its trades and P&L (no server, no database)."
    requires_system_checks = []  # checks could touch the database; this command must not

    def add_arguments(self, parser):
        parser.add_argument("--strategy", required=True, help="example name or path to a strategy JSON file")
        parser.add_argument("--date", required=True, type=iso_date, help="first day, YYYY-MM-DD")
        parser.add_argument("--to", type=iso_date, help="last day (default: --date; at most SIM_MAX_DAYS_PER_SESSION "
                                                       "days from --date, as the API)")
        parser.add_argument("--underlying", type=underlying_name, help="run the strategy on this underlying instead of its own")
        parser.add_argument("--seed", type=non_negative_int, default=0, help="synthetic data seed and execution-id seed")
        parser.add_argument("--slippage-ticks", type=non_negative_int, default=0, help="market-order slippage in ticks")
        parser.add_argument("--json", action="store_true", help="print the summary and trades as one JSON document")

    def handle(self, *args, **opts):
        try:
            data = load_strategy_source(opts["strategy"])
        except (KeyError, OSError, ValueError) as e:
            raise CommandError(f"cannot read strategy {opts['strategy']!r}: {e}") from None
        if opts["underlying"]:
            for node in data.get("nodes", []) if isinstance(data, dict) else []:
                if isinstance(node, dict) and node.get("type") == "start" and isinstance(node.get("config"), dict):
                    node["config"]["underlying"] = opts["underlying"]
        try:
            graph = parse_graph(data)
        except InvalidGraph as e:
            raise CommandError("--strategy: invalid strategy: " + "; ".join(str(x) for x in e.errors)) from None

        first, last = opts["date"], opts["to"] or opts["date"]
        check_replay_span(first, last, settings.SIM_MAX_DAYS_PER_SESSION)
        days = trading_days(first, last)
        if not days:
            raise CommandError(f"no trading day between {first} and {last}")
        seed = opts["seed"]

        def load(underlying, d):
            return load_day(underlying, d, data_dir=settings.MARKET_DATA_DIR, seed=seed)

        sink = _TradeSink()
        engine_settings = EngineSettings(seed=str(seed), slippage_ticks=opts["slippage_ticks"])
        loaded = time.perf_counter()
        engine = MultiDayEngine(graph, days, sink, engine_settings, load=load)
        wall, summary = self._run(engine, show_progress=not opts["json"] and sys.stderr.isatty())
        total = time.perf_counter() - loaded
        ticks = engine.ticks_processed
        result = {
            "strategy": graph.name,
            "underlying": graph.underlying,
            "days": [d.isoformat() for d in days],
            "summary": summary.to_dict(),
            "ticks": ticks,
            "engine_seconds": round(wall, 3),
            "ticks_per_second": round(ticks / wall) if wall else None,
            "trades": [t.to_dict() for t in sink.trades],
            "refused_orders": sink.refused,
        }
        if opts["json"]:
            self.stdout.write(json.dumps(result, indent=2))
            return
        self._print(result, total)

    def _run(self, engine, show_progress: bool):
        bar = None
        if show_progress:
            from tqdm import tqdm

            bar = tqdm(total=engine.total_ticks, unit="tick", unit_scale=True, file=sys.stderr, leave=False)
        # Later days load during stepping; their loading is not engine time.
        spent = engine.load_seconds
        step = engine.step
        done = 0
        while True:
            t0 = time.perf_counter()
            more = True
            for _ in range(PROGRESS_EVERY):
                more = step()
                if not more:
                    break
            spent += time.perf_counter() - t0
            if bar is not None:
                bar.total = engine.total_ticks
                bar.update(engine.ticks_processed - done)
                done = engine.ticks_processed
            if not more:
                break
        engine.finish()
        if bar is not None:
            bar.close()
        return spent - engine.load_seconds, engine.summary()

    def _print(self, r, total_seconds):
        s = r["summary"]
        w = self.stdout.write
        w(f"{r['strategy']} on {r['underlying']}, {', '.join(r['days'])}")
        for t in r["trades"]:
            w(f"  {t['entry_time'][:19]} -> {t['exit_time'][11:19]}  {t['trade_id']:<24} {t['side']:<4} {t['quantity']:>4} "
              f"{t['symbol']:<32} {t['entry_price']:>9} -> {t['exit_price']:>9}  pnl {t['pnl']:>10}  "
              f"net {t['net_pnl']:>10}  {t['exit_reason']}")
        w(f"trades {s['total_trades']} (won {s['winning_trades']}, lost {s['losing_trades']}, win rate {s['win_rate']}%)")
        if r["refused_orders"]:
            # A strategy that trades nothing usually says why here (an option not in the day's chain...).
            w(self.style.WARNING(f"orders refused or skipped: {len(r['refused_orders'])}"))
            for o in r["refused_orders"][:5]:
                w(f"  {o['timestamp'][:19]}  {o['node_id']}: {o['event_type']}: {o['reason']}")
        w(f"gross P&L {s['gross_pnl']}  charges {s['charges']}  net P&L {s['net_pnl']}  max drawdown {s['max_drawdown']}")
        w(f"{r['ticks']} ticks in {r['engine_seconds']} s of engine time ({r['ticks_per_second']} ticks/s); "
          f"{total_seconds:.2f} s with data loading")
