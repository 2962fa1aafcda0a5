"""RenderBrowser: the dashboard. Pick a render; preview, download, stream, publish, delete it,
look at its layer outputs, or watch / re-run it — each in its own tab.

The tabs are one table, :data:`TABS`: a title, the attribute that reads the panel
(``browser.download_button``) and a factory building the panel for a browser. Every panel is an
:class:`~gen_nb.widgets.panel.ItemView`: the browser hands it the selected render through
``set_item`` and nothing else. Adding a tab is adding one ``Tab(...)`` entry here.

Light: only the picker and the first tab are built at first; every other panel is built the
first time its tab is opened (or its attribute read, or ``browser.panel(title)`` called).

>>> import gen_nb
>>> from gen_nb.widgets import RenderBrowser
>>> RenderBrowser(gen_nb.connect())          # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import ipywidgets as w

from gen_nb.widgets.delete import DeleteButton
from gen_nb.widgets.layers import LayerPicker
from gen_nb.widgets.panel import ItemView, Panel
from gen_nb.widgets.picker import Gallery, RenderPicker
from gen_nb.widgets.preview import Preview
from gen_nb.widgets.publish import PublishPanel
from gen_nb.widgets.text import render_lines
from gen_nb.widgets.transfer import DownloadButton, StreamPanel
from gen_nb.widgets.watcher import RenderWatcher

__all__ = ["TABS", "RenderBrowser", "Tab"]


@dataclass(frozen=True)
class Tab:
    """One dashboard tab: ``title``, the browser ``attribute`` that returns its panel, and
    ``make(browser)`` which builds the panel (an ItemView) the first time it is needed."""

    title: str
    attribute: str
    make: Callable[[RenderBrowser], ItemView]


def _delete_button(browser: RenderBrowser) -> DeleteButton:
    button = DeleteButton(browser.client)
    button.on_deleted(lambda _plan: browser.refresh())
    return button


def _watcher(browser: RenderBrowser) -> RenderWatcher:
    watcher = RenderWatcher(browser.client)
    watcher.on_done(browser._on_generation_done)
    return watcher


TABS: tuple[Tab, ...] = (
    Tab("Preview", "preview", lambda b: Preview()),
    Tab("Download", "download_button", lambda b: DownloadButton(dest=b.dest)),
    Tab("Stream", "stream_panel", lambda b: StreamPanel()),
    Tab("Publish", "publish_panel", lambda b: PublishPanel(b.client)),
    Tab("Layers", "layer_picker", lambda b: LayerPicker(b.client, dest=b.dest)),
    Tab("Delete", "delete_button", _delete_button),
    Tab("Status", "watcher", _watcher),
)


class RenderBrowser(Panel):
    """Everything for the renders of ``client`` in one widget.

    ``picker`` and ``gallery`` choose the render; one attribute per tab of :data:`TABS`
    returns its panel (``preview``, ``download_button``, ``stream_panel``, ``publish_panel``,
    ``layer_picker``, ``delete_button``, ``watcher``), as does ``panel(title)``.
    ``select(render_or_id)`` selects a render; ``.value`` is it.
    """

    _fallback = ("use gen_nb.renders_frame(client) to list renders and "
                 "gen_nb.download(render) to fetch one")

    def __init__(self, client: Any, *, engine_ids: Any = None, dest: Any = None) -> None:
        super().__init__()
        self.client, self.dest = client, dest
        self.render: Any = None
        self._panels: dict[str, ItemView] = {}
        self._gallery: Gallery | None = None
        self.picker = RenderPicker(client, engine_ids=engine_ids)
        self.view = w.ToggleButtons(options=["List", "Gallery"], value="List",
                                    style={"button_width": "auto"})
        self.view.observe(self._on_view, names="value")
        self.picker_area = w.VBox([self.picker])
        self._tabs = {tab.title: tab for tab in TABS}
        self._slots = {title: w.VBox() for title in self._tabs}
        self.tabs = w.Tab(children=list(self._slots.values()), titles=list(self._slots),
                          selected_index=0)
        self.tabs.observe(self._on_tab, names="selected_index")
        self.picker.on_select(self._on_select)
        self.children = [self.view, self.picker_area, self.tabs]
        self.panel(next(iter(self._tabs)))

    def _summary(self) -> str:
        chosen = f", selected #{self.render.id}" if self.render is not None else ""
        return f"{len(self.picker.renders)} renders{chosen}"

    def _details(self) -> list[str]:
        return render_lines(self.picker.renders)

    # -- panels, built on demand -----------------------------------------------------------------
    def panel(self, title: str) -> Any:
        """The panel of tab ``title`` (built, and given the selected render, on first use)."""
        if title not in self._panels:
            if title not in self._tabs:
                raise KeyError(f"no tab {title!r}; the tabs are {', '.join(self._tabs)}")
            panel = self._tabs[title].make(self)
            panel.set_item(self.render)
            self._panels[title] = panel
            self._slots[title].children = [panel]
        return self._panels[title]

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
        for panel in list(self._panels.values()):
            panel.set_item(render)

    def _on_generation_done(self, generation: Any) -> None:
        render = self.render  # the watched render changed state: show it in the list
        if render is not None and str(generation.id) == render.id and \
                generation.status != render.status:
            self.refresh()

    def _on_gallery_select(self, render: Any) -> None:
        if render is not None:
            self.picker.select(render)

    def _on_tab(self, change: dict[str, Any]) -> None:
        titles = list(self._tabs)
        index = change["new"]
        if index is not None and 0 <= index < len(titles):
            self.panel(titles[index])

    def _on_view(self, change: dict[str, Any]) -> None:
        self.picker_area.children = [self.gallery if change["new"] == "Gallery" else self.picker]


def _tab_property(tab: Tab) -> property:
    return property(lambda browser: browser.panel(tab.title),
                    doc=f"The {tab.title} tab's panel (built on first use).")


for _tab in TABS:  # browser.preview, browser.download_button, … straight from the table
    setattr(RenderBrowser, _tab.attribute, _tab_property(_tab))
