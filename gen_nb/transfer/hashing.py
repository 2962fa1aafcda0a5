"""Hashing (and writing) off the reading thread.

:class:`HashPipe` — the single-stream download and ``stream_to``: the reading thread fills
buffers from the socket and hands them over; one helper thread writes each at the next offset
(downloads), a second feeds ``hashlib`` (which releases the GIL), so reading, writing and
hashing overlap: hashing (~0.7 CPU-s/GiB) no longer waits behind the page-cache copy of the
write (benchmarks/README.md). Work is done strictly in submission order on each helper. Its
buffers and helpers come from :mod:`gen_nb.transfer.pools` and go back there on
:meth:`HashPipe.close`.

:class:`PrefixHasher` — segmented downloads: hashes the file's complete prefix as it grows.

:func:`hash_file` — a plain streaming pass over a file (checking a file already there);
:func:`digests_of` — the same digests of bytes already in memory (a small file's body).
"""

from __future__ import annotations

import hashlib
import os
import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gen_nb.api.errors import TransferError
from gen_nb.transfer import pools
from gen_nb.transfer.body import write_at

__all__ = ["HashPipe", "PrefixHasher", "digests_of", "hash_file", "read_at"]


_fadvise = getattr(os, "posix_fadvise", None)  # Linux; elsewhere the OS writes back alone


class _Digests:
    """sha256, plus md5 when a server offers one to check against."""

    def __init__(self, md5: bool = False) -> None:
        self.sha = hashlib.sha256()
        self.md5: Any = hashlib.md5(usedforsecurity=False) if md5 else None

    def update(self, view: memoryview) -> None:
        self.sha.update(view)
        if self.md5 is not None:
            self.md5.update(view)

    def hexdigests(self) -> dict[str, str]:
        out = {"sha256": self.sha.hexdigest()}
        if self.md5 is not None:
            out["md5"] = self.md5.hexdigest()
        return out

    def update_from_file(self, fd: int, start: int, end: int, view: memoryview) -> int:
        """Hash bytes ``start … end-1`` of an open file; returns where it stopped."""
        at = start
        while at < end:
            n = read_at(fd, view[:min(len(view), end - at)], at)
            if not n:
                break
            self.update(view[:n])
            at += n
        return at


def read_at(fd: int, view: memoryview, offset: int) -> int:
    """Read into ``view`` from ``offset``: ``os.preadv`` where it exists (not on Windows)."""
    preadv = getattr(os, "preadv", None)
    if preadv is not None:
        return int(preadv(fd, [view], offset))
    with _read_lock:
        os.lseek(fd, offset, os.SEEK_SET)
        data = os.read(fd, len(view))
    view[:len(data)] = data
    return len(data)


_read_lock = threading.Lock()


