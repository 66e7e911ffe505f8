"""The read models stay on their side: SQL lives in reporting/, pulsehub/ only wires it up."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
QUERY_BUILDERS = {"select", "func", "and_", "or_", "not_", "case", "update", "delete", "insert"}


def imports(package: str) -> Iterator[tuple[Path, str, set[str]]]:
    """(file, imported module, names taken from it) for every import in a package."""
    for path in sorted((ROOT / package).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield path, alias.name, set()
            elif isinstance(node, ast.ImportFrom) and node.module:
                yield path, node.module, {alias.name for alias in node.names}


def test_reporting_never_imports_the_wiring() -> None:
    wrong = [f"{p.name}: {m}" for p, m, _ in imports("reporting") if m.split(".")[0] == "pulsehub"]
    assert wrong == []


@pytest.mark.parametrize("builder", sorted(QUERY_BUILDERS))
def test_the_wiring_builds_no_queries(builder: str) -> None:
    wrong = [
        str(p.relative_to(ROOT))
        for p, module, names in imports("pulsehub")
        if module.split(".")[0] == "sqlalchemy" and builder in names
    ]
    assert wrong == [], f"move the query into reporting/: {wrong}"
