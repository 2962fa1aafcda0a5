"""gen_nb.widgets.text: sizes, speeds, durations, progress lines, counters, labels."""

from __future__ import annotations

import sys

import pytest
import tqdm
from hypothesis import given
from hypothesis import strategies as st

from gen_nb.api.errors import DownloadCancelled, NotFoundError
from gen_nb.api.models import ContentResource, DeletePlan, LayerOutput, PlatformStatus, Post, Render
from gen_nb.api.redact import redact_url
from gen_nb.widgets import text as f


@pytest.mark.parametrize(("size", "text"), [
    (None, "?"), (float("nan"), "?"), (0, "0 B"), (5, "5 B"), (999, "999 B"),
    (999.5, "1.00 kB"), (1000, "1.00 kB"), (15_000, "15.0 kB"), (150_000, "150 kB"),
    (999_499, "999 kB"), (999_500, "1.00 MB"), (1_500_000, "1.50 MB"), (2 * 10**9, "2.00 GB"),
    (3.5e12, "3.50 TB"), (7e18, "7.00 EB"),
])
def test_format_bytes(size: float | None, text: str) -> None:
    assert f.format_bytes(size) == text


def _same_as_tqdm(size: float) -> None:
    """format_bytes is tqdm's unit_scale text (divisor 1000) with a space before the unit;
    whole counts under 1 kB drop tqdm's decimals ("5 B" for "5.00B")."""
    ours, theirs = f.format_bytes(size), tqdm.tqdm.format_sizeof(size, "B")
    number, unit = ours.split(" ")
    assert unit == theirs.lstrip("0123456789.-"), (size, ours, theirs)
    if size < 999.5 and float(size).is_integer():
        assert float(number) == float(theirs[:-1]) and "." not in number, (size, ours, theirs)
    else:
        assert ours.replace(" ", "") == theirs, (size, ours, theirs)


@pytest.mark.parametrize("size", [
    0, 1, 9, 10, 99, 100, 512, 999, 999.4, 999.5, 1000, 1001, 9_994, 9_995, 99_949, 99_950,
    999_499, 999_500, 1_048_576, 1_500_000, 10**9 - 1, 10**9, 2**30, 2**40, 10**15, 7 * 10**18,
    10**21, 10**24,
])
def test_format_bytes_matches_tqdm_at_the_edges(size: float) -> None:
    _same_as_tqdm(size)


@given(st.one_of(st.integers(min_value=0, max_value=10**24),
                 st.floats(min_value=0, max_value=1e24, allow_nan=False)))
def test_format_bytes_matches_tqdm(size: float) -> None:
    _same_as_tqdm(size)


def test_format_rate_is_format_bytes_per_second() -> None:
    for rate in (0.5, 5.5, 512, 12_345, 2.5e6, 7.1e9):
        assert f.format_rate(rate) == f"{f.format_bytes(rate)}/s"
        assert f.format_rate(rate).replace(" ", "") == tqdm.tqdm.format_sizeof(rate, "B") + "/s"


@pytest.mark.parametrize(("rate", "text"), [
    (None, "– B/s"), (0, "– B/s"), (-5, "– B/s"), (float("inf"), "– B/s"),
    (2_500_000, "2.50 MB/s"), (512, "512 B/s"), (5.5, "5.50 B/s"),
])
def test_format_rate(rate: float | None, text: str) -> None:
    assert f.format_rate(rate) == text


@pytest.mark.parametrize(("seconds", "text"), [
    (None, "?"), (-1, "?"), (float("nan"), "?"), (0, "0:00"), (4.6, "0:05"), (61, "1:01"),
    (3600, "1:00:00"), (3 * 3600 + 62, "3:01:02"),
])
def test_format_duration(seconds: float | None, text: str) -> None:
    assert f.format_duration(seconds) == text


def test_percent_is_clamped_and_safe_without_total() -> None:
    assert f.percent(5, 10) == 50.0
    assert f.percent(20, 10) == 100.0
    assert f.percent(5, None) == 0.0
    assert f.percent(5, 0) == 0.0


