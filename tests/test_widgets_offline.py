"""Widgets driven without a kernel against an in-memory fake client (no sandbox, no network).

Covers what is easiest to pin down exactly: filtering, paging, lazy building, error display,
cancel/resume wiring, the text fallback, reprs. tests/test_widgets.py runs the same widgets
against the real sandbox.
"""

from __future__ import annotations

import importlib.util
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from _widget_support import all_states, click, html_values
from IPython.lib.pretty import pretty

from gen_nb.api.errors import (
    DownloadCancelled,
    JobCannotBeStoppedError,
    NetworkError,
    PlatformRuleError,
    UnknownNameError,
)
from gen_nb.api.models import (
    DeletePlan,
    Generation,
    LayerOutput,
    PlatformRules,
    PlatformStatus,
    Post,
    Render,
)
from gen_nb.widgets import (
    DeleteButton,
    DownloadButton,
    Gallery,
    LayerPicker,
    Preview,
    PublishPanel,
    RenderBrowser,
    RenderPicker,
    RenderWatcher,
    StreamPanel,
    UnknownRender,
)
from gen_nb.widgets import browser as browser_module
from gen_nb.widgets import transfer as transfer_widgets
from gen_nb.widgets.panel import FALLBACK_HINT, ItemView

XSS = "<img src=x onerror=alert(1)>"
CDN = "https://cdn.gen.pro"


def _render(i: int, status: str = "completed", engine: str = "1", **kw: Any) -> Render:
    base: dict[str, Any] = dict(
        id=str(100 + i), status=status, engine_id=engine, engine_title=f"Engine {engine}",
        cell_id=f"c{i}", title=f"Clip {i}", url=f"{CDN}/outputs/r{i}.mp4",
        thumbnail_url=f"{CDN}/thumbnails/r{i}.jpg", output_resource_id=str(900 + i))
    base.update(kw)
    return Render(**base)


def _layer(render_id: str, n: int, kind: str = "audio") -> LayerOutput:
    return LayerOutput(render_id=render_id, layer_id=str(n), name=f"layer {n}", type="sound",
                       kind=kind, position=n, status="completed",  # type: ignore[arg-type]
                       url=f"{CDN}/outputs/l{n}.mp3", thumbnail_url=None,
                       output_resource_id=str(700 + n))


RULES = [
    PlatformRules("tiktok", label="TikTok", max_text=2200),
    PlatformRules("x", label="X", max_text=280),
    PlatformRules("youtube", label="YouTube", max_text=5000, max_title=100,
                  required=("title",)),
]


class FakeClient:
    """Just enough of gen_nb.Client; records calls."""

    def __init__(self, renders: list[Render]) -> None:
        self._renders = renders
        self.calls: list[tuple[str, Any]] = []
        self.fail_renders: Exception | None = None
        self.gate: threading.Event | None = None  # renders() waits for it when set
        self.post_states = ["accepted", "publishing", "published"]
        self.gen_states = ["pending", "processing", "completed"]

    def renders(self, engine_ids: Any = None, *, on_progress: Any = None,
                **_: Any) -> list[Render]:
        self.calls.append(("renders", engine_ids))
        if self.gate is not None:
            self.gate.wait(10)
        if self.fail_renders:
            raise self.fail_renders
        wanted = None if engine_ids is None else {str(e) for e in engine_ids}
        engines = sorted({r.engine_id for r in self._renders if wanted is None
                          or r.engine_id in wanted})
        if on_progress is not None:
            for done in range(len(engines) + 1):
                on_progress(done, len(engines))
        return [r for r in self._renders if wanted is None or r.engine_id in wanted]

    def layers(self, render: Any) -> list[LayerOutput]:
        self.calls.append(("layers", render.id))
        return [_layer(render.id, 1), _layer(render.id, 2, "video")]

    def platforms(self) -> list[PlatformRules]:
        return RULES

    def check_post(self, platforms: list[str], *, description: str = "",
                   title: str | None = None, media_url: str | None = None) -> list[str]:
        rules = {r.platform: r for r in RULES}
        return [v for p in platforms
                for v in rules[p].check(description=description, title=title,
                                        media_url=media_url)]

    def _post(self, state: str) -> Post:
        url = "https://tiktok.example/@me/1" if state == "published" else None
        return Post(id="p1", platforms_status=(
            PlatformStatus("tiktok", normalized_status=state, post_url=url),))

    def publish(self, render: Any, platforms: list[str], **kw: Any) -> Post:
        self.calls.append(("publish", (render, tuple(platforms), kw)))
        violations = self.check_post(platforms, description=kw.get("description", ""),
                                     title=kw.get("title"))
        if violations:
            raise PlatformRuleError(violations)
        return self._post(self.post_states[0])

    def wait_post(self, post_id: str, *, timeout: float = 300, on_update: Any = None,
                  cancel: Any = None) -> Post:
        for state in self.post_states:
            if on_update:
                on_update(self._post(state))
        return self._post(self.post_states[-1])

    def delete_resource(self, rid: str, *, confirm: bool = False, dry_run: bool = False,
                        plan: DeletePlan | None = None) -> DeletePlan:
        assert plan is None or plan.resource_id == rid   # a confirm names the plan it shows
        self.calls.append(("delete", (rid, confirm, dry_run)))
        return DeletePlan(resource_id=rid, file_name="r.mp4", deleted=confirm and not dry_run,
                          would_destroy={"content_resources": [rid]},
                          warnings=("Published or scheduled posts using the URL will break.",))

    def start_render(self, engine_id: Any, cell_id: Any) -> Generation:
        self.calls.append(("start_render", (engine_id, cell_id)))
        return Generation(id="g1", status="pending")

    def wait(self, gid: str, *, on_update: Any = None, cancel: Any = None,
             **kw: Any) -> Generation:
        self.calls.append(("wait", (gid, kw.get("raise_on_failure"))))
        last = None
        for state in self.gen_states:
            last = Generation(id=gid, status=state,
                              failed_reason="bad input" if state == "failed" else None)
            if on_update:
                on_update(last)
        return last  # type: ignore[return-value]

    def stop(self, gid: str) -> Generation:
        raise JobCannotBeStoppedError(status=422, subject=f"stopping generation {gid}")


