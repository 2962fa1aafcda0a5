"""DownloadButton and StreamPanel: one click runs gen_nb.download / gen_nb.stream_to in a thread.

A progress bar with bytes, speed and ETA, a Cancel button (a threading.Event the transfer
checks), the bar green on success and red with the reason on failure. Clicking again after a
cancel or a failure resumes from the ``.part`` file (the core does that).

Progress is paced by the transfer's own :class:`gen_nb.transfer.progress.Progress` (one state
per 0.15 s at most, plus the final one: ≤ 10 updates/s); the panels render every state they
get and never throttle again.

>>> from gen_nb.widgets import DownloadButton
>>> button = DownloadButton("https://cdn.gen.pro/outputs/x.mp4")   # doctest: +SKIP
>>> button.click(); button.wait(); button.result.path              # doctest: +SKIP
"""

from __future__ import annotations

import threading
import urllib.parse
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ipywidgets as w

from gen_nb.api.errors import DownloadCancelled
from gen_nb.api.redact import redact_url
from gen_nb.widgets.panel import Message, WorkerPanel, set_visible, show_error, show_message
from gen_nb.widgets.text import (
    format_bytes,
    format_duration,
    format_rate,
    percent,
    progress_text,
    url_of,
)
from gen_nb.widgets.views import SaveLink

if TYPE_CHECKING:
    from gen_nb.api.settings import TransferOptions

__all__ = ["DownloadButton", "StreamPanel"]


def _download(src: Any, dest: Any, **options: Any) -> Any:
    """gen_nb.download (imported on first use: the widgets never load transfer eagerly)."""
    from gen_nb.transfer import download

    return download(src, dest, **options)


def _stream_to(src: Any, dest: str, **options: Any) -> Any:
    """gen_nb.stream_to, imported on first use."""
    from gen_nb.transfer import stream_to

    return stream_to(src, dest, **options)


def _same_source(a: Any, b: Any) -> bool:
    """The same thing with the same file (a refreshed Render of the same take counts)."""
    return (getattr(a, "id", a) == getattr(b, "id", b) and url_of(a) == url_of(b)
            and type(a) is type(b))


class _TransferPanel(WorkerPanel):
    """Run button + Cancel + bar + label, driving one transfer at a time."""

    _verb = "Transfer"
    _icon = "play"
    _resume = "Retry"

    def __init__(self, item: Any = None) -> None:
        super().__init__()
        self._init_worker(self._verb.lower())
        self.button = w.Button(description=self._verb, icon=self._icon, button_style="primary")
        self.cancel_button = w.Button(description="Cancel", icon="stop", disabled=True)
        self.bar = w.FloatProgress(value=0.0, min=0.0, max=100.0, bar_style="",
                                   layout=w.Layout(flex="1 1 8em", min_width="6em",
                                                   width="auto"))
        self.label = Message()
        self.button.on_click(lambda _b: self._start())
        self.cancel_button.on_click(lambda _b: self.cancel())
        self.item: Any = None
        self.set_item(item)

    # -- public API ------------------------------------------------------------------------------
    @property
    def result(self) -> Any:
        """The last DownloadResult / StreamResult, or None."""
        return self._worker.result

    def click(self) -> None:
        """Same as clicking the button: start (or resume) the transfer in a worker thread."""
        self.button.click()

    def cancel(self) -> None:
        """Ask the running transfer to stop; the partial file is kept for a resume."""
        self._worker.cancel()

    def set_item(self, item: Any) -> None:
        """Transfer this instead (URL, Render, LayerOutput, resource; None: nothing) and reset
        the display. A transfer already running goes on."""
        same = item is not None and _same_source(item, self.item)
        self.item = item
        if same and (self.result is not None or self.error is not None):
            return  # the same thing again: the last outcome stays until the next action
        self.bar.value, self.bar.bar_style = 0.0, ""
        show_message(self.label, "" if url_of(item) else self._nothing_text(item))
        self.button.disabled = not url_of(item) or self._worker.running
        self._reset_extra()

    def _nothing_text(self, item: Any) -> str:
        if item is None:
            return "Pick a render first."
        if getattr(item, "status", "completed") == "completed":
            return "There is no file to transfer: it was deleted (or GEN no longer keeps it)."
        return f"There is no file yet: the render is {item.status}."

    # -- internals -------------------------------------------------------------------------------
    def _reset_extra(self) -> None:
        pass

    def _work(self, item: Any, cancel: threading.Event) -> Any:  # pragma: no cover
        raise NotImplementedError

    def _secrets(self) -> tuple[str, ...]:
        return ()

    def _start(self) -> None:
        if self._worker.running:
            return
        if not url_of(self.item):
            show_message(self.label, "Nothing to transfer: select something first.", bad=True)
            return
        if not self._ready():
            return
        self.bar.bar_style = "info"
        show_message(self.label, "starting…")
        self.button.disabled, self.cancel_button.disabled = True, False
        item = self.item  # the transfer is bound to what the panel showed when clicked
        self._worker.start(lambda cancel: self._work(item, cancel), self._finished,
                           self._failed)

    def _ready(self) -> bool:
        return True

    def _progress(self, state: Any) -> None:
        """The transfer's progress sink: show one (already paced) ProgressState."""
        if state.total:
            self.bar.value = percent(state.done, state.total)
        if state.phase in ("done", "failed", "cancelled"):
            return  # _finished / _failed write the last word
        text = progress_text(state.done, state.total, state.rate, state.eta)
        show_message(self.label, f"verifying… {text}" if state.phase == "verifying" else text)

    def _finished(self, result: Any) -> None:
        self.bar.value, self.bar.bar_style = 100.0, "success"
        self.button.disabled, self.cancel_button.disabled = False, True
        self.button.description = self._verb
        show_message(self.label, self._success_text(result), good=True)
        self._show_result(result)
        self._done_callbacks(result)

    def _failed(self, exc: BaseException) -> None:
        self.button.disabled, self.cancel_button.disabled = False, True
        if isinstance(exc, DownloadCancelled):
            self.bar.bar_style = "warning"
            show_message(self.label, f"Cancelled. Click {self._resume} to continue.", warn=True)
        else:
            self.bar.bar_style = "danger"
            show_error(self.label, exc, self._secrets())
        self.button.description = self._resume

    def _success_text(self, result: Any) -> str:  # pragma: no cover - overridden
        raise NotImplementedError

    def _show_result(self, result: Any) -> None:
        pass