def test_progress_text_with_and_without_total() -> None:
    assert f.progress_text(5_000_000, 10_000_000, 2_500_000, 2.0) == \
        "5.00 MB / 10.0 MB (50%) · 2.50 MB/s · ETA 0:02"
    assert f.progress_text(1200, None, None, None) == "1.20 kB · – B/s"
    # finished: no ETA
    assert "ETA" not in f.progress_text(10, 10, 5.0, 0.0)


def test_status_text() -> None:
    assert f.status_text("processing", 12) == "processing · 0:12 elapsed"
    assert f.status_text("failed", 3, "bad input") == "failed · 0:03 elapsed · bad input"
    assert f.status_text("completed", None) == "completed"


def test_counter_text_marks_overflow() -> None:
    text, over = f.counter_text("Caption", 300, [("TikTok", 2200), ("X", 280), ("Nope", None)])
    assert over
    assert text == "Caption: 300 characters · TikTok 300/2200 · X 300/280 (20 over)"
    text, over = f.counter_text("Title", 5, [])
    assert (text, over) == ("Title: 5 characters", False)


@pytest.mark.parametrize("url", [
    "https://bucket.example/out.mp4?X-Amz-Signature=abc&X-Amz-Credential=k",
    "https://user:pw@host:9000/a#frag",
    "http://127.0.0.1:5000/x.mp4?page=2",
])
def test_urls_are_shown_through_the_one_redactor(url: str) -> None:
    import gen_nb.widgets as widgets

    for name in widgets.__all__:  # no second redactor anywhere in the widgets
        module = sys.modules[getattr(widgets, name).__module__]
        assert getattr(module, "redact_url", redact_url) is redact_url, module
    assert getattr(f, "redact_url", redact_url) is redact_url
    assert f.caption_text(url) == redact_url(url)
    assert "Signature" not in f.caption_text(url) and "pw" not in f.caption_text(url)


def test_error_text_gen_error_plain_other_typed_and_secrets_masked() -> None:
    assert f.error_text(DownloadCancelled("stopped at 1 MB")) == "stopped at 1 MB"
    assert f.error_text(ValueError("boom")) == "ValueError: boom"
    assert f.error_text(RuntimeError()) == "RuntimeError"
    masked = f.error_text(OSError("PUT https://s/x?sig=SECRET failed"), ["sig=SECRET"])
    assert "SECRET" not in masked
    assert "gen_pat_abc" not in f.error_text(RuntimeError("key gen_pat_abc123 leaked"))
    err = NotFoundError(status=404, subject="generation 9")
    assert "Traceback" not in f.error_text(err) and "generation 9" in f.error_text(err)


def test_render_label_and_filter() -> None:
    xss = Render(id="7", status="failed", title="<img src=x onerror=alert(1)>",
                 engine_id="1", engine_title="Shorts", take=2, takes=3)
    label = f.render_label(xss)
    assert label == "<img src=x onerror=alert(1)> · Shorts · take 2/3 · failed · #7"
    plain = Render(id="8", status="completed")
    assert f.render_label(plain) == "(untitled) · take 1/1 · completed · file deleted or " \
        "expired · #8"
    assert f.render_label(plain, "downloaded", deleted=True) == \
        "(untitled) · take 1/1 · completed · file deleted · downloaded · #8"
    assert f.matches_filter(xss, text="ONERROR")
    assert f.matches_filter(xss, text="shorts", engine_id="1", status="failed")
    assert not f.matches_filter(xss, engine_id="2")
    assert not f.matches_filter(xss, status="completed")
    assert not f.matches_filter(plain, text="shorts")
    assert f.matches_filter(plain, text=" 8 ")


def _layer(**kw: object) -> LayerOutput:
    base = dict(render_id="7", layer_id="3", name="Voiceover", type="sound", kind="audio",
                position=1, status="completed", url="https://cdn/x.mp3", thumbnail_url=None,
                output_resource_id="9")
    base.update(kw)
    return LayerOutput(**base)  # type: ignore[arg-type]


def test_layer_label_and_caption_text() -> None:
    assert f.layer_label(_layer()) == "1. Voiceover · audio · completed"
    assert f.layer_label(_layer(name=None, position=None, url=None, status=None)) == \
        "layer 3 · audio · no output"
    assert f.caption_text(None) == ""
    assert f.caption_text("https://cdn/x.mp4?sig=1") == "https://cdn/x.mp4?…"
    assert f.caption_text(_layer()).startswith("Layer of render 7: 1. Voiceover")
    assert f.caption_text(Render(id="8", status="completed")).startswith("Render (untitled)")
    assert f.caption_text(ContentResource(id="5", url="u", file_name="a.mp4")) == "File a.mp4"


