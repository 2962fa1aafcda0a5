"""The fast model paths give exactly what the plain rules give, and stay cheap in the ways
that matter at scale: slots, no cycles, layer outputs shared by a row's takes, no engine kept.

* ``renders_from_api(data) == renders_from_engine(Engine.from_api(data))`` on the documented
  payload, the sandbox's workspaces and arbitrary engine-shaped (often malformed) JSON;
* the small parsers' fast paths agree with the original, general rules (kept below as the
  reference);
* every model is a frozen, slotted dataclass; objects made by the fast constructors are
  ordinary instances.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import gc
import math
import pickle
import posixpath
import threading
import urllib.parse
from typing import Any

import pytest
from _support import EXAMPLES, ex, stringify_ids
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gen_nb.api import catalog, models
from gen_nb.api.models import (
    Engine,
    Generation,
    LayerOutput,
    Render,
    renders_from_api,
    renders_from_engine,
)
from gen_nb.api.models import fields as F

# --- the reference rules (the parsers as they were before their fast paths) --------------------

def ref_id(value: Any) -> str | None:
    if value is None or value == "" or isinstance(value, bool) or \
            not isinstance(value, str | int | float):
        return None
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        if value.is_integer():
            value = int(value)
    return str(value)


def ref_str(value: Any) -> str | None:
    if value is None or isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    return str(value)


def ref_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError, OverflowError):
        return None


def ref_float(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError, OverflowError):
        return None


def ref_parse_time(iso: Any = None, ms: Any = None) -> dt.datetime | None:
    if isinstance(iso, str) and iso.strip():
        text = iso.strip().replace("Z", "+00:00")
        try:
            value = dt.datetime.fromisoformat(text)
        except ValueError:
            value = None
        if value is not None:
            if value.tzinfo is None:
                value = value.replace(tzinfo=dt.UTC)
            return value.astimezone(dt.UTC)
    number = ref_float(ms)
    if number is not None and math.isfinite(number):
        try:
            return dt.datetime.fromtimestamp(number / 1000.0, tz=dt.UTC)
        except (OverflowError, OSError, ValueError):
            return None
    return None


def ref_media_kind(object_type: str | None = None, url: str | None = None,
                   content_type: str | None = None) -> str:
    for hint in (object_type, (content_type or "").split("/")[0]):
        hint = (hint or "").strip().lower()
        if hint in ("video", "audio", "image"):
            return hint
        if hint in F._LAYER_KINDS:
            return F._LAYER_KINDS[hint]
    if url:
        ext = posixpath.splitext(urllib.parse.urlsplit(url).path)[1].lower()
        if ext in F._EXT_KINDS:
            return F._EXT_KINDS[ext]
    return "other"


class Text(str):
    """A str subclass (never from JSON, but the parsers accept it)."""


SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(), st.text(max_size=8), st.sampled_from(["", " ", "7", "7.5", "1e3", " 12 "]),
    st.text(max_size=5).map(Text), st.sampled_from([[], {}, [1], {"a": 1}]))


@given(SCALARS)
def test_small_parsers_agree_with_the_reference(value: Any) -> None:
    for fast, ref in ((F._id, ref_id), (F._str, ref_str), (F._int, ref_int)):
        got, want = fast(value), ref(value)
        assert got == want and type(got) is type(want), (fast.__name__, value)
    got_f, want_f = F._float(value), ref_float(value)
    assert (got_f == want_f or (got_f != got_f and want_f != want_f)), value  # NaN == NaN
    assert F._status(value) == str(value or "pending").lower()


_ISO = st.builds(
    lambda d, form, tail, pad: pad + d.isoformat(timespec=form) + tail + pad,
    st.datetimes(min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30)),
    st.sampled_from(["auto", "seconds", "milliseconds", "minutes"]),
    st.sampled_from(["", "Z", "+00:00", "+05:30", "-08:00", "z", "ZZ", "Z+01:00"]),
    st.sampled_from(["", " ", "\t"]))


@given(iso=st.one_of(_ISO, st.text(max_size=30), SCALARS),
       ms=st.one_of(st.none(), st.integers(min_value=-(10**17), max_value=10**17),
                    st.floats(), st.sampled_from([1e300, -1e20, "1772366400000", True])))
def test_parse_time_agrees_with_the_reference(iso: Any, ms: Any) -> None:
    got, want = F.parse_time(iso, ms), ref_parse_time(iso, ms)
    assert got == want
    assert got is None or got.utcoffset() == dt.timedelta(0)


_HINTS = st.one_of(st.none(), st.text(max_size=8), st.sampled_from(
    ["video", "Video", " VIDEO ", "audio", "sound", "Clip", "captions", "image/png",
     "video/mp4", "text", "shape", ""]))
_URLS = st.one_of(st.none(), st.text(max_size=12), st.sampled_from(
    ["https://cdn.gen.pro/a.MP4", "https://cdn.gen.pro/a.mp3?x=1", "/x/y.jpeg", "a.webm", ""]))


@given(_HINTS, _URLS, _HINTS)
def test_media_kind_agrees_with_the_reference(object_type: Any, url: Any,
                                              content_type: Any) -> None:
    assert F.media_kind(object_type, url, content_type) == \
        ref_media_kind(object_type, url, content_type)


# --- the two ways to renders agree ----------------------------------------------------------------

def _both(data: Any) -> list[Render]:
    fast = renders_from_api(data)
    assert fast == renders_from_engine(Engine.from_api(data))
    return fast


@pytest.mark.parametrize("ids", ["int", "str"])
def test_documented_engine_gives_the_same_renders(ids: str) -> None:
    data = ex("engine") if ids == "int" else stringify_ids(ex("engine"))
    renders = _both(data)
    assert [(r.id, r.take, r.is_current) for r in renders] == [
        ("56700", 1, False), ("56789", 2, True)]


def test_the_sandbox_workspaces_give_the_same_renders(sandbox: Any) -> None:
    engines = sandbox.seed_data["engines"]
    assert engines
    total = 0
    for answer in engines.values():
        total += len(_both(answer))
        total += len(_both(stringify_ids(answer)))
    assert total > 10


_ANY = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=4), inner, max_size=3)),
    max_leaves=6)


def _mostly(good: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``good`` nine times in ten, anything else (a list, a string, null, …) otherwise."""
    return st.integers(0, 9).flatmap(lambda n: good if n else _ANY)