class DownloadButton(_TransferPanel):
    """One click downloads the item to ``dest`` (a folder or file; default GEN_NB_DOWNLOAD_DIR).

    ``click()``, ``cancel()``, ``wait(timeout)``; ``.result`` is the DownloadResult, ``.error``
    the last error. A link to the finished file appears under the bar.
    """

    _verb = "Download"
    _icon = "download"
    _resume = "Resume"
    _fallback = "use gen_nb.download(src, dest)"

    def __init__(self, item: Any = None, dest: str | Path | None = None, *,
                 options: TransferOptions | None = None) -> None:
        self.link = SaveLink(layout=w.Layout(width="100%"))
        super().__init__(item)
        self.dest = dest
        self.options = options   # a TransferOptions (None: the defaults and GEN_NB_* variables)
        self.children = [w.HBox([self.button, self.cancel_button, self.bar],
                                layout=w.Layout(flex_flow="row wrap", width="100%")),
                         self.label, self.link]

    def _summary(self) -> str:
        url = url_of(self.item)
        state = "running" if self.running else (
            "done" if self.result else ("failed" if self.error else "idle"))
        return f"{redact_url(url) or 'no source'} ({state})"

    def _reset_extra(self) -> None:
        self.link.files = []
        set_visible(self.link, False)
        self.button.description = self._verb

    def _work(self, item: Any, cancel: threading.Event) -> Any:
        return _download(item, self.dest, options=self.options, progress=self._progress,
                         cancel=cancel)

    def _success_text(self, result: Any) -> str:
        if getattr(result, "skipped", False):
            return (f"Already downloaded: {Path(result.path).name} "
                    f"({format_bytes(result.bytes)}) matches gen_nb's record, so nothing was "
                    "transferred.")
        seconds = result.seconds or 0.0
        speed = format_rate(result.bytes / seconds) if seconds > 0 else "– B/s"
        text = (f"Done: {Path(result.path).name} · {format_bytes(result.bytes)} in "
                f"{format_duration(seconds)} ({speed}) · sha256 {result.sha256[:12]}…")
        if getattr(result, "resumed_from", 0):
            text += f" · resumed from {format_bytes(result.resumed_from)}"
        return text

    def _show_result(self, result: Any) -> None:
        try:
            self.link.set_files([result.path], [url_of(self.item)])
            set_visible(self.link, True)
        except Exception as exc:
            show_error(self.label, exc)


class StreamPanel(_TransferPanel):
    """Stream the item straight to a destination URL (e.g. a presigned PUT), never to disk.

    The destination's query (its signature) is never shown back; the result line names the
    bytes sent, the sha256 and the destination's HTTP status.
    """

    _verb = "Stream"
    _icon = "upload"
    _fallback = "use gen_nb.stream_to(src, url)"

    def __init__(self, item: Any = None, dest: str | None = None, *,
                 method: str = "PUT", options: TransferOptions | None = None) -> None:
        self.destination = w.Text(description="Destination", value=dest or "",
                                  placeholder="https://… presigned PUT URL, or s3://bucket/key",
                                  style={"description_width": "initial"},
                                  layout=w.Layout(width="100%"))
        super().__init__(item)
        self.method, self.options = method, options
        self.children = [self.destination,
                         w.HBox([self.button, self.cancel_button, self.bar],
                                layout=w.Layout(flex_flow="row wrap", width="100%")),
                         self.label]

    def _summary(self) -> str:
        return (f"{redact_url(url_of(self.item)) or 'no source'} → "
                f"{redact_url(self.destination.value) or 'no destination'}")

    def _secrets(self) -> tuple[str, ...]:
        query = urllib.parse.urlsplit(self.destination.value).query
        return (query,) if query else ()

    def _ready(self) -> bool:
        if not urllib.parse.urlsplit(self.destination.value.strip()).scheme:
            show_message(self.label, "Enter a destination URL first: a presigned PUT URL of "
                         "your bucket, or an fsspec URL such as s3://bucket/key.", bad=True)
            return False
        return True

    def _work(self, item: Any, cancel: threading.Event) -> Any:
        return _stream_to(item, self.destination.value.strip(), method=self.method,
                          options=self.options, progress=self._progress, cancel=cancel)

    def _success_text(self, result: Any) -> str:
        return (f"Streamed {format_bytes(result.bytes)} to {redact_url(result.dest)} · "
                f"HTTP {result.status} · sha256 {result.sha256[:12]}…")
