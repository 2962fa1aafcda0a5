"""gen_nb.display: thumbnail then player from URLs, escaped HTML, local files by relative URL."""

from __future__ import annotations

import dataclasses
import os
import warnings
from pathlib import Path
from typing import Any

import pytest
from _support import EXAMPLES, HtmlCollector, parse_html
from hypothesis import given, settings
from hypothesis import strategies as st

from gen_nb import display
from gen_nb.api.models import (
    ContentResource,
    Engine,
    Generation,
    LayerOutput,
    OutputResource,
    Render,
)
from gen_nb.display import show

XSS = "<img src=x onerror=alert(1)>"
VIDEO = "https://cdn.gen.pro/outputs/render_xyz.mp4"
THUMB = "https://cdn.gen.pro/thumbnails/render_xyz.jpg"


def _html(x: Any, **kwargs: Any) -> str:
    return show(x, **kwargs)._repr_html_()


def _safe(markup: str, *, local_ok: bool = False) -> HtmlCollector:
    """No script-ish tags, no on* handlers, src/href only http(s) (or our relative path)."""
    parsed = parse_html(markup)
    for tag, attrs in parsed.tags:
        assert tag in {"div", "b", "span", "em", "img", "video", "audio", "a"}, tag
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        for name in ("src", "href", "poster"):
            value = attrs.get(name)
            if value is not None:
                ok = value.startswith(("https://", "http://"))
                assert ok or (local_ok and ":" not in value.split("/")[0]), (tag, name, value)
    assert "base64" not in markup and "data:" not in markup
    return parsed


def _tags(parsed: HtmlCollector, name: str) -> list[dict[str, str | None]]:
    return [attrs for tag, attrs in parsed.tags if tag == name]


@pytest.fixture()
def renders() -> list[Render]:
    return Engine.from_api(EXAMPLES["engine"]).renders()


@pytest.fixture()
def layers(renders: list[Render]) -> dict[str, LayerOutput]:
    return {lo.kind: lo for lo in renders[1].layers}


# --- safe_url and badges ------------------------------------------------------------------------

@pytest.mark.parametrize("url", [VIDEO, "http://127.0.0.1:8123/outputs/a.mp4",
                                 "HTTPS://CDN.GEN.PRO/A.MP4", "  https://cdn.gen.pro/a.mp4 "])
def test_safe_url_keeps_http_urls(url: str) -> None:
    assert display.safe_url(url) == url.strip()


@pytest.mark.parametrize("url", [
    "javascript:alert(1)", "JavaScript:alert(1)", " javascript:alert(1)", "java\tscript:alert(1)",
    "javascript://cdn.gen.pro/%0Aalert(1)", "ftp://cdn.gen.pro/a.mp4",
    "java\nscript:alert(1)", "data:text/html,<script>alert(1)</script>", "file:///etc/passwd",
    "vbscript:msgbox(1)", "//cdn.gen.pro/a.mp4", "/outputs/a.mp4", "outputs/a.mp4", "https://",
    "https://cdn.gen.pro/a b.mp4", "https://cdn.gen.pro/\x00.mp4", "", None, 42, b"https://x",
])
def test_safe_url_refuses_everything_else(url: Any) -> None:
    assert display.safe_url(url) is None


def test_status_badge_is_escaped_and_coloured() -> None:
    assert display.status_badge_html(None) == ""
    parsed = parse_html(display.status_badge_html("<b>odd</b>"))
    assert _tags(parsed, "span")[0]["class"] == "gen-nb-status gen-nb-status-other"
    assert "".join(parsed.text) == "<b>odd</b>"
    failed = _tags(parse_html(display.status_badge_html("failed")), "span")[0]
    assert "#cf222e" in (failed["style"] or "")


# --- renders ------------------------------------------------------------------------------------

def test_completed_render_plays_with_its_thumbnail_as_poster_once(
        renders: list[Render]) -> None:
    """One picture: the player's poster is the thumbnail (no thumbnail stacked above it)."""
    parsed = _safe(_html(renders[1]))
    media = [(tag, attrs) for tag, attrs in parsed.tags if tag in ("img", "video")]
    assert [tag for tag, _ in media] == ["video"]
    video = media[0][1]
    assert video["src"] == VIDEO and video["poster"] == THUMB
    assert video["preload"] == "none"
    assert "controls" in video and "playsinline" in video
    assert not {"autoplay", "loop", "muted"} & set(video)
    assert "Stop scrolling: 3 tips" in "".join(parsed.text)


