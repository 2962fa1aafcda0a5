"""RenderLife: one view for a render's life — started → completed → downloaded / streamed.

Three rows, one bar per phase: the :class:`RenderWatcher` (follow it, stop it, or start a new
take: confirmed first on the real API), then a :class:`DownloadButton` and a
:class:`StreamPanel` that get the finished render the moment it completes. The dashboard's
"Status" tab; in the dashboard the Download and Stream rows are the same widgets as its
Download and Stream tabs.

>>> from gen_nb.widgets import RenderLife
>>> life = RenderLife(client, render)              # doctest: +SKIP
>>> life.watcher.start(confirmed=True)             # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

import ipywidgets as w

from gen_nb.widgets.panel import Callbacks, Panel
from gen_nb.widgets.transfer import DownloadButton, StreamPanel
from gen_nb.widgets.watcher import RenderWatcher

__all__ = ["RenderLife"]


def _heading(text: str) -> w.HTML:
    return w.HTML(f'<div style="font-weight:600;margin-top:6px">{text}</div>')


class RenderLife(Panel):
    """Follow a render and then download and/or stream it, in one widget.

    ``set_item(render)``; ``watcher``, ``download``, ``stream`` are the three phases;
    ``on_finished(cb)`` gets the completed Render (built from the generation when it is a new
    take the list does not know yet).
    """

    _fallback = "use client.wait(id), then gen_nb.download(render) or gen_nb.stream_to"

    def __init__(self, client: Any, item: Any = None, *, dest: Any = None,
                 download: DownloadButton | None = None, stream: StreamPanel | None = None,
                 **watch: Any) -> None:
        super().__init__()
        self.item: Any = None
        self.watcher = RenderWatcher(client, **watch)
        self.download = download if download is not None else DownloadButton(dest=dest)
        self.stream = stream if stream is not None else StreamPanel()
        self._finished_callbacks = Callbacks()
        self.watcher.on_done(self._on_done)
        self.children = [_heading("1 · Render"), self.watcher, _heading("2 · Download"),
                         self.download, _heading("3 · Stream to storage"), self.stream]
        self.set_item(item)

    def _summary(self) -> str:
        return self.watcher._summary()

    def set_item(self, item: Any) -> None:
        """Follow ``item`` (a Render, Generation or id); the transfers get it too."""
        self.item = item
        self.watcher.set_item(item)
        for panel in (self.download, self.stream):
            panel.set_item(item)

    def on_finished(self, callback: Any, remove: bool = False) -> None:
        """Call ``callback(render)`` when the followed render completes."""
        self._finished_callbacks.register(callback, remove)

    def _on_done(self, generation: Any) -> None:
        if generation.status != "completed":
            return
        render = self._render_of(generation)
        for panel in (self.download, self.stream):
            panel.set_item(render)
        self._finished_callbacks(render)

    def _render_of(self, generation: Any) -> Any:
        from gen_nb.api.models import Render

        old = self.item
        if getattr(old, "id", None) == generation.id and getattr(old, "url", None):
            return old
        where = {name: getattr(old, name, None) for name in
                 ("engine_id", "engine_title", "row_id", "cell_id", "title")}
        return Render.from_generation(generation, **{k: v for k, v in where.items() if v})
