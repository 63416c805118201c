"""Resuming a positional (multi-day) session: interrupted in the middle of a day with its positions open,
exactly between two days, and on the expiry day after settlement; resumed through the API, it ends as the
same session run without a break. Real thread, engine and Postgres, as tests/sessions/test_resume.py.

The market is the scripted week of tests/engine/test_positional.py (Mon 28 to Thu 31 Oct 2024, the weekly
expiry on Thursday), whose settlement, charges and daily P&L are worked by hand there. What a resumed
session must end as is worked out twice, independently of the resume: the engine alone over the same days,
seed and capital (``engine_alone``, passing quiet stretches in one go where the thread steps every tick),
and an uninterrupted twin through the runner (same strategy, days and seed), whose rows, summary and
report must be the resumed session's.

Stopping a thread exactly at a day's end: a positional engine loads the next day when the step that
processed a day's last tick ends (``MultiDayEngine.next_timestamp``), through the runner's shared day cache
(``runner.build.shared_day``), under that cache's lock. Holding the lock, the test lets a session run (at
max speed) until its thread blocks there, with exactly the day's ticks processed; a pause or an interrupt
then put in its queue is obeyed at that boundary once the lock is let go, before the next day's first tick.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal

import numpy as np
import pytest
from django.conf import settings

from live_trading import actions
from live_trading.engine.engine import EngineSettings
from live_trading.engine.events import ListSink
from live_trading.engine.money import minor_units
from live_trading.engine.multiday import MultiDayEngine
from live_trading.marketdata.calendar import calendar_of
from live_trading.marketdata.day import MarketDay
from live_trading.marketdata.instruments import get_underlying
from live_trading.marketdata.store import day_ticks, load_day
from live_trading.models import BrokerConnection
from live_trading.runner import build as runner_build
from live_trading.runner.registry import registry
from live_trading.stream.hub import hub
from sessions_app.models import PositionChange, SimulationSession
from strategies.graph import parse_graph
from strategies.models import Strategy
from tests.engine import test_positional as hand
from tests.reports.conftest import imported_market
from tests.sessions.conftest import Background
from tests.sessions.test_fx_session import eurusd, fx_universe
from tests.sessions.test_session_runs import assert_persisted_equals, status_of
from tests.stream.test_resume_faults import everything_of
from tests.waiting import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

__all__ = ["eurusd", "fx_universe"]  # fixtures, used by name

DAY_TICKS = 22_500  # a stored NSE day: 09:15:00-15:29:59, the scripted prices held to the close
MUHURAT = date(2024, 11, 1)  # Diwali: a trading holiday with a muhurat session, 18:00-19:00 IST
IST = timezone(timedelta(hours=5, minutes=30))


def muhurat_day() -> MarketDay:
    """Friday 1 Nov 2024, the session after the expiry: NIFTY alone, 24300.00 for the hour (nothing is open)."""
    n = 3600
    ts = np.arange(n, dtype=np.int64) + int(datetime.combine(MUHURAT, time(18, 0), IST).timestamp())
    prices = np.full((n, 1), 2_430_000, np.int64)
    zeros = np.zeros_like(prices)
    return MarketDay("NIFTY", MUHURAT, ts, ["NIFTY"], prices, zeros, zeros, np.ones((n, 1), bool))


@pytest.fixture
def scripted_week(settings, tmp_path):
    yield from imported_market(settings, tmp_path, [*hand.week_of_prices(), muhurat_day()])


@pytest.fixture
def published():
    """Every stored stream event this process publishes: (session id, number, kind)."""
    seen = []

    def keep(envelope):
        if envelope.n is not None:
            seen.append((envelope.session_id, envelope.n, envelope.kind))

    hub.observe(keep)
    yield seen
    hub.unobserve(keep)


class DayEnds:
    """The runner's day-cache lock, held by the test so that a session thread blocks loading its next
    day, after a day's last tick (see the module's docstring). Never held while a session is started or
    resumed: those load their first day through the same cache."""

    def __init__(self):
        self.lock = runner_build._days_lock
        self.held = False

    def hold(self):
        assert not self.held
        self.lock.acquire()
        self.held = True

    def let_go(self):
        if self.held:
            self.held = False
            self.lock.release()


@pytest.fixture
def day_ends():
    gate = DayEnds()
    yield gate
    gate.let_go()


def closes(session) -> list[int]:
    """The ticks processed at each day's close, from the stored days (the calendar's windows, or the
    imported file's ticks): independent of the engine."""
    days = calendar_of(session.underlying).trading_days(session.start_date, session.end_date)
    return list(np.cumsum([day_ticks(session.underlying, d, settings.MARKET_DATA_DIR) for d in days]))