_IDS = st.one_of(st.integers(0, 30), st.sampled_from(["7", "", "x y", 3.0, 2.5, None, True]))
_STAMP = st.fixed_dictionaries({}, optional={
    "created_at": st.one_of(_ISO, st.sampled_from(["2026-03-01T12:00:00.000Z", "bad", ""])),
    "created_at_ts": st.one_of(st.integers(-(10**16), 10**16), st.sampled_from(
        [1772366400000, 1e300, "17", None]))})
_RESOURCE = _mostly(st.fixed_dictionaries(
    {"url": _URLS, "object_type": _HINTS},
    optional={"id": _IDS, "thumbnail_url": _URLS, "type": _HINTS}))
_JOB = _mostly(st.builds(lambda base, stamp: {**base, **stamp}, st.fixed_dictionaries(
    {"id": _IDS, "status": st.sampled_from(["completed", "Failed", "processing", "", None, 3]),
     "output_resources": _mostly(st.lists(_RESOURCE, max_size=3))},
    optional={"generation_id": _IDS, "failed_reason": SCALARS}), _STAMP))
_LAYER = _mostly(st.fixed_dictionaries(
    {"type": _HINTS, "default_user_job": st.one_of(st.none(), _JOB)},
    optional={
        "id": _IDS, "name": SCALARS, "user_jobs": st.lists(_JOB, max_size=2),
        "position": st.sampled_from([0, 1, 2, 3, None, "2", 1.5, True, -1]),
        "additional_attributes": _mostly(st.fixed_dictionaries({}, optional={
            "src": _URLS, "from": st.sampled_from([0, 30, "15", None, 2.5]),
            "durationInFrames": st.sampled_from([150, 300, None, "x", 1e300])}))}))
_CELL = _mostly(st.fixed_dictionaries(
    {"default_user_job": st.one_of(st.none(), _JOB),
     "user_jobs": _mostly(st.lists(_JOB, max_size=3)),
     "video_layers": _mostly(st.lists(_LAYER, max_size=4))},
    optional={"id": _IDS, "value": st.one_of(SCALARS, st.sampled_from(["  Hook  ", "Title"]))}))