def test_failed_render_shows_badge_and_reason_but_no_player(renders: list[Render]) -> None:
    view = show(renders[0])
    parsed = _safe(view._repr_html_())
    assert not _tags(parsed, "video") and not _tags(parsed, "audio")
    assert _tags(parsed, "span")[0]["class"] == "gen-nb-status gen-nb-status-failed"
    assert "Voice generation timed out" in "".join(parsed.text)
    assert view.src is None


@pytest.mark.parametrize("status", ["pending", "processing", "stopped"])
def test_unfinished_render_has_no_player(status: str) -> None:
    render = Render(id="77", status=status, url=VIDEO, thumbnail_url=THUMB)
    parsed = _safe(_html(render))
    assert not _tags(parsed, "video")
    assert status in "".join(parsed.text)
    if status != "stopped":
        assert "client.wait('77')" in "".join(parsed.text)


def test_render_title_and_reason_show_as_text() -> None:
    render = Render(id="1", status="failed", title=XSS, engine_title=XSS,
                    failed_reason="<script>alert(2)</script>", url="javascript:alert(3)",
                    thumbnail_url="javascript:alert(4)")
    markup = _html(render)
    parsed = _safe(markup)
    assert not _tags(parsed, "img") and "<script" not in markup
    text = "".join(parsed.text)
    assert XSS in text and "<script>alert(2)</script>" in text
    assert "&lt;img src=x onerror=alert(1)&gt;" in markup


def test_javascript_url_on_a_completed_render_is_refused() -> None:
    view = show(Render(id="1", status="completed", url="javascript:alert(1)"))
    parsed = _safe(view._repr_html_())
    assert not _tags(parsed, "video") and not _tags(parsed, "a")
    assert "only http(s) URLs" in "".join(parsed.text)
    assert view.src is None


@settings(max_examples=60, deadline=None)
@given(title=st.text(max_size=200), reason=st.text(max_size=80),
       status=st.sampled_from(["completed", "failed", "pending"]))
def test_random_titles_and_reasons_stay_text(title: str, reason: str, status: str) -> None:
    render = Render(id="1", status=status, title=title, failed_reason=reason, url=VIDEO,
                    thumbnail_url=THUMB)
    parsed = _safe(_html(render))
    text = "".join(parsed.text)
    assert title in text
    if status == "failed":
        assert reason in text


# --- layers and other objects --------------------------------------------------------------------

def test_audio_layer_gets_an_audio_player(layers: dict[str, LayerOutput]) -> None:
    parsed = _safe(_html(layers["audio"]))
    (audio,) = _tags(parsed, "audio")
    assert audio["src"] == "https://cdn.gen.pro/outputs/vo_001.mp3"
    assert audio["preload"] == "none" and "controls" in audio
    assert not {"autoplay", "loop"} & set(audio)
    assert not _tags(parsed, "video") and "Voiceover" in "".join(parsed.text)


def test_video_layer_gets_thumbnail_and_video(layers: dict[str, LayerOutput]) -> None:
    parsed = _safe(_html(layers["video"]))
    (video,) = _tags(parsed, "video")
    assert video["src"].endswith("broll_001.mp4")
    assert video["poster"] == "https://cdn.gen.pro/thumbnails/broll_001.jpg"


def test_caption_layer_says_it_has_no_file(layers: dict[str, LayerOutput]) -> None:
    view = show(layers["caption"])
    parsed = _safe(view._repr_html_())
    assert not _tags(parsed, "video") and not _tags(parsed, "audio") and not _tags(parsed, "img")
    assert "no output file for this layer" in "".join(parsed.text).lower()
    assert "no output file for this layer" in repr(view).lower()


def test_image_resource_shows_the_image_once() -> None:
    resource = ContentResource.from_api(EXAMPLES["content_resources_page"][0])
    parsed = _safe(_html(resource))
    imgs = _tags(parsed, "img")
    assert [i["src"] for i in imgs] == ["https://cdn.gen.pro/uploads/abc123.png"]
    assert all(i["loading"] == "lazy" for i in imgs)