def run_to_the_close_of(client, session_id, gate, day_index):
    """Run a paused session on (max speed) to the close of its day ``day_index`` and keep it there: its
    thread blocked loading the next day, with exactly the ticks up to that close processed."""
    session = SimulationSession.objects.get(pk=session_id)
    target = closes(session)[day_index]
    gate.hold()
    assert client.post(f"/api/v2/live/resume/{session_id}").json()["status"] == "running"
    thread = registry.get(session_id)
    wait_for(lambda: thread.engine.ticks_processed == target, timeout=60,
             message=f"the thread at the close of day {day_index} ({target} ticks)")
    return thread


def obeyed_at_the_close(thread, gate, action, call):
    """Do ``call`` (which puts an ``action``, a pause or an interrupt, in the thread's queue) while the
    thread is held at a day's close, and let it go on once that message is queued: it obeys before the next
    day's first tick. (Another message may wait there already: a resume's own, when the thread had obeyed
    the resume written to its row first.)"""
    doing = Background(call)
    doing.start()
    wait_for(lambda: any(m.action == action for m in list(thread.control.queue)) or not doing.is_alive(),
             timeout=30, message=f"the {action} in the thread's queue")
    gate.let_go()
    return doing.outcome()


def pause_at_the_close(client, session_id, gate, day_index):
    thread = run_to_the_close_of(client, session_id, gate, day_index)
    answer = obeyed_at_the_close(thread, gate, "pause", lambda: client.post(f"/api/v2/live/pause/{session_id}"))
    assert answer.json()["status"] == "paused", answer.content
    session = SimulationSession.objects.get(pk=session_id)
    assert session.ticks_processed == closes(session)[day_index]


def interrupt_at_the_close(client, session_id, gate, day_index):
    thread = run_to_the_close_of(client, session_id, gate, day_index)
    assert obeyed_at_the_close(thread, gate, "interrupt", lambda: registry.shutdown("the server process stopped")) == [session_id]
    session = SimulationSession.objects.get(pk=session_id)
    assert (session.status, session.ticks_processed) == ("interrupted", closes(session)[day_index])
    return session


def engine_alone(session):
    """The session's strategy, days, seed, capital, fees and fills through the engine alone, uninterrupted."""
    places = get_underlying(session.underlying).price_decimals
    days = calendar_of(session.underlying).trading_days(session.start_date, session.end_date)
    sink = ListSink()
    engine = MultiDayEngine(parse_graph(session.graph), days, sink, EngineSettings(
        seed=str(session.seed), starting_capital=minor_units(session.starting_capital, places),
        fees=session.engine_fees(), fills_at=session.fills_at),
        load=lambda underlying, day: load_day(underlying, day, data_dir=settings.MARKET_DATA_DIR))
    engine.run()
    return engine, sink


def uninterrupted_twin(session) -> SimulationSession:
    """The same strategy, days, seed and fills through the runner at max speed, never stopped."""
    twin = actions.start_session(session.owner, actions.StartRequest(
        strategy=session.strategy, broker_connection=session.broker_connection, speed_multiplier=0.0,
        mode="backtest", start_date=session.start_date, end_date=session.end_date, seed=session.seed,
        fills_at=session.fills_at))
    wait_for(lambda: status_of(twin.id) == "completed", timeout=120, message="the uninterrupted twin")
    return SimulationSession.objects.get(pk=twin.id)


def without_identity(report):
    """A report without what names its session or when it ran."""
    if isinstance(report, dict):
        return {k: without_identity(v) for k, v in report.items()
                if k not in ("session_id", "id", "started_at", "ended_at", "created_at", "status_reason")}
    if isinstance(report, list):
        return [without_identity(v) for v in report]
    return report


