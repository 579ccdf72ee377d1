"""The import rules ARCHITECTURE.md states, read from the source: a change that breaks a layer
fails here, so the map stays true."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "kb_tools"
GROUND_FLOOR = {"errors", "problems", "records", "safe_yaml", "slugs", "config", "httpapi"}


def _imports() -> dict[str, set[str]]:
    """Module (dotted, relative to kb_tools) → the kb_tools modules it imports, at any depth."""
    found: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        module = ".".join(path.relative_to(PACKAGE).with_suffix("").parts)
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("kb_tools"):
                base = node.module.removeprefix("kb_tools").lstrip(".")
                names.update(f"{base}.{a.name}".lstrip(".") if not base else base for a in node.names)
            elif isinstance(node, ast.Import):
                names.update(a.name.removeprefix("kb_tools.") for a in node.names if a.name.startswith("kb_tools."))
        found[module] = names
    return found


IMPORTS = _imports()


def _violations(modules: str, forbidden) -> list[str]:
    return sorted(f"{m} imports {t}" for m, targets in IMPORTS.items()
                  if m == modules or m.startswith(modules + ".")
                  for t in targets if forbidden(m, t))


def test_the_ground_floor_imports_only_the_ground_floor():
    bad = [f"{m} imports {t}" for m, targets in IMPORTS.items() if m in GROUND_FLOOR
           for t in targets if t.split(".")[0] not in GROUND_FLOOR]
    assert bad == []


@pytest.mark.parametrize("package, others", [
    ("search", ("video", "analytics", "service", "plugin", "project")),
    ("content", ("video", "search", "analytics", "service", "plugin")),
    ("video", ("search", "analytics", "service", "plugin")),
    ("analytics", ("service", "plugin", "video")),
])
def test_a_library_does_not_import_its_neighbours(package, others):
    # A package's cli.py is an entry point (it may load the Project); the library may not.
    def forbidden(module: str, target: str) -> bool:
        return not module.endswith(".cli") and target.split(".")[0] in others
    assert _violations(package, forbidden) == []


def test_search_reads_only_the_language_rules_of_content():
    bad = _violations("search", lambda m, t: t.startswith("content") and t.split(".")[:2] != ["content", "languages"])
    assert bad == []


def test_the_rule_reader_sees_imports():
    # The reader itself: a check that finds nothing because it reads nothing would pass always.
    assert "content.languages" in IMPORTS["search.analyzer"]
    assert any(t.startswith("search") for t in IMPORTS["plugin"])
