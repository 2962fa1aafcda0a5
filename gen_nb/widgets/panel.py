"""What every gen_nb widget shares: the one-method item protocol, the text shown where widgets
cannot render, worker threads, callbacks and status messages.

* :class:`ItemView` — every panel that shows or acts on "the current thing" (Preview,
  DownloadButton, StreamPanel, PublishPanel, LayerPicker, DeleteButton, RenderWatcher) takes it
  through ``set_item(item)`` and keeps it as ``.item``; that is all the dashboard calls.
* :class:`Panel` — a VBox whose ``repr`` is a short text view: what the widget holds, a few
  lines of detail and what to call instead. A terminal, plain IPython or a front end without
  widgets shows that text (``__repr__``, ``_repr_pretty_`` and the ``text/plain`` of the mime
  bundle are the same text); Jupyter shows the widget.
* :class:`Worker` — one piece of long work in a daemon thread with a cancel
  ``threading.Event``, so the kernel stays live; :class:`WorkerPanel` is a Panel driving one.
* :class:`Message` — a status line that wraps (never clipped), leads with what to do and keeps
  the HTTP detail in a collapsed ``<details>``; colours reach 4.5:1 in light and dark themes.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

import ipywidgets as w

from gen_nb.widgets import fragments
from gen_nb.widgets.text import error_parts

__all__ = ["FALLBACK_HINT", "Callbacks", "ItemView", "Message", "Panel", "Worker",
           "WorkerPanel", "set_visible", "show_error", "show_message"]

log = logging.getLogger("gen_nb")

FALLBACK_HINT = "widgets need a Jupyter front end"


@runtime_checkable
class ItemView(Protocol):
    """A panel that takes the current item through one method.

    ``item`` is a Render, LayerOutput, resource, URL (or, for RenderWatcher, a Generation or
    id), or None for "nothing selected". ``set_item`` resets what the panel showed for the
    previous item; it never starts paid or destructive work.
    """

    item: Any

    def set_item(self, item: Any) -> None: ...


class Panel(w.VBox):
    """A VBox with a bounded, helpful text view for front ends without widgets.

    Subclasses give :meth:`_summary` (a short phrase), optionally :meth:`_details` (a few
    lines) and ``_fallback`` (what to use instead, e.g. ``"use gen_nb.download(src, dest)"``).
    """

    _fallback = "use the functions in gen_nb instead"

    def _summary(self) -> str:
        return ""

    def _details(self) -> list[str]:
        return []

    def _head(self) -> str:
        summary = self._summary()
        return f"{type(self).__name__}{': ' + summary if summary else ''}"

    def __repr__(self) -> str:
        lines = [self._head(), *(f"  {line}" for line in self._details())]
        lines.append(f"({FALLBACK_HINT}; {self._fallback})")
        return "\n".join(lines)

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any] | None:
        bundle = super()._repr_mimebundle_(**kwargs) or {}  # {} once the widget is closed
        bundle["text/plain"] = repr(self)
        return bundle

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(self._head() if cycle else repr(self))


class Message(w.HTML):
    """A status message: ``text`` (plain), ``kind`` (info, ok, bad, warn) and an optional
    ``detail`` shown collapsed. It wraps to the panel's width; the HTML comes from
    :func:`gen_nb.display.message_html` (escaped)."""

    text: str
    kind: str
    detail: str | None
    value: str  # the HTML trait

    def __init__(self, text: str = "", kind: str = "info", detail: str | None = None) -> None:
        super().__init__(layout=w.Layout(width="100%", min_width="0"))  # max: gen_nb.css
        self.add_class("gen-nb-message")
        self.text, self.kind, self.detail = "", "info", None
        self.show(text, kind, detail)

    def show(self, text: str, kind: str = "info", detail: str | None = None) -> None:
        """Show ``text`` (and ``detail`` collapsed); an empty text clears the message."""
        if (text, kind, detail) == (self.text, self.kind, self.detail) and self.value:
            return
        self.text, self.kind, self.detail = text, kind, detail
        self.value = fragments.message(text, kind, detail)

    def clear(self) -> None:
        self.show("")

    def __repr__(self) -> str:
        return f"Message({self.kind}: {self.text!r})"


def show_message(message: Message, text: str, *, bad: bool = False, good: bool = False,
                 warn: bool = False, detail: str | None = None) -> None:
    """Show plain text in a Message: red for errors, green for success, amber for warnings."""
    kind = "bad" if bad else "ok" if good else "warn" if warn else "info"
    message.show(text, kind, detail)


def show_error(message: Message, exc: BaseException, secrets: tuple[str, ...] = ()) -> str:
    """Show an error (what to do first; the full text collapsed), never a traceback; log it;
    return the lead text."""
    lead, detail = error_parts(exc, secrets)
    # INFO, not WARNING: the widget already shows it, and Python's last-resort handler would
    # print a WARNING into the notebook as stderr; the traceback only at DEBUG.
    log.info("%s", detail or lead)
    log.debug("gen_nb widget error", exc_info=exc)
    message.show(lead, "bad", detail)
    return lead


def set_visible(widget: w.Widget, shown: bool) -> None:
    """Show or hide a widget (its layout's ``display``)."""
    widget.layout.display = None if shown else "none"


class Worker:
    """One piece of long work in a daemon thread, with a cancel Event, a result and an error.

    ``start(fn, on_result, on_error)`` runs ``fn(cancel_event)`` in a thread; exactly one of the
    two callbacks runs afterwards (in that thread). ``wait(timeout)`` joins it.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.cancel_event = threading.Event()
        self.thread: threading.Thread | None = None
        self.result: Any = None
        self.error: BaseException | None = None

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    def start(self, fn: Callable[[threading.Event], Any],
              on_result: Callable[[Any], object], on_error: Callable[[BaseException], object],
              ) -> bool:
        """Start the work unless it is already running; returns whether it started."""
        if self.running:
            return False
        cancel = self.cancel_event = threading.Event()
        self.result, self.error = None, None
        self.thread = threading.Thread(target=self._run, args=(fn, on_result, on_error, cancel),
                                       name=f"gen_nb-{self.name}", daemon=True)
        self.thread.start()
        return True

    def is_current(self, cancel: threading.Event) -> bool:
        """Whether the run given ``cancel`` is still this worker's (not abandoned)."""
        return cancel is self.cancel_event

    def abandon(self) -> None:
        """Cancel the current run and drop its outcome: neither callback runs for it, and
        ``running`` / ``wait`` no longer see it (it ends in the background)."""
        self.cancel_event.set()
        self.cancel_event = threading.Event()
        self.thread = None

    def _run(self, fn: Callable[[threading.Event], Any], on_result: Callable[[Any], object],
             on_error: Callable[[BaseException], object], cancel: threading.Event) -> None:
        try:
            result = fn(cancel)
        except Exception as exc:  # shown in the widget, never lost
            if self.is_current(cancel):
                self.error = exc
                _guard(on_error, exc)
        else:
            if self.is_current(cancel):
                self.result = result
                _guard(on_result, result)

    def cancel(self) -> None:
        self.cancel_event.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Join the worker; True when it has finished (or never started)."""
        thread = self.thread
        if thread is not None:
            thread.join(timeout)
            return not thread.is_alive()
        return True


def _guard(callback: Callable[[Any], object], value: Any) -> None:
    try:
        callback(value)
    except Exception:  # a broken UI update must not kill the worker silently
        log.debug("gen_nb widget update failed", exc_info=True)


class Callbacks:
    """A list of callables fired with one value; errors in one are logged, the rest still run."""

    def __init__(self) -> None:
        self._callbacks: list[Callable[[Any], Any]] = []

    def register(self, callback: Callable[[Any], Any], remove: bool = False) -> None:
        if remove:
            if callback in self._callbacks:
                self._callbacks.remove(callback)
        elif callback not in self._callbacks:
            self._callbacks.append(callback)

    def __call__(self, value: Any) -> None:
        for callback in list(self._callbacks):
            try:
                callback(value)
            except Exception:
                log.exception("gen_nb widget callback %r failed", callback)

    def __len__(self) -> int:
        return len(self._callbacks)


class WorkerPanel(Panel):
    """A Panel whose work runs as one :class:`Worker` at a time: ``wait()`` and ``on_done()``.

    Subclasses call :meth:`_init_worker` in ``__init__`` and ``self._done_callbacks(outcome)``
    when the work succeeds.
    """

    def _init_worker(self, name: str) -> None:
        self._worker = Worker(name)
        self._done_callbacks = Callbacks()

    @property
    def running(self) -> bool:
        """Whether the work is going on now."""
        return self._worker.running

    @property
    def error(self) -> BaseException | None:
        """The last error, or None."""
        return self._worker.error

    def wait(self, timeout: float | None = None) -> bool:
        """Join the worker thread (for scripts and tests); True when it has finished."""
        return self._worker.wait(timeout)

    def on_done(self, callback: Callable[[Any], Any], remove: bool = False) -> None:
        """Call ``callback(outcome)`` when the work succeeds (in the worker thread): the
        DownloadResult / StreamResult, the finished Post or Generation, the DeletePlan."""
        self._done_callbacks.register(callback, remove)