def assert_as_if_never_stopped(client, session, published):
    """The resumed session against the engine alone and its uninterrupted twin; its stream numbered once."""
    assert session.status == "completed" and session.status_reason == "replayed every tick"
    engine, sink = engine_alone(session)
    assert_persisted_equals(session, sink)  # every node event, position change and trade, once, in order
    summary = engine.summary()
    assert session.final_state["summary"] == summary.to_dict()
    assert (session.total_trades, session.gross_pnl, session.charges, session.realized_pnl) == (
        summary.total_trades, summary.gross_pnl, summary.charges, summary.net_pnl)
    assert session.ticks_processed == session.total_ticks == engine.ticks_processed

    twin = uninterrupted_twin(session)
    got, expected = everything_of(session.id), everything_of(twin.id)
    assert expected["trades"], "a comparison of nothing proves nothing"
    for key in expected:
        assert got[key] == expected[key], f"{key} differ from the uninterrupted run"
    report = client.get(f"/api/sessions/{session.id}/report")
    assert report.status_code == 200
    assert without_identity(report.json()) == without_identity(client.get(f"/api/sessions/{twin.id}/report").json())

    numbers = [n for sid, n, _ in published if sid == session.id]
    assert sorted(numbers) == list(range(1, int(session.last_event_id) + 1)), "an event number twice or missing"
    assert len(numbers) == len(set(numbers))
    return report.json()


def strangle(owner, side="sell"):
    graph = hand.strangle_data("at_expiry")
    for node in graph["nodes"]:
        if node["type"] == "entry":
            node["config"]["side"] = side
    strategy = Strategy.objects.create(owner=owner, name=f"Positional strangle ({side})", graph=graph)
    broker, _ = BrokerConnection.objects.get_or_create(
        owner=owner, account_id=f"PAPER-{owner.username}", defaults={"starting_capital": Decimal("1000000.00")})
    return strategy, broker


def start_paused(client, strategy, broker, to, speed="max"):
    response = client.post("/api/v2/live/start", {
        "strategy_id": str(strategy.id), "broker_connection_id": str(broker.id), "date": "2024-10-28",
        "to": to.isoformat(), "speed_multiplier": speed, "paused": True}, format="json")
    assert response.status_code == 201 and response.json()["status"] == "paused", response.content
    return response.json()["session_id"]


def resume_to_the_end(client, session_id):
    response = client.post(f"/api/v2/live/resume/{session_id}")
    assert response.status_code == 200 and response.json()["status"] == "running", response.content
    if SimulationSession.objects.get(pk=session_id).speed_multiplier:  # paced: on at max speed
        speed = client.post(f"/api/v2/live/speed/{session_id}", {"speed_multiplier": "max"}, format="json")
        assert speed.status_code == 200, speed.content
    wait_for(lambda: status_of(session_id) in ("completed", "failed"), timeout=120, message="the end")
    return SimulationSession.objects.get(pk=session_id)


SETTLED = {hand.CE: ("settled", Decimal("37.35")), hand.PE: ("expired", Decimal("0.00"))}
HAND_DAILY = [("2024-10-28", "123.59"), ("2024-10-29", "-50.00"), ("2024-10-30", "1125.00"), ("2024-10-31", "691.25")]


def assert_the_hand_figures(session, report, *, muhurat=False):
    """The short strangle's week as worked by hand in tests/engine/test_positional.py."""
    trades = {t.symbol: t for t in session.trades.all()}
    assert {s: (t.exit_reason, t.exit_price) for s, t in trades.items()} == SETTLED
    # the writer pays no STT on exercise: each leg's charges are its entry's alone
    assert (trades[hand.CE].charges, trades[hand.PE].charges) == (
        Decimal(hand.CE_ENTRY_CHARGES) / 100, Decimal(hand.PE_ENTRY_CHARGES) / 100)
    assert session.realized_pnl == Decimal(hand.NET) / 100
    daily = HAND_DAILY + ([(MUHURAT.isoformat(), "0.00")] if muhurat else [])
    assert [(d["date"], d["pnl"]) for d in session.final_state["summary"]["daily_pnl"]] == daily
    assert [(r["date"], r["mtm_pnl"]) for r in report["daily"]] == daily


def test_interrupted_mid_day_with_its_positions_open_it_resumes_as_if_never_stopped(
        as_alice, alice, scripted_week, day_ends, published):
    strategy, broker = strangle(alice)
    # 3000x: Monday takes 7.5 s, its entries come at 09:16 (20 ms in); the lock keeps it from passing Monday
    session_id = start_paused(as_alice, strategy, broker, hand.WEEK[-1], speed=3000)
    day_ends.hold()
    assert as_alice.post(f"/api/v2/live/resume/{session_id}").json()["status"] == "running"
    wait_for(lambda: PositionChange.objects.filter(session_id=session_id).count() >= 2, timeout=60,
             message="both legs open")
    thread = registry.get(session_id)
    assert obeyed_at_the_close(thread, day_ends, "interrupt", lambda: registry.shutdown("the server process stopped")) == [
        session_id]
    interrupted = SimulationSession.objects.get(pk=session_id)
    assert interrupted.status == "interrupted"
    assert 0 < interrupted.ticks_processed < DAY_TICKS, "interrupted in the middle of Monday"
    assert not interrupted.trades.exists()  # held, nothing closed: an interrupt squares nothing off
    assert set(PositionChange.objects.filter(session_id=session_id).values_list("action", flat=True)) == {"entry"}

    session = resume_to_the_end(as_alice, session_id)

    report = assert_as_if_never_stopped(as_alice, session, published)
    assert_the_hand_figures(session, report)


