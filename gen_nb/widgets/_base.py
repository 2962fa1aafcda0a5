"""What every gen_nb widget shares: a cheap repr with a text fallback, callbacks, worker jobs.

Widgets are thin: a callback reads widget values, calls ONE core function (often in a
:class:`Job`, a daemon thread with a cancel ``threading.Event``) and writes the result back.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import ipywidgets as w

from gen_nb.widgets._format import error_text

log = logging.getLogger("gen_nb")

FALLBACK_HINT = "widgets need a Jupyter front end"

OK_COLOR = "green"
BAD_COLOR = "#c62828"


class Panel(w.VBox):
    """A VBox with a cheap ``repr`` and a helpful ``text/plain`` for front ends without widgets.

    Subclasses implement :meth:`_summary` (a short phrase) and may set ``_fallback`` (what to use
    instead, e.g. ``"use gen_nb.download(...)"``).
    """

    _fallback = "use the functions in gen_nb instead"

    def _summary(self) -> str:
        return ""

    def __repr__(self) -> str:
        summary = self._summary()
        return f"<{type(self).__name__}{': ' + summary if summary else ''}>"

    def text_fallback(self) -> str:
        """What a terminal or plain IPython shows instead of the widget."""
        summary = self._summary()
        head = f"{type(self).__name__}{': ' + summary if summary else ''}"
        return f"{head} ({FALLBACK_HINT}; {self._fallback})"

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any] | None:
        bundle = super()._repr_mimebundle_(**kwargs)
        if bundle is None:  # the widget was closed
            return {"text/plain": self.text_fallback()}
        bundle["text/plain"] = self.text_fallback()
        return bundle

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self) if cycle else self.text_fallback())


class JobPanel(Panel):
    """A Panel whose work runs as one :class:`Job` at a time: ``wait()`` and ``on_done()``.

    Subclasses call :meth:`_init_job` in ``__init__`` and call ``self._done_callbacks(outcome)``
    when the work succeeds.
    """

    def _init_job(self, name: str) -> None:
        self._job = Job(name)
        self._done_callbacks = Callbacks()

    def wait(self, timeout: float | None = None) -> bool:
        """Join the worker thread (for scripts and tests); True when it has finished."""
        return self._job.wait(timeout)

    def on_done(self, callback: Callable[[Any], Any], remove: bool = False) -> None:
        """Call ``callback(outcome)`` when the work succeeds (in the worker thread): the
        DownloadResult / StreamResult, the finished Post or Generation, the DeletePlan."""
        self._done_callbacks.register(callback, remove)


def show_message(label: w.Label, text: str, *, bad: bool = False, good: bool = False) -> None:
    """Write plain text into a Label, red for errors and green for success."""
    label.value = text
    label.style.text_color = BAD_COLOR if bad else (OK_COLOR if good else None)


def show_error(label: w.Label, exc: BaseException, secrets: tuple[str, ...] = ()) -> str:
    """Show an error's message (never a traceback) in red, log it, return the text."""
    text = error_text(exc, secrets)
    # INFO, not WARNING: the widget already shows it, and Python's last-resort handler would
    # print a WARNING into the notebook as stderr; the traceback only at DEBUG.
    log.info("%s", text)
    log.debug("gen_nb widget error", exc_info=exc)
    show_message(label, text, bad=True)
    return text


class Throttle:
    """Lets an update through at most ``per_second`` times a second (final updates always)."""

    def __init__(self, per_second: float = 10.0, clock: Callable[[], float] = time.monotonic):
        self._gap = 1.0 / per_second
        self._clock = clock
        self._last = float("-inf")

    def ready(self, *, force: bool = False) -> bool:
        now = self._clock()
        if force or now - self._last >= self._gap:
            self._last = now
            return True
        return False


class Job:
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
              on_result: Callable[[Any], None],
              on_error: Callable[[BaseException], None]) -> bool:
        """Start the work unless it is already running; returns whether it started."""
        if self.running:
            return False
        self.cancel_event = threading.Event()
        self.result, self.error = None, None
        self.thread = threading.Thread(
            target=self._run, args=(fn, on_result, on_error, self.cancel_event),
            name=f"gen_nb-{self.name}", daemon=True)
        self.thread.start()
        return True

    def _run(self, fn: Callable[[threading.Event], Any], on_result: Callable[[Any], None],
             on_error: Callable[[BaseException], None], cancel: threading.Event) -> None:
        try:
            result = fn(cancel)
        except Exception as exc:  # shown in the widget, never lost
            self.error = exc
            _guard(on_error, exc)
        else:
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


def _guard(callback: Callable[[Any], None], value: Any) -> None:
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