class HashPipe:
    """Hash (and, with ``fd``, write) a byte stream on a helper thread.

    Buffers circulate: :meth:`take` a free one, fill it, :meth:`submit` it; it comes back once
    written and hashed. :meth:`reset` starts a new stream at a file offset (after a restart
    or before a resume), :meth:`add_prefix` hashes bytes already in the file first,
    :meth:`flush` waits for everything submitted and returns the write offset. An error on
    the helper (a full disk) stops further writes and is raised, as it was, by the next
    :meth:`take` / :meth:`flush`.
    """

    WRITEBACK_EVERY = 32 << 20
    WRITEBACK_SLOW = (1 << 20, 0.25)     # a slow stream: at least 1 MiB and 0.25 s since

    def __init__(self, buffer_size: int, buffers: int = 3, *, fd: int | None = None,
                 path: Path | None = None) -> None:
        self.fd, self.path = fd, path
        self._written_back = self._window_start = 0
        self._written_back_at = time.monotonic()
        self._buffers = [pools.BUFFERS.take(buffer_size) for _ in range(buffers)]
        self._free: queue.SimpleQueue[memoryview] = queue.SimpleQueue()
        for buffer in self._buffers:
            self._free.put(buffer)
        self._work: queue.SimpleQueue[tuple[Any, ...] | None] = queue.SimpleQueue()
        self._hash_work: queue.SimpleQueue[tuple[Any, ...] | None] = queue.SimpleQueue()
        self._error: BaseException | None = None
        self._digests = _Digests()
        self._offset = 0
        self._closed = False
        self._hashed = pools.HELPERS.start(self._run_hasher)
        self._done = pools.HELPERS.start(self._run)

    def take(self) -> memoryview:
        while True:
            self._raise_error()
            try:
                return self._free.get(timeout=0.5)
            except queue.Empty:
                continue

    def give_back(self, buffer: memoryview) -> None:
        self._free.put(buffer)

    def submit(self, buffer: memoryview, n: int) -> None:
        self._work.put(("data", buffer, n))

    def reset(self, md5: bool = False, offset: int = 0) -> None:
        self._work.put(("reset", md5, offset))

    def add_prefix(self, path: Path, size: int) -> None:
        self._work.put(("file", path, size))

    def flush(self) -> int:
        """Wait until all submitted work is done; the offset the next write goes to."""
        return int(self._sync()["offset"])

    def digests(self) -> dict[str, str]:
        """Hex digests of everything submitted so far (waits for the helper)."""
        box = self._sync()
        return {k: v for k, v in box.items() if k != "offset"}

    def close(self) -> None:
        """Finish pending work (writes included), then release the helper and the buffers."""
        if self._closed:
            return
        self._closed = True
        self._work.put(None)
        if self._done.wait(timeout=60) and self._hashed.wait(timeout=60):
            # (else a write is stuck: its buffers stay with it)
            for buffer in self._buffers:
                pools.BUFFERS.give(buffer)
        self._buffers = []

    def _sync(self) -> dict[str, Any]:
        box: dict[str, Any] = {}
        done = threading.Event()
        self._work.put(("flush", box, done))
        while not done.wait(0.5):
            if self._done.is_set() or self._hashed.is_set():
                break
        self._raise_error()
        return box

    def _raise_error(self) -> None:
        error = self._error
        if error is None:
            return
        if isinstance(error, TransferError):
            raise error
        raise TransferError(f"Writing or hashing failed: {error}") from error

    def _hash_file(self, path: Path, size: int) -> None:
        view = pools.BUFFERS.take(1 << 20)
        fd = os.open(path, os.O_RDONLY)
        try:
            if self._digests.update_from_file(fd, 0, size, view) < size:
                raise TransferError(f"{path} is shorter than {size} bytes")
        finally:
            os.close(fd)
            pools.BUFFERS.give(view)

    def _run(self) -> None:
        """The writer: writes data at its offset, then passes every item on to the hasher
        (which gives the buffer back and answers flushes), in the order submitted."""
        try:
            while (item := self._work.get()) is not None:
                try:
                    if self._error is None or item[0] in ("flush", "reset"):
                        item = self._write(item)
                except BaseException as exc:  # reported to the caller by take()/flush()
                    self._error = exc
                finally:
                    self._hash_work.put(item)
        finally:
            self._hash_work.put(None)

    def _run_hasher(self) -> None:
        while (item := self._hash_work.get()) is not None:
            try:
                if self._error is None or item[0] in ("flush", "reset"):
                    self._hash(item)
            except BaseException as exc:
                self._error = exc
            finally:
                if item[0] == "data":
                    self._free.put(item[1])
                elif item[0] == "flush":
                    item[2].set()

    def _start_writeback(self) -> None:
        """Start writing the pages just written to disk, without waiting (Linux: fadvise
        DONTNEED begins asynchronous writeback of dirty pages and drops clean ones), so the
        final fsync has little left to flush and the page cache does not fill up."""
        if self.fd is not None and _fadvise is not None:
            start = self._window_start           # also drop the window before (written now)
            _fadvise(self.fd, start, self._offset - start, os.POSIX_FADV_DONTNEED)
        self._window_start, self._written_back = self._written_back, self._offset
        self._written_back_at = time.monotonic()

    def _writeback_due(self) -> bool:
        """Every WRITEBACK_EVERY bytes; on a slow stream (a capped CDN) also every
        WRITEBACK_SLOW, so that the final fsync finds at most a quarter second of data."""
        pending = self._offset - self._written_back
        if pending >= self.WRITEBACK_EVERY:
            return True
        least, seconds = self.WRITEBACK_SLOW
        return pending >= least and time.monotonic() - self._written_back_at >= seconds

    def _write(self, item: tuple[Any, ...]) -> tuple[Any, ...]:
        """The writer's part of an item (the offset is the writer's); returns what the hasher
        gets: a flush carries the offset reached."""
        kind = item[0]
        if kind == "data":
            if self.fd is not None:
                write_at(self.fd, item[1][:item[2]], self._offset, self.path or Path("?"))
            self._offset += item[2]
            if self.fd is not None and self._writeback_due():
                self._start_writeback()
        elif kind == "reset":
            self._offset = item[2]
            self._written_back = self._window_start = item[2]
        elif kind == "flush":
            item[1]["offset"] = self._offset
        return item

    def _hash(self, item: tuple[Any, ...]) -> None:
        """The hasher's part of an item (the digests are the hasher's)."""
        kind = item[0]
        if kind == "data":
            self._digests.update(item[1][:item[2]])
        elif kind == "reset":
            self._digests = _Digests(item[1])
        elif kind == "file":
            self._hash_file(item[1], item[2])
        elif kind == "flush":
            item[1].update(self._digests.hexdigests())


