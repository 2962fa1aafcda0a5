"""``gen_nb.download``: one file, resumable, verified, atomic; optionally segmented.

Where the bytes go: ``dest`` is a folder (default ``$GEN_NB_DOWNLOAD_DIR``, else
``./downloads``) and the file is named after the resource (its ``file_name``) or the URL path,
sanitised so it can never leave the folder; or ``dest`` is the file path itself. While
downloading, bytes go to ``<name>.part`` next to it, with ``<name>.part.json`` (the sidecar)
and ``<name>.lock``; only a complete, verified file is moved to ``<name>`` and recorded in
the folder's ``gen_nb-manifest.jsonl``.

A new download of a small file (at most 1 MiB, see :mod:`gen_nb.transfer.small`) needs none
of the three companions: its body is read into memory, verified and written once. A new
download that turns out larger takes the lock then and continues with the same response.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gen_nb.api.errors import DestinationExistsError, DownloadLockedError, GenError, UsageError
from gen_nb.api.redact import redact_url
from gen_nb.api.settings import TransferOptions, download_dir
from gen_nb.transfer.files import destination_error, remove_quietly
from gen_nb.transfer.hashing import hash_file
from gen_nb.transfer.headers import strong_validator
from gen_nb.transfer.lock import CLAIMS, DestinationLock
from gen_nb.transfer.manifest import manifest_for
from gen_nb.transfer.plan import Target, decide_existing, file_name_for, resolve_target
from gen_nb.transfer.progress import Progress, make_sink
from gen_nb.transfer.remote import check_cancel, probe, shared_session
from gen_nb.transfer.results import DownloadResult
from gen_nb.transfer.segmented import SegmentsUnavailable, download_segmented
from gen_nb.transfer.sidecar import Sidecar
from gen_nb.transfer.single import download_single
from gen_nb.transfer.small import Partial, Pending, fetch, keep, nothing_there
from gen_nb.transfer.task import DownloadTask, Outcome, finalize

__all__ = ["Source", "download", "download_to", "expected_digest", "source_of",
           "target_for"]

log = logging.getLogger("gen_nb")


@dataclass(frozen=True)
class Source:
    """A resolved download source: the URL, a file-name hint, and what it is (for records)."""

    url: str
    name: str | None = None
    about: dict[str, Any] = field(default_factory=dict)


def _about(src: Any) -> dict[str, Any]:
    """Provenance fields of a render / layer output (kind, ids, title), else a plain file."""
    if hasattr(src, "layer_id") and hasattr(src, "render_id"):
        return {"kind": "layer", "render_id": src.render_id, "layer_id": src.layer_id,
                "title": getattr(src, "name", None)}
    if hasattr(src, "takes") and hasattr(src, "engine_id"):
        return {"kind": "render", "render_id": src.id, "engine_id": src.engine_id,
                "title": src.title}
    return {"kind": "file"}


def source_of(src: Any) -> Source:
    """The :class:`Source` of a URL string, render, layer output, resource or generation.

    Raises UsageError when the object has no URL yet (e.g. a render still processing) or
    the URL is not http(s).
    """
    if isinstance(src, Source):
        return src
    url: Any
    hint: Any = None
    about: dict[str, Any] = {"kind": "file"}
    if isinstance(src, str):
        url = src.strip()
    else:
        holder = src
        if getattr(src, "url", None) is None and getattr(src, "video", None) is not None:
            holder = src.video  # a Generation: its final video
        url, hint, about = getattr(holder, "url", None), getattr(holder, "file_name", None), \
            _about(src)
        if not url:
            status = getattr(src, "status", None)
            what = f"{type(src).__name__} {getattr(src, 'id', '')}".strip()
            state = f" (status {status})" if status else ""
            raise UsageError(f"{what} has no URL to download yet{state}. Wait until it is "
                             f"completed (client.wait(id)) and fetch it again.")
    if not isinstance(url, str) or not url.lower().startswith(("http://", "https://")):
        raise UsageError(f"Can only download http(s) URLs, got {redact_url(str(url))!r}.")
    return Source(url, hint if isinstance(hint, str) else None, about)


_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


def expected_digest(value: Any, what: str = "expected_sha256=") -> str | None:
    """An ``expected_sha256`` as 64 lower-case hex digits (None: none given). Anything else
    raises UsageError before a byte moves (rather than an IntegrityError after the whole
    download)."""
    if value is None:
        return None
    text = value.strip().lower() if isinstance(value, str) else ""
    if not _SHA256_HEX.fullmatch(text):
        raise UsageError(f"{what} must be a sha256 digest, 64 hexadecimal characters as "
                         f"sha256sum prints them, not {value!r:.80}.")
    return text


def target_for(source: Source, dest: str | os.PathLike[str] | None) -> Target:
    """Where ``source`` goes for a ``dest`` folder or file path (see resolve_target)."""
    dest_text = os.fspath(dest) if dest is not None else None
    path = Path(dest_text).expanduser() if dest_text is not None else None
    return resolve_target(dest_text, file_name_for(source.url, source.name),
                          dest_is_dir=path is not None and path.is_dir(),
                          dest_is_file=path is not None and path.is_file(),
                          default_dir=download_dir())


def download(src: Any, dest: str | os.PathLike[str] | None = None, *,
             expected_sha256: str | None = None, progress: Any = None,
             cancel: threading.Event | None = None, options: TransferOptions | None = None,
             **changes: Any) -> DownloadResult:
    """Download ``src`` to ``dest``: resumable, verified, atomic, never clobbering.

    ``src``: a URL, or anything with ``.url`` (and ``.file_name``): Render, LayerOutput,
    ContentResource, OutputResource, or a Generation (its final video). ``dest``: a folder
    (default ``$GEN_NB_DOWNLOAD_DIR`` else ``./downloads``) or a file path.

    How it moves bytes is a :class:`~gen_nb.TransferOptions` (``options=``, else the
    defaults and ``GEN_NB_*`` variables), with any of its fields given as keywords:
    ``overwrite=True`` replaces a different file; ``segments=4`` uses parallel ranges when
    the server allows; ``timeout=``, ``retries=``, ``fsync=``, ``lock_timeout=``,
    ``min_rate=``… A kept ``.part`` (dropped connection, cancel, kernel restart) is resumed.
    A file already there is skipped (``skipped=True``) only when it matches gen_nb's record
    (size and sha256) or the server's digest; any other file raises DestinationExistsError
    unless ``overwrite=True``. ``cancel`` (a threading.Event) stops within one piece of data
    and raises DownloadCancelled, keeping the ``.part``. ``progress``: None (the default bar
    unless ``progress=False`` in the options), False, a callable taking ProgressState, or a
    tqdm-like object.

    Errors (all ``TransferError``, an ``OSError``): DownloadCancelled, IntegrityError,
    DestinationExistsError, InsufficientSpaceError, DownloadLockedError, TransferTimeout; a
    plain TransferError for HTTP errors (its ``__cause__`` is the typed APIError) and retries
    running out. UsageError for a source without a URL, ConfigError for a bad option.

    >>> import gen_nb
    >>> sb = gen_nb.sandbox.start()                                   # doctest: +SKIP
    >>> r = gen_nb.download(sb.large_media_url(3 << 20), "downloads/")  # doctest: +SKIP
    >>> r.bytes, r.sha256 == sb.media_sha256(r.url)                    # doctest: +SKIP
    (3145728, True)
    """
    opts = TransferOptions.resolve(options, **changes)
    expected = expected_digest(expected_sha256)
    source = source_of(src)
    target = target_for(source, dest)
    reporter = Progress(make_sink(progress, target.path.name, opts.progress))
    return download_to(source, target, reporter, opts, cancel=cancel,
                       expected_sha256=expected)


def download_to(source: Source, target: Target, reporter: Progress, options: TransferOptions,
                *, cancel: threading.Event | None = None,
                expected_sha256: str | None = None, in_batch: bool = False,
                record_root: Path | None = None, known_absent: bool = False) -> DownloadResult:
    """:func:`download` after the source and target are resolved (``expected_sha256``
    checked already: as :func:`expected_digest` gives it). ``in_batch``: one item of
    a :func:`~gen_nb.download_many` in this process, which made the folder and flushes it
    once at the end (with ``fsync``) instead of after every file. ``record_root``: the
    folder whose manifest records the file (an export's root; default: the file's folder).
    ``known_absent``: see :class:`~gen_nb.transfer.task.DownloadTask`."""
    started = time.monotonic()
    try:
        if not in_batch:
            target.path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise destination_error(exc, target.path.parent, "create the folder") from exc
    task = DownloadTask(url=source.url, target=target, progress=reporter,
                        session=shared_session(), options=options, cancel=cancel,
                        expected_sha256=expected_sha256, about=dict(source.about),
                        flush_folder=not in_batch, record_root=record_root,
                        known_absent=known_absent)

    def attempt() -> DownloadResult:
        try:
            return _download(task, started)
        except GenError:
            raise
        except OSError as exc:          # the destination itself: say what and what to do
            where = Path(exc.filename) if exc.filename else target.path
            raise destination_error(exc, where) from exc

    return reporter.run(attempt, lambda result: "already there" if result.skipped else None)


def _lock(task: DownloadTask, timeout: float | None) -> DestinationLock:
    return DestinationLock(task.target.lock, timeout=timeout, cancel=task.cancel,
                           what=str(task.target.path))


def _download(task: DownloadTask, started: float) -> DownloadResult:
    """A new single-stream download starts lock-free (small files stay so); anything else
    runs under the destination's lock."""
    options = task.options
    with CLAIMS.hold(task.target.path, timeout=options.lock_timeout, cancel=task.cancel):
        if options.segments <= 1 and (task.known_absent or nothing_there(task.target)):
            got = fetch(task)
            if isinstance(got, Outcome):
                return _result(task, got, started)
            if isinstance(got, Partial):
                return _resume_small(task, got, started)
            return _continue(task, got, started)
        with _lock(task, options.lock_timeout):
            return _locked(task, started)


