"""RenderBrowser: the dashboard. Pick a render (list or gallery, same filters) or tick several;
preview, download, stream, publish, delete it, look at its layer outputs, follow its life, or
act on the whole selection — each in its own tab.

The tabs are one table, :data:`TABS`: a title, the attribute that reads the panel
(``browser.download_button``) and a factory building the panel for a browser. Every panel is an
:class:`~gen_nb.widgets.panel.ItemView`: the browser hands it the selected render through
``set_item`` and nothing else (the Selection tab gets the ticked renders).

True state: a render whose file this dashboard deleted is shown as deleted everywhere (its
panels get it without a file); a take started from the Status tab joins the list and is
selected; labels carry local state (downloaded, exported, published) from
:func:`gen_nb.local_state.local_state`, refreshed after every download, export, post and delete.

Light: only the picker and the first tab are built at first; every other panel is built the
first time its tab is opened (or its attribute read, or ``browser.panel(title)`` called).

>>> import gen_nb
>>> from gen_nb.widgets import RenderBrowser
>>> RenderBrowser(gen_nb.connect())          # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import ipywidgets as w

from gen_nb.api.errors import UnknownNameError
from gen_nb.widgets.bulk import BulkPanel
from gen_nb.widgets.delete import DeleteButton
from gen_nb.widgets.layers import LayerPicker
from gen_nb.widgets.life import RenderLife
from gen_nb.widgets.panel import ItemView, Panel
from gen_nb.widgets.picker import FIRST_WAIT, RenderPicker
from gen_nb.widgets.preview import Preview
from gen_nb.widgets.publish import PublishPanel
from gen_nb.widgets.text import render_lines
from gen_nb.widgets.transfer import DownloadButton, StreamPanel

if TYPE_CHECKING:
    from gen_nb.api.settings import TransferOptions

__all__ = ["TABS", "RenderBrowser", "Tab"]


@dataclass(frozen=True)
class Tab:
    """One dashboard tab: ``title``, the browser ``attribute`` that returns its panel, and
    ``make(browser)`` which builds the panel (an ItemView) the first time it is needed."""

    title: str
    attribute: str
    make: Callable[[RenderBrowser], ItemView]


def _download(browser: RenderBrowser) -> DownloadButton:
    button = DownloadButton(dest=browser.dest, options=browser.options)
    button.on_done(lambda _result: browser.refresh_local_state())
    return button


def _publish(browser: RenderBrowser) -> PublishPanel:
    panel = PublishPanel(browser.client, log_folder=browser.dest)
    panel.on_done(lambda _post: browser.refresh_local_state())
    return panel


def _delete_button(browser: RenderBrowser) -> DeleteButton:
    button = DeleteButton(browser.client)
    button.on_deleted(browser._on_deleted)
    return button


def _life(browser: RenderBrowser) -> RenderLife:
    life = RenderLife(browser.client, download=browser.download_button,
                      stream=browser.stream_panel)
    life.watcher.on_started(browser._on_take_started)
    life.watcher.on_done(browser._on_generation_done)
    return life


def _bulk(browser: RenderBrowser) -> BulkPanel:
    panel = BulkPanel(browser.client, dest=browser.dest, options=browser.options)
    picker = browser.picker
    panel.add_current.on_click(lambda _b: picker.check([picker.value] if picker.value else []))
    panel.add_shown.on_click(lambda _b: picker.check(picker.shown))
    panel.clear_button.on_click(lambda _b: picker.check(picker.checked, on=False))
    panel.on_done(browser._on_bulk_done)
    return panel


TABS: tuple[Tab, ...] = (
    Tab("Preview", "preview", lambda b: Preview()),
    Tab("Download", "download_button", _download),
    Tab("Stream", "stream_panel", lambda b: StreamPanel(options=b.options)),
    Tab("Publish", "publish_panel", _publish),
    Tab("Layers", "layer_picker",
        lambda b: LayerPicker(b.client, dest=b.dest, options=b.options)),
    Tab("Delete", "delete_button", _delete_button),
    Tab("Status", "life", _life),
    Tab("Selection", "bulk", _bulk),
)


class RenderBrowser(Panel):
    """Everything for the renders of ``client`` in one widget.

    ``picker`` chooses the render (``view`` switches list / gallery; ``gallery`` is the grid);
    one attribute per tab of :data:`TABS` returns its panel (``preview``,
    ``download_button``, ``stream_panel``, ``publish_panel``, ``layer_picker``,
    ``delete_button``, ``life`` with ``watcher``, ``bulk``), as does ``panel(title)``.
    ``select(render_or_id)`` selects a render; ``.value`` is it; ``.selection`` the ticked ones.
    ``dest`` is the download folder; ``options`` a :class:`~gen_nb.TransferOptions` that every
    download, stream, bulk download and export started from the dashboard uses.
    """

    client: Any
    dest: Any
    options: TransferOptions | None   # for every transfer it starts
    _fallback = ("use gen_nb.renders_frame(client) to list renders and "
                 "gen_nb.download(render) to fetch one")

    def __init__(self, client: Any, *, engine_ids: Any = None, dest: Any = None,
                 options: TransferOptions | None = None, view: str = "List",
                 wait: float = FIRST_WAIT) -> None:
        super().__init__()
        self.add_class("gen-nb-browser")
        self.client, self.dest = client, dest
        self.options = options
        self.render: Any = None
        self.deleted: set[str] = set()
        self._panels: dict[str, ItemView] = {}
        self.picker = RenderPicker(client, engine_ids=engine_ids, view=view, autoload=False)
        self.view, self.gallery = self.picker.view, self.picker.grid
        self._tabs = {tab.title: tab for tab in TABS}
        self._slots = {title: w.VBox(layout=w.Layout(width="100%")) for title in self._tabs}
        self.tabs = w.Tab(children=list(self._slots.values()), titles=list(self._slots),
                          selected_index=0, layout=w.Layout(width="100%"))
        self.tabs.observe(self._on_tab, names="selected_index")
        self.picker.on_select(self._on_select)
        self.picker.on_check(self._on_check)
        self.picker.on_loaded(lambda _renders: self.refresh_local_state())
        self.children = [self.picker, self.tabs]
        self.panel(next(iter(self._tabs)))
        self.picker.reload()  # in the background: the kernel is free while engines arrive
        self.picker.wait(wait)  # (a small workspace is there when the widget first shows)

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
                raise UnknownNameError(f"no tab {title!r}; the tabs are "
                                       f"{', '.join(self._tabs)}")
            panel = self._tabs[title].make(self)
            panel.set_item(self.selection if title == "Selection" else self.render)
            self._panels[title] = panel
            self._slots[title].children = [panel]
        return self._panels[title]

    @property
    def watcher(self) -> Any:
        """The Status tab's RenderWatcher."""
        return self.life.watcher  # type: ignore[attr-defined]

    # -- selection -------------------------------------------------------------------------------
    @property
    def value(self) -> Any:
        return self.render

    @property
    def selection(self) -> list[Any]:
        """The ticked renders (as the panels see them: a deleted file shows as gone)."""
        return [self._true_state(r) for r in self.picker.checked]

    def select(self, render_or_id: Any) -> None:
        """Select a render in the picker (and so in every panel)."""
        self.picker.select(render_or_id)

    def reload(self) -> None:
        """Fetch every render again (in the background), then what is known locally."""
        self.picker.reload()

    def refresh(self, engine_ids: Any = ()) -> None:
        """Fetch again what can have changed (the engines ``engine_ids`` and those with
        renders in flight; see :meth:`RenderPicker.refresh`), then what is known locally."""
        if not self.picker.refresh(engine_ids):
            self.refresh_local_state()

    def wait(self, timeout: float | None = None) -> list[Any]:
        """Wait for the renders asked for so far (scripts and tests); returns them."""
        return self.picker.wait(timeout)

    def refresh_local_state(self) -> None:
        """Read the download manifest and post log again (the picker's marks)."""
        from gen_nb.local_state import local_state

        folders = None if self.dest is None else [self.dest]
        states = local_state(self.picker.renders, folders, client=self.client,
                             deleted=self.deleted)
        self.picker.set_local_state(states)

    def _true_state(self, render: Any) -> Any:
        if render is None or render.id not in self.deleted or render.url is None:
            return render
        return dataclasses.replace(render, url=None, thumbnail_url=None,
                                   output_resource_id=None)

    def _on_select(self, render: Any) -> None:
        self.render = render = self._true_state(render)
        for title, panel in list(self._panels.items()):
            if title != "Selection":
                panel.set_item(render)

    def _on_check(self, renders: list[Any]) -> None:
        if "Selection" in self._panels:
            self._panels["Selection"].set_item(self.selection)

    def _on_deleted(self, plan: Any) -> None:
        rid = str(plan.resource_id)
        gone = [r for r in self.picker.renders if str(r.output_resource_id) == rid]
        self.deleted.update(r.id for r in gone)
        self.picker.mark_deleted(self.deleted)
        if self.render is not None and self.render.id in self.deleted:
            self._on_select(self.picker.value)  # every panel shows the file gone, at once
        self.refresh({r.engine_id for r in gone})

    def _on_bulk_done(self, outcome: Any) -> None:
        plans = [o.value for o in outcome if hasattr(o, "render") and
                 getattr(o.value, "deleted", False)] if isinstance(outcome, list) else []
        for plan in plans:
            self._on_deleted(plan)
        if not plans:
            self.refresh_local_state()

    def _on_take_started(self, generation: Any) -> None:
        """A new take from the Status tab: list it and select it."""
        from gen_nb.api.models import Render

        old = self.render
        if generation.id not in {r.id for r in self.picker.renders} and old is not None:
            where = {k: getattr(old, k) for k in ("engine_id", "engine_title", "row_id",
                                                  "cell_id", "title")}
            self.picker.select(Render.from_generation(generation, **where))
        else:
            self.picker.select(generation.id)
        # selected first, so the old take's new state cannot steal the watch
        self.refresh([old.engine_id] if old is not None else ())

    def _on_generation_done(self, generation: Any) -> None:
        render = self.render  # the watched render changed state: show it in the list
        if render is not None and str(generation.id) == render.id and \
                generation.status != render.status:
            self.refresh([render.engine_id])

    def _on_tab(self, change: dict[str, Any]) -> None:
        titles = list(self._tabs)
        index = change["new"]
        if index is not None and 0 <= index < len(titles):
            self.panel(titles[index])


def _tab_property(tab: Tab) -> property:
    return property(lambda browser: browser.panel(tab.title),
                    doc=f"The {tab.title} tab's panel (built on first use).")


for _tab in TABS:  # browser.preview, browser.download_button, … straight from the table
    setattr(RenderBrowser, _tab.attribute, _tab_property(_tab))
