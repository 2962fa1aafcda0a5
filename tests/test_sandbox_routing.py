"""Each sandbox API endpoint is declared once: one decorator gives its rule, methods and auth."""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

import pytest

import gen_nb.sandbox
from gen_nb.sandbox import api, publishing_api, render_api
from gen_nb.sandbox.routing import Endpoint, Routes

ROOT = Path(gen_nb.sandbox.__file__).parent
ENDPOINT_MODULES = (render_api, publishing_api)


def _calls_named(tree: ast.AST, names: set[str]) -> list[int]:
    """Line numbers of calls to any of ``names`` (plain or attribute calls)."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if name in names:
                lines.append(node.lineno)
    return lines


def test_werkzeug_rules_are_built_in_one_place_only() -> None:
    """No module writes a Rule/Map by hand next to its functions: only ``routing`` does."""
    offenders = {}
    for path in sorted(ROOT.glob("*.py")):
        if path.name == "routing.py":
            continue
        lines = _calls_named(ast.parse(path.read_text()), {"Rule", "Map"})
        if lines:
            offenders[path.name] = lines
    assert not offenders, f"werkzeug Rule/Map built outside routing.py: {offenders}"


def _decorated_endpoints(path: Path) -> list[str]:
    """Functions of ``path`` decorated with ``<something>.route(...)``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.FunctionDef):
            for deco in node.decorator_list:
                if isinstance(deco, ast.Call) and getattr(deco.func, "attr", "") == "route":
                    found.append(node.name)
    return found


def test_every_endpoint_is_a_decorated_function_registered_once() -> None:
    handlers = [e.handler for e in api.ROUTES.endpoints]
    assert len(handlers) == len(set(handlers))
    decorated = [name for m in ENDPOINT_MODULES for name in
                 _decorated_endpoints(Path(m.__file__))]
    assert sorted(decorated) == sorted(h.__name__ for h in handlers)
    assert len(decorated) >= 15


def test_each_rule_and_method_is_served_by_exactly_one_endpoint() -> None:
    pairs = Counter((e.rule, m) for e in api.ROUTES.endpoints for m in e.methods)
    assert max(pairs.values()) == 1
    assert len(list(api.URLS.iter_rules())) == len(api.ROUTES.endpoints)


def test_only_the_platform_list_and_the_sandbox_post_page_are_public() -> None:
    """GEN's platform rules need no key; nor does the page a post_url opens in a browser."""
    public = {e.handler.__name__ for e in api.ROUTES.endpoints if e.public}
    assert public == {"platforms", "sandbox_post_page"}


@pytest.mark.parametrize(("method", "path", "handler"), [
    ("GET", "/v1/vidsheet", render_api.list_engines),
    ("GET", "/v1/autocontentengine/812", render_api.get_engine),
    ("POST", "/v1/vidsheet/812/cells/3000/render", render_api.render),
    ("GET", "/v1/generations/1", render_api.get_generation),
    ("POST", "/v1/generations/1/stop", render_api.stop_generation),
    ("DELETE", "/v1/content_resources/9", render_api.resource),
    ("PATCH", "/v1/schedule/post/1", publishing_api.post),
    ("GET", "/v1/schedule/platforms", publishing_api.platforms),
    ("GET", "/v1/user_jobs/5", publishing_api.user_job),
    ("GET", "/sandbox/posts/tiktok/7459234100001", publishing_api.sandbox_post_page),
])
def test_the_map_matches_the_registrations(method: str, path: str, handler) -> None:
    endpoint, _ = api.URLS.bind("sandbox").match(path, method)
    assert isinstance(endpoint, Endpoint) and endpoint.handler is handler


def test_routes_combine_and_register_with_one_decorator() -> None:
    mine = Routes()

    @mine.route("/v1/teapot/<size>", "GET", "PUT", public=True)
    def teapot(ctx, size: str):
        return 418, {"size": size}

    both = Routes(render_api.routes, mine)
    endpoint, values = both.url_map().bind("sandbox").match("/v1/teapot/small", "PUT")
    assert endpoint == Endpoint("/v1/teapot/<size>", ("GET", "PUT"), teapot, True)
    assert values == {"size": "small"}
    assert len(both.endpoints) == len(render_api.routes.endpoints) + 1
