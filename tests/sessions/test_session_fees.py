"""Fee models and slippage in sessions run through the API: the real thread, engine and Postgres.

A session charges what its broker connection's fee model says when it starts, records that model and
its slippage, and keeps them: a later edit of the connection changes neither its record nor, when it is
resumed, how it goes on. What a session must end as is computed independently: the same strategy, day
and seed through the engine alone with the fees given by hand.
"""

from decimal import Decimal

import pytest

from live_trading.engine.engine import EngineSettings
from live_trading.engine.events import ListSink, TradeClosed
from live_trading.engine.fees import FeeModel
from live_trading.engine.multiday import MultiDayEngine
from live_trading.runner.registry import registry
from sessions_app.models import NodeEvent, SimulationSession, Trade
from strategies.graph import parse_graph
from tests.sessions.conftest import DAY, start_body
from tests.waiting import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

ZERO = Decimal("0.00")
NO_CHARGES = {
    "brokerage": "0.00",
    "stt": "0.00",
    "exchange_charges": "0.00",
    "sebi_fee": "0.00",
    "stamp_duty": "0.00",
    "gst": "0.00",
    "total": "0.00",
}


def status_of(session_id):
    return SimulationSession.objects.get(pk=session_id).status


def run_to_the_end(client, strategy, broker) -> SimulationSession:
    response = client.post(
        "/api/v2/live/start", start_body(strategy, broker, speed_multiplier="max"), format="json"
    )
    assert response.status_code == 201, response.content
    session_id = response.json()["session_id"]
    wait_for(lambda: status_of(session_id) == "completed", timeout=60, message="completion")
    return SimulationSession.objects.get(pk=session_id)


def filled_order_charges(session) -> list[dict]:
    """The charges of every filled order, as the node events of its entries carry them."""
    payloads = NodeEvent.objects.filter(session=session).order_by("seq").values_list("payload", flat=True)
    return [p["order_details"]["charges"] for p in payloads if "charges" in p.get("order_details", {})]


def engine_trades(session, fees: FeeModel, slippage_ticks: int = 0):
    """The session's strategy, day and seed through the engine alone, with ``fees`` and slippage given here."""
    sink = ListSink()
    MultiDayEngine(
        parse_graph(session.graph),
        [DAY],
        sink,
        EngineSettings(
            seed=str(session.seed), starting_capital=1_000_000_00, fees=fees, slippage_ticks=slippage_ticks
        ),
    ).run()
    return [e.trade for e in sink.of(TradeClosed)]


def test_a_session_on_a_connection_without_fees_pays_no_charges_anywhere(as_alice, alice_setup):
    strategy, broker = alice_setup
    broker.fee_model = "none"
    broker.save()

    session = run_to_the_end(as_alice, strategy, broker)

    trades = list(session.trades.order_by("seq"))
    assert trades, "the example straddle trades on the demo day"
    assert [t.charges for t in trades] == [ZERO] * len(trades)
    assert [t.net_pnl for t in trades] == [t.pnl for t in trades]
    assert (session.charges, session.realized_pnl) == (ZERO, session.gross_pnl)
    assert filled_order_charges(session) and all(c == NO_CHARGES for c in filled_order_charges(session))
    report = as_alice.get(f"/api/sessions/{session.id}/report").json()
    assert (report["statistics"]["charges"], report["statistics"]["net_pnl"]) == (
        "0.00",
        report["statistics"]["gross_pnl"],
    )
    assert [day["charges"] for day in report["daily"]] == ["0.00"]
    [row] = as_alice.get("/api/sessions/").json()["results"]
    assert (row["charges"], row["fees"]["fee_model"], row["slippage_ticks"]) == ("0.00", "none", 0)


def test_a_flat_fee_session_pays_it_once_per_order_as_one_line_and_keeps_its_record(as_alice, alice_setup):
    strategy, broker = alice_setup
    broker.fee_model, broker.fee_per_order, broker.slippage_ticks = "per_order", Decimal("15.00"), 1
    broker.save()

    session = run_to_the_end(as_alice, strategy, broker)
    # The connection is edited afterwards: the session's record and results are what it ran with.
    assert (
        as_alice.patch(
            f"/api/broker-connections/{broker.id}/",
            {"fee_model": "nse_fo", "slippage_ticks": 0},
            format="json",
        ).status_code
        == 200
    )

    session.refresh_from_db()
    assert (session.fees, session.slippage_ticks) == (
        {"fee_model": "per_order", "fee_per_order": "15.00", "fee_percent": None, "fee_cap": None},
        1,
    )
    [row] = as_alice.get("/api/sessions/").json()["results"]
    assert (row["fees"]["fee_model"], row["fees"]["fee_per_order"], row["slippage_ticks"]) == (
        "per_order",
        "15.00",
        1,
    )
    entries = filled_order_charges(session)
    assert entries and all(c == {**NO_CHARGES, "brokerage": "15.00", "total": "15.00"} for c in entries)
    trades = list(session.trades.order_by("seq"))
    # Each trade closed whole here (one entry order, one exit order): 15.00 + 15.00.
    assert [t.charges for t in trades] == [Decimal("30.00")] * len(trades)
    expected = engine_trades(session, FeeModel.from_rupees("per_order", per_order="15"), slippage_ticks=1)
    assert [(t.entry_price, t.exit_price, t.pnl, t.net_pnl) for t in trades] == [
        (t.entry_price, t.exit_price, t.pnl, t.net_pnl) for t in expected
    ]
    without_slippage = engine_trades(session, FeeModel.from_rupees("per_order", per_order="15"))
    assert [t.entry_price for t in trades] != [t.entry_price for t in without_slippage]


def test_a_resumed_session_goes_on_with_the_fees_it_started_with(as_alice, alice_setup):
    strategy, broker = alice_setup
    broker.fee_model, broker.fee_percent, broker.fee_cap, broker.slippage_ticks = (
        "percent",
        Decimal("0.05"),
        Decimal("10.00"),
        2,
    )
    broker.save()
    session_id = as_alice.post(
        "/api/v2/live/start", start_body(strategy, broker, speed_multiplier=3000), format="json"
    ).json()["session_id"]
    wait_for(
        lambda: Trade.objects.filter(session_id=session_id).exists(), timeout=60, message="a trade closed"
    )
    assert registry.shutdown("the server process stopped") == [session_id]
    assert (
        as_alice.patch(
            f"/api/broker-connections/{broker.id}/", {"fee_model": "none", "slippage_ticks": 0}, format="json"
        ).status_code
        == 200
    )

    assert as_alice.post(f"/api/v2/live/resume/{session_id}").status_code == 200
    assert (
        as_alice.post(
            f"/api/v2/live/speed/{session_id}", {"speed_multiplier": "max"}, format="json"
        ).status_code
        == 200
    )
    wait_for(lambda: status_of(session_id) == "completed", timeout=60, message="completion")

    session = SimulationSession.objects.get(pk=session_id)
    expected = engine_trades(
        session, FeeModel.from_rupees("percent", percent="0.05", cap="10"), slippage_ticks=2
    )
    trades = list(session.trades.order_by("seq"))
    assert [(t.trade_id, t.entry_price, t.exit_price, t.charges, t.net_pnl) for t in trades] == [
        (t.trade_id, t.entry_price, t.exit_price, t.charges, t.net_pnl) for t in expected
    ]
    assert session.charges == sum(t.charges for t in expected) > ZERO
