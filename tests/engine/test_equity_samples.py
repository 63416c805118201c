"""The session's P&L curve: the multi-day engine samples the dashboard's P&L at every exchange minute's
close and at the end, stepped tick by tick here and compared with the engine's own snapshots."""

from datetime import date
from decimal import Decimal

import pytest

from live_trading.engine.events import EquitySample, ListSink, SessionComplete
from live_trading.engine.money import iso
from live_trading.engine.multiday import MultiDayEngine
from live_trading.marketdata.store import load_day
from strategies.graph import parse_graph
from strategies.graph.examples import load_example

pytestmark = pytest.mark.slow
DAY = date(2024, 10, 29)
NEXT_DAY = date(2024, 10, 30)


@pytest.fixture(scope="module")
def days():
    return [load_day("NIFTY", DAY), load_day("NIFTY", NEXT_DAY)]


def minute(ts: int) -> str:
    return iso(ts)[:16]  # "2024-10-29T09:15": the exchange minute a tick falls in


def figures(snapshot: dict) -> dict:
    """The dashboard's P&L in a snapshot, and every charge paid so far (the positions', closed ones too)."""
    pnl = snapshot["gps_data"]["pnl"]
    charges = sum((Decimal(p["charges"]) for p in snapshot["gps_data"]["positions"]), Decimal("0.00"))
    return {"net_pnl": pnl["total_pnl"], "realized_pnl": pnl["realized_pnl"],
            "unrealized_pnl": pnl["unrealized_pnl"], "charges": f"{charges:.2f}"}


def step_through(engine, ticks=None) -> list:
    """Step ``engine`` (all of it, or ``ticks`` ticks), noting before each tick that opens a new minute
    what the dashboard showed after the previous minute's last tick: [(exchange time, figures)]."""
    expected = []
    last = None
    while (ticks is None or ticks > 0) and (ts := engine.next_timestamp()) is not None:
        if last is not None and minute(ts) != minute(last):
            closes = iso(last - last % 60 + 60)
            expected.append((closes, figures(engine.snapshot())))
        engine.step()
        last = ts
        ticks = None if ticks is None else ticks - 1
    return expected, last


def samples(sink) -> list:
    return [(s["timestamp"], {k: v for k, v in s.items() if k != "timestamp"})
            for s in (e.to_dict() for e in sink.of(EquitySample))]


def test_a_whole_day_is_sampled_at_every_minute_close_and_its_end_is_the_final_net_pnl(days):
    sink = ListSink()
    engine = MultiDayEngine(parse_graph(load_example("nifty_short_straddle")), days[:1], sink)

    expected, last = step_through(engine)
    engine.finish()

    summary = sink.of(SessionComplete)[0].summary
    assert summary.total_trades > 0
    got = samples(sink)
    assert len(got) == 375  # 09:16:00 ... 15:29:00, and 15:30:00 after the last tick, 15:29:59
    assert got[:-1] == expected
    assert got[-1] == ("2024-10-29T15:30:00+05:30", {
        "net_pnl": str(summary.net_pnl), "realized_pnl": str(summary.net_pnl), "unrealized_pnl": "0.00",
        "charges": str(summary.charges)})
    assert iso(last + 1) == got[-1][0]
    assert any(s["unrealized_pnl"] != "0.00" for _, s in got), "positions were open during the day"


def test_a_stopped_session_ends_its_curve_one_second_after_its_last_tick(days):
    sink = ListSink()
    engine = MultiDayEngine(parse_graph(load_example("nifty_short_straddle")), days[:1], sink)

    expected, last = step_through(engine, ticks=400)  # 09:15:00 to 09:21:39, both legs open since 09:20
    engine.finish()

    done = sink.of(SessionComplete)[0]
    assert done.status == "stopped"
    got = samples(sink)
    assert [t for t, _ in got] == [f"2024-10-29T09:{m}:00+05:30" for m in range(16, 22)] + ["2024-10-29T09:21:40+05:30"]
    assert got[:-1] == expected and got[-1][0] == iso(last + 1)
    assert got[-1][1]["net_pnl"] == str(done.summary.net_pnl) and got[-1][1]["unrealized_pnl"] == "0.00"
    assert expected[-1][1]["unrealized_pnl"] != "0.00", "at 09:21:00 both legs were open"


def test_a_two_day_session_closes_the_first_days_last_minute_and_goes_on(days):
    sink = ListSink()
    engine = MultiDayEngine(parse_graph(load_example("nifty_short_straddle")), days, sink)

    engine.run()

    got = samples(sink)
    times = [t for t, _ in got]
    assert len(got) == 2 * 375
    assert times[374] == "2024-10-29T15:30:00+05:30" and times[375] == "2024-10-30T09:16:00+05:30"
    assert times == sorted(times) and len(set(times)) == len(times)
    assert got[-1][1]["net_pnl"] == str(engine.summary().net_pnl)
    first_day = [t for t in engine.engine.store.trades if iso(t.exit_time).startswith("2024-10-29")]
    assert 0 < len(first_day) < engine.summary().total_trades
    closed_first_day = Decimal(sum(t.net_pnl for t in first_day)) / 100
    assert got[374][1] == {"net_pnl": f"{closed_first_day:.2f}", "realized_pnl": f"{closed_first_day:.2f}",
                           "unrealized_pnl": "0.00", "charges": f"{Decimal(sum(t.charges for t in first_day)) / 100:.2f}"}


def test_a_session_stopped_between_its_days_ends_at_the_first_days_close(days):
    sink = ListSink()
    engine = MultiDayEngine(parse_graph(load_example("nifty_short_straddle")), days, sink)
    for _ in range(22_500):
        engine.step()

    engine.finish()

    got = samples(sink)
    assert engine.status == "stopped" and engine.ticks_processed == 22_500  # no tick of the second day
    assert len(got) == 375 and got[-1][0] == "2024-10-29T15:30:00+05:30"
