"""The engine on scripted ticks: entries, stops, targets, trailing stops, partial exits, square-offs,
re-entries and their flow ids. Every expected figure is worked out by hand in the comments.

Rates are those in force on 29 Oct 2024; NIFTY options expire 31 Oct with a lot of 25.
"""

from decimal import Decimal

from live_trading.engine.engine import Engine
from live_trading.engine.events import (
    ListSink,
    NodeExecuted,
    PositionEvent,
    SessionComplete,
    TickSnapshot,
    TradeClosed,
)
from tests.engine.scripted import at_time, build, opt, option_entry, scripted_day, start

D = Decimal


def run(graph, day, wants_ticks=False, **settings):
    sink = ListSink(wants_ticks=wants_ticks)
    engine = Engine(graph, day, sink)
    while engine.step():
        pass
    return engine, sink


def trades(sink):
    return [e.trade for e in sink.of(TradeClosed)]


def flat_chain(**overrides):
    series = {
        "NIFTY": {"09:15:00": "24500.00"},
        opt(24500, "CE"): {"09:15:00": "100.00"},
        opt(24500, "PE"): {"09:15:00": "100.00"},
    }
    series.update(overrides)
    return series


def test_a_short_call_is_stopped_out_at_its_stop_loss_with_charges_in_net_pnl():
    day = scripted_day(flat_chain(**{opt(24500, "CE"): {"09:15:00": "100", "09:17:00": "110", "09:18:00": "120"}}))
    g = build([start(), at_time("sig", "09:16:00"), option_entry("entry-ce", "CE", "sell", stop_loss={"type": "percent", "value": 20})],
              [("strategy-controller", "sig"), ("sig", "entry-ce")])
    _engine, sink = run(g, day)

    [t] = trades(sink)
    # Sold 25 at 100.00; a 20% stop is 120.00, reached at 09:18:00.
    assert (t.symbol, t.side, t.quantity) == (opt(24500, "CE"), "sell", 25)
    assert (t.entry_price, t.exit_price, t.exit_reason) == (D("100.00"), D("120.00"), "stop_loss")
    assert t.exit_time - t.entry_time == 120
    assert t.pnl == D("-500.00")
    # Exchange charges are NSE 0.03503% + IPFT 0.0005% = 0.03553%, one line.
    # Sell 2,500: 20 + STT 3 (2.50 rounds up) + exchange 0.88825 -> 0.89 + GST 20.89 x 18% = 3.7602 -> 3.76
    # = 27.65. Buy 3,000: 20 + exchange 1.0659 -> 1.07 + stamp 0.09 + GST 21.07 x 18% = 3.7926 -> 3.79 = 24.95.
    assert t.charges == D("52.60")
    assert t.net_pnl == D("-552.60")
    assert t.pnl_percent == D("-20.00")
    summary = sink.of(SessionComplete)[0].summary
    assert (summary.gross_pnl, summary.charges, summary.net_pnl) == (D("-500.00"), D("52.60"), D("-552.60"))
    assert summary.losing_trades == 1 and summary.win_rate == D("0.00")


def test_a_bought_call_exits_at_its_target():
    day = scripted_day(flat_chain(**{opt(24500, "CE"): {"09:15:00": "100", "09:17:00": "119.95", "09:18:00": "120.05"}}))
    g = build([start(), at_time("sig", "09:16:00"), option_entry("entry-ce", "CE", "buy", target={"type": "percent", "value": 20})],
              [("strategy-controller", "sig"), ("sig", "entry-ce")])
    _, sink = run(g, day)
    [t] = trades(sink)
    # Target 120.00: 119.95 is short of it, 120.05 is through it and is the fill.
    assert (t.exit_reason, t.exit_price, t.pnl) == ("target", D("120.05"), D("501.25"))


def test_a_trailing_stop_moves_up_with_the_price_then_triggers():
    prices = {"09:15:00": "100", "09:17:00": "105", "09:18:00": "115", "09:19:00": "112", "09:20:00": "105"}
    day = scripted_day(flat_chain(**{opt(24500, "PE"): prices}))
    g = build([start(), at_time("sig", "09:16:00"),
               option_entry("entry-pe", "PE", "buy", trailing_stop={"type": "points", "value": 10})],
              [("strategy-controller", "sig"), ("sig", "entry-pe")])
    _, sink = run(g, day)
    [t] = trades(sink)
    # Bought at 100 with a 10-point trail: stop 90, then 95 at 105, 105 at 115; 112 holds; 105 triggers.
    assert (t.exit_reason, t.exit_price, t.pnl) == ("trailing_stop", D("105.00"), D("125.00"))
    assert t.exit_time - t.entry_time == 4 * 60
    exit_event = next(e for e in sink.of(NodeExecuted) if e.event_type == "exit_triggered")
    assert exit_event.details["levels"]["trailing_stop"] == 105.0


