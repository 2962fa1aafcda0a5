"""Widgets driven without a kernel against the real sandbox (see testing.md, "Widgets without a
kernel"): clicks are what the browser sends (``_handle_custom_msg({"event": "click"}, [])``),
selections are ``set_state``; the sandbox serves the API, the CDN and storage.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ipywidgets
import pytest
import requests
from _widget_support import all_states, click

from gen_nb.api.errors import DownloadCancelled
from gen_nb.widgets import (
    DeleteButton,
    DownloadButton,
    PublishPanel,
    RenderBrowser,
    RenderWatcher,
    StreamPanel,
)
from gen_nb.widgets.browser import TABS

XSS = "<img src=x onerror=alert(1)>"
WAIT = 60  # seconds a worker may take at most in these tests (never a timing assertion)


def completed(client: Any) -> Any:
    return next(r for r in client.renders() if r.status == "completed" and r.url)


def select_by_state(browser: RenderBrowser, render: Any) -> None:
    """Pick ``render`` in the browser's list the way the front end does (index set_state)."""
    ids = [value for _, value in browser.picker.choices.options]
    browser.picker.choices.set_state({"index": ids.index(render.id)})


@pytest.fixture(scope="module")
def own_sandbox() -> Iterator[Any]:
    """A private sandbox for the tests that change server state (delete, publish, render), so
    the session sandbox other modules share keeps its seed data."""
    from gen_nb import sandbox as sandbox_mod

    handle = sandbox_mod.start(render_seconds=1.0, publish_seconds=1.0)
    try:
        yield handle
    finally:
        handle.stop()


@pytest.fixture()
def own_client(own_sandbox: Any) -> Iterator[Any]:
    import gen_nb

    with gen_nb.connect(sandbox=own_sandbox, quiet=True) as c:
        yield c


@pytest.fixture()
def browser(client: Any, download_dir: Path) -> Iterator[RenderBrowser]:
    widget = RenderBrowser(client, dest=download_dir)
    widget.wait()
    yield widget
    for panel in (widget._panels.get("Download"), widget._panels.get("Stream")):
        if panel is not None:
            panel.cancel()
            panel.wait(WAIT)


def test_select_preview_thumbnail_then_video(browser: RenderBrowser, client: Any) -> None:
    render = completed(client)
    select_by_state(browser, render)
    assert browser.value.id == render.id
    preview = browser.preview
    if render.thumbnail_url:
        assert render.thumbnail_url in preview.html.value
    assert "<video" not in preview.html.value
    click(preview.play_button)
    html = preview.html.value
    assert "<video" in html and 'preload="none"' in html and render.url in html
    assert "autoplay" not in html and " loop" not in html


def test_download_click_success_and_sha(browser: RenderBrowser, client: Any, sandbox: Any,
                                        download_dir: Path) -> None:
    render = completed(client)
    browser.select(render)
    button = browser.download_button
    click(button.button)
    assert button.wait(WAIT)
    assert button.error is None, button.label.text
    assert button.bar.value == 100.0 and button.bar.bar_style == "success"
    path = Path(button.result.path)
    assert path.is_file() and path.parent == download_dir
    assert hashlib.sha256(path.read_bytes()).hexdigest() == sandbox.media_sha256(render.url)
    assert path.name in button.label.text
    assert button.link.files[0]["rel"] == path.name or button.link.files[0]["name"] == path.name


def test_download_cdn_fault_turns_bar_red_with_reason(client: Any, sandbox: Any,
                                                      download_dir: Path) -> None:
    render = completed(client)
    sandbox.inject(server="cdn", status=503)
    button = DownloadButton(render, download_dir)
    button.click()
    assert button.wait(WAIT)
    assert button.bar.bar_style == "danger"
    assert button.error is not None
    assert button.label.text and "Traceback" not in button.label.text
    assert "503" in button.label.text or "unavailable" in button.label.text.lower()
    sandbox.clear_faults()
    button.click()  # a second click retries
    assert button.wait(WAIT)
    assert button.bar.bar_style == "success", button.label.text


def test_download_cancel_then_click_resumes(client: Any, sandbox: Any,
                                            download_dir: Path) -> None:
    url = sandbox.large_media_url(8 * 1024 * 1024, name="widget-big.mp4")
    sandbox.inject(server="cdn", rate=1024 * 1024, times=1)  # slow the first request only
    button = DownloadButton(url, download_dir)
    seen: list[float] = []
    button.bar.observe(lambda ch: seen.append(ch["new"]), names="value")
    button.click()
    while button.running and not any(0 < v < 100 for v in seen):
        button.wait(0.05)
    button.cancel()
    assert button.wait(WAIT)
    assert isinstance(button.error, DownloadCancelled), button.label.text
    assert button.bar.bar_style == "warning" and button.button.description == "Resume"
    sandbox.clear_faults()
    click(button.button)
    assert button.wait(WAIT)
    assert button.bar.bar_style == "success", button.label.text
    assert button.result.resumed_from > 0
    assert button.result.sha256 == sandbox.media_sha256(url)


