"""Sessions benchmark (issue 5): measured side by side in one run, on this machine.

A. One synthetic NIFTY day with the short straddle: the engine alone (null sink) against the same day
   through the session thread with persistence on (start_session at max speed, until completed).
   Targets: the threaded run under 1 s; persistence adds at most 2x the engine's time.
A2. (--pnl-samples N) What the P&L curve's samples (issue 12: one per exchange minute, taken by the
   engine, written with the session's batches) add to A's threaded day: N runs with, N without, interleaved.
B. 200 sessions at real-time speed in one daphne server process: the server's CPU use while they run,
   and the dashboard's latency (p50/p99) under them. Targets: under half a core; p99 under 50 ms.

Run: .venv/bin/python bench/bench_sessions.py [--sessions 200] [--seconds 20] [--pnl-samples 20]
It uses its own database (livesim_bench) on the embedded PostgreSQL, or on DATABASE_URL's server.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")
BENCH_DB = "livesim_bench"
DAY = date(2024, 10, 29)


def use_bench_database() -> str:
    """Point Django at the benchmark's own database (created and migrated if missing); return its URL."""
    from benchdb import use_database

    return use_database(BENCH_DB)


def bench_user(username):
    from decimal import Decimal

    from accounts.models import User
    from live_trading.demo import example_graphs
    from live_trading.models import BrokerConnection
    from strategies.models import Strategy

    user, _ = User.objects.get_or_create(username=username)
    name, _, graph = next(e for e in example_graphs() if "straddle" in e[0].lower())
    strategy, _ = Strategy.objects.get_or_create(owner=user, name=name, defaults={"graph": graph})
    broker, _ = BrokerConnection.objects.get_or_create(
        owner=user, account_id=f"BENCH-{username}", defaults={"starting_capital": Decimal("1000000.00")})
    return user, strategy, broker


def _day_runs(repeats: int, arms=(None,)):
    """Run the day ``repeats`` times per arm, engine alone then through the thread, arms interleaved
    (ABBA...) so each sees the same machine load. An arm is None, or a replacement for
    ``MultiDayEngine._sample`` (a no-op: a run without P&L samples). Returns per arm the lists of
    engine-alone seconds, thread seconds and running->completed spans, and the last session."""
    from live_trading import actions
    from live_trading.engine.engine import EngineSettings
    from live_trading.engine.events import NullSink
    from live_trading.engine.multiday import MultiDayEngine
    from live_trading.runner.build import shared_day
    from live_trading.runner.registry import registry
    from sessions_app.models import SimulationSession
    from strategies.graph import parse_graph

    user, strategy, broker = bench_user("bench-a")
    graph = parse_graph(strategy.graph)
    shared_day("NIFTY", DAY)  # both sides read the day from memory, so neither pays for the disk
    sample = MultiDayEngine._sample
    results = [([], [], [], None) for _ in arms]
    order = [k for r in range(repeats) for k in (range(len(arms)) if r % 2 == 0 else reversed(range(len(arms))))]
    try:
        for k in order:
            MultiDayEngine._sample = arms[k] or sample
            engine_times, thread_times, spans, _ = results[k]
            t0 = time.perf_counter()
            engine = MultiDayEngine(graph, [DAY], NullSink(), EngineSettings(seed="1"), load=shared_day)
            engine.run()
            engine_times.append(time.perf_counter() - t0)

            t0 = time.perf_counter()
            session = actions.start_session(user, actions.StartRequest(
                strategy=strategy, broker_connection=broker, speed_multiplier=0.0, mode="backtest",
                start_date=DAY, end_date=DAY, seed=1))
            thread = registry.get(session.id)
            if thread is not None:
                thread.join()
            thread_times.append(time.perf_counter() - t0)
            session = SimulationSession.objects.get(pk=session.id)
            assert session.status == "completed", session.status_reason
            spans.append((session.ended_at - session.started_at).total_seconds())
            results[k] = (engine_times, thread_times, spans, session)
    finally:
        MultiDayEngine._sample = sample
    return results


def part_a(repeats: int = 5):
    import json

    from live_trading.snapshots import session_state

    [(engine_times, thread_times, spans, session)] = _day_runs(repeats)
    rows = session.node_events.count() + session.trades.count() + session.position_changes.count()
    card = len(json.dumps(session_state(session)).encode())
    engine_s, thread_s = statistics.median(engine_times), statistics.median(thread_times)
    print(f"A. one NIFTY day, short straddle (median of {repeats})")
    print(f"   engine alone, null sink           {engine_s * 1000:8.1f} ms")
    print(f"   thread + persistence, start->done {thread_s * 1000:8.1f} ms  ({rows} rows and "
          f"{session.equity_samples.count()} P&L samples written)")
    print(f"   of which running -> completed     {statistics.median(spans) * 1000:8.1f} ms")
    print(f"   the finished session's dashboard card {card / 1024:5.1f} KB ({session.total_trades} trades)")
    print(f"   ratio thread+persistence / engine {thread_s / engine_s:8.2f}x   (targets: under 1 s; at most 2x)")
    return engine_s, thread_s


