"""Writing a benchmark's section of docs/benchmarks.md between its own markers (``--write-doc``)."""

from __future__ import annotations

from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"


def write_section(name: str, section: str, doc: Path = DOC) -> None:
    """Replace the text between ``<!-- NAME:start -->`` and ``<!-- NAME:end -->``, or append it, and
    say where it went."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    block = f"{start}\n{section}\n{end}"
    text = doc.read_text() if doc.exists() else "# Benchmarks\n"
    if start in text and end in text:
        before, rest = text.split(start, 1)
        text = before + block + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    doc.write_text(text)
    print(f"\nwritten to {doc.relative_to(doc.parents[1])}")
