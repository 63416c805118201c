"""Constraints and exact money in the persisted model, on the real Postgres."""

import threading
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError, connection, transaction

from live_trading.engine.events import TradeRecord
from live_trading.models import BrokerConnection
from sessions_app import lifecycle
from sessions_app.actions import move_status
from sessions_app.models import EquitySample, NodeEvent, SimulationSession, Trade
from strategies.actions import update_strategy
from strategies.models import Strategy

IST = ZoneInfo("Asia/Kolkata")
GRAPH = {"version": 1, "nodes": [], "edges": []}


def make_session(owner, **overrides):
    strategy = Strategy.objects.create(owner=owner, name=f"s-{Strategy.objects.count()}", graph=GRAPH)
    fields = dict(
        owner=owner, strategy=strategy, strategy_name=strategy.name, strategy_version=strategy.version,
        graph=GRAPH, start_date=date(2024, 10, 29), end_date=date(2024, 10, 29), underlying="NIFTY",
    )
    fields.update(overrides)
    return SimulationSession.objects.create(**fields)


def node_event(session, seq, execution_id):
    return NodeEvent(
        session=session, seq=seq, execution_id=execution_id, node_id="entry-2", node_name="Entry 2",
        node_type="EntryNode", event_type="order_placed", timestamp=datetime(2024, 10, 29, 9, 19, tzinfo=IST),
        payload={"execution_id": execution_id},
    )


@pytest.mark.django_db
def test_ids_have_the_seeds_forms(alice):
    session = make_session(alice)
    assert session.id.startswith("sim-") and len(session.id) == 16
    int(session.id[4:], 16)
    assert alice.user_id.startswith("user_") and len(alice.user_id) == 32


@pytest.mark.django_db
def test_a_duplicate_execution_id_in_one_session_is_refused(alice):
    session = make_session(alice)
    node_event(session, 1, "exec_entry-2_20241029_091900_51380c").save()

    with pytest.raises(IntegrityError), transaction.atomic():
        node_event(session, 2, "exec_entry-2_20241029_091900_51380c").save()

    # ... but the same execution id in another session is fine
    node_event(make_session(alice), 1, "exec_entry-2_20241029_091900_51380c").save()
    assert NodeEvent.objects.filter(execution_id="exec_entry-2_20241029_091900_51380c").count() == 2


@pytest.mark.django_db
def test_money_round_trips_exactly(alice):
    session = make_session(alice)
    price = Decimal("24250.05")
    pnl = Decimal("-12345678901234.35")  # beyond what a float holds to the paisa
    Trade.objects.create(
        session=session, seq=1, trade_id="entry-2-pos1", position_id="entry-2-pos1", entry_node_id="entry-2",
        position_num=1, symbol="NIFTY:2024-11-07:OPT:24250:PE",
        side="sell", quantity=75, entry_price=price, exit_price=Decimal("0.05"),
        entry_time=datetime(2024, 10, 29, 9, 19, tzinfo=IST), pnl=pnl, pnl_percent=Decimal("-43.20"),
        charges=Decimal("61.17"), net_pnl=pnl - Decimal("61.17"), status="CLOSED",
        entry_flow_ids=["exec_a", "exec_b"], exit_flow_ids=["exec_a", "exec_b", "exec_c"],
    )

    trade = Trade.objects.get()

    assert trade.entry_price == price and str(trade.entry_price) == "24250.05"
    assert trade.exit_price == Decimal("0.05")
    assert trade.pnl == pnl
    assert trade.net_pnl == Decimal("-12345678901295.52")
    assert trade.exit_flow_ids == ["exec_a", "exec_b", "exec_c"]


@pytest.mark.django_db
def test_a_stored_trade_gives_back_the_engines_record(alice):
    record = TradeRecord(
        trade_id="entry-ce-pos2-re1-x1", position_id="entry-ce-pos2", position_num=2, re_entry_num=1,
        entry_node_id="entry-ce", symbol="NIFTY:2024-10-31:OPT:24500:CE", side="sell", quantity=25,
        entry_price=Decimal("101.60"), entry_time=1730173800, exit_price=Decimal("84.75"), exit_time=1730180187,
        pnl=Decimal("421.25"), pnl_percent=Decimal("16.58"), charges=Decimal("51.10"), net_pnl=Decimal("370.15"),
        status="PARTIAL", entry_flow_ids=("exec_a", "exec_b"), exit_flow_ids=("exec_a", "exec_b", "exec_c"),
        entry_trigger="entry-ce", exit_reason="exit_condition_met",
    )
    Trade.from_record(record, session_id=make_session(alice).id, seq=1).save()

    assert Trade.objects.get().record() == record


