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

import asyncio
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import CancelledError, Executor, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from gen_nb.api.errors import DownloadCancelled, UsageError
from gen_nb.api.redact import redact_url
from gen_nb.api.settings import TransferOptions, download_dir
from gen_nb.transfer import on_dask
from gen_nb.transfer.aggregate import Aggregate
from gen_nb.transfer.downloader import Source, download_to, expected_digest, source_of
from gen_nb.transfer.files import destination_error
from gen_nb.transfer.governor import Governor
from gen_nb.transfer.headers import split_url
from gen_nb.transfer.on_dask import OnDone
from gen_nb.transfer.on_threads import run_on_threads
from gen_nb.transfer.plan import Target, file_name_for, unique_paths
from gen_nb.transfer.progress import Progress, ProgressState, make_sink
from gen_nb.transfer.results import TransferResult
from gen_nb.transfer.small import absent
from gen_nb.transfer.task import fsync_folder

__all__ = ["download_many"]

log = logging.getLogger("gen_nb")


def _result(src: str, started: float, *, status: str, path: Path | None = None,
            size: int = 0, sha256: str | None = None, error: str | None = None
            ) -> TransferResult:
    return TransferResult(src=src, status=status, path=path,  # type: ignore[arg-type]
                          bytes=size, sha256=sha256, seconds=time.monotonic() - started,
                          error=error)


def _run_one(source: Source, path: Path, options: TransferOptions, in_batch: bool,
             absent: bool, expected: str | None, reporter: Progress | None,
             cancel: threading.Event | None) -> TransferResult:
    """Download one item and describe the outcome (never raises). Picklable for executors.
    ``in_batch``: a thread of this process (the folder exists and is flushed at the end;
    another process — a Dask worker, maybe on another machine — makes and flushes it).
    ``absent``: the batch's listing of the folder saw nothing of this file. ``expected``:
    its expected sha256 (checked, lower case) or None."""
    started = time.monotonic()
    if cancel is not None and cancel.is_set():
        return _result(redact_url(source.url), started, status="cancelled",
                       error="cancelled before it started")
    try:
        target = Target(path if isinstance(path, Path) else Path(path))
        result = download_to(source, target, reporter or Progress(None), options,
                             cancel=cancel, expected_sha256=expected, in_batch=in_batch,
                             known_absent=absent)
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
                  expected_sha256: Sequence[str | None] | None = None,
                  progress: Any = None, cancel: threading.Event | None = None,
                  options: TransferOptions | None = None, **changes: Any
                  ) -> list[TransferResult]:
    """Download many sources into ``dest_dir``; one :class:`TransferResult` per source.

    ``srcs``: URLs or objects with ``.url`` (renders, layer outputs, resources). At most
    ``max_workers`` at once (default 16, which suits CDNs that cap each connection; ignored
    when ``executor`` is given). Every option of :func:`gen_nb.download` applies to each
    item (``options=`` and keywords: ``overwrite``, ``segments``, ``fsync``, ``retries``,
    ``timeout``…); ``expected_sha256`` is one digest per source, in order (None where there
    is none), and an item whose bytes differ fails with nothing kept. ``progress`` receives
    the aggregate (bytes of all items). ``cancel`` stops everything: running items keep
    their ``.part`` files and report ``cancelled``. Never raises for a failing item. With
    ``fsync`` (the default) every file's bytes are flushed before it takes its name, and the
    folder once when the batch is done.

    >>> done = client.renders(status="completed")          # doctest: +SKIP
    >>> results = gen_nb.download_many(done, "exports/")   # doctest: +SKIP
    >>> gen_nb.transfers_frame(results)                    # doctest: +SKIP
    """
    opts = TransferOptions.resolve(options, **changes)
    if isinstance(max_workers, bool) or not isinstance(max_workers, int) or max_workers < 1:
        raise UsageError(f"max_workers= must be a whole number ≥ 1, not {max_workers!r}.")
    items = list(srcs)
    expected = _expected_per_item(expected_sha256, len(items))
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
        on_dask.run_on_dask(executor, [(index, _dask_one, (source, path, opts,
                                                         expected[index]))
                                       for index, source, path in jobs],
                            aggregate, cancel, _collector(jobs, aggregate, results, True))
        final = [r or _result("?", started, status="failed", error="not run") for r in results]
        aggregate.finish([r.status for r in final], cancel)
        return final
    own = executor is None
    pool = executor or ThreadPoolExecutor(max_workers, thread_name_prefix="gen_nb-dl")
    live = isinstance(pool, ThreadPoolExecutor)  # a process pool takes no Progress or Event
    absent = _absent_ones(jobs) if live else set()
    try:
        run_on_threads(pool, [(index, _run_one, (source, path, opts, live, index in absent,
                                                 expected[index]))
                              for index, source, path in jobs],
                       cancel, _collector(jobs, aggregate, results, not live),
                       progress_for=aggregate.child if live else lambda _i: None,
                       governor=Governor(max_workers) if own else None, share_cancel=live)
    finally:
        if own:
            pool.shutdown(wait=True, cancel_futures=True)
        if opts.fsync and isinstance(pool, ThreadPoolExecutor):
            fsync_folder(folder)     # once for the batch (each file's data was flushed)
    final = [r or _result("?", started, status="failed", error="not run") for r in results]
    aggregate.finish([r.status for r in final], cancel)
    return final