def test_a_partial_exit_closes_half_and_the_rest_is_squared_off_at_the_time():
    ce = {"09:15:00": "100", "09:20:00": "80", "09:25:00": "70"}
    day = scripted_day(flat_chain(**{opt(24500, "CE"): ce}))
    g = build(
        [start(), at_time("sig", "09:16:00"), option_entry("entry-ce", "CE", "sell", lots=2),
         at_time("exit-sig", "09:20:00", "exit_signal"),
         {"id": "exit-half", "type": "exit", "name": "half", "config": {"quantity": {"type": "percent", "value": 50}}}],
        [("strategy-controller", "sig"), ("sig", "entry-ce"), ("entry-ce", "exit-sig"), ("exit-sig", "exit-half")],
    )
    _, sink = run(g, day)
    first, second = trades(sink)
    # 50 sold at 100; 25 bought back at 80 (+500), the other 25 at 70 at the 09:29 square-off (+750).
    assert (first.quantity, first.exit_price, first.pnl, first.status, first.exit_reason) == (
        25, D("80.00"), D("500.00"), "PARTIAL", "exit_condition_met")
    assert (second.quantity, second.exit_price, second.pnl, second.status, second.exit_reason) == (
        25, D("70.00"), D("750.00"), "CLOSED", "square_off")
    actions = [(e.action, e.position.quantity_closed, e.position.quantity_remaining) for e in sink.of(PositionEvent)]
    assert actions == [("entry", 0, 50), ("partial_exit", 25, 25), ("exit", 50, 0)]
    partial = sink.of(PositionEvent)[1]
    assert partial.position.realized_pnl_gross == D("500.00")
    assert partial.unrealized_pnl == D("500.00")  # the 25 still open, sold at 100, are at 80
    assert second.exit_time - first.exit_time == 9 * 60


def test_a_short_straddle_is_squared_off_on_max_loss_with_multi_leg_pnl():
    ce = {"09:15:00": "100", "09:19:00": "130", "09:20:00": "140"}
    day = scripted_day(flat_chain(**{opt(24500, "CE"): ce}))
    g = build(
        [start(max_loss="1000"), at_time("sig", "09:16:00"),
         option_entry("entry-ce", "CE", "sell"), option_entry("entry-pe", "PE", "sell")],
        [("strategy-controller", "sig"), ("sig", "entry-ce"), ("sig", "entry-pe")],
    )
    engine, sink = run(g, day)
    ce_trade, pe_trade = trades(sink)
    # Entry charges 27.65 per leg. At 09:19 the net is -750 - 55.30 = -805.30: no square-off.
    # At 09:20 it is -1,000 - 55.30 = -1,055.30 <= -1,000: both legs closed for max_loss.
    assert {ce_trade.exit_reason, pe_trade.exit_reason} == {"max_loss"}
    assert ce_trade.exit_time == pe_trade.exit_time
    assert (ce_trade.pnl, pe_trade.pnl) == (D("-1000.00"), D("0.00"))
    # Buy-backs (exchange 0.03553%): 3,500 -> 20 + 1.24355 -> 1.24 + stamp 0.105 -> 0.11 + GST 21.24 x 18%
    # = 3.8232 -> 3.82: 25.17; 2,500 -> 20 + 0.89 + 0.075 -> 0.08 + GST 20.89 x 18% -> 3.76: 24.73.
    assert (ce_trade.charges, pe_trade.charges) == (D("52.82"), D("52.38"))
    summary = engine.summary()
    assert (summary.gross_pnl, summary.charges, summary.net_pnl) == (D("-1000.00"), D("105.20"), D("-1105.20"))
    assert summary.total_trades == 2 and summary.losing_trades == 2
    assert summary.net_pnl == sum(t.net_pnl for t in trades(sink))
    square = next(e for e in sink.of(NodeExecuted) if e.event_type == "square_off")
    assert square.node_id == "strategy-controller" and square.details["exit_reason"] == "max_loss"
    assert engine.nodes["sig"].state == "completed"


