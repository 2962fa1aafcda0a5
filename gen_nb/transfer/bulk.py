"""``gen_nb.download_many``: many files, bounded concurrency, one progress, one result each.

Failures do not stop the batch: every source gets a :class:`TransferResult` (in input order)
saying done / skipped / failed / cancelled, with the error message. Two different sources
with the same file name get ``name-2.ext`` so they never fight over one file.

Executors: by default a ``ThreadPoolExecutor(max_workers)``; any
``concurrent.futures.Executor`` may be passed. A ``ThreadPoolExecutor`` (or subclass) gets live
aggregate progress and cancel. A Dask ``distributed.Client`` (or its ``get_executor()``) runs
one task per file on the cluster with live byte progress and a cancel that stops running
transfers too (:mod:`gen_nb.transfer.on_dask`). Any other executor (a process pool) runs
picklable tasks with neither progress callbacks nor the cancel Event (they cannot cross a
process boundary): the aggregate then moves when items finish, and ``cancel`` only stops
items that have not started.
"""

from __future__ import annotations

import collections
import functools
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from gen_nb.api.errors import DownloadCancelled, UsageError
from gen_nb.api.redact import redact_url
from gen_nb.api.settings import TransferOptions, download_dir
from gen_nb.transfer import on_dask
from gen_nb.transfer.aggregate import Aggregate
from gen_nb.transfer.downloader import Source, download_to, source_of
from gen_nb.transfer.files import destination_error
from gen_nb.transfer.governor import Governor
from gen_nb.transfer.headers import split_url
from gen_nb.transfer.plan import Target, file_name_for, unique_names
from gen_nb.transfer.progress import Progress, ProgressState, make_sink
from gen_nb.transfer.results import TransferResult
from gen_nb.transfer.task import fsync_folder

__all__ = ["download_many"]

log = logging.getLogger("gen_nb")


def _result(src: str, started: float, *, status: str, path: Path | None = None,
            size: int = 0, sha256: str | None = None, error: str | None = None
            ) -> TransferResult:
    return TransferResult(src=src, status=status, path=path,  # type: ignore[arg-type]
                          bytes=size, sha256=sha256, seconds=time.monotonic() - started,
                          error=error)


def _run_one(source: Source, path: Path, options: TransferOptions, reporter: Progress | None,
             cancel: threading.Event | None, in_batch: bool = False) -> TransferResult:
    """Download one item and describe the outcome (never raises). Picklable for executors.
    ``in_batch``: a thread of this process (the folder exists and is flushed at the end;
    another process — a Dask worker, maybe on another machine — makes and flushes it)."""
    started = time.monotonic()
    if cancel is not None and cancel.is_set():
        return _result(redact_url(source.url), started, status="cancelled",
                       error="cancelled before it started")
    try:
        target = Target(path if isinstance(path, Path) else Path(path))
        result = download_to(source, target, reporter or Progress(None), options,
                             cancel=cancel, in_batch=in_batch)
    except DownloadCancelled as exc:
        return _result(redact_url(source.url), started, status="cancelled", error=str(exc))
    except Exception as exc:
        shown = redact_url(source.url)
        log.info("gen_nb: %s failed: %s", shown, exc)
        return _result(shown, started, status="failed", error=f"{type(exc).__name__}: {exc}")
    return _result(result.url, started, status="skipped" if result.skipped else "done",
                   path=result.path, size=result.bytes, sha256=result.sha256)


DEFAULT_WORKERS = 16


