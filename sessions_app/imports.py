"""Storing a session read from an export folder (``live_trading.reports.imports.read_folder``) as a new
finished session of a user: ``manage.py import_session`` (docs/reports.md, "Sharing a run").

Everything is written in one transaction: the strategy, the session row, its node executions, position
changes, trades and equity samples. A value the database refuses leaves nothing behind.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from live_trading.engine.fees import FeeModel
from live_trading.reports.exports import MANIFEST
from live_trading.reports.imports import BadExport, ExportedRun
from sessions_app.models import EquitySample, NodeEvent, PositionChange, SimulationSession, Trade
from strategies.actions import copy_name, create_strategy
from strategies.models import Strategy

_ONCE = "session_imported_once_per_owner"


class AlreadyImported(Exception):
    """``owner`` has imported this folder before, as ``session``."""

    def __init__(self, session: SimulationSession):
        super().__init__(
            f"this folder is already imported for {session.owner.username} as session {session.id} "
            "(delete that session in the admin to import it again)"
        )
        self.session = session


def import_run(owner, run: ExportedRun) -> SimulationSession:
    """Store ``run`` as a new finished session of ``owner`` (a new session id; ``imported_from`` the id
    it had, ``import_digest`` the folder's) with a new strategy of ``owner`` that holds the graph it ran.

    The strategy is named ``"<name> (imported)"`` (``"<name> (imported 2)"``, ... when taken), starts at the version the session
    ran (that version recorded as its only ``StrategyVersion``) and is the owner's to edit like any other;
    the session keeps the name, version and graph it ran with. The session has no broker connection
    (the manifest's ``broker`` names one of another machine), its starting capital is the manifest's.

    Raises ``AlreadyImported`` when ``owner`` imported the same folder before, and ``BadExport`` (naming
    ``session.json`` and the field) for a value the database refuses. Writes nothing in either case.
    """
    m = run.manifest
    with transaction.atomic():
        earlier = SimulationSession.objects.filter(owner=owner, import_digest=run.digest).first()
        if earlier is not None:
            raise AlreadyImported(earlier)
        strategy = _strategy(owner, m)
        now = timezone.now()
        session = SimulationSession(
            owner=owner,
            strategy=strategy,
            strategy_name=m["strategy"]["name"],
            strategy_version=m["strategy"]["version"],
            graph=m["strategy"]["graph"],
            broker_connection=None,
            mode=m["mode"],
            speed_multiplier=m["speed_multiplier"],
            start_date=run.days[0],
            end_date=run.days[-1],
            underlying=m["underlying"],
            price_decimals=run.places,
            currency=run.currency,
            seed=m["seed"],
            starting_capital=None if m["starting_capital"] is None else Decimal(m["starting_capital"]),
            fees=FeeModel.from_dict(m["fees"]).to_dict(),
            slippage_ticks=m["slippage_ticks"],
            status=m["status"],
            status_reason=m["status_reason"],
            started_at=_time(m["started_at"]),
            ended_at=_time(m["ended_at"]),
            status_changed_at=now,
            ticks_processed=m["progress"]["ticks_processed"],
            total_ticks=m["progress"]["total_ticks"],
            final_state=m["final_state"],
            imported_from=m["session_id"] or "",
            import_digest=run.digest,
            **_totals(m["summary"]),
        )
        _valid(session)
        try:
            with transaction.atomic():  # a concurrent import of the same folder loses here, not with a 500
                session.save(force_insert=True)
        except IntegrityError as e:
            if getattr(getattr(e.__cause__, "diag", None), "constraint_name", None) == _ONCE:
                raise AlreadyImported(
                    SimulationSession.objects.get(owner=owner, import_digest=run.digest)
                ) from None
            raise
        _rows(session.id, run)
    return session


def _strategy(owner, m: dict) -> Strategy:
    """A new strategy of ``owner`` holding the graph the session ran, under a name none of theirs has."""
    taken = set(Strategy.objects.filter(owner=owner).values_list("name", flat=True))
    ran = m["strategy"]
    origin = f"session {m['session_id']}" if m["session_id"] else "a replay (manage.py simulate --out)"
    try:
        with transaction.atomic():
            return create_strategy(
                owner,
                name=copy_name(ran["name"], taken, "imported"),
                graph=ran["graph"],
                version=ran["version"],
                description=f"Imported from {origin}: {ran['name']}, version {ran['version']}.",
            )
    except ValidationError:  # a strategy of that name was saved meanwhile
        raise BadExport(
            MANIFEST, "strategy.name", "no free name for the imported strategy; try again"
        ) from None


def _totals(summary: dict) -> dict:
    """The row's totals columns from the manifest's summary (``Summary.to_dict``'s shape)."""
    return {
        "gross_pnl": Decimal(summary["gross_pnl"]),
        "realized_pnl": Decimal(summary["net_pnl"]),
        "charges": Decimal(summary["charges"]),
        "total_trades": summary["total_trades"],
        "winning_trades": summary["winning_trades"],
        "losing_trades": summary["losing_trades"],
        "win_rate": Decimal(summary["win_rate"]),
        "max_drawdown": Decimal(summary["max_drawdown"]),
    }


def _time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text).astimezone(UTC)


def _valid(session: SimulationSession) -> None:
    """Refuse a row the database would (a mode not among the choices, say), naming the manifest's field."""
    try:
        session.full_clean(
            exclude=["id", "owner", "strategy", "broker_connection", "graph", "final_state"],
            validate_unique=False,
            validate_constraints=False,
        )
    except ValidationError as e:
        field, messages = next(iter(e.message_dict.items()))
        raise BadExport(MANIFEST, field, " ".join(messages)) from None


def _rows(session_id: str, run: ExportedRun) -> None:
    NodeEvent.objects.bulk_create(
        [
            NodeEvent.from_payload(e, session_id=session_id, seq=seq, timestamp=datetime.fromisoformat(e["timestamp"]))
            for seq, e in enumerate(run.executions, 1)
        ],
        batch_size=1000,
    )
    PositionChange.objects.bulk_create(
        [
            PositionChange.from_payload(
                e, session_id=session_id, seq=seq, timestamp=datetime.fromisoformat(e["timestamp"])
            )
            for seq, e in enumerate(run.position_events, 1)
        ],
        batch_size=1000,
    )
    Trade.objects.bulk_create(
        [Trade.from_record(t, session_id=session_id, seq=seq) for seq, t in enumerate(run.trades, 1)],
        batch_size=1000,
    )
    EquitySample.objects.insert(session_id, run.samples, run.places)  # minor units of the folder's places
