"""A small valid graph for the API tests (the Bearer-token clients are in tests/conftest.py)."""

import copy

# A small valid graph, written by hand from docs/strategies.md: sell one lot of the ATM weekly call at 09:20.
GRAPH = {
    "format_version": 1,
    "name": "ATM short call",
    "nodes": [
        {
            "id": "start",
            "type": "start",
            "config": {"underlying": "NIFTY", "start_time": "09:20", "square_off_time": "15:15"},
        },
        {
            "id": "sell-ce",
            "type": "entry",
            "config": {
                "instrument": "option",
                "expiry": "current_weekly",
                "strike": {"rule": "atm", "offset": 0},
                "right": "CE",
                "side": "sell",
                "lots": 1,
            },
        },
    ],
    "edges": [{"from": "start", "to": "sell-ce"}],
}


def graph(**changes):
    """Return a fresh copy of GRAPH with top-level ``changes``."""
    g = copy.deepcopy(GRAPH)
    g.update(changes)
    return g