def test_video_resource_without_thumbnail_has_no_poster() -> None:
    resource = ContentResource.from_api(EXAMPLES["content_resources_page"][1])
    parsed = _safe(_html(resource))
    (video,) = _tags(parsed, "video")
    assert "poster" not in video and not _tags(parsed, "img")


def test_generations_and_output_resources() -> None:
    done = _safe(_html(Generation.from_api(EXAMPLES["generation_completed"])))
    assert _tags(done, "video")[0]["src"] == VIDEO
    failed = _safe(_html(Generation.from_api(EXAMPLES["generation_failed"])))
    assert not _tags(failed, "video")
    assert "Not enough footage" in "".join(failed.text)
    variant = _safe(_html(Generation.from_api(EXAMPLES["generation_openapi_variant"])))
    assert "poster" not in _tags(variant, "video")[0]
    output = OutputResource.from_api(EXAMPLES["generation_completed"]["output_resources"][0])
    assert _tags(_safe(_html(output)), "video")[0]["poster"] == THUMB


@pytest.mark.parametrize(("url", "tag"), [
    ("https://cdn.gen.pro/outputs/a.mp4", "video"), ("https://cdn.gen.pro/outputs/a.mp3", "audio"),
    ("https://cdn.gen.pro/outputs/a.png", "img"), ("https://cdn.gen.pro/outputs/a.bin", "a"),
])
def test_url_strings_pick_the_player_from_the_extension(url: str, tag: str) -> None:
    parsed = _safe(_html(url))
    assert (_tags(parsed, tag)[0].get("src") or _tags(parsed, tag)[0].get("href")) == url


def test_show_rejects_unknown_objects() -> None:
    with pytest.raises(TypeError, match="show"):
        show(42)


def test_text_fallback_says_what_and_where(renders: list[Render]) -> None:
    text = repr(show(renders[1]))
    assert "Render 56789" in text and VIDEO in text and THUMB in text and "<" not in text
    failed = repr(show(renders[0]))
    assert "failed" in failed and "Voice generation timed out" in failed and "video:" not in failed


def test_helpers_for_widgets(renders: list[Render], layers: dict[str, LayerOutput]) -> None:
    assert display.thumbnail_html(renders[0]) == ""
    assert 'src="https://cdn.gen.pro/thumbnails/render_xyz.jpg"' in display.thumbnail_html(
        renders[1])
    assert "<video" in display.player_html(renders[1])
    assert "<video" not in display.player_html(renders[0])
    assert "<audio" in display.player_html(layers["audio"])
    assert display.media_html(renders[1]) == show(renders[1])._repr_html_()


@pytest.mark.parametrize("name", ["generation_completed", "generation_failed",
                                  "generation_openapi_variant"])
def test_no_bytes_are_embedded_by_default(name: str, renders: list[Render]) -> None:
    for item in (Generation.from_api(EXAMPLES[name]), *renders, *renders[1].layers):
        _safe(_html(item))


# --- local files --------------------------------------------------------------------------------

@pytest.fixture()
def notebook_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "nb"
    (folder / "downloads").mkdir(parents=True)
    monkeypatch.chdir(folder)
    return folder


def test_local_file_under_cwd_plays_from_a_relative_url(notebook_dir: Path) -> None:
    clip = notebook_dir / "downloads" / "my clip.mp4"
    clip.write_bytes(b"\x00" * 64)
    for x in (clip, "downloads/my clip.mp4"):
        view = show(x)
        parsed = _safe(view._repr_html_(), local_ok=True)
        (video,) = _tags(parsed, "video")
        assert video["src"] == "downloads/my%20clip.mp4" == view.src
        assert video["preload"] == "none"
        assert "downloads/my clip.mp4" in repr(view)


def test_local_file_outside_cwd_is_explained(notebook_dir: Path) -> None:
    outside = notebook_dir.parent / "elsewhere.mp4"
    outside.write_bytes(b"\x00" * 64)
    view = show(outside)
    parsed = _safe(view._repr_html_())
    assert not _tags(parsed, "video") and view.src is None
    text = "".join(parsed.text)
    assert "outside the notebook's folder" in text and "gen_nb.download" in text
    assert "outside the notebook's folder" in repr(view)
    with pytest.raises(ValueError, match="outside"):
        display.local_file_url(outside)
    with pytest.raises(ValueError, match="outside"):
        display.local_file_url("../elsewhere.mp4")