def test_interrupted_exactly_between_two_days_it_resumes_as_if_never_stopped(
        as_alice, alice, scripted_week, day_ends, published):
    strategy, broker = strangle(alice)
    session_id = start_paused(as_alice, strategy, broker, hand.WEEK[-1])

    interrupted = interrupt_at_the_close(as_alice, session_id, day_ends, 0)  # Monday's close, Tuesday not begun
    # held overnight: both legs open, Monday's last minute sampled, marked at Monday's closing prices
    assert not interrupted.trades.exists()
    last = interrupted.equity_samples.order_by("timestamp").last()
    assert last.timestamp == datetime(2024, 10, 28, 15, 30, tzinfo=IST).astimezone(UTC)
    assert last.unrealized_pnl == Decimal("175.00")  # (60 - 58) x 25 + (55 - 50) x 25

    session = resume_to_the_end(as_alice, session_id)

    report = assert_as_if_never_stopped(as_alice, session, published)
    assert_the_hand_figures(session, report)


def test_interrupted_on_the_expiry_day_after_settlement_it_resumes_as_if_never_stopped(
        as_alice, alice, scripted_week, day_ends, published):
    # One session more after the expiry (the muhurat hour of 1 Nov), so that the expiry's close, where the
    # options settle, is not the session's end.
    strategy, broker = strangle(alice)
    session_id = start_paused(as_alice, strategy, broker, MUHURAT)
    for day_index in range(3):  # to Wednesday's close, paused at each
        pause_at_the_close(as_alice, session_id, day_ends, day_index)
    interrupted = interrupt_at_the_close(as_alice, session_id, day_ends, 3)  # Thursday's close
    assert {t.symbol: (t.exit_reason, t.exit_price) for t in interrupted.trades.all()} == SETTLED
    assert interrupted.ticks_processed == 4 * DAY_TICKS < interrupted.total_ticks == 4 * DAY_TICKS + 3600

    session = resume_to_the_end(as_alice, session_id)

    report = assert_as_if_never_stopped(as_alice, session, published)
    assert_the_hand_figures(session, report, muhurat=True)


def test_a_long_strangle_interrupted_after_settlement_pays_the_stt_on_exercise_once(
        as_alice, alice, scripted_week, day_ends, published):
    """The holder of the call settled in the money pays STT on exercise: 0.125% of the intrinsic value,
    (24537.35 - 24500) x 25 = Rs 933.75 -> Rs 1.1671875, rounded to Rs 1; the put expires worthless."""
    strategy, broker = strangle(alice, side="buy")
    session_id = start_paused(as_alice, strategy, broker, MUHURAT)
    for day_index in range(3):
        pause_at_the_close(as_alice, session_id, day_ends, day_index)
    interrupt_at_the_close(as_alice, session_id, day_ends, 3)

    session = resume_to_the_end(as_alice, session_id)

    assert_as_if_never_stopped(as_alice, session, published)
    trades = {t.symbol: t for t in session.trades.all()}
    assert {s: (t.exit_reason, t.exit_price) for s, t in trades.items()} == SETTLED
    # the entries' charges (the two buys), from the stored order events; the settlement adds the STT alone
    entries = [Decimal(p["order_details"]["charges"]["total"]) for p in session.node_events.filter(
        event_type="order_placed").values_list("payload", flat=True)]
    assert len(entries) == 2
    assert sum(t.charges for t in trades.values()) == sum(entries) + Decimal("1.00")


