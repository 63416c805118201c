"""What each event puts on the wire (``to_dict``), checked against the seeds' field names and formats."""

import json
import re

from live_trading.engine.engine import Engine
from live_trading.engine.events import (
    CandleCompleted,
    ListSink,
    NodeExecuted,
    PositionEvent,
    SessionComplete,
    TickSnapshot,
    TradeClosed,
)
from tests.engine.scripted import at_time, build, opt, option_entry, scripted_day, start

MONEY = re.compile(r"^-?\d+\.\d\d$")
ISO = re.compile(r"^2024-10-29T\d\d:\d\d:\d\d\+05:30$")


def _events():
    series = {"NIFTY": {"09:15:00": "24500"}, opt(24500, "PE"): {"09:15:00": "181.60", "09:18:00": "260.05"}}
    g = build(
        [start(), at_time("entry-condition-1", "09:16:00"), option_entry("entry-2", "PE", "sell"),
         at_time("exit-condition-2", "09:18:00", "exit_signal"), {"id": "exit-3", "type": "exit", "config": {}}],
        [("strategy-controller", "entry-condition-1"), ("entry-condition-1", "entry-2"), ("entry-2", "exit-condition-2"),
         ("exit-condition-2", "exit-3")],
    )
    sink = ListSink(wants_ticks=True)
    Engine(g, scripted_day(series, until="09:20:00"), sink).run()
    return sink


def test_every_event_is_json_ready_and_keeps_the_seed_field_names():
    sink = _events()
    for e in sink.events:
        json.dumps(e.to_dict())

    order = next(e for e in sink.of(NodeExecuted) if e.event_type == "order_placed").to_dict()
    assert {"execution_id", "parent_execution_id", "timestamp", "event_type", "node_id", "node_name", "node_type",
            "order_details"} <= set(order)
    assert order["node_type"] == "EntryNode" and ISO.match(order["timestamp"])
    assert order["order_details"]["symbol"] == "NIFTY:2024-10-31:OPT:24500:PE"
    assert (order["order_details"]["side"], order["order_details"]["quantity"], order["order_details"]["price"]) == ("sell", 25, "181.60")

    signal = next(e for e in sink.of(NodeExecuted) if e.event_type == "signal_emitted").to_dict()
    [result] = signal["evaluated_conditions"]["condition_results"]
    assert result == {"condition_type": "time_of_day_at_or_above", "operator": ">=", "result": True,
                      "current_value": "09:16:00", "threshold": "09:16:00"}

    trade_update = sink.of(TradeClosed)[0].to_dict()
    trade = trade_update["trade"]
    # The seed's own example: sold at 181.60, bought back at 260.05.
    assert (trade["trade_id"], trade["re_entry_num"], trade["pnl"], trade["pnl_percent"]) == ("entry-2-pos1", 0, "-1961.25", "-43.20")
    assert trade["status"] == "CLOSED" and trade["exit_reason"] == "exit_condition_met" and trade["entry_trigger"] == "entry-2"
    for k in ("entry_price", "exit_price", "pnl", "charges", "net_pnl"):
        assert MONEY.match(trade[k]), k
    assert trade["exit_flow_ids"][:3] == trade["entry_flow_ids"] and len(trade["exit_flow_ids"]) == 5
    assert set(trade_update["summary"]) >= {"total_trades", "total_pnl", "winning_trades", "losing_trades", "win_rate"}

    entry, exit_ = (e.to_dict() for e in sink.of(PositionEvent))
    assert (entry["action"], exit_["action"]) == ("entry", "exit")
    assert exit_["position"]["status"] == "CLOSED" and MONEY.match(exit_["pnl"]["realized_pnl"])
    assert {"quantity_total", "quantity_closed", "quantity_remaining", "entry_flow_ids", "exit_flow_ids"} <= set(exit_["position"])

    tick = sink.of(TickSnapshot)[-1].to_dict()
    assert {"timestamp", "current_time", "progress", "active_nodes", "ltp_updates", "open_positions", "pnl_summary"} <= set(tick)
    candle = sink.of(CandleCompleted)[0].to_dict()
    assert candle["timeframe"] == "1m" and candle["open"] == 24500.0 and ISO.match(candle["timestamp"])
    done = sink.of(SessionComplete)[0].to_dict()
    assert done["status"] == "completed" and done["summary"]["total_trades"] == 1
