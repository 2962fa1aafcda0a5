"""What one download needs (:class:`DownloadTask`), what an engine hands back
(:class:`Outcome`), and the steps every engine shares: the disk-space check, verification, and
the atomic move into place (:func:`move_into_place`: never over a file that appeared
meanwhile, see :func:`gen_nb.transfer.files.publish`) with its provenance record."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from gen_nb.api.errors import (
    DestinationExistsError,
    InsufficientSpaceError,
    IntegrityError,
    TransferError,
)
from gen_nb.api.redact import redact_url
from gen_nb.api.settings import TransferOptions
from gen_nb.api.transport import Deadline
from gen_nb.transfer.files import destination_error, open_owned, publish, remove_quietly
from gen_nb.transfer.hashing import hash_file
from gen_nb.transfer.lock import DestinationLock
from gen_nb.transfer.manifest import manifest_for, record_for
from gen_nb.transfer.plan import Target
from gen_nb.transfer.progress import Progress
from gen_nb.transfer.remote import transfer_deadline

__all__ = ["DownloadTask", "Outcome", "check_space", "finalize", "fsync_folder",
           "move_into_place", "open_part", "record", "verify_digests"]

log = logging.getLogger("gen_nb")


@dataclass
class DownloadTask:
    """Everything an engine needs to move one URL into one target.

    ``about`` describes the source for the provenance record (kind, render/layer/engine ids,
    title). ``deadline`` is set once the size is known (:meth:`start_clock`).
    ``flush_folder``: with ``fsync``, flush the folder after the file is in place (a batch
    flushes it once at the end instead: :func:`fsync_folder`). ``record_root``: the folder
    whose manifest records the file (an export's root; the target may be in a subfolder),
    else the target's own folder. ``known_absent``: a batch listed the folder just before and
    saw neither the file nor its ``.part`` or ``.lock`` (so no ``lstat`` of the three; one
    that appears meanwhile is still never replaced: see :func:`move_into_place`).
    """

    url: str
    target: Target
    progress: Progress
    session: requests.Session
    options: TransferOptions
    cancel: threading.Event | None = None
    expected_sha256: str | None = None   # 64 lower-case hex digits (expected_digest)
    about: dict[str, Any] = field(default_factory=dict)
    flush_folder: bool = True
    record_root: Path | None = None
    known_absent: bool = False
    what: str = field(init=False, default="")
    shown: str = field(init=False, default="")
    deadline: Deadline = field(init=False)
    _sized: bool = field(init=False, default=False)

    def __post_init__(self) -> None:
        self.shown = redact_url(self.url)                  # for messages; built once
        self.what = f"Download of {self.shown}"
        self.deadline = transfer_deadline(self.options, None, self.what)

    def record_place(self) -> tuple[Path, str]:
        """(the folder whose manifest records the file, the file's path relative to it)."""
        path = self.target.path
        if self.record_root is None:
            return path.parent, path.name
        return self.record_root, path.relative_to(self.record_root).as_posix()

    def start_clock(self, size: int | None) -> None:
        """Size the total deadline once the file's size is known (counted from the start)."""
        if size is not None and not self._sized:
            self._sized = True
            self.deadline.resize(self.options.deadline_for(size))


@dataclass
class Outcome:
    """A complete, verified ``.part`` ready to be moved into place."""

    size: int
    sha256: str
    resumed_from: int
    attempts: int
    validator: str | None
    etag: str | None = None
    last_modified: str | None = None
    size_known: bool = True
    segments: int = 1
    digests: dict[str, str] = field(default_factory=dict)


def open_part(target: Target, truncate: bool) -> int:
    """Open (create) the ``.part`` for reading and writing, never through a link.

    An empty file is never truncated: on ext4 a truncate to 0 marks the file for a forced
    flush on close ("auto_da_alloc"), which would cost a whole extra writeback pass.
    """
    try:
        fd = open_owned(target.part)
    except OSError as exc:
        raise destination_error(exc, target.part, "create") from exc
    if truncate and os.fstat(fd).st_size:
        os.ftruncate(fd, 0)
    return fd


def check_space(folder: Path, needed: int, name: Path) -> None:
    """Raise InsufficientSpaceError when ``folder``'s disk has less than ``needed`` bytes free."""
    if needed <= 0:
        return
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return
    if free < needed:
        raise InsufficientSpaceError(
            f"Not enough free disk space for {name}: {needed:,} more bytes needed, {free:,} "
            f"free on {folder}. Free some space (or choose another dest=) and download again; "
            f"any partial file is kept for resuming.")


def preallocate(fd: int, size: int, name: Path) -> None:
    """Reserve ``size`` bytes for the file (sparse fallback where fallocate is unsupported)."""
    allocate = getattr(os, "posix_fallocate", None)
    try:
        if allocate is None:
            raise AttributeError("posix_fallocate")
        allocate(fd, 0, size)
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
            raise InsufficientSpaceError(
                f"Not enough free disk space to reserve {size:,} bytes for {name}. Free some "
                f"space and download again.") from exc
        os.ftruncate(fd, size)
    except AttributeError:
        os.ftruncate(fd, size)


def verify_digests(task: DownloadTask, got: dict[str, str], offered: dict[str, str], *,
                   discard: bool = True) -> None:
    """Compare computed digests with the server's and ``expected_sha256``; IntegrityError.

    A mismatch means the bytes are wrong, and resuming cannot fix wrong bytes: the ``.part``
    and its sidecar are deleted (``discard``) so the next call starts clean.
    """
    checks = [(k, v, "the server's checksum") for k, v in offered.items() if k in got]
    if task.expected_sha256:
        checks.append(("sha256", task.expected_sha256, "expected_sha256"))
    for kind, want, source in checks:
        if got[kind] != want.lower():
            if discard:
                remove_quietly(task.target.part, task.target.sidecar)
            raise IntegrityError(
                f"{task.what}: the {kind} of the received bytes is {got[kind]}, but {source} "
                f"says {want}. Nothing was kept; download again (if it keeps failing, the "
                f"source itself is damaged).")


def _fsync(path: Path, directory: bool = False) -> None:
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) if directory else os.O_RDONLY
    with contextlib.suppress(OSError):
        fd = os.open(path, flags)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def finalize(task: DownloadTask, outcome: Outcome) -> None:
    """fsync the ``.part``, move it into place, drop the sidecar, record it (under the lock)."""
    target = task.target
    if task.options.fsync:
        _fsync(target.part)
    if target.path.is_dir() and not target.path.is_symlink():
        raise TransferError(f"{target.path} is a folder; choose another dest= or file name.")
    if not move_into_place(task, target.part, outcome.size, outcome.sha256, locked=True):
        remove_quietly(target.part)        # the same bytes are already in place
    remove_quietly(target.sidecar)
    record(task, outcome.size, outcome.sha256, outcome.etag, outcome.last_modified)


def move_into_place(task: DownloadTask, src: Path, size: int, sha256: str, *,
                    locked: bool) -> bool:
    """Move the finished ``src`` to the target; False when an identical file got there first
    (``src`` is then left alone). DestinationExistsError when a different one did (and
    ``overwrite`` is off). Without hard links, replaces under the lock (taken unless
    ``locked``)."""
    path = task.target.path
    try:
        how = publish(src, path, overwrite=task.options.overwrite)
        if how == "unsupported" and locked:
            os.replace(src, path)
        elif how == "unsupported":
            with DestinationLock(task.target.lock, timeout=task.options.lock_timeout,
                                 cancel=task.cancel, what=str(path)):
                how = "taken" if os.path.lexists(path) else publish(src, path, overwrite=True)
    except OSError as exc:
        raise destination_error(exc, path, "move the finished file to") from exc
    if how != "taken":
        return True
    if path.is_symlink() or not path.is_file() or path.stat().st_size != size or \
            hash_file(path)["sha256"] != sha256:
        raise DestinationExistsError(
            f"{path} appeared while this download ran and is a different file; gen_nb does "
            f"not replace it. Pass overwrite=True to replace it, or choose another dest=.")
    return False


def record(task: DownloadTask, size: int, sha256: str, etag: str | None,
           last_modified: str | None) -> None:
    """The finished file's manifest line (then, with ``fsync``, the folder's flush)."""
    target = task.target
    folder, relative = task.record_place()
    manifest_for(folder).add(record_for(relative, task.url, size, sha256, etag=etag,
                                        last_modified=last_modified, about=task.about))
    if task.options.fsync and task.flush_folder:
        fsync_folder(target.path.parent)
    log.info("gen_nb: saved %s (%d bytes, sha256 %s)", target.path, size, sha256)


def fsync_folder(folder: Path) -> None:
    """Flush a folder's entries (new names, the manifest's growth) to disk."""
    _fsync(folder, directory=True)