def test_stream_panel_to_storage(client: Any, sandbox: Any) -> None:
    render = completed(client)
    dest = sandbox.storage_put_url(key="widget-stream.mp4")
    panel = StreamPanel(render)
    panel.destination.value = dest
    click(panel.button)
    assert panel.wait(WAIT)
    assert panel.bar.bar_style == "success", panel.label.text
    stored = sandbox.storage_object("widget-stream.mp4")
    assert stored is not None and stored.sha256 == panel.result.sha256
    query = dest.split("?", 1)[1]
    assert query not in panel.label.text and query not in repr(panel)


def test_publish_counters_violations_and_published(own_client: Any) -> None:
    render = completed(own_client)
    panel = PublishPanel(own_client, render, wait_timeout=WAIT)
    assert {"tiktok", "youtube", "x"} <= set(panel.platform_boxes)
    panel.platform_boxes["youtube"].value = True
    assert panel.publish_button.disabled
    assert any("YouTube" in v and "title" in v.lower() for v in panel.violations)
    panel.platform_boxes["x"].value = True
    panel.caption.value = "a" * 281
    assert panel.caption_counter.kind == 'bad' and "281/280" in panel.caption_counter.text
    panel.platform_boxes["youtube"].value = False
    panel.platform_boxes["x"].value = False
    panel.platform_boxes["tiktok"].value = True
    panel.caption.value = "Made with gen_nb"
    panel.schedule.value = "now"
    assert not panel.publish_button.disabled, panel.violations
    click(panel.publish_button)
    assert panel.wait(WAIT)
    assert panel.error is None, panel.status.text
    assert panel.post.state == "published"
    assert "published" in panel.status.text
    urls = [s.post_url for s in panel.post.platforms_status if s.post_url]
    assert urls and urls[0] in panel.links.value


def test_delete_two_clicks_then_cdn_404(own_client: Any) -> None:
    # the LAST completed render, so the other tests (which use the first) keep their file
    client = own_client
    render = [r for r in client.renders()
              if r.status == "completed" and r.url and r.output_resource_id][-1]
    assert requests.get(render.url, timeout=10).status_code == 200
    button = DeleteButton(client, render)
    deleted: list[Any] = []
    button.on_deleted(deleted.append)
    click(button.button)
    assert button.wait(WAIT)
    assert button.error is None, button.message.text
    plan_text = " ".join(c.text for c in button.plan_box.children)
    assert "post" in plan_text.lower()  # published/scheduled posts using the URL will break
    assert requests.get(render.url, timeout=10).status_code == 200  # nothing deleted yet
    assert not deleted
    click(button.confirm_button)
    assert button.wait(WAIT)
    assert button.error is None, button.message.text
    assert deleted and button.deleted
    assert requests.get(render.url, timeout=10).status_code == 404


def test_watcher_start_render_to_completed(own_client: Any) -> None:
    render = completed(own_client)
    watcher = RenderWatcher(own_client, engine_id=render.engine_id, cell_id=render.cell_id,
                            poll_interval=0.2, timeout=WAIT)
    click(watcher.start_button)
    assert watcher.wait(WAIT)
    assert watcher.error is None, watcher.status.text
    assert watcher.statuses[-1] == "completed"
    assert len(watcher.statuses) >= 2 and watcher.statuses[0] in ("pending", "processing")
    assert "completed" in watcher.status.text and "elapsed" in watcher.status.text


def test_key_never_in_widget_state(browser: RenderBrowser, client: Any, sandbox: Any) -> None:
    browser.select(completed(client))
    for tab in TABS:
        browser.panel(tab.title)
    browser.preview.play()
    browser.view.value = "Gallery"
    text = repr([state for _, state in all_states(browser)])
    assert sandbox.api_key not in text
    assert sandbox.api_key not in repr(browser) + browser._repr_mimebundle_()["text/plain"]
    browser.watcher.stop_watching()
    browser.watcher.wait(WAIT)


def test_browser_text_view_lists_the_sandbox_renders(client: Any) -> None:
    renders = client.renders()
    shown = RenderBrowser(client)
    shown.wait()
    lines = repr(shown).splitlines()
    assert lines[0] == f"RenderBrowser: {len(renders)} renders"
    assert lines[1].endswith(f" · {renders[0].status} · #{renders[0].id}")
    assert lines[6] == f"  … {len(renders) - 5} more"
    assert "gen_nb.renders_frame(client)" in lines[-1] and "gen_nb.download(render)" in lines[-1]


def test_xss_title_is_text_in_options_and_escaped_in_html(browser: RenderBrowser) -> None:
    labels = browser.picker.choices.get_state()["_options_labels"]
    assert any(XSS in label for label in labels)  # options are text in the front end
    xss_render = next(r for r in browser.picker.renders if XSS in (r.title or ""))
    browser.select(xss_render)
    browser.view.value = "Gallery"
    browser.picker.select(xss_render)
    assert any(XSS in t["title"] for t in browser.gallery.tiles)  # text (textContent in JS)
    browser.layer_picker  # noqa: B018 - builds the layers table
    for widget, state in all_states(browser):
        if isinstance(widget, ipywidgets.HTML):
            assert XSS not in state["value"]


