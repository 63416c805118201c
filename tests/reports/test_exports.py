"""The export files' builder (``live_trading.reports.exports``), pure: a hand-made two-day run split into
its days' files, with each day's summary worked by hand."""

import gzip
import json
from datetime import date, datetime

import pytest

from live_trading.reports.exports import DIAGNOSTICS, POSITIONS, TRADES, decode, encode, exports

DAY1, DAY2 = "2024-10-29", "2024-10-30"


def at(day: str, hms: str) -> str:
    return f"{day}T{hms}+05:30"


def ts(day: str, hms: str) -> int:
    return int(datetime.fromisoformat(at(day, hms)).timestamp())


def execution(execution_id: str, node_id: str, when: str) -> dict:
    return {"execution_id": execution_id, "node_id": node_id, "timestamp": when, "event_type": "x"}


def trade(trade_id: str, day: str, pnl: str, charges: str, net: str) -> dict:
    return {"trade_id": trade_id, "position_id": trade_id, "entry_node_id": "entry", "exit_reason": "target",
            "entry_time": at(day, "09:16:00"), "exit_time": at(day, "09:20:00"), "pnl": pnl, "charges": charges,
            "net_pnl": net}


def position(position_id: str, day: str, status: str) -> dict:
    return {"position_id": position_id, "re_entry_num": 0, "entry_time": at(day, "09:16:00"), "status": status}


EXECUTIONS = [execution("e1", "start", at(DAY1, "09:15:00")), execution("e2", "sig", at(DAY1, "09:16:00")),
              execution("e3", "start", at(DAY2, "09:15:00"))]
TRADES_ = [trade("p1", DAY1, "-40.00", "10.00", "-50.00"), trade("p2", DAY2, "40.00", "10.00", "30.00")]
POSITIONS_ = [position("p1", DAY1, "OPEN"), position("p1", DAY1, "CLOSED"), position("p2", DAY2, "CLOSED")]
# Net P&L in paise with the range since the sample before (low, high, drop). Day 1 loses 50 at 09:16 and
# ends at -50. Day 2 opens at -50, rises to -10 and falls back to -20: within the day, a drawdown of 10
# (a curve read from 0 would see the day's -50 start as a drawdown of 50).
SAMPLES = [(ts(DAY1, "09:16:00"), 0, 0, 0, 0), (ts(DAY1, "09:17:00"), -5000, -5000, 0, 5000),
           (ts(DAY1, "15:30:00"), -5000, -5000, -5000, 0),
           (ts(DAY2, "09:16:00"), -5000, -5000, -5000, 0), (ts(DAY2, "09:17:00"), -2000, -5000, -1000, 1000),
           (ts(DAY2, "15:30:00"), -2000, -2000, -2000, 0)]


def build():
    return exports([date(2024, 10, 29), date(2024, 10, 30)], EXECUTIONS, TRADES_, POSITIONS_, SAMPLES)


def test_each_day_has_its_executions_and_the_nodes_state_at_its_end():
    files = build()
    assert list(files) == [DAY1, DAY2]
    assert list(files[DAY1][DIAGNOSTICS]["events_history"]) == ["e1", "e2"]
    assert list(files[DAY2][DIAGNOSTICS]["events_history"]) == ["e3"]
    # 'sig' did nothing on day 2: its state is still day 1's execution.
    assert files[DAY2][DIAGNOSTICS]["current_state"] == {"start": EXECUTIONS[2], "sig": EXECUTIONS[1]}


def test_each_day_has_the_trades_that_closed_that_day_and_their_summary():
    files = build()
    assert files[DAY1][TRADES] == {"date": DAY1, "trades": [TRADES_[0]], "summary": {
        "total_trades": 1, "total_pnl": "-50.00", "gross_pnl": "-40.00", "charges": "10.00", "net_pnl": "-50.00",
        "winning_trades": 0, "losing_trades": 1, "win_rate": "0.00", "max_drawdown": "50.00"}}
    assert files[DAY2][TRADES] == {"date": DAY2, "trades": [TRADES_[1]], "summary": {
        "total_trades": 1, "total_pnl": "30.00", "gross_pnl": "40.00", "charges": "10.00", "net_pnl": "30.00",
        "winning_trades": 1, "losing_trades": 0, "win_rate": "100.00", "max_drawdown": "10.00"}}


def test_each_day_lists_the_positions_entered_that_day_as_last_changed():
    files = build()
    assert files[DAY1][POSITIONS] == [POSITIONS_[1]]
    assert files[DAY2][POSITIONS] == [POSITIONS_[2]]


def test_a_day_without_activity_has_empty_files():
    files = exports([date(2024, 10, 31)], [], [], [], [])
    assert files["2024-10-31"][TRADES]["trades"] == []
    assert files["2024-10-31"][TRADES]["summary"]["total_trades"] == 0
    assert files["2024-10-31"][DIAGNOSTICS] == {"events_history": {}, "current_state": {}}
    assert files["2024-10-31"][POSITIONS] == []


def test_gz_files_are_gzip_json_and_the_same_content_gives_the_same_bytes():
    body = build()[DAY1][TRADES]
    data = encode(TRADES, body)
    assert json.loads(gzip.decompress(data)) == body
    assert encode(TRADES, body) == data  # no timestamp in the gzip header
    assert json.loads(encode(POSITIONS, [1])) == [1]
    assert decode(TRADES, data) == body
    with pytest.raises(ValueError):
        decode(TRADES, b"not gzip")
