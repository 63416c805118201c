"""Replay a strategy over one or more days from the command line, without the server or the database.

    python manage.py simulate --strategy nifty_short_straddle --date 2024-10-29 [--to 2024-10-31]
                              [--underlying NIFTY] [--seed 0] [--json] [--out DIR [--stream QUERY]]
                              [--fees {nse_fo,none,per_order,percent}] [--fee-per-order RUPEES]
                              [--fee-percent PERCENT [--fee-cap RUPEES]] [--slippage-ticks 0]
                              [--fills-at {next_open,bar_close}]

``--strategy`` is an example's name (strategies/examples) or a path to a JSON file. The command
never opens a database connection: no system checks, no ORM. An invalid strategy, missing market
data or a day the contract facts or charge schedule do not cover ends it with exit code 2 and a
one-line reason, before any market data is generated.

``--fees`` picks the fee model as a broker connection does (``live_trading/engine/fees.py``): the dated
NSE F&O schedule (the default), none, a flat ``--fee-per-order`` in rupees, or ``--fee-percent`` of
turnover with an optional ``--fee-cap`` in rupees per order; ``--slippage-ticks`` moves every fill that
many price ticks against the trader. A parameter the model does not take, or a value out of bounds, is
refused in one line naming the option, with the API's message. ``--fills-at`` is when an order a
candle's condition places fills (``EngineSettings.fills_at``, docs/strategies.md): at the next bar's
open (the default) or at the signal bar's close.

The days are the trading days of the underlying's calendar; prices and P&L print with its decimals
(five for an FX pair quoted to five places), the paper account's capital is 10,00,000 of its currency.

``--out DIR`` also writes the run's export files in the seeds' formats (docs/reports.md, "Exports"):
``diagnostics_export.json.gz``, ``trades_daily.json.gz`` and ``positions.json``, in DIR for a one-day
run and in DIR/<YYYY-MM-DD>/ per trading day for a longer one, and the run's manifest ``session.json``
in DIR; the same functions build them as for a stored session (``GET /api/sessions/{id}/exports/``), so
``manage.py import_session DIR`` reads the folder into a session (docs/reports.md, "Sharing a run").

With ``--out``, DIR also gets the run's stream in seed 003's files (``initial_state.json``,
``tick_updates_stream.jsonl``, ``node_events_stream.jsonl``, ``trade_updates_stream.jsonl``,
``final_state.json``, and ``position_events_stream.jsonl``, ``candle_updates_stream.jsonl``;
``live_trading/stream/capture.py``): what a client of the stream of the same run received, byte for
byte apart from ids and wall-clock timestamps, for a session started paused with ``stream_ticks``
``all``, whose stream the client opened before resuming it (docs/protocol.md, "Capturing a run").
The events come from the stream's own sink and encoders; ``--stream`` takes the stream URL's options
(``compress=0&ticks=compact&node_diagnostics=1``; default: the stream's defaults); any other option
(``event_type``, a typo) is refused, as is ``--stream`` without ``--out``.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from urllib.parse import parse_qsl

from django.conf import settings
from django.core.management.base import CommandError

from config.cli import RefusingCommand, iso_date, non_negative_int, plain_decimal, underlying_name
from live_trading.engine import fees
from live_trading.engine.engine import FILLS_AT, EngineSettings
from live_trading.engine.events import EquitySample, FanoutSink, NodeExecuted, PositionEvent, TradeClosed
from live_trading.engine.money import minor_units, rupees, rupees_str
from live_trading.engine.multiday import MultiDayEngine
from live_trading.marketdata.calendar import calendar_of
from live_trading.marketdata.instruments import get_underlying
from live_trading.marketdata.store import day_source, day_ticks, load_day
from live_trading.refusals import check_replay_span
from live_trading.reports.exports import exports, folder, manifest, write_folder
from live_trading.reports.statistics import Run, leg_names, report
from live_trading.stream.capture import Recorder
from live_trading.stream.events import InvalidOption, stream_options, stream_state
from live_trading.stream.sink import StreamSink
from strategies.graph import InvalidGraph, parse_graph
from strategies.graph.examples import load_strategy_source

PROGRESS_EVERY = 500  # advances (ticks, or quiet stretches) between progress-bar updates: the bar must not cost the loop
# The session id the stream files of a run in memory carry (a stored session's are ``sim-`` and 12 random hex).
SIMULATED_SESSION = "sim-000000000000"
REFUSED = ("order_rejected", "order_skipped")
# The stream URL's options that shape what its events look like (``events.stream_options``).
STREAM_FILE_OPTIONS = ("compress", "ticks", "node_diagnostics")


class _TradeSink:
    """Keeps the trades, the equity samples and the orders that were refused; with ``keep_all``, every
    node execution and position event too (for the export files); everything else is dropped."""

    wants_ticks = False

    def __init__(self, keep_all: bool = False):
        self.trades = []
        self.samples = []
        self.refused = []
        self.keep_all = keep_all
        self.executions = []
        self.position_events = []

    def emit(self, event) -> None:
        if isinstance(event, TradeClosed):
            self.trades.append(event.trade)
        elif isinstance(event, EquitySample):
            self.samples.append(event)
        elif isinstance(event, NodeExecuted):
            if self.keep_all:
                self.executions.append(event.to_dict())
            if event.event_type in REFUSED:
                self.refused.append({"timestamp": event.timestamp, "node_id": event.node_id,
                                     "event_type": event.event_type, "reason": event.details.get("reason", "")})
        elif isinstance(event, PositionEvent) and self.keep_all:
            self.position_events.append(event.to_dict())


def _samples(sink: _TradeSink, all_figures: bool = False) -> list[tuple]:
    """The run's equity samples in paise: ``(epoch seconds, net P&L, low, high, drop)`` as the exports
    read them, or with ``all_figures`` every figure the manifest keeps, ``(epoch seconds, realized,
    unrealized, charges, low, high, drop)``."""
    if all_figures:
        return [(s.ts, s.realized_pnl_paise, s.unrealized_pnl_paise, s.charges_paise, s.low_pnl_paise,
                 s.high_pnl_paise, s.drop_paise) for s in sink.samples]
    return [(s.ts, s.net_pnl_paise, s.low_pnl_paise, s.high_pnl_paise, s.drop_paise) for s in sink.samples]


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
        parser.add_argument("--fees", choices=fees.FEE_KINDS, default=fees.NSE_FO,
                            help="fee model: the dated NSE F&O schedule (default), none, a flat fee per order, or a "
                                 "percent of turnover")
        parser.add_argument("--fee-per-order", type=plain_decimal, metavar="RUPEES", help="with --fees per_order")
        parser.add_argument("--fee-percent", type=plain_decimal, metavar="PERCENT",
                            help="with --fees percent: per cent of turnover (0.03 is 0.03%%)")
        parser.add_argument("--fee-cap", type=plain_decimal, metavar="RUPEES",
                            help="with --fees percent: the most one order pays (default: no cap)")
        parser.add_argument("--slippage-ticks", type=non_negative_int, default=0,
                            help="fills move this many price ticks against the trader")
        parser.add_argument("--fills-at", choices=FILLS_AT, default="next_open",
                            help="fill an order a candle's condition places at the next bar's open (default) or at "
                                 "the signal bar's close (backtesting.py's trade_on_close)")
        parser.add_argument("--json", action="store_true", help="print the summary, trades and report (docs/reports.md) as one JSON document")
        parser.add_argument("--out", type=Path, help="write the export files in the seeds' formats here (docs/reports.md, "
                                                     "\"Exports\"); a folder per day for several days; and the "
                                                     "run's stream in seed 003's files")
        parser.add_argument("--stream", default="", metavar="QUERY",
                            help="with --out: the stream options the stream files are written with, as in a stream "
                                 "URL (compress=0&ticks=compact&node_diagnostics=1)")

    def handle(self, *args, **opts):
        fee_model = fees.FeeModel.from_rupees(opts["fees"], per_order=opts["fee_per_order"],
                                              percent=opts["fee_percent"], cap=opts["fee_cap"])
        slippage_ticks = fees.check_slippage_ticks(opts["slippage_ticks"])
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
        calendar = calendar_of(graph.underlying)
        days = calendar.trading_days(first, last)
        instrument = get_underlying(graph.underlying)
        places = instrument.price_decimals
        if not days:
            raise CommandError(f"no trading day between {first} and {last}")
        seed = opts["seed"]

        def load(underlying, d):
            return load_day(underlying, d, data_dir=settings.MARKET_DATA_DIR, seed=seed)

        out = opts["out"]
        if out is not None and out.exists() and not out.is_dir():
            raise CommandError(f"--out: {out} is not a folder")
        if opts["stream"] and out is None:
            raise CommandError("--stream: only with --out (the options of the stream files it writes)")
        query = dict(parse_qsl(opts["stream"], keep_blank_values=True))
        # A stream would ignore another parameter, but the files could not be what it sends with it
        # (event_type filters events; a typo such as "compres=0" would quietly write compressed files).
        unknown = sorted(set(query) - set(STREAM_FILE_OPTIONS))
        if unknown:
            raise CommandError(f"--stream: {unknown[0]}: not an option of the stream files; "
                               f"they take {', '.join(STREAM_FILE_OPTIONS)}")
        try:
            options = stream_options(query)
        except InvalidOption as exc:
            raise CommandError(f"--stream: {exc.field}: {exc}") from None
        sink = _TradeSink(keep_all=out is not None)
        recorder = stream = None
        engine_sink = sink
        if out is not None:
            recorder = Recorder(SIMULATED_SESSION, **options)
            stream = StreamSink(SIMULATED_SESSION, "", every_tick=True, publish=recorder.publish,
                                counters=recorder.counters, zone=calendar.time_zone)
            engine_sink = FanoutSink(sink, stream)
        engine_settings = EngineSettings(seed=str(seed), fees=fee_model, slippage_ticks=slippage_ticks,
                                         fills_at=opts["fills_at"],
                                         starting_capital=minor_units(rupees(EngineSettings.starting_capital), places))
        loaded = time.perf_counter()
        try:
            engine = MultiDayEngine(graph, days, engine_sink, engine_settings, load=load,
                                    count=lambda underlying, d: day_ticks(underlying, d, settings.MARKET_DATA_DIR))
        except fees.InvalidFees as exc:  # a model the instrument's money cannot take; the option is --fees
            if exc.subject != "fee_model":
                raise
            raise CommandError(f"--fees: {exc}", returncode=2) from None

        def state(status: str, last_event_id: int) -> dict:
            executions = sink.executions
            return stream_state(
                session_id=SIMULATED_SESSION, last_event_id=last_event_id, status=status, strategy_id=None,
                strategy_name=graph.name, underlying=graph.underlying, start_date=days[0].isoformat(),
                end_date=days[-1].isoformat(), progress={}, snapshot=engine.snapshot(),
                diagnostics={"events_history": {e["execution_id"]: e for e in executions},
                             "current_state": {e["node_id"]: e for e in executions}})

        if stream is not None:
            # Numbered as the stream of a session started paused (started #1, paused #2), opened then
            # (its initial_state) and resumed (#3): the capture the files stand for (docs/protocol.md).
            stream.status("started", reason="started")
            stream.status("paused", reason="started paused")
            recorder.initial_state(state("paused", stream.last_event_id))
            stream.status("resumed", reason="resumed")
        wall, summary = self._run(engine, show_progress=not opts["json"] and sys.stderr.isatty(),
                                  between=stream.flush if stream is not None else None)
        if stream is not None:
            stream.complete(state(engine.status, 0))
        total = time.perf_counter() - loaded
        ticks = engine.ticks_processed
        result = {
            "strategy": graph.name,
            "underlying": graph.underlying,
            "days": [d.isoformat() for d in days],
            "fees": fee_model.to_dict(),
            "slippage_ticks": slippage_ticks,
            "fills_at": opts["fills_at"],
            "summary": summary.to_dict(),
            "ticks": ticks,
            "engine_seconds": round(wall, 3),
            "ticks_per_second": round(ticks / wall) if wall else None,
            "trades": [t.to_dict() for t in sink.trades],
            "refused_orders": sink.refused,
            # The report a stored session's page and API give (docs/reports.md), from the same function.
            "report": {"final": True, **report([Run(sink.trades, sink.samples, calendar)], leg_names(data), places)},
        }
        if out is not None:
            self._write(out, manifest(
                session_id=None, strategy={"id": None, "name": graph.name, "version": 1, "graph": data},
                underlying=graph.underlying, price_decimals=places, currency=instrument.currency,
                days=days, mode="backtest", speed_multiplier=0, seed=seed,
                starting_capital=rupees_str(engine_settings.starting_capital, places), broker=None,
                fees=fee_model.to_dict(), slippage_ticks=slippage_ticks,
                status=engine.status, status_reason="", created_at=None, started_at=None, ended_at=None,
                progress={"ticks_processed": ticks, "total_ticks": engine.total_ticks},
                summary=summary.to_dict(), equity_samples=_samples(sink, all_figures=True),
                position_events=sink.position_events, final_state=engine.snapshot(),
                market_data=[day_source(graph.underlying, d, settings.MARKET_DATA_DIR, seed) for d in days]),
                days, sink, places, recorder, calendar)
        if opts["json"]:
            self.stdout.write(json.dumps(result, indent=2))
            return
        self._print(result, total)

    def _write(self, out: Path, session: dict, days, sink: _TradeSink, places: int, recorder: Recorder,
               calendar) -> None:
        """Write each day's export files and the manifest ``session`` (the functions a stored session's use),
        and the run's stream files (``recorder``)."""
        files = exports(days, sink.executions, [t.to_dict() for t in sink.trades],
                        (e["position"] for e in sink.position_events), _samples(sink), places, calendar)
        try:
            write_folder(out, {**folder(files, session), **recorder.files.files()})
        except OSError as e:
            raise CommandError(f"--out: cannot write {out}: {e.strerror or e}") from None

    def _run(self, engine, show_progress: bool, between=None):
        """Step to the end; ``between()``, when given, after every batch of steps (between two ticks)."""
        bar = None
        if show_progress:
            from tqdm import tqdm

            bar = tqdm(total=engine.total_ticks, unit="tick", unit_scale=True, file=sys.stderr, leave=False)
        # Later days load during stepping; their loading is not engine time.
        spent = engine.load_seconds
        step = engine.advance  # a tick, or a stretch of ticks on which nothing can happen
        done = 0
        while True:
            t0 = time.perf_counter()
            more = True
            for _ in range(PROGRESS_EVERY):
                more = step()
                if not more:
                    break
            spent += time.perf_counter() - t0
            if between is not None:
                between()
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
        w(f"{r['strategy']} on {r['underlying']}, {', '.join(r['days'])}; "
          f"{fees.describe_costs(fees.FeeModel.from_dict(r['fees']), r['slippage_ticks'])}")
        for t in r["trades"]:
            # a position held overnight (positional) shows the day it closed
            exit_at = t["exit_time"][11:19] if t["exit_time"][:10] == t["entry_time"][:10] else t["exit_time"][:19]
            w(f"  {t['entry_time'][:19]} -> {exit_at}  {t['trade_id']:<24} {t['side']:<4} {t['quantity']:>4} "
              f"{t['symbol']:<32} {t['entry_price']:>9} -> {t['exit_price']:>9}  pnl {t['pnl']:>10}  "
              f"net {t['net_pnl']:>10}  {t['exit_reason']}")
        w(f"trades {s['total_trades']} (won {s['winning_trades']}, lost {s['losing_trades']}, win rate {s['win_rate']}%)")
        if r["refused_orders"]:
            # A strategy that trades nothing usually says why here (an option not in the day's chain...).
            w(self.style.WARNING(f"orders refused or skipped: {len(r['refused_orders'])}"))
            for o in r["refused_orders"][:5]:
                w(f"  {o['timestamp'][:19]}  {o['node_id']}: {o['event_type']}: {o['reason']}")
        w(f"gross P&L {s['gross_pnl']}  charges {s['charges']}  net P&L {s['net_pnl']}  max drawdown {s['max_drawdown']}")
        if "daily_pnl" in s:
            w("P&L by day (marked to market at each close): "
              + ", ".join(f"{d['date']} {d['pnl']}" for d in s["daily_pnl"]))
        w(f"{r['ticks']} ticks in {r['engine_seconds']} s of engine time ({r['ticks_per_second']} ticks/s); "
          f"{total_seconds:.2f} s with data loading")
