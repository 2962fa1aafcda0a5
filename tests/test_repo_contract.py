"""The repository keeps its promises: one source of truth for dependencies, clean notebooks,
the README's two commands, a CI script that runs them, and a cheap ``import gen_nb``.

pyproject.toml is the source of truth; environment.yml must agree with it. Conda cannot express
extras, so a requirement with extras (``moto[server]``) lives in environment.yml's ``pip:``
section; any requirement may live there (playwright does: Debian's chromium is the browser).
"""

from __future__ import annotations

import ast
import importlib.util
import json
import subprocess
import sys
import tomllib
from pathlib import Path
from types import ModuleType
from typing import Any

import nbformat
import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
README_COMMANDS = ("python3 tasks.py lab", "python3 tasks.py test")
# pip (PyPI) name → conda-forge name, where they differ. Everything else keeps its name.
CONDA_NAME = {"pyyaml": "pyyaml"}
# Modules that `import gen_nb` must not pull in (heavy, or start servers).
HEAVY_MODULES = ("requests", "urllib3", "pandas", "numpy", "ipywidgets", "IPython", "werkzeug",
                 "tqdm", "gen_nb.sandbox", "gen_nb.api.client")


def _pyproject() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _environment() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "environment.yml").read_text())


def _pyproject_requirements() -> dict[str, Requirement]:
    project = _pyproject()["project"]
    strings = [*project["dependencies"], *project["optional-dependencies"]["test"]]
    return {canonicalize_name(Requirement(s).name): Requirement(s) for s in strings}


def _split_environment() -> tuple[list[str], list[str]]:
    """(conda match specs, pip requirement lines) from environment.yml's dependencies."""
    conda: list[str] = []
    pip: list[str] = []
    for item in _environment()["dependencies"]:
        if isinstance(item, dict):
            pip.extend(item["pip"])
        else:
            conda.append(str(item))
    return conda, pip


def _conda_requirement(spec: str) -> Requirement:
    """A conda match spec like ``ipywidgets>=8.1,<9`` read as a PEP 508 requirement."""
    requirement = Requirement(spec.replace(" ", ""))
    assert not requirement.extras, f"conda cannot install extras: move {spec!r} to pip:"
    return requirement


def _environment_requirements() -> dict[str, Requirement]:
    """Every package environment.yml installs except python, pip and the project itself."""
    conda, pip = _split_environment()
    found: dict[str, Requirement] = {}
    pypi_name = {conda_name: pip_name for pip_name, conda_name in CONDA_NAME.items()}
    entries = [(_conda_requirement(s), True) for s in conda]
    entries += [(Requirement(s), False) for s in pip if s != "-e ."]
    for requirement, from_conda in entries:
        name = canonicalize_name(requirement.name)
        if from_conda and name in ("python", "pip"):
            continue
        name = pypi_name.get(name, name) if from_conda else name
        assert name not in found, f"{name} is listed twice in environment.yml"
        found[name] = requirement
    return found


def test_environment_uses_conda_forge_only() -> None:
    assert _environment()["channels"] == ["conda-forge", "nodefaults"]


def test_environment_python_matches_requires_python() -> None:
    conda, _ = _split_environment()
    pythons = [s for s in conda if canonicalize_name(Requirement(s).name) == "python"]
    assert len(pythons) == 1, f"exactly one python entry expected, got {pythons}"
    requires = SpecifierSet(_pyproject()["project"]["requires-python"])
    assert Requirement(pythons[0]).specifier == requires, (
        f"environment.yml has {pythons[0]!r}; pyproject requires-python is {str(requires)!r}")


def test_environment_lists_exactly_the_pyproject_requirements() -> None:
    expected = _pyproject_requirements()
    actual = _environment_requirements()
    assert sorted(actual) == sorted(expected), (
        f"only in pyproject: {sorted(set(expected) - set(actual))}; "
        f"only in environment.yml: {sorted(set(actual) - set(expected))}"
    )
    drift = {
        name: (str(expected[name]), str(actual[name]))
        for name in expected
        if (expected[name].specifier, expected[name].extras)
        != (actual[name].specifier, actual[name].extras)
    }
    assert not drift, f"specifiers differ (pyproject, environment.yml): {drift}"


def test_environment_ends_with_pip_editable_install() -> None:
    dependencies = _environment()["dependencies"]
    assert "pip" in dependencies, "conda must install pip before the pip: section"
    last = dependencies[-1]
    assert isinstance(last, dict) and list(last) == ["pip"], "the last entry must be pip:"
    assert last["pip"][-1] == "-e .", "the pip: section must end with `-e .`"