_COLUMN = _mostly(st.fixed_dictionaries(
    {"column_role": st.sampled_from(["final_video", "video", "Final_Video", "VIDEO",
                                     "ingredient", None, 3, ""])},
    optional={"id": _IDS, "position": st.sampled_from([0, 1, 2, 3, None, "1", 2.7, True])}))
_ROW = _mostly(st.fixed_dictionaries(
    {"spreadsheet_cells": _mostly(st.lists(_CELL, max_size=4))},
    optional={"id": _IDS, "position": st.sampled_from([0, 1, None, "3"])}))
ENGINES = st.fixed_dictionaries(
    {"spreadsheet_columns": _mostly(st.lists(_COLUMN, max_size=4)),
     "spreadsheet_rows": _mostly(st.lists(_ROW, max_size=3))},
    optional={"id": _IDS, "title": SCALARS})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ENGINES)
def test_any_engine_shaped_answer_gives_the_same_renders(data: dict[str, Any]) -> None:
    _both(data)


# --- shared layer outputs, render_id ------------------------------------------------------------

def test_takes_of_a_row_share_their_layer_outputs() -> None:
    for renders in (renders_from_api(ex("engine")),
                    renders_from_engine(Engine.from_api(ex("engine")))):
        first, second = renders
        assert first.layers is second.layers and len(first.layers) == 3
        assert all(a is b for a, b in zip(first.layers, second.layers, strict=True))
        # render_id names the row's current take, whichever take the layers came from
        assert {lo.render_id for lo in first.layers} == {"56789"} == {second.id}


def test_render_id_is_the_latest_take_when_the_cell_shows_none() -> None:
    data = ex("engine")
    final = data["spreadsheet_rows"][0]["spreadsheet_cells"][2]
    final["default_user_job"] = None
    renders = _both(data)
    assert [r.is_current for r in renders] == [False, False]
    assert {lo.render_id for lo in renders[0].layers} == {renders[-1].id}


# --- slots, frozen, no cycles, nothing kept -------------------------------------------------------

MODEL_CLASSES = [getattr(models, n) for n in models.__all__
                 if dataclasses.is_dataclass(getattr(models, n))]


@pytest.mark.parametrize("cls", MODEL_CLASSES, ids=lambda c: c.__name__)
def test_every_model_is_frozen_and_slotted(cls: type) -> None:
    assert "__slots__" in vars(cls) and "__dict__" not in vars(cls)
    params = cls.__dataclass_params__   # type: ignore[attr-defined]
    assert params.frozen


def test_models_have_no_instance_dict() -> None:
    renders = renders_from_api(ex("engine"))
    engine = Engine.from_api(ex("engine"))
    for obj in (renders[0], renders[0].layers[0], engine, engine.rows[0],
                engine.rows[0].cells[1].video_layers[0], engine.columns[0],
                Generation.from_api(ex("generation_completed")),
                Generation.from_api(ex("generation_completed")).output_resources[0]):
        assert not hasattr(obj, "__dict__"), type(obj).__name__
        first = dataclasses.fields(obj)[0].name
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(obj, first, "x")
        with pytest.raises(AttributeError):       # no __dict__: no room for other attributes
            object.__setattr__(obj, "not_a_field", 1)


def test_fast_built_objects_are_ordinary_instances() -> None:
    fast = renders_from_api(ex("engine"))[1]
    assert type(fast) is Render and type(fast.layers[0]) is LayerOutput
    plain = Render(**{f.name: getattr(fast, f.name) for f in dataclasses.fields(Render)})
    assert fast == plain and hash(fast) == hash(plain) and repr(fast) == repr(plain)
    assert pickle.loads(pickle.dumps(fast)) == fast
    assert dataclasses.replace(fast, status="failed").status == "failed"
    assert isinstance(fast, Render) and dataclasses.asdict(fast)["id"] == "56789"
    generation = Generation.from_api(ex("generation_completed"))
    assert type(generation) is Generation and type(generation.output_resources[0]) is \
        models.OutputResource


def test_building_renders_makes_no_reference_cycles() -> None:
    data = [ex("engine")] * 20
    gc.collect()
    was = gc.isenabled()
    gc.disable()
    try:
        built = [r for d in data for r in renders_from_api(d)]
        tree = [r for d in data for r in renders_from_engine(Engine.from_api(d))]
        engines = [Engine.from_api(d) for d in data]
        del built, tree, engines
        assert gc.collect() == 0
    finally:
        if was:
            gc.enable()