def _expected_per_item(given: Sequence[str | None] | None, count: int) -> list[str | None]:
    """``expected_sha256`` of download_many, one checked digest (or None) per source."""
    if given is None:
        return [None] * count
    if isinstance(given, str | bytes) or not isinstance(given, Sequence):
        raise UsageError("expected_sha256= of download_many is one sha256 per source, in "
                         "order (None where there is none): a list as long as srcs, not "
                         f"{type(given).__name__}.")
    if len(given) != count:
        raise UsageError(f"expected_sha256= has {len(given)} digests for {count} sources: "
                         "give one per source, in order (None where there is none).")
    return [expected_digest(value, f"expected_sha256[{i}]") for i, value in enumerate(given)]


def _absent_ones(jobs: list[tuple[int, Source, Path]]) -> set[int]:
    """The jobs whose file, ``.part`` and ``.lock`` are not there now (one listing of the
    folder instead of three ``lstat`` a file; see :func:`~gen_nb.transfer.small.absent`)."""
    return {index for (index, _source, _path), free in
            zip(jobs, absent([path for *_, path in jobs]), strict=True) if free}


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
    names = unique_paths([file_name_for(s.url, s.name) for _, s in resolved],
                         [split_url(s.url)[0] for _, s in resolved])
    return [(index, source, folder / name)
            for (index, source), name in zip(resolved, names, strict=True)]


def _dask_one(source: Source, path: Path, options: TransferOptions, expected: str | None,
              sink: Callable[[ProgressState], None], cancel: threading.Event) -> TransferResult:
    """One item in a Dask worker (see :func:`gen_nb.transfer.on_dask.remote_batch`)."""
    return _run_one(source, path, options, False, False, expected, Progress(sink, interval=0),
                    cancel)


def _collector(jobs: list[tuple[int, Source, Path]], aggregate: Aggregate,
               results: list[TransferResult | None], count_on_finish: bool) -> OnDone:
    """The ``on_done`` of a batch: each item's TransferResult (a task that failed or never
    ran becomes a failed or cancelled one) into ``results`` and the aggregate.
    ``count_on_finish``: add a finished item's bytes (where no live counts came, or a
    skipped file sent none)."""
    urls = {index: source.url for index, source, _ in jobs}

    def on_done(index: int, outcome: Any) -> None:
        if isinstance(outcome, TransferResult):
            result = outcome
        elif isinstance(outcome, CancelledError | asyncio.CancelledError):
            result = _result(redact_url(urls[index]), time.monotonic(), status="cancelled",
                             error="cancelled before it started")
        else:   # an executor-level failure (a worker process died, a task lost)
            result = _result(redact_url(urls[index]), time.monotonic(), status="failed",
                             error=f"{type(outcome).__name__}: {outcome}")
        results[index] = result
        if count_on_finish and result.status in ("done", "skipped"):
            aggregate.add_bytes(index, result.bytes)
        aggregate.item_finished()
    return on_done
