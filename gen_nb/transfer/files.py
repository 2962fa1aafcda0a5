"""Creating the files gen_nb writes so that nothing planted can redirect them.

Every file a transfer writes — the ``.part``, its sidecar and the sidecar's temp file, the lock,
the manifest — is opened through :func:`open_owned`: never through a symbolic link
(``O_NOFOLLOW`` where the OS has it, and a check of the opened file against the name where it
does not), only a regular file, and never a file with a second hard link (``st_nlink > 1``: a
link planted under our name would let us rewrite a file elsewhere). Small files are replaced
atomically with :func:`replace_file` (a fresh ``O_EXCL`` temp file, then ``os.replace``, which
swaps the directory entry and never writes through a link at the target).

A finished download is moved into place with :func:`publish`: without ``overwrite`` by a hard
link that fails when anything already has the name (``os.link`` never follows or replaces
what is there), so a file that appeared while the download ran is never clobbered, whoever
holds which lock; with ``overwrite`` by ``os.replace``. Where the file system has no hard
links, :func:`publish` says so and the caller replaces under the destination lock.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import json
import os
import secrets
import stat
from pathlib import Path
from typing import Any, TypeVar

from gen_nb.api.errors import TransferError

__all__ = ["LinkRefused", "check_plain", "destination_error", "open_owned", "publish",
           "read_record", "remove_quietly", "replace_file", "temp_beside", "write_new"]

T = TypeVar("T")

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_BINARY = getattr(os, "O_BINARY", 0)


class LinkRefused(TransferError):
    """A link (or something other than a plain file) sits under a name gen_nb writes."""


def _refuse(path: Path, what: str) -> LinkRefused:
    return LinkRefused(f"{path} is {what}; gen_nb never writes through links or into special "
                       "files. Remove it (or choose another dest=) and try again.")


def open_owned(path: Path, *, exclusive: bool = False, append: bool = False) -> int:
    """Open ``path`` for reading and writing (created if missing; must be new with
    ``exclusive``), refusing links and non-regular files (see the module docstring)."""
    flags = os.O_RDWR | os.O_CREAT | _NOFOLLOW | _CLOEXEC | _BINARY
    if exclusive:
        flags |= os.O_EXCL
    if append:
        flags |= os.O_APPEND
    if not _NOFOLLOW and os.path.islink(path):
        raise _refuse(path, "a symbolic link")
    try:
        fd = os.open(path, flags, 0o644)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.EMLINK) or (
                exc.errno == errno.EEXIST and not exclusive):
            raise _refuse(path, "a symbolic link") from exc
        raise
    if exclusive:       # O_CREAT | O_EXCL made a new regular file (it fails on any link)
        return fd
    try:
        _check_opened(path, fd)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _check_opened(path: Path, fd: int) -> None:
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        raise _refuse(path, "not a regular file")
    if info.st_nlink > 1:
        raise _refuse(path, f"a file with {info.st_nlink} hard links")
    try:
        named = os.lstat(path)
    except OSError as exc:
        raise _refuse(path, "gone or replaced while it was being opened") from exc
    if (named.st_dev, named.st_ino) != (info.st_dev, info.st_ino):
        raise _refuse(path, "replaced while it was being opened")


def check_plain(path: Path) -> None:
    """Raise LinkRefused unless ``path`` (not followed) is a regular file with one link."""
    info = os.lstat(path)
    if stat.S_ISLNK(info.st_mode):
        raise _refuse(path, "a symbolic link")
    if not stat.S_ISREG(info.st_mode):
        raise _refuse(path, "not a regular file")
    if info.st_nlink > 1:
        raise _refuse(path, f"a file with {info.st_nlink} hard links")


def temp_beside(path: Path) -> Path:
    """A fresh name beside ``path`` for a temp file of gen_nb's (``<name>.<random>.tmp``)."""
    return path.with_name(f"{path.name}.{secrets.token_hex(4)}.tmp")


def write_new(path: Path, data: bytes | memoryview, *, fsync: bool = False) -> None:
    """Create ``path`` (it must not exist; never through a link) holding ``data``."""
    fd = open_owned(path, exclusive=True)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        if fsync:
            os.fsync(fd)
    except BaseException:
        os.close(fd)
        remove_quietly(path)
        raise
    os.close(fd)


_NO_LINKS = frozenset({errno.EPERM, errno.EINVAL, errno.ENOSYS, errno.EXDEV, errno.EMLINK,
                       getattr(errno, "ENOTSUP", -1), getattr(errno, "EOPNOTSUPP", -1)})


def publish(src: Path, dst: Path, *, overwrite: bool) -> str:
    """Move the finished file ``src`` to ``dst`` (see the module docstring).

    ``"moved"``; ``"taken"`` when (without ``overwrite``) something already has the name:
    nothing was moved; ``"unsupported"`` when the file system has no hard links: nothing
    was moved, the caller replaces under its lock.
    """
    if overwrite:
        os.replace(src, dst)
        return "moved"
    link = getattr(os, "link", None)
    if link is None:
        return "unsupported"
    try:
        link(src, dst)
    except FileExistsError:
        return "taken"
    except OSError as exc:
        if exc.errno in _NO_LINKS:
            return "unsupported"
        raise
    remove_quietly(src)
    return "moved"


def replace_file(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically: a new temp file beside it, then ``os.replace``."""
    tmp = temp_beside(path)
    write_new(tmp, data)
    try:
        os.replace(tmp, path)
    except BaseException:
        remove_quietly(tmp)
        raise


def remove_quietly(*paths: Path) -> None:
    """Delete files that may not exist (links are removed, never followed)."""
    for path in paths:
        with contextlib.suppress(FileNotFoundError, NotADirectoryError):
            os.unlink(path)


_ADVICE = {
    errno.EACCES: "gen_nb may not write there: choose a folder you can write to (dest=)",
    errno.EPERM: "gen_nb may not write there: choose a folder you can write to (dest=)",
    errno.EROFS: "the file system is read-only: choose another folder (dest=)",
    errno.ENOTDIR: "a file sits where a folder is expected: choose another dest= or remove it",
    errno.EISDIR: "a folder sits where the file should go: choose another dest= or file name",
    errno.EEXIST: "something already has that name: choose another dest= or remove it",
    errno.ENOSPC: "the disk is full: free some space and try again",
    errno.EDQUOT: "the disk quota is used up: free some space and try again",
    errno.ENAMETOOLONG: "the path is too long: choose a shorter dest= or file name",
}


def destination_error(exc: OSError, path: Path, doing: str = "writing") -> TransferError:
    """A TransferError for an OS error at the destination, saying what to do."""
    if isinstance(exc, TransferError):
        return exc
    from gen_nb.api.errors import InsufficientSpaceError

    advice = _ADVICE.get(exc.errno or 0, "check the folder and try again")
    cls = InsufficientSpaceError if exc.errno in (errno.ENOSPC, errno.EDQUOT) else TransferError
    return cls(f"Could not {doing} {path}: {exc.strerror or exc} — {advice}.")


def read_record(cls: type[T], text: str, version: int) -> T | None:
    """A versioned dataclass (sidecar, manifest line) from JSON; None for anything else:
    not JSON, not an object, another version, or fields the class does not take."""
    try:
        data: Any = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or data.get("version") != version:
        return None
    known = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    try:
        return cls(**{k: v for k, v in data.items() if k in known})
    except TypeError:
        return None