def pnl_samples_cost(repeats: int = 20):
    """What the P&L curve's samples (375 a day: taken by the engine, written by the session's thread)
    add to part A's day, by the same runs with the sampling turned off, interleaved."""
    def without(self, ts):
        pass

    on, off = _day_runs(repeats, arms=(None, without))
    print(f"A2. P&L samples: the same day with and without them (median of {repeats} each, interleaved; best in brackets)")
    for label, (engine_times, thread_times, spans, session) in (("with   ", on), ("without", off)):
        print(f"   {label} engine alone {statistics.median(engine_times) * 1000:6.1f} ms ({min(engine_times) * 1000:.1f})"
              f"   thread + persistence {statistics.median(thread_times) * 1000:6.1f} ms ({min(thread_times) * 1000:.1f})"
              f"   running -> completed {statistics.median(spans) * 1000:6.1f} ms   "
              f"({session.equity_samples.count()} samples)")
    added = statistics.median(on[1]) - statistics.median(off[1])
    print(f"   added to the threaded day: {added * 1000:+.1f} ms median ({(min(on[1]) - min(off[1])) * 1000:+.1f} best to best), "
          f"{added / statistics.median(off[1]) * 100:+.1f}%")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def part_b(n_sessions: int, seconds: float, database_url: str):
    import httpx
    import psutil
    from rest_framework.authtoken.models import Token

    from sessions_app.models import SimulationSession

    SimulationSession.objects.filter(owner__username__startswith="bench-b").delete()  # earlier runs' sessions
    users = []
    per_user = 10
    for k in range((n_sessions + per_user - 1) // per_user):
        user, strategy, broker = bench_user(f"bench-b{k:02d}")
        token, _ = Token.objects.get_or_create(user=user)
        users.append((user, strategy, broker, token.key))

    port = free_port()
    env = {**os.environ, "SIM_MAX_RUNNING_SESSIONS_PER_USER": "1000", "LOG_LEVEL": "WARNING",
           "DATABASE_URL": database_url}
    server = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=30) as client:
            for _ in range(200):
                try:
                    client.get("/healthz")
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            started = 0
            t0 = time.perf_counter()
            for i in range(n_sessions):
                user, strategy, broker, key = users[i // per_user]
                r = client.post("/api/v2/live/start", headers={"Authorization": f"Bearer {key}"}, json={
                    "strategy_id": str(strategy.id), "broker_connection_id": str(broker.id),
                    "date": DAY.isoformat(), "speed_multiplier": 1})
                assert r.status_code == 201, r.text
                started += 1
            print(f"B. {started} sessions at real time started in {time.perf_counter() - t0:.1f} s "
                  f"({len(users)} users x {per_user})")
            time.sleep(2)  # let the starts settle

            proc = psutil.Process(server.pid)
            postgres = [p for p in psutil.process_iter(["name"]) if p.info["name"] in ("postgres", "postmaster")]

            def pg_cpu():
                total = 0.0
                for p in postgres:
                    with contextlib.suppress(psutil.NoSuchProcess):  # a backend that just exited
                        total += sum(p.cpu_times()[:2])
                return total

            cpu0, pg0, wall0 = sum(proc.cpu_times()[:2]), pg_cpu(), time.perf_counter()
            time.sleep(seconds)
            wall = time.perf_counter() - wall0
            cpu_idle = (sum(proc.cpu_times()[:2]) - cpu0) / wall
            pg_idle = (pg_cpu() - pg0) / wall

            latencies = []
            cpu0, wall0 = sum(proc.cpu_times()[:2]), time.perf_counter()
            deadline = time.perf_counter() + seconds
            k = 0
            while time.perf_counter() < deadline:
                user, _, _, key = users[k % len(users)]
                t = time.perf_counter()
                r = client.get(f"/api/live-trading/dashboard/{user.user_id}", headers={"Authorization": f"Bearer {key}"})
                latencies.append(time.perf_counter() - t)
                assert r.status_code == 200 and r.json()["active_sessions"] == per_user, r.text[:200]
                size = len(r.content)
                k += 1
                time.sleep(0.05)
            cpu_polled = (sum(proc.cpu_times()[:2]) - cpu0) / (time.perf_counter() - wall0)
            latencies.sort()
            p50 = latencies[len(latencies) // 2] * 1000
            p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000
            rss = proc.memory_info().rss / 1e6
            print(f"   server CPU with {started} sessions running        {cpu_idle:6.2f} cores   (target < 0.5)")
            print(f"   PostgreSQL CPU meanwhile (all its processes)      {pg_idle:6.2f} cores")
            print(f"   server CPU while the dashboard is polled too      {cpu_polled:6.2f} cores")
            print(f"   dashboard ({per_user} sessions per user, {len(latencies)} requests) "
                  f"p50 {p50:.1f} ms, p99 {p99:.1f} ms (target p99 < 50 ms); {size / per_user / 1024:.1f} KB a session")
            print(f"   server memory {rss:.0f} MB")
            for user, _, _, key in users:
                client.post(f"/api/v2/live/stop/user/{user.user_id}", headers={"Authorization": f"Bearer {key}"})
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--skip-a", action="store_true")
    parser.add_argument("--skip-b", action="store_true")
    parser.add_argument("--pnl-samples", type=int, metavar="N", default=0,
                        help="also measure what the P&L samples add to part A (N runs with, N without)")
    args = parser.parse_args()
    database_url = use_bench_database()
    if not args.skip_a:
        part_a()
    if args.pnl_samples:
        pnl_samples_cost(args.pnl_samples)
    if not args.skip_b:
        part_b(args.sessions, args.seconds, database_url)


if __name__ == "__main__":
    main()
