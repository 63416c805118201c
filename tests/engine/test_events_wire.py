"""What goes on the wire for an engine's events: a real engine over a scripted day, its events through
the real ``StreamSink``, and every payload the sink published checked against the protocol's typed
shapes (``live_trading.stream.events.check``, docs/protocol.md) and against figures worked out by hand.

The day: NIFTY at 24500 and its 24500 PE at 181.60 from 09:15, 260.05 from 09:18. The strategy sells
one lot (25) of the ATM PE at 09:16 and exits it at 09:18 (seed 000's own example trade).

Charges on 29 Oct 2024 (charges.py's rates from 2024-10-01), per order, rounded half up to the paisa
(STT to the rupee); exchange charges are NSE's 0.03503% plus the IPFT's 0.0005% = 0.03553%, one line;
GST is 18% of brokerage + exchange + SEBI:
  sell 25 at 181.60, turnover 4,540.00: brokerage 20.00, STT 0.1% = 4.54 -> 5.00, exchange
      0.03553% = 1.6131 -> 1.61, SEBI 0.0045 -> 0.00, stamp 0, GST 21.61 x 18% = 3.8898 -> 3.89; 30.50
  buy 25 at 260.05, turnover 6,501.25: brokerage 20.00, STT 0, exchange 2.3099 -> 2.31, SEBI
      0.0065 -> 0.01, stamp 0.003% = 0.195 -> 0.20, GST 22.32 x 18% = 4.0176 -> 4.02; 26.54
  trade: gross (181.60 - 260.05) x 25 = -1961.25, -43.20% of 4,540.00; charges 57.04; net -2018.29.
"""

import itertools
import json

import pytest

from live_trading.engine.engine import Engine
from live_trading.stream.events import check
from live_trading.stream.hub import hub
from live_trading.stream.sink import StreamSink
from tests.engine.scripted import at_time, build, opt, option_entry, scripted_day, start

SESSION = "sim-wire0engine01"
PE = opt(24500, "PE")


@pytest.fixture(scope="module")
def published():
    """Every event the sink published for the session over the whole day, in order."""
    series = {"NIFTY": {"09:15:00": "24500"}, PE: {"09:15:00": "181.60", "09:18:00": "260.05"}}
    graph = build(
        [start(), at_time("entry-condition-1", "09:16:00"), option_entry("entry-2", "PE", "sell"),
         at_time("exit-condition-2", "09:18:00", "exit_signal"), {"id": "exit-3", "type": "exit", "config": {}}],
        [("strategy-controller", "entry-condition-1"), ("entry-condition-1", "entry-2"),
         ("entry-2", "exit-condition-2"), ("exit-condition-2", "exit-3")],
    )
    # A clock that moves a second each time it is read: every tick is due, so every tick goes out.
    sink = StreamSink(SESSION, "user_wire", tick_rate=1, clock=itertools.count().__next__)
    envelopes = []

    def keep(envelope):
        if envelope.session_id == SESSION:
            envelopes.append(envelope)

    hub.observe(keep)
    try:
        engine = Engine(graph, scripted_day(series, until="09:20:00"), sink)
        while engine.step():
            sink.flush()  # as the persistence writer does after each commit
        sink.complete({"status": "completed", "diagnostics": {"events_history": {}, "current_state": {}},
                       "trades": {"summary": None, "trades": []}, "positions": []})
    finally:
        hub.unobserve(keep)
    return envelopes


def payloads(envelopes, kind):
    return [json.loads(e.plain) for e in envelopes if e.kind == kind]


def test_every_published_event_has_its_protocol_shape_compressed_or_not(published):
    for envelope in published:
        check(envelope.kind, json.loads(envelope.body(compress=True)), compressed=True)
        check(envelope.kind, json.loads(envelope.body(compress=False)), compressed=False)


