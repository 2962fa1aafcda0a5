"""What each example notebook shows, checked on its executed outputs and saved widget state.

The notebooks run once per session through ``notebook_run`` (tests/conftest.py: each in its
own sandbox, with the sandbox's URL and key in the kernel's environment). The assertions compare
what a notebook printed with what its sandbox knows (CDN bytes, stored objects, deletions), so a
notebook that only *looks* right fails here.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import pytest
import requests
from notebook_harness import NOTEBOOKS, NotebookRun, NotebookRunner

pytestmark = pytest.mark.notebooks

WIDGET_VIEW_MIME = "application/vnd.jupyter.widget-view+json"
SHA256 = r"[0-9a-f]{64}"


def printed(run: NotebookRun, label: str) -> list[str]:
    """Values of every stdout line ``<label> <value>`` (e.g. ``"sha256:"``), in order."""
    pattern = re.compile(rf"^\s*{re.escape(label)}\s+(\S.*?)\s*$", re.MULTILINE)
    return [m.group(1) for out in run.outputs() if out.output_type == "stream"
            for m in pattern.finditer(out.text)]


def only_printed(run: NotebookRun, label: str) -> str:
    values = printed(run, label)
    assert len(values) == 1, f"expected one {label!r} line in {run.name}, got {values}"
    return values[0]


def cdn_urls(run: NotebookRun, suffix: str) -> list[str]:
    """URLs on the run's sandbox CDN ending in ``suffix`` that appear in any output."""
    pattern = re.escape(run.sandbox.cdn_base) + r"/[\w./-]+" + re.escape(suffix)
    return re.findall(pattern, run.text_output())


def html_output(run: NotebookRun) -> str:
    """Every text/html output joined."""
    return "\n".join(str(out["data"]["text/html"]) for out in run.outputs()
                     if "text/html" in out.get("data", {}))


def widget_views(run: NotebookRun) -> list[dict[str, Any]]:
    return [out["data"][WIDGET_VIEW_MIME] for out in run.outputs()
            if WIDGET_VIEW_MIME in out.get("data", {})]


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def model_names(run: NotebookRun) -> set[str]:
    return {m.get("model_name", "") for m in run.widget_states().values()}


# --- every notebook ----------------------------------------------------------------------------

@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_never_shows_the_api_key(notebook_run: NotebookRunner, name: str) -> None:
    run = notebook_run(name)
    saved = run.saved_path.read_text()
    assert run.sandbox.api_key not in saved
    assert "X-API-Key: gen_pat" not in saved


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_connects_to_the_given_sandbox(notebook_run: NotebookRunner, name: str) -> None:
    """The kernel used the harness's sandbox (GEN_API_BASE_URL), not one of its own."""
    run = notebook_run(name)
    assert f"<gen_nb.Client {run.sandbox.api_base} " in run.text_output()
    assert "using the local sandbox" not in run.text_output()


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_tables_show_no_nan(notebook_run: NotebookRunner, name: str) -> None:
    """No table or widget a reader sees is full of NaN / <NA> (missing values read as –)."""
    text = notebook_run(name).text_output()
    for marker in ("NaN", "<NA>", "&lt;NA&gt;", "NaT"):
        assert marker not in text, f"{name} shows {marker}"


# --- 00 tour -------------------------------------------------------------------------------------

def test_tour_saves_the_render_browser(notebook_run: NotebookRunner) -> None:
    run = notebook_run("00_tour.ipynb")
    assert {"VBoxModel", "TabModel", "ButtonModel", "SelectModel", "ToggleButtonsModel",
            "HTMLModel"} <= model_names(run)
    tabs = run.widgets_named("TabModel")
    assert any({"Preview", "Download", "Publish", "Delete"} <= set(t.get("titles", ()))
               for t in tabs), tabs
    states = run.widget_states()
    views = widget_views(run)
    assert views, "the RenderBrowser left no widget view output"
    assert all(view["model_id"] in states for view in views)
    options = [label for s in run.widgets_named("SelectModel")
               for label in s.get("_options_labels", ())]
    assert any("completed" in label for label in options), options


def test_tour_lists_renders_with_thumbnails_from_urls(notebook_run: NotebookRunner) -> None:
    run = notebook_run("00_tour.ipynb")
    assert re.search(r"\d+ renders: \{'completed': \d+", run.text_output())
    assert cdn_urls(run, ".jpg"), "no thumbnail URL in the styled table"
    html = html_output(run) + "".join(str(s.get("value", ""))
                                      for s in run.widgets_named("HTMLModel"))
    for title in ("Meet Aurora: our lightest earbuds yet", "Launch teasers", "Recipe shorts",
                  "Weekly tips", "Plan your week in 10 minutes"):
        assert title in html, f"{title!r} is not in the table"
    assert "onerror" not in run.saved_path.read_text(), "the demo world shows a test string"


