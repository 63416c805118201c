"""Strategy graphs, format version 1: the typed model, the validator and the shipped examples.

Plain Python, no Django: ``validate_graph(data)`` returns every error with its path;
``parse_graph(data)`` returns a ``StrategyGraph`` or raises ``InvalidGraph``. The format is
documented in docs/strategies.md.
"""

from strategies.graph.model import GraphError, InvalidGraph, StrategyGraph
from strategies.graph.parse import parse_graph
from strategies.graph.validate import validate_graph

__all__ = ["GraphError", "InvalidGraph", "StrategyGraph", "parse_graph", "validate_graph"]
