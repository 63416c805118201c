"""`make run`: migrate, load demo data, prepare demo market days, then serve the ASGI app with daphne.

Ctrl-C (SIGINT) or SIGTERM stops the server in this order, so that a connected client learns what
happened to its sessions rather than being cut off: every session running here is interrupted at a
tick boundary (its rows flushed, ``interrupted`` committed, then its ``session_status`` and
``session_complete`` published); the open streams write those events; daphne hands the bytes to the
sockets; then daphne closes the connections. The command says which sessions it interrupted and at
what exchange time.
"""

import asyncio
import logging
import socket
from datetime import datetime, timedelta

from daphne.cli import CommandLineInterface
from daphne.server import Server
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from twisted.internet import defer

from config.cli import RefusingCommand
from config.immediate_writes import nothing_to_send
from live_trading.actions import ORPHAN_AFTER, sweep_orphans
from live_trading.demo import DEMO_DAYS, DEMO_USER, STAFF_USER, load_demo_data
from live_trading.marketdata.store import ensure_synthetic_day, synthetic_path
from live_trading.runner.registry import registry
from live_trading.stream.hub import hub
from sessions_app import lifecycle
from sessions_app.models import SimulationSession

log = logging.getLogger(__name__)

SHUTDOWN_REASON = "the server process stopped"
DRAIN_SECONDS = 5.0  # how long open streams and sockets get to send the last events before they close


class Command(RefusingCommand):
    help = "Set up the database and demo data, then serve the product with daphne (Ctrl-C stops it cleanly)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=settings.SERVER_PORT)
        parser.add_argument("--no-demo", action="store_true", help="skip demo users, strategies and market days")

    def handle(self, *args, host, port, no_demo, **options):
        # Before anything touches the database: a second `make run` cannot listen, and its sweep below
        # would otherwise mark the sessions the first server is running as interrupted.
        check_port_free(host, port)
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("database migrated")
        # Sessions a previous process left "running" have nobody to run them any more. With one process
        # (no REDIS_URL) that is every active one; with several, those whose heartbeat went quiet.
        swept = sweep_orphans(timedelta(0) if not settings.REDIS_URL else ORPHAN_AFTER)
        if swept:
            self.stdout.write(f"marked {len(swept)} session(s) left running by a stopped process as interrupted")
        if not no_demo:
            data = load_demo_data()
            self.prepare_demo_market_days()
        base = f"http://{host}:{port}"
        self.stdout.write(self.style.SUCCESS(f"\nServing on {base}  (Ctrl-C stops the server and the database)"))
        self.stdout.write(f"  pages       {base}/   (log in as the demo user below)")
        self.stdout.write(f"  admin       {base}/admin/")
        self.stdout.write(f"  API docs    {base}/api/docs/")
        self.stdout.write(f"  health      {base}/healthz")
        if not no_demo:
            self.stdout.write(f"  demo user   {DEMO_USER['username']} / {DEMO_USER['password']}  ({data.demo_user.user_id})")
            self.stdout.write(f"  staff user  {STAFF_USER['username']} / {STAFF_USER['password']}")
        self.stdout.write("")
        self.stdout.flush()
        Daphne().run(["--bind", host, "--port", str(port), "config.asgi:application"])

    def prepare_demo_market_days(self):
        """Generate the demo days once, so the first session starts at once (reused afterwards)."""
        for underlying, day in DEMO_DAYS:
            path = synthetic_path(underlying, day, data_dir=settings.MARKET_DATA_DIR)
            if not path.exists():
                self.stdout.write(f"generating demo market data: {underlying} {day.isoformat()}")
                ensure_synthetic_day(underlying, day, data_dir=settings.MARKET_DATA_DIR)
        self.stdout.write(f"market data ready: {', '.join(f'{u} {d.isoformat()}' for u, d in DEMO_DAYS)}")


def check_port_free(host: str, port: int) -> None:
    """Refuse (``CommandError``) if ``host:port`` cannot be listened on, e.g. another server has it.

    Bound with ``SO_REUSEADDR``, as daphne binds, so a port whose last server just stopped (connections
    in TIME_WAIT) is free, and only one another process listens on is refused.
    """
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise CommandError(
                f"port {port} on {host} is in use ({exc.strerror}): is another server running? "
                f"Stop it, or serve on another port (--port, or make run PORT=...)"
            ) from None


class InterruptingServer(Server):
    """daphne's server, which interrupts this process's sessions before it closes the connections.

    daphne stops on SIGINT / SIGTERM by cancelling every application (each open stream) in a
    "before shutdown" trigger of the reactor, then dropping the connections. This runs first, while
    the event loop still serves the streams: it waits (each step up to a deadline) for the sessions
    to end and publish, for the streams to write what they were given, and for the sockets to take it.
    """

    def kill_all_applications(self):
        done = defer.Deferred.fromFuture(asyncio.ensure_future(self._interrupt_sessions()))
        done.addErrback(lambda failure: log.error("interrupting the sessions failed:\n%s", failure.getTraceback()))
        done.addCallback(lambda _: super(InterruptingServer, self).kill_all_applications())
        return done

    async def _interrupt_sessions(self) -> None:
        loop = asyncio.get_running_loop()
        # Blocking (the threads flush and commit): off the event loop, which must go on serving streams.
        session_ids = await loop.run_in_executor(None, registry.shutdown, SHUTDOWN_REASON)
        unwritten = await hub.drained(DRAIN_SECONDS)
        unsent = await self._sockets_sent(loop.time() + DRAIN_SECONDS)
        lines = await loop.run_in_executor(None, interruption_report, session_ids)
        if unwritten or unsent:
            lines.append(f"{unwritten + unsent} open stream(s) had not sent everything when the server closed them")
        print("\n".join(lines), flush=True)

    async def _sockets_sent(self, deadline: float) -> int:
        """Wait until every connection's socket has taken what was written to it; return how many had not."""
        loop = asyncio.get_running_loop()
        while True:
            waiting = sum(1 for request in list(self.connections)
                          if getattr(request, "channel", None) is not None and request.channel.transport is not None
                          and not nothing_to_send(request.channel.transport))
            if not waiting or loop.time() >= deadline:
                return waiting
            await asyncio.sleep(0.01)


class Daphne(CommandLineInterface):
    server_class = InterruptingServer


def interruption_report(session_ids: list[str]) -> list[str]:
    """One line per session the stopping server interrupted: which, and the exchange time it had reached
    (``interrupted sim-abc123 (NIFTY short straddle) at 2024-10-29 11:42:05 IST``)."""
    try:
        rows = {row[0]: row for row in SimulationSession.objects.filter(pk__in=session_ids).values_list(
            "id", "strategy_name", "status", "final_state__timestamp")}
        lines = []
        for session_id in session_ids:
            if session_id not in rows:
                continue  # deleted meanwhile (its owner was)
            _, name, status, ts = rows[session_id]
            if status != lifecycle.INTERRUPTED:
                lines.append(f"could not interrupt {session_id} ({name}): it is {status}")
                continue
            # the engine's clock: the exchange time (IST) of the last tick the session replayed
            at = f"at {datetime.fromisoformat(ts):%Y-%m-%d %H:%M:%S} IST" if ts else "before its first tick"
            lines.append(f"interrupted {session_id} ({name}) {at}")
        return lines or ["no session was running"]
    finally:
        connection.close()
