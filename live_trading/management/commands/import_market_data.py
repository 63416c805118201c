"""Import real market data (a thin wrapper around live_trading.marketdata.importer).

    python manage.py import_market_data PATH [PATH ...] [--data-dir DIR]

CSV or Parquet, ticks or 1-minute candles; docs/marketdata.md lists the columns. Every file is
validated before anything is written: on any problem the command exits non-zero, naming the file,
line and field, and writes nothing. No database is touched. A day that had only a synthetic day
before is warned about: sessions on it replay the import from now on.
"""

from __future__ import annotations

from django.conf import settings

from config.cli import RefusingCommand
from live_trading.marketdata.candles import TIMEFRAMES
from live_trading.marketdata.importer import import_files


class Command(RefusingCommand):
    help = "Import CSV/Parquet ticks or 1-minute candles into the market-data folder (all or nothing)."
    requires_system_checks = []  # checks could touch the database; this command must not

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", help="CSV or Parquet files")
        parser.add_argument("--data-dir", help="market-data folder (default: settings.MARKET_DATA_DIR)")
        parser.add_argument("--timeframe", default="1m", choices=list(TIMEFRAMES),
                            help="length of the candles in the files (default 1m); ticks ignore it")

    def handle(self, *args, **opts):
        data_dir = opts["data_dir"] or getattr(settings, "MARKET_DATA_DIR", None)
        result = import_files(opts["paths"], data_dir=data_dir, timeframe=opts["timeframe"])
        for path in result.written:
            self.stdout.write(f"wrote {path}")
        for shadowed in result.shadowed:
            day = f"{shadowed.underlying} {shadowed.day.isoformat()}"
            self.stderr.write(self.style.WARNING(
                f"warning: {shadowed}; `python manage.py market_days --remove {day}` goes back to the synthetic day"))
        self.stdout.write(f"imported {len(opts['paths'])} file(s), {result.rows} ticks in {len(result.written)} day file(s)")
