"""The declared dependencies are exactly the third-party packages the code imports."""

from __future__ import annotations

import ast
import re
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[1]


def _imported_top_level_names() -> set[str]:
    names: set[str] = set()
    for path in (ROOT / "meshreport").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                names.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - {"meshreport", "__future__"}


def _declared() -> set[str]:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    return {re.split(r"[<>=!~\[; ]", d, maxsplit=1)[0].lower() for d in deps}


def test_declared_dependencies_are_the_imported_ones():
    dists = packages_distributions()
    imported = set()
    for name in _imported_top_level_names():
        assert name in dists, f"{name} is imported but no installed distribution provides it"
        imported.update(d.lower() for d in dists[name])
    assert imported == _declared()


def test_every_dependency_is_explained_in_the_docs():
    doc = (ROOT / "docs" / "dependencies.md").read_text().lower()
    for dep in _declared():
        assert f"| {dep} |" in doc, f"{dep} has no row in docs/dependencies.md"
