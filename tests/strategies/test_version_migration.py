"""The data migration gives every strategy that existed before versions a row for its current version."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tests.api.conftest import GRAPH

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("strategies", "0001_initial")]
AFTER = [("strategies", "0002_strategy_versions")]


def test_existing_strategies_get_a_version_row_for_their_current_version(alice):
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    try:
        Strategy = executor.loader.project_state(BEFORE).apps.get_model("strategies", "Strategy")
        old = Strategy.objects.create(owner_id=alice.pk, name="Old", description="kept", graph=GRAPH)
        Strategy.objects.filter(pk=old.pk).update(version=4)
        old.refresh_from_db()

        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(AFTER)

        Version = executor.loader.project_state(AFTER).apps.get_model("strategies", "StrategyVersion")
        rows = list(Version.objects.values_list("strategy_id", "version", "name", "description", "graph", "created_at"))
        assert rows == [(old.pk, 4, "Old", "kept", GRAPH, old.updated_at)]
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
