"""A cross-process lock per destination (``<name>.lock``, ``fcntl.flock``).

Two downloads to the same file never write it at once. The second one **waits** (polling,
up to ``timeout`` seconds, default 60; the ``cancel`` Event interrupts the wait) and then
usually finds the finished file and skips it. ``timeout=0`` fails at once. Either way a
download that cannot get the lock raises :class:`~gen_nb.errors.DownloadLockedError` naming
the process that holds it.

``flock`` locks belong to an open file description, so they exclude threads of one process
too, and the kernel releases them when a process dies (a crashed download never leaves a
stale lock). The lock file is removed on release; an acquirer checks that the file it locked
is still the one on disk, so removal cannot let two holders in.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import threading
import time
from pathlib import Path
from types import TracebackType

from gen_nb.errors import DownloadCancelled, DownloadLockedError, TransferError

__all__ = ["DEFAULT_LOCK_TIMEOUT", "DestinationLock", "open_no_follow"]

DEFAULT_LOCK_TIMEOUT = 60.0
_POLL = 0.05



def open_no_follow(path: Path) -> int:
    """``os.open`` a file for reading and writing (created if missing), refusing symlinks.

    A symbolic link planted under a name gen_nb writes (``.part``, ``.lock``) would redirect
    the bytes elsewhere; it raises :class:`TransferError` instead of being followed.
    """
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)
    try:
        return os.open(path, flags, 0o644)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise TransferError(f"{path} is a symbolic link; gen_nb never writes through "
                                f"links. Remove it and try again.") from exc
        raise

class DestinationLock:
    """Exclusive lock on ``path`` (a ``.lock`` file); a context manager.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.lock"
    >>> with DestinationLock(p, timeout=0):
    ...     p.exists()
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
        while True:
            fd = self._try_once()
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

    def _try_once(self) -> int | None:
        fd = open_no_follow(self.path)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
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
        os.write(fd, f"{os.getpid()}\n".encode())
        return fd

    def _locked_message(self) -> str:
        holder = ""
        with contextlib.suppress(OSError, ValueError):
            holder = f" (process {int(self.path.read_text().strip())})"
        waited = f" after waiting {self.timeout:g} s" if self.timeout else ""
        return (f"Another download{holder} is writing {self.what}{waited}. Wait for it to "
                f"finish and call again (the finished file is then skipped), or pass a "
                f"longer lock_timeout=.")

    def release(self) -> None:
        if self._fd is None:
            return
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> DestinationLock:
        self.acquire()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()