def download_many(srcs: Iterable[Any], dest_dir: str | os.PathLike[str] | None = None, *,
                  max_workers: int = DEFAULT_WORKERS, executor: Executor | None = None,
                  progress: Any = None, cancel: threading.Event | None = None,
                  options: TransferOptions | None = None, **changes: Any
                  ) -> list[TransferResult]:
    """Download many sources into ``dest_dir``; one :class:`TransferResult` per source.

    ``srcs``: URLs or objects with ``.url`` (renders, layer outputs, resources). At most
    ``max_workers`` at once (default 16, which suits CDNs that cap each connection; ignored
    when ``executor`` is given). Every option of :func:`gen_nb.download` applies to each
    item (``options=`` and keywords: ``overwrite``, ``segments``, ``fsync``, ``retries``,
    ``timeout``…). ``progress`` receives the aggregate (bytes of all items). ``cancel`` stops
    everything: running items keep their ``.part`` files and report ``cancelled``. Never
    raises for a failing item. With ``fsync`` (the default) every file's bytes are flushed
    before it takes its name, and the folder once when the batch is done.

    >>> done = client.renders(status="completed")          # doctest: +SKIP
    >>> results = gen_nb.download_many(done, "exports/")   # doctest: +SKIP
    >>> gen_nb.transfers_frame(results)                    # doctest: +SKIP
    """
    opts = TransferOptions.resolve(options, **changes)
    if isinstance(max_workers, bool) or not isinstance(max_workers, int) or max_workers < 1:
        raise UsageError(f"max_workers= must be a whole number ≥ 1, not {max_workers!r}.")
    items = list(srcs)
    folder = Path(os.fspath(dest_dir)) if dest_dir is not None else download_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise destination_error(exc, folder, "create the folder") from exc
    started = time.monotonic()
    results: list[TransferResult | None] = [None] * len(items)
    jobs = _plan_jobs(items, folder, results, started)
    sink = make_sink(progress, f"{len(items)} files", opts.progress)
    aggregate = Aggregate(Progress(sink), len(items))
    if executor is not None and on_dask.is_dask(executor):
        _run_on_dask(executor, jobs, opts, cancel, aggregate, results)
        final = [r or _result("?", started, status="failed", error="not run") for r in results]
        aggregate.finish([r.status for r in final], cancel)
        return final
    own = executor is None
    pool = executor or ThreadPoolExecutor(max_workers, thread_name_prefix="gen_nb-dl")
    try:
        _run_all(pool, jobs, opts, cancel, aggregate, results,
                 Governor(max_workers) if own else None)
    finally:
        if own:
            pool.shutdown(wait=True, cancel_futures=True)
        if opts.fsync and isinstance(pool, ThreadPoolExecutor):
            fsync_folder(folder)     # once for the batch (each file's data was flushed)
    final = [r or _result("?", started, status="failed", error="not run") for r in results]
    aggregate.finish([r.status for r in final], cancel)
    return final


def _plan_jobs(items: list[Any], folder: Path, results: list[TransferResult | None],
               started: float) -> list[tuple[int, Source, Path]]:
    """(index, source, path) per usable source; unusable ones get a failed result at once."""
    resolved: list[tuple[int, Source]] = []
    for index, src in enumerate(items):
        try:
            source = source_of(src)
        except UsageError as exc:
            results[index] = _result(repr(src)[:200], started, status="failed", error=str(exc))
            continue
        resolved.append((index, source))
    names = unique_names([file_name_for(s.url, s.name) for _, s in resolved],
                         [split_url(s.url)[0] for _, s in resolved])
    return [(index, source, folder / name)
            for (index, source), name in zip(resolved, names, strict=True)]


def _run_all(pool: Executor, jobs: list[tuple[int, Source, Path]], options: TransferOptions,
             cancel: threading.Event | None, aggregate: Aggregate,
             results: list[TransferResult | None], governor: Governor | None = None) -> None:
    """Run every job; each finished one is collected by its own done-callback (on the thread
    that ran it), so the calling thread only wakes every 0.2 s to look at ``cancel`` — not
    once per file, which on 2 cores cost every worker a GIL hand-over per file. With a
    ``governor`` (gen_nb's own pool) jobs start as earlier ones finish, at most its limit
    at a time; otherwise all are submitted at once."""
    live = isinstance(pool, ThreadPoolExecutor)
    batch = _Batch(len(jobs), aggregate, results, live)
    feeder = _Feeder(pool, jobs, options, cancel if live else None, batch, governor)
    feeder.fill()
    stopped = False
    while not batch.done.wait(0.2):
        if not stopped and cancel is not None and cancel.is_set():
            stopped = True
            feeder.cancel_started()


