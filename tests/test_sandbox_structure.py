"""The sandbox's module structure: no import cycles, counting every import statement anywhere.

An import inside a function or under ``if TYPE_CHECKING:`` still ties two modules together (it
only hides the cycle until run time), so the graph below is built from every ``import`` and
``from … import`` node in a module's syntax tree, at any depth.
"""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import pytest

import gen_nb.sandbox

PACKAGE = "gen_nb.sandbox"
ROOT = Path(gen_nb.sandbox.__file__).parent


def module_names(root: Path, package: str) -> dict[str, Path]:
    """Dotted module name → file, for every ``.py`` file under ``root``."""
    names = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join([package, *parts])] = path
    return names


def _base(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    """The absolute module a ``from`` import starts from (resolving leading dots)."""
    if not node.level:
        return node.module or ""
    parts = module.split(".")
    keep = len(parts) - node.level + (1 if is_package else 0)
    return ".".join(parts[:keep] + ([node.module] if node.module else []))


def imported(module: str, path: Path, known: set[str]) -> set[str]:
    """Known modules that ``module`` imports anywhere in its file (functions included)."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _base(module, is_package, node)
            found.update(f"{base}.{a.name}" if f"{base}.{a.name}" in known else base
                         for a in node.names)
    return {name for name in found if name in known and name != module}


def import_graph(root: Path, package: str) -> dict[str, set[str]]:
    """Module → the modules of the same package it imports."""
    names = module_names(root, package)
    return {mod: imported(mod, path, set(names)) for mod, path in names.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle (first module repeated at the end), or None if the graph is acyclic."""
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as exc:
        return list(exc.args[1])
    return None


def test_sandbox_has_no_import_cycle() -> None:
    graph = import_graph(ROOT, PACKAGE)
    assert len(graph) >= 8, sorted(graph)
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle in the sandbox: " + " -> ".join(cycle or [])


FAKE = {
    "__init__.py": "from .a import thing\n",
    "a.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .b import B\n",
    "b.py": "def late():\n    from . import c\n    return c\n",
    "c.py": "import fake.a\nfrom fake import thing\n",
    "d.py": "from .c import x\nfrom .. import outside\n",
}


@pytest.fixture()
def fake_package(tmp_path: Path) -> Path:
    root = tmp_path / "fake"
    root.mkdir()
    for name, text in FAKE.items():
        (root / name).write_text(text)
    return root


def test_the_graph_counts_imports_at_any_depth(fake_package: Path) -> None:
    graph = import_graph(fake_package, "fake")
    assert graph == {"fake": {"fake.a"}, "fake.a": {"fake.b"}, "fake.b": {"fake.c"},
                     "fake.c": {"fake.a", "fake"}, "fake.d": {"fake.c"}}
    cycle = find_cycle(graph)
    assert cycle is not None and cycle[0] == cycle[-1]
    assert {"fake.a", "fake.b", "fake.c"} <= set(cycle)


def test_an_acyclic_graph_passes() -> None:
    assert find_cycle({"p.a": {"p.b"}, "p.b": {"p.c"}, "p.c": set()}) is None