def test_missing_local_file_is_explained(notebook_dir: Path) -> None:
    view = show(notebook_dir / "downloads" / "nope.mp4")
    assert view.src is None and "does not exist" in repr(view)


def test_hidden_folder_is_explained(notebook_dir: Path) -> None:
    hidden = notebook_dir / ".cache" / "a.mp3"
    hidden.parent.mkdir()
    hidden.write_bytes(b"\x00")
    view = show(hidden)
    assert view.src == ".cache/a.mp3"
    assert any("hidden" in note for note in view.notes)


@dataclasses.dataclass(frozen=True)
class FakeDownloadResult:
    path: Path
    url: str
    bytes: int
    resumed_from: int = 0
    sha256: str = ""
    seconds: float = 0.0
    skipped: bool = False
    segments: int = 1


@dataclasses.dataclass(frozen=True)
class FakeTransferResult:
    src: str
    status: str
    path: Path | None
    bytes: int
    sha256: str | None
    seconds: float
    error: str | None


def test_download_result_under_cwd_and_outside(notebook_dir: Path) -> None:
    inside = notebook_dir / "downloads" / "render_xyz.mp4"
    inside.write_bytes(b"\x00" * 8)
    view = show(FakeDownloadResult(inside, VIDEO, 8))
    assert view.src == "downloads/render_xyz.mp4"
    outside = notebook_dir.parent / "render_xyz.mp4"
    outside.write_bytes(b"\x00" * 8)
    fallback = show(FakeDownloadResult(outside, VIDEO, 8))
    assert fallback.src == VIDEO
    assert any("outside the notebook's folder" in n for n in fallback.notes)


def test_failed_transfer_result_shows_its_error() -> None:
    result = FakeTransferResult(VIDEO, "failed", None, 0, None, 1.0, "HTTP 404 <b>gone</b>")
    parsed = _safe(_html(result))
    assert not _tags(parsed, "video")
    assert "HTTP 404 <b>gone</b>" in "".join(parsed.text)


def test_embed_inlines_small_files_with_a_warning(notebook_dir: Path) -> None:
    clip = notebook_dir.parent / "tiny.mp4"        # outside cwd: embedding is the way out
    clip.write_bytes(b"abc")
    with pytest.warns(UserWarning, match="Embedding 3 bytes") as record:
        view = show(clip, embed=True)
    assert record[0].filename == __file__          # points at the caller, not at gen_nb
    assert view.src == "data:video/mp4;base64,YWJj"
    assert 'src="data:video/mp4;base64,YWJj"' in view._repr_html_()
    assert "base64" not in repr(view) and "embedded" in repr(view)


def test_embed_refuses_files_over_the_cap(notebook_dir: Path) -> None:
    clip = notebook_dir / "downloads" / "big.mp4"
    clip.write_bytes(b"\x00" * 100)
    with pytest.warns(UserWarning, match="embed limit"):
        view = show(clip, embed=True, embed_limit=10)
    assert view.src is None
    _safe(view._repr_html_())
    with pytest.warns(UserWarning, match="embed limit") as record:
        show(FakeDownloadResult(clip, VIDEO, 100), embed=True, embed_limit=10)
    assert record[0].filename == __file__


def test_helpers_do_not_warn_or_embed(notebook_dir: Path) -> None:
    clip = notebook_dir / "downloads" / "a.mp4"
    clip.write_bytes(b"abc")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        markup = display.player_html(clip) + display.thumbnail_html(clip)
    assert 'src="downloads/a.mp4"' in markup and "base64" not in markup


def test_link_helpers(notebook_dir: Path) -> None:
    parsed = _safe(display.link_html("https://cdn.gen.pro/outputs/a%20b.mp4", XSS))
    (anchor,) = _tags(parsed, "a")
    assert anchor["target"] == "_blank" and anchor["rel"] == "noopener noreferrer"
    assert "".join(parsed.text) == XSS
    assert display.link_html("javascript:alert(1)", "x") == ""
    assert ">a.mp4<" in display.link_html("https://cdn.gen.pro/a.mp4")
    clip = notebook_dir / "downloads" / "c d.mp4"
    clip.write_bytes(b"")
    (local,) = _tags(_safe(display.file_link_html(clip), local_ok=True), "a")
    assert local["href"] == "downloads/c%20d.mp4" and local["download"] == "c d.mp4"
    outside = display.file_link_html(notebook_dir.parent / "x.mp4")
    assert "<a" not in outside and "does not exist" in outside