def _continue(task: DownloadTask, pending: Pending, started: float) -> DownloadResult:
    """A new download too large for memory: take the lock and go on with the same answer —
    unless another download took the lock or made files meanwhile: then the usual way."""
    lock = _lock(task, 0)
    try:
        lock.acquire()
    except DownloadLockedError:
        pending.response.close()
        with _lock(task, task.options.lock_timeout):
            return _locked(task, started)
    try:
        if os.path.lexists(task.target.path) or os.path.lexists(task.target.part):
            pending.response.close()
            return _locked(task, started)
        outcome = download_single(task, None, first=pending)
        finalize(task, outcome)
        return _result(task, outcome, started)
    finally:
        lock.release()


def _resume_small(task: DownloadTask, partial: Partial, started: float) -> DownloadResult:
    """A small body cut short: its bytes become the ``.part`` (with a sidecar) under the
    lock, then the single-stream engine resumes them — or, cancelled, keeps them."""
    with _lock(task, task.options.lock_timeout):
        try:
            if os.path.lexists(task.target.path) or os.path.lexists(task.target.part):
                if partial.cancelled:             # another writer came first: leave it be
                    _cancelled(task, partial)
                return _locked(task, started)
            sidecar = keep(task, partial)
        finally:
            partial.release()
        if partial.cancelled:
            _cancelled(task, partial)
        partial.retrier.progressed(partial.got)
        partial.retrier.pause(str(partial.error), cause=partial.error)
        outcome = download_single(task, sidecar, retrier=partial.retrier,
                                  attempts=partial.attempts)
        finalize(task, outcome)
        return _result(task, outcome, started)


