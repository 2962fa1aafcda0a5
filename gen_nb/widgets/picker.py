"""RenderPicker: filters (search, engine, status) over a list or a gallery of renders; pick one,
tick several. Gallery is the same picker shown as a grid first.

Renders from a client load in a background thread, so the kernel stays free: the widget
waits up to ``wait`` seconds (default 1) for the first load, so a small workspace shows up
filled in, and otherwise comes up at once with the message counting the engines as they
arrive; ``loading`` says whether a load is going on and
``wait()`` joins it (in scripts and tests). ``reload()`` (the Refresh button) asks for every
render again; ``refresh(engine_ids)`` asks only for what can have changed: the engines named
(the ones an action touched) and those with a render still pending or processing.

Both views share the filters, the current render (``.value``, marked in the list and in the
gallery) and the checked renders (``.checked``: the selection bulk actions work on). Renders
come from a client (``client.renders()``) or a list. Labels carry
each render's true state: ``completed · file deleted``, and local marks (downloaded, exported,
published) from :func:`gen_nb.local_state.local_state` via ``set_local_state``.

Scale: the search text of every render is computed once; a keystroke filters with one pass of
substring checks and sends at most ``limit`` list options (the list says how many more match)
or one gallery page, so 10,000 renders stay quick and light.

>>> import gen_nb
>>> from gen_nb.widgets import RenderPicker
>>> picker = RenderPicker(gen_nb.connect(sandbox=True, quiet=True))  # doctest: +SKIP
>>> renders = picker.wait()                                          # doctest: +SKIP
>>> picker.on_select(lambda render: print(render.url))              # doctest: +SKIP
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar, cast

import ipywidgets as w

from gen_nb.api.errors import UnknownNameError
from gen_nb.api.models import TERMINAL_STATUSES
from gen_nb.widgets.panel import (
    Callbacks,
    Message,
    Panel,
    Worker,
    set_visible,
    show_error,
    show_message,
)
from gen_nb.widgets.text import render_label, render_lines, search_text, tile_of
from gen_nb.widgets.views import GalleryView

__all__ = ["Gallery", "RenderPicker", "UnknownRender"]

STATUSES = ("completed", "processing", "pending", "failed", "stopped")
VIEWS = ("List", "Gallery")
EVERYTHING = None  # a load of every engine (as opposed to a set of engine ids)
PROGRESS_EVERY = 0.1  # seconds between two "Loading … engines" messages
FIRST_WAIT = 1.0  # a first load done within this many seconds is there when the widget shows


class _Loads:
    """What is still to be fetched: everything, or a set of engines (merged as asked)."""

    def __init__(self) -> None:
        self.engines: set[str] | None = set()
        self.notify = True
        self.waiting = False

    def add(self, engines: set[str] | None, notify: bool) -> None:
        if not self.waiting:
            self.engines, self.notify = engines, notify
        else:
            self.engines = None if engines is None or self.engines is None \
                else self.engines | engines
            self.notify = self.notify and notify
        self.waiting = True

    def take(self) -> tuple[set[str] | None, bool] | None:
        if not self.waiting:
            return None
        self.waiting = False
        return self.engines, self.notify


class UnknownRender(UnknownNameError):
    """The id names no render the picker knows (``select("99999")``)."""


_F = TypeVar("_F", bound=Callable[..., Any])


def _locked(method: _F) -> _F:
    """Run a picker method holding its lock (the kernel's events vs the loading thread)."""
    @functools.wraps(method)
    def locked(self: RenderPicker, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            return method(self, *args, **kwargs)
    return cast(_F, locked)


def _render_id(render_or_id: Any) -> str:
    return str(getattr(render_or_id, "id", render_or_id))


class RenderPicker(Panel):
    """Filter renders and pick one (list or gallery); tick several for bulk actions.

    ``value`` the current Render, ``checked`` the ticked ones; ``select(render_or_id)``,
    ``clear()``, ``check(ids, on=True)``, ``on_select(cb)``, ``on_check(cb)``; ``view.value``
    is "List" or "Gallery"; ``show_page(n)`` turns the gallery.

    Example::

        picker = RenderPicker(client)        # returns at once; the renders load behind
        picker.on_select(lambda r: print(r.id, r.url))
        picker.wait()                        # in a script: until they are there
        picker.select(picker.renders[0])     # triggers the callback
    """

    _fallback = "use gen_nb.renders_frame(client) to browse renders"

    def __init__(self, source: Any = None, *, engine_ids: Sequence[str] | None = None,
                 rows: int = 10, view: str = "List", page_size: int = 24,
                 limit: int = 500, autoload: bool = True, wait: float = FIRST_WAIT) -> None:
        super().__init__()
        self.add_class("gen-nb-picker")
        self._client = None if source is None or isinstance(source, list | tuple) else source
        self._engine_ids = [str(e) for e in engine_ids] if engine_ids else None
        self.page_size, self.limit = max(1, page_size), max(1, limit)
        self._renders: dict[str, Any] = {}
        self._search: dict[str, str] = {}
        self._marks: dict[str, str] = {}
        self._deleted: set[str] = set()
        self._selected: str | None = None
        self._checked: list[str] = []
        self._shown: list[str] = []
        self._updating = False
        self._page_shown = 0
        self._load_error: str | None = None
        self._select_callbacks, self._check_callbacks = Callbacks(), Callbacks()
        self._loaded_callbacks = Callbacks()
        self._lock = threading.RLock()  # the loader thread and the kernel's events take turns
        self._loader = Worker("picker-load")
        self._loads = _Loads()
        self._looping = False
        self._adopted: set[str] = set()  # selected by hand before any load listed them
        self._build(rows, view)
        if self._client is None:
            self._set_renders(source or ())
            self._after_change()
        elif autoload:
            self.reload()
            self._loader.wait(wait)

    def _build(self, rows: int, view: str) -> None:
        narrow = {"description_width": "initial"}
        self.text = w.Text(description="Search", placeholder="title, engine or id",
                           continuous_update=True, style=narrow,
                           layout=w.Layout(flex="1 1 14em", min_width="12em", width="auto"))
        self.engine = w.Dropdown(description="Engine", options=[("All engines", "")], value="",
                                 style=narrow, layout=w.Layout(width="auto", max_width="100%"))
        self.status = w.Dropdown(description="Status", value="", style=narrow,
                                 options=[("any status", ""), *((s, s) for s in STATUSES)],
                                 layout=w.Layout(width="auto"))
        self.filters = w.HBox([self.text, self.engine, self.status],
                              layout=w.Layout(flex_flow="row wrap", width="100%"))
        self.filters.add_class("gen-nb-filters")
        self.view = w.ToggleButtons(options=list(VIEWS), value=view, style={"button_width":
                                                                          "auto"})
        self.reload_button = w.Button(description="Refresh", icon="refresh",
                                      tooltip="Fetch every render again",
                                      layout=w.Layout(width="auto"))
        self.reload_button.on_click(lambda _button: self.reload())
        self.toolbar = w.HBox([self.view, self.reload_button],
                              layout=w.Layout(flex_flow="row wrap", width="100%"))
        self.choices = w.Select(options=[], rows=rows, layout=w.Layout(width="100%"))
        self.grid = GalleryView(layout=w.Layout(width="100%"))
        self.message = Message()
        for widget in (self.engine, self.status, self.text):
            widget.observe(self._on_filter, names="value")
        self.choices.observe(self._on_choice, names="value")
        self.view.observe(self._on_view, names="value")
        self.grid.observe(self._on_grid_current, names="current")
        self.grid.observe(self._on_grid_checked, names="checked")
        self.grid.observe(self._on_grid_page, names="page")
        self.children = [self.toolbar, self.filters, self.choices, self.grid, self.message]
        if self._client is None:
            set_visible(self.reload_button, False)
        self._show_view()

    def _summary(self) -> str:
        chosen = f", selected #{self._selected}" if self._selected else ""
        return f"{len(self._renders)} renders ({len(self._shown)} shown){chosen}"

    def _details(self) -> list[str]:
        return render_lines(self.renders)

    # -- public API ------------------------------------------------------------------------------
    @property
    def renders(self) -> list[Any]:
        """All renders known to the picker (unfiltered)."""
        return list(self._renders.values())

    @property
    def shown(self) -> list[Any]:
        """The renders that pass the filters, in order."""
        return [self._renders[i] for i in self._shown]

    @property
    def value(self) -> Any:
        """The current Render, or None."""
        return self._renders.get(self._selected) if self._selected else None

    @property
    def checked(self) -> list[Any]:
        """The ticked renders, in the order they were ticked."""
        return [self._renders[i] for i in self._checked if i in self._renders]

    @property
    def page(self) -> int:
        return self.grid.page

    @property
    def pages(self) -> int:
        return max(1, -(-len(self._shown) // self.page_size))

    def on_select(self, callback: Callable[[Any], Any], remove: bool = False) -> None:
        """Call ``callback(render_or_None)`` whenever the current render changes."""
        self._select_callbacks.register(callback, remove)

    def on_check(self, callback: Callable[[list[Any]], Any], remove: bool = False) -> None:
        """Call ``callback(checked_renders)`` whenever the ticked renders change."""
        self._check_callbacks.register(callback, remove)

    @_locked
    def select(self, render_or_id: Any) -> None:
        """Make a render (a Render or its id) current; clears filters that hide it; fires
        on_select. Raises :class:`UnknownRender` for an id the picker does not know."""
        render_id = _render_id(render_or_id)
        if render_id not in self._renders:
            if not hasattr(render_or_id, "id"):
                raise UnknownRender(
                    f"There is no render {render_id!r} here ({len(self._renders)} renders are "
                    "listed). Check the id, or call refresh() if it was made just now.")
            self._add(render_or_id)
            self._adopted.add(render_id)
        if render_id not in self._shown:
            self._clear_filters()
        self._set_selected(render_id)
        self._show_renders()
        if self.view.value == "Gallery":
            self.show_page(self._shown.index(render_id) // self.page_size)

    @_locked
    def clear(self) -> None:
        """Make nothing current (fires on_select with None)."""
        self._set_selected(None)
        self._show_renders()

    @_locked
    def check(self, renders_or_ids: Iterable[Any], on: bool = True) -> None:
        """Tick (or untick) renders; fires on_check."""
        ids = [_render_id(r) for r in renders_or_ids]
        kept = [i for i in self._checked if i not in ids]
        self._set_checked(kept + [i for i in ids if i in self._renders] if on else kept)

    @property
    def loading(self) -> bool:
        """Whether renders are being fetched now."""
        with self._lock:
            return self._looping

    @property
    def error(self) -> BaseException | None:
        """The last load's error (shown in the message), or None."""
        return self._loader.error

    def on_loaded(self, callback: Callable[[list[Any]], Any], remove: bool = False) -> None:
        """Call ``callback(renders)`` after each load is shown (in the loading thread)."""
        self._loaded_callbacks.register(callback, remove)

    def reload(self, notify: bool = True) -> None:
        """Fetch every render again, in the background (the Refresh button)."""
        self._ask(EVERYTHING, notify)

    def refresh(self, engine_ids: Iterable[str | int] = (), *, notify: bool = True) -> bool:
        """Fetch again, in the background, only what can have changed: the engines
        ``engine_ids`` (those an action touched) and every engine with a render still pending
        or processing. Nothing to fetch, no request. ``notify=False``: the current render's new
        state does not fire on_select. Returns whether anything is being fetched."""
        if self._client is None:
            return False
        with self._lock:
            wanted = {str(e) for e in engine_ids if e is not None and str(e)}
            wanted |= {r.engine_id for r in self._renders.values()
                       if r.engine_id and r.status not in TERMINAL_STATUSES}
        if self._engine_ids is not None:
            wanted &= set(self._engine_ids)
        if wanted:
            self._ask(wanted, notify)
        return bool(wanted)

    def wait(self, timeout: float | None = None) -> list[Any]:
        """Wait for the loads asked for so far (for scripts and tests); returns the renders."""
        self._loader.wait(timeout)
        return self.renders

    def _ask(self, engines: set[str] | None, notify: bool) -> None:
        with self._lock:
            self._loads.add(engines, notify)
            if self._looping:
                return  # the running loop takes it next
            self._looping = True
        self.reload_button.disabled = True
        if not self._load_error:
            show_message(self.message, "Loading renders…")
        self._loader.start(self._load_loop, lambda _result: None, lambda _exc: None)

    def _load_loop(self, cancel: threading.Event) -> None:
        while not cancel.is_set():
            with self._lock:
                job = self._loads.take()
                if job is None:
                    self._looping = False
                    break
            engines, notify = job
            try:
                found = self._fetch(engines)
            except Exception as exc:
                with self._lock:
                    self._load_error = show_error(self.message, exc)
                continue
            with self._lock:
                self._show_loaded(engines, found, notify)
            self._loaded_callbacks(self.renders)
        self.reload_button.disabled = False

    def _fetch(self, engines: set[str] | None) -> list[Any]:
        assert self._client is not None
        asked = sorted(engines) if engines is not None else self._engine_ids
        last = [0.0]

        def progress(done: int, total: int) -> None:
            now = time.monotonic()
            if done == 0 or done == total or now - last[0] >= PROGRESS_EVERY:
                last[0] = now
                noun = "engine" if total == 1 else "engines"
                show_message(self.message, f"Loading renders… {done:,} of {total:,} {noun}")

        return list(self._client.renders(asked, on_progress=progress))

    def _show_loaded(self, engines: set[str] | None, found: list[Any], notify: bool) -> None:
        self._load_error = None
        before = self.value
        if engines is None:
            kept = [r for rid, r in self._renders.items() if rid in self._adopted]
            self._set_renders([*found, *kept])
        else:
            self._merge(engines, found)
        self._adopted -= {r.id for r in found}
        if notify and before is not None and self.value is not None and self.value != before:
            self._select_callbacks(self.value)  # same render, new state (e.g. completed)
        self._after_change()

    def _merge(self, engines: set[str], found: list[Any]) -> None:
        """Swap the renders of ``engines`` for ``found``, where they were in the order."""
        fresh: dict[str, list[Any]] = {}
        for render in found:
            fresh.setdefault(str(render.engine_id), []).append(render)
        ids = {r.id for r in found}
        merged: list[Any] = []
        for rid, render in self._renders.items():
            engine = str(render.engine_id)
            if engine in engines:
                merged.extend(fresh.pop(engine, ()))
                if rid in self._adopted and rid not in ids:
                    merged.append(render)
            elif rid not in ids:
                merged.append(render)
        for rest in fresh.values():
            merged.extend(rest)
        self._set_renders(merged)

    @_locked
    def set_renders(self, renders: Sequence[Any]) -> None:
        """Show this list of renders instead (keeps the selection when it is still there)."""
        before = self.value
        self._set_renders(renders)
        if before is not None and self.value is not None and self.value != before:
            self._select_callbacks(self.value)
        self._after_change()

    @_locked
    def set_local_state(self, states: Mapping[str, Any]) -> None:
        """Show local marks (downloaded · exported · published) from ``local_state()``."""
        for render_id, state in states.items():
            if render_id in self._renders:
                self._marks[render_id] = state.marks
                if getattr(state, "deleted", False):
                    self._deleted.add(render_id)
        self._show_renders()

    @_locked
    def mark_deleted(self, render_ids: Iterable[str]) -> None:
        """Show these renders' files as deleted (what this session deleted)."""
        self._deleted.update(str(i) for i in render_ids)
        self._show_renders()

    def is_deleted(self, render_id: str) -> bool:
        return render_id in self._deleted

    @_locked
    def show_page(self, page: int) -> None:
        """Turn the gallery to page ``page`` (0-based, clamped): one message with its tiles."""
        page = max(0, min(page, self.pages - 1))
        start = page * self.page_size
        tiles = [self._tile(i) for i in self._shown[start:start + self.page_size]]
        caption = (f"page {page + 1} of {self.pages} · {len(self._shown):,} of "
                   f"{len(self._renders):,} renders")
        self._page_shown = page
        with self.grid.hold_sync():
            self.grid.page, self.grid.pages = page, self.pages
            self.grid.tiles, self.grid.caption = tiles, caption

    # -- internals -------------------------------------------------------------------------------
    def _label(self, render_id: str) -> str:
        return render_label(self._renders[render_id], self._marks.get(render_id, ""),
                            render_id in self._deleted)

    def _tile(self, render_id: str) -> dict[str, str]:
        return tile_of(self._renders[render_id], self._marks.get(render_id, ""),
                       render_id in self._deleted)

    def _add(self, render: Any) -> None:
        self._renders[render.id] = render
        self._search[render.id] = search_text(render)

    def _set_renders(self, renders: Iterable[Any]) -> None:
        listed = {render.id: render for render in renders}
        self._search = {rid: search_text(render) for rid, render in listed.items()}
        self._renders = listed  # one swap: a reader in another thread sees old or new

    def _after_change(self) -> None:
        if self._selected and self._selected not in self._renders:
            self._set_selected(None)
        if any(i not in self._renders for i in self._checked):
            self._set_checked([i for i in self._checked if i in self._renders])
        self._update_engines()
        self._show_renders()

    def _update_engines(self) -> None:
        engines = sorted({(r.engine_title or f"engine {r.engine_id}", r.engine_id)
                          for r in self._renders.values() if r.engine_id})
        options = [("All engines", ""), *((f"{title} ({eid})", eid) for title, eid in engines)]
        if list(self.engine.options) != options:
            current = self.engine.value
            self._updating = True
            try:
                self.engine.options = options
                self.engine.value = current if any(v == current for _, v in options) else ""
            finally:
                self._updating = False

    def _filter(self) -> list[str]:
        needle = self.text.value.strip().lower()
        engine, status = self.engine.value or None, self.status.value or None
        return [rid for rid, render in self._renders.items()
                if (not engine or render.engine_id == engine)
                and (not status or render.status == status)
                and (not needle or needle in self._search[rid])]

    def _show_renders(self) -> None:
        self._shown = self._filter()
        if self.view.value == "Gallery":
            with self.grid.hold_sync():
                self.grid.current = self._selected or ""
                self.grid.checked = list(self._checked)
                self.show_page(self.grid.page)
        else:
            self._show_list()
        self._count_message()

    def _show_list(self) -> None:
        first = self._shown[:self.limit]
        if self._selected in self._shown and self._selected not in first:
            first = [self._selected, *first[:-1]]
        options = [(self._label(i), i) for i in first]
        self._updating = True  # new options must not look like a user's choice
        try:
            if list(self.choices.options) != options:
                self.choices.options = options
            self.choices.value = self._selected if self._selected in first else None
        finally:
            self._updating = False

    def _count_message(self) -> None:
        if self._load_error:
            return
        total, shown = len(self._renders), len(self._shown)
        text = f"{shown:,} of {total:,} renders"
        if self.view.value == "List" and shown > self.limit:
            text = (f"Showing the first {self.limit:,} of {shown:,} matching renders "
                    f"({total:,} in all): type in Search to narrow, or use the Gallery.")
        ticked = f" · {len(self._checked)} selected for bulk actions" if self._checked else ""
        show_message(self.message, text + ticked)

    def _clear_filters(self) -> None:
        self._updating = True
        try:
            self.engine.value, self.status.value, self.text.value = "", "", ""
        finally:
            self._updating = False

    def _set_selected(self, render_id: str | None) -> None:
        if render_id == self._selected:
            return
        self._selected = render_id
        self._select_callbacks(self.value)

    def _set_checked(self, ids: list[str]) -> None:
        if ids == self._checked:
            return
        self._checked = ids
        if self.view.value == "Gallery" and self.grid.checked != ids:
            self.grid.checked = list(ids)
        self._count_message()
        self._check_callbacks(self.checked)

    def _show_view(self) -> None:
        gallery = self.view.value == "Gallery"
        self.choices.layout.display = "none" if gallery else None
        self.grid.layout.display = None if gallery else "none"

    # -- events ----------------------------------------------------------------------------------
    @_locked
    def _on_filter(self, _change: dict[str, Any]) -> None:
        if not self._updating:
            self._page_shown = self.grid.page = 0
            self._show_renders()

    @_locked
    def _on_choice(self, change: dict[str, Any]) -> None:
        if change["new"] is not None and not self._updating:
            self._set_selected(change["new"])

    @_locked
    def _on_view(self, _change: dict[str, Any]) -> None:
        self._show_view()
        self._show_renders()
        if self.view.value == "Gallery" and self._selected in self._shown:
            self.show_page(self._shown.index(self._selected) // self.page_size)

    @_locked
    def _on_grid_current(self, change: dict[str, Any]) -> None:
        new = change["new"]
        if new and new != self._selected and new in self._renders:
            self._set_selected(new)

    @_locked
    def _on_grid_checked(self, change: dict[str, Any]) -> None:
        ids = [i for i in change["new"] if i in self._renders]
        if ids != self._checked:
            self._set_checked(ids)

    @_locked
    def _on_grid_page(self, change: dict[str, Any]) -> None:
        if change["new"] != self._page_shown:
            self.show_page(change["new"])


class Gallery(RenderPicker):
    """A RenderPicker shown as a paged gallery first: thumbnails (placeholders with a status
    badge where there is none), ellipsised titles with the full title on hover, the same
    filters, the current render marked, tick boxes for several. Only one page of tiles is
    ever in the widget's state, so thousands of renders stay light."""

    def __init__(self, source: Any = None, *, engine_ids: Sequence[str] | None = None,
                 page_size: int = 12, **kwargs: Any) -> None:
        kwargs.setdefault("view", "Gallery")
        super().__init__(source, engine_ids=engine_ids, page_size=page_size, **kwargs)

    def _summary(self) -> str:
        chosen = f", selected #{self._selected}" if self._selected else ""
        return (f"{len(self._renders)} renders, page {self.page + 1} of {self.pages}"
                f"{chosen}")