def test_render_lines_list_a_few_then_count_the_rest() -> None:
    renders = [Render(id=str(i), status="completed", title=f"Clip {i}", engine_id="3")
               for i in range(7)]
    lines = f.render_lines(renders, limit=5)
    assert lines[0] == "Clip 0 · engine 3 · completed · #0"
    assert len(lines) == 6 and lines[-1] == "… 2 more"
    assert f.render_lines([]) == []


def test_url_of() -> None:
    assert f.url_of("https://cdn/x.mp4") == "https://cdn/x.mp4"
    assert f.url_of(_layer()) == "https://cdn/x.mp3"
    assert f.url_of(None) is None and f.url_of(Render(id="1", status="pending")) is None


def test_plan_lines_lists_what_goes_and_warnings() -> None:
    plan = DeletePlan(resource_id="42", file_name="final.mp4",
                      would_destroy={"content_resources": [42], "cdn_url": "https://cdn/x"},
                      warnings=("Posts using https://cdn/x will break.",))
    lines = f.plan_lines(plan)
    assert lines[0] == "Will permanently delete content resource 42 (final.mp4)"
    assert "• content resources: 42" in lines
    assert "• cdn url: https://cdn/x" in lines
    assert lines[-1] == "⚠ Posts using https://cdn/x will break."
    done = f.plan_lines(DeletePlan(resource_id="42", deleted=True))
    assert done == ["Deleted content resource 42"]


def test_post_state_text() -> None:
    post = Post(id="p1", platforms_status=(
        PlatformStatus("tiktok", normalized_status="published"),
        PlatformStatus("x", normalized_status="failed", error="no media",
                       error_code="media_fetch_failed")))
    assert f.post_state_text(post) == \
        "failed · tiktok: published · x: failed (media_fetch_failed: no media)"
    assert f.post_state_text(Post(id="p2")) == "accepted"


def test_resource_id_of() -> None:
    assert f.resource_id_of(None) is None
    assert f.resource_id_of(42) == "42"
    assert f.resource_id_of(Render(id="1", status="completed", output_resource_id="9")) == "9"
    assert f.resource_id_of(Render(id="1", status="pending")) is None
    assert f.resource_id_of(_layer()) == "9"
    assert f.resource_id_of(ContentResource(id="5", url="u")) == "5"


def test_error_parts_lead_with_what_to_do() -> None:
    from gen_nb.api.errors import AuthenticationError, UploadRejectedError

    exc = AuthenticationError(status=401, error_code="unauthorized",
                              server_message="Missing or invalid API key",
                              subject="listing engines (GET https://api.gen.pro/v1/engines)")
    lead, detail = f.error_parts(exc)
    assert lead.startswith("The API key was refused. Pass api_key=")
    assert lead.endswith("(listing engines failed with HTTP 401.)")
    assert "error_code='unauthorized'" in detail and "Missing or invalid API key" in detail
    stream = UploadRejectedError("PUT https://s/b.mp4?… answered HTTP 403: AccessDenied. Check "
                                 "that the URL is a valid, unexpired upload URL.", status=403)
    lead, detail = f.error_parts(stream)
    assert lead.startswith("Check that the URL") and "HTTP 403" in lead and "PUT" in detail
    assert f.error_parts(ValueError("plain")) == ("ValueError: plain", None)


def test_form_words_and_tiles() -> None:
    assert f.form_words("YouTube: a title is required (the post's title).") == \
        "YouTube: a title is required: fill in the Title field."
    gone = Render(id="9", status="completed", title="T" * 80, thumbnail_url="https://c/t.jpg")
    tile = f.tile_of(gone, "downloaded", deleted=True)
    assert tile["thumb"] == "" and tile["state"] == "file deleted" and tile["tone"] == "warn"
    assert tile["title"] == "T" * 80 and "downloaded" in tile["meta"]
    failed = f.tile_of(Render(id="1", status="failed", thumbnail_url="javascript:x"))
    assert failed["thumb"] == "" and failed["placeholder"] == "failed: no video"
