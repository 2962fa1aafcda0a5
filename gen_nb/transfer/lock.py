"""A cross-process lock per destination (``<name>.lock``), on every platform.

Two downloads to the same file never write it at once. The second one **waits** (polling,
up to ``timeout`` seconds, default 60; the ``cancel`` Event interrupts the wait) and then
usually finds the finished file and skips it. ``timeout=0`` fails at once. Either way a
download that cannot get the lock raises :class:`~gen_nb.api.errors.DownloadLockedError`
naming the process that holds it.

How it locks, chosen when a lock is taken (no POSIX-only module is imported at load time):

* POSIX: ``fcntl.flock`` on the lock file; Windows: ``msvcrt.locking``. The kernel releases
  both when a process dies, so a crashed download never leaves a stale lock. An acquirer
  checks that the file it locked is still the one on disk, so removal on release cannot let
  two holders in.
* Neither available: the lock file itself is the lock (created with ``O_EXCL``); one whose
  recorded process on this machine no longer runs is stale and taken over. A link (symbolic
  or hard) under the lock's name is refused at once (LinkRefused), as with the kernel locks.

The lock file is opened through :func:`gen_nb.transfer.files.open_owned` (no links followed).

:data:`CLAIMS` keeps threads of one process apart without any file: every download first
claims its destination there (a dict of ``threading.Lock``), so two threads never download the
same file at once, even small downloads, which take no lock file (see
:mod:`gen_nb.transfer.small`); the second waits like for the lock file and then usually finds
the finished file.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import socket
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from gen_nb.api.errors import DownloadCancelled, DownloadLockedError
from gen_nb.transfer.files import check_plain, open_owned, remove_quietly

__all__ = ["CLAIMS", "DEFAULT_LOCK_TIMEOUT", "Claims", "DestinationLock", "kernel_locking"]

DEFAULT_LOCK_TIMEOUT = 60.0
_POLL = 0.05


def _module(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def kernel_locking() -> str | None:
    """``"fcntl"``, ``"msvcrt"`` or None (then lock files are created exclusively)."""
    for name in ("fcntl", "msvcrt"):
        if _module(name) is not None:
            return name
    return None


def _try_kernel_lock(fd: int, kind: str) -> bool:
    try:
        if kind == "fcntl":
            fcntl = _module("fcntl")
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        else:
            msvcrt = _module("msvcrt")
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    except OSError:
        return False
    return True


def _holder_alive(text: str) -> bool:
    """Whether the ``pid@host`` recorded in a lock file may still run (unknown: yes)."""
    pid, _, host = text.strip().partition("@")
    if host != socket.gethostname() or not pid.isdigit() or os.name != "posix":
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


class DestinationLock:
    """Exclusive lock on ``path`` (a ``.lock`` file); a context manager.

    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     p = pathlib.Path(folder) / "x.lock"
    ...     with DestinationLock(p, timeout=0):
    ...         p.exists()
    True
    """

    def __init__(self, path: Path, *, timeout: float | None = DEFAULT_LOCK_TIMEOUT,
                 cancel: threading.Event | None = None, what: str = "") -> None:
        self.path = path
        self.timeout = timeout
        self.cancel = cancel
        self.what = what or str(path.with_suffix(""))
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock, waiting as configured. Raises DownloadLockedError / DownloadCancelled."""
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        kind = kernel_locking()
        while True:
            fd = self._try_once(kind)
            if fd is not None:
                self._fd = fd
                return
            if deadline is not None and time.monotonic() >= deadline:
                raise DownloadLockedError(self._locked_message())
            if self.cancel is not None and self.cancel.wait(_POLL):
                raise DownloadCancelled(f"Cancelled while waiting for another download of "
                                        f"{self.what} to finish.")
            if self.cancel is None:
                time.sleep(_POLL)

    def _try_once(self, kind: str | None) -> int | None:
        if kind is None:
            return self._try_exclusive()
        fd = open_owned(self.path)
        if not _try_kernel_lock(fd, kind):
            os.close(fd)
            return None
        try:
            same = os.stat(self.path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if not same:  # the previous holder removed it after we opened it: try again
            os.close(fd)
            return None
        os.ftruncate(fd, 0)
        os.write(fd, self._stamp())
        return fd

    def _try_exclusive(self) -> int | None:
        try:
            fd = open_owned(self.path, exclusive=True)
        except FileExistsError:
            with contextlib.suppress(FileNotFoundError):   # released meanwhile: try again
                check_plain(self.path)     # a planted link is refused, not waited for
            with contextlib.suppress(OSError, UnicodeDecodeError):
                if not _holder_alive(self.path.read_text()):
                    remove_quietly(self.path)   # stale: its process is gone
            return None
        os.write(fd, self._stamp())
        return fd

    @staticmethod
    def _stamp() -> bytes:
        return f"{os.getpid()}@{socket.gethostname()}\n".encode()

    def _locked_message(self) -> str:
        holder = ""
        with contextlib.suppress(OSError, ValueError):
            pid = self.path.read_text().strip().partition("@")[0]
            holder = f" (process {int(pid)})"
        waited = f" after waiting {self.timeout:g} s" if self.timeout else ""
        return (f"Another download{holder} is writing {self.what}{waited}. Wait for it to "
                f"finish and call again (the finished file is then skipped), or pass a "
                f"longer lock_timeout=.")

    def release(self) -> None:
        if self._fd is None:
            return
        if os.name == "nt":   # Windows cannot remove an open file: close first
            os.close(self._fd)
            with contextlib.suppress(OSError):
                remove_quietly(self.path)
        else:                 # POSIX: remove while still locked, so no one locks a dead name
            remove_quietly(self.path)
            os.close(self._fd)
        self._fd = None

    def __enter__(self) -> DestinationLock:
        self.acquire()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()


class Claims:
    """Destinations that threads of this process are downloading (see the module docstring)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget every claim (also used in a forked child)."""
        self._held: dict[str, list[Any]] = {}   # key → [lock, users]
        self._guard = threading.Lock()

    def hold(self, path: Path, *, timeout: float | None = DEFAULT_LOCK_TIMEOUT,
             cancel: threading.Event | None = None, what: str = "") -> _Claim:
        """A context manager: claim ``path`` for the calling thread, waiting up to
        ``timeout`` seconds (None: forever) for another thread's claim.
        DownloadLockedError / DownloadCancelled."""
        return _Claim(self, path, timeout, cancel, what)

    def _enter(self, key: str) -> list[Any]:
        with self._guard:
            entry = self._held.setdefault(key, [threading.Lock(), 0])
            entry[1] += 1
            return entry

    def _leave(self, key: str, entry: list[Any]) -> None:
        with self._guard:
            entry[1] -= 1
            if not entry[1]:
                del self._held[key]


class _Claim:
    """One claim of :meth:`Claims.hold` (a class, not a generator: it is on every file's
    path)."""

    __slots__ = ("_cancel", "_claims", "_entry", "_key", "_path", "_timeout", "_what")

    def __init__(self, claims: Claims, path: Path, timeout: float | None,
                 cancel: threading.Event | None, what: str) -> None:
        text = os.fspath(path)
        key = text if os.path.isabs(text) else os.path.abspath(text)
        self._key = os.path.normcase(key) if os.name == "nt" else key
        self._claims, self._path, self._timeout = claims, path, timeout
        self._cancel, self._what = cancel, what
        self._entry: list[Any] = []

    def __enter__(self) -> None:
        self._entry = self._claims._enter(self._key)
        try:
            _wait_for(self._entry[0], self._timeout, self._cancel,
                      self._what or str(self._path))
        except BaseException:
            self._claims._leave(self._key, self._entry)
            raise

    def __exit__(self, *exc: object) -> None:
        self._entry[0].release()
        self._claims._leave(self._key, self._entry)


def _wait_for(lock: threading.Lock, timeout: float | None, cancel: threading.Event | None,
              what: str) -> None:
    deadline = None if timeout is None else time.monotonic() + timeout
    while not lock.acquire(timeout=_POLL):
        if cancel is not None and cancel.is_set():
            raise DownloadCancelled(f"Cancelled while waiting for another download of {what} "
                                    f"to finish.")
        if deadline is not None and time.monotonic() >= deadline:
            waited = f" after waiting {timeout:g} s" if timeout else ""
            raise DownloadLockedError(
                f"Another download in this process is writing {what}{waited}. Wait for it "
                f"to finish and call again (the finished file is then skipped), or pass a "
                f"longer lock_timeout=.")


CLAIMS = Claims()

if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=CLAIMS.reset)
