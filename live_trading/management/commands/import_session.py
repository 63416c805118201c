"""Read a session's export folder back into a finished session of a user, for sharing a run between
machines (docs/reports.md, "Sharing a run").

    python manage.py import_session DIR --owner USERNAME

DIR is what ``manage.py export_session``, the session page's export files or ``manage.py simulate --out``
wrote: ``session.json`` and each trading day's ``diagnostics_export.json.gz``, ``trades_daily.json.gz``
and ``positions.json``. The new session (a new id; the id it had is kept as ``imported_from``) belongs
to ``--owner``, with a new strategy of theirs, ``"<name> (imported)"``, holding the graph it ran. Its
rows are written in one transaction. A folder the owner imported before is refused, naming the session
it became. Any bad input ends in one line naming the file and the field, exit code 2, nothing written.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import CommandError
from django.db import DatabaseError

from config.cli import RefusingCommand
from live_trading.marketdata.store import day_source
from live_trading.reports.imports import BadExport, read_folder
from sessions_app.imports import AlreadyImported, import_run


class Command(RefusingCommand):
    help = (
        "Import a session's export folder (session.json and the day files) as a finished session of --owner."
    )

    def add_arguments(self, parser):
        parser.add_argument("dir", type=Path, help="the export folder")
        parser.add_argument("--owner", required=True, help="username of the user the session will belong to")

    def handle(self, *args, **opts):
        # The folder is read and checked before the database is touched: a bad one is refused on its own.
        try:
            run = read_folder(opts["dir"])
        except BadExport as e:
            raise CommandError(f"{opts['dir']}: {e}" if e.file != str(opts["dir"]) else str(e)) from None
        User = get_user_model()
        try:
            owner = User.objects.get(username=opts["owner"])
        except User.DoesNotExist:
            raise CommandError(f"--owner: no user named {opts['owner']!r}") from None
        try:
            session = import_run(owner, run)
        except BadExport as e:
            raise CommandError(f"{opts['dir']}: {e}" if e.file != str(opts["dir"]) else str(e)) from None
        except AlreadyImported as e:
            raise CommandError(f"{opts['dir']}: {e}") from None
        except DatabaseError as e:  # a value the checks let through and the database refused: nothing written
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise CommandError(f"{opts['dir']}: the database refused the import: {first}") from None
        self._note_missing_days(session)
        origin = f" (was {session.imported_from})" if session.imported_from else ""
        self.stdout.write(
            f"imported {session.id}{origin} for {owner.username}: {session.strategy_name} on "
            f"{session.underlying}, {session.start_date} to {session.end_date}, {session.status}; "
            f"strategy {session.strategy.name!r}"
        )

    def _note_missing_days(self, session) -> None:
        """Say which of the session's days this machine has no market data for: its candle chart needs them
        (everything else the pages show is in the database)."""
        for day in session.calendar.trading_days(session.start_date, session.end_date):
            if day_source(session.underlying, day, settings.MARKET_DATA_DIR)["source"] is None:
                self.stdout.write(
                    f"note: no {session.underlying} market data for {day} here; the candle chart needs it "
                    f"(manage.py import_market_data, or generate_market_data --underlying {session.underlying} "
                    f"--date {day} for a synthetic day)"
                )