class PrefixHasher:
    """Hashes a file as its contiguous written prefix grows (segmented downloads).

    A helper thread polls ``frontier()`` (how many leading bytes are complete), reads them
    back from the page cache and hashes them, so that when the last range lands only the
    last few pieces remain to be hashed. With ``sync_fd`` it also ``fdatasync``s every
    ``SYNC_EVERY`` bytes, spreading the final flush over the download.
    """

    SYNC_EVERY = 256 << 20

    def __init__(self, path: Path, frontier: Callable[[], int], *, md5: bool = False,
                 buffer_size: int = 1 << 20, sync_fd: int | None = None) -> None:
        self.path, self.frontier, self.sync_fd = path, frontier, sync_fd
        self.hashed = 0
        self._digests = _Digests(md5)
        self._view = memoryview(bytearray(buffer_size))
        self._final: int | None = None
        self._stopped = False
        self._wake = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="gen_nb-prefix-hash", daemon=True)
        self._thread.start()

    def finish(self, total: int) -> dict[str, str]:
        """Hash up to ``total`` (all of it must be written) and return the digests."""
        self._final = total
        self._wake.set()
        self._thread.join()
        if self._error is not None:
            raise TransferError(f"Hashing {self.path} failed: {self._error}") from self._error
        return self._digests.hexdigests()

    def stop(self) -> None:
        self._stopped = True
        self._wake.set()
        self._thread.join()

    def _run(self) -> None:
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except OSError as exc:
            self._error = exc
            return
        try:
            self._loop(fd)
        except BaseException as exc:  # reported by finish()
            self._error = exc
        finally:
            os.close(fd)

    def _loop(self, fd: int) -> None:
        synced = 0
        while not self._stopped:
            final = self._final
            target = final if final is not None else self.frontier()
            if self.hashed < target:
                step = min(target, self.hashed + (8 << 20))
                reached = self._digests.update_from_file(fd, self.hashed, step, self._view)
                if reached < step:
                    raise TransferError(f"{self.path} ended at {reached} bytes")
                self.hashed = reached
                if self.sync_fd is not None and self.hashed - synced >= self.SYNC_EVERY:
                    getattr(os, "fdatasync", os.fsync)(self.sync_fd)
                    synced = self.hashed
            elif final is not None:
                return
            else:
                self._wake.wait(0.02)
                self._wake.clear()


def digests_of(data: memoryview | bytes, md5: bool = False) -> dict[str, str]:
    """Hex digests of bytes in memory (sha256, and md5 when asked), as :class:`HashPipe` and
    :func:`hash_file` report them."""
    digests = _Digests(md5)
    digests.update(memoryview(data))
    return digests.hexdigests()


def hash_file(path: Path, size: int | None = None, md5: bool = False,
              buffer_size: int = 1 << 20) -> dict[str, str]:
    """Digests of a file's first ``size`` bytes (all of it by default), streaming."""
    digests = _Digests(md5)
    fd = os.open(path, os.O_RDONLY)
    try:
        end = os.fstat(fd).st_size if size is None else size
        digests.update_from_file(fd, 0, end, memoryview(bytearray(buffer_size)))
    finally:
        os.close(fd)
    return digests.hexdigests()
