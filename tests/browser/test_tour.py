"""notebooks/00_tour.ipynb in a real JupyterLab: the RenderBrowser renders as widgets, and a
user can pick a render, see its thumbnail and a CDN <video>, download it to disk with the bar at
100%, and publish it to a platform until the post says "published" (issue 4, item 5).

Screenshots (test-artifacts/screenshots/): tour-1-ran, tour-0-table (the styled renders table
with thumbnails), tour-2-picked, tour-3-playing, tour-4-downloaded, tour-5-published, plus
test_tour_in_jupyterlab-final/-failed.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from pathlib import Path
from typing import Any

import pytest
from lab_driver import (
    NOTEBOOK_DIR,
    LabServer,
    open_notebook,
    open_tab,
    run_all_cells,
    screenshot,
    select_option_containing,
    stderr_outputs,
    wait_for_full_bar,
    wait_for_widgets,
)

TOUR = "00_tour.ipynb"
FALLBACK_TEXT = "widgets need a Jupyter front end"  # what a Panel shows when it can't render
CAPTION = "Posted from the gen_nb browser test"
PLATFORM = "TikTok"  # needs only a media URL and a caption


@pytest.fixture()
def tour_notebook() -> str:
    if not (NOTEBOOK_DIR / TOUR).exists():
        message = f"notebooks/{TOUR} does not exist"
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return TOUR


@pytest.fixture()
def render(lab_sandbox: Any) -> Any:
    """A completed render with a video and a thumbnail, read through the public API.

    Not the picker's first entry (so picking is a real change of selection), preferably from the
    engine whose title is an ``<img onerror>`` (so the browser shows how API text is escaped).
    """
    import gen_nb

    with gen_nb.connect(sandbox=lab_sandbox, quiet=True) as client:
        everything = client.renders()
    done = [r for r in everything[1:] if r.status == "completed" and r.url and r.thumbnail_url]
    assert done, "the sandbox has no completed render with a thumbnail"
    hostile = [r for r in done if "<" in (r.engine_title or "")]
    return (hostile or done)[-1]


def browser_root(page: Any) -> Any:
    """The outermost widget box holding the RenderBrowser's tabs."""
    return page.locator(".jp-OutputArea-output .widget-vbox",
                        has=page.locator(".widget-tab")).first


def downloaded_file(folder: Path, timeout_s: float = 60.0) -> Path:
    """The finished download in ``folder`` (not a .part, sidecar or lock), once it is there."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        done = [p for p in folder.rglob("*") if p.is_file() and ".part" not in p.name
                and p.suffix not in (".lock", ".jsonl") and not p.name.startswith(".")]
        if done:
            return done[0]
        time.sleep(0.2)
    raise AssertionError(f"no finished file in {folder}: {sorted(folder.rglob('*'))}")


def test_tour_in_jupyterlab(lab: LabServer, page: Any, lab_sandbox: Any, render: Any,
                            tour_notebook: str) -> None:
    open_notebook(page, lab, tour_notebook)
    run_all_cells(page, lab, tour_notebook)
    root = browser_root(page)
    wait_for_widgets(page, ".widget-tab")
    screenshot(page, "tour-1-ran")
    assert not stderr_outputs(page), stderr_outputs(page)
    notebook_text = page.locator(".jp-Notebook").inner_text()
    assert FALLBACK_TEXT not in notebook_text
    assert "VBox(children=" not in notebook_text, "widgets rendered as their text repr"
    assert root.locator(".jupyter-widgets").count() > 5
    assert root.locator(".widget-button").count() >= 1
    assert root.locator(".widget-tab .lm-TabBar-tab").count() == 7  # Preview … Status
    rows = page.locator(".jp-OutputArea-output table.gen-nb-frame tbody tr")
    assert rows.count() > 5, "the styled renders table is missing"
    assert page.locator(".jp-OutputArea-output table.gen-nb-frame img").count() > 5
    rows.first.scroll_into_view_if_needed()
    screenshot(page, "tour-0-table")
    root.scroll_into_view_if_needed()

    select_option_containing(root, f"#{render.id}")  # picker options end with "#<id>"
    preview = open_tab(root, "Preview")
    thumb = preview.locator(f'img[src="{render.thumbnail_url}"]').first
    thumb.wait_for(state="visible")
    page.wait_for_function("img => img.complete && img.naturalWidth > 0",
                           arg=thumb.element_handle())
    assert f"#{render.id}" in preview.inner_text()
    if "<" in (render.engine_title or ""):  # API text shows as text, never as markup
        assert render.engine_title in preview.inner_text()
    assert page.locator('img[src="x"]').count() == 0, "an API string was rendered as HTML"
    screenshot(page, "tour-2-picked")

    preview.get_by_role("button", name="Play").click()
    video = preview.locator("video").first
    video.wait_for(state="attached")
    assert video.get_attribute("src") == render.url
    assert render.url.startswith(lab_sandbox.cdn_base)
    assert video.get_attribute("preload") == "none"
    assert video.get_attribute("autoplay") is None and video.get_attribute("loop") is None
    screenshot(page, "tour-3-playing")

    download = open_tab(root, "Download")
    download.get_by_role("button", name="Download").click()
    wait_for_full_bar(page, download, "success")
    landed = downloaded_file(lab.download_dir)
    assert hashlib.sha256(landed.read_bytes()).hexdigest() == lab_sandbox.media_sha256(render.url)
    download.locator(f'a[download="{landed.name}"]').wait_for(state="visible")
    screenshot(page, "tour-4-downloaded")

    publish = open_tab(root, "Publish")
    publish.locator(".widget-checkbox", has_text=PLATFORM).locator("input").check()
    publish.locator("textarea").first.fill(CAPTION)
    button = publish.get_by_role("button", name="Publish")
    page.wait_for_function("b => !b.disabled", arg=button.element_handle())
    button.click()
    publish.get_by_text(re.compile(r"^post \S+: published\b")).wait_for(timeout=60_000)
    screenshot(page, "tour-5-published")