def test_stored_events_go_out_numbered_in_the_order_the_engine_produced_them(published):
    stored = [e for e in published if e.n is not None]
    assert [e.n for e in stored] == list(range(1, len(stored) + 1))
    # Candles of a minute complete on the first tick of the next, before that tick's nodes run; the
    # last (09:20) completes when the day ends.
    assert [e.kind for e in stored] == [
        "node_events",                                         # 09:15:00 strategy started
        "candle_update",                                       # 09:16:00 the 09:15 candle
        "node_events", "position_event",                       #          signal + order, entry
        "candle_update", "candle_update",                      # 09:17, 09:18: the 09:16 and 09:17 candles
        "node_events", "position_event", "trade_update",       # 09:18:00 exit signal + exit
        "candle_update", "candle_update", "candle_update",     # 09:19, 09:20, end of day
        "session_complete",
    ]
    assert len(payloads(published, "tick_update")) == 301  # 09:15:00 to 09:20:00, one a second


def test_node_events_carry_the_order_with_its_money_as_two_place_strings(published):
    executions = {}
    for data in payloads(published, "node_events"):
        executions.update(data["diagnostics"]["events_history"])
    by_type = {(x["node_id"], x["event_type"]): x for x in executions.values()}
    assert list(by_type) == [("strategy-controller", "strategy_started"), ("entry-condition-1", "signal_emitted"),
                             ("entry-2", "order_placed"), ("exit-condition-2", "signal_emitted"),
                             ("exit-3", "exit_triggered")]

    [condition] = by_type["entry-condition-1", "signal_emitted"]["evaluated_conditions"]["condition_results"]
    assert condition == {"condition_type": "time_of_day_at_or_above", "operator": ">=", "result": True,
                         "current_value": "09:16:00", "threshold": "09:16:00"}

    order = by_type["entry-2", "order_placed"]
    assert (order["node_type"], order["timestamp"]) == ("EntryNode", "2024-10-29T09:16:00+05:30")
    assert order["order_details"] == {
        "order_id": "ord-1", "symbol": PE, "side": "sell", "quantity": 25, "lots": 1, "lot_size": 25,
        "order_type": "MARKET", "ltp": "181.60", "status": "FILLED", "price": "181.60",
        "charges": {"brokerage": "20.00", "stt": "5.00", "exchange_charges": "1.61", "sebi_fee": "0.00",
                    "stamp_duty": "0.00", "gst": "3.89", "total": "30.50"},
    }
    exit_ = by_type["exit-3", "exit_triggered"]
    assert exit_["positions"] == [{"position_id": "entry-2-pos1", "re_entry_num": 0, "symbol": PE, "quantity": 25,
                                   "price": "260.05", "order_id": "ord-2", "exit_reason": "exit_condition_met",
                                   "status": "CLOSED"}]


