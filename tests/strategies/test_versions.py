"""Strategy versions on the real Postgres: every create and edit keeps its graph, concurrent edits each get
their own version, and a strategy a session still uses cannot be deleted."""

import copy
import threading
from datetime import date

import pytest
from django.db import close_old_connections

from sessions_app import lifecycle
from sessions_app.models import SimulationSession
from strategies import actions
from strategies.models import Strategy, StrategyVersion
from tests.api.conftest import GRAPH

pytestmark = pytest.mark.django_db


def with_lots(lots: int) -> dict:
    g = copy.deepcopy(GRAPH)
    next(n for n in g["nodes"] if n["type"] == "entry")["config"]["lots"] = lots
    return g


def session_of(strategy, status, day=date(2024, 10, 29)) -> SimulationSession:
    return SimulationSession.objects.create(
        owner=strategy.owner, strategy=strategy, strategy_name=strategy.name, strategy_version=strategy.version,
        graph=strategy.graph, start_date=day, end_date=day, underlying="NIFTY", status=status,
    )


def test_creating_a_strategy_records_version_1(alice):
    strategy = actions.create_strategy(alice, name="Short call", description="One lot", graph=GRAPH)

    [v] = StrategyVersion.objects.filter(strategy=strategy)
    assert (v.version, v.name, v.description, v.graph) == (1, "Short call", "One lot", GRAPH)
    assert v.created_at == strategy.updated_at  # when this state was saved


def test_each_edit_records_a_new_version_and_keeps_the_earlier_graphs(alice):
    strategy = actions.create_strategy(alice, name="Short call", graph=with_lots(1))

    actions.update_strategy(strategy, graph=with_lots(2))
    actions.update_strategy(strategy, name="Short call, 3 lots", graph=with_lots(3))

    rows = list(StrategyVersion.objects.filter(strategy=strategy).order_by("version")
                .values_list("version", "name", "graph"))
    assert rows == [(1, "Short call", with_lots(1)), (2, "Short call", with_lots(2)),
                    (3, "Short call, 3 lots", with_lots(3))]
    strategy.refresh_from_db()
    assert strategy.version == 3


def test_a_refused_edit_records_no_version(alice):
    actions.create_strategy(alice, name="Taken", graph=GRAPH)
    strategy = actions.create_strategy(alice, name="Mine", graph=GRAPH)

    with pytest.raises(Exception, match="already have a strategy named 'Taken'"):
        actions.update_strategy(strategy, name="Taken")

    assert list(StrategyVersion.objects.filter(strategy=strategy).values_list("version", flat=True)) == [1]


@pytest.mark.django_db(transaction=True)
def test_concurrent_edits_each_get_their_own_version(alice):
    strategy = actions.create_strategy(alice, name="Raced", graph=with_lots(1))
    barrier = threading.Barrier(4)
    errors = []

    def edit(lots):
        try:
            barrier.wait(timeout=10)
            actions.update_strategy(Strategy.objects.get(pk=strategy.pk), graph=with_lots(lots))
        except Exception as e:  # reported below
            errors.append(e)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=edit, args=(lots,)) for lots in (2, 3, 4, 5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    assert errors == []
    versions = dict(StrategyVersion.objects.filter(strategy=strategy).values_list("version", "graph"))
    assert sorted(versions) == [1, 2, 3, 4, 5]
    # Each edit's graph is recorded under exactly one version, none twice.
    lots = sorted(next(n for n in g["nodes"] if n["type"] == "entry")["config"]["lots"] for g in versions.values())
    assert lots == [1, 2, 3, 4, 5]


@pytest.mark.parametrize("status", sorted(lifecycle.ACTIVE))
def test_deleting_a_strategy_an_active_session_uses_is_refused_naming_it(alice, status):
    strategy = actions.create_strategy(alice, name="In use", graph=GRAPH)
    session = session_of(strategy, status)

    with pytest.raises(actions.StrategyInUse) as refused:
        actions.delete_strategy(strategy)

    assert str(refused.value) == (f"This strategy is used by session {session.id} (trading date 29 Oct 2024, "
                                  f"{status}); stop it before deleting the strategy.")
    assert Strategy.objects.filter(pk=strategy.pk).exists()


def test_a_strategy_whose_sessions_ended_is_deleted_with_its_versions(alice):
    strategy = actions.create_strategy(alice, name="Done", graph=GRAPH)
    actions.update_strategy(strategy, graph=with_lots(2))
    session = session_of(strategy, lifecycle.COMPLETED)

    actions.delete_strategy(strategy)

    assert not Strategy.objects.filter(pk=strategy.pk).exists()
    assert not StrategyVersion.objects.filter(strategy_id=strategy.pk).exists()
    session.refresh_from_db()
    assert (session.strategy_id, session.strategy_version, session.graph) == (None, 2, with_lots(2))


def test_another_users_running_session_does_not_block_a_delete(alice, bob):
    mine = actions.create_strategy(alice, name="Mine", graph=GRAPH)
    session_of(actions.create_strategy(bob, name="Mine", graph=GRAPH), lifecycle.RUNNING)

    actions.delete_strategy(mine)

    assert not Strategy.objects.filter(pk=mine.pk).exists()


def test_a_copy_takes_the_first_free_name(alice):
    strategy = actions.create_strategy(alice, name="Straddle", description="both legs", graph=with_lots(2))

    first = actions.duplicate_strategy(strategy)
    second = actions.duplicate_strategy(strategy)
    copy_of_copy = actions.duplicate_strategy(first)

    assert [first.name, second.name, copy_of_copy.name] == ["Straddle (copy)", "Straddle (copy 2)",
                                                            "Straddle (copy) (copy)"]
    assert (second.owner, second.description, second.graph, second.version) == (alice, "both legs", with_lots(2), 1)
    assert list(StrategyVersion.objects.filter(strategy=second).values_list("version", flat=True)) == [1]


def test_a_copys_name_is_cut_to_fit_120_characters(alice):
    long = "x" * 120
    strategy = actions.create_strategy(alice, name=long, graph=GRAPH)

    assert actions.duplicate_strategy(strategy).name == "x" * 113 + " (copy)"
    assert actions.duplicate_strategy(strategy).name == "x" * 111 + " (copy 2)"


def test_a_save_started_from_an_older_version_is_refused_and_writes_nothing(alice):
    # Two tabs open version 1; the first saves (version 2); the second, still on version 1, must not
    # silently replace it.
    strategy = actions.create_strategy(alice, name="Short call", graph=with_lots(1))
    actions.update_strategy(Strategy.objects.get(pk=strategy.pk), base_version=1, graph=with_lots(2))

    with pytest.raises(actions.StrategyChanged) as e:
        actions.update_strategy(Strategy.objects.get(pk=strategy.pk), base_version=1, graph=with_lots(3))

    assert (e.value.version, e.value.expected) == (2, 1)
    strategy.refresh_from_db()
    assert strategy.version == 2 and strategy.graph == with_lots(2)
    assert list(StrategyVersion.objects.filter(strategy=strategy).values_list("version", flat=True)) == [2, 1]