def test_another_user_cannot_control_a_positional_session_and_staff_stop_it_saying_who(
        as_alice, as_bob, as_charlie, alice, charlie, scripted_week, day_ends):
    strategy, broker = strangle(alice)
    session_id = start_paused(as_alice, strategy, broker, hand.WEEK[-1])
    pause_at_the_close(as_alice, session_id, day_ends, 0)  # paused at Monday's close, both legs held

    for action in ("resume", "pause", "stop"):
        assert as_bob.post(f"/api/v2/live/{action}/{session_id}").status_code == 404, action
    assert as_bob.post(f"/api/v2/live/speed/{session_id}", {"speed_multiplier": 1}, format="json").status_code == 404
    assert status_of(session_id) == "paused"

    # real time from here (a tick a second): the resumed session is still running when charlie stops it
    assert as_alice.post(f"/api/v2/live/speed/{session_id}", {"speed_multiplier": 1}, format="json").status_code == 200
    assert registry.shutdown("the server process stopped") == [session_id]
    assert status_of(session_id) == "interrupted"
    assert as_bob.post(f"/api/v2/live/resume/{session_id}").status_code == 404
    assert status_of(session_id) == "interrupted"
    assert as_alice.post(f"/api/v2/live/resume/{session_id}").json()["status"] == "running"
    for action in ("pause", "stop"):
        assert as_bob.post(f"/api/v2/live/{action}/{session_id}").status_code == 404, action
    assert as_bob.post(f"/api/v2/live/speed/{session_id}", {"speed_multiplier": "max"}, format="json").status_code == 404

    stopped = as_charlie.post(f"/api/v2/live/stop/{session_id}")

    assert stopped.status_code == 200, stopped.content
    session = SimulationSession.objects.get(pk=session_id)
    assert (session.status, session.status_reason, session.stop_requested_by) == ("stopped", "stopped by charlie",
                                                                                  charlie)
    assert DAY_TICKS <= session.ticks_processed < 2 * DAY_TICKS
    # squared off where it stopped, on Tuesday, at Tuesday's prices all day (CE 70, PE 40)
    assert {(t.symbol, t.exit_reason, t.exit_price) for t in session.trades.all()} == {
        (hand.CE, "session_end", Decimal("70.00")), (hand.PE, "session_end", Decimal("40.00"))}
    sink = ListSink()
    engine = MultiDayEngine(parse_graph(session.graph), hand.WEEK, sink, EngineSettings(
        seed=str(session.seed), starting_capital=minor_units(session.starting_capital)),
        load=lambda underlying, day: load_day(underlying, day, data_dir=settings.MARKET_DATA_DIR))
    while engine.ticks_processed < session.ticks_processed:
        engine.step()
    engine.finish()
    assert_persisted_equals(session, sink)


def test_an_fx_positional_session_interrupted_mid_range_resumes_as_if_never_stopped(
        eurusd, alice, as_alice, day_ends, published):
    from tests.engine.test_fx_differential import crossover_graph

    _, first, _ = eurusd
    last = first + timedelta(days=30)
    strategy = Strategy.objects.create(owner=alice, name="EURUSD SMA crossover", graph=crossover_graph())
    broker = BrokerConnection.objects.create(owner=alice, account_id="PAPER-FX", fee_model="none",
                                             starting_capital=Decimal("1000000.00"))
    response = as_alice.post("/api/v2/live/start", {
        "strategy_id": str(strategy.id), "broker_connection_id": str(broker.id), "date": first.isoformat(),
        "to": last.isoformat(), "speed_multiplier": "max", "fills_at": "bar_close", "paused": True}, format="json")
    assert response.status_code == 201 and response.json()["status"] == "paused", response.content
    session_id = response.json()["session_id"]
    n_days = len(closes(SimulationSession.objects.get(pk=session_id)))

    # Day by day (the SMA(300) of 1h bars needs about 13 days) until a position is held over the night,
    # then interrupted there.
    day_index = 0
    while True:
        thread = run_to_the_close_of(as_alice, session_id, day_ends, day_index)
        engine = thread.engine.engine
        if engine.store.open:
            break
        assert day_index < n_days - 2, "no position held over a night before the range's last days"
        answer = obeyed_at_the_close(thread, day_ends, "pause",
                                     lambda: as_alice.post(f"/api/v2/live/pause/{session_id}"))
        assert answer.json()["status"] == "paused"
        row = SimulationSession.objects.get(pk=session_id)
        assert (row.ticks_processed, thread.engine.ticks_processed) == (closes(row)[day_index],) * 2, day_index
        day_index += 1
    assert obeyed_at_the_close(thread, day_ends, "interrupt", lambda: registry.shutdown("the server process stopped")) == [
        session_id]
    interrupted = SimulationSession.objects.get(pk=session_id)
    assert interrupted.status == "interrupted" and interrupted.position_changes.exists()
    assert interrupted.ticks_processed == closes(interrupted)[day_index] < interrupted.total_ticks

    session = resume_to_the_end(as_alice, session_id)

    assert_as_if_never_stopped(as_alice, session, published)
    assert (session.price_decimals, session.currency) == (5, "USD")
