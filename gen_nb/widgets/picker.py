"""RenderPicker (filters + a list) and Gallery (a paged grid of thumbnails): pick a render.

Both take a client (renders come from ``client.renders()``; ``refresh()`` asks again) or a list
of renders, expose ``.value`` (the selected Render or None), ``on_select(cb, remove=False)`` and
``select(render_or_id)`` which triggers the callbacks.

>>> import gen_nb
>>> from gen_nb.widgets import RenderPicker
>>> picker = RenderPicker(gen_nb.connect(sandbox=True, quiet=True))  # doctest: +SKIP
>>> picker.on_select(lambda render: print(render.url))              # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import ipywidgets as w

from gen_nb.widgets import fragments
from gen_nb.widgets.panel import Callbacks, Panel, show_error, show_message
from gen_nb.widgets.text import matches_filter, render_label, render_lines

__all__ = ["Gallery", "RenderPicker"]

STATUSES = ("completed", "processing", "pending", "failed", "stopped")


def _render_id(render_or_id: Any) -> str:
    return str(getattr(render_or_id, "id", render_or_id))


class _RenderSource(Panel):
    """Renders from a client or a list, the selected one, and on_select callbacks."""

    _fallback = "use gen_nb.renders_frame(client) to browse renders"

    def _init_source(self, source: Any, engine_ids: Sequence[str] | None) -> None:
        self._client = None if source is None or isinstance(source, list | tuple) else source
        self._engine_ids = list(engine_ids) if engine_ids else None
        self._renders: dict[str, Any] = {}
        self._selected: str | None = None
        self._select_callbacks = Callbacks()
        self.message = w.Label()
        self._load_error: str | None = None
        if self._client is None:
            self._renders = {r.id: r for r in (source or ())}

    def _details(self) -> list[str]:
        return render_lines(self.renders)

    # -- public API ------------------------------------------------------------------------------
    @property
    def renders(self) -> list[Any]:
        """All renders known to the widget (unfiltered)."""
        return list(self._renders.values())

    @property
    def value(self) -> Any:
        """The selected Render, or None."""
        return self._renders.get(self._selected) if self._selected else None

    def on_select(self, callback: Callable[[Any], Any], remove: bool = False) -> None:
        """Call ``callback(render_or_None)`` whenever the selection changes."""
        self._select_callbacks.register(callback, remove)

    def refresh(self) -> list[Any]:
        """Fetch the renders again (client.renders); errors show in the widget. Returns them."""
        if self._client is not None:
            try:
                renders = self._client.renders(self._engine_ids)
            except Exception as exc:
                self._load_error = show_error(self.message, exc)
                return self.renders
            self._load_error = None
            before = self.value
            self._renders = {r.id: r for r in renders}
            if before is not None and self.value is not None and self.value != before:
                self._select_callbacks(self.value)  # same render, new state (e.g. completed)
        self._show_renders()
        if self._selected and self._selected not in self._renders:
            self._set_selected(None)
        return self.renders

    def set_renders(self, renders: Sequence[Any]) -> None:
        """Show this list of renders instead (keeps the selection when it is still there)."""
        self._renders = {r.id: r for r in renders}
        self.refresh()

    def _set_selected(self, render_id: str | None) -> None:
        if render_id == self._selected:
            return
        self._selected = render_id
        self._select_callbacks(self.value)

    def _show_renders(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError


class RenderPicker(_RenderSource):
    """Filter renders by engine, status and text, and pick one from a list.

    Example::

        picker = RenderPicker(client)
        picker.on_select(lambda r: print(r.id, r.url))
        picker.select(client.renders()[0])   # triggers the callback
    """

    def __init__(self, source: Any = None, *, engine_ids: Sequence[str] | None = None,
                 rows: int = 8) -> None:
        super().__init__()
        self._init_source(source, engine_ids)
        self._updating = False
        self.engine = w.Dropdown(description="Engine", options=[("All engines", "")], value="")
        self.status = w.ToggleButtons(
            description="Status", options=[("all", "")] + [(s, s) for s in STATUSES], value="",
            style={"button_width": "auto"})
        self.text = w.Text(description="Search", placeholder="title or id",
                           continuous_update=True)
        self.choices = w.Select(description="Render", options=[], rows=rows,
                                layout=w.Layout(width="100%"))
        for widget in (self.engine, self.status, self.text):
            widget.observe(self._on_filter, names="value")
        self.choices.observe(self._on_choice, names="value")
        self.children = [w.HBox([self.engine, self.text]), self.status, self.choices,
                         self.message]
        self.refresh()

    def _summary(self) -> str:
        shown = len(self.choices.options)
        chosen = f", selected #{self._selected}" if self._selected else ""
        return f"{len(self._renders)} renders ({shown} shown){chosen}"

    def select(self, render_or_id: Any) -> None:
        """Select a render (a Render or its id); clears filters that hide it; fires on_select."""
        render_id = _render_id(render_or_id)
        if render_id not in self._renders:
            if not hasattr(render_or_id, "id"):
                raise KeyError(f"render {render_id!r} is not in this picker; refresh() first")
            self._renders[render_id] = render_or_id
            self._show_renders()
        if render_id not in {value for _, value in self.choices.options}:
            self.engine.value, self.status.value, self.text.value = "", "", ""
        self.choices.value = render_id
        self._set_selected(render_id)

    def clear(self) -> None:
        """Select nothing (fires on_select with None)."""
        self.choices.value = None
        self._set_selected(None)

    # -- internals -------------------------------------------------------------------------------
    def _show_renders(self) -> None:
        engines = sorted({(r.engine_title or f"engine {r.engine_id}", r.engine_id)
                          for r in self._renders.values() if r.engine_id})
        options = [("All engines", ""), *((f"{title} ({eid})", eid) for title, eid in engines)]
        if list(self.engine.options) != options:
            current = self.engine.value
            self.engine.options = options
            self.engine.value = current if any(v == current for _, v in options) else ""
        shown = [(render_label(r), r.id) for r in self._renders.values()
                 if matches_filter(r, text=self.text.value, engine_id=self.engine.value or None,
                                   status=self.status.value or None)]
        keep = self._selected if any(v == self._selected for _, v in shown) else None
        self._updating = True  # new options must not look like a user's choice
        try:
            self.choices.options = shown
            self.choices.value = keep
        finally:
            self._updating = False
        if not self._load_error:
            show_message(self.message, f"{len(shown)} of {len(self._renders)} renders")

    def _on_filter(self, _change: dict[str, Any]) -> None:
        self._show_renders()

    def _on_choice(self, change: dict[str, Any]) -> None:
        if change["new"] is not None and not self._updating:
            self._set_selected(change["new"])


class Gallery(_RenderSource):
    """A paged grid of thumbnail cards; a card's "Select" button selects its render.

    Only ``page_size`` cards exist at a time, so a gallery of thousands of renders stays light.
    """

    def __init__(self, source: Any = None, *, engine_ids: Sequence[str] | None = None,
                 page_size: int = 12, columns: int = 4) -> None:
        super().__init__()
        self._init_source(source, engine_ids)
        self.page_size = max(1, page_size)
        self.page = 0
        self.grid = w.GridBox(layout=w.Layout(
            grid_template_columns=f"repeat({columns}, minmax(0, 1fr))", grid_gap="8px"))
        self.prev_button = w.Button(description="◀ Prev", layout=w.Layout(width="auto"))
        self.next_button = w.Button(description="Next ▶", layout=w.Layout(width="auto"))
        self.page_label = w.Label()
        self.prev_button.on_click(lambda _b: self.show_page(self.page - 1))
        self.next_button.on_click(lambda _b: self.show_page(self.page + 1))
        self.card_buttons: dict[str, w.Button] = {}
        self.children = [self.grid, w.HBox([self.prev_button, self.page_label,
                                            self.next_button]), self.message]
        self.refresh()

    def _summary(self) -> str:
        chosen = f", selected #{self._selected}" if self._selected else ""
        return f"{len(self._renders)} renders, page {self.page + 1} of {self.pages}{chosen}"

    @property
    def pages(self) -> int:
        return max(1, -(-len(self._renders) // self.page_size))

    def select(self, render_or_id: Any) -> None:
        """Select a render (a Render or its id), turning to its page; fires on_select."""
        render_id = _render_id(render_or_id)
        if render_id not in self._renders:
            if not hasattr(render_or_id, "id"):
                raise KeyError(f"render {render_id!r} is not in this gallery; refresh() first")
            self._renders[render_id] = render_or_id
        index = list(self._renders).index(render_id)
        self._set_selected(render_id)
        self.show_page(index // self.page_size)

    def show_page(self, page: int) -> None:
        """Show page ``page`` (0-based, clamped), building only that page's cards."""
        self.page = max(0, min(page, self.pages - 1))
        start = self.page * self.page_size
        renders = list(self._renders.values())[start:start + self.page_size]
        old = list(self.grid.children)
        self.card_buttons = {}
        self.grid.children = [self._card(r) for r in renders]
        for card in old:
            for child in card.children:
                child.close()
            card.close()
        self.prev_button.disabled = self.page == 0
        self.next_button.disabled = self.page >= self.pages - 1
        self.page_label.value = (f"page {self.page + 1} of {self.pages} · "
                                 f"{len(self._renders)} renders")

    def _card(self, render: Any) -> w.VBox:
        chosen = render.id == self._selected
        button = w.Button(description="Selected" if chosen else "Select",
                          button_style="info" if chosen else "",
                          tooltip=render_label(render), layout=w.Layout(width="auto"))
        button.on_click(lambda _b, rid=render.id: self.select(rid))
        self.card_buttons[render.id] = button
        try:
            html = fragments.thumbnail(render)
        except Exception as exc:
            show_error(self.message, exc)
            html = ""
        title = w.Label(value=render_label(render), tooltip=render_label(render))
        return w.VBox([w.HTML(html), title, button], layout=w.Layout(border="1px solid #ddd",
                                                                padding="4px"))

    def _show_renders(self) -> None:
        self.show_page(self.page)

    def _set_selected(self, render_id: str | None) -> None:
        previous = self._selected
        super()._set_selected(render_id)
        for rid in (previous, render_id):
            button = self.card_buttons.get(rid) if rid else None
            if button is not None:
                chosen = rid == self._selected
                button.description = "Selected" if chosen else "Select"
                button.button_style = "info" if chosen else ""