@pytest.fixture()
def renders() -> list[Render]:
    return [_render(0), _render(1, "failed", failed_reason="no credits"),
            _render(2, "processing", url=None, thumbnail_url=None, output_resource_id=None),
            _render(3, engine="2", title=XSS)]


@pytest.fixture()
def fake(renders: list[Render]) -> FakeClient:
    return FakeClient(renders)


# --- RenderPicker / Gallery ---------------------------------------------------------------------

def test_picker_filters_by_engine_status_and_text(fake: FakeClient) -> None:
    picker = RenderPicker(fake)
    picker.wait()
    assert len(picker.choices.options) == 4
    picker.status.value = "completed"
    assert [v for _, v in picker.choices.options] == ["100", "103"]
    picker.engine.value = "2"
    assert [v for _, v in picker.choices.options] == ["103"]
    picker.status.value, picker.engine.value = "", ""
    picker.text.value = "clip 1"
    assert [v for _, v in picker.choices.options] == ["101"]
    assert picker.message.text == "1 of 4 renders"


def test_picker_set_state_index_selects_and_fires(fake: FakeClient) -> None:
    picker = RenderPicker(fake)
    picker.wait()
    seen: list[Any] = []
    picker.on_select(seen.append)
    picker.choices.set_state({"index": 1})  # what the browser sends
    assert picker.value.id == "101" and seen[-1].id == "101"
    picker.on_select(seen.append, remove=True)
    picker.select("100")
    assert picker.value.id == "100" and len(seen) == 1


def test_picker_select_clears_filters_that_hide_the_render(fake: FakeClient) -> None:
    picker = RenderPicker(fake)
    picker.wait()
    picker.text.value = "nothing matches this"
    assert picker.choices.options == ()
    picker.select(fake._renders[2])
    assert picker.text.value == "" and picker.choices.value == "102"
    with pytest.raises(UnknownRender, match="There is no render 'nope' here") as caught:
        picker.select("nope")
    assert isinstance(caught.value, LookupError) and "refresh()" in str(caught.value)


def test_picker_refresh_error_shows_in_widget(fake: FakeClient) -> None:
    picker = RenderPicker(fake)
    picker.wait()
    fake.fail_renders = NetworkError("could not reach http://127.0.0.1:1 (connection refused)")
    picker.reload()
    picker.wait()
    assert "could not reach" in picker.message.text
    assert picker.message.kind == 'bad'
    assert "Traceback" not in picker.message.text
    assert len(picker.renders) == 4  # the old list stays
    fake.fail_renders = None
    picker.reload()
    picker.wait()
    assert picker.message.text == "4 of 4 renders" and picker.error is None


def test_picker_refresh_passes_on_the_new_state_of_the_selection(fake: FakeClient) -> None:
    picker = RenderPicker(fake)
    picker.wait()
    picker.select("102")
    seen: list[Any] = []
    picker.on_select(seen.append)
    fake._renders[2] = _render(2, "completed")
    assert picker.refresh()  # 102 was processing: its engine is asked again
    picker.wait()
    assert [r.status for r in seen] == ["completed"]
    assert not picker.refresh()  # nothing in flight, nothing touched: no request
    picker.reload()
    picker.wait()  # unchanged: no new event
    assert len(seen) == 1
    fake._renders.pop(2)
    picker.reload()
    picker.wait()
    assert seen[-1] is None and picker.value is None


def test_picker_loads_off_the_main_thread_and_shows_progress(fake: FakeClient) -> None:
    fake.gate = threading.Event()
    picker = RenderPicker(fake, wait=0)  # returns while renders() is still blocked
    try:
        assert picker.loading and picker.renders == []
        assert picker.message.text == "Loading renders…"
        assert picker.reload_button.disabled
        picker.text.value = "clip"  # the user can type while it loads
        picker.view.value = "Gallery"
    finally:
        fake.gate.set()
    assert len(picker.wait(10)) == 4 and not picker.loading
    assert [t["id"] for t in picker.grid.tiles] == ["100", "101", "102"]  # filter kept
    assert not picker.reload_button.disabled


