"""Progress of a transfer: a frozen state, a throttled thread-safe reporter, and sinks.

The transfer code calls :meth:`Progress.advance` for every piece of data; the reporter
turns that into at most one :class:`ProgressState` delivery per ``interval`` (0.15 s, about
7 per second, so that with the start and end states a transfer of a second or more stays
under 10 updates per second), and always delivers the final state
(``done``/``failed``/``cancelled``).

A *sink* is what receives states. ``progress=`` accepts:

* ``None`` — a ``tqdm.auto`` bar (console or notebook), unless turned off
  (``TransferOptions.progress``, from ``GEN_NB_DISABLE_PROGRESS``);
* ``False`` — nothing;
* a callable taking a :class:`ProgressState` (widgets use this);
* a tqdm-like object (anything with ``update(n)``; ``total`` is set when known). gen_nb does
  not close bars it did not create.

A sink that raises is logged once and then ignored: a broken progress display never aborts
a download. ``tqdm`` is imported only when a bar is made (:func:`make_bar`, the one place bars
are built: byte counts in tqdm's decimal units, as the widgets show them too).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeVar, runtime_checkable

from gen_nb.api.errors import DownloadCancelled, WrongKindError

__all__ = ["Phase", "Progress", "ProgressSink", "ProgressState", "TqdmLike", "make_bar",
           "make_sink"]

log = logging.getLogger("gen_nb")

Phase = Literal["starting", "transferring", "verifying", "done", "failed", "cancelled"]
FINAL_PHASES = frozenset({"done", "failed", "cancelled"})
DEFAULT_INTERVAL = 0.15


@dataclass(frozen=True)
class ProgressState:
    """One snapshot of a transfer.

    ``done`` bytes of ``total`` (None when unknown), ``elapsed`` seconds since the start,
    ``rate`` in bytes/s over this call (bytes resumed from disk do not count), ``eta`` in
    seconds (None when unknown), ``phase`` and an optional human ``message``.
    """

    done: int
    total: int | None
    elapsed: float
    rate: float
    eta: float | None
    phase: Phase
    message: str | None = None

    @property
    def fraction(self) -> float | None:
        """``done / total`` in [0, 1], or None when the total is unknown."""
        if not self.total:
            return None if self.total is None else 1.0
        return min(1.0, max(0.0, self.done / self.total))


ProgressSink = Callable[[ProgressState], None]


@runtime_checkable
class TqdmLike(Protocol):
    """The part of tqdm's interface gen_nb uses."""

    def update(self, n: float = 1) -> Any: ...


class _TqdmSink:
    """Feeds states to a tqdm-like bar; closes it only when gen_nb created it."""

    def __init__(self, bar: Any, owned: bool) -> None:
        self.bar, self.owned, self.shown = bar, owned, 0

    def __call__(self, state: ProgressState) -> None:
        bar = self.bar
        if state.total is not None and getattr(bar, "total", None) != state.total:
            bar.total = state.total
            if hasattr(bar, "refresh"):
                bar.refresh()
        if state.done != self.shown:
            bar.update(state.done - self.shown)
            self.shown = state.done
        if state.phase in FINAL_PHASES:
            if state.phase != "done" and hasattr(bar, "set_postfix_str"):
                bar.set_postfix_str(state.message or state.phase)
            if self.owned and hasattr(bar, "close"):
                bar.close()


def make_bar(description: str, *, file: Any = None, leave: bool = True) -> Any:
    """A tqdm bar for bytes (``tqdm.auto``: a widget in notebooks, text in terminals)."""
    from tqdm.auto import tqdm

    return tqdm(total=None, unit="B", unit_scale=True, desc=description, file=file,
                mininterval=0, miniters=1, dynamic_ncols=True, leave=leave)