def test_renders_do_not_refer_to_the_answer_or_an_engine() -> None:
    data = ex("engine")
    renders = renders_from_api(data)
    seen: set[int] = set()
    todo: list[Any] = list(renders)
    while todo:
        obj = todo.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        assert not isinstance(obj, dict | list | Engine), type(obj).__name__
        todo.extend(x for x in gc.get_referents(obj) if not isinstance(x, type))
    assert len(seen) > 20


def test_the_render_index_keeps_renders_not_engines() -> None:
    index = catalog.RenderIndex()
    index.remember(Engine.from_api(ex("engine")))
    kept = index.fresh_renders("812")
    assert kept is not None and [r.id for r in kept] == ["56700", "56789"]
    assert index.engine_of("56789") == "812"
    assert not any(isinstance(o, Engine) for o in gc.get_referents(*vars(index).values()))


def test_the_render_index_drops_stale_listings() -> None:
    now = [0.0]
    index = catalog.RenderIndex(seconds=30, clock=lambda: now[0])
    index.remember_renders("1", renders_from_api(ex("engine")))
    now[0] = 31.0
    assert index.fresh_renders("1") is None
    index.remember_renders("2", [])
    assert set(index._renders) == {"2"}             # the stale listing is gone
    assert index.engine_of("56789") == "1"           # where a render lives is kept


# --- the collector pause --------------------------------------------------------------------------

def test_the_gc_pause_restores_the_collector_and_nests_across_threads() -> None:
    pause = catalog._PausedGC()
    assert gc.isenabled()
    inside, release = threading.Event(), threading.Event()

    def hold() -> None:
        with pause:
            inside.set()
            release.wait(5)

    worker = threading.Thread(target=hold)
    worker.start()
    inside.wait(5)
    with pause:
        assert not gc.isenabled()
    assert not gc.isenabled()          # the other thread is still inside
    release.set()
    worker.join(5)
    assert gc.isenabled()
    with pytest.raises(RuntimeError), pause:
        raise RuntimeError("boom")
    assert gc.isenabled()
    gc.disable()
    try:                               # off before: stays off after
        with pause:
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_examples_are_unchanged_by_parsing() -> None:
    before = ex("engine")
    renders_from_api(before)
    Engine.from_api(before)
    assert before == EXAMPLES["engine"]


# --- listing builds renders straight from the answers ------------------------------------------

API = "https://api.gen.pro/v1"


def _client(**kw: Any) -> Any:
    from gen_nb.api.client import Client
    from gen_nb.api.settings import resolve_settings

    return Client(resolve_settings("gen_pat_fast_TESTKEY", agent_id="7", env={}, **kw),
                  sleep=lambda s: None)


def test_listing_gives_what_the_engine_models_give_and_restores_the_collector() -> None:
    import responses

    engines = [ex("engine"), stringify_ids(ex("engine"))]
    engines[1]["id"] = "813"
    with responses.RequestsMock() as mock:
        mock.get(f"{API}/vidsheet/812", json=engines[0])
        mock.get(f"{API}/vidsheet/813", json=engines[1])
        with _client(concurrency=2) as client:
            listed = client.renders(["812", "813"])
            assert gc.isenabled()
            assert listed == [r for e in engines for r in renders_from_engine(
                Engine.from_api(e))]
            assert client.engine(812).renders() == listed[:2]


@pytest.mark.parametrize(("body", "match"), [
    ("<html>Welcome to nginx</html>", "not JSON"), ("", "got nothing"), ("[1, 2]", "got list"),
    ("[" * 100_000 + "]" * 100_000, "not JSON")])
def test_listing_decodes_like_every_other_call(body: str, match: str) -> None:
    import responses

    from gen_nb.api.errors import UnexpectedResponseError

    with responses.RequestsMock() as mock:
        mock.get(f"{API}/vidsheet/812", body=body, content_type="application/json")
        with _client() as client, pytest.raises(UnexpectedResponseError, match=match) as info:
            client.renders(["812"])
    assert "engine 812" in str(info.value)
    assert gc.isenabled()


def test_listing_an_engine_under_an_envelope() -> None:
    import responses

    with responses.RequestsMock() as mock:
        mock.get(f"{API}/vidsheet/812", json={"engine": ex("engine")})
        with _client() as client:
            assert [r.id for r in client.renders(["812"])] == ["56700", "56789"]