def test_position_events_and_the_trade_carry_the_hand_worked_money(published):
    entry, exit_ = payloads(published, "position_event")
    assert (entry["action"], entry["quantity"], entry["timestamp"]) == ("entry", 25, "2024-10-29T09:16:00+05:30")
    assert {k: entry["position"][k] for k in ("entry_price", "current_price", "status", "realized_pnl",
                                              "realized_pnl_gross", "unrealized_pnl", "charges")} == {
        "entry_price": "181.60", "current_price": "181.60", "status": "OPEN", "realized_pnl": "-30.50",
        "realized_pnl_gross": "0.00", "unrealized_pnl": "0.00", "charges": "30.50"}
    assert entry["pnl"] == {"realized_pnl": "-30.50", "unrealized_pnl": "0.00", "total_pnl": "-30.50"}

    assert (exit_["action"], exit_["quantity"]) == ("exit", 25)
    assert {k: exit_["position"][k] for k in ("exit_price", "current_price", "status", "quantity_remaining",
                                              "realized_pnl", "realized_pnl_gross", "charges")} == {
        "exit_price": "260.05", "current_price": None, "status": "CLOSED", "quantity_remaining": 0,
        "realized_pnl": "-2018.29", "realized_pnl_gross": "-1961.25", "charges": "57.04"}
    assert exit_["pnl"] == {"realized_pnl": "-2018.29", "unrealized_pnl": "0.00", "total_pnl": "-2018.29"}

    [update] = payloads(published, "trade_update")
    trade, summary = update["trades"]["trade"], update["trades"]["summary"]
    assert {k: trade[k] for k in ("trade_id", "re_entry_num", "entry_price", "exit_price", "pnl", "pnl_percent",
                                  "charges", "net_pnl", "duration_minutes", "status", "exit_reason",
                                  "entry_trigger")} == {
        "trade_id": "entry-2-pos1", "re_entry_num": 0, "entry_price": "181.60", "exit_price": "260.05",
        "pnl": "-1961.25", "pnl_percent": "-43.20", "charges": "57.04", "net_pnl": "-2018.29",
        "duration_minutes": 2.0, "status": "CLOSED", "exit_reason": "exit_condition_met", "entry_trigger": "entry-2"}
    # The exit's flow: the entry's (controller, entry signal, entry), then the exit signal and the exit.
    assert trade["exit_flow_ids"][:3] == trade["entry_flow_ids"] and len(trade["exit_flow_ids"]) == 5
    # Peak 0 before the entry; the worst point is after the exit, at -2018.29.
    assert summary == {"total_trades": 1, "total_pnl": "-2018.29", "gross_pnl": "-1961.25", "charges": "57.04",
                       "net_pnl": "-2018.29", "winning_trades": 0, "losing_trades": 1, "win_rate": "0.00",
                       "max_drawdown": "2018.29"}
    [complete] = payloads(published, "session_complete")
    assert complete["status"] == "completed" and complete["summary"] == summary


def test_ticks_carry_progress_changed_ltps_open_positions_and_pnl_as_numbers(published):
    ticks = {t["timestamp"][11:19]: t for t in payloads(published, "tick_update")}
    first, entered, exited, last = ticks["09:15:00"], ticks["09:16:00"], ticks["09:18:00"], ticks["09:20:00"]
    assert first["progress"] == {"ticks_processed": 1, "total_ticks": 301, "progress_percentage": 0.33}
    assert (first["ltp_updates"], first["open_positions"], first["active_nodes"]) == (
        {"NIFTY": 24500.0}, [], ["entry-condition-1"])
    # 61 of 301 ticks = 20.27%; the underlying has not moved, so no LTP goes out again.
    assert entered["progress"]["progress_percentage"] == 20.27 and entered["ltp_updates"] == {}
    assert entered["active_nodes"] == ["exit-condition-2"]
    # Seed 000's open position: one lot of 25 sold at 181.60, marked at 181.60 (the PE has not moved).
    assert entered["open_positions"] == [{"position_id": "entry-2-pos1", "re_entry_num": 0, "symbol": PE,
                                          "side": "sell", "quantity": 25, "entry_price": 181.6,
                                          "current_price": 181.6, "unrealized_pnl": 0.0}]
    assert entered["pnl_summary"] == {"realized_pnl": -30.50, "unrealized_pnl": 0.0, "total_pnl": -30.50,
                                      "closed_trades": 0, "open_trades": 1}
    assert exited["open_positions"] == [] and exited["active_nodes"] == []
    assert exited["pnl_summary"] == {"realized_pnl": -2018.29, "unrealized_pnl": 0.0, "total_pnl": -2018.29,
                                     "closed_trades": 1, "open_trades": 0}
    assert last["progress"] == {"ticks_processed": 301, "total_ticks": 301, "progress_percentage": 100.0}


def test_candles_carry_prices_as_numbers_and_their_indicators(published):
    candles = payloads(published, "candle_update")
    assert [c["timestamp"] for c in candles] == [f"2024-10-29T09:{m}:00+05:30" for m in range(15, 21)]
    assert {k: candles[0][k] for k in ("symbol", "timeframe", "open", "high", "low", "close", "indicators")} == {
        "symbol": "NIFTY", "timeframe": "1m", "open": 24500.0, "high": 24500.0, "low": 24500.0, "close": 24500.0,
        "indicators": {}}
