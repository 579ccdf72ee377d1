"""Where code lives: the package-data globs of pyproject.toml match the tree, and test modules
share helpers through plain modules under tests/, never by importing one another."""

from __future__ import annotations

import ast
import tomllib

from tests.projects import ROOT

PACKAGE = ROOT / "kb_tools"
# Files in the package folder that are documentation for readers of the source, not run-time data.
NOT_DATA = {"analytics/README.md"}


def package_data_globs() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return config["tool"]["setuptools"]["package-data"]["kb_tools"]


def data_files() -> set[str]:
    return {p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*")
            if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts}


def test_every_package_data_glob_matches_a_file() -> None:
    empty = [g for g in package_data_globs() if not any(p.is_file() for p in PACKAGE.glob(g))]
    assert empty == [], f"pyproject.toml ships globs that match nothing: {empty}"


def test_every_data_file_the_package_reads_is_shipped() -> None:
    shipped = {p.relative_to(PACKAGE).as_posix() for g in package_data_globs() for p in PACKAGE.glob(g)}
    assert data_files() - NOT_DATA - shipped == set()



def test_test_modules_import_no_other_test_module() -> None:
    tests = ROOT / "tests"
    offenders = []
    for path in sorted(tests.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else \
                [a.name for a in node.names] if isinstance(node, ast.Import) else []
            offenders += [f"{path.name}:{node.lineno} imports {name}" for name in names
                          if name.startswith(("tests.test_", "tests.conftest"))
                          or (name.startswith("test_") and (tests / f"{name}.py").exists())]
    assert offenders == [], "move shared helpers to a plain module under tests/ (see tests/conftest.py)"
