"""``gen_nb.export``: a whole workspace (or part of it) to a folder or any object store.

Incremental and resumable: the destination keeps ``gen_nb-manifest.jsonl`` (one record per
exported file: kind, render and layer ids, engine, title, path, size, sha256, source URL
without secrets, validators, time), so a rerun moves only what is new or changed, a cancelled
or crashed run picks up where it stopped, and ``dry_run=True`` says what would move. One bad
file never stops the rest; the :class:`ExportReport` says what happened to each.

Modules: ``selection`` (what to export, filters), ``naming`` (templates), ``destinations``
(local folder / fsspec URL and their manifests), ``runner`` (moving one file; the files on
threads — on a Dask cluster :mod:`gen_nb.transfer.on_dask` runs the same jobs), ``refresh``
(expired URLs), ``report`` (results).

>>> import gen_nb
>>> client = gen_nb.connect()                                    # doctest: +SKIP
>>> report = gen_nb.export(client, "exports/")                   # doctest: +SKIP
>>> gen_nb.export(client, "exports/").counts                     # a rerun  # doctest: +SKIP
{'skipped': 24}
"""

from __future__ import annotations

import asyncio
import dataclasses
import sys
import threading
import time
import types
from concurrent.futures import CancelledError, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from gen_nb.api.errors import UsageError
from gen_nb.api.redact import redact_url, strip_url
from gen_nb.api.settings import TransferOptions
from gen_nb.export.destinations import (
    VERIFY,
    Destination,
    LocalDestination,
    ObjectDestination,
    open_destination,
)
from gen_nb.export.naming import DEFAULT_TEMPLATE, FIELDS, check_template, path_for
from gen_nb.export.refresh import Refresher
from gen_nb.export.report import ExportReport, ExportResult
from gen_nb.export.runner import DestSpec, Moved, Plan, move_one, result_of
from gen_nb.export.selection import ExportItem, Filters, items_from, select
from gen_nb.transfer import on_dask
from gen_nb.transfer.aggregate import Aggregate
from gen_nb.transfer.files import destination_error
from gen_nb.transfer.governor import Governor
from gen_nb.transfer.manifest import Record
from gen_nb.transfer.on_threads import run_on_threads
from gen_nb.transfer.plan import unique_paths
from gen_nb.transfer.progress import Progress, make_sink
from gen_nb.transfer.task import fsync_folder

__all__ = ["DEFAULT_TEMPLATE", "FIELDS", "ExportItem", "ExportReport", "ExportResult", "export",
           "select"]

DEFAULT_WORKERS = 16


def export(source: Any, dest: Any, *, client: Any = None, layers: bool = True,
           status: Any = "completed", engines: Any = None, since: Any = None,
           name: str = DEFAULT_TEMPLATE, storage_options: dict[str, Any] | None = None,
           dry_run: bool = False, verify: str = "sha256", max_workers: int = DEFAULT_WORKERS,
           executor: Any = None, progress: Any = None, cancel: threading.Event | None = None,
           options: TransferOptions | None = None, **changes: Any) -> ExportReport:
    """Export renders (and their layer outputs) to ``dest``, moving only what is new.

    ``source``: a client (all its engines), engine ids (with ``client=``), renders, layer
    outputs, or a DataFrame from ``renders_frame`` / ``layers_frame``. Filters: ``status``
    (default ``"completed"``; a list, or ``"all"``), ``engines`` (ids), ``since`` (a date or
    time: renders created then or later), ``layers`` (their layer outputs too; default True).
    ``dest``: a local folder or an fsspec URL (``s3://bucket/prefix``, ``gs://…``, ``az://…``,
    ``memory://…``, ``file://…``) with ``storage_options``. ``name``: the path template (see
    :data:`FIELDS`; the default keeps layer outputs beside their render). A file is skipped
    when the manifest records it from the same source (or from another URL that the server
    says is the same object: same ETag and size) and it is still there unchanged
    (``verify="sha256"``: its hash, on a local disk; ``"size"``: only its size; object stores
    compare size and ETag from one listing). ``dry_run=True`` moves nothing and reports the
    plan with sizes. ``max_workers`` files at once on threads, or ``executor`` = a
    ``distributed.Client`` for a Dask cluster (live progress and cancel across workers).
    ``cancel`` (an Event) stops: running files keep their ``.part`` (local). Transfer knobs
    as for :func:`gen_nb.download` (``options=``, ``retries=``, ``fsync=``…). When the source
    is a client (or ``client=`` is given), a URL that expires mid-transfer is fetched again
    and the transfer resumes if it is the same object.

    Raises UsageError for bad arguments (before anything moves); never for a failing file.

    >>> report = gen_nb.export(client, "s3://bucket/gen/", storage_options={...})  # doctest: +SKIP
    >>> gen_nb.transfers_frame(report)                                          # doctest: +SKIP
    """
    started = time.monotonic()
    opts = TransferOptions.resolve(options, **changes)
    check_template(name)
    if verify not in VERIFY:
        raise UsageError(f"verify={verify!r}: use one of {', '.join(VERIFY)}.")
    if isinstance(max_workers, bool) or not isinstance(max_workers, int) or max_workers < 1:
        raise UsageError(f"max_workers= must be a whole number ≥ 1, not {max_workers!r}.")
    filters = Filters.build(status, engines, since, layers)
    api = client if client is not None else (source if hasattr(source, "renders") else None)
    items = items_from(source, filters, api)
    destination = open_destination(dest, storage_options)
    try:
        todo, results, relocated = _plan(items, destination, name, verify, opts)
        if dry_run:
            results += _dry_run(todo, opts)
        else:
            for record in relocated:   # the same object at its new URL: recorded there now
                destination.add(record)
            results += _move(todo, destination, opts, max_workers, executor, progress, cancel,
                             Refresher(api))
    finally:
        destination.close()
    order = {plan.path: i for i, plan in enumerate(todo)}
    results.sort(key=lambda r: order.get(r.path, -1))
    return ExportReport.of(results, destination.shown, f"{destination.shown}/"
                           "gen_nb-manifest.jsonl", dry_run, time.monotonic() - started)


