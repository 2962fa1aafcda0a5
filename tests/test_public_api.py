"""The public surface: each `__all__` lists exactly what is offered; `import gen_nb` is cheap."""

from __future__ import annotations

import importlib
import subprocess
import sys

import gen_nb
from gen_nb.api import errors, models, redact, settings, transport


def test_all_resolves() -> None:
    assert len(set(gen_nb.__all__)) == len(gen_nb.__all__)
    for name in gen_nb.__all__:
        assert getattr(gen_nb, name) is not None, name


def test_binding_entry_points_exist() -> None:
    for name in ("connect", "Client", "download", "stream_to", "download_many", "renders_frame",
                 "layers_frame", "show", "TransferOptions"):
        assert callable(getattr(gen_nb, name)), name
    assert issubclass(gen_nb.GenError, Exception)
    assert gen_nb.Client is gen_nb.api.Client and gen_nb.connect is gen_nb.api.connect
    assert callable(importlib.import_module("gen_nb.widgets").RenderBrowser)
    assert callable(importlib.import_module("gen_nb.sandbox").start)


def test_unknown_attribute_names_itself() -> None:
    try:
        gen_nb.no_such_thing  # noqa: B018
    except AttributeError as exc:
        assert "no_such_thing" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("expected AttributeError")


def _defined_public(module: object, package: str) -> set[str]:
    return {n for n, v in vars(module).items()
            if not n.startswith("_") and str(getattr(v, "__module__", "")).startswith(package)}


def test_module_all_lists_exactly_public_names() -> None:
    for module in (errors, redact, settings, transport):
        constants = {n for n in vars(module) if n.isupper() and not n.startswith("_")}
        mine = _defined_public(module, module.__name__)
        assert mine <= set(module.__all__) <= mine | constants, module.__name__
    model_modules = [importlib.import_module(f"gen_nb.api.models.{m}")
                     for m in ("fields", "generation", "engine", "resources", "publishing")]
    defined = set().union(*(_defined_public(m, m.__name__) for m in model_modules))
    assert set(models.__all__) == defined | {"FPS", "TERMINAL_STATUSES", "MediaKind", "Status"}
    for module in (errors, models):
        assert len(set(module.__all__)) == len(module.__all__), module.__name__
        assert all(hasattr(module, n) for n in module.__all__), module.__name__


def test_import_is_cheap() -> None:
    code = (
        "import sys, threading; import gen_nb; "
        "heavy = [m for m in ('requests', 'pandas', 'ipywidgets', 'IPython', 'werkzeug') "
        "if m in sys.modules]; "
        "print(heavy, threading.active_count())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[] 1"


def test_core_never_imports_the_notebook_stack() -> None:
    """The api package and transfer work without pandas, ipywidgets or IPython."""
    code = (
        "import sys, pkgutil, importlib, gen_nb.api, gen_nb.transfer, gen_nb.cli; "
        "[importlib.import_module(f'gen_nb.api.{m.name}') for m in "
        "pkgutil.iter_modules(gen_nb.api.__path__)]; "
        "[importlib.import_module(f'gen_nb.transfer.{m.name}') for m in "
        "pkgutil.iter_modules(gen_nb.transfer.__path__)]; "
        "print([m for m in ('pandas', 'ipywidgets', 'IPython') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
