"""The small valid graph the API tests post, the one the API docs show (Bearer-token clients: tests/conftest.py)."""

import copy

from strategies.graph.examples import ATM_SHORT_CALL

GRAPH = ATM_SHORT_CALL


def graph(**changes):
    """Return a fresh copy of GRAPH with top-level ``changes``."""
    g = copy.deepcopy(GRAPH)
    g.update(changes)
    return g
