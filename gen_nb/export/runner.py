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
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from gen_nb.api.errors import APIError, DownloadCancelled, GenError
from gen_nb.api.redact import redact_url
from gen_nb.api.settings import TransferOptions
from gen_nb.export.report import ExportResult
from gen_nb.export.selection import ExportItem
from gen_nb.transfer.manifest import Record, record_for
from gen_nb.transfer.progress import Progress, ProgressState

__all__ = ["DestSpec", "Moved", "Plan", "move_one", "result_of"]

log = logging.getLogger("gen_nb")
EXPIRED = (401, 403, 410)


@dataclass(frozen=True)
class Plan:
    """One file to move: the item, its path under the destination, and whether replacing what
    is there is allowed (it is gen_nb's own older copy)."""

    item: ExportItem
    path: str
    overwrite: bool = False
    absent: bool = False     # the driver listed its folder just before: nothing is there


@dataclass(frozen=True)
class DestSpec:
    """A destination as workers rebuild it: a local root, or an fsspec URL + options."""

    local_root: str | None = None
    url: str | None = None
    storage_options: tuple[tuple[str, Any], ...] = ()
    folders_ready: bool = False   # the driver made every folder and flushes them at the end


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


ProgressHandle = Progress | Callable[[ProgressState], Any] | None


def move_one(plan: Plan, dest: DestSpec, options: TransferOptions, progress: ProgressHandle,
             cancel: threading.Event | None) -> Moved:
    """Move one planned file (see the module docstring); never raises. ``progress``: this
    file's Progress (threads: the aggregate's child), or a callback taking ProgressState (a
    Dask worker's), or None. ``options`` should say ``progress=False`` (the caller's one
    bar is the aggregate)."""
    started = time.monotonic()
    if cancel is not None and cancel.is_set():
        return Moved(result_of(plan, started, status="cancelled", error="cancelled before it "
                               "started"))
    opts = options.replace(overwrite=True) if plan.overwrite and not options.overwrite \
        else options
    try:
        if dest.local_root is not None:
            reporter = progress if isinstance(progress, Progress) else \
                Progress(progress, interval=0)
            return Moved(_download(plan, Path(dest.local_root), opts, reporter, cancel,
                                   started, dest.folders_ready))
        if isinstance(progress, Progress):
            child = progress
            return _stream(plan, dest, opts,
                           lambda state: child.update(done=state.done, total=state.total),
                           cancel, started)
        return _stream(plan, dest, opts, progress, cancel, started)
    except DownloadCancelled as exc:
        return Moved(result_of(plan, started, status="cancelled", error=str(exc)))
    except GenError as exc:
        expired = _http_status(exc) in EXPIRED
        return Moved(result_of(plan, started, status="failed", error=str(exc)), expired=expired)
    except Exception as exc:  # a bug or a library surprise: reported, never lost
        log.info("gen_nb: exporting %s failed", plan.path, exc_info=True)
        return Moved(result_of(plan, started, status="failed",
                               error=f"{type(exc).__name__}: {exc}"))


def _download(plan: Plan, root: Path, options: TransferOptions, reporter: Progress,
              cancel: threading.Event | None, started: float,
              folders_ready: bool) -> ExportResult:
    from gen_nb.transfer.downloader import Source, download_to
    from gen_nb.transfer.plan import Target

    target = Target(root.joinpath(*plan.path.split("/")))
    source = Source(plan.item.url, None, plan.item.about())
    done = download_to(source, target, reporter, options, cancel=cancel, record_root=root,
                       in_batch=folders_ready, known_absent=plan.absent)
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
