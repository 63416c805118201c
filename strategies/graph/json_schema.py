"""The JSON Schema of a strategy graph (format version 1), built from the vocabulary in ``schema.py``.

It states the shape: which keys each object takes (no others), node types, id patterns, the format
version, sizes. Cross-field rules (edges between allowed types, times in order, operands of the right
kind) are the validator's (``validate.py``), which remains the authority: every graph it accepts fits
this schema, not every graph that fits is valid. Plain data, no Django.
"""

from __future__ import annotations

from strategies.graph import schema

MAX_NAME_LENGTH = 120


def _id() -> dict:
    # The validator's NODE_ID_RE, anchored for JSON Schema (ECMA-262: `$` is the end of the text).
    return {"type": "string", "pattern": schema.NODE_ID_RE.pattern}


def _node(node_type: str) -> dict:
    return {
        "type": "object",
        "required": ["id", "type"],
        "additionalProperties": False,
        "properties": {
            "id": _id(),
            "type": {"type": "string", "enum": [node_type]},
            "name": {"type": "string", "maxLength": MAX_NAME_LENGTH},
            "config": {
                "type": "object",
                "description": f"The {node_type} node's settings (docs/strategies.md).",
                "additionalProperties": False,
                "properties": {key: {} for key in sorted(schema.CONFIG_KEYS[node_type])},
            },
            "position": {"description": "Where an editor draws the node; kept, not interpreted."},
        },
    }


def graph_json_schema(max_nodes: int) -> dict:
    """The schema of a graph of at most ``max_nodes`` nodes, as an OpenAPI 3.0 / JSON Schema object."""
    return {
        "type": "object",
        "description": "A strategy graph, format version 1 (docs/strategies.md).",
        "required": ["format_version", "name", "nodes"],
        "additionalProperties": False,
        "properties": {
            "format_version": {"type": "integer", "enum": [schema.FORMAT_VERSION]},
            "name": {"type": "string", "minLength": 1, "maxLength": MAX_NAME_LENGTH},
            "description": {"type": "string"},
            "nodes": {
                "type": "array",
                "minItems": 1,
                "maxItems": max_nodes,
                "items": {"oneOf": [_node(t) for t in schema.NODE_TYPES]},
            },
            "edges": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": sorted(schema.EDGE_KEYS),
                    "additionalProperties": False,
                    "properties": {key: _id() for key in sorted(schema.EDGE_KEYS)},
                },
            },
        },
    }