def test_a_quick_first_load_is_there_when_the_widget_shows(fake: FakeClient) -> None:
    picker = RenderPicker(fake)              # waits up to a second for the first load
    assert not picker.loading and len(picker.choices.options) == 4
    fake.gate = threading.Event()
    started = time.monotonic()
    slow = RenderPicker(fake, wait=0.2)      # a slow workspace: comes up, still loading
    try:
        assert slow.loading and time.monotonic() - started < 2
    finally:
        fake.gate.set()
    assert len(slow.wait(10)) == 4


def test_picker_progress_counts_engines(fake: FakeClient) -> None:
    picker = RenderPicker(fake, autoload=False)
    shown: list[str] = []
    picker.message.observe(lambda change: shown.append(picker.message.text), names="value")
    picker.reload()
    picker.wait(10)
    assert shown[:2] == ["Loading renders…", "Loading renders… 0 of 2 engines"]
    assert "Loading renders… 2 of 2 engines" in shown and shown[-1] == "4 of 4 renders"


def test_refresh_asks_only_for_engines_that_can_have_changed(fake: FakeClient) -> None:
    picker = RenderPicker(fake)
    picker.wait(10)
    fake.calls.clear()
    assert picker.refresh()                    # 102 is processing, in engine 1
    picker.wait(10)
    assert fake.calls == [("renders", ["1"])]
    picker.refresh(["2"])                      # an action touched engine 2
    picker.wait(10)
    assert fake.calls[-1] == ("renders", ["1", "2"])
    fake._renders[2] = _render(2, "completed")
    picker.refresh()
    picker.wait(10)
    fake.calls.clear()
    assert not picker.refresh() and fake.calls == []  # nothing in flight: no request
    assert [r.id for r in picker.renders] == ["100", "101", "102", "103"]  # order kept


def test_refresh_merges_one_engine_and_keeps_the_others(fake: FakeClient) -> None:
    picker = RenderPicker(fake)
    picker.wait(10)
    picker.select("103")
    fake._renders[1] = _render(1, "completed")  # engine 1 changed on the server…
    fake._renders.append(_render(4, engine="1"))  # … and has a new take
    fake._renders[3] = _render(3, engine="2", title="changed elsewhere")
    picker.refresh(["1"])
    picker.wait(10)
    by_id = {r.id: r for r in picker.renders}
    assert [r.id for r in picker.renders] == ["100", "101", "102", "104", "103"]
    assert by_id["101"].status == "completed"
    assert by_id["103"].title == XSS             # engine 2 was not asked: as it was
    assert picker.value.id == "103"


def test_the_refresh_button_reloads_everything(fake: FakeClient) -> None:
    picker = RenderPicker(fake)
    picker.wait(10)
    fake._renders.append(_render(5, engine="3"))  # a new engine, made elsewhere
    fake.calls.clear()
    click(picker.reload_button)
    picker.wait(10)
    assert fake.calls == [("renders", None)] and "105" in {r.id for r in picker.renders}
    assert "Engine 3 (3)" in [label for label, _ in picker.engine.options]


def test_a_render_selected_during_a_load_stays_selected(fake: FakeClient) -> None:
    picker = RenderPicker(fake)
    picker.wait(10)
    fake.gate = threading.Event()
    picker.reload()
    try:
        picker.select("101")  # while the load is blocked
        adopted = _render(50, engine="9")  # e.g. a take just started, not listed yet
        picker.select(adopted)
    finally:
        fake.gate.set()
    picker.wait(10)
    assert picker.value.id == "150"  # kept: selected by hand, not in the listing yet
    picker.select("101")
    assert picker.value.id == "101"


def test_loads_asked_while_one_runs_are_merged_into_one_more(fake: FakeClient) -> None:
    picker = RenderPicker(fake)
    picker.wait(10)
    fake.gate = threading.Event()
    fake.calls.clear()
    picker.refresh(["2"])
    try:
        picker.refresh(["1"])
        picker.reload()
        picker.refresh(["2"])
    finally:
        fake.gate.set()
    picker.wait(10)
    assert fake.calls == [("renders", ["1", "2"]), ("renders", None)]


def test_picker_labels_are_plain_text_xss_title(fake: FakeClient) -> None:
    picker = RenderPicker(fake)
    picker.wait()
    labels = picker.choices.get_state()["_options_labels"]
    assert any(XSS in label for label in labels)  # rendered with textContent by the front end
    assert picker.choices.description_allow_html is False


