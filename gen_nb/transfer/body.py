"""Reading a response body into reused buffers, within a deadline and a stall rule.

:class:`BodyReader` reads a streamed ``requests`` response piece by piece into ``memoryview``
buffers the caller owns. The CDN's usual answer (no content coding, not chunked) takes the
fast path of :mod:`gen_nb.api.connection` (``readinto1`` on the socket's reader, no per-piece
``bytes``; the connection goes back to the pool at the end); anything else goes through
urllib3's decoding ``read1``, and its ``Content-Length`` is not trusted as the file size.

Every read is bounded twice: the total :class:`~gen_nb.api.transport.Deadline` of the transfer
(a read never waits past it: the socket timeout shrinks to what is left), and a stall rule — if
fewer than ``stall_bytes`` arrive within ``stall_window`` seconds the read fails as
:class:`ReadInterrupted`, so a server trickling a byte now and then cannot hold a transfer
forever. Positional writes (:func:`write_at`) work where ``os.pwrite`` is missing (Windows).

Piece sizes were measured on the benchmark machine (benchmarks/README.md): a thread that reads
*and* writes should write what it just read in 256 KiB steps; a reader that hands its pieces to
a writer/hasher thread reads up to 1 MiB at a time.
"""

from __future__ import annotations

import errno
import http.client
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import requests
import urllib3

from gen_nb.api import connection
from gen_nb.api.errors import InsufficientSpaceError, TransferError
from gen_nb.api.transport import Deadline

__all__ = ["READ_STEP", "BodyReader", "ReadInterrupted", "fill", "write_at"]

FILL_SECONDS = 0.1
READ_STEP = 256 << 10
READ_ERRORS: tuple[type[BaseException], ...] = (
    OSError, http.client.HTTPException, urllib3.exceptions.HTTPError,
    requests.RequestException,
)
_DISK_FULL = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
_positional_lock = threading.Lock()


def _pwrite(fd: int, view: memoryview, offset: int) -> int:
    """``os.pwrite``, or seek + write under a lock where the OS has no positional write."""
    write = getattr(os, "pwrite", None)
    if write is not None:
        return int(write(fd, view, offset))
    with _positional_lock:
        os.lseek(fd, offset, os.SEEK_SET)
        return os.write(fd, view)


class ReadInterrupted(Exception):
    """The body stopped early: dropped, stalled (timeout or stall rule), or truncated."""


class BodyReader:
    """``readinto(buffer) -> n`` over a streamed response (0 = end of body). See the module doc.

    ``release()`` after the end hands the connection back to the pool (fast path only).
    """

    def __init__(self, response: requests.Response, *, deadline: Deadline | None = None,
                 read_timeout: float = 60.0, stall_window: float = 30.0,
                 stall_bytes: int = 16 << 10,
                 clock: Callable[[], float] = time.monotonic,
                 fast: connection.FastBody | None = None) -> None:
        """``fast``: the response's :func:`~gen_nb.api.connection.fast_body`, when the caller
        has looked it up already."""
        self._response, self._deadline, self._clock = response, deadline, clock
        self._fast = fast if fast is not None else connection.fast_body(response)
        self._raw = response.raw
        self.remaining: int | None = self._fast.remaining if self._fast else None
        self.fast = self._fast is not None
        self._error: ReadInterrupted | None = None
        self._timeout, self._read_timeout = read_timeout, read_timeout
        self._window, self._floor = stall_window, stall_bytes
        self._window_start, self._window_bytes = clock(), 0

    def readinto(self, view: memoryview) -> int:
        """Read some bytes (at most one network read). Raises :class:`ReadInterrupted`, or the
        deadline's error when the transfer has run out of time."""
        if self._error is not None:
            error, self._error = self._error, None
            raise error
        self._bound()
        try:
            n = self._fast.readinto(view) if self._fast else self._read_slow(view)
        except READ_ERRORS as exc:
            if self._deadline is not None:
                self._deadline.check("the body stopped arriving")
            raise ReadInterrupted(_describe(exc)) from exc
        if self._fast is not None:
            self.remaining = self._fast.remaining
        self._count(n)
        return n

    def release(self) -> bool:
        """Return the connection to the pool after the whole body was read (fast path)."""
        return self._fast.release() if self._fast is not None else False

    def _bound(self) -> None:
        """Apply the deadline: fail when spent, shrink the socket timeout when it is near."""
        if self._deadline is None:
            return
        self._deadline.check("while the body was arriving")
        left = self._deadline.remaining()
        if left is not None and left < self._timeout:
            self._timeout = max(0.01, left)
            connection.set_read_timeout(self._response, self._timeout)

    def _count(self, n: int) -> None:
        """The stall rule: too few bytes within a window is a stalled read."""
        self._window_bytes += n
        now = self._clock()
        if now - self._window_start < self._window:
            return
        if self._window_bytes < self._floor and n:
            got, self._window_bytes = self._window_bytes, 0
            self._window_start = now
            raise ReadInterrupted(
                f"the connection stalled: only {got} bytes in {self._window:g} s "
                f"(the stall rule wants at least {self._floor})")
        self._window_start, self._window_bytes = now, 0

    def _read_slow(self, view: memoryview) -> int:
        read1 = getattr(self._raw, "read1", None)
        if read1 is not None:
            data = read1(len(view), decode_content=True)
        else:
            data = self._raw.read(len(view), decode_content=True)
        view[:len(data)] = data
        return len(data)

    def defer(self, error: ReadInterrupted) -> None:
        """Remember an error to raise on the next read (bytes read before it are kept)."""
        self._error = error


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    if isinstance(exc, TimeoutError) or "timed out" in text.lower():
        return "the connection stalled past the read timeout"
    return f"the connection broke ({type(exc).__name__}: {text[:120]})"


def fill(reader: BodyReader, view: memoryview, cancel: threading.Event | None,
         write: Callable[[memoryview, int], None] | None = None) -> int:
    """Fill ``view`` until it is full, the body ends, cancel is set or ~0.1 s has passed.

    With ``write``, every piece read (at most ``READ_STEP`` bytes) is passed on at once as
    ``write(piece, position_in_view)``, while it is still in the CPU cache.
    """
    size = len(view)
    step = READ_STEP if write is not None else size
    got = reader.readinto(view[:step])
    if not got:
        return 0
    if write is not None:
        write(view[:got], 0)
    start = time.monotonic()
    while got < size:
        if (cancel is not None and cancel.is_set()) or time.monotonic() - start > FILL_SECONDS:
            break
        try:
            n = reader.readinto(view[got:got + step])
        except ReadInterrupted as exc:
            reader.defer(exc)
            break
        if not n:
            break
        if write is not None:
            write(view[got:got + n], got)
        got += n
    return got


def write_at(fd: int, view: memoryview, offset: int, name: Path) -> None:
    """Write all of ``view`` at ``offset``. A full disk → InsufficientSpaceError."""
    while view:
        try:
            written = _pwrite(fd, view, offset)
        except OSError as exc:
            if exc.errno in _DISK_FULL:
                raise InsufficientSpaceError(
                    f"The disk is full while writing {name} ({exc.strerror}). The partial "
                    f"file is kept: free some space and download again to resume.") from exc
            raise TransferError(f"Could not write {name}: {exc}") from exc
        view, offset = view[written:], offset + written
