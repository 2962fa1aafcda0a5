"""Every failure a gen_nb call raises is a GenError subclass (keeping the builtin base), never a
bare builtin exception: checked over the source (outside the sandbox, which plays the server),
and by calling the public functions that used to raise bare TypeError/ValueError/KeyError."""

from __future__ import annotations

import ast
import builtins
import re
from pathlib import Path
from typing import Any

import pytest

import gen_nb
from gen_nb import media
from gen_nb.api import post_requests
from gen_nb.api.errors import GenError, UnknownNameError, UsageError, WrongKindError
from gen_nb.transfer import progress

PACKAGE = Path(__file__).resolve().parents[1] / "gen_nb"
BUILTIN_ERRORS = {name for name, value in vars(builtins).items()
                  if isinstance(value, type) and issubclass(value, Exception)
                  and name != "NotImplementedError"}  # abstract methods: a contract, not a failure
# Raised inside the network core as the network error it is; the transfer's retry loop catches
# it (NETWORK_ERRORS) and a call that runs out of attempts raises NetworkError/TransferError.
SIGNALS = {("api/connection.py", "ConnectionError")}


def _caught_here(node: ast.Raise, parents: dict[ast.AST, ast.AST], name: str) -> bool:
    """Whether an enclosing ``try`` of the same function catches ``name`` (a local signal)."""
    child: ast.AST = node
    while child in parents:
        parent = parents[child]
        if isinstance(parent, ast.FunctionDef | ast.AsyncFunctionDef):
            return False
        if isinstance(parent, ast.Try) and child in parent.body:
            for handler in parent.handlers:
                names = [n.id for n in ast.walk(handler.type) if isinstance(n, ast.Name)] \
                    if handler.type is not None else [name]
                if any(n == name or issubclass(getattr(builtins, name), getattr(builtins, n, ()))
                       for n in names if hasattr(builtins, n)):
                    return True
        child = parent
    return False


def _bare_raises() -> list[str]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative.startswith("sandbox/"):
            continue
        tree = ast.parse(path.read_text("utf-8"))
        parents = {child: parent for parent in ast.walk(tree)
                   for child in ast.iter_child_nodes(parent)}
        for node in ast.walk(tree):
            if not isinstance(node, ast.Raise) or node.exc is None:
                continue
            call = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            name = call.id if isinstance(call, ast.Name) else None
            if name not in BUILTIN_ERRORS:
                continue
            function = next((p for p in _ancestors(node, parents)
                             if isinstance(p, ast.FunctionDef)), None)
            if name == "AttributeError" and function is not None and \
                    function.name == "__getattr__":
                continue  # the module/attribute protocol
            if _caught_here(node, parents, name) or (relative, name) in SIGNALS:
                continue
            found.append(f"{relative}:{node.lineno} raises bare {name}")
    return found


def _ancestors(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> list[ast.AST]:
    out = []
    while node in parents:
        node = parents[node]
        out.append(node)
    return out


def test_no_gen_nb_module_raises_a_bare_builtin_exception() -> None:
    assert _bare_raises() == []


@pytest.mark.parametrize("call, kind, words", [
    (lambda: gen_nb.renders_frame([object()]), WrongKindError, "client.renders"),
    (lambda: gen_nb.layers_frame(3), WrongKindError, "client.layers"),
    (lambda: media.preview_of(3.5), WrongKindError, "show() takes"),
    (lambda: media.local_file_url("/nonexistent/x.mp4"), UsageError, "Download it first"),
    (lambda: progress.make_sink(object(), "x"), WrongKindError, "progress="),
    (lambda: post_requests.post_windows("2026-03-10", "2026-03-01"), UsageError, "swap them"),
])
def test_former_bare_errors_are_typed(call: Any, kind: type, words: str) -> None:
    with pytest.raises(kind, match=re.escape(words)) as info:
        call()
    assert isinstance(info.value, GenError)


def test_an_unknown_tab_names_the_tabs(client: Any) -> None:
    from gen_nb.widgets import RenderBrowser

    browser = RenderBrowser(client)
    with pytest.raises(UnknownNameError, match="the tabs are Preview, Download"):
        browser.panel("Downloads")