class _Feeder:
    """Submits jobs to the pool, keeping at most ``governor.limit`` of them running."""

    def __init__(self, pool: Executor, jobs: list[tuple[int, Source, Path]],
                 options: TransferOptions, cancel: threading.Event | None, batch: _Batch,
                 governor: Governor | None) -> None:
        self._pool, self._pending = pool, collections.deque(jobs)
        self._options, self._cancel, self._batch = options, cancel, batch
        self._governor, self._futures = governor, list[Future[TransferResult]]()
        self._running = 0
        self._lock = threading.Lock()
        self._filling = threading.local()

    def fill(self) -> None:
        """Start jobs up to the limit (a callback fired inside this loop only counts down)."""
        self._filling.on = True
        try:
            while (job := self._next()) is not None:
                self._start(*job)
        finally:
            self._filling.on = False

    def _next(self) -> tuple[int, Source, Path] | None:
        with self._lock:
            limit = self._governor.limit if self._governor is not None else len(self._pending)
            if not self._pending or (self._governor is not None and self._running >= limit):
                return None
            self._running += 1
            return self._pending.popleft()

    def _start(self, index: int, source: Source, path: Path) -> None:
        live = self._batch.live
        child = self._batch.aggregate.child(index) if live else None
        future = self._pool.submit(_run_one, source, path, self._options, child, self._cancel,
                                   live)
        self._futures.append(future)
        future.add_done_callback(functools.partial(self._finished, index=index, url=source.url))

    def _finished(self, future: Future[TransferResult], index: int, url: str) -> None:
        try:
            result = self._batch.collect(future, index, url)
            if self._governor is not None:
                self._governor.observe(result.seconds)
        finally:
            with self._lock:
                self._running -= 1
            if not getattr(self._filling, "on", False):
                self.fill()

    def cancel_started(self) -> None:
        """Cancel submitted jobs that have not begun (the rest see ``cancel`` themselves)."""
        for future in list(self._futures):
            future.cancel()


class _Batch:
    """Collects finished items into ``results``; ``done`` is set when all are in."""

    def __init__(self, count: int, aggregate: Aggregate, results: list[TransferResult | None],
                 live: bool) -> None:
        self.left, self.aggregate, self.results, self.live = count, aggregate, results, live
        self.done = threading.Event()
        self._lock = threading.Lock()
        if not count:
            self.done.set()

    def collect(self, future: Future[TransferResult], index: int, url: str
                ) -> TransferResult:
        result = _collect(future, url)
        try:
            self.results[index] = result
            if not self.live and result.status in ("done", "skipped"):
                self.aggregate.add_bytes(index, result.bytes)
            self.aggregate.item_finished()
        finally:
            with self._lock:
                self.left -= 1
                if not self.left:
                    self.done.set()
        return result


def _collect(future: Future[TransferResult], url: str) -> TransferResult:
    if future.cancelled():
        return _result(redact_url(url), time.monotonic(), status="cancelled",
                       error="cancelled before it started")
    try:
        return future.result()
    except Exception as exc:  # an executor-level failure (e.g. a worker process died)
        return _result(redact_url(url), time.monotonic(), status="failed",
                       error=f"{type(exc).__name__}: {exc}")


def _dask_one(source: Source, path: Path, options: TransferOptions,
              sink: Callable[[ProgressState], None], cancel: threading.Event) -> TransferResult:
    """One item in a Dask worker (see :func:`gen_nb.transfer.on_dask.remote_call`)."""
    return _run_one(source, path, options, Progress(sink, interval=0), cancel)


def _run_on_dask(executor: Any, jobs: list[tuple[int, Source, Path]], options: TransferOptions,
                 cancel: threading.Event | None, aggregate: Aggregate,
                 results: list[TransferResult | None]) -> None:
    urls = {index: source.url for index, source, _ in jobs}

    def on_done(index: int, outcome: Any) -> None:
        if isinstance(outcome, TransferResult):
            results[index] = outcome
            if outcome.status in ("done", "skipped"):
                aggregate.add_bytes(index, outcome.bytes)  # a skipped file sends no counts
        else:
            results[index] = _result(redact_url(urls[index]), time.monotonic(), status="failed",
                                     error=f"the Dask task failed: {type(outcome).__name__}: "
                                           f"{outcome}")
        aggregate.item_finished()

    on_dask.run_on_dask(executor, [(index, _dask_one, (source, path, options))
                                   for index, source, path in jobs], aggregate, cancel, on_done)
