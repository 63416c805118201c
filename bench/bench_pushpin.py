"""Streams held by Pushpin against streams held by daphne (issue 14), measured in one run.

Two daphne processes share a private Redis and publish to a Pushpin in front of them (GRIP_URL),
as `make cluster` runs them: each listens on a port of its own and on one they share, which Pushpin
forwards to (the kernel spreads the connections over the two), with an accept queue of
`front.BACKLOG` connections. 200 running sessions (one per user, rows in the benchmark's database)
get their events from this process, which publishes the way a session's process does (`publish()`:
the replay window and Redis, and Pushpin): each session 4 events a second, a stored `candle_update`
then three `tick_update`, each with the wall time of publishing in it. N clients follow the users'
streams (N / 200 per user), opened either directly on the two daphne processes (today's way: each
stream is a connection and a coroutine in an app process) or through Pushpin (the app answers the
request, Pushpin holds the connection). The clients (raw sockets in two worker processes) take the
kernel's receive timestamp of each event: latency = arrival - publish call, one clock.

Reported per configuration: deliveries, emit-to-client p50 / p99 / max, the app processes' CPU (% of
one core over the publishing window) and memory (RSS, both together), Pushpin's (all its processes),
and the TCP connections the app processes hold to clients at the end.

Run: .venv/bin/python bench/bench_pushpin.py [--write-doc] [--streams 1000,5000] [--sessions 200] [--seconds 20]
It needs pushpin and redis-server, and uses its own database (livesim_bench_pushpin).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import secrets
import signal
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")
from bench_stream import ClientPool, candle, free_port, percentile, start_redis  # noqa: E402
from benchdoc import write_section  # noqa: E402
from benchserver import daphne  # noqa: E402

BENCH_DB = "livesim_bench_pushpin"
COMMAND = ".venv/bin/python bench/bench_pushpin.py --write-doc"
RATE = 4  # events a second per session: one session's tick rate limit
OPEN_RATE = 50
"""Streams opened a second, in both modes. Through Pushpin every opening is a request its zurl makes to
the app, and zurl takes at most 2,000 at a time (``max_open_requests`` in Pushpin's runner's
zurl.conf.template, not a pushpin.conf setting): at 200 a second the app answered about 40 a second
through the front, the rest queued, and past 2,000 Pushpin answered ``502`` (1,117 of 5,000 streams
not opened), which EventSource does not retry."""
TARGET_STREAMS, TARGET_P99_MS = 5000, 100


# -- processes and their cost ---------------------------------------------------------------------


class Usage:
    """CPU seconds and RSS of a set of processes, from psutil."""

    def __init__(self, pids):
        import psutil

        self.procs = [psutil.Process(pid) for pid in pids]
        self.cpu0 = self.cpu()
        self.t0 = time.monotonic()

    def cpu(self) -> float:
        total = 0.0
        for p in self.procs:
            t = p.cpu_times()
            total += t.user + t.system
        return total

    def percent(self) -> float:
        return 100 * (self.cpu() - self.cpu0) / (time.monotonic() - self.t0)

    def rss_mb(self) -> float:
        return sum(p.memory_info().rss for p in self.procs) / 1e6


def held_connections(servers, shared_port: int) -> int:
    """TCP connections open in the app processes on their own ports and on the one they share."""
    import psutil

    count = 0
    for proc, port in servers:
        count += sum(1 for c in psutil.Process(proc.pid).net_connections(kind="tcp")
                     if c.status == psutil.CONN_ESTABLISHED and c.laddr and c.laddr.port in (port, shared_port))
    return count


# -- users and sessions ---------------------------------------------------------------------------


def bench_users(count: int):
    from rest_framework.authtoken.models import Token

    from accounts.models import User

    users = []
    for i in range(count):
        user, _ = User.objects.get_or_create(username=f"bench-pushpin-{i:03d}")
        users.append((user, Token.objects.get_or_create(user=user)[0].key))
    return users


def running_sessions(users) -> list[tuple[str, str]]:
    """One running session row per user (nothing runs it: this process publishes its events)."""
    from django.utils import timezone

    from sessions_app import lifecycle
    from sessions_app.models import SimulationSession

    SimulationSession.objects.filter(owner__username__startswith="bench-pushpin-", status__in=lifecycle.ACTIVE).update(
        status=lifecycle.STOPPED, ended_at=timezone.now())
    day = date(2024, 10, 29)
    now = timezone.now()
    rows = [SimulationSession(owner=user, strategy_name="bench", strategy_version=1, graph={}, start_date=day,
                              end_date=day, underlying="NIFTY", status=lifecycle.RUNNING, started_at=now,
                              heartbeat_at=now + timedelta(hours=1)) for user, _ in users]
    SimulationSession.objects.bulk_create(rows)
    return [(row.id, user.user_id) for row, (user, _) in zip(rows, users, strict=True)]


def committed(numbers: dict[str, int]) -> None:
    """Record on the sessions' rows the stored events published (``session id -> number``), as a session's
    writer does with every batch: the app answers a stream's opening and Pushpin's next link up to the
    row's ``last_event_id``, so rows left at 0 made every published event look like a gap to recover (each
    connection's events then waited seconds behind Pushpin's next-link requests)."""
    from django.db import connection

    from sessions_app.models import SimulationSession

    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {SimulationSession._meta.db_table} AS s SET last_event_id = v.n "
                       "FROM (SELECT unnest(%s::text[]) AS id, unnest(%s::text[]) AS n) AS v WHERE s.id = v.id",
                       [list(numbers), [str(n) for n in numbers.values()]])


# -- one configuration ------------------------------------------------------------------------------


def run(mode, n_streams, users, apps, shared_port, pushpin, seconds):
    from live_trading.stream.hub import hub
    from live_trading.stream.publish import ensure_bus, publish

    ensure_bus()
    sessions = running_sessions(users)
    streams = [(f"/api/live-trading/stream/{users[i % len(users)][0].user_id}", users[i % len(users)][1])
               for i in range(n_streams)]
    ports = [pushpin.port] if mode == "pushpin" else [port for _, port in apps]
    groups = []  # two client processes per port
    for k, port in enumerate(ports):
        mine = streams[k::len(ports)]
        groups += [(port, mine[0::2]), (port, mine[1::2])]
    # clients arrive at about OPEN_RATE a second (all at once, the app's accept queues overflow, and
    # Pushpin answers 502 for what it cannot forward)
    clients = ClientPool(groups, timeout=900, pace=len(groups) / OPEN_RATE)
    # Pushpin 1.36 asks the app again for every connection of a channel's first subscriber, 1 s later and
    # at most 10 distinct links a second (one per user here): let that pass before measuring.
    time.sleep(2 + (len(users) / 10 if mode == "pushpin" else 0))
    app_usage = Usage([proc.pid for proc, _ in apps])
    front_usage = Usage(pushpin.pids())
    rounds = int(seconds * RATE)
    # Each session publishes at its own moment of the 1 / RATE s period, as sessions started at different
    # times and paced by their own threads do (all 200 at once would measure this loop's own queue).
    slot = 1 / (RATE * len(sessions))
    next_at = time.perf_counter()
    for i in range(rounds):
        published = {}  # session -> the number of its stored event this round
        for session_id, user_id in sessions:
            if i % RATE == 0:
                published[session_id] = publish(user_id=user_id, session_id=session_id, event="candle_update",
                                                data={**candle(i), "sent_at": time.time()})
            else:
                publish(user_id=user_id, session_id=session_id, event="tick_update", store=False,
                        data={"timestamp": "2024-10-29T09:20:00+05:30", "sent_at": time.time()})
            next_at += slot
            delay = next_at - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
        if published:
            committed(published)
    for out in (hub.bus, hub.front):
        out.flush(60)
    per_stream = rounds  # each stream follows one session
    clients.wait_for(per_stream * n_streams)
    row = {"mode": mode, "streams": n_streams, "sessions": len(sessions), "rounds": rounds,
           "app_cpu": app_usage.percent(), "front_cpu": front_usage.percent(),
           "app_rss": app_usage.rss_mb(), "front_rss": front_usage.rss_mb(), "held": held_connections(apps, shared_port),
           "opened_in": clients.opened_in, "refused": clients.refused,
           "refused_why": dict(clients.reasons)}
    results = clients.stop()
    arrived = [r[0] * 1000 for r in results]
    row.update(received=len(results), expected=per_stream * (n_streams - clients.refused), p50=percentile(arrived, 50),
               p99=percentile(arrived, 99), max=max(arrived) if arrived else float("nan"))
    return row


# -- report -----------------------------------------------------------------------------------------

NOTES = (
    "Where the time goes. Held by daphne, each event is written once per stream by the app process that "
    "holds it (Python: about 70-80 us per stream per event here, `docs/benchmarks.md` issue 6), and every "
    "process also takes every event from Redis. Held by Pushpin, the app's cost per event does not depend "
    "on the number of streams: the publishing process adds two items (compressed and plain) to a batch "
    "sent to Pushpin in one HTTP request, and Pushpin's handler writes the event to each connection "
    "(with its own SSE id from the `build-id` filter). Opening a stream costs the app the same either way "
    "(authentication, ownership, an `initial_state` read from the database); through Pushpin 1.36 it costs "
    "one more short request per connection when a session's channel gets its first subscriber (Pushpin "
    "asks the next link once, at most 10 distinct links a second), which the benchmark lets pass before "
    "it measures. Latency includes the publishing process's own queue: it publishes for {sessions} sessions, "
    "each at its own moment of every quarter second (as sessions started at different times and paced by "
    "their own threads do), on a machine whose two cores are shared with everything else listed above.\n\n"
    "Pushpin's delivery limiter is off (`message_rate=-1`, `live_trading/stream/front.py`): with any rate set, "
    "Pushpin 1.36 restarts the limiter's 25 ms batch timer on every delivery after the first, so while "
    "publishes came more often than every 25 ms nothing was delivered, and events arrived 5-20 s late for as "
    "long as publishing went on (the rows of earlier runs; `docs/deployment.md`). Clients arrive at "
    "{open_rate} a second: through Pushpin each opening is a request its zurl makes to the app, at most 2,000 "
    "at a time; at 200 a second the app answered about 40 a second through the front and Pushpin answered "
    "`502` past 2,000 waiting (1,117 of 5,000 not opened), against about 90 a second held by daphne."
)


def report(rows, load) -> str:
    from live_trading.stream.front import BACKLOG

    lines = [
        "## Streams held by Pushpin (issue 14)",
        "",
        f"Command: `{COMMAND}` (needs pushpin and redis-server; its own database `{BENCH_DB}`). Machine: "
        f"{platform.machine()}, Python {platform.python_version()}, {os.cpu_count()} cores shared by the two daphne "
        f"processes, Pushpin, Redis, PostgreSQL, the publishing process and two client processes (load average "
        f"{load:.1f} at the end of this run).",
        "",
        f"{rows[0]['sessions']} running sessions, one per user, each publishing {RATE} events a second (a stored "
        "`candle_update`, then three `tick_update`) from the benchmark process through `publish()` (Redis and "
        "Pushpin, as a session's process does); the clients follow the users' streams, spread evenly (N / "
        f"{rows[0]['sessions']} per user). *daphne*: the clients connect to the two app processes directly "
        "(today's way, also without a front); *Pushpin*: they connect to Pushpin, which holds the streams and "
        "forwards their requests to a port both app processes listen on (`SO_REUSEPORT`: the kernel spreads the "
        f"connections, as `make cluster` runs them). Each app process's accept queue: {BACKLOG:,} connections. "
        "Latency: the kernel's receive timestamp at the client's socket minus the publish call. CPU: % of one "
        "core while publishing; memory: resident, all processes of the kind together; held: TCP connections "
        "to clients open in the app processes at the end.",
        "",
        "| streams | held by | delivered | p50 | p99 | max | app CPU | app memory | Pushpin CPU | Pushpin memory "
        "| held by the app | opened in (not opened) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        front = "Pushpin" if r["mode"] == "pushpin" else "daphne"
        lines.append(f"| {r['streams']:,} | {front} | {r['received']:,} of {r['expected']:,} | {r['p50']:.1f} ms | "
                     f"{r['p99']:.1f} ms | {r['max']:.1f} ms | {r['app_cpu']:.0f}% | {r['app_rss']:.0f} MB | "
                     f"{r['front_cpu']:.0f}% | {r['front_rss']:.0f} MB | {r['held']:,} | {r['opened_in']:.0f} s "
                     f"({r['refused']}{_retried(r)}) |")
    by = {(r["streams"], r["mode"]): r for r in rows}
    lines.append("")
    for n in sorted({r["streams"] for r in rows}):
        d, p = by.get((n, "direct")), by.get((n, "pushpin"))
        if d and p:
            lines.append(f"- {n:,} streams, Pushpin against daphne: p50 {p['p50']:.1f} vs {d['p50']:.1f} ms "
                         f"({d['p50'] / p['p50']:.2f}x), p99 {p['p99']:.1f} vs {d['p99']:.1f} ms "
                         f"({d['p99'] / p['p99']:.2f}x), app CPU {p['app_cpu']:.0f}% vs {d['app_cpu']:.0f}%, "
                         f"app memory {p['app_rss']:.0f} vs {d['app_rss']:.0f} MB.")
    lines += ["", NOTES.format(sessions=rows[0]["sessions"], open_rate=OPEN_RATE)]
    top = max((r for r in rows if r["mode"] == "pushpin"), key=lambda r: r["streams"])
    met = (top["streams"] >= TARGET_STREAMS and top["p99"] < TARGET_P99_MS and top["held"] == 0
           and top["refused"] == 0 and top["received"] == top["expected"])
    lines += ["", f"Target: p99 under {TARGET_P99_MS} ms at {TARGET_STREAMS:,} streams through Pushpin, the app "
                  f"holding no stream socket: {'met' if met else 'NOT met'} (measured up to {top['streams']:,} "
                  f"streams: p99 {top['p99']:.1f} ms, {top['held']} held, {top['refused']} not opened, "
                  f"{top['received']:,} of {top['expected']:,} events delivered)."]
    return "\n".join(lines)


def _retried(row) -> str:
    """``"; 12 after a 503"``: streams the app first answered 503 (its database pool busy) and the client
    opened again after ``Retry-After``, as EventSource's clients do."""
    n = row.get("refused_why", {}).get("answered 503 and opened again (not a loss)", 0)
    return f"; {n:,} after a 503" if n else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", default="1000,5000", help="stream counts, comma-separated")
    parser.add_argument("--sessions", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=20, help="publishing time per configuration")
    parser.add_argument("--write-doc", action="store_true", help="replace this benchmark's section of docs/benchmarks.md")
    args = parser.parse_args()
    counts = [int(x) for x in args.streams.split(",")]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("stopped"))  # so that the processes below are stopped too

    redis_proc, redis_url = start_redis()
    key = secrets.token_urlsafe(24)
    front_port, publish_port = free_port(), free_port()
    env = {"REDIS_URL": redis_url, "REDIS_PREFIX": "bench-pushpin", "GRIP_URL": f"http://127.0.0.1:{publish_port}",
           "GRIP_KEY": key, "STREAM_HEARTBEAT_MS": "30000", "STREAM_MAX_PENDING": "100000", "LOG_LEVEL": "WARNING",
           "DEBUG": "false", "DB_POOL_MAX": "40",
           # the sessions' rows are this process's, publishing without a runner or lease: the app processes
           # must not try to adopt or resume them (each would rebuild all 200 every few seconds)
           "SIM_ADOPT": "false", "SIM_RESUME_ON_START": "false"}
    os.environ.update(env)  # before settings load: this process publishes as a session's process does
    from benchdb import use_database

    from live_trading.stream import front

    database_url = use_database(BENCH_DB)
    from django.conf import settings

    env["SECRET_KEY"] = settings.SECRET_KEY
    users = bench_users(args.sessions)
    stack = contextlib.ExitStack()
    apps = []
    shared_port = free_port()  # both app processes listen on it too; Pushpin forwards there (as make cluster)
    for _ in range(2):
        proc, base = stack.enter_context(daphne(database_url, backlog=front.BACKLOG, shared_port=shared_port, **env))
        apps.append((proc, int(base.rsplit(":", 1)[1])))
    pushpin = front.Pushpin(Path(tempfile.mkdtemp(prefix="pp-bench-")), port=front_port, publish_port=publish_port,
                            backends=[f"127.0.0.1:{shared_port}"], sig_key=key,
                            log_level=int(os.environ.get("PUSHPIN_LOG_LEVEL", "2")))
    rows = []
    try:
        pushpin.wait_ready()
        for n in counts:
            for mode in ("direct", "pushpin"):
                print(f"{n} streams held by {'Pushpin' if mode == 'pushpin' else 'daphne'} ...", flush=True)
                r = run(mode, n, users, apps, shared_port, pushpin, args.seconds)
                rows.append(r)
                print(f"   {r['refused']} not opened, {r['received']} of {r['expected']}, p50 {r['p50']:.1f} ms, p99 {r['p99']:.1f} ms, app CPU "
                      f"{r['app_cpu']:.0f}%, Pushpin CPU {r['front_cpu']:.0f}%, held {r['held']}, opened in "
                      f"{r['opened_in']:.0f} s" + (f"; {r['refused_why']}" if r['refused_why'] else ""), flush=True)
    finally:
        pushpin.stop()
        stack.close()
        redis_proc.kill()
        redis_proc.wait(5)
    section = report(rows, os.getloadavg()[0])
    print()
    print(section)
    if args.write_doc:
        write_section("bench_pushpin", section)


if __name__ == "__main__":
    main()
