"""Quiet stretches: a multi-day run that passes ticks on which nothing can happen in one go
(``MultiDayEngine.run``/``advance``) gives exactly the events of stepping every tick.

Each strategy runs twice over the same synthetic days, once ``step()`` by ``step()`` (the session
thread's way) and once with ``run()``; every event, equity samples and candles included, must be equal
field for field (a frozen dataclass's repr shows them all, exactly), and so must the summaries.
"""

from datetime import date

import pytest

from live_trading.engine.events import EquitySample, ListSink, TradeClosed
from live_trading.engine.multiday import MultiDayEngine
from live_trading.marketdata.store import load_day
from strategies.graph import parse_graph

pytestmark = pytest.mark.slow
WEEK = [date(2024, 10, 28), date(2024, 10, 29), date(2024, 10, 30), date(2024, 10, 31)]  # NIFTY weekly expiry Thu 31


@pytest.fixture(scope="module")
def week():
    return [load_day("NIFTY", d) for d in WEEK]


def _at(hhmm: str, day: str | None = None) -> dict:
    clock = [{"left": {"type": "time_of_day"}, "operator": ">=", "right": {"type": "value", "value": hhmm}}]
    if day is not None:
        clock.insert(0, {"left": {"type": "day_of_week"}, "operator": "==", "right": {"type": "value", "value": day}})
    return {"conditions": {"all": clock}}


def _strangle(*, holding="positional", max_loss=None, risk=None, exit_at=("14:45", "wed"), re_entry_wait=3600):
    """A short strangle two strikes out of the money sold at 09:20, each leg with ``risk`` (stop loss,
    target, trailing stop), both closed at ``exit_at`` (a time, a weekday) and sold again a leg at a time
    after a close or a stop, ``re_entry_wait`` seconds later."""
    start = {"underlying": "NIFTY", "start_time": "09:15", "square_off_time": "15:15", "holding": holding}
    if holding == "positional":
        start["positional_square_off"] = "end_of_range"
    if max_loss is not None:
        start["max_loss"] = max_loss
    risk = risk or {"stop_loss": {"type": "percent", "value": 60}}
    legs = [{"id": f"short-{r.lower()}", "type": "entry",
             "config": {"instrument": "option", "expiry": "current_weekly", "strike": {"rule": "otm", "offset": 2},
                        "right": r, "side": "sell", "lots": 1, **risk}} for r in ("CE", "PE")]
    again = [{"id": f"again-{r}", "type": "re_entry",
              "config": {"max_re_entries": 3, "on": ["stop_loss", "target", "trailing_stop", "exit_condition_met"],
                         "wait_seconds": re_entry_wait}} for r in ("ce", "pe")]
    nodes = [{"id": "start", "type": "start", "config": start},
             {"id": "at-0920", "type": "entry_signal", "config": _at("09:20")},
             *legs, *again,
             {"id": "close-time", "type": "exit_signal", "config": _at(*exit_at)},
             {"id": "close-both", "type": "exit", "config": {"positions": ["short-ce", "short-pe"]}}]
    edges = [("start", "at-0920"), ("at-0920", "short-ce"), ("at-0920", "short-pe"),
             ("short-ce", "again-ce"), ("again-ce", "short-ce"), ("short-pe", "again-pe"), ("again-pe", "short-pe"),
             ("short-ce", "close-time"), ("short-pe", "close-time"), ("close-time", "close-both")]
    return parse_graph({"format_version": 1, "name": "strangle", "nodes": nodes,
                        "edges": [{"from": a, "to": b} for a, b in edges]})


STRATEGIES = {  # name -> (graph, an exit reason its trades must include)
    "positional, stops, closed on Wednesday and sold again the next morning": (_strangle(), "stop_loss"),
    "positional, targets": (_strangle(risk={"stop_loss": {"type": "percent", "value": 80},
                                            "target": {"type": "percent", "value": 30}}), "target"),
    "positional, the strategy's max loss reached an hour into a held stretch": (_strangle(max_loss="800"), "max_loss"),
    "positional, trailing stops (never quiet with a position open)": (
        _strangle(risk={"trailing_stop": {"type": "percent", "value": 40}}), "trailing_stop"),
    "intraday, closed at 14:45 every day, re-entered a minute after a stop": (
        _strangle(holding="intraday", exit_at=("14:45", None), re_entry_wait=60), "exit_condition_met"),
}


def _events(graph, days, stepped: bool):
    sink = ListSink()
    engine = MultiDayEngine(graph, days, sink)
    if stepped:
        while engine.step():
            pass
        engine.finish()
    else:
        engine.run()
    return [repr(e) for e in sink.events], engine.summary(), sink


@pytest.mark.parametrize("name", STRATEGIES)
def test_passing_quiet_stretches_gives_the_events_of_stepping_every_tick(name, week):
    graph, reason = STRATEGIES[name]
    stepped, stepped_summary, sink = _events(graph, week, stepped=True)
    passed, passed_summary, _ = _events(graph, week, stepped=False)
    # the strategy trades, so stretches start and end around its orders, as the name says
    assert reason in {e.trade.exit_reason for e in sink.of(TradeClosed)}
    assert len(sink.of(EquitySample)) == 4 * 375  # a minute each, 09:16 ... 15:30
    assert passed == stepped
    assert passed_summary == stepped_summary


def test_a_held_strangle_waiting_for_its_exit_time_is_quiet_until_then(week):
    # Arrange: step the first day to 10:00, the strangle sold at 09:20 and the exit signal waiting
    # for Wednesday 14:45 (it is Monday).
    engine = MultiDayEngine(_strangle(risk={"stop_loss": {"type": "percent", "value": 500}}), week)
    while engine.next_timestamp() < engine.engine.market.timestamps[0] + 45 * 60:
        engine.step()
    day = engine.engine
    assert len(day.store.open) == 2
    # Act
    end = day.quiet_until()
    # Assert: quiet up to the day's last row, which step() keeps for the close.
    assert end == day.total_ticks - 1
