"""gen_nb.frames: exact columns and dtypes, empty inputs, UTC times, escaped and bounded HTML."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from _support import EXAMPLES, HtmlCollector, parse_html
from hypothesis import given, settings
from hypothesis import strategies as st

from gen_nb import frames
from gen_nb.api.models import (
    ContentResource,
    Engine,
    Generation,
    OutputResource,
    Render,
)
from gen_nb.transfer import DownloadResult, TransferResult

XSS = '<img src=x onerror=alert(1)>'
STRING = pd.StringDtype()
INT = pd.Int64Dtype()
UTC = pd.DatetimeTZDtype("ns", "UTC")


def _cat(*categories: str) -> pd.CategoricalDtype:
    return pd.CategoricalDtype(list(categories), ordered=False)


RENDER_DTYPES = {
    "render_id": STRING, "engine_id": STRING, "engine": STRING, "row_id": STRING, "row": INT,
    "take": np.dtype("int64"), "takes": np.dtype("int64"), "is_current": np.dtype("bool"),
    "title": STRING, "status": _cat("pending", "processing", "completed", "failed", "stopped"),
    "created_at": UTC, "url": STRING, "thumbnail_url": STRING, "output_resource_id": STRING,
    "failed_reason": STRING, "layer_count": INT,
}
LAYER_DTYPES = {
    "render_id": STRING, "layer_id": STRING, "name": STRING, "type": STRING,
    "kind": _cat("video", "audio", "image", "text", "caption", "shape", "other"),
    "position": INT, "status": _cat("pending", "processing", "completed", "failed", "stopped"),
    "url": STRING, "thumbnail_url": STRING, "output_resource_id": STRING,
    "start_seconds": np.dtype("float64"), "duration_seconds": np.dtype("float64"),
}
RESOURCE_DTYPES = {
    "id": STRING, "file_name": STRING,
    "kind": _cat("video", "audio", "image", "text", "caption", "shape", "other"),
    "content_type": STRING, "url": STRING, "thumbnail_url": STRING, "generator_id": STRING,
    "generator_status": _cat("pending", "processing", "completed", "failed", "stopped"),
    "created_at": UTC,
}
TRANSFER_DTYPES = {
    "src": STRING, "status": _cat("done", "skipped", "failed", "cancelled"), "path": STRING,
    "bytes": INT, "sha256": STRING, "seconds": np.dtype("float64"), "error": STRING,
}


@pytest.fixture()
def renders() -> list[Render]:
    return Engine.from_api(EXAMPLES["engine"]).renders()


def _dtypes(df: pd.DataFrame) -> dict[str, Any]:
    return dict(df.dtypes.items())


def _resources() -> list[ContentResource]:
    page = [ContentResource.from_api(item) for item in EXAMPLES["content_resources_page"]]
    return [*page, ContentResource.from_api(EXAMPLES["content_resource"])]


def _transfers() -> list[Any]:
    return [
        TransferResult("https://cdn.gen.pro/a.mp4", "done", Path("/tmp/d/a.mp4"), 10, "ab",
                       0.5, None),
        TransferResult("https://cdn.gen.pro/b.mp4", "failed", None, 0, None, 1.0, "HTTP 404"),
        DownloadResult(Path("/tmp/d/c.mp4"), "https://cdn.gen.pro/c.mp4", 7, 0, "cd", 0.1,
                       skipped=True),
        {"src": "https://cdn.gen.pro/d.mp4", "status": "cancelled", "path": None, "bytes": 3,
         "sha256": None, "seconds": 2.0, "error": "cancelled"},
    ]


# --- columns, dtypes, values ---------------------------------------------------------------------

def test_renders_frame_columns_and_dtypes_are_exact(renders: list[Render]) -> None:
    df = frames.renders_frame(renders)
    assert list(df.columns) == list(RENDER_DTYPES) == list(frames.RENDER_COLUMNS)
    assert _dtypes(df) == RENDER_DTYPES
    assert isinstance(df, pd.DataFrame) and type(df) is pd.DataFrame
    assert list(df.index) == [0, 1]


def test_renders_frame_values_follow_the_takes(renders: list[Render]) -> None:
    df = frames.renders_frame(renders)
    first, second = df.iloc[0], df.iloc[1]
    cols = ["render_id", "take", "takes", "is_current"]
    assert first[cols].tolist() == ["56700", 1, 2, False]
    assert second[cols].tolist() == ["56789", 2, 2, True]
    assert first.status == "failed" and first.failed_reason == "Voice generation timed out"
    assert pd.isna(first.url) and pd.isna(first.thumbnail_url)
    assert second.url == "https://cdn.gen.pro/outputs/render_xyz.mp4"
    assert second.output_resource_id == "4821"
    assert (second.engine_id, second.engine, second.row_id, second.row) == (
        "812", "Launch teasers", "501", 0)
    assert second.title == "Stop scrolling: 3 tips"
    assert list(df.layer_count) == [3, 3]


@pytest.mark.parametrize("payload", [
    {"created_at": "2026-03-01T12:00:00.000Z"},
    {"created_at": "2026-03-01T13:00:00+01:00"},
    {"created_at_ts": 1772366400000},
], ids=["iso-z", "iso-offset", "epoch-ms"])
def test_created_at_is_tz_aware_utc(payload: dict[str, Any]) -> None:
    generation = Generation.from_api({"id": 1, "status": "completed", **payload})
    missing = Generation.from_api({"id": 2, "status": "pending"})
    df = frames.renders_frame([generation, Render.from_generation(missing)])
    assert df.created_at.dtype == UTC
    assert df.created_at[0] == pd.Timestamp("2026-03-01T12:00:00Z")
    assert df.created_at[0].tzinfo is not None
    assert df.created_at[1] is pd.NaT


def test_renders_frame_accepts_client_engine_and_single_render(renders: list[Render]) -> None:
    class FakeClient:
        calls = 0

        def renders(self) -> list[Render]:
            FakeClient.calls += 1
            return renders

    assert frames.renders_frame(FakeClient()).render_id.tolist() == ["56700", "56789"]
    assert FakeClient.calls == 1
    engine = Engine.from_api(EXAMPLES["engine"])
    pd.testing.assert_frame_equal(frames.renders_frame(engine), frames.renders_frame(renders))
    assert len(frames.renders_frame(renders[1])) == 1


def test_renders_frame_rejects_what_is_not_a_render() -> None:
    with pytest.raises(TypeError, match=r"client\.renders"):
        frames.renders_frame([{"id": 1}])


def test_times_beyond_nanoseconds_become_nat_not_an_error() -> None:
    far = Generation.from_api({"id": 1, "created_at_ts": 1e13})          # the year 2286
    early = Render(id="2", status="completed", created_at=dt.datetime(1, 1, 2, tzinfo=dt.UTC))
    ok = Render(id="3", status="completed", created_at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC))
    assert far.created_at is not None and far.created_at.year > 2262
    df = frames.renders_frame([far, early, ok])
    assert df.created_at.isna().tolist() == [True, True, False]
    assert df.created_at.dtype == UTC


def test_unknown_status_is_kept_not_nan() -> None:
    df = frames.renders_frame([Render(id="1", status="queued"), Render(id="2", status="failed")])
    assert df.status.tolist() == ["queued", "failed"]
    assert list(df.status.cat.categories[:5]) == list(frames.RENDER_STATUSES)


def test_layers_frame_from_render_list_and_outputs(renders: list[Render]) -> None:
    df = frames.layers_frame(renders[1])
    assert list(df.columns) == list(LAYER_DTYPES)
    assert _dtypes(df) == LAYER_DTYPES
    assert df.name.tolist() == ["B-roll 1", "Voiceover", "Captions"]
    assert df.kind.tolist() == ["video", "audio", "caption"]
    assert df.position.tolist() == [0, 2, 3]
    assert df.duration_seconds.tolist() == [5.0, 10.0, 10.0]
    assert df.start_seconds.tolist() == [0.0, 0.0, 0.0]
    captions = df.iloc[2]
    assert pd.isna(captions.url) and pd.isna(captions.status)
    assert len(frames.layers_frame(renders)) == 6
    assert frames.layers_frame(list(renders[1].layers)).equals(df)
    assert len(frames.layers_frame(renders[1].layers[0])) == 1


def test_layers_frame_labels_shared_layer_outputs_with_each_take(
        renders: list[Render]) -> None:
    old, current = renders
    assert old.layers is current.layers                  # one set of outputs for the row
    df = frames.layers_frame(renders)
    assert df.render_id.tolist() == ["56700"] * 3 + ["56789"] * 3
    assert frames.layers_frame(old).render_id.tolist() == ["56700"] * 3
    # on their own, layer outputs name the row's current take
    assert frames.layers_frame(list(old.layers)).render_id.tolist() == ["56789"] * 3


def _categorical_reference(values: list[Any], categories: tuple[str, ...]) -> pd.Categorical:
    """frames._categorical as first written (lower-cased, unknown values appended)."""
    lowered = [v.lower() if isinstance(v, str) else None for v in values]
    extra = sorted({v for v in lowered if v is not None} - set(categories))
    return pd.Categorical(lowered, categories=[*categories, *extra])


_STATUS_VALUES = st.one_of(st.sampled_from(
    ["completed", "Completed", "FAILED", "pending", "queued", "Queued", "", None, 3, 2.5,
     float("nan"), True]), st.text(max_size=4), st.lists(st.integers(), max_size=1))


@settings(max_examples=200, deadline=None)
@given(st.lists(_STATUS_VALUES, max_size=30))
def test_categories_from_codes_match_the_plain_construction(values: list[Any]) -> None:
    got = frames._categorical(values, frames.RENDER_STATUSES)
    want = _categorical_reference(values, frames.RENDER_STATUSES)
    assert got.dtype == want.dtype
    assert list(got.categories) == list(want.categories)
    assert got.isna().tolist() == want.isna().tolist()
    assert [None if pd.isna(v) else v for v in got] == [None if pd.isna(v) else v for v in want]


def _renders_frame_reference(items: list[Render]) -> pd.DataFrame:
    """renders_frame as first written: one tuple per render, transposed."""
    rows = [(r.id, r.engine_id, r.engine_title, r.row_id, r.row_position, r.take, r.takes,
             r.is_current, r.title, r.status, r.created_at, r.url, r.thumbnail_url,
             r.output_resource_id, r.failed_reason, len(r.layers)) for r in items]
    columns = list(zip(*rows, strict=True)) or [()] * len(frames.RENDER_COLUMNS)
    return frames._frame(columns, frames.RENDER_COLUMNS)


_TEXT = st.one_of(st.none(), st.text(max_size=6))
_RENDERS = st.lists(st.builds(
    Render, id=st.text(max_size=4), status=st.sampled_from(["completed", "failed", "Queued", ""]),
    engine_id=_TEXT, engine_title=_TEXT, row_id=_TEXT,
    row_position=st.one_of(st.none(), st.integers(-5, 5)), title=_TEXT,
    take=st.integers(1, 3), takes=st.integers(1, 3), is_current=st.booleans(), url=_TEXT,
    created_at=st.one_of(st.none(), st.datetimes(timezones=st.just(dt.UTC))),
    failed_reason=_TEXT), max_size=12)


@settings(max_examples=100, deadline=None)
@given(_RENDERS)
def test_renders_frame_matches_the_row_wise_construction(items: list[Render]) -> None:
    pd.testing.assert_frame_equal(frames.renders_frame(items), _renders_frame_reference(items))


def test_layers_frame_rejects_other_things() -> None:
    with pytest.raises(TypeError, match="layers"):
        frames.layers_frame(42)


def test_resources_frame(renders: list[Render]) -> None:
    df = frames.resources_frame(_resources())
    assert list(df.columns) == list(RESOURCE_DTYPES)
    assert _dtypes(df) == RESOURCE_DTYPES
    assert df.id.tolist() == ["5012", "5008", "4821"]
    assert df.kind.tolist() == ["image", "video", "video"]
    assert df.file_name.tolist() == ["product-hero.png", "intro-clip.mp4", "render_xyz.mp4"]
    assert df.generator_id.tolist()[2] == "56789"
    assert df.generator_status.tolist()[2] == "completed"
    assert pd.isna(df.generator_id[0])


def test_resources_frame_takes_output_resources_and_a_client() -> None:
    output = OutputResource.from_api(EXAMPLES["generation_completed"]["output_resources"][0])
    df = frames.resources_frame([output])
    assert (df.id[0], df.kind[0], df.file_name[0]) == ("4821", "video", "render_xyz.mp4")
    assert pd.isna(df.content_type[0])

    class FakeClient:
        def resources(self) -> list[ContentResource]:
            return _resources()

    assert len(frames.resources_frame(FakeClient())) == 3


def test_transfers_frame_from_every_result_shape() -> None:
    df = frames.transfers_frame(_transfers())
    assert list(df.columns) == list(TRANSFER_DTYPES)
    assert _dtypes(df) == TRANSFER_DTYPES
    assert df.status.tolist() == ["done", "failed", "skipped", "cancelled"]
    assert df.path.tolist()[0] == str(Path("/tmp/d/a.mp4"))
    assert pd.isna(df.path[1]) and df.error[1] == "HTTP 404"
    assert df.src[2] == "https://cdn.gen.pro/c.mp4"
    assert df.bytes.tolist() == [10, 0, 7, 3]
    single = frames.transfers_frame(_transfers()[2])
    assert single.status.tolist() == ["skipped"]


def test_stream_result_status_maps_http_codes() -> None:
    rows = [{"src": "https://cdn/a", "dest": "https://storage/a", "bytes": 5, "sha256": "s",
             "status": 200, "seconds": 1.0, "etag": None},
            {"src": "https://cdn/b", "dest": "https://storage/b", "bytes": 0, "sha256": "s",
             "status": 403, "seconds": 1.0, "etag": None}]
    df = frames.transfers_frame(rows)
    assert df.status.tolist() == ["done", "failed"]
    assert df.path.tolist() == ["https://storage/a", "https://storage/b"]


@pytest.mark.parametrize(("build", "dtypes", "sample"), [
    (frames.renders_frame, RENDER_DTYPES, lambda: Engine.from_api(EXAMPLES["engine"]).renders()),
    (frames.layers_frame, LAYER_DTYPES, lambda: Engine.from_api(EXAMPLES["engine"]).renders()),
    (frames.resources_frame, RESOURCE_DTYPES, _resources),
    (frames.transfers_frame, TRANSFER_DTYPES, _transfers),
], ids=["renders", "layers", "resources", "transfers"])
def test_empty_input_gives_same_columns_and_dtypes(build: Any, dtypes: dict[str, Any],
                                                   sample: Any) -> None:
    empty, full = build([]), build(sample())
    assert len(empty) == 0 and len(full) > 0
    assert list(empty.columns) == list(full.columns) == list(dtypes)
    assert _dtypes(empty) == _dtypes(full) == dtypes


# --- HTML ---------------------------------------------------------------------------------------

ALLOWED_TAGS = {"table", "thead", "tbody", "tr", "th", "td", "img", "a", "span", "small"}


def _assert_safe(markup: str) -> HtmlCollector:
    parsed = parse_html(markup)
    for tag, attrs in parsed.tags:
        assert tag in ALLOWED_TAGS, tag
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        for name in ("src", "href"):
            if name in attrs:
                assert (attrs[name] or "").startswith(("https://", "http://")), attrs
    assert "data:" not in markup and "base64" not in markup
    return parsed


def _hostile_render() -> Render:
    return Render(id="1", status="completed", engine_title='"><svg onload=alert(4)>',
                  title=XSS, url="javascript:alert(1)", thumbnail_url="javascript:alert(2)",
                  failed_reason="<script>alert(3)</script>")


def test_frame_html_escapes_everything_from_the_api() -> None:
    markup = frames.frame_html(frames.renders_frame([_hostile_render()]))
    parsed = _assert_safe(markup)
    assert [t for t, _ in parsed.tags].count("img") == 0     # the thumbnail URL was refused
    text = "".join(parsed.text)
    assert XSS in text and "<script>alert(3)</script>" in text
    assert "javascript:alert(1)" in text                     # shown as text, not as a link


def test_frame_html_thumbnails_links_and_badges(renders: list[Render]) -> None:
    markup = frames.frame_html(frames.renders_frame(renders))
    parsed = _assert_safe(markup)
    imgs = [a for t, a in parsed.tags if t == "img"]
    assert imgs == [{"loading": "lazy", "src": "https://cdn.gen.pro/thumbnails/render_xyz.jpg",
                     "width": "96", "alt": ""}]
    links = [a for t, a in parsed.tags if t == "a"]
    assert [(a["href"], a["rel"], a["target"]) for a in links] == [
        ("https://cdn.gen.pro/outputs/render_xyz.mp4", "noopener noreferrer", "_blank")]
    badges = [a["class"] for t, a in parsed.tags if t == "span"]
    assert badges == ["gen-nb-status gen-nb-status-failed", "gen-nb-status gen-nb-status-completed"]


@settings(max_examples=60, deadline=None)
@given(title=st.text(max_size=200), reason=st.text(max_size=50))
def test_frame_html_random_titles_stay_text(title: str, reason: str) -> None:
    render = Render(id="1", status="failed", title=title, failed_reason=reason)
    parsed = _assert_safe(frames.frame_html(frames.renders_frame([render])))
    text = "".join(parsed.text)
    assert title in text and reason in text


def test_big_frame_html_stays_small() -> None:
    many = [Render(id=str(i), status="completed", title="x" * 50,
                   url=f"https://cdn.gen.pro/outputs/{i}.mp4",
                   thumbnail_url=f"https://cdn.gen.pro/thumbnails/{i}.jpg") for i in range(10_000)]
    df = frames.renders_frame(many)
    markup = frames.frame_html(df)
    parsed = parse_html(markup)
    assert [t for t, _ in parsed.tags].count("img") == 50
    assert "… 9,950 more rows" in markup
    assert len(markup) < 80_000
    small = frames.frame_html(df.head(3), max_rows=None)
    assert "more rows" not in small and [t for t, _ in parse_html(small).tags].count("tr") == 4


def test_frame_html_cuts_long_cells() -> None:
    markup = frames.frame_html(pd.DataFrame({"title": ["y" * 100_000]}))
    assert len(markup) < 2_000 and "…" in markup


def test_styled_keeps_the_plain_frame(renders: list[Render]) -> None:
    df = frames.renders_frame(renders)
    view = frames.styled(df, max_rows=1)
    assert view.frame is df and len(view) == 2
    assert view._repr_html_() == frames.frame_html(df, 1)
    assert "… 1 more rows" in view._repr_html_()
    text = repr(view)
    assert "… 1 more rows" in text and "<NA>" not in text and "NaN" not in text
    assert df.iloc[0]["render_id"] in text


def test_frame_html_of_other_frames(renders: list[Render]) -> None:
    for df in (frames.layers_frame(renders), frames.resources_frame(_resources()),
               frames.transfers_frame(_transfers()), frames.renders_frame([])):
        _assert_safe(frames.frame_html(df))
