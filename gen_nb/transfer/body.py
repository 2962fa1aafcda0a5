"""Reading a response body into reused buffers, and writing pieces of it to disk.

Fast path (the CDN's usual answer: no content coding, not chunked): read straight from the
socket's buffered reader into preallocated ``memoryview`` buffers (``readinto1``: at most one
``recv`` per call, so a slow link still reports progress and honours cancel). No per-chunk
``bytes`` objects are made. Anything else (gzip, chunked) goes through urllib3's decoding
reader, and its ``Content-Length`` is not trusted as the file size.

How big the pieces are was measured on the benchmark machine (benchmarks/README.md): a
thread that reads *and* writes should write what it just read in 256 KiB steps (1 MiB writes
cost twice the kernel time: the piece has left the CPU cache); a reader that hands its
pieces (up to 1 MiB, whatever one ``recv`` brings) to a writer/hasher thread pays no such
penalty (:mod:`._hashing`).
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

from gen_nb.errors import InsufficientSpaceError, TransferError

__all__ = ["READ_STEP", "BodyReader", "ReadInterrupted", "fill", "write_at"]

FILL_SECONDS = 0.1
READ_STEP = 256 << 10
READ_ERRORS: tuple[type[BaseException], ...] = (
    OSError, http.client.HTTPException, urllib3.exceptions.HTTPError,
    requests.RequestException,
)
_DISK_FULL = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
_pwrite = os.pwrite  # module-level so tests can inject disk errors


class ReadInterrupted(Exception):
    """The body stopped early: dropped, stalled past the read timeout, or truncated."""


class BodyReader:
    """``readinto(buffer) -> n`` over a streamed ``requests`` response (0 = end of body)."""

    def __init__(self, response: requests.Response) -> None:
        raw = response.raw
        fp = getattr(raw, "_fp", None)  # http.client.HTTPResponse under urllib3
        buffered = getattr(fp, "fp", None)
        encoding = (response.headers.get("Content-Encoding") or "identity").strip().lower()
        self.fast = (encoding in ("", "identity") and fp is not None and buffered is not None
                     and not getattr(fp, "chunked", False) and hasattr(buffered, "readinto1"))
        self._raw = raw
        self._readinto1 = getattr(buffered, "readinto1", None) if self.fast else None
        self.remaining: int | None = getattr(fp, "length", None) if self.fast else None
        self._error: ReadInterrupted | None = None

    def readinto(self, view: memoryview) -> int:
        """Read some bytes (at most one network read). Raises :class:`ReadInterrupted`."""
        if self._error is not None:
            error, self._error = self._error, None
            raise error
        try:
            return self._read_fast(view) if self._readinto1 else self._read_slow(view)
        except READ_ERRORS as exc:
            raise ReadInterrupted(_describe(exc)) from exc

    def _read_fast(self, view: memoryview) -> int:
        left = self.remaining
        if left is not None:
            if left == 0:
                return 0
            if len(view) > left:
                view = view[:left]
        assert self._readinto1 is not None
        n: int = self._readinto1(view)
        if left is not None:
            if n == 0:
                raise ReadInterrupted(f"the connection closed {left} bytes before the end")
            self.remaining = left - n
        return n

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