def test_gallery_pages_selects_and_ticks(fake: FakeClient, renders: list[Render]) -> None:
    gallery = Gallery(renders * 1 + [_render(i) for i in range(10, 16)], page_size=4)
    assert gallery.pages == 3 and len(gallery.grid.tiles) == 4
    gallery.grid.set_state({"page": 1})           # the browser's Next button
    assert gallery.page == 1 and gallery.grid.tiles[0]["id"] == "110"
    seen: list[Any] = []
    gallery.on_select(seen.append)
    gallery.grid.set_state({"current": "111"})    # a click on a tile
    assert gallery.value.id == "111" and seen[-1].id == "111"
    gallery.select("100")
    assert gallery.page == 0 and gallery.grid.current == "100"
    ticked: list[Any] = []
    gallery.on_check(ticked.append)
    gallery.grid.set_state({"checked": ["100", "103"]})
    assert [r.id for r in gallery.checked] == ["100", "103"] and len(ticked[-1]) == 2
    tiles = {t["id"]: t for t in gallery.grid.tiles}
    assert tiles["100"]["thumb"] == f"{CDN}/thumbnails/r0.jpg"
    assert tiles["102"]["thumb"] == "" and tiles["102"]["placeholder"] == "rendering…"
    assert tiles["101"]["tone"] == "bad" and tiles["103"]["title"] == XSS  # text, not HTML
    gallery.status.value = "failed"               # the same filters as the list
    assert {t["id"] for t in gallery.grid.tiles} == {"101"}
    assert XSS not in " ".join(html_values(gallery))


def test_gallery_page_turn_sends_one_message(fake: FakeClient) -> None:
    gallery = Gallery(FakeClient([_render(i) for i in range(200)]), page_size=24)
    gallery.wait()
    sent: list[Any] = []
    gallery.grid.comm.send = lambda *a, **k: sent.append(a)  # type: ignore[method-assign]
    gallery.show_page(3)
    assert len(sent) == 1, sent


def test_list_and_gallery_share_selection_and_filters(fake: FakeClient) -> None:
    picker = RenderPicker(fake)
    picker.wait()
    picker.select("103")
    picker.view.value = "Gallery"
    assert picker.grid.current == "103" and picker.choices.layout.display == "none"
    picker.text.value = "clip 0"
    assert [t["id"] for t in picker.grid.tiles] == ["100"]
    picker.view.value = "List"
    assert [v for _, v in picker.choices.options] == ["100"]


def test_list_is_capped_and_says_how_to_narrow() -> None:
    picker = RenderPicker([_render(i) for i in range(1200)], limit=500)
    assert len(picker.choices.options) == 500
    assert "Showing the first 500 of 1,200" in picker.message.text
    picker.select("1199")  # beyond the cap: still shown and selected
    assert picker.choices.value == "1199"


def test_local_state_and_deleted_marks_show_in_labels(fake: FakeClient) -> None:
    from gen_nb.local_state import LocalCopy, LocalState

    picker = RenderPicker(fake)
    picker.wait()
    picker.set_local_state({"100": LocalState("100", downloaded=(
        LocalCopy("/d/r0.mp4", 100, "ab", True),))})
    picker.mark_deleted(["103"])
    labels = dict((v, label) for label, v in picker.choices.options)
    assert labels["100"].endswith("completed · downloaded · #100")
    assert "completed · file deleted · #103" in labels["103"]


# --- Preview ------------------------------------------------------------------------------------

def test_preview_thumbnail_then_video_on_demand(renders: list[Render]) -> None:
    preview = Preview(renders[0])
    assert f"{CDN}/thumbnails/r0.jpg" in preview.html.value
    assert "<video" not in preview.html.value
    played: list[Any] = []
    preview.on_play(played.append)
    click(preview.play_button)
    value = preview.html.value
    assert "<video" in value and 'preload="none"' in value and f"{CDN}/outputs/r0.mp4" in value
    assert "autoplay" not in value and "loop" not in value
    assert played == [renders[0]] and preview.play_button.disabled


def test_preview_audio_layer_and_nothing(renders: list[Render]) -> None:
    preview = Preview()
    assert preview.play_button.disabled and preview.play_button.layout.display == "none"
    assert "Pick a render" in preview.message.text  # not an empty box before a pick
    preview.set_item(_layer("100", 1))
    preview.play()
    assert "<audio" in preview.html.value and 'preload="none"' in preview.html.value
    preview.set_item(renders[2])  # processing: no URL yet
    assert preview.play_button.disabled and "Still rendering" in preview.message.text
    preview.set_item(_render(5, url=None, thumbnail_url=None))  # completed, file gone
    assert "file was deleted" in preview.message.text
    preview.set_item(None)
    assert preview.html.value == "" and preview.caption.value == ""


def test_preview_of_xss_render_escapes(renders: list[Render]) -> None:
    preview = Preview(renders[3])
    preview.play()
    assert XSS not in preview.html.value
    assert XSS in preview.caption.value  # a Label: shown as text


# --- DownloadButton / StreamPanel (core faked) ----------------------------------------------------

