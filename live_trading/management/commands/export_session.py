"""Write a stored session's export folder, to copy to another machine and read there with
``manage.py import_session`` (docs/reports.md, "Sharing a run").

    python manage.py export_session SESSION_ID DIR

DIR gets what the session's export endpoints serve, laid out by ``exports.folder``: ``session.json`` and
each trading day's three files (in DIR for a one-day session, in DIR/<YYYY-MM-DD>/ for a longer one).
A running session's files are as of its last batch, and ``import_session`` refuses them: export a
session once it has ended.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import CommandError

from config.cli import RefusingCommand
from live_trading.reports.exports import folder, write_folder
from live_trading.reports.sessions import session_exports, session_manifest
from sessions_app.models import SimulationSession


class Command(RefusingCommand):
    help = (
        "Write a session's export files and manifest (session.json) into DIR, for import_session elsewhere."
    )

    def add_arguments(self, parser):
        parser.add_argument("session_id", help="the session's id (sim-...)")
        parser.add_argument("dir", type=Path, help="the folder to write (created if missing)")

    def handle(self, *args, **opts):
        try:
            session = SimulationSession.objects.select_related("broker_connection").get(pk=opts["session_id"])
        except SimulationSession.DoesNotExist:
            raise CommandError(f"session_id: no session {opts['session_id']!r}") from None
        out: Path = opts["dir"]
        if out.exists() and not out.is_dir():
            raise CommandError(f"dir: {out} is not a folder")
        files = folder(session_exports(session), session_manifest(session))
        write_folder(out, files)
        self.stdout.write(f"wrote {len(files)} files of {session.id} to {out}")
