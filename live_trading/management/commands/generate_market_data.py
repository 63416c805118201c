"""Generate synthetic market days (a thin wrapper around live_trading.marketdata.store).

    python manage.py generate_market_data --underlying NIFTY --date 2024-10-29 [--to 2024-11-08]
                                          [--seed 0] [--vix 14.5] [--force] [--data-dir DIR]

A range skips non-trading days. Existing days are reused unless --force or --vix (which opens every day
of the range at that ATM implied volatility, per cent a year, e.g. the day's India VIX). No database is
touched.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.management.base import CommandError

from config.cli import RefusingCommand, iso_date, non_negative_int, underlying_name, vix_level
from live_trading.marketdata.store import ensure_synthetic_days


class Command(RefusingCommand):
    help = "Write synthetic 1-second market data (underlying and option chain) for trading days."
    requires_system_checks = []  # checks could touch the database; this command must not

    def add_arguments(self, parser):
        parser.add_argument("--underlying", action="append", type=underlying_name, help="underlying (repeatable; default NIFTY)")
        parser.add_argument("--date", required=True, type=iso_date, help="first day, YYYY-MM-DD")
        parser.add_argument("--to", type=iso_date, help="last day of a range (inclusive)")
        parser.add_argument("--seed", type=non_negative_int, default=0, help="random seed (default 0)")
        parser.add_argument("--vix", type=vix_level, help="opening ATM implied volatility, per cent a year "
                            "(e.g. India VIX 14.5); regenerates the days")
        parser.add_argument("--force", action="store_true", help="regenerate days that exist already")
        parser.add_argument("--data-dir", help="market-data folder (default: settings.MARKET_DATA_DIR)")

    def handle(self, *args, **opts):
        if opts["to"] is not None and opts["to"] < opts["date"]:
            raise CommandError("--to is before --date")
        data_dir = opts["data_dir"] or getattr(settings, "MARKET_DATA_DIR", None)
        for underlying in opts["underlying"] or ["NIFTY"]:
            started = time.perf_counter()
            days = ensure_synthetic_days(underlying, opts["date"], opts["to"], opts["seed"], data_dir,
                                         force=opts["force"] or opts["vix"] is not None, vix=opts["vix"])
            for day, path, generated in days:
                vix = "" if opts["vix"] is None else f" vix {opts['vix']:g}"
                self.stdout.write(f"{underlying} {day.isoformat()} seed {opts['seed']}{vix}: "
                                  f"{'generated' if generated else 'exists'} {path}")
            if not days:
                self.stdout.write(f"{underlying}: no trading days in the range")
            self.stdout.write(f"{underlying}: {len(days)} day(s) in {time.perf_counter() - started:.1f} s")
