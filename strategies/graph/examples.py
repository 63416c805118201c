"""The example strategies shipped as data in ``strategies/examples/*.json``, and loading by name or path."""

from __future__ import annotations

import json
from pathlib import Path

EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "examples"

# The smallest useful graph, written by hand from docs/strategies.md: sell one lot of the ATM weekly call
# at 09:20. The API documentation shows it and the API tests post it.
ATM_SHORT_CALL = {
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


def example_names() -> list[str]:
    """Names of the shipped examples (file names without ``.json``), sorted."""
    return sorted(p.stem for p in EXAMPLES_DIR.glob("*.json"))


def load_example(name: str) -> dict:
    """Return the example called ``name`` as decoded JSON; KeyError naming the known ones if absent."""
    path = EXAMPLES_DIR / f"{name}.json"
    if not path.is_file():
        raise KeyError(f"no example strategy {name!r}; examples: {', '.join(example_names())}")
    return json.loads(path.read_text())


def load_strategy_source(name_or_path: str) -> dict:
    """Return a strategy graph as decoded JSON from an example name or a path to a JSON file."""
    path = Path(name_or_path)
    if path.suffix == ".json" or path.is_file():
        return json.loads(path.read_text())
    return load_example(name_or_path)
