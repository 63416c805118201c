"""The example strategies shipped as data in ``strategies/examples/*.json``, and loading by name or path."""

from __future__ import annotations

import json
from pathlib import Path

EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "examples"


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