def test_a_re_entry_after_a_stop_picks_the_strike_afresh_and_carries_its_flow():
    series = {
        "NIFTY": {"09:15:00": "24500.00", "09:18:30": "24560.00"},
        opt(24500, "CE"): {"09:15:00": "100", "09:17:00": "110", "09:18:00": "120"},
        opt(24550, "CE"): {"09:15:00": "80", "09:19:00": "90"},
    }
    day = scripted_day(series)
    g = build(
        [start(), at_time("sig", "09:16:00"),
         option_entry("entry-ce", "CE", "sell", stop_loss={"type": "percent", "value": 20}),
         {"id": "re-entry-ce", "type": "re_entry", "name": "again",
          "config": {"max_re_entries": 1, "on": ["stop_loss"], "wait_seconds": 60}}],
        [("strategy-controller", "sig"), ("sig", "entry-ce"), ("entry-ce", "re-entry-ce"), ("re-entry-ce", "entry-ce")],
    )
    _, sink = run(g, day)
    first, second = trades(sink)
    assert (first.position_id, first.re_entry_num, first.symbol) == ("entry-ce-pos1", 0, opt(24500, "CE"))
    # Stopped at 09:18:00; a minute later spot is 24,560 so the at-the-money strike is 24,550.
    assert (second.position_id, second.re_entry_num, second.symbol) == ("entry-ce-pos1", 1, opt(24550, "CE"))
    assert (second.entry_price, second.exit_price, second.exit_reason) == (D("90.00"), D("90.00"), "square_off")
    assert second.trade_id == "entry-ce-pos1-re1"
    # Sell 2,250: 20 + STT 2 (2.25) + exchange 0.03553% = 0.799425 -> 0.80 + GST 20.80 x 18% = 3.744 -> 3.74
    # = 26.54; buy: 20 + 0.80 + stamp 0.0675 -> 0.07 + 3.74 = 24.61.
    assert second.charges == D("51.15")

    events = {e.execution_id: e for e in sink.of(NodeExecuted)}
    flow = [(events[x].node_id, events[x].event_type, events[x].timestamp[11:19]) for x in second.entry_flow_ids]
    assert flow == [
        ("strategy-controller", "strategy_started", "09:15:00"),
        ("sig", "signal_emitted", "09:16:00"),
        ("entry-ce", "order_placed", "09:16:00"),
        ("entry-ce", "exit_triggered", "09:18:00"),
        ("re-entry-ce", "re_entry", "09:19:00"),
        ("entry-ce", "order_placed", "09:19:00"),
    ]
    assert second.exit_flow_ids[: len(second.entry_flow_ids)] == second.entry_flow_ids
    tail = [(events[x].node_id, events[x].event_type) for x in second.exit_flow_ids[len(second.entry_flow_ids):]]
    assert tail == [("strategy-controller", "square_off")]
    assert first.exit_flow_ids == (*first.entry_flow_ids, second.entry_flow_ids[3])
    # Each id's parent is the one before it in the chain.
    for parent, child in zip(second.entry_flow_ids, second.entry_flow_ids[1:], strict=False):
        assert events[child].parent_execution_id == parent
    for x in events:
        assert x.startswith("exec_") and x.split("_")[2] == "20241029" and len(x.split("_")[-1]) == 6


def test_no_re_entry_beyond_the_maximum():
    ce = {"09:15:00": "100", "09:17:00": "120", "09:18:00": "100", "09:19:00": "120", "09:20:00": "100",
          "09:21:00": "120"}
    day = scripted_day(flat_chain(**{opt(24500, "CE"): ce}))
    g = build(
        [start(), at_time("sig", "09:16:00"),
         option_entry("entry-ce", "CE", "sell", stop_loss={"type": "percent", "value": 20}),
         {"id": "re", "type": "re_entry", "name": "again", "config": {"max_re_entries": 1, "wait_seconds": 30}}],
        [("strategy-controller", "sig"), ("sig", "entry-ce"), ("entry-ce", "re"), ("re", "entry-ce")],
    )
    _, sink = run(g, day)
    # Stop at 09:17; re-entry at 09:17:30 at 120 (stop 144, never reached), closed at the 09:29 square-off.
    assert [(t.re_entry_num, t.exit_reason) for t in trades(sink)] == [(0, "stop_loss"), (1, "square_off")]


def test_tick_snapshots_go_only_to_sinks_that_want_them():
    day = scripted_day(flat_chain(), until="09:16:00")
    g = build([start(square_off="09:16:00"), at_time("sig", "09:15:30"), option_entry("entry-ce", "CE", "sell")],
              [("strategy-controller", "sig"), ("sig", "entry-ce")])
    _, quiet = run(g, day)
    _, loud = run(g, day, wants_ticks=True)
    assert not quiet.of(TickSnapshot)
    ticks = loud.of(TickSnapshot)
    assert len(ticks) == 61 and ticks[-1].ticks_processed == 61 == ticks[-1].total_ticks
    assert dict(ticks[0].ltp_updates)["NIFTY"] == 2450000 and ticks[1].ltp_updates == ()
    during = ticks[40]
    assert [p.position_id for p in during.open_positions] == ["entry-ce-pos1"]
    assert during.active_nodes == ()
    # Sold 25 at 100.00, still 100.00: nothing unrealized; realized is minus the entry charges, 27.65
    # (sell 2,500: 20 + STT 3 + exchange 0.89 + GST 3.76).
    assert (during.realized_pnl_paise, during.unrealized_pnl_paise, during.closed_trades) == (-2765, 0, 0)
    assert [(p.entry_price_paise, p.current_price_paise, p.unrealized_pnl_paise) for p in during.open_positions] == [
        (10000, 10000, 0)]