def test_tour_follows_a_render_live(notebook_run: NotebookRunner) -> None:
    """The seeded processing render moves once the tour watches it, and finishes."""
    run = notebook_run("00_tour.ipynb")
    text = run.text_output()
    watched = re.search(r"^#(\d+) '[^']+' \([^)]+\) is processing$", text, re.MULTILINE)
    assert watched, text
    assert "  now: completed" in text
    done = re.search(rf"^#{watched.group(1)} completed: (\S+)$", text, re.MULTILINE)
    assert done and run.sandbox.media_sha256(done.group(1))


def test_tour_gives_the_stream_tab_a_sandbox_bucket(notebook_run: NotebookRunner) -> None:
    run = notebook_run("00_tour.ipynb")
    shown = only_printed(run, "Stream tab destination:")
    assert shown.endswith("/sandbox-bucket/tour/render.mp4 (+ signature)"), shown
    values = [s.get("value", "") for s in run.widgets_named("TextModel")]
    assert any("/sandbox-bucket/tour/render.mp4?" in v for v in values), values


# --- 01 find the URL ---------------------------------------------------------------------------

def test_find_the_url_shows_the_cdn_mp4(notebook_run: NotebookRunner) -> None:
    run = notebook_run("01_find_the_url.ipynb")
    url = only_printed(run, "url:")
    assert url.startswith(run.sandbox.cdn_base + "/") and url.endswith(".mp4")
    assert run.sandbox.media_sha256(url)  # the CDN serves it
    assert f"True {url}" in run.text_output(), "raw requests and client.render() disagree"


def test_find_the_url_waits_for_a_new_render(notebook_run: NotebookRunner) -> None:
    run = notebook_run("01_find_the_url.ipynb")
    text = run.text_output()
    assert "now: completed" in text
    new_url = re.search(r"take (\d+) of (\d+), url: (\S+)", text)
    assert new_url, text
    assert new_url.group(1) == new_url.group(2) != "1", "the new take is not the latest"
    assert new_url.group(3) != only_printed(run, "url:")
    assert new_url.group(3).startswith(run.sandbox.cdn_base) and new_url.group(3).endswith(".mp4")
    assert run.sandbox.media_sha256(new_url.group(3))


# --- 02 download -------------------------------------------------------------------------------

def test_download_lands_the_verified_file(notebook_run: NotebookRunner) -> None:
    run = notebook_run("02_download.ipynb")
    source = only_printed(run, "source:")
    path = Path(only_printed(run, "saved:"))
    assert path.parent == run.download_dir
    assert path.is_file()
    expected = run.sandbox.media_sha256(source)
    assert only_printed(run, "sha256:") == expected
    assert sha256_of(path) == expected
    assert not list(run.download_dir.glob("*.part")), "a partial file was left behind"


def test_download_skips_a_finished_file_and_resumes_a_cancelled_one(
        notebook_run: NotebookRunner) -> None:
    run = notebook_run("02_download.ipynb")
    text = run.text_output()
    assert "skipped: True" in text
    assert "cancelled:" in text
    resumed = re.search(r"resumed from byte ([\d,]+) of ([\d,]+)", text)
    assert resumed, text
    done, total = (int(g.replace(",", "")) for g in resumed.groups())
    assert 0 < done < total
    assert "same bytes as the CDN's: True" in text


def test_download_many_and_the_button_finish(notebook_run: NotebookRunner) -> None:
    run = notebook_run("02_download.ipynb")
    finished = [s for s in run.widgets_named("FloatProgressModel")
                if s.get("bar_style") == "success"]
    assert any(s.get("value") == 100.0 for s in finished), "the DownloadButton's bar is not full"
    assert "button result:" in run.text_output()
    result = only_printed(run, "button result:")
    assert (run.download_dir / result).is_file()
    mp4s = sorted(p.name for p in run.download_dir.glob("*.mp4"))
    assert len(mp4s) >= 4, mp4s


# --- 03 stream to storage ----------------------------------------------------------------------

def test_stream_to_storage_stores_the_same_bytes(notebook_run: NotebookRunner) -> None:
    run = notebook_run("03_stream_to_storage.ipynb")
    source = only_printed(run, "source:")
    expected = run.sandbox.media_sha256(source)
    assert only_printed(run, "sha256:") == expected
    assert only_printed(run, "stored sha256:") == expected
    assert "same bytes as the CDN's: True" in run.text_output()
    size = len(requests.get(source, timeout=30).content)
    assert f"streamed {size} bytes → HTTP 200" in run.text_output()


def test_stream_to_storage_keeps_its_bucket_for_the_panel(notebook_run: NotebookRunner) -> None:
    """The StreamPanel comes with a destination in a bucket that is still there to use."""
    run = notebook_run("03_stream_to_storage.ipynb")
    assert "nothing yet: click Stream above" in run.text_output()
    values = [s.get("value", "") for s in run.widgets_named("TextModel")]
    assert any("/sandbox-bucket/exports/from-the-panel.mp4?" in v for v in values), values
    code = "".join(c.source for c in run.nb.cells if c.cell_type == "code")
    assert "bucket.stop()" not in code, "the bucket is stopped before anyone can click Stream"


def test_stream_to_storage_shows_why_the_raw_pipe_fails(notebook_run: NotebookRunner) -> None:
    run = notebook_run("03_stream_to_storage.ipynb")
    assert re.search(r"chunked pipe → (411|501)\b", run.text_output())
    assert "X-Amz-Signature" not in run.text_output(), "the presigned signature was shown"


