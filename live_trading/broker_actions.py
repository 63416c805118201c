"""State changes of broker connections. Views and commands call these; nothing else writes one."""

from contextlib import contextmanager

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from live_trading.models import BrokerConnection
from sessions_app.models import SimulationSession

EDITABLE_FIELDS = ("name", "broker_type", "account_id", "starting_capital", "fee_model", "fee_per_order",
                   "fee_percent", "fee_cap", "slippage_ticks")
_ACCOUNT_CONSTRAINT = "broker_account_unique"


class BrokerConnectionInUse(Exception):
    """The connection is used by a session that has not ended."""


def account_taken_message(broker_type: str, account_id: str) -> str:
    return f"You already have a {broker_type} connection for account {account_id!r}."


@contextmanager
def _account_must_be_free(connection: BrokerConnection):
    """Turn the unique-account constraint's IntegrityError into a ValidationError naming ``account_id``."""
    try:
        yield
    except IntegrityError as e:
        if getattr(getattr(e.__cause__, "diag", None), "constraint_name", None) == _ACCOUNT_CONSTRAINT:
            message = account_taken_message(connection.broker_type, connection.account_id)
            raise ValidationError({"account_id": [message]}) from e
        raise


@transaction.atomic
def create_broker_connection(owner, **fields) -> BrokerConnection:
    """Create ``owner``'s connection from ``fields`` (a subset of EDITABLE_FIELDS)."""
    connection = BrokerConnection(owner=owner, **fields)
    with _account_must_be_free(connection):
        connection.save()
    return connection


@transaction.atomic
def update_broker_connection(connection: BrokerConnection, **changes) -> BrokerConnection:
    """Apply ``changes``. Sessions keep the capital, fee model and slippage they started with."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"not editable: {', '.join(sorted(unknown))}")
    for field, value in changes.items():
        setattr(connection, field, value)
    with _account_must_be_free(connection):
        connection.save(update_fields=list(changes) or None)
    connection.refresh_from_db()
    return connection


@transaction.atomic
def delete_broker_connection(connection: BrokerConnection) -> None:
    """Delete ``connection`` unless a session that has not ended uses it.

    The row lock makes the check hold until the delete commits: a start takes the same lock before
    creating its session (``live_trading.actions.start_session``), so it waits and is then refused
    naming ``broker_connection_id``, or commits first and is seen here.
    """
    BrokerConnection.objects.select_for_update().filter(pk=connection.pk).first()
    active = SimulationSession.objects.filter(broker_connection=connection).active().order_by("created_at")
    count = active.count()
    if count:
        ids = ", ".join(active.values_list("id", flat=True)[:5]) + (", ..." if count > 5 else "")
        raise BrokerConnectionInUse(
            f"This broker connection is used by {count} session(s) that have not ended ({ids}); "
            "stop them before deleting it."
        )
    connection.delete()