def _plan(items: list[ExportItem], dest: Destination, template: str, verify: str,
          options: TransferOptions) -> tuple[list[Plan], list[ExportResult], list[Record]]:
    """Each item's path; which are unchanged (skipped now) and which must move; and the
    records of unchanged files found under a new URL (written only by a real run)."""
    records = dest.records()
    old_paths = list(records)
    old_keys = [_record_key(r) for r in records.values()]
    paths = unique_paths(old_paths + [path_for(template, i.fields()) for i in items],
                         old_keys + [i.key for i in items])[len(old_paths):]
    found = [records.get(path) for path in paths]
    moved = _moved([(item, record) for item, record in zip(items, found, strict=True)
                    if record is not None and record.etag and _record_key(record) == item.key
                    and not _same(record, item)], options)
    todo: list[Plan] = []
    skipped: list[ExportResult] = []
    relocated: list[Record] = []
    for item, path, record in zip(items, paths, found, strict=True):
        if record is not None and (_same(record, item) or item.key in moved) \
                and dest.unchanged(record, verify):
            if item.key in moved:
                relocated.append(dataclasses.replace(record, source_url=strip_url(item.url)))
            skipped.append(ExportResult(src=redact_url(item.url), status="skipped", path=path,
                                        kind=item.kind, render_id=item.render_id,
                                        layer_id=item.layer_id, bytes=record.size,
                                        sha256=record.sha256))
            continue
        ours = record is not None and _record_key(record) == item.key
        todo.append(Plan(item, path, overwrite=ours))
    return todo, skipped, relocated


def _moved(pairs: list[tuple[ExportItem, Record]], options: TransferOptions) -> set[str]:
    """The items recorded under another URL (another CDN host or port, a new path) that the
    server still says are the same object: the ETag and size of their record. Any doubt (no
    answer, other validators) means they move."""
    answers = _probed([(item.url, f"Checking {item.key}") for item, _ in pairs], options)
    return {item.key for (item, record), remote in zip(pairs, answers, strict=True)
            if not isinstance(remote, Exception)
            and remote.etag == record.etag and remote.total == record.size}


def _probed(urls: list[tuple[str, str]], options: TransferOptions) -> list[Any]:
    """One small probe (``Range: bytes=0-0``) per (url, what), 8 at once: its Remote, or the
    exception it raised."""
    from gen_nb.transfer.remote import probe, shared_session

    def one(pair: tuple[str, str]) -> Any:
        try:
            return probe(shared_session(), pair[0], options, cancel=None, what=pair[1])
        except Exception as exc:
            return exc

    if not urls:
        return []
    with ThreadPoolExecutor(min(8, len(urls)), thread_name_prefix="gen_nb-plan") as pool:
        return list(pool.map(one, urls))


def _record_key(record: Record) -> str:
    return f"{record.kind}:{record.render_id}:{record.layer_id or ''}"


def _same(record: Record, item: ExportItem) -> bool:
    """The record is this item from the same place (a re-signed query does not count)."""
    return _record_key(record) == item.key and record.source_url == strip_url(item.url)


