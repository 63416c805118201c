"""Benchmark of resuming an interrupted session (issue 14), runnable as ``.venv/bin/python bench/bench_resume.py``
(``--repeat N``, default 7; ``--write-doc`` records the figures in docs/benchmarks.md).

A NIFTY short straddle on the synthetic day 2024-10-29 (seed 1) is stopped at 15:00:00 IST: its rows up to
there are written by the real ``SessionWriter`` into the benchmark's own database, as a session that was
running leaves them. Then, side by side, on the same span (09:15:00 to 14:59:59, 20,700 ticks):

1. the engine alone, events to a null sink;
2. the fast-forward's two parts: reading the stored rows (``StoredRun.load``) and replaying the engine with
   every event checked against them (``ReplayCheck``), then the check that every row was produced;
3. the whole resume as ``POST /api/v2/live/resume`` runs it (``actions.resume_interrupted``): rebuild the
   engine, claim the session, fast-forward, go live: from the call until the thread announces ``resumed``.

The day is read from memory on every side (``shared_day``), so none pays for the disk. Times are medians.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from datetime import date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DAY = date(2024, 10, 29)
STOP_AT = "15:00:00"


def stored_session(user, strategy, broker, graph, stop_ts: int):
    """A session row and its rows as a server leaves them when it stops at ``stop_ts``: interrupted."""
    from live_trading.engine.engine import EngineSettings
    from live_trading.engine.multiday import MultiDayEngine
    from live_trading.runner.build import shared_day
    from sessions_app.models import SimulationSession
    from sessions_app.persistence import SessionWriter

    session = SimulationSession.objects.create(
        owner=user, strategy=strategy, strategy_name=strategy.name, strategy_version=strategy.version,
        graph=strategy.graph, broker_connection=broker, speed_multiplier=1.0, start_date=DAY, end_date=DAY,
        underlying="NIFTY", seed=1, starting_capital=broker.starting_capital, status="running")
    writer = SessionWriter(session.id)
    engine = MultiDayEngine(graph, [DAY], writer, EngineSettings(seed="1", starting_capital=100_000_000),
                            load=shared_day)
    SimulationSession.objects.filter(pk=session.id).update(total_ticks=engine.total_ticks)
    while engine.next_timestamp() < stop_ts:
        engine.step()
        writer.maybe_flush(engine)
    writer.finished(engine, "interrupted", "the server process stopped")
    return SimulationSession.objects.select_related("owner", "broker_connection").get(pk=session.id)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--write-doc", action="store_true")
    args = parser.parse_args()

    from benchdb import use_database

    use_database("livesim_bench")
    from bench_sessions import bench_user

    from live_trading import actions
    from live_trading.engine.engine import EngineSettings
    from live_trading.engine.events import NullSink
    from live_trading.engine.multiday import MultiDayEngine
    from live_trading.marketdata.calendar import EXCHANGE_TZ
    from live_trading.runner.build import shared_day
    from live_trading.runner.registry import registry
    from live_trading.runner.resume import Replaying
    from live_trading.runner.thread import Control
    from sessions_app.models import SimulationSession
    from sessions_app.replay import ReplayCheck, StoredRun
    from strategies.graph import parse_graph

    user, strategy, broker = bench_user("bench-resume")
    SimulationSession.objects.filter(owner=user).delete()
    graph = parse_graph(strategy.graph)
    day = shared_day("NIFTY", DAY)
    stop_ts = int(datetime.combine(DAY, datetime.strptime(STOP_AT, "%H:%M:%S").time(), EXCHANGE_TZ).timestamp())
    settings = EngineSettings(seed="1", starting_capital=100_000_000)
    stored_session_row = stored_session(user, strategy, broker, graph, stop_ts)
    ticks = stored_session_row.ticks_processed
    rows = (stored_session_row.node_events.count(), stored_session_row.position_changes.count(),
            stored_session_row.trades.count(), stored_session_row.equity_samples.count())

    def engine_alone():
        engine = MultiDayEngine(graph, [day], NullSink(), settings)
        for _ in range(ticks):
            engine.step()

    def load():
        return StoredRun.load(stored_session_row)

    def replay(stored):
        check = ReplayCheck(stored)
        engine = MultiDayEngine(graph, [day], Replaying(NullSink(), check), settings)
        for _ in range(ticks):
            engine.step()
        check.finish()

    def whole_resume():
        session = stored_session(user, strategy, broker, graph, stop_ts)
        started = time.perf_counter()
        actions.resume_interrupted(session, "benchmark")
        thread = registry.get(session.id)
        while thread.is_alive() and thread.resume.seconds is None:
            time.sleep(0.0005)
        took = time.perf_counter() - started
        assert thread.resume.seconds is not None, SimulationSession.objects.get(pk=session.id).status_reason
        thread.send(Control("interrupt", "benchmark"))
        thread.join(10)
        SimulationSession.objects.filter(pk=session.id).delete()
        return took

    results = {"engine": [], "load": [], "replay": [], "resume": []}
    for _ in range(args.repeat):  # interleaved, so each sees the same machine load
        t0 = time.perf_counter()
        engine_alone()
        results["engine"].append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        stored = load()
        results["load"].append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        replay(stored)
        results["replay"].append(time.perf_counter() - t0)
        results["resume"].append(whole_resume())
    SimulationSession.objects.filter(owner=user).delete()

    med = {k: statistics.median(v) * 1000 for k, v in results.items()}
    best = {k: min(v) * 1000 for k, v in results.items()}
    fast_forward = med["load"] + med["replay"]
    lines = [
        f"| what | time (median of {args.repeat}; best) | ratio to the engine alone |",
        "| --- | --- | --- |",
        f"| engine alone, null sink, 09:15:00 up to {STOP_AT} ({ticks:,} ticks) | {med['engine']:.1f} ms ({best['engine']:.1f}) | 1.00x |",
        f"| read the stored rows (`StoredRun.load`) | {med['load']:.1f} ms ({best['load']:.1f}) | {med['load'] / med['engine']:.2f}x |",
        f"| replay with every event checked (`ReplayCheck`) | {med['replay']:.1f} ms ({best['replay']:.1f}) | {med['replay'] / med['engine']:.2f}x |",
        f"| **fast-forward** (read + checked replay) | **{fast_forward:.1f} ms** | **{fast_forward / med['engine']:.2f}x** |",
        f"| whole resume: rebuild, claim, fast-forward, announce `resumed` | {med['resume']:.1f} ms ({best['resume']:.1f}) | {med['resume'] / med['engine']:.2f}x |",
    ]
    load_avg = os.getloadavg()[0]
    section = "\n".join([
        "## Resuming an interrupted session (issue 14)",
        "",
        "Command: `.venv/bin/python bench/bench_resume.py --write-doc` (`--repeat N`). It uses the benchmark "
        "database (`livesim_bench`) on the embedded PostgreSQL, or on `DATABASE_URL`'s server.",
        f"A NIFTY short straddle on the synthetic day {DAY.isoformat()} (seed 1) stopped at {STOP_AT} IST, its "
        f"rows written by the real `SessionWriter` ({rows[0]} node events, {rows[1]} position changes, {rows[2]} "
        f"trades, {rows[3]} P&L samples); the day read from memory on every side. Machine: {platform.machine()}, "
        f"Python {platform.python_version()}, 2 cores shared with other engineers' test runs (load average "
        f"{load_avg:.1f} at the end of this run).",
        "",
        *lines,
        "",
        "The check costs little beside the engine: the engine builds the same events either way, and the "
        "check compares each with its stored row (a tuple or a dict compared once). Reading the rows is one "
        "query per kind. The whole resume adds building the engine (the graph compiled, the day's columns "
        "converted), the claim's `UPDATE` and the `resumed` write; the session then goes on live at its speed.",
    ])
    print(section)
    if args.write_doc:
        from benchdoc import write_section

        write_section("bench_resume", section)


if __name__ == "__main__":
    main()