def make_sink(progress: Any, description: str = "", default_bar: bool = True
              ) -> ProgressSink | None:
    """Turn a ``progress=`` argument into a callable sink (or None for none). See module doc.

    ``default_bar`` (``TransferOptions.progress``) says whether ``None`` means a bar.
    """
    if progress is False:
        return None
    if progress is None or progress is True:
        if progress is None and not default_bar:
            return None
        return _TqdmSink(make_bar(description), owned=True)
    if isinstance(progress, TqdmLike):
        return _TqdmSink(progress, owned=False)
    if callable(progress):
        return progress  # type: ignore[no-any-return]
    raise WrongKindError(f"progress= must be None, False, a callable taking ProgressState or a "
                         f"tqdm-like object with update(); got {type(progress).__name__}")


T = TypeVar("T")


class Progress:
    """Thread-safe, throttled progress reporter for one transfer (or an aggregate).

    >>> seen = []
    >>> p = Progress(seen.append, interval=0)
    >>> p.start(total=10); p.advance(4); p.finish("done")
    >>> [(s.done, s.phase) for s in seen]
    [(0, 'starting'), (4, 'transferring'), (4, 'done')]
    """

    def __init__(self, sink: ProgressSink | None, *, interval: float = DEFAULT_INTERVAL,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.sink = sink
        self.interval = interval
        self.clock = clock
        self.done = 0
        self.total: int | None = None
        self.phase: Phase = "starting"
        self.message: str | None = None
        self.updates = 0
        self._base = 0
        self._started = clock()
        self._last_sent = float("-inf")
        self._finished = False
        self._lock = threading.Lock()

    def start(self, total: int | None = None, done: int = 0, message: str | None = None) -> None:
        """(Re)start the clock with ``done`` bytes already there (they do not count for rate)."""
        with self._lock:
            self.total, self.done, self._base = total, done, done
            self.phase, self.message = "starting", message
            self._started = self.clock()
            self._emit(force=True)

    def advance(self, n: int) -> None:
        """Count ``n`` more bytes (hot path: one lock, one clock read)."""
        with self._lock:
            self.done += n
            self.phase = "transferring"
            self._emit()

    def update(self, *, done: int | None = None, total: int | None = None,
               phase: Phase | None = None, message: str | None = None,
               rebase: bool = False) -> None:
        """Set fields; ``rebase`` makes the new ``done`` the baseline for the rate."""
        with self._lock:
            if done is not None:
                self.done = done
                if rebase:
                    self._base = done
            if total is not None:
                self.total = total
            if phase is not None:
                self.phase = phase
            if message is not None:
                self.message = message
            self._emit()

    def finish(self, phase: Phase = "done", message: str | None = None) -> None:
        """Deliver the final state (always, regardless of throttling), once."""
        with self._lock:
            if self._finished:
                return
            self._finished = True
            self.phase, self.message = phase, message or self.message
            if phase == "done" and self.total is None:
                self.total = self.done
            self._emit(force=True)

    def run(self, work: Callable[[], T], done_message: Callable[[T], str | None] = lambda _: None,
            ) -> T:
        """Run ``work()`` and deliver its outcome as the final state: done, cancelled or failed.

        The exception (if any) propagates unchanged after the sink has seen it.
        """
        try:
            result = work()
        except DownloadCancelled as exc:
            self.finish("cancelled", str(exc))
            raise
        except BaseException as exc:
            self.finish("failed", str(exc)[:200] or type(exc).__name__)
            raise
        self.finish("done", done_message(result))
        return result

    def state(self) -> ProgressState:
        elapsed = max(0.0, self.clock() - self._started)
        moved = self.done - self._base
        rate = moved / elapsed if elapsed > 0 else 0.0
        eta = None
        if self.total is not None and rate > 0:
            eta = max(0.0, (self.total - self.done) / rate)
        return ProgressState(self.done, self.total, elapsed, rate, eta, self.phase,
                             self.message)

    def _emit(self, force: bool = False) -> None:
        if self.sink is None:
            return
        now = self.clock()
        if not force and now - self._last_sent < self.interval:
            return
        self._last_sent = now
        self.updates += 1
        try:
            self.sink(self.state())
        except Exception:  # a broken display must not abort the transfer
            log.warning("gen_nb: the progress sink raised; progress is off for this transfer",
                        exc_info=True)
            self.sink = None
