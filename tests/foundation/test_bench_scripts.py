"""Every benchmark script still imports: they run only by hand (docs/benchmarks.md), so a name they import
that moved or went away would otherwise show only when someone next measures (``bench_engine.py`` imported
``IST_OFFSET`` from ``money`` for a while after it had moved)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
SCRIPTS = sorted(BENCH.glob("bench_*.py"))


def test_there_are_benchmarks_to_check():
    assert len(SCRIPTS) >= 9, SCRIPTS


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_a_benchmark_script_imports_and_has_a_main_guard(script, monkeypatch):
    text = script.read_text()
    assert 'if __name__ == "__main__":' in text, "it would run on import"
    monkeypatch.syspath_prepend(str(BENCH))
    spec = importlib.util.spec_from_file_location(f"bench_check_{script.stem}", script)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)  # its imports, not its main
    finally:
        sys.modules.pop(spec.name, None)
    assert callable(getattr(module, "main", None)), "a main() the guard calls"
