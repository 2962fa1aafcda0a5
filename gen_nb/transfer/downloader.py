"""``gen_nb.download``: one file, resumable, verified, atomic; optionally segmented.

Where the bytes go: ``dest`` is a folder (default ``$GEN_NB_DOWNLOAD_DIR``, else
``./downloads``) and the file is named after the resource (its ``file_name``) or the URL path,
sanitised so it can never leave the folder; or ``dest`` is the file path itself. While
downloading, bytes go to ``<name>.part`` next to it, with ``<name>.part.json`` (the sidecar)
and ``<name>.lock``; only a complete, verified file is moved to ``<name>`` (``os.replace``).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gen_nb.errors import DestinationExistsError
from gen_nb.transfer._hashing import hash_file
from gen_nb.transfer._job import Job, finalize
from gen_nb.transfer._net import probe, shared_session
from gen_nb.transfer.headers import display_url, split_url, strong_validator
from gen_nb.transfer.lock import DEFAULT_LOCK_TIMEOUT, DestinationLock
from gen_nb.transfer.plan import (
    ExistingAction,
    Target,
    decide_existing,
    file_name_for,
    resolve_target,
)
from gen_nb.transfer.progress import Progress, make_sink
from gen_nb.transfer.results import DownloadResult
from gen_nb.transfer.segmented import SegmentsUnavailable, download_segmented
from gen_nb.transfer.sidecar import Sidecar, read_note
from gen_nb.transfer.single import download_single

__all__ = ["DownloadOptions", "default_download_dir", "download", "download_to", "source_of"]

log = logging.getLogger("gen_nb")


@dataclass(frozen=True)
class DownloadOptions:
    """The knobs of :func:`download` other than source, destination and progress."""

    overwrite: bool = False
    segments: int = 1
    cancel: threading.Event | None = None
    chunk_size: int = 1 << 20
    timeout: tuple[float, float] = (10.0, 60.0)
    retries: int = 5
    expected_sha256: str | None = None
    lock_timeout: float | None = DEFAULT_LOCK_TIMEOUT
    fsync: bool = True

    def __post_init__(self) -> None:
        if self.segments < 1:
            raise ValueError(f"segments= must be at least 1, got {self.segments}")
        if self.chunk_size < 1024:
            raise ValueError(f"chunk_size= must be at least 1024 bytes, got {self.chunk_size}")
        if self.retries < 0:
            raise ValueError(f"retries= must be >= 0, got {self.retries}")


def source_of(src: Any) -> tuple[str, str | None]:
    """(URL, file-name hint) of a URL string, render, layer output, resource or generation.

    Raises ValueError when the object has no URL yet (e.g. a render still processing) or
    the URL is not http(s).
    """
    url: Any
    hint: Any = None
    if isinstance(src, str):
        url = src.strip()
    else:
        holder = src
        if getattr(src, "url", None) is None and getattr(src, "video", None) is not None:
            holder = src.video  # a Generation: its final video
        url, hint = getattr(holder, "url", None), getattr(holder, "file_name", None)
        if not url:
            status = getattr(src, "status", None)
            what = f"{type(src).__name__} {getattr(src, 'id', '')}".strip()
            state = f" (status {status})" if status else ""
            raise ValueError(f"{what} has no URL to download yet{state}. Wait until it is "
                             f"completed (client.wait(id)) and fetch it again.")
    if not isinstance(url, str) or not url.lower().startswith(("http://", "https://")):
        raise ValueError(f"Can only download http(s) URLs, got {display_url(url)!r}.")
    return url, hint if isinstance(hint, str) else None


def default_download_dir() -> Path:
    """``$GEN_NB_DOWNLOAD_DIR``, else ``./downloads`` (read at call time)."""
    return Path(os.environ.get("GEN_NB_DOWNLOAD_DIR") or "downloads")


def target_for(url: str, hint: str | None, dest: str | os.PathLike[str] | None) -> Target:
    dest_text = os.fspath(dest) if dest is not None else None
    path = Path(dest_text).expanduser() if dest_text is not None else None
    return resolve_target(dest_text, file_name_for(url, hint),
                          dest_is_dir=path is not None and path.is_dir(),
                          dest_is_file=path is not None and path.is_file(),
                          default_dir=default_download_dir())


def download(src: Any, dest: str | os.PathLike[str] | None = None, *, overwrite: bool = False,
             segments: int = 1, progress: Any = None, cancel: threading.Event | None = None,
             chunk_size: int = 1 << 20, timeout: tuple[float, float] = (10.0, 60.0),
             retries: int = 5, expected_sha256: str | None = None,
             lock_timeout: float | None = DEFAULT_LOCK_TIMEOUT,
             fsync: bool = True) -> DownloadResult:
    """Download ``src`` to ``dest``: resumable, verified, atomic, never clobbering.

    ``src``: a URL, or anything with ``.url`` (and ``.file_name``): Render, LayerOutput,
    ContentResource, OutputResource, or a Generation (its final video). ``dest``: a folder
    (default ``$GEN_NB_DOWNLOAD_DIR`` else ``./downloads``) or a file path.

    A kept ``.part`` (from a dropped connection, a cancel or a kernel restart) is resumed.
    ``segments=N`` uses N parallel ranges when the server allows (else one stream, logged).
    A complete file already there is skipped (``skipped=True``); a different one raises
    DestinationExistsError unless ``overwrite=True``. ``cancel`` (a threading.Event) stops
    within one piece of data and raises DownloadCancelled, keeping the ``.part``.
    ``progress``: None (tqdm bar unless GEN_NB_DISABLE_PROGRESS), False, a callable taking
    ProgressState, or a tqdm-like object. A second download of the same file waits up to
    ``lock_timeout`` seconds for the first (0 = fail at once: DownloadLockedError).
    ``fsync=False`` skips flushing to disk before the move (faster, less crash-safe).

    Errors (all ``TransferError``, an ``OSError``): DownloadCancelled, IntegrityError,
    DestinationExistsError, InsufficientSpaceError, DownloadLockedError; a plain
    TransferError for HTTP errors (its ``__cause__`` is the typed APIError) and retries
    running out. ValueError for a source without a URL.

    >>> import gen_nb
    >>> sb = gen_nb.sandbox.start()                                   # doctest: +SKIP
    >>> r = gen_nb.download(sb.large_media_url(3 << 20), "downloads/")  # doctest: +SKIP
    >>> r.bytes, r.sha256 == sb.media_sha256(r.url)                    # doctest: +SKIP
    (3145728, True)
    """
    options = DownloadOptions(overwrite, segments, cancel, chunk_size, tuple(timeout),  # type: ignore[arg-type]
                              retries, expected_sha256, lock_timeout, fsync)
    url, hint = source_of(src)
    target = target_for(url, hint, dest)
    reporter = Progress(make_sink(progress, target.path.name))
    return download_to(url, target, reporter, options)


def download_to(url: str, target: Target, reporter: Progress,
                options: DownloadOptions) -> DownloadResult:
    """:func:`download` after the source and target are resolved (used by download_many)."""
    started = time.monotonic()
    target.path.parent.mkdir(parents=True, exist_ok=True)

    def locked() -> DownloadResult:
        with DestinationLock(target.lock, timeout=options.lock_timeout, cancel=options.cancel,
                             what=str(target.path)):
            return _locked(url, target, reporter, options, started)

    return reporter.run(locked, lambda result: "already there" if result.skipped else None)


def _locked(url: str, target: Target, reporter: Progress, options: DownloadOptions,
            started: float) -> DownloadResult:
    job = Job(url=url, target=target, progress=reporter, session=shared_session(),
              cancel=options.cancel, chunk_size=options.chunk_size, timeout=options.timeout,
              retries=options.retries, expected_sha256=options.expected_sha256,
              fsync=options.fsync)
    if target.path.exists() or target.path.is_symlink():
        existing = _existing(job, options.overwrite, started)
        if existing is not None:
            return existing
    sidecar = Sidecar.load(target.sidecar)
    outcome = None
    if options.segments > 1 or (sidecar is not None and sidecar.segments):
        try:
            outcome = download_segmented(job, sidecar, options.segments)
        except SegmentsUnavailable as exc:
            log.info("gen_nb: %s: no segments (%s); using a single stream", job.what, exc)
            sidecar = Sidecar.load(target.sidecar)
    if outcome is None:
        outcome = download_single(job, sidecar)
    finalize(job, outcome)
    return DownloadResult(path=target.path, url=display_url(url), bytes=outcome.size,
                          resumed_from=outcome.resumed_from, sha256=outcome.sha256,
                          seconds=time.monotonic() - started, skipped=False,
                          segments=outcome.segments, attempts=outcome.attempts)


def _existing(job: Job, overwrite: bool, started: float) -> DownloadResult | None:
    """Skip (result), replace (None) or refuse (DestinationExistsError) an existing file."""
    path = job.target.path
    if path.is_dir():
        raise DestinationExistsError(f"{path} is a folder; choose another dest= or file name.")
    size = path.stat().st_size
    note = read_note(path)
    remote = probe(job.session, job.url, timeout=job.timeout, retries=job.retries,
                   cancel=job.cancel, what=job.what)
    validator = strong_validator(remote.etag, remote.last_modified)
    same_url = note is not None and note.url == split_url(job.url)[0]
    action, reason = decide_existing(size, remote.total, validator,
                                     note.validator if note else None,
                                     note.size if note else None, overwrite, same_url)
    sha = ""
    if action == "skip":
        action, sha = _confirm_skip(job, note.sha256 if note else None, remote.digests, size,
                                    overwrite)
        if action != "skip":
            reason = f"its sha256 {sha} differs from the expected checksum"
    if action == "download":
        log.info("gen_nb: %s: %s", job.what, reason)
        return None
    if action == "conflict":
        raise DestinationExistsError(
            f"{path} already exists and is not this download ({reason}). Pass "
            f"overwrite=True to replace it, or choose another dest=.")
    job.progress.start(size, size, "already there")
    return DownloadResult(path=path, url=display_url(job.url), bytes=size, resumed_from=0,
                          sha256=sha, seconds=time.monotonic() - started, skipped=True,
                          segments=0, attempts=0)


def _confirm_skip(job: Job, noted: str | None, offered: Any, size: int,
                  overwrite: bool) -> tuple[ExistingAction, str]:
    """Check a would-be skip against the known checksums: ``(action, sha256 of the file)``."""
    wanted = [v.strip().lower() for v in (job.expected_sha256, offered.get("sha256")) if v]
    sha = noted
    if sha is None:
        job.progress.update(phase="verifying", total=size)
        sha = hash_file(job.target.path, buffer_size=job.chunk_size)["sha256"]
    if all(sha == want for want in wanted):
        return "skip", sha
    return ("download" if overwrite else "conflict"), sha
