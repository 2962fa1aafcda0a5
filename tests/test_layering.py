"""The package's layers, as the README's layout section draws them: imports point downward only
(function-level imports included), and the sandbox, which plays the server, imports nothing
else from gen_nb (only ``api.shared_sandbox`` and the CLI start it)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "gen_nb"

# lower rank = lower layer; a module may import only from layers of lower rank (or its own)
RANKS = {"api": 0, "transfer": 1, "export": 2, "media": 3, "display": 4, "frames": 5,
         "local_state": 6, "widgets": 7, "app": 8, "cli": 9, "__main__": 10}
STARTS_THE_SANDBOX = {"api", "cli"}


def _layer_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "gen_nb" else None


def _imports(path: Path, package_dir: Path = PACKAGE) -> list[tuple[int, str]]:
    """(line, module) of every import in ``path``, relative ones resolved, at any depth."""
    relative = path.relative_to(package_dir.parent).with_suffix("").parts
    package = list(relative if path.name == "__init__.py" else relative[:-1])
    if path.name == "__init__.py":
        package = package[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            found.append((node.lineno, module))
            if module == "gen_nb":  # from gen_nb import sandbox
                found += [(node.lineno, f"gen_nb.{alias.name}") for alias in node.names]
    return found


def _edges() -> list[tuple[str, str, str]]:
    edges = []
    for path in sorted(PACKAGE.rglob("*.py")):
        here = path.relative_to(PACKAGE).parts[0].removesuffix(".py")
        if here == "__init__":
            continue  # the package's lazy entry points re-export every layer
        for line, module in _imports(path):
            there = _layer_of(module)
            if there is not None and there != here and (there in RANKS or there == "sandbox"):
                edges.append((here, there, f"{path.relative_to(PACKAGE)}:{line} imports {module}"))
    return edges


def test_every_top_level_module_has_a_layer() -> None:
    tops = {p.name.removesuffix(".py") for p in PACKAGE.iterdir()
            if (p.suffix == ".py" or (p.is_dir() and (p / "__init__.py").exists()))}
    assert tops - {"__init__", "sandbox"} == set(RANKS)


def test_imports_point_downward_only() -> None:
    wrong = [where for here, there, where in _edges()
             if there != "sandbox" and here != "sandbox" and RANKS[there] >= RANKS[here]]
    assert wrong == []


def test_the_sandbox_imports_nothing_else_from_gen_nb() -> None:
    assert [where for here, _, where in _edges() if here == "sandbox"] == []


def test_only_the_api_handle_and_the_cli_start_the_sandbox() -> None:
    starters = {here for here, there, _ in _edges() if there == "sandbox"}
    assert starters <= STARTS_THE_SANDBOX, starters


def test_the_checker_sees_function_level_and_relative_imports(tmp_path: Path) -> None:
    module = tmp_path / "gen_nb" / "transfer" / "x.py"
    module.parent.mkdir(parents=True)
    module.write_text("def f():\n    from ..widgets import panel\n    from gen_nb import frames\n")
    found = {m for _, m in _imports(module, tmp_path / "gen_nb")}
    assert {"gen_nb.widgets", "gen_nb.frames"} <= found


def test_no_two_classes_of_the_client_side_share_a_name() -> None:
    seen: dict[str, list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.relative_to(PACKAGE).parts[0] == "sandbox":
            continue
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.ClassDef):
                seen.setdefault(node.name, []).append(str(path.relative_to(PACKAGE)))
    assert {name: where for name, where in seen.items() if len(where) > 1} == {}