# --- 04 publish ---------------------------------------------------------------------------------

def test_publish_follows_the_post_to_published(notebook_run: NotebookRunner) -> None:
    run = notebook_run("04_publish_by_url.ipynb")
    assert only_printed(run, "final state:") == "published"
    link = re.search(rf"tiktok: ({re.escape(run.sandbox.url)}/sandbox/posts/tiktok/\d+)$",
                     run.text_output(), re.MULTILINE)
    assert link, run.text_output()
    page = requests.get(link.group(1), timeout=30)
    assert page.status_code == 200 and "not published anywhere" in page.text


def test_publish_shows_rule_violations_before_sending(notebook_run: NotebookRunner) -> None:
    run = notebook_run("04_publish_by_url.ipynb")
    text = run.text_output()
    assert "✗ X: the caption has 360 characters; the limit is 280" in text
    assert re.search(r"✗ YouTube: .*title", text)
    assert "not sent:" in text
    assert {"CheckboxModel", "TextareaModel", "ButtonModel"} <= model_names(run)


# --- 05 thumbnails -----------------------------------------------------------------------------

def test_thumbnails_preview_from_urls(notebook_run: NotebookRunner) -> None:
    run = notebook_run("05_thumbnails.ipynb")
    html = html_output(run)
    video = re.search(r"<video\b[^>]*>", html)
    assert video, "no player in the preview"
    assert 'preload="none"' in video.group(0)
    assert "autoplay" not in video.group(0) and "loop" not in video.group(0)
    thumb = only_printed(run, "thumbnail:")
    assert thumb.startswith(run.sandbox.cdn_base) and thumb in html


def test_thumbnails_handle_a_missing_thumbnail(notebook_run: NotebookRunner) -> None:
    run = notebook_run("05_thumbnails.ipynb")
    text = run.text_output()
    count = re.search(r"(\d+) completed render\(s\) without a thumbnail", text)
    assert count and int(count.group(1)) >= 1, text
    assert 'src="None"' not in text and "src='None'" not in text
    galleries = [s for s in run.widgets_named("AnyModel") if s.get("view") == "gallery"]
    assert galleries, "the gallery widget was not saved"
    tiles = galleries[0]["tiles"]
    assert tiles and all(t["thumb"] or t["placeholder"] for t in tiles)
    assert any(not t["thumb"] and t["placeholder"] == "no thumbnail" for tile in [tiles]
               for t in tile), "no placeholder tile for a render without a thumbnail"


# --- 06 retention and delete ---------------------------------------------------------------------

def test_delete_makes_the_cdn_url_answer_404(notebook_run: NotebookRunner) -> None:
    run = notebook_run("06_retention_delete.ipynb")
    url = only_printed(run, "deleted url:")
    assert url.startswith(run.sandbox.cdn_base)
    assert only_printed(run, "deleted:") == "True"
    assert only_printed(run, "CDN answers:") == "404"
    assert requests.get(url, timeout=30).status_code == 404


def test_delete_is_dry_run_first_and_needs_confirmation(notebook_run: NotebookRunner) -> None:
    run = notebook_run("06_retention_delete.ipynb")
    text = run.text_output()
    assert "would destroy:" in text
    assert "refused:" in text and "confirm=True" in text
    assert re.search(r"^! .*404", text, re.MULTILINE), "the dry run does not say what breaks"


def test_delete_touches_only_the_render_it_made(notebook_run: NotebookRunner) -> None:
    """The notebook deletes the take it started, never a render it found."""
    run = notebook_run("06_retention_delete.ipynb")
    made = re.search(r"new render (\S+) → resource (\S+)", run.text_output())
    assert made, run.text_output()
    deleted = only_printed(run, "deleted url:")
    assert deleted == only_printed(run, "url:")
    deletes = [r for r in run.sandbox.requests if r.server == "api" and r.method == "DELETE"]
    assert deletes and {r.path for r in deletes} == {f"/v1/content_resources/{made.group(2)}"}


# --- 07 layer outputs ----------------------------------------------------------------------------

def test_layer_outputs_show_audio_and_a_clip(notebook_run: NotebookRunner) -> None:
    run = notebook_run("07_layer_outputs.ipynb")
    html = html_output(run)
    assert re.search(r"<audio\b[^>]*preload=\"none\"", html)
    assert re.search(r"<video\b[^>]*preload=\"none\"", html)
    assert "Voiceover" in run.text_output()
    assert "Captions (caption): no file" in run.text_output()


def test_layer_output_download_matches_the_cdn(notebook_run: NotebookRunner) -> None:
    run = notebook_run("07_layer_outputs.ipynb")
    voice = cdn_urls(run, ".mp3")
    assert voice, "no voiceover URL shown"
    saved = run.download_dir / only_printed(run, "saved:").split()[0]
    assert saved.is_file()
    assert sha256_of(saved) == run.sandbox.media_sha256(voice[0])
    assert only_printed(run, "sha256:") == sha256_of(saved)