def test_embed_is_ignored_for_remote_objects(renders: list[Render]) -> None:
    with pytest.warns(UserWarning, match="only applies to local files"):
        view = show(renders[1], embed=True)
    assert view.src == VIDEO


def test_local_file_url_defaults_to_the_kernel_cwd(notebook_dir: Path) -> None:
    (notebook_dir / "downloads" / "a#b?.mp4").write_bytes(b"")
    assert display.local_file_url("downloads/a#b?.mp4") == "downloads/a%23b%3F.mp4"
    assert display.local_file_url(os.path.join(notebook_dir, "downloads", "a#b?.mp4"),
                                  cwd=notebook_dir) == "downloads/a%23b%3F.mp4"


@pytest.mark.parametrize("item", [
    ContentResource(id="9", url="https://cdn.gen.pro/x.png", file_name=XSS),
    LayerOutput(render_id=XSS, layer_id=XSS, name=XSS, type="clip", kind="video", position=0,
                status="completed", url=VIDEO, thumbnail_url=THUMB, output_resource_id="1"),
    f"javascript:{XSS}",
    f"https://cdn.gen.pro/{XSS}.mp4",
], ids=["resource-file-name", "layer-ids", "javascript-url", "url-with-markup"])
def test_labels_built_from_api_strings_are_escaped(item: Any) -> None:
    markup = _html(item)
    parsed = _safe(markup)
    assert XSS in "".join(parsed.text) and "<img src=x" not in markup


# --- messages, contrast, save links ----------------------------------------------------------

@pytest.mark.parametrize("kind", sorted(display.MESSAGE_COLOURS))
def test_message_colours_reach_aa_on_light_and_dark(kind: str) -> None:
    light, dark = display.MESSAGE_COLOURS[kind]
    for background in display.LIGHT_BACKGROUNDS:
        assert display.contrast_ratio(light, background) >= 4.5, (kind, background)
    for background in display.DARK_BACKGROUNDS:
        assert display.contrast_ratio(dark, background) >= 4.5, (kind, background)


def test_lab_dark_own_colours_would_not_do() -> None:
    """Why gen_nb has its own palette: Lab Dark's success/error colours miss AA."""
    assert display.contrast_ratio("#388e3c", "#212121") < 4.5   # --jp-layout-color1
    assert display.contrast_ratio("#d32f2f", "#111111") < 4.5   # --jp-layout-color0


def test_message_wraps_escapes_and_folds_the_detail() -> None:
    html = display.message_html(f"Fix it {XSS}", "bad", detail=f"HTTP 401 {XSS}")
    parsed = parse_html(html.split("</style>", 1)[1])
    assert [tag for tag, _ in parsed.tags] == ["div", "details", "summary", "pre"]
    assert XSS not in html and "white-space:pre-line" in html
    assert 'body[data-jp-theme-light="false"] .gen-nb-msg-bad' in html
    assert display.message_html("") == ""


def test_show_of_a_local_file_offers_a_save_link_with_size_and_url(notebook_dir: Path) -> None:
    from types import SimpleNamespace

    (notebook_dir / "downloads").mkdir(exist_ok=True)
    path = notebook_dir / "downloads" / "clip.mp4"
    path.write_bytes(b"\0" * 61_954)
    result = SimpleNamespace(path=path, url=VIDEO, bytes=61_954, sha256="ab" * 32)
    parsed = _safe(show(result)._repr_html_(), local_ok=True)
    links = _tags(parsed, "a")
    assert links[-2]["href"] == "downloads/clip.mp4" and links[-2]["download"] == "clip.mp4"
    assert links[-1]["href"] == VIDEO
    assert "Save clip.mp4 (62.0 kB) to your computer" in "".join(parsed.text)
    assert "size: 61,954 bytes" in repr(show(result))
