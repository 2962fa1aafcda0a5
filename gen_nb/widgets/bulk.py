"""BulkPanel: act on several renders at once — download all, export, publish, delete.

The dashboard's "Selection" tab. Its item is the list of ticked renders (ticked in the gallery,
or added with "Add current" / "Add all shown"); one sub-panel per action, each a worker with a
Cancel, one aggregate bar and a per-render report:

* **Download all** — ``gen_nb.download_many`` into a folder; save links for what landed;
* **Export** — ``gen_nb.export`` to a folder or storage URL (``s3://…``), layers optional;
* **Publish** and **Delete** — :mod:`gen_nb.widgets.bulk_post`.

>>> from gen_nb.widgets.bulk import BulkPanel
>>> panel = BulkPanel(client)                  # doctest: +SKIP
>>> panel.set_item(client.renders()[:3]); panel.download.click()   # doctest: +SKIP
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ipywidgets as w

from gen_nb.api.errors import DownloadCancelled
from gen_nb.widgets import actions, fragments
from gen_nb.widgets.bulk_post import BulkDelete, BulkPublish
from gen_nb.widgets.panel import (
    Message,
    Panel,
    WorkerPanel,
    set_visible,
    show_error,
    show_message,
)
from gen_nb.widgets.text import percent, progress_text, render_label
from gen_nb.widgets.views import SaveLink

if TYPE_CHECKING:
    from gen_nb.api.settings import TransferOptions

__all__ = ["BulkDownload", "BulkExport", "BulkPanel"]

SHOWN = 12  # selected renders listed by name; the rest are counted


def _rows(renders: list[Any]) -> str:
    names = [render_label(r) for r in renders[:SHOWN]]
    more = len(renders) - SHOWN
    return "\n".join(names) + (f"\n… and {more} more" if more > 0 else "")


class _BulkWorker(WorkerPanel):
    """A bulk action with a run button, Cancel, one bar, a message and a report."""

    _verb = "Run"

    def _init_bulk(self, name: str, *extra: w.Widget) -> None:
        self._init_worker(name)
        self.item: list[Any] = []
        self.button = w.Button(description=self._verb, button_style="primary",
                               layout=w.Layout(width="auto"))
        self.cancel_button = w.Button(description="Cancel", disabled=True)
        self.bar = w.FloatProgress(value=0.0, min=0.0, max=100.0,
                                   layout=w.Layout(flex="1 1 8em", min_width="6em"))
        self.message, self.report = Message(), w.HTML()
        self.button.on_click(lambda _b: self._start())
        self.cancel_button.on_click(lambda _b: self._worker.cancel())
        self.children = [*extra, w.HBox([self.button, self.cancel_button, self.bar],
                                        layout=w.Layout(flex_flow="row wrap", width="100%")),
                         self.message, self.report]

    def click(self) -> None:
        self.button.click()

    def set_item(self, item: Any) -> None:
        self.item = list(item or [])
        self.button.description = f"{self._verb} ({len(self.item)})"
        self.button.disabled = not self.item or self._worker.running

    def _progress(self, state: Any) -> None:
        if state.total:
            self.bar.value = percent(state.done, state.total)
        if state.phase not in ("done", "failed", "cancelled"):
            show_message(self.message, progress_text(state.done, state.total, state.rate,
                                                     state.eta))

    def _start(self) -> None:
        if self._worker.running or not self.item:
            return
        renders = list(self.item)  # bound to the selection shown when clicked
        self.bar.value, self.bar.bar_style = 0.0, "info"
        self.report.value = ""
        show_message(self.message, f"{self._verb}: {len(renders)} renders…")
        self.button.disabled, self.cancel_button.disabled = True, False
        self._worker.start(lambda cancel: self._work(renders, cancel), self._finished,
                           self._failed)

    def _work(self, renders: list[Any], cancel: threading.Event) -> Any:  # pragma: no cover
        raise NotImplementedError

    def _end(self, ok: bool) -> None:
        self.button.disabled, self.cancel_button.disabled = not self.item, True
        self.bar.value = 100.0
        self.bar.bar_style = "success" if ok else "danger"

    def _finished(self, outcome: Any) -> None:  # pragma: no cover
        raise NotImplementedError

    def _failed(self, exc: BaseException) -> None:
        self._end(False)
        if isinstance(exc, DownloadCancelled):
            show_message(self.message, "Cancelled; click again to go on.", warn=True)
        else:
            show_error(self.message, exc)


class BulkDownload(_BulkWorker):
    """Download every selected render into ``dest`` (one aggregate bar, a report per file)."""

    _verb = "Download all"
    _fallback = "use gen_nb.download_many(renders, dest_dir)"

    def __init__(self, dest: Any = None, *, options: TransferOptions | None = None) -> None:
        super().__init__()
        self.options = options
        self.folder = w.Text(description="Folder", value=str(dest or ""),
                             placeholder="default: GEN_NB_DOWNLOAD_DIR or downloads/",
                             style={"description_width": "initial"},
                             layout=w.Layout(width="100%"))
        self.links = SaveLink(layout=w.Layout(width="100%"))
        set_visible(self.links, False)
        self._init_bulk("bulk-download", self.folder)
        self.children = [*self.children, self.links]

    def _work(self, renders: list[Any], cancel: threading.Event) -> Any:
        dest = self.folder.value.strip() or None
        return actions.download_all(renders, dest, options=self.options,
                                    progress=self._progress, cancel=cancel)

    def _finished(self, results: list[Any]) -> None:
        failed = [r for r in results if r.status in ("failed", "cancelled")]
        self._end(not failed)
        landed = [r for r in results if r.path is not None and r.status in ("done", "skipped")]
        total = sum(r.bytes or 0 for r in landed)
        text = (f"{len(landed)} of {len(results)} files are on disk "
                f"({fragments_size(total)}); {len(failed)} failed.")
        show_message(self.message, text, good=not failed, bad=bool(failed))
        self.report.value = fragments.report(
            ["file", "status", "size", "error"],
            [[Path(r.path).name if r.path else r.src, r.status, fragments_size(r.bytes),
              r.error] for r in results])
        self.links.set_files([r.path for r in landed], [r.src for r in landed])
        set_visible(self.links, bool(landed))
        self._done_callbacks(results)


class BulkExport(_BulkWorker):
    """Export the selected renders to a folder or storage URL with ``gen_nb.export``."""

    _verb = "Export"
    _fallback = "use gen_nb.export(renders, dest)"

    def __init__(self, client: Any, dest: str = "exports/", *,
                 options: TransferOptions | None = None) -> None:
        super().__init__()
        self._client, self.options = client, options
        self.dest = w.Text(description="Export to", value=dest,
                           placeholder="a folder, or s3://bucket/prefix, gs://…, az://…",
                           style={"description_width": "initial"},
                           layout=w.Layout(width="100%"))
        self.layers = w.Checkbox(description="with layer outputs (voiceover, b-roll…)",
                                 value=False, indent=False, layout=w.Layout(width="auto"))
        self._init_bulk("bulk-export", self.dest, self.layers)

    def _work(self, renders: list[Any], cancel: threading.Event) -> Any:
        return actions.export_all(self._client, renders, self.dest.value.strip(),
                                  layers=self.layers.value, options=self.options,
                                  progress=self._progress, cancel=cancel)

    def _finished(self, report: Any) -> None:
        self._end(report.ok)
        show_message(self.message, report.summary(), good=report.ok, bad=not report.ok)
        self.report.value = fragments.report(
            ["path", "status", "size", "error"],
            [[r.path, r.status, fragments_size(r.bytes), r.error] for r in report])
        self._done_callbacks(report)


def fragments_size(size: int | None) -> str:
    from gen_nb.widgets.text import format_bytes

    return "" if size is None else format_bytes(size)


ACTIONS = ("Download all", "Export", "Publish", "Delete")


class BulkPanel(Panel):
    """The selection and what to do with it (see the module docstring). ``set_item(renders)``;
    ``download``, ``export``, ``publish``, ``delete`` are the action panels."""

    _fallback = "use gen_nb.download_many / gen_nb.export / client.publish on a list"

    def __init__(self, client: Any, item: Any = None, *, dest: Any = None,
                 options: TransferOptions | None = None) -> None:
        super().__init__()
        self.item: list[Any] = []
        self.summary = Message()
        self.names = Message()
        self.add_current = w.Button(description="Add current", icon="plus",
                                    layout=w.Layout(width="auto"))
        self.add_shown = w.Button(description="Add all shown", icon="plus-square",
                                  layout=w.Layout(width="auto"))
        self.clear_button = w.Button(description="Clear", icon="times",
                                     layout=w.Layout(width="auto"))
        self.download = BulkDownload(dest, options=options)
        self.export = BulkExport(client, options=options)
        self.publish, self.delete = BulkPublish(client, log_folder=dest), BulkDelete(client)
        panels = [self.download, self.export, self.publish, self.delete]
        self.action = w.ToggleButtons(options=list(ACTIONS), value=ACTIONS[0],
                                      style={"button_width": "auto"})
        self.stack = w.Stack(panels, selected_index=0)
        self.action.observe(lambda c: setattr(self.stack, "selected_index",
                                              ACTIONS.index(c["new"])), names="value")
        buttons = w.HBox([self.add_current, self.add_shown, self.clear_button],
                         layout=w.Layout(flex_flow="row wrap"))
        self.children = [self.summary, buttons, self.names, self.action, self.stack]
        self.set_item(item)

    def _summary(self) -> str:
        return f"{len(self.item)} renders selected"

    def set_item(self, item: Any) -> None:
        """The selected renders (a list; None or [] for none)."""
        self.item = list(item or [])
        if self.item:
            show_message(self.summary, f"{len(self.item)} renders selected for bulk actions.")
        else:
            show_message(self.summary, "Nothing selected yet: tick renders in the gallery, or "
                         "use “Add current” / “Add all shown”.")
        self.names.show(_rows(self.item) if self.item else "")
        for panel in (self.download, self.export, self.publish, self.delete):
            panel.set_item(self.item)

    def on_done(self, callback: Any, remove: bool = False) -> None:
        """Call ``callback(outcome)`` after any bulk action finishes."""
        for panel in (self.download, self.export, self.publish, self.delete):
            panel.on_done(callback, remove)
