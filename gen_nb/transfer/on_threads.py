"""Running many transfers on threads: the jobs of :mod:`gen_nb.transfer.on_dask`, in-process.

``download_many`` and ``export`` give :func:`run_on_threads` one job per file,
``(index, fn, args)``, run as ``fn(*args, progress, cancel)`` where ``progress`` is what
``progress_for(index)`` gives (a Progress or a callback) and ``cancel`` the batch's Event.
Each finished job is handed to ``on_done(index, outcome)`` by its own done-callback, on the
thread that ran it (``outcome``: the value, the exception, or a CancelledError for a job
cancelled before it began); ``on_done`` may hand back ``(fn, args)`` to run again for the same
index (an expired URL, refreshed). The calling thread only wakes every 0.2 s to look at
``cancel`` — not once per file, which on 2 cores cost every worker an interpreter-lock
hand-over per file.

With a :class:`~gen_nb.transfer.governor.Governor` (when gen_nb owns the pool) jobs start as
earlier ones finish, at most its limit at a time; otherwise all are submitted at once.
"""

from __future__ import annotations

import collections
import functools
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import CancelledError, Executor, Future
from typing import Any

from gen_nb.transfer.governor import Governor
from gen_nb.transfer.on_dask import Job, OnDone

__all__ = ["run_on_threads"]


def run_on_threads(pool: Executor, jobs: Sequence[Job], cancel: threading.Event | None,
                   on_done: OnDone, *, progress_for: Callable[[int], Any] = lambda _i: None,
                   governor: Governor | None = None, share_cancel: bool = True) -> None:
    """Run every job on ``pool`` (see the module docstring). ``share_cancel=False``: the
    jobs get ``None`` for cancel (a process pool cannot take an Event); ``cancel`` then only
    stops jobs that have not begun."""
    feeder = _Feeder(pool, jobs, cancel if share_cancel else None, on_done, progress_for,
                     governor)
    feeder.fill()
    stopped = False
    while not feeder.done.wait(0.2):
        if not stopped and cancel is not None and cancel.is_set():
            stopped = True
            feeder.cancel_waiting()


class _Feeder:
    """Submits jobs to the pool, keeping at most ``governor.limit`` of them running."""

    def __init__(self, pool: Executor, jobs: Sequence[Job], cancel: threading.Event | None,
                 on_done: OnDone, progress_for: Callable[[int], Any],
                 governor: Governor | None) -> None:
        self._pool, self._pending = pool, collections.deque(jobs)
        self._cancel, self._on_done, self._progress_for = cancel, on_done, progress_for
        self._governor = governor
        self._futures: set[Future[Any]] = set()
        self._running, self._left = 0, len(jobs)
        self._lock = threading.Lock()
        self._filling = threading.local()
        self.done = threading.Event()
        if not jobs:
            self.done.set()

    def fill(self) -> None:
        """Start jobs up to the limit (a callback fired inside this loop only counts down)."""
        self._filling.on = True
        try:
            while (job := self._next()) is not None:
                self._start(*job)
        finally:
            self._filling.on = False

    def _next(self) -> Job | None:
        with self._lock:
            if not self._pending:
                return None
            if self._governor is not None and self._running >= self._governor.limit:
                return None
            self._running += 1
            return self._pending.popleft()

    def _start(self, index: int, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        future = self._pool.submit(fn, *args, self._progress_for(index), self._cancel)
        with self._lock:
            self._futures.add(future)
        future.add_done_callback(functools.partial(self._finished, index=index,
                                                   started=time.monotonic()))

    def _finished(self, future: Future[Any], index: int, started: float) -> None:
        try:
            with self._lock:
                self._futures.discard(future)
            if self._governor is not None:
                self._governor.observe(time.monotonic() - started)
            again = self._on_done(index, _outcome(future))
            with self._lock:
                if again is not None:
                    self._pending.appendleft((index, *again))
                else:
                    self._left -= 1
                    if not self._left:
                        self.done.set()
        finally:
            with self._lock:
                self._running -= 1
            if not getattr(self._filling, "on", False):
                self.fill()

    def cancel_waiting(self) -> None:
        """Cancel submitted jobs that have not begun (the rest see ``cancel`` themselves);
        jobs never submitted are reported cancelled without running."""
        with self._lock:
            waiting = list(self._futures)
            never = list(self._pending)
            self._pending.clear()
        for future in waiting:
            future.cancel()
        for index, _fn, _args in never:
            self._on_done(index, CancelledError())   # (nothing runs again once cancelled)
            with self._lock:
                self._left -= 1
                if not self._left:
                    self.done.set()


def _outcome(future: Future[Any]) -> Any:
    if future.cancelled():
        return CancelledError()
    error = future.exception()
    return error if error is not None else future.result()
