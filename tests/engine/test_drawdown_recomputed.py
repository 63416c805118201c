"""One maximum drawdown: the report's, recomputed from the equity samples alone, is the engine's tick-level
``Summary.max_drawdown`` to the paisa, over whole runs of the example strategies on generated days (one
day, two days, and several sessions chained as the strategy report chains them).

Both are checked against a brute force written here: the engine is stepped tick by tick and its net
P&L (the account's realized + unrealized, the dashboard's ``total_pnl``) read after every tick; the
maximum drawdown is then the largest fall of those figures below their highest so far, which starts at 0.
The engine marks the P&L within a tick too (before its nodes act, after each exit fill), which the
brute force cannot see; on these runs no such mark is a peak or a trough of the largest fall. Where one
is (the scripted session A of tests/reports/expected.py: 969.32 before an exit signal's charges), the
report follows the engine, as tests/reports check by hand.
"""

from datetime import date

import pytest

from live_trading.engine.events import EquitySample, ListSink
from live_trading.engine.multiday import MultiDayEngine
from live_trading.marketdata.store import load_day
from live_trading.reports.statistics import Run, report
from strategies.graph import parse_graph
from strategies.graph.examples import load_example

pytestmark = pytest.mark.slow
DAYS = (date(2024, 10, 29), date(2024, 10, 30))
EXAMPLES = ("nifty_short_straddle", "nifty_opening_range_breakout", "nifty_rsi_reversal", "banknifty_iron_condor")


def stepped(name: str, days: int):
    """Run example ``name`` over the first ``days`` of DAYS, one tick a step; return its summary's
    maximum drawdown (paise), its equity samples and its net P&L after every tick (paise)."""
    graph = parse_graph(load_example(name))
    sink = ListSink()
    engine = MultiDayEngine(graph, [load_day(graph.underlying, d) for d in DAYS[:days]], sink)
    nets = []
    while True:
        more = engine.step()
        account = engine.engine.account()
        nets.append(account["realized_pnl"] + account["unrealized_pnl"])
        if not more:
            break
    engine.finish()
    summary = engine.summary()
    assert engine.status == "completed" and len(nets) == engine.total_ticks
    return int(summary.max_drawdown * 100), sink.of(EquitySample), nets


def brute_force(nets: list[int]) -> int:
    peak = worst = 0
    for net in nets:
        peak = max(peak, net)
        worst = max(worst, peak - net)
    return worst


def reported(*runs) -> int:
    """The report's maximum drawdown of runs (lists of samples), in paise."""
    figure = report([Run((), samples) for samples in runs])["statistics"]["max_drawdown"]
    return int(figure.replace(".", ""))


@pytest.fixture(scope="module")
def one_day():
    return {name: stepped(name, 1) for name in EXAMPLES}


@pytest.mark.parametrize("name", EXAMPLES)
def test_one_day_the_report_recomputes_the_engines_tick_level_drawdown(one_day, name):
    engine, samples, nets = one_day[name]
    assert engine > 0
    assert reported(samples) == engine == brute_force(nets)


@pytest.mark.parametrize("name", ["nifty_short_straddle", "nifty_rsi_reversal"])
def test_over_two_days_the_peak_carries_and_the_figures_still_agree(name):
    engine, samples, nets = stepped(name, 2)
    assert reported(samples) == engine == brute_force(nets)


def test_a_chain_of_sessions_adds_each_ones_offset_to_its_low_and_high(one_day):
    # As the strategy report chains sessions: each starts where the ones before it ended.
    chained, base = [], 0
    for name in EXAMPLES:
        nets = one_day[name][2]
        chained += [base + net for net in nets]
        base += nets[-1]
    assert base == sum(s[-1].net_pnl_paise for s in (one_day[name][1] for name in EXAMPLES))
    assert reported(*(one_day[name][1] for name in EXAMPLES)) == brute_force(chained)
    assert brute_force(chained) > max(one_day[name][0] for name in EXAMPLES)  # the chain is no one session's


def test_the_minute_closes_alone_would_miss_what_happens_within_a_minute(one_day):
    # Without the samples' ranges (a pair per sample: its time and net P&L) the report could only see
    # the minute closes; on these runs that is less than the engine's figure at least once.
    engine, samples, _ = one_day["nifty_short_straddle"]
    closes = [(s.ts, s.net_pnl_paise) for s in samples]
    assert reported(closes) < engine == reported(samples)