def test_equity_samples_written_in_paise_read_back_exactly_in_rupees_and_once_per_time(alice):
    session = make_session(alice)
    nine_sixteen = int(datetime(2024, 10, 29, 9, 16, tzinfo=IST).timestamp())
    big = 1_234_567_890_123_435  # paise: beyond what a float holds to the paisa

    EquitySample.objects.insert(session.id, [(nine_sixteen, -1, 12_345, 5, -7, 12_500, 3),
                                             (nine_sixteen + 60, -big, big, 0, -big, big, big)])

    rows = list(session.equity_samples.order_by("timestamp"))
    assert [r.timestamp for r in rows] == [datetime(2024, 10, 29, 9, 16, tzinfo=IST),
                                           datetime(2024, 10, 29, 9, 17, tzinfo=IST)]
    assert [(r.realized_pnl, r.unrealized_pnl, r.charges, r.net_pnl) for r in rows] == [
        (Decimal("-0.01"), Decimal("123.45"), Decimal("0.05"), Decimal("123.44")),
        (Decimal("-12345678901234.35"), Decimal("12345678901234.35"), Decimal("0.00"), Decimal("0.00"))]
    assert [(r.low_pnl, r.high_pnl, r.drop) for r in rows] == [
        (Decimal("-0.07"), Decimal("125.00"), Decimal("0.03")),
        (Decimal("-12345678901234.35"), Decimal("12345678901234.35"), Decimal("12345678901234.35"))]
    with pytest.raises(ValueError, match="7 figures"):
        EquitySample.objects.insert(session.id, [(nine_sixteen + 120, 0, 0, 0)])
    with pytest.raises(IntegrityError), transaction.atomic():
        EquitySample.objects.insert(session.id, [(nine_sixteen, 0, 0, 0, 0, 0, 0)])


@pytest.mark.django_db
def test_broker_capital_must_be_positive(alice):
    with pytest.raises(IntegrityError), transaction.atomic():
        BrokerConnection.objects.create(owner=alice, account_id="X", starting_capital=Decimal("0"))


@pytest.mark.django_db
def test_a_session_cannot_end_before_it_starts(alice):
    with pytest.raises(IntegrityError), transaction.atomic():
        make_session(alice, start_date=date(2024, 10, 30), end_date=date(2024, 10, 29))


@pytest.mark.django_db
def test_editing_a_strategy_bumps_its_version(alice):
    strategy = Strategy.objects.create(owner=alice, name="Straddle", graph=GRAPH)

    update_strategy(strategy, description="tighter stop")
    update_strategy(strategy, graph={**GRAPH, "nodes": [{"id": "start"}]})

    strategy.refresh_from_db()
    assert strategy.version == 3
    assert strategy.description == "tighter stop"
    with pytest.raises(ValueError, match="not editable: version"):
        update_strategy(strategy, version=1)


@pytest.mark.django_db
def test_status_moves_only_along_allowed_transitions(alice):
    session = make_session(alice)

    assert move_status(session.id, lifecycle.RUNNING)
    assert not move_status(session.id, lifecycle.RUNNING), "running -> running is not a move"
    assert move_status(session.id, lifecycle.PAUSED)
    assert not move_status(session.id, lifecycle.COMPLETED), "a paused session cannot complete"
    assert move_status(session.id, lifecycle.RUNNING)
    assert move_status(session.id, lifecycle.STOPPED, reason="user asked")
    assert not move_status(session.id, lifecycle.RUNNING), "a stopped session stays stopped"

    session.refresh_from_db()
    assert session.status == "stopped" and session.status_reason == "user asked"
    assert session.started_at <= session.ended_at


@pytest.mark.django_db(transaction=True)
def test_when_two_threads_race_to_move_a_session_exactly_one_wins(alice):
    session = make_session(alice)
    move_status(session.id, lifecycle.RUNNING)
    barrier = threading.Barrier(8)
    results = []

    def contender(target):
        try:
            barrier.wait()
            results.append((target, move_status(session.id, target)))
        finally:
            connection.close()  # each thread opened its own

    threads = [threading.Thread(target=contender, args=(t,)) for t in [lifecycle.STOPPED, lifecycle.COMPLETED] * 4]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    winners = [target for target, won in results if won]
    assert len(results) == 8 and len(winners) == 1
    session.refresh_from_db()
    assert session.status == winners[0]


def test_unknown_target_status_is_refused():
    with pytest.raises(lifecycle.IllegalTransition):
        move_status("sim-000000000000", "exploded")