def _cancelled(task: DownloadTask, partial: Partial) -> None:
    check_cancel(task.cancel, task.what)            # DownloadCancelled, the .part kept
    raise partial.error


def _result(task: DownloadTask, outcome: Outcome, started: float) -> DownloadResult:
    return DownloadResult(path=task.target.path, url=task.shown, bytes=outcome.size,
                          resumed_from=outcome.resumed_from, sha256=outcome.sha256,
                          seconds=time.monotonic() - started, skipped=False,
                          segments=outcome.segments, attempts=outcome.attempts,
                          size_verified=outcome.size_known)


def _locked(task: DownloadTask, started: float) -> DownloadResult:
    target, options = task.target, task.options
    if os.path.lexists(target.path):
        existing = _existing(task, started)
        if existing is not None:
            return existing
    sidecar = Sidecar.load(target.sidecar)
    outcome = None
    if options.segments > 1 or (sidecar is not None and sidecar.segments):
        try:
            outcome = download_segmented(task, sidecar, options.segments)
        except SegmentsUnavailable as exc:
            log.info("gen_nb: %s: no segments (%s); using a single stream", task.what, exc)
            sidecar = Sidecar.load(target.sidecar)
    if outcome is None:
        outcome = download_single(task, sidecar)
    finalize(task, outcome)
    return _result(task, outcome, started)


