"""notebooks/00_tour.ipynb in a real JupyterLab (light theme, 1400 px, file browser closed): the
tour's flows as a marketer clicks them, each checked against the sandbox and the disk.

pick → preview → play; download, then fetch the saved link from the page and compare its bytes
with the file on disk; stream to the sandbox bucket; publish to TikTok until "published"; the
gallery with placeholders and filters, tick several and bulk-download them; delete with the
state update (list, gallery and preview say "file deleted" and the message stays). Every
message on the way is checked for clipping and contrast.

Screenshots (test-artifacts/screenshots/): lab-light-1-ran, -2-picked, -3-playing,
-4-downloaded, -5-streamed, -6-published, -7-gallery, -8-bulk, -9-deleted.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from lab_driver import (
    LabServer,
    open_notebook,
    open_tab,
    run_all_cells,
    screenshot,
    stderr_outputs,
    wait_for_full_bar,
    wait_for_widgets,
)
from page_checks import browser_root, check_messages, download_and_fetch, pick

TOUR = "00_tour.ipynb"
FALLBACK_TEXT = "widgets need a Jupyter front end"  # what a Panel shows when it can't render
CAPTION = "Posted from the gen_nb browser test"
PLATFORM = "TikTok"  # needs only a media URL and a caption


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
    return done[1]


def close_file_browser(page: Any) -> None:
    """Collapse Lab's left sidebar (it opens with the file browser)."""
    tab = page.locator(".jp-SideBar.jp-mod-left .lm-TabBar-tab.lm-mod-current")
    if tab.count():
        tab.first.click()
        page.wait_for_timeout(300)


def ran_tour(page: Any, lab: LabServer) -> Any:
    open_notebook(page, lab, TOUR)
    run_all_cells(page, lab, TOUR)
    wait_for_widgets(page, ".widget-tab")
    root = browser_root(page)
    root.wait_for(state="visible")
    assert not stderr_outputs(page), stderr_outputs(page)
    text = page.locator(".jp-Notebook").inner_text()
    assert FALLBACK_TEXT not in text and "VBox(children=" not in text
    return root


def test_tour_in_jupyterlab_light(lab: LabServer, page: Any, lab_sandbox: Any,
                                  render: Any) -> None:
    lab.set_theme("JupyterLab Light")
    root = ran_tour(page, lab)
    close_file_browser(page)
    root.scroll_into_view_if_needed()
    screenshot(page, "lab-light-1-ran")
    assert root.locator(".widget-tab .lm-TabBar-tab").count() == 8  # Preview … Selection

    pick(root, render)
    preview = open_tab(root, "Preview")
    thumb = preview.locator(f'img[src="{render.thumbnail_url}"]').first
    thumb.wait_for(state="visible")
    assert page.locator('img[src="x"]').count() == 0, "an API string was rendered as HTML"
    screenshot(page, "lab-light-2-picked")
    preview.get_by_role("button", name="Play").click()
    video = preview.locator("video").first
    video.wait_for(state="attached")
    assert video.get_attribute("src") == render.url
    assert video.get_attribute("preload") == "none"
    assert video.get_attribute("autoplay") is None and video.get_attribute("loop") is None
    screenshot(page, "lab-light-3-playing")

    download_and_fetch(page, root, lab.download_dir, render)
    check_messages(page)
    screenshot(page, "lab-light-4-downloaded")

    stream = open_tab(root, "Stream")
    stream.get_by_role("button", name="Stream").first.click()
    wait_for_full_bar(page, stream, "success")
    said = stream.locator(".gen-nb-msg-ok").first.inner_text()  # the kernel's own bucket
    assert "HTTP 200" in said and lab_sandbox.media_sha256(render.url)[:12] in said, said
    screenshot(page, "lab-light-5-streamed")

    publish = open_tab(root, "Publish")
    publish.locator(".widget-checkbox", has_text=PLATFORM).locator("input").check()
    publish.locator("textarea").first.fill(CAPTION)
    button = publish.get_by_role("button", name="Publish")
    page.wait_for_function("b => !b.disabled", arg=button.element_handle())
    button.click()
    publish.get_by_text(re.compile(r"^post \S+: published\b")).wait_for(timeout=60_000)
    check_messages(page)
    screenshot(page, "lab-light-6-published")

    gallery_bulk_and_delete(page, root, lab, lab_sandbox, render)


def gallery_bulk_and_delete(page: Any, root: Any, lab: LabServer, sandbox: Any,
                            render: Any) -> None:
    """Gallery: placeholders, filters, the current render marked; tick two and bulk-download
    them; delete one and see the state everywhere."""
    root.locator(".widget-toggle-button", has_text="Gallery").first.click()
    tiles = root.locator(".gen-nb-tile")
    tiles.first.wait_for(state="visible")
    assert root.locator(".gen-nb-tile .gen-nb-placeholder").count() >= 1, "no placeholder tile"
    assert root.locator(".gen-nb-tile .gen-nb-badge").count() == tiles.count()
    current = root.locator(f'.gen-nb-tile.gen-nb-current[data-render-id="{render.id}"]')
    assert current.count() == 1, "the render picked in the list is not marked"
    title = current.locator(".gen-nb-title")
    assert title.evaluate("e => getComputedStyle(e).textOverflow") == "ellipsis"
    assert title.get_attribute("title") == render.title
    screenshot(page, "lab-light-7-gallery")

    root.locator(".widget-dropdown", has_text="Status").locator("select").select_option(
        "completed")
    page.wait_for_function("() => [...document.querySelectorAll('.gen-nb-tile .gen-nb-badge')]"
                           ".every(b => b.textContent.startsWith('completed'))")
    root.locator(".widget-text input").first.fill(render.title[:12])
    page.wait_for_function("t => [...document.querySelectorAll('.gen-nb-tile')].every("
                           "e => e.title.includes(t))", arg=render.title[:12])
    root.locator(".widget-text input").first.fill("")
    page.wait_for_function("() => document.querySelectorAll('.gen-nb-tile').length > 2")
    boxes = root.locator(".gen-nb-tile .gen-nb-check input")
    boxes.nth(0).check()
    boxes.nth(1).check()
    bulk = open_tab(root, "Selection")
    bulk.get_by_text("2 renders selected", exact=False).first.wait_for()
    bulk.get_by_role("button", name="Download all (2)").click()
    wait_for_full_bar(page, bulk, "success")
    assert bulk.locator("table.gen-nb-report tbody tr").count() == 2
    assert bulk.locator("a.gen-nb-save-file").count() == 2
    check_messages(page)
    screenshot(page, "lab-light-8-bulk")

    victim = root.locator(".gen-nb-tile").nth(2)
    victim_id = victim.get_attribute("data-render-id")
    victim.click()
    root.locator(f'.gen-nb-tile.gen-nb-current[data-render-id="{victim_id}"]').wait_for()
    delete = open_tab(root, "Delete")
    delete.get_by_role("button", name="Delete…").click()
    delete.get_by_role("button", name="Confirm delete").click()
    done = delete.locator(".gen-nb-msg-ok", has_text="Deleted content resource")
    done.wait_for(timeout=30_000)
    tile = root.locator(f'.gen-nb-tile[data-render-id="{victim_id}"] .gen-nb-badge')
    tile.filter(has_text="file deleted").wait_for(timeout=30_000)
    page.wait_for_timeout(1500)  # a refresh must not replace the message
    assert done.count() == 1 and done.is_visible()
    preview = open_tab(root, "Preview")
    preview.get_by_text("file was deleted", exact=False).wait_for()
    check_messages(page)
    screenshot(page, "lab-light-9-deleted")
