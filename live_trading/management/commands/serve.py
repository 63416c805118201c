"""`make run`: migrate, load demo data, prepare demo market days, then serve the ASGI app with daphne."""

from datetime import timedelta

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from live_trading.actions import ORPHAN_AFTER, sweep_orphans
from live_trading.demo import DEMO_DAYS, DEMO_USER, STAFF_USER, load_demo_data
from live_trading.marketdata.store import ensure_synthetic_day, synthetic_path


class Command(BaseCommand):
    help = "Set up the database and demo data, then serve the product with daphne (Ctrl-C stops it cleanly)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=settings.SERVER_PORT)
        parser.add_argument("--no-demo", action="store_true", help="skip demo users, strategies and market days")

    def handle(self, *args, host, port, no_demo, **options):
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
        self.stdout.write(f"  admin       {base}/admin/")
        self.stdout.write(f"  health      {base}/healthz")
        if not no_demo:
            self.stdout.write(f"  demo user   {DEMO_USER['username']} / {DEMO_USER['password']}  ({data.demo_user.user_id})")
            self.stdout.write(f"  staff user  {STAFF_USER['username']} / {STAFF_USER['password']}")
        self.stdout.write("")
        from daphne.cli import CommandLineInterface

        CommandLineInterface().run(["--bind", host, "--port", str(port), "config.asgi:application"])

    def prepare_demo_market_days(self):
        """Generate the demo days once, so the first session starts at once (reused afterwards)."""
        for underlying, day in DEMO_DAYS:
            path = synthetic_path(underlying, day, data_dir=settings.MARKET_DATA_DIR)
            if not path.exists():
                self.stdout.write(f"generating demo market data: {underlying} {day.isoformat()}")
                ensure_synthetic_day(underlying, day, data_dir=settings.MARKET_DATA_DIR)
        self.stdout.write(f"market data ready: {', '.join(f'{u} {d.isoformat()}' for u, d in DEMO_DAYS)}")
