"""One progress for many files: every file's bytes summed into one throttled Progress.

Used by :func:`gen_nb.download_many` and :func:`gen_nb.export`, on threads (each file gets a
:meth:`Aggregate.child` Progress or a :meth:`Aggregate.sink`) and on Dask (the driver calls
:meth:`Aggregate.item` with the counts the workers report). Running sums: an update costs the
same for 10 files or 10,000. Thread-safe.

>>> from gen_nb.transfer.progress import Progress
>>> seen = []
>>> total = Aggregate(Progress(seen.append, interval=0), 2)
>>> total.item(0, 10, 100); total.item(1, 5, 50)
>>> seen[-1].done, seen[-1].total
(15, 150)
>>> total.item_finished(); total.finish(["done", "skipped"])
>>> seen[-1].phase, seen[-1].message
('done', '1 done, 1 skipped')
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

from gen_nb.transfer.progress import Progress, ProgressState

__all__ = ["Aggregate"]


class Aggregate:
    """Sums the progress of ``count`` files (indexed 0…count-1) into ``reporter``."""

    def __init__(self, reporter: Progress, count: int) -> None:
        self.reporter = reporter
        self.count = count
        self.done = [0] * count
        self.totals: list[int | None] = [None] * count
        self.done_sum = self.total_sum = self.known = 0
        self.finished = 0
        self.lock = threading.Lock()
        reporter.start(None, 0, f"0/{count} files")

    def child(self, index: int) -> Progress:
        """A Progress for file ``index`` whose every change goes into the sum."""
        return _ItemProgress(self, index)

    def sink(self, index: int) -> Callable[[ProgressState], None]:
        """A progress callback for file ``index`` (what ``stream_to(progress=)`` takes)."""
        return lambda state: self.item(index, state.done, state.total)

    def _set(self, index: int, done: int, total: int | None) -> tuple[int, int | None]:
        """Record one file's numbers (call with the lock held); the new sums."""
        self.done_sum += done - self.done[index]
        self.done[index] = done
        old = self.totals[index]
        if total is not None and total != old:
            self.total_sum += total - (old or 0)
            self.known += old is None
            self.totals[index] = total
        return self.done_sum, (self.total_sum if self.known else None)

    def item(self, index: int, done: int, total: int | None) -> None:
        """File ``index`` has moved ``done`` of ``total`` bytes."""
        with self.lock:
            moved, known = self._set(index, done, total)
        self.reporter.update(done=moved, total=known)

    def add_bytes(self, index: int, size: int) -> None:
        """File ``index`` finished with ``size`` bytes (where no live counts came)."""
        self.item(index, size, size)

    def item_finished(self) -> None:
        with self.lock:
            self.finished += 1
            finished = self.finished
        self.reporter.update(message=f"{finished}/{self.count} files")

    def finish(self, statuses: Iterable[str], cancel: threading.Event | None = None) -> None:
        """The last state: cancelled, failed (when any file failed) or done, with counts."""
        counts: dict[str, int] = {}
        for status in statuses:
            counts[status] = counts.get(status, 0) + 1
        message = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
        if cancel is not None and cancel.is_set():
            self.reporter.finish("cancelled", message)
        elif counts.get("failed"):
            self.reporter.finish("failed", message)
        else:
            self.reporter.finish("done", message)


class _ItemProgress(Progress):
    """One file's progress: every change goes straight into the aggregate (which throttles),
    without a ProgressState per call."""

    def __init__(self, aggregate: Aggregate, index: int) -> None:
        super().__init__(None, interval=0)
        self._aggregate, self._index = aggregate, index

    def _emit(self, force: bool = False) -> None:
        self._aggregate.item(self._index, self.done, self.total)