class FakeTransfer:
    """Stands in for gen_nb.download: emits progress, honours cancel, can fail."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.calls: list[dict[str, Any]] = []
        self.fail: Exception | None = None
        self.gate = threading.Event()
        self.gate.set()
        self.started = threading.Event()

    def __call__(self, src: Any, dest: Any, **kw: Any) -> Any:
        from types import SimpleNamespace as ProgressState  # duck-typed like transfer's

        self.calls.append(kw)
        progress, cancel = kw["progress"], kw["cancel"]
        progress(ProgressState(done=0, total=100, elapsed=0.0, rate=0.0, eta=None,
                               phase="starting", message=None))
        self.started.set()
        while not self.gate.wait(0.01):
            if cancel.is_set():
                raise DownloadCancelled("download of r0.mp4 cancelled at 50 B; .part kept")
        if self.fail:
            raise self.fail
        progress(ProgressState(done=100, total=100, elapsed=1.0, rate=100.0, eta=0.0,
                               phase="done", message=None))
        path = self.tmp / "r0.mp4"
        path.write_bytes(b"x" * 100)
        return ProgressState(path=path, url=src.url, bytes=100, resumed_from=50 if
                               len(self.calls) > 1 else 0, sha256="ab" * 32, seconds=1.0,
                               skipped=False, segments=1)


@pytest.fixture()
def fake_download(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> FakeTransfer:
    fake = FakeTransfer(tmp_path)
    monkeypatch.setattr(transfer_widgets, "_download", fake)
    return fake


def test_download_cancel_then_resume_then_fail(fake_download: FakeTransfer,
                                               renders: list[Render]) -> None:
    button = DownloadButton(renders[0])
    fake_download.gate.clear()
    click(button.button)
    assert fake_download.started.wait(5)
    assert button.running and button.button.disabled and not button.cancel_button.disabled
    button.click()  # a second click while running does nothing
    button.cancel_button.click()
    assert button.wait(5)
    assert isinstance(button.error, DownloadCancelled)
    assert button.bar.bar_style == "warning" and button.button.description == "Resume"
    fake_download.gate.set()
    button.click()
    assert button.wait(5)
    assert button.bar.bar_style == "success" and button.bar.value == 100.0
    assert "resumed from 50 B" in button.label.text
    assert [f["name"] for f in button.link.files] == ["r0.mp4"]
    assert button.link.files[0]["remote"] == f"{CDN}/outputs/r0.mp4"
    assert len(fake_download.calls) == 2
    fake_download.fail = NetworkError("CDN unreachable: 503 after 5 retries")
    button.click()
    assert button.wait(5)
    assert button.bar.bar_style == "danger"
    assert button.label.text == "CDN unreachable: 503 after 5 retries"
    assert button.label.kind == "bad"


def test_download_without_source_says_so() -> None:
    button = DownloadButton()
    assert button.button.disabled
    button._start()
    assert "select something" in button.label.text


def test_stream_panel_needs_a_destination_url_and_masks_signature(
        monkeypatch: pytest.MonkeyPatch, renders: list[Render]) -> None:
    from types import SimpleNamespace

    calls: list[str] = []

    def fake_stream(src: Any, dest: str, **kw: Any) -> Any:
        calls.append(dest)
        if "fail" in dest:
            raise OSError(f"PUT {dest} answered 403")
        return SimpleNamespace(src=src.url, dest=dest.split("?")[0], bytes=2048,
                               sha256="cd" * 32, status=200, seconds=0.1, etag=None)

    monkeypatch.setattr(transfer_widgets, "_stream_to", fake_stream)
    panel = StreamPanel(renders[0])
    panel.click()
    assert "destination URL" in panel.label.text and not calls
    panel.destination.value = "bucket/key.mp4"             # no scheme: not a URL yet
    panel.click()
    assert "s3://bucket/key" in panel.label.text and not calls
    panel.destination.value = "https://store.example/fail.mp4?X-Amz-Signature=SECRET"
    panel.click()
    panel.wait(5)
    assert panel.bar.bar_style == "danger" and "SECRET" not in panel.label.text
    panel.destination.value = "https://store.example/ok.mp4?X-Amz-Signature=SECRET"
    panel.click()
    panel.wait(5)
    assert panel.bar.bar_style == "success"
    assert "2.05 kB" in panel.label.text and "HTTP 200" in panel.label.text
    assert "SECRET" not in panel.label.text and "SECRET" not in repr(panel)


# --- PublishPanel -------------------------------------------------------------------------------

def test_publish_counters_violations_and_flow(fake: FakeClient, renders: list[Render]) -> None:
    panel = PublishPanel(fake, renders[0])
    assert panel.publish_button.disabled  # no platform ticked
    panel.platform_boxes["x"].value = True
    panel.caption.value = "a" * 300
    assert panel.caption_counter.kind == 'bad'  # red
    assert "X 300/280 (20 over)" in panel.caption_counter.text
    assert panel.publish_button.disabled and any("X" in v for v in panel.violations)
    panel.caption.value = "short"
    assert panel.caption_counter.kind != 'bad' and not panel.publish_button.disabled
    panel.platform_boxes["youtube"].value = True
    assert panel.publish_button.disabled
    assert any("YouTube" in v and "title" in v for v in panel.violations)
    labels = [c.text for c in panel.violation_box.children]
    assert any("YouTube" in text for text in labels)
    panel.title.value = "A title"
    assert not panel.publish_button.disabled
    panel.schedule.value = "specific_time"
    assert panel.publish_button.disabled and panel.when.layout.display is None
    panel.schedule.value = "now"
    assert panel.when.layout.display == "none"
    panel.platform_boxes["youtube"].value = False
    panel.platform_boxes["x"].value = False
    panel.platform_boxes["tiktok"].value = True
    done: list[Post] = []
    panel.on_done(done.append)
    click(panel.publish_button)
    assert panel.wait(5)
    assert "published" in panel.status.text and panel.post.state == "published"
    assert "https://tiktok.example/@me/1" in panel.links.value
    assert done and done[0].state == "published"
    sent = next(c for c in fake.calls if c[0] == "publish")[1]
    assert sent[1] == ("tiktok",) and sent[2]["schedule_type"] == "now"


def test_publish_click_does_nothing_while_violations(fake: FakeClient,
                                                     renders: list[Render]) -> None:
    panel = PublishPanel(fake, None)
    panel.platform_boxes["tiktok"].value = True
    assert "Select a render to publish." in panel.violations
    panel._start()
    assert not [c for c in fake.calls if c[0] == "publish"]


def test_publish_failed_post_is_red(fake: FakeClient, renders: list[Render]) -> None:
    fake.post_states = ["accepted", "failed"]
    panel = PublishPanel(fake, renders[0])
    panel.platform_boxes["tiktok"].value = True
    panel.click()
    panel.wait(5)
    assert "failed" in panel.status.text and panel.status.kind == 'bad'


# --- DeleteButton -------------------------------------------------------------------------------

def test_delete_needs_two_clicks_and_can_back_out(fake: FakeClient,
                                                   renders: list[Render]) -> None:
    button = DeleteButton(fake, renders[0])
    deleted: list[Any] = []
    button.on_deleted(deleted.append)
    button.confirm()  # no plan yet: nothing happens
    assert not [c for c in fake.calls if c[0] == "delete"]
    button.click()
    button.wait(5)
    assert fake.calls[-1] == ("delete", ("900", False, True))
    texts = [c.text for c in button.plan_box.children]
    assert any("posts using the URL will break" in t for t in texts)
    assert button.confirm_button.layout.display is None and button.button.layout.display == "none"
    button.cancel_button.click()
    assert button.plan is None and button.confirm_button.layout.display == "none"
    button.click()
    button.wait(5)
    click(button.confirm_button)
    button.wait(5)
    assert fake.calls[-1] == ("delete", ("900", True, False))
    assert button.deleted and deleted and deleted[0].deleted
    assert button.button.disabled


def test_delete_plan_is_bound_to_the_item_it_was_made_for(fake: FakeClient,
                                                          renders: list[Render]) -> None:
    button = DeleteButton(fake, renders[0])
    button.click()
    assert button.wait(5) and button.plan.resource_id == "900"
    button.set_item(renders[3])  # another render selected: the shown plan is gone
    assert button.plan is None and button.plan_box.children == ()
    button.confirm()
    assert not [c for c in fake.calls if c[0] == "delete" and c[1][1]]
    button.click()
    assert button.wait(5)
    button.confirm()
    assert button.wait(5) and fake.calls[-1] == ("delete", ("903", True, False))


def test_delete_nothing_to_delete(fake: FakeClient, renders: list[Render]) -> None:
    button = DeleteButton(fake, renders[2])
    assert button.button.disabled and "Nothing to delete yet" in button.message.text


# --- RenderWatcher ------------------------------------------------------------------------------

def test_watcher_starts_and_follows(fake: FakeClient) -> None:
    watcher = RenderWatcher(fake, engine_id="1", cell_id="c1", poll_interval=0.01)
    assert watcher.start_button.description == "Start render"
    assert not [c for c in fake.calls if c[0] == "start_render"]  # a paid action: needs a click
    done: list[Any] = []
    watcher.on_done(done.append)
    watcher.start_button.click()            # the real API: it asks first, spends nothing
    assert not [c for c in fake.calls if c[0] == "start_render"]
    assert watcher.confirm_box.layout.display is None
    assert "spends GEN credits" in watcher.question.text
    click(watcher.confirm_button)
    assert watcher.wait(5)
    assert watcher.statuses == ["pending", "processing", "completed"]
    assert "completed" in watcher.status.text and done[0].status == "completed"
    assert "completed" in watcher.badge.value
    assert fake.calls[-1] == ("wait", ("g1", False))


def test_start_render_confirms_only_the_take_it_asked_about(fake: FakeClient,
                                                            renders: list[Render]) -> None:
    """A click acts on what is on screen: the question named render A; the user picked B
    meanwhile; a confirm that arrives then (a stale view, a double click) starts nothing."""
    watcher = RenderWatcher(fake, renders[0], poll_interval=0.01)
    assert watcher.wait(5)
    watcher.start_button.click()                       # asks about a new take of A
    assert "Clip 0" in watcher.question.text
    watcher.set_item(renders[1])                       # B picked while the question shows
    assert watcher.wait(5)
    click(watcher.confirm_button)
    assert watcher.wait(5)
    assert [c for c in fake.calls if c[0] == "start_render"] == []
    watcher.start_button.click()                       # now ask about B, confirm twice
    click(watcher.confirm_button)
    click(watcher.confirm_button)
    assert watcher.wait(5)
    assert [c for c in fake.calls if c[0] == "start_render"] == [("start_render", ("1", "c1"))]


def test_watcher_failure_and_stop_error(fake: FakeClient) -> None:
    fake.gen_states = ["processing", "failed"]
    watcher = RenderWatcher(fake, "g9")
    assert watcher.wait(5)
    assert "bad input" in watcher.status.text and watcher.status.kind == 'bad'
    watcher.stop()
    assert "nothing to stop" in watcher.status.text


def test_watcher_set_item_drops_the_old_watch(fake: FakeClient, renders: list[Render],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    real_wait, watching = fake.wait, threading.Event()

    def wait(gid: str, *, on_update: Any = None, cancel: Any = None, **kw: Any) -> Generation:
        if gid != "101":
            return real_wait(gid, on_update=on_update, cancel=cancel, **kw)
        on_update(Generation(id="101", status="processing"))
        watching.set()
        cancel.wait(5)  # until the watcher lets go of this render
        on_update(Generation(id="101", status="failed"))  # too late: must not show
        return Generation(id="101", status="failed")

    monkeypatch.setattr(fake, "wait", wait)
    watcher = RenderWatcher(fake, renders[1])
    assert watching.wait(5)
    old = watcher._worker.thread
    watcher.set_item(renders[0])
    assert watcher.wait(5) and old is not None
    old.join(5)
    assert watcher.generation_id == "100"
    assert watcher.statuses == ["pending", "processing", "completed"]
    assert "failed" not in watcher.status.text and watcher.error is None


# --- LayerPicker --------------------------------------------------------------------------------

def test_layer_picker_table_preview_and_download(fake: FakeClient,
                                                 renders: list[Render]) -> None:
    picker = LayerPicker(fake, renders[0])
    assert "layer 1" in picker.table.value and f"{CDN}/outputs/l1.mp3" in picker.table.value
    assert picker.value.layer_id == "1"
    assert picker.download.item.layer_id == "1"
    seen: list[Any] = []
    picker.on_select(seen.append)
    picker.choices.set_state({"index": 1})
    assert seen[-1].layer_id == "2" and picker.preview.item.layer_id == "2"
    picker.select("1")
    assert picker.value.layer_id == "1"
    picker.set_item(None)
    assert picker.value is None and picker.download.button.disabled


# --- RenderBrowser ------------------------------------------------------------------------------

def test_browser_is_lazy_and_selection_flows(fake: FakeClient) -> None:
    browser = RenderBrowser(fake)
    browser.wait()
    assert set(browser._panels) == {"Preview"}
    browser.picker.choices.set_state({"index": 0})
    assert f"{CDN}/thumbnails/r0.jpg" in browser.preview.html.value
    assert not any(c[0] == "layers" for c in fake.calls)
    browser.tabs.set_state({"selected_index": 4})
    assert "Layers" in browser._panels and fake.calls[-1] == ("layers", "100")
    assert browser.download_button.item.id == "100"
    browser.select("101")
    assert browser.download_button.item.id == "101" and browser.layer_picker.item.id == "101"
    browser.view.value = "Gallery"
    assert browser.gallery.layout.display is None
    browser.gallery.set_state({"current": "103"})
    assert browser.value.id == "103" and browser.preview.item.id == "103"


def test_browser_delete_refreshes_picker(fake: FakeClient) -> None:
    browser = RenderBrowser(fake)
    browser.wait()
    browser.select("100")
    before = sum(1 for c in fake.calls if c[0] == "renders")
    button = browser.delete_button
    button.click()
    button.wait(5)
    button.confirm()
    button.wait(5)
    assert sum(1 for c in fake.calls if c[0] == "renders") == before + 1


def test_browser_status_tab_watches_selected_render(fake: FakeClient) -> None:
    browser = RenderBrowser(fake)
    browser.wait()
    browser.select("102")
    watcher = browser.watcher
    assert watcher.generation_id == "102" and watcher.item.id == "102"
    assert watcher.wait(5) and watcher.statuses[-1] == "completed"
    browser.select("100")
    assert browser.watcher is watcher and watcher.generation_id == "100"
    assert watcher.wait(5) and watcher.statuses == ["pending", "processing", "completed"]
    assert watcher.start_button.description == "Start render"  # a new take needs a click
    assert not [c for c in fake.calls if c[0] == "start_render"]
    browser.picker.clear()
    assert watcher.generation_id is None and watcher.statuses == []


def test_no_key_in_widget_state_and_no_xss(fake: FakeClient) -> None:
    fake.api_key = "gen_pat_SECRETKEY"  # type: ignore[attr-defined]
    browser = RenderBrowser(fake)
    browser.wait()
    browser.select("103")
    for name in ("download_button", "stream_panel", "publish_panel", "layer_picker",
                 "delete_button", "watcher"):
        getattr(browser, name)
    browser.preview.play()
    browser.view.value = "Gallery"
    text = repr([s for _, s in all_states(browser)])
    assert "gen_pat_SECRETKEY" not in text
    for value in html_values(browser):
        assert XSS not in value


# --- one item protocol, the tab table --------------------------------------------------------

def _panels(fake: FakeClient) -> list[Any]:
    return [Preview(), DownloadButton(), StreamPanel(), PublishPanel(fake), LayerPicker(fake),
            DeleteButton(fake), RenderWatcher(fake)]


OLD_SETTERS = ("show", "set_source", "set_render", "set_target")


def test_every_panel_takes_the_item_through_set_item(fake: FakeClient,
                                                     renders: list[Render]) -> None:
    for panel in _panels(fake):
        assert isinstance(panel, ItemView), type(panel).__name__
        assert not [name for name in OLD_SETTERS if hasattr(panel, name)], type(panel).__name__
        panel.set_item(renders[0])
        assert panel.item is renders[0]
        panel.set_item(None)
        assert panel.item is None
        if hasattr(panel, "wait"):
            assert panel.wait(5)


def test_every_tab_is_one_table_entry(fake: FakeClient) -> None:
    browser = RenderBrowser(fake)
    browser.wait()
    titles = [tab.title for tab in browser_module.TABS]
    assert browser.tabs.titles == tuple(titles)
    for tab in browser_module.TABS:
        assert getattr(browser, tab.attribute) is browser.panel(tab.title)
        assert isinstance(browser.panel(tab.title), ItemView)
    with pytest.raises(UnknownNameError, match="no tab 'Nope'"):
        browser.panel("Nope")


def test_a_new_tab_is_one_more_entry(fake: FakeClient, monkeypatch: pytest.MonkeyPatch) -> None:
    extra = browser_module.Tab("Notes", "notes", lambda b: Preview())
    monkeypatch.setattr(browser_module, "TABS", (*browser_module.TABS, extra))
    browser = RenderBrowser(fake)
    browser.wait()
    assert browser.tabs.titles[-1] == "Notes" and "Notes" not in browser._panels
    browser.select("100")
    browser.tabs.set_state({"selected_index": len(browser.tabs.titles) - 1})
    assert browser.panel("Notes").item.id == "100"
    browser.select("101")
    assert browser.panel("Notes").item.id == "101"


def test_progress_states_shown_as_the_transfer_paces_them(renders: list[Render]) -> None:
    from gen_nb.transfer.progress import Progress

    button = DownloadButton(renders[0])
    now = [0.0]
    shown: list[str] = []
    button.label.observe(lambda ch: shown.append(ch["new"]), names="value")
    progress = Progress(button._progress, clock=lambda: now[0])  # what gen_nb.download builds
    progress.start(total=10_000_000)
    for _ in range(100):  # 100 pieces in 1 s: the transfer lets one through per 0.15 s
        now[0] += 0.01
        progress.advance(100_000)
    progress.finish("done")
    assert 3 <= progress.updates <= 10  # ≤ 10 updates/s, paced by the transfer alone
    assert len(shown) == progress.updates - 1  # the widget shows every state but the final
    assert button.bar.value == 100.0


# --- reprs and text fallback --------------------------------------------------------------------

def test_no_text_only_stand_ins() -> None:
    import gen_nb.widgets as widgets

    assert not hasattr(widgets, "HAVE_IPYWIDGETS")
    assert importlib.util.find_spec("gen_nb.widgets._fallback") is None
    assert importlib.util.find_spec("gen_nb.widgets.panel") is not None


def test_browser_text_lists_renders_and_says_what_to_call(fake: FakeClient) -> None:
    browser = RenderBrowser(fake)
    browser.wait()
    text = repr(browser)
    lines = text.splitlines()
    assert lines[0] == "RenderBrowser: 4 renders"
    assert lines[1] == "  Clip 0 · Engine 1 · completed · #100"
    assert any("Engine 2 · completed · #103" in line for line in lines)
    assert "gen_nb.renders_frame(client)" in lines[-1] and "gen_nb.download(" in lines[-1]
    assert FALLBACK_HINT in lines[-1]
    assert pretty(browser) == text  # plain IPython
    assert browser._repr_mimebundle_()["text/plain"] == text  # a front end without widgets
    browser.select("101")
    assert repr(browser).startswith("RenderBrowser: 4 renders, selected #101")


def test_browser_text_stays_short_for_many_renders() -> None:
    many = FakeClient([_render(i) for i in range(10_000)])
    browser = RenderBrowser(many)
    browser.wait()
    text = repr(browser)
    assert len(text.splitlines()) == 8 and "… 9995 more" in text
    assert len(text) < 1000


def test_reprs_are_short_and_text_plain_helps(fake: FakeClient) -> None:
    picker = RenderPicker(fake)
    picker.wait()
    for widget in (picker, Gallery([]), *_panels(fake)):
        text = repr(widget)
        assert len(text.splitlines()) <= 10 and len(text) < 1000, text
        assert text.startswith(type(widget).__name__)
        assert FALLBACK_HINT in widget._repr_mimebundle_()["text/plain"]
        assert "application/vnd.jupyter.widget-view+json" in widget._repr_mimebundle_()
