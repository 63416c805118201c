"""A sink that keeps only some ticks: the engine builds snapshots only when one is due, and each carries
every LTP change since the previous one."""

from live_trading.engine.engine import Engine
from live_trading.engine.events import FanoutSink, ListSink, TickSnapshot
from tests.engine.scripted import build, opt, option_entry, scripted_day, start


class EveryThirdTick(ListSink):
    def __init__(self):
        super().__init__(wants_ticks=True)
        self.asked = 0

    def tick_due(self) -> bool:
        self.asked += 1
        return self.asked % 3 == 1  # ticks 1, 4, 7, ...


def day():
    ce = opt(24300, "CE")
    return scripted_day({
        "NIFTY": {"09:15:00": "24300.00", "09:15:01": "24301.00", "09:15:05": "24302.50"},
        ce: {"09:15:00": "100.00", "09:15:02": "101.00", "09:15:03": "100.00"},
    }, until="09:15:08"), ce


def buy_the_call():
    return build([start(), option_entry("buy-ce", "CE", "buy")], [("strategy-controller", "buy-ce")])


def test_snapshots_are_built_only_when_due_and_carry_changes_since_the_last():
    market, ce = day()
    sink = EveryThirdTick()
    engine = Engine(buy_the_call(), market, sink)

    engine.run()

    ticks = sink.of(TickSnapshot)
    assert sink.asked == 9
    # 1, 4, 7 when due, and after the last tick (9) the state the session ended in, whatever is due:
    # the call squared off at the session's end.
    assert [t.ticks_processed for t in ticks] == [1, 4, 7, 9]
    opened = ticks[0].open_positions[0]
    assert (opened.symbol, opened.side) == (ce, "buy"), "the call is bought on the first tick"
    # Tick 1 (09:15:00): the underlying and the call just bought, at their first prices.
    assert ticks[0].ltp_updates == (("NIFTY", 2430000), (ce, 10000))
    # Tick 4 (09:15:03): NIFTY moved since 09:15:00; the call went to 101 at :02 and back to 100 at :03,
    # so against what the client last got it did not change.
    assert ticks[1].ltp_updates == (("NIFTY", 2430100),)
    # Tick 7 (09:15:06): NIFTY moved again; the call did not.
    assert ticks[2].ltp_updates == (("NIFTY", 2430250),)
    # The end (09:15:08): nothing open, one trade closed, no price changed since 09:15:06.
    assert (ticks[3].open_positions, ticks[3].closed_trades, ticks[3].ltp_updates) == ((), 1, ())


def test_the_dashboard_snapshot_lists_the_ltps_of_the_underlying_and_held_symbols_only():
    market, ce = day()
    engine = Engine(buy_the_call(), market, ListSink())
    engine.run()
    assert set(engine.snapshot()["market_data"]["ltp_store"]) == {"NIFTY", ce}


def test_a_sink_without_tick_due_gets_every_tick_and_fanout_asks_only_coalescing_sinks():
    market, ce = day()
    every = ListSink(wants_ticks=True)
    Engine(buy_the_call(), market, FanoutSink(ListSink(), every)).run()
    # every tick, then the end state after the square-off (the call was still held)
    assert [t.ticks_processed for t in every.of(TickSnapshot)] == [*range(1, 10), 9]
    assert every.of(TickSnapshot)[3].ltp_updates == ((ce, 10000),), "09:15:03: the call is back at 100"

    market, _ = day()
    some = EveryThirdTick()
    fan = FanoutSink(ListSink(), some)
    Engine(buy_the_call(), market, fan).run()
    assert [t.ticks_processed for t in some.of(TickSnapshot)] == [1, 4, 7, 9]


def test_a_sink_that_wants_node_diagnostics_gets_each_active_signals_condition_values_per_tick():
    market = scripted_day({"NIFTY": {"09:15:00": "24300.00", "09:15:01": "24301.00", "09:15:05": "24302.50"}},
                          until="09:15:08")
    signal = {"id": "sig", "type": "entry_signal", "name": "sig", "config": {"conditions": {"all": [
        {"left": {"type": "underlying_ltp"}, "operator": ">", "right": {"type": "value", "value": "24301"}}]}}}
    def graph():
        return build([start(), signal, option_entry("buy-ce", "CE", "buy")],
                     [("strategy-controller", "sig"), ("sig", "buy-ce")])

    class Diagnosing(ListSink):
        wants_node_diagnostics = True

    diagnosing, plain = Diagnosing(wants_ticks=True), ListSink(wants_ticks=True)
    Engine(graph(), market, FanoutSink(ListSink(), diagnosing)).run()
    Engine(graph(), scripted_day({"NIFTY": {"09:15:00": "24300.00"}}, until="09:15:08"), plain).run()

    def condition(value):
        return ("sig", {"mode": "all", "condition_results": [{
            "condition_type": "underlying_ltp_above", "operator": ">", "result": False,
            "current_value": value, "threshold": 24301.0}]})

    # 09:15:00 NIFTY 24300, 09:15:01-04 24301 (not above 24301); at 09:15:05 (24302.50) the signal fires
    # and is no longer active, so from the sixth tick on there is nothing to show.
    assert [t.node_diagnostics for t in diagnosing.of(TickSnapshot)] == [
        (condition(24300.0),), *[(condition(24301.0),)] * 4, (), (), (), ()]
    assert plain.of(TickSnapshot) and all(t.node_diagnostics == () for t in plain.of(TickSnapshot))  # not asked
