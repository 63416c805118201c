"""`make run`: migrate, adopt the sessions a process that is gone left running and resume every
interrupted session where it stopped (``SIM_RESUME_ON_START``, docs/runner.md), load demo data, prepare
demo market days, then serve the ASGI app with daphne.

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
from datetime import datetime

from daphne.cli import CommandLineInterface
from daphne.server import Server
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from twisted.internet import defer

from config.cli import RefusingCommand, port_number, whole_number
from config.immediate_writes import nothing_to_send
from live_trading.actions import adopt_expired_sessions, resume_interrupted_sessions
from live_trading.adoption import stop_adopter
from live_trading.demo import DEMO_DAYS, DEMO_USER, STAFF_USER, load_demo_data
from live_trading.marketdata.calendar import market_calendar
from live_trading.marketdata.store import ensure_synthetic_day, synthetic_path
from live_trading.runner.registry import registry
from live_trading.stream import front
from live_trading.stream.hub import hub
from sessions_app import lifecycle
from sessions_app.models import SimulationSession

log = logging.getLogger(__name__)

SHUTDOWN_REASON = "the server process stopped"
MAX_BACKLOG = 65535  # the most Linux queues (net.core.somaxconn's ceiling); more failed in daphne's listen()
DRAIN_SECONDS = 5.0  # how long open streams and sockets get to send the last events before they close


class Command(RefusingCommand):
    help = "Set up the database and demo data, then serve the product with daphne (Ctrl-C stops it cleanly)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=port_number, default=settings.SERVER_PORT)
        parser.add_argument("--no-demo", action="store_true", help="skip demo users, strategies and market days")
        parser.add_argument("--backlog", type=whole_number(1, MAX_BACKLOG), default=front.BACKLOG,
                            help=f"connections queued before daphne accepts them (default {front.BACKLOG})")
        parser.add_argument("--shared-port", type=port_number, default=None,
                            help="also listen on this port of --host, shared with the other app processes of this "
                                 "machine (SO_REUSEPORT: the kernel spreads the connections; make cluster)")

    def handle(self, *args, host, port, no_demo, backlog, shared_port, **options):
        # Before anything touches the database: a second `make run` cannot listen, and its sweep below
        # would otherwise mark the sessions the first server is running as interrupted.
        if shared_port == port:
            raise CommandError(f"--shared-port {shared_port}: the same port as --port; the shared one is another")
        check_port_free(host, port)
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("database migrated")
        # Sessions left running by a process that is gone (killed on this host, or its lease expired) are
        # adopted here; those another live process holds are left to it (docs/runner.md, leases).
        if settings.SIM_ADOPT:
            for line in resumption_report(adopt_expired_sessions(), verb="adopted"):
                self.stdout.write(line)
        if settings.SIM_RESUME_ON_START:
            for line in resumption_report(resume_interrupted_sessions()):
                self.stdout.write(line)
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
        Daphne().run([*daphne_endpoints(host, port, backlog, shared_port), "config.asgi:application"])

    def prepare_demo_market_days(self):
        """Generate the demo days once, so the first session starts at once (reused afterwards)."""
        for underlying, day in DEMO_DAYS:
            path = synthetic_path(underlying, day, data_dir=settings.MARKET_DATA_DIR)
            if not path.exists():
                self.stdout.write(f"generating demo market data: {underlying} {day.isoformat()}")
                ensure_synthetic_day(underlying, day, data_dir=settings.MARKET_DATA_DIR)
        self.stdout.write(f"market data ready: {', '.join(f'{u} {d.isoformat()}' for u, d in DEMO_DAYS)}")


def daphne_endpoints(host: str, port: int, backlog: int, shared_port: int | None = None) -> list[str]:
    """daphne's arguments to listen on ``host:port`` with an accept queue of ``backlog`` connections (daphne's
    ``--port`` takes Twisted's 50) and, with ``shared_port``, on that port shared with the other app processes
    (``front.shared_listener``, opened here)."""
    interface = host.strip("[]").replace(":", r"\:")
    arguments = ["--endpoint", f"tcp:port={port}:interface={interface}:backlog={backlog}"]
    if shared_port is not None:
        try:
            fd = front.shared_listener(host, shared_port, backlog)
        except OSError as exc:
            raise CommandError(f"--shared-port {shared_port}: cannot listen on it ({exc.strerror})") from None
        arguments += ["--fd", str(fd)]
    return arguments


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
        stop_adopter()  # adopting now would only start sessions this shutdown interrupts
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


def resumption_report(outcomes, verb: str = "resumed") -> list[str]:
    """One line per interrupted session the starting server tried to resume: ``resumed sim-abc123 (NIFTY
    short straddle) from 2024-10-29 11:42:05 IST`` (the exchange time of its last stored tick), or why not."""
    lines = []
    for session, outcome in outcomes:
        if outcome != "resumed":
            lines.append(f"{session.id} ({session.strategy_name}) {outcome}")
            continue
        if session.status != lifecycle.RUNNING:
            lines.append(f"could not resume {session.id} ({session.strategy_name}): it is {session.status}"
                         + (f" ({session.status_reason})" if session.status_reason else ""))
            continue
        lines.append(f"{verb} {session.id} ({session.strategy_name}) after {session.ticks_processed} ticks")
    return lines


def interruption_report(session_ids: list[str]) -> list[str]:
    """One line per session the stopping server interrupted: which, and the time on its market's clock it had
    reached (``interrupted sim-abc123 (NIFTY short straddle) at 2024-10-29 11:42:05 IST``; an EURUSD
    session's in New York, ``... at 2017-04-19 06:40:00 EDT``)."""
    try:
        rows = {row[0]: row for row in SimulationSession.objects.filter(pk__in=session_ids).values_list(
            "id", "strategy_name", "status", "final_state__timestamp", "underlying")}
        lines = []
        for session_id in session_ids:
            if session_id not in rows:
                continue  # deleted meanwhile (its owner was)
            _, name, status, ts, underlying = rows[session_id]
            if status != lifecycle.INTERRUPTED:
                lines.append(f"could not interrupt {session_id} ({name}): it is {status}")
                continue
            # the engine's clock: the time of the last tick the session replayed, on its market's clock
            zone = market_calendar(underlying).time_zone
            at = f"at {datetime.fromisoformat(ts).astimezone(zone):%Y-%m-%d %H:%M:%S %Z}" if ts else "before its first tick"
            lines.append(f"interrupted {session_id} ({name}) {at}")
        return lines or ["no session was running"]
    finally:
        connection.close()
