"""The migration that stores a trade's entry node and position number fills rows written before it."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

NAME_ENDS = "_trade_entry_node_position_number"  # found by name, so renumbering it does not break this


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_existing_trades_get_their_entry_node_and_position_number_from_the_position_id(alice):
    graph = MigrationExecutor(connection).loader.graph
    (mine,) = [key for key in graph.nodes if key[0] == "sessions_app" and key[1].endswith(NAME_ENDS)]
    before = [parent for parent in graph.node_map[mine].parents if parent.key[0] == "sessions_app"]
    latest = graph.leaf_nodes()
    try:
        old = migrate([before[0].key])
        Session, Trade = old.get_model("sessions_app", "SimulationSession"), old.get_model("sessions_app", "Trade")
        session = Session.objects.create(
            id="sim-000000000001", owner_id=alice.pk, strategy_name="NIFTY short straddle", strategy_version=1,
            graph={}, start_date=date(2024, 10, 29), end_date=date(2024, 10, 30), underlying="NIFTY",
        )
        at = datetime(2024, 10, 29, 4, 0, tzinfo=UTC)
        # Node ids may themselves hold "-pos" or end in digits; the number is what follows the last "-pos".
        for seq, position_id in enumerate(["entry-ce-pos1", "entry-ce-pos12", "hedge-pos-2-pos3"], start=1):
            Trade.objects.create(
                session=session, seq=seq, trade_id=f"{position_id}-re1", position_id=position_id, re_entry_num=1,
                symbol="NIFTY", side="sell", quantity=25, entry_price=Decimal("100.00"), exit_price=Decimal("90.00"),
                entry_time=at, exit_time=at, pnl=Decimal("250.00"), pnl_percent=Decimal("10.00"), status="CLOSED",
            )

        new = migrate([mine])

        rows = new.get_model("sessions_app", "Trade").objects.order_by("seq")
        assert [(t.position_id, t.entry_node_id, t.position_num) for t in rows] == [
            ("entry-ce-pos1", "entry-ce", 1), ("entry-ce-pos12", "entry-ce", 12), ("hedge-pos-2-pos3", "hedge-pos-2", 3)]
    finally:
        migrate(latest)
