"""List the stored market days, or remove an imported one.

    python manage.py market_days [--data-dir DIR]
    python manage.py market_days --remove UNDERLYING DATE [--data-dir DIR]

The list shows each day's source (imported or synthetic), seed, size and last use, and marks a
synthetic day hidden by an imported one. Synthetic days are a cache (SYNTHETIC_CACHE_MB) and go on
their own; an imported day goes only when removed here, which is refused while an active session
replays that day (it loads its days as it reaches them).
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import CommandError
from django.utils import timezone

from config.ascii import parse_iso_date
from config.cli import RefusingCommand, existing_dir
from live_trading.market_cache import MB, sessions_replaying
from live_trading.marketdata.instruments import get_underlying
from live_trading.marketdata.store import MarketDataMissing, list_days, remove_imported


def _size(size_bytes: int) -> str:
    return f"{size_bytes / MB:.1f} MB" if size_bytes >= MB else f"{size_bytes / 1024:.0f} kB"


class Command(RefusingCommand):
    help = "List stored market days (imported and synthetic), or remove an imported day with --remove."
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--remove", nargs=2, metavar=("UNDERLYING", "DATE"),
                            help="remove the imported day, e.g. --remove NIFTY 2024-10-29")
        parser.add_argument("--data-dir", type=existing_dir, help="market-data folder (default: settings.MARKET_DATA_DIR)")

    def handle(self, *args, **opts):
        data_dir = opts["data_dir"] or settings.MARKET_DATA_DIR
        if opts["remove"]:
            self.remove(*opts["remove"], data_dir=data_dir)
        else:
            self.list(data_dir)

    def list(self, data_dir):
        days = list_days(data_dir)
        self.stdout.write(f"{'underlying':<12}{'date':<12}{'source':<11}{'seed':>5}{'size':>10}  last used (IST)")
        for d in days:
            used = timezone.localtime(d.last_used_at).strftime("%Y-%m-%d %H:%M:%S")
            note = "  hidden by the imported day" if d.shadowed else ""
            seed = "-" if d.seed is None else str(d.seed)
            self.stdout.write(f"{d.underlying:<12}{d.day.isoformat():<12}{d.source:<11}{seed:>5}"
                              f"{_size(d.size_bytes):>10}  {used}{note}")
        imported = [d for d in days if d.source == "imported"]
        synthetic = [d for d in days if d.source == "synthetic"]
        self.stdout.write(
            f"{len(imported)} imported day(s), {_size(sum(d.size_bytes for d in imported))}; "
            f"{len(synthetic)} synthetic day(s), {_size(sum(d.size_bytes for d in synthetic))} "
            f"of a {settings.SYNTHETIC_CACHE_MB} MB cache")

    def remove(self, underlying: str, day_text: str, data_dir):
        try:
            day = parse_iso_date(day_text)
            get_underlying(underlying)
        except (ValueError, LookupError) as exc:
            raise CommandError(f"--remove {underlying} {day_text}: {exc}", returncode=2) from exc
        replaying = sessions_replaying(underlying, day)
        if replaying:
            raise CommandError(
                f"{underlying} {day.isoformat()} is replayed by {len(replaying)} active session(s) "
                f"({', '.join(replaying)}); stop them or wait until they end", returncode=2)
        try:
            removed = remove_imported(underlying, day, data_dir)
        except MarketDataMissing as exc:
            raise CommandError(str(exc), returncode=2) from exc
        # The synthetic day may have been evicted from the cache (or never made): then it comes back on use.
        cached = any(d.source == "synthetic" and (d.underlying, d.day) == (underlying, day) for d in list_days(data_dir))
        then = "the synthetic day" if cached else "a synthetic day, generated when a session first needs it"
        self.stdout.write(f"removed {removed.path} ({_size(removed.size_bytes)}); sessions started on "
                          f"{underlying} {day.isoformat()} now replay {then}")