@pytest.mark.timeout(60)
def test_environment_requirements_resolve_with_pip() -> None:
    """pip accepts the same requirement strings and resolves them together (a dry run)."""
    requirements = [str(r) for r in _environment_requirements().values()]
    cmd = [sys.executable, "-m", "pip", "install", "--dry-run", "--quiet", "--no-input",
           "--disable-pip-version-check", *requirements]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=50, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_is_committed_clean(path: Path) -> None:
    """Notebooks are stored without outputs, counts or saved widget state, on the python3 kernel."""
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    dirty = [
        i for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)
    ]
    assert not dirty, f"{path.name}: cells {dirty} have outputs or execution counts"
    assert "widgets" not in nb.metadata, f"{path.name}: saved widget state in metadata"
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"


def test_ci_script_runs_the_test_task() -> None:
    script = (ROOT / ".ci" / "run").read_text()
    assert script.startswith("#!/usr/bin/env bash")
    assert "set -euo pipefail" in script
    assert "python3 tasks.py test" in script
    assert "CI=true" in script


def test_readme_shows_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    for command in README_COMMANDS:
        assert command in readme, f"README must show `{command}`"


def test_readme_says_why_each_dependency_is_there() -> None:
    readme = (ROOT / "README.md").read_text().lower()
    missing = [name for name in _pyproject_requirements() if name not in readme]
    assert not missing, f"README does not mention: {missing}"


def _load_tasks() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_nb_tasks", ROOT / "tasks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_tasks_script_uses_only_the_standard_library() -> None:
    tree = ast.parse((ROOT / "tasks.py").read_text())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree)
                if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module and not node.level}
    assert imported <= set(sys.stdlib_module_names), imported - set(sys.stdlib_module_names)


@pytest.mark.parametrize(
    ("stamp", "wanted", "expected"),
    [
        ({"hash": "h", "extras": ["test"]}, ["test"], []),
        ({"hash": "h", "extras": ["media", "test"]}, ["test"], []),
        ({"hash": "h", "extras": ["test"]}, ["test", "media"], ["media", "test"]),
        ({"hash": "old", "extras": ["test"]}, ["test"], ["test"]),
        ({}, ["test"], ["test"]),
        ({"hash": "h", "extras": "garbage"}, ["test"], ["test"]),
    ],
)
def test_tasks_reinstalls_only_when_pyproject_or_extras_change(
    stamp: dict[str, object], wanted: list[str], expected: list[str]
) -> None:
    assert _load_tasks().plan_install(stamp, "h", wanted) == expected


def test_tasks_offers_the_four_tasks() -> None:
    result = subprocess.run([sys.executable, str(ROOT / "tasks.py"), "--help"],
                            capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 0, result.stderr
    for task in ("lab", "test", "bench", "media"):
        assert task in result.stdout


def test_import_gen_nb_is_cheap() -> None:
    """``import gen_nb`` loads no heavy dependency and starts no thread."""
    code = ("import json, sys, threading, gen_nb; "
            "print(json.dumps({'modules': sorted(sys.modules), "
            "'threads': threading.active_count()}))")
    result = subprocess.run([sys.executable, "-X", "importtime", "-c", code],
                            capture_output=True, text=True, timeout=60, check=False, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    heavy = [m for m in report["modules"]
             if any(m == h or m.startswith(h + ".") for h in HEAVY_MODULES)]
    assert not heavy, f"import gen_nb imported {heavy}"
    assert report["threads"] == 1


def test_gitignore_covers_generated_files() -> None:
    ignored = set((ROOT / ".gitignore").read_text().split())
    for pattern in (".venv/", "__pycache__/", "*.egg-info/", "test-artifacts/", "*.part"):
        assert pattern in ignored, f".gitignore lacks {pattern}"


def test_readme_layout_names_every_module() -> None:
    """The layout section matches the tree: every module of gen_nb outside the sandbox's
    insides (the sandbox and its media kit are described as a whole) is named there."""
    readme = (ROOT / "README.md").read_text()
    layout = readme[readme.index("## Layout"):]
    package = ROOT / "gen_nb"
    missing = [str(path.relative_to(package)) for path in sorted(package.rglob("*.py"))
               if path.name != "__init__.py" and path.relative_to(package).parts[0] != "sandbox"
               and path.name not in layout]
    assert missing == [], f"add these to the README's layout section: {missing}"