def test_browser_delete_shows_the_file_deleted_everywhere_and_keeps_the_message(
        own_client: Any) -> None:
    browser = RenderBrowser(own_client)
    browser.wait()
    render = [r for r in browser.picker.renders if r.status == "completed" and r.url][-2]
    browser.select(render)
    button = browser.delete_button
    click(button.button)
    assert button.wait(WAIT)
    click(button.confirm_button)
    assert button.wait(WAIT) and button.deleted, button.message.text
    assert button.message.kind == "ok" and "Deleted content resource" in button.message.text
    label = dict((v, lab) for lab, v in browser.picker.choices.options)[render.id]
    assert "completed · file deleted" in label
    assert "file was deleted" in browser.preview.message.text  # at once, before the refresh
    browser.wait()
    assert "file was deleted" in browser.preview.message.text  # and after it
    browser.view.value = "Gallery"
    tile = next(t for t in browser.gallery.tiles if t["id"] == render.id)
    assert tile["state"] == "file deleted" and tile["thumb"] == ""


def test_a_take_started_from_status_joins_the_list_and_is_selected(own_client: Any) -> None:
    browser = RenderBrowser(own_client)
    browser.wait()
    render = completed(own_client)
    browser.select(render)
    watcher = browser.watcher
    assert watcher.wait(WAIT)
    click(watcher.start_button)                 # the sandbox: no question, and it says so
    assert "sandbox" in watcher.status.text or watcher.running
    assert watcher.wait(WAIT) and watcher.statuses[-1] == "completed", watcher.status.text
    new_id = watcher.generation_id
    assert new_id != render.id and browser.value.id == new_id
    assert new_id in {v for _, v in browser.picker.choices.options}
    assert browser.life.download.item.id == new_id and browser.life.download.item.url


def test_bulk_download_and_export_of_the_selection(client: Any, download_dir: Path,
                                                   tmp_path: Path) -> None:
    browser = RenderBrowser(client, dest=download_dir)
    browser.wait()
    done = [r for r in browser.picker.renders if r.status == "completed" and r.url][:3]
    browser.picker.check(done)
    bulk = browser.bulk
    assert [r.id for r in bulk.item] == [r.id for r in done]
    bulk.download.click()
    assert bulk.download.wait(WAIT) and bulk.download.bar.bar_style == "success"
    assert len(bulk.download.links.files) == 3
    labels = [lab for lab, v in browser.picker.choices.options if v in {r.id for r in done}]
    assert all("downloaded" in lab for lab in labels), labels
    bulk.export.dest.value = str(tmp_path / "exports")
    bulk.export.click()
    assert bulk.export.wait(WAIT) and bulk.export.bar.bar_style == "success", \
        bulk.export.message.text
    assert "3 done" in bulk.export.message.text


def test_one_transfer_options_object_reaches_every_transfer_the_dashboard_starts(
        client: Any, download_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import fsspec

    import gen_nb.transfer as transfer
    from gen_nb import TransferOptions

    seen: list[Any] = []
    for name in ("download", "stream_to", "download_many"):
        real = getattr(transfer, name)

        def spy(*args: Any, _real: Any = real, **kwargs: Any) -> Any:
            seen.append(kwargs.get("options"))
            return _real(*args, **kwargs)
        monkeypatch.setattr(transfer, name, spy)
    options = TransferOptions(fsync=False, chunk_size=256 << 10, retries=2)
    browser = RenderBrowser(client, dest=download_dir, options=options)
    browser.wait()
    render = completed(client)
    browser.select(render)
    click(browser.download_button.button)
    assert browser.download_button.wait(WAIT) and browser.download_button.result is not None
    browser.stream_panel.destination.value = "memory://dashboard/take.mp4"  # an fsspec URL
    click(browser.stream_panel.button)
    assert browser.stream_panel.wait(WAIT), browser.stream_panel.label.text
    assert browser.stream_panel.error is None, browser.stream_panel.error
    with fsspec.open("memory://dashboard/take.mp4", "rb") as fh:
        assert hashlib.sha256(fh.read()).hexdigest() == browser.download_button.result.sha256
    browser.picker.check([render])
    click(browser.bulk.download.button)
    assert browser.bulk.download.wait(WAIT)
    assert seen == [options, options, options]


def test_a_skipped_download_says_so_without_a_speed(client: Any, download_dir: Path) -> None:
    render = completed(client)
    first = DownloadButton(render, download_dir)
    click(first.button)
    assert first.wait(WAIT) and first.result is not None and not first.result.skipped
    again = DownloadButton(render, download_dir)
    click(again.button)
    assert again.wait(WAIT) and again.result.skipped
    assert again.label.text.startswith("Already downloaded:")
    assert "/s" not in again.label.text and "nothing was transferred" in again.label.text


def test_selecting_an_unknown_id_is_a_clear_error(client: Any) -> None:
    from gen_nb.widgets.picker import UnknownRender

    browser = RenderBrowser(client)
    browser.wait()
    with pytest.raises(UnknownRender, match="99999") as info:
        browser.select("99999")
    assert isinstance(info.value, LookupError) and "Traceback" not in str(info.value)
