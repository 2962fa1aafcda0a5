"""RenderBrowser: the dashboard. Pick a render; preview, download, stream, publish, delete it,
look at its layer outputs, or watch / re-run it — each in its own tab.

Light: only the picker and the Preview tab are built at first; every other panel is built the
first time its tab is opened (or its attribute is read). The selection flows to every built
panel; a delete refreshes the picker (and gallery).

>>> import gen_nb
>>> from gen_nb.widgets import RenderBrowser
>>> RenderBrowser(gen_nb.connect())          # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets as w

from gen_nb.widgets._base import Panel
from gen_nb.widgets.delete import DeleteButton
from gen_nb.widgets.layers import LayerPicker
from gen_nb.widgets.picker import Gallery, RenderPicker
from gen_nb.widgets.preview import Preview
from gen_nb.widgets.publish import PublishPanel
from gen_nb.widgets.transfer import DownloadButton, StreamPanel
from gen_nb.widgets.watcher import RenderWatcher

__all__ = ["RenderBrowser"]

TABS = ("Preview", "Download", "Stream", "Publish", "Layers", "Delete", "Status")


class RenderBrowser(Panel):
    """Everything for the renders of ``client`` in one widget.

    Attributes (each built on first use): ``picker``, ``gallery``, ``preview``,
    ``download_button``, ``stream_panel``, ``publish_panel``, ``layer_picker``,
    ``delete_button``, ``watcher``. ``select(render_or_id)`` selects a render; ``.value`` is it.
    """

    _fallback = ("use gen_nb.renders_frame(client) to list renders and "
                 "gen_nb.download(render) to fetch one")

    def __init__(self, client: Any, *, engine_ids: Any = None, dest: Any = None) -> None:
        super().__init__()
        self._client = client
        self._dest = dest
        self._panels: dict[str, Any] = {}
        self._gallery: Gallery | None = None
        self.render: Any = None
        self.picker = RenderPicker(client, engine_ids=engine_ids)
        self.view = w.ToggleButtons(options=["List", "Gallery"], value="List",
                                    style={"button_width": "auto"})
        self.view.observe(self._on_view, names="value")
        self.picker_area = w.VBox([self.picker])
        self._slots = [w.VBox() for _ in TABS]
        self.tabs = w.Tab(children=self._slots, titles=TABS, selected_index=0)
        self.tabs.observe(self._on_tab, names="selected_index")
        self.picker.on_select(self._on_select)
        self.children = [self.view, self.picker_area, self.tabs]
        self._build(TABS[0])

    def _summary(self) -> str:
        chosen = f", selected #{self.render.id}" if self.render is not None else ""
        return f"{len(self.picker.renders)} renders{chosen}"

    # -- panels, built on demand -----------------------------------------------------------------
    def _make(self, name: str) -> Any:
        client = self._client
        makers: dict[str, Callable[[], Any]] = {
            "Preview": Preview,
            "Download": lambda: DownloadButton(dest=self._dest),
            "Stream": StreamPanel,
            "Publish": lambda: PublishPanel(client),
            "Layers": lambda: LayerPicker(client, dest=self._dest),
            "Delete": lambda: self._make_delete(),
            "Status": lambda: w.VBox(),
        }
        return makers[name]()

    def _make_delete(self) -> DeleteButton:
        button = DeleteButton(self._client)
        button.on_deleted(self._on_deleted)
        return button

    def _build(self, name: str) -> Any:
        if name not in self._panels:
            panel = self._make(name)
            self._panels[name] = panel
            self._slots[TABS.index(name)].children = [panel]
            self._apply(name, panel)
        return self._panels[name]

    def _apply(self, name: str, panel: Any) -> None:
        render = self.render
        if name == "Preview":
            panel.show(render)
        elif name in ("Download", "Stream"):
            panel.set_source(render)
        elif name in ("Publish", "Layers"):
            panel.set_render(render)
        elif name == "Delete":
            panel.set_target(render)
        elif name == "Status":
            self._set_watcher(panel, render)

    def _set_watcher(self, slot: w.VBox, render: Any) -> None:
        for old in slot.children:
            old.stop_watching()
            old.close()
        if render is None:
            slot.children = []
            return
        watcher = RenderWatcher(self._client, generation_id=render.id,
                                engine_id=render.engine_id, cell_id=render.cell_id)
        watcher.on_done(lambda g: self.refresh() if g.status != render.status else None)
        slot.children = [watcher]

    @property
    def preview(self) -> Preview:
        return self._build("Preview")

    @property
    def download_button(self) -> DownloadButton:
        return self._build("Download")

    @property
    def stream_panel(self) -> StreamPanel:
        return self._build("Stream")

    @property
    def publish_panel(self) -> PublishPanel:
        return self._build("Publish")

    @property
    def layer_picker(self) -> LayerPicker:
        return self._build("Layers")

    @property
    def delete_button(self) -> DeleteButton:
        return self._build("Delete")

    @property
    def watcher(self) -> RenderWatcher | None:
        slot = self._build("Status")
        return slot.children[0] if slot.children else None

    @property
    def gallery(self) -> Gallery:
        if self._gallery is None:
            self._gallery = Gallery(self.picker.renders)
            self._gallery.on_select(self._on_gallery_select)
        return self._gallery

    # -- selection -------------------------------------------------------------------------------
    @property
    def value(self) -> Any:
        return self.render

    def select(self, render_or_id: Any) -> None:
        """Select a render in the picker (and so in every panel)."""
        self.picker.select(render_or_id)

    def refresh(self) -> None:
        """Fetch the renders again (picker and gallery)."""
        self.picker.refresh()
        if self._gallery is not None:
            self._gallery.set_renders(self.picker.renders)

    def _on_select(self, render: Any) -> None:
        self.render = render
        for name, panel in self._panels.items():
            self._apply(name, panel)

    def _on_gallery_select(self, render: Any) -> None:
        if render is not None:
            self.picker.select(render)

    def _on_tab(self, change: dict[str, Any]) -> None:
        index = change["new"]
        if index is not None and 0 <= index < len(TABS):
            self._build(TABS[index])

    def _on_view(self, change: dict[str, Any]) -> None:
        self.picker_area.children = [self.gallery if change["new"] == "Gallery" else self.picker]

    def _on_deleted(self, _plan: Any) -> None:
        self.refresh()