def _drop_published_part(target: Target, final: os.stat_result) -> None:
    """A ``.part`` that is the final file itself (hard-linked: a run stopped right after
    moving it into place) is not a partial file: remove it and its sidecar."""
    try:
        part = os.lstat(target.part)
    except OSError:
        return
    if (part.st_dev, part.st_ino) == (final.st_dev, final.st_ino):
        remove_quietly(target.part, target.sidecar)


def _existing(task: DownloadTask, started: float) -> DownloadResult | None:
    """Skip (result), replace (None) or refuse (DestinationExistsError) what is there."""
    path, options = task.target.path, task.options
    if path.is_symlink() or not path.is_file():
        if not options.overwrite or path.is_dir():
            kind = "a symbolic link" if path.is_symlink() else "not a regular file"
            raise DestinationExistsError(
                f"{path} is {kind}; gen_nb never writes through links or over folders. "
                "Remove it or choose another dest= (overwrite=True replaces a link itself).")
        return None
    info = path.stat()
    _drop_published_part(task.target, info)
    size = info.st_size
    folder, relative = task.record_place()
    record = manifest_for(folder).get(relative)
    remote = probe(task.session, task.url, options, cancel=task.cancel, what=task.what)
    wanted = task.expected_sha256
    server_sha = remote.digests.get("sha256") or wanted
    sha = None
    if record is not None or server_sha:
        task.progress.update(phase="verifying", total=size)
        sha = hash_file(path, buffer_size=options.chunk_size)["sha256"]
    action, reason = decide_existing(
        size, sha, record.size if record else None, record.sha256 if record else None,
        record is not None and record.same_source(task.url), remote.total,
        strong_validator(remote.etag, remote.last_modified),
        strong_validator(record.etag, record.last_modified) if record else None,
        server_sha, options.overwrite)
    if action == "skip" and wanted and sha != wanted:
        action, reason = ("download" if options.overwrite else "conflict"), \
            f"its sha256 {sha} differs from expected_sha256"
    if action == "download":
        log.info("gen_nb: %s: %s", task.what, reason)
        return None
    if action == "conflict":
        raise DestinationExistsError(
            f"{path} already exists and is not this download ({reason}). Pass "
            f"overwrite=True to replace it, or choose another dest=.")
    task.progress.start(size, size, "already there")
    return DownloadResult(path=path, url=redact_url(task.url), bytes=size, resumed_from=0,
                          sha256=sha or "", seconds=time.monotonic() - started, skipped=True,
                          segments=0, attempts=0)
