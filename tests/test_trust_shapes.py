"""Every model and every endpoint under malformed answers: a result or a GenError, nothing else.

Hypothesis feeds arbitrary JSON (lists, strings, booleans, nulls, huge and tiny numbers, deep
nesting) where objects are expected — to each model's ``from_api`` and, through a mocked
server, to each public Client method.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable
from typing import Any

import pytest
import responses
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gen_nb.api import models
from gen_nb.api.client import Client
from gen_nb.api.errors import GenError
from gen_nb.api.settings import resolve_settings

API = "https://api.gen.pro/v1"
KEY = "gen_pat_shapes_TESTKEY"

_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False), st.sampled_from([1e300, -1e20, 1.5e308, 0.0, -0.0]),
    st.text(max_size=12), st.sampled_from(["completed", "Video", "", "2026-13-45T99:00Z",
                                           "final_video", "video", "sound", "tok_1"]))
_KEYS = st.sampled_from([
    "id", "status", "output_resources", "url", "thumbnail_url", "object_type", "engine",
    "spreadsheet_rows", "spreadsheet_columns", "spreadsheet_cells", "column_role",
    "default_user_job", "user_jobs", "video_layers", "additional_attributes", "created_at",
    "created_at_ts", "updated_at_ts", "content_resource", "generator", "platforms",
    "platforms_status", "post", "post_id", "detail", "errors", "would_destroy",
    "confirm_token", "error", "error_code", "result", "media", "options", "max_text"])
JSON = st.recursive(_SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(_KEYS, inner, max_size=6)), max_leaves=25)

MODELS = [getattr(models, name) for name in models.__all__
          if hasattr(getattr(models, name), "from_api")]


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.dictionaries(_KEYS, JSON, max_size=8))
def test_models_take_any_object(model: Any, data: dict[str, Any]) -> None:
    model.from_api(data)


def test_models_take_extreme_timestamps() -> None:
    for ms in (1e300, -1e20, float("inf"), "1e999", True):
        generation = models.Generation.from_api({"id": 1, "created_at_ts": ms})
        assert generation.created_at is None


def _client() -> Client:
    return Client(resolve_settings(KEY, agent_id="7", env={}), sleep=lambda s: None)


CALLS: dict[str, Callable[[Client], Any]] = {
    "generation": lambda c: c.generation(1),
    "wait": lambda c: c.wait(1, timeout=0),
    "stop": lambda c: c.stop(1),
    "continue_generation": lambda c: c.continue_generation(1),
    "start_render": lambda c: c.start_render(812, 3002),
    "engines": lambda c: c.engines(),
    "engine": lambda c: c.engine(812),
    "renders": lambda c: c.renders(),
    "render": lambda c: c.render(1, engine_id=812),
    "layers": lambda c: c.layers("1"),
    "remotion_jobs": lambda c: c.remotion_jobs(812),
    "resources": lambda c: c.resources(),
    "resource": lambda c: c.resource(4821),
    "delete_dry_run": lambda c: c.delete_resource(4821, dry_run=True),
    "delete": lambda c: c.delete_resource(4821, confirm=True),
    "platforms": lambda c: c.platforms(),
    "publish": lambda c: c.publish("https://cdn.gen.pro/a.mp4", ["tiktok"], check=False),
    "post": lambda c: c.post(1),
    "wait_post": lambda c: c.wait_post(1, timeout=0),
    "posts": lambda c: c.posts(),
    "cancel_post": lambda c: c.cancel_post(1),
    "update_post": lambda c: c.update_post(1, description="x"),
    "publish_legacy": lambda c: c.publish_legacy("https://cdn.gen.pro/a.mp4", check=False),
    "legacy_job": lambda c: c.legacy_job(1),
}


# Client methods that send nothing (or only what the calls above already send)
OFFLINE = {"check_post", "close", "is_sandbox"}


def test_every_client_method_is_in_the_property_test() -> None:
    """A new endpoint method must join CALLS (the property test below covers it then)."""
    public = {name for name in dir(Client) if not name.startswith("_")}
    called = {name for name in CALLS if name in public} | {"delete_resource"}
    assert public - OFFLINE == called


@pytest.mark.parametrize("name", sorted(CALLS))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(answer=JSON, status=st.sampled_from([200, 200, 201, 204, 404, 422, 428, 500]))
def test_every_endpoint_gives_a_result_or_a_gen_error(name: str, answer: Any,
                                                      status: int) -> None:
    body = json.dumps(answer)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        for method in ("GET", "POST", "DELETE", "PATCH"):
            mock.add(method, re.compile(rf"{API}/.*"), body=body, status=status,
                     content_type="application/json")
        with _client() as client, contextlib.suppress(GenError):
            CALLS[name](client)


def test_deep_nesting_is_an_unexpected_answer_not_a_crash() -> None:
    deep = "[" * 100_000 + "]" * 100_000
    with responses.RequestsMock() as mock:
        mock.get(f"{API}/generations/1", body=deep, content_type="application/json")
        with _client() as client, pytest.raises(GenError, match="not JSON"):
            client.generation(1)


@pytest.mark.parametrize(("answer", "kind"), [
    ([1, 2], "list"), ("just text", "str"), (True, "bool"), ({"engine": None}, "engine")])
def test_a_wrong_top_level_shape_is_named(answer: Any, kind: str) -> None:
    with responses.RequestsMock() as mock:
        mock.get(f"{API}/vidsheet/812", json=answer)
        with _client() as client, pytest.raises(GenError) as info:
            client.engine(812)
    assert "engine 812" in str(info.value)


def test_a_428_with_a_strange_plan_is_still_a_confirmation_error() -> None:
    with responses.RequestsMock() as mock:
        mock.get(f"{API}/content_resources/4821",
                 json={"content_resource": {"id": 4821, "url": "https://cdn.gen.pro/x.mp4"}})
        mock.delete(f"{API}/content_resources/4821", status=428,
                    json={"would_destroy": "all", "confirm_token": "tok_x"})
        with _client() as client, pytest.raises(GenError) as info:
            client.delete_resource(4821, confirm=True)
        assert len(mock.calls) == 2   # the GET and the first DELETE: never confirmed
    assert "everything" in str(info.value)