def _dry_run(todo: list[Plan], options: TransferOptions) -> list[ExportResult]:
    """The planned files with their sizes (probed concurrently; unknown sizes stay None)."""
    answers = _probed([(plan.item.url, f"Checking {plan.path}") for plan in todo], options)
    return [ExportResult(src=redact_url(plan.item.url), status="planned", path=plan.path,
                         kind=plan.item.kind, render_id=plan.item.render_id,
                         layer_id=plan.item.layer_id,
                         bytes=None if isinstance(remote, Exception) else remote.total,
                         error=str(remote) if isinstance(remote, Exception) else None)
            for plan, remote in zip(todo, answers, strict=True)]


def _move(todo: list[Plan], dest: Destination, options: TransferOptions, workers: int,
          executor: Any, progress: Any, cancel: threading.Event | None,
          refresher: Refresher) -> list[ExportResult]:
    folders: list[Path] = []
    if isinstance(dest, LocalDestination):
        on_threads = executor is None
        if on_threads:  # made here one by one: 16 threads adding entries to one parent
            folders = _make_folders(dest, todo)  # folder would wait on each other
            todo = _mark_absent(dest, todo)
        spec = DestSpec(local_root=str(dest.root), folders_ready=on_threads)
    else:
        assert isinstance(dest, ObjectDestination)
        spec = DestSpec(url=dest.url, storage_options=tuple(sorted(dest.storage_options.items())))
    aggregate = Aggregate(Progress(make_sink(progress, f"export → {dest.shown}",
                                             options.progress)), len(todo))
    results: list[ExportResult | None] = [None] * len(todo)
    current = list(todo)            # the plan each index runs now (a refreshed URL replaces it)

    def on_done(index: int, outcome: Any) -> tuple[Any, tuple[Any, ...]] | None:
        plan = current[index]
        moved = outcome if isinstance(outcome, Moved) else _not_moved(plan, outcome)
        if moved.expired:
            fresh, why = refresher.fresh_plan(plan, dest)
            if fresh is not None:
                current[index] = fresh
                return move_one, (fresh, spec, options)
            if why:
                moved = Moved(dataclasses.replace(moved.result, error=why))
        if moved.record is not None:
            dest.add(moved.record)
        results[index] = moved.result
        aggregate.item_finished()
        return None

    options = options.replace(progress=False)   # one bar: the aggregate
    jobs = [(index, move_one, (plan, spec, options)) for index, plan in enumerate(todo)]
    if executor is not None:
        on_dask.run_on_dask(executor, jobs, aggregate, cancel, on_done)
    else:
        try:
            with ThreadPoolExecutor(workers, thread_name_prefix="gen_nb-export") as pool:
                run_on_threads(pool, jobs, cancel, on_done, progress_for=aggregate.child,
                               governor=Governor(workers))
        finally:
            if options.fsync:   # once per folder, not after every file
                for folder in folders:
                    fsync_folder(folder)
    done = [r if r is not None else _not_moved(todo[i], None).result
            for i, r in enumerate(results)]
    aggregate.finish([r.status for r in done], cancel)
    return done


def _mark_absent(dest: LocalDestination, todo: list[Plan]) -> list[Plan]:
    """Each folder listed once: the plans whose file (and .part, .lock) is not there need no
    three ``lstat`` calls each before they start (as download_many does)."""
    from gen_nb.transfer.small import absent

    free = absent([dest.path_of(plan.path) for plan in todo])
    return [dataclasses.replace(plan, absent=True) if ok else plan
            for plan, ok in zip(todo, free, strict=True)]


def _make_folders(dest: LocalDestination, todo: list[Plan]) -> list[Path]:
    """Every folder the planned files go to, created (parents first); the root last."""
    wanted = sorted({dest.path_of(plan.path).parent for plan in todo},
                    key=lambda folder: len(folder.parts))
    for folder in wanted:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise destination_error(exc, folder, "create the folder") from exc
    return [*reversed(wanted), dest.root] if dest.root not in wanted else list(reversed(wanted))


def _not_moved(plan: Plan, outcome: Any) -> Moved:
    """A job that gave no Moved: cancelled before it began, or its task failed."""
    now = time.monotonic()
    if outcome is None or isinstance(outcome, CancelledError | asyncio.CancelledError):
        return Moved(result_of(plan, now, status="cancelled", error="cancelled before it started"))
    return Moved(result_of(plan, now, status="failed",
                           error=f"the task failed: {type(outcome).__name__}: {outcome}"))


class _CallableModule(types.ModuleType):
    """``gen_nb.export`` is this package *and* the function: ``gen_nb.export(client, dest)``
    works whether or not a submodule (``gen_nb.export.naming``…) was imported first."""

    def __call__(self, *args: Any, **kwargs: Any) -> ExportReport:
        return export(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
