"""What one download needs (``Job``), what an engine hands back (``Outcome``), and the steps
every engine shares: the disk-space check, verification, and the atomic move into place."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path

import requests

from gen_nb.errors import InsufficientSpaceError, IntegrityError, TransferError
from gen_nb.transfer.headers import display_url
from gen_nb.transfer.lock import open_no_follow
from gen_nb.transfer.plan import Target
from gen_nb.transfer.progress import Progress
from gen_nb.transfer.sidecar import remove_quietly, write_note

__all__ = ["Job", "Outcome", "check_space", "finalize", "open_part", "verify_digests"]

log = logging.getLogger("gen_nb")


@dataclass
class Job:
    """Everything an engine needs to move one URL into one target."""

    url: str
    target: Target
    progress: Progress
    session: requests.Session
    cancel: threading.Event | None = None
    chunk_size: int = 1 << 20
    timeout: tuple[float, float] = (10.0, 60.0)
    retries: int = 5
    expected_sha256: str | None = None
    fsync: bool = True
    what: str = field(init=False, default="")

    def __post_init__(self) -> None:
        self.what = f"Download of {display_url(self.url)}"   # for messages; built once


@dataclass
class Outcome:
    """A complete, verified ``.part`` ready to be moved into place."""

    size: int
    sha256: str
    resumed_from: int
    attempts: int
    validator: str | None
    segments: int = 1
    digests: dict[str, str] = field(default_factory=dict)


def open_part(target: Target, truncate: bool) -> int:
    """Open (create) the ``.part`` for reading and writing.

    An empty file is never truncated: on ext4 a truncate to 0 marks the file for a forced
    flush on close ("auto_da_alloc"), which would cost a whole extra writeback pass. A
    symbolic link planted under the ``.part`` name is refused, never followed.
    """
    fd = open_no_follow(target.part)
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
    try:
        os.posix_fallocate(fd, 0, size)
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
            raise InsufficientSpaceError(
                f"Not enough free disk space to reserve {size:,} bytes for {name}. Free some "
                f"space and download again.") from exc
        os.ftruncate(fd, size)
    except AttributeError:
        os.ftruncate(fd, size)


def verify_digests(job: Job, got: dict[str, str], offered: dict[str, str]) -> None:
    """Compare computed digests with the server's and ``expected_sha256``; IntegrityError.

    A mismatch means the bytes are wrong, and resuming cannot fix wrong bytes: the ``.part``
    and its sidecar are deleted so the next call starts clean.
    """
    checks = [(k, v, "the server's checksum") for k, v in offered.items() if k in got]
    if job.expected_sha256:
        checks.append(("sha256", job.expected_sha256.strip().lower(), "expected_sha256"))
    for kind, want, source in checks:
        if got[kind] != want.lower():
            remove_quietly(job.target.part, job.target.sidecar)
            raise IntegrityError(
                f"{job.what}: the {kind} of the received bytes is {got[kind]}, but {source} "
                f"says {want}. The partial file was deleted; download again (if it keeps "
                f"failing, the source itself is damaged).")


def finalize(job: Job, outcome: Outcome) -> None:
    """fsync the ``.part``, ``os.replace`` it into place, drop the sidecar, leave a note."""
    target = job.target
    if job.fsync:
        fd = os.open(target.part, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    if target.path.is_dir():
        raise TransferError(f"{target.path} is a folder; choose another dest=.")
    os.replace(target.part, target.path)
    remove_quietly(target.sidecar)
    write_note(target.path, job.url, outcome.validator, outcome.sha256)
    if job.fsync:
        with contextlib.suppress(OSError):
            dir_fd = os.open(target.path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
    log.info("gen_nb: saved %s (%d bytes, sha256 %s)", target.path, outcome.size,
             outcome.sha256)
