"""Moving the planned files: one function per file, run on threads or on a Dask cluster.

:func:`move_one` moves one file and never raises: a local destination gets a verified, atomic,
resumable download recorded in the root manifest; an object store gets a streamed upload
(checked after) whose record goes back to the driver. Both run in the driver's threads or in
Dask workers (everything they take is picklable). A file whose URL has expired (HTTP 403/410
mid-transfer) comes back marked ``expired``; the driver fetches a fresh URL, checks it is the
same object and sends the file again (resuming from its ``.part`` on a local disk).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from gen_nb.api.errors import APIError, DownloadCancelled, GenError
from gen_nb.api.redact import redact_url
from gen_nb.api.settings import TransferOptions
from gen_nb.export.report import ExportResult
from gen_nb.export.selection import ExportItem
from gen_nb.transfer.aggregate import Aggregate
from gen_nb.transfer.manifest import Record, record_for
from gen_nb.transfer.on_dask import Job, OnDone
from gen_nb.transfer.progress import Progress, ProgressState

__all__ = ["DestSpec", "Moved", "Plan", "move_one", "result_of", "run_on_threads"]

log = logging.getLogger("gen_nb")
EXPIRED = (401, 403, 410)


@dataclass(frozen=True)
class Plan:
    """One file to move: the item, its path under the destination, and whether replacing what
    is there is allowed (it is gen_nb's own older copy)."""

    item: ExportItem
    path: str
    overwrite: bool = False


@dataclass(frozen=True)
class DestSpec:
    """A destination as workers rebuild it: a local root, or an fsspec URL + options."""

    local_root: str | None = None
    url: str | None = None
    storage_options: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class Moved:
    """What :func:`move_one` hands back: the result, the record to add (object stores), and
    whether the URL had expired."""

    result: ExportResult
    record: Record | None = None
    expired: bool = False


def result_of(plan: Plan, started: float, **fields: Any) -> ExportResult:
    item = plan.item
    return ExportResult(src=redact_url(item.url), path=plan.path, kind=item.kind,
                        render_id=item.render_id, layer_id=item.layer_id,
                        seconds=time.monotonic() - started, **fields)


def _http_status(exc: BaseException) -> int | None:
    cause = exc.__cause__
    return cause.status if isinstance(cause, APIError) else None


def move_one(plan: Plan, dest: DestSpec, options: TransferOptions,
             sink: Callable[[ProgressState], Any] | None,
             cancel: threading.Event | None) -> Moved:
    """Move one planned file (see the module docstring); never raises."""
    started = time.monotonic()
    if cancel is not None and cancel.is_set():
        return Moved(result_of(plan, started, status="cancelled", error="cancelled before it "
                             "started"))
    opts = options.replace(overwrite=plan.overwrite or options.overwrite, progress=False)
    try:
        if dest.local_root is not None:
            return Moved(_download(plan, Path(dest.local_root), opts, sink, cancel, started))
        return _stream(plan, dest, opts, sink, cancel, started)
    except DownloadCancelled as exc:
        return Moved(result_of(plan, started, status="cancelled", error=str(exc)))
    except GenError as exc:
        expired = _http_status(exc) in EXPIRED
        return Moved(result_of(plan, started, status="failed", error=str(exc)), expired=expired)
    except Exception as exc:  # a bug or a library surprise: reported, never lost
        log.info("gen_nb: exporting %s failed", plan.path, exc_info=True)
        return Moved(result_of(plan, started, status="failed",
                             error=f"{type(exc).__name__}: {exc}"))


def _download(plan: Plan, root: Path, options: TransferOptions,
              sink: Callable[[ProgressState], Any] | None, cancel: threading.Event | None,
              started: float) -> ExportResult:
    from gen_nb.transfer.downloader import Source, download_to
    from gen_nb.transfer.plan import Target

    target = Target(root.joinpath(*plan.path.split("/")))
    source = Source(plan.item.url, None, plan.item.about())
    done = download_to(source, target, Progress(sink, interval=0), options, cancel=cancel,
                       record_root=root)
    return result_of(plan, started, status="skipped" if done.skipped else "done",
                   bytes=done.bytes, sha256=done.sha256)


def _stream(plan: Plan, dest: DestSpec, options: TransferOptions,
            sink: Callable[[ProgressState], Any] | None, cancel: threading.Event | None,
            started: float) -> Moved:
    from gen_nb.transfer.stream import stream_to

    assert dest.url is not None
    sent = stream_to(plan.item.url, f"{dest.url}/{plan.path}", progress=sink or False,
                     cancel=cancel, storage_options=dict(dest.storage_options),
                     options=options)
    record = replace(record_for(plan.path, plan.item.url, sent.bytes, sent.sha256,
                                etag=sent.source_etag, last_modified=sent.source_last_modified,
                                about=plan.item.about()), dest_etag=sent.etag)
    return Moved(result_of(plan, started, status="done", bytes=sent.bytes, sha256=sent.sha256),
                 record)


def run_on_threads(jobs: Sequence[Job], workers: int, aggregate: Aggregate,
                   cancel: threading.Event | None, on_done: OnDone) -> None:
    """Run every job ``(index, fn, args)`` as ``fn(*args, sink, cancel)`` on ``workers``
    threads, the same jobs :func:`gen_nb.transfer.on_dask.run_on_dask` takes. Each finished
    job is handed to ``on_done(index, outcome)`` by its own done-callback (which may give back
    ``(fn, args)`` to run again for the index: an expired URL, refreshed); the calling thread
    only wakes every 0.2 s to look at ``cancel``."""
    left = [len(jobs)]
    lock, finished = threading.Lock(), threading.Event()
    futures: set[Future[Any]] = set()
    if not jobs:
        return
    with ThreadPoolExecutor(max(1, workers), thread_name_prefix="gen_nb-export") as pool:

        def submit(index: int, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
            future = pool.submit(fn, *args, aggregate.sink(index), cancel)
            with lock:
                futures.add(future)
            future.add_done_callback(lambda f: collected(f, index))

        def collected(future: Future[Any], index: int) -> None:
            with lock:
                futures.discard(future)
            outcome = CancelledError() if future.cancelled() else \
                future.exception() or future.result()
            again = on_done(index, outcome)
            if again is not None:
                submit(index, *again)
                return
            with lock:
                left[0] -= 1
                if not left[0]:
                    finished.set()

        for job in jobs:
            submit(*job)
        while not finished.wait(0.2):
            if cancel is not None and cancel.is_set():
                with lock:
                    waiting = list(futures)
                for future in waiting:
                    future.cancel()     # not begun: on_done hears CancelledError
