"""Two hand-worked sessions on one scripted day, for the report tests.

The day (29 Oct 2024, NIFTY at 24,500 all along, so the at-the-money strike is 24,500; weekly expiry
31 Oct, lot 25) is scripted from 09:15:00 to 09:30:00; stored, it reads back as a whole session with the
last prices holding to 15:29:59. Every trade's gross P&L and charges are worked out by
hand below, from the prices and the contract-note rates in force that day (live_trading/engine/charges.py:
brokerage Rs 20 an order; STT 0.1% of sell premium, to the rupee; NSE 0.03503%; SEBI Rs 10/crore;
stamp 0.003% of buys; GST 18% of brokerage + NSE + SEBI; each to the paisa, half up).
"""


from tests.engine.scripted import at_time, graph_data, opt, option_entry, scripted_day, start

CE, PE = opt(24500, "CE"), opt(24500, "PE")

SERIES = {
    "NIFTY": {"09:15:00": "24500.00"},
    CE: {"09:15:00": "100.00", "09:18:00": "80.00", "09:20:00": "125.00", "09:22:00": "110.00"},
    PE: {"09:15:00": "100.00", "09:24:00": "40.00"},
}


def day():
    return scripted_day(SERIES, until="09:30:00")


# Session A: sell 2 lots of the CE at 09:16 with a 20% stop; at 09:18 an exit signal buys back half;
# the stop takes the rest; one re-entry after a stop, a minute later; squared off at 09:29.
PARTIAL_AND_RE_ENTRY = graph_data(
    [start(square_off="09:29:00"), at_time("sig", "09:16:00"),
     {**option_entry("entry-ce", "CE", "sell", lots=2, stop_loss={"type": "percent", "value": 20}), "name": "Short CE"},
     at_time("exit-sig", "09:18:00", "exit_signal"),
     {"id": "exit-half", "type": "exit", "name": "half", "config": {"quantity": {"type": "percent", "value": 50}}},
     {"id": "re-entry-ce", "type": "re_entry", "name": "again",
      "config": {"max_re_entries": 1, "on": ["stop_loss"], "wait_seconds": 60}}],
    [("strategy-controller", "sig"), ("sig", "entry-ce"), ("entry-ce", "exit-sig"), ("exit-sig", "exit-half"),
     ("entry-ce", "re-entry-ce"), ("re-entry-ce", "entry-ce")],
    name="Partial and re-entry",
)

# Session B: a short straddle, 1 lot a leg at 09:16; the PE's 50% target, the CE to the square-off.
STRADDLE = graph_data(
    [start(square_off="09:29:00"), at_time("sig", "09:16:00"),
     {**option_entry("entry-ce", "CE", "sell", stop_loss={"type": "percent", "value": 30}), "name": "Short CE"},
     {**option_entry("entry-pe", "PE", "sell", target={"type": "percent", "value": 50}), "name": "Short PE"}],
    [("strategy-controller", "sig"), ("sig", "entry-ce"), ("sig", "entry-pe")],
    name="Straddle",
)
