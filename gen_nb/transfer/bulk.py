"""``gen_nb.download_many``: many files, bounded concurrency, one progress, one result each.

Failures do not stop the batch: every source gets a :class:`TransferResult` (in input order)
saying done / skipped / failed / cancelled, with the error message. Two different sources
with the same file name get ``name-2.ext`` so they never fight over one file.

Executors: by default a ``ThreadPoolExecutor(max_workers)``; any
``concurrent.futures.Executor`` may be passed. A ``ThreadPoolExecutor`` (or subclass) gets live
aggregate progress and cancel. Any other executor (a process pool, Dask's
``client.get_executor()``) runs picklable tasks with neither progress callbacks nor the
cancel Event (they cannot cross a process boundary): the aggregate then moves when items
finish, and ``cancel`` only stops items that have not started.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterable
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

from gen_nb.api.errors import DownloadCancelled, UsageError
from gen_nb.api.redact import redact_url
from gen_nb.api.settings import TransferOptions, download_dir
from gen_nb.transfer.downloader import Source, download_to, source_of
from gen_nb.transfer.files import destination_error
from gen_nb.transfer.headers import split_url
from gen_nb.transfer.plan import Target, file_name_for, unique_names
from gen_nb.transfer.progress import Progress, ProgressState, make_sink
from gen_nb.transfer.results import TransferResult

__all__ = ["download_many"]

log = logging.getLogger("gen_nb")


class _Aggregate:
    """Sums per-item progress into one throttled :class:`Progress`."""

    def __init__(self, reporter: Progress, count: int) -> None:
        self.reporter = reporter
        self.count = count
        self.done = [0] * count
        self.totals: list[int | None] = [None] * count
        self.finished = 0
        self.lock = threading.Lock()
        reporter.start(None, 0, f"0/{count} files")

    def child(self, index: int) -> Progress:
        return Progress(lambda state: self._item(index, state), interval=0)

    def _item(self, index: int, state: ProgressState) -> None:
        with self.lock:
            self.done[index] = state.done
            if state.total is not None:
                self.totals[index] = state.total
            known = [t for t in self.totals if t is not None]
            done = sum(self.done)
        self.reporter.update(done=done, total=sum(known) if known else None)

    def item_finished(self) -> None:
        with self.lock:
            self.finished += 1
            finished = self.finished
        self.reporter.update(message=f"{finished}/{self.count} files")

    def add_bytes(self, index: int, size: int) -> None:
        """For executors without live progress: count an item when it finishes."""
        with self.lock:
            self.done[index] = self.totals[index] = size
            done, total = sum(self.done), sum(t for t in self.totals if t is not None)
        self.reporter.update(done=done, total=total)


def _result(src: str, started: float, *, status: str, path: Path | None = None,
            size: int = 0, sha256: str | None = None, error: str | None = None
            ) -> TransferResult:
    return TransferResult(src=src, status=status, path=path,  # type: ignore[arg-type]
                          bytes=size, sha256=sha256, seconds=time.monotonic() - started,
                          error=error)


def _run_one(source: Source, path: str, options: TransferOptions, reporter: Progress | None,
             cancel: threading.Event | None) -> TransferResult:
    """Download one item and describe the outcome (never raises). Picklable for executors."""
    started = time.monotonic()
    shown = redact_url(source.url)
    if cancel is not None and cancel.is_set():
        return _result(shown, started, status="cancelled", error="cancelled before it started")
    try:
        result = download_to(source, Target(Path(path)), reporter or Progress(None), options,
                             cancel=cancel)
    except DownloadCancelled as exc:
        return _result(shown, started, status="cancelled", error=str(exc))
    except Exception as exc:
        log.info("gen_nb: %s failed: %s", shown, exc)
        return _result(shown, started, status="failed", error=f"{type(exc).__name__}: {exc}")
    return _result(shown, started, status="skipped" if result.skipped else "done",
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
    raises for a failing item.

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
    aggregate = _Aggregate(Progress(sink), len(items))
    own = executor is None
    pool = executor or ThreadPoolExecutor(max_workers, thread_name_prefix="gen_nb-dl")
    try:
        _run_all(pool, jobs, opts, cancel, aggregate, results)
    finally:
        if own:
            pool.shutdown(wait=True, cancel_futures=True)
    final = [r or _result("?", started, status="failed", error="not run") for r in results]
    _finish(aggregate, final, cancel)
    return final


def _plan_jobs(items: list[Any], folder: Path, results: list[TransferResult | None],
               started: float) -> list[tuple[int, Source, str]]:
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
    return [(index, source, str(folder / name))
            for (index, source), name in zip(resolved, names, strict=True)]


def _run_all(pool: Executor, jobs: list[tuple[int, Source, str]], options: TransferOptions,
             cancel: threading.Event | None, aggregate: _Aggregate,
             results: list[TransferResult | None]) -> None:
    live = isinstance(pool, ThreadPoolExecutor)
    futures: dict[Future[TransferResult], tuple[int, str]] = {}
    for index, source, path in jobs:
        child = aggregate.child(index) if live else None
        future = pool.submit(_run_one, source, path, options, child, cancel if live else None)
        futures[future] = (index, source.url)
    pending = set(futures)
    while pending:
        done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
        for future in done:
            index, url = futures[future]
            results[index] = _collect(future, url)
            if not live and results[index].status in ("done", "skipped"):  # type: ignore[union-attr]
                aggregate.add_bytes(index, results[index].bytes)  # type: ignore[union-attr]
            aggregate.item_finished()
        if cancel is not None and cancel.is_set():
            for future in pending:
                future.cancel()


def _collect(future: Future[TransferResult], url: str) -> TransferResult:
    shown = redact_url(url)
    if future.cancelled():
        return _result(shown, time.monotonic(), status="cancelled",
                       error="cancelled before it started")
    try:
        return future.result()
    except Exception as exc:  # an executor-level failure (e.g. a worker process died)
        return _result(shown, time.monotonic(), status="failed",
                       error=f"{type(exc).__name__}: {exc}")


def _finish(aggregate: _Aggregate, results: list[TransferResult],
            cancel: threading.Event | None) -> None:
    counts: dict[str, int] = {}
    for result in results:
        counts[result.status] = counts.get(result.status, 0) + 1
    message = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    if cancel is not None and cancel.is_set():
        aggregate.reporter.finish("cancelled", message)
    elif counts.get("failed"):
        aggregate.reporter.finish("failed", message)
    else:
        aggregate.reporter.finish("done", message)
