"""The segmented engine: N parallel Range requests into one preallocated ``.part``.

A probe (``GET Range: bytes=0-0``) learns the size, the validator and whether ranges work.
Without a 206 or without a size there is nothing to split: the caller falls back to a single
stream and the reason is logged. Otherwise the file is preallocated (``posix_fallocate``) and
cut into pieces (about four per connection, at most 32 MiB); the sidecar records
``[start, end, done]`` per piece, and N threads take the pieces in order, each GET with
``If-Range``, writing with ``os.pwrite`` at its offset. Every piece resumes on its own (within
the call after a dropped connection, and in a later process from the sidecar, which is saved
at most twice a second and never claims bytes that are not written). A 200 to any piece means
the server ignored Range or the file changed: the segmented attempt is abandoned and the
caller starts over with a single stream. Because pieces are taken in order, the complete
prefix of the file grows steadily and a helper thread hashes it as it grows (reading it back
from the page cache), so little is left to hash at the end; size and any server checksum are
verified.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait

import requests

from gen_nb.api.errors import DownloadCancelled
from gen_nb.transfer.body import BodyReader, ReadInterrupted, fill, write_at
from gen_nb.transfer.hashing import PrefixHasher
from gen_nb.transfer.plan import classify_response, piece_ranges, plan_resume
from gen_nb.transfer.remote import TransferRetry, get_from, probe, usable, watch_cancel
from gen_nb.transfer.sidecar import Sidecar
from gen_nb.transfer.task import (
    DownloadTask,
    Outcome,
    check_space,
    open_part,
    preallocate,
    verify_digests,
)

__all__ = ["MIN_SEGMENT", "SegmentsUnavailable", "download_segmented"]

log = logging.getLogger("gen_nb")
MIN_SEGMENT = 1 << 20
SAVE_EVERY = 0.5


class SegmentsUnavailable(Exception):
    """Segmenting is not possible (or stopped making sense); use a single stream instead."""


def download_segmented(task: DownloadTask, sidecar: Sidecar | None, count: int) -> Outcome:
    """Download with up to ``count`` ranges. Raises :class:`SegmentsUnavailable` to fall back."""
    resumable = sidecar is not None and bool(sidecar.segments) and _part_size(task) == \
        sidecar.total and plan_resume(1, sidecar.source, task.url, sidecar.total,
                                      sidecar.validator).offset > 0
    if resumable and sidecar is not None:
        log.info("gen_nb: %s: resuming %d ranges (%d bytes on disk)", task.what,
                 len(sidecar.segments or ()), sidecar.segments_done)
        fd = open_part(task.target, truncate=False)
    else:
        sidecar, fd = _fresh(task, sidecar, count)
    run = _Run(task, sidecar, fd, count)
    try:
        return run.run()
    finally:
        os.close(fd)


def _part_size(task: DownloadTask) -> int | None:
    try:
        return os.path.getsize(task.target.part)
    except OSError:
        return None


def _fresh(task: DownloadTask, old: Sidecar | None, count: int) -> tuple[Sidecar, int]:
    remote = probe(task.session, task.url, task.options, cancel=task.cancel, what=task.what)
    if not remote.ranges:
        raise SegmentsUnavailable("the server ignores Range requests")
    if remote.total is None:
        raise SegmentsUnavailable("the server does not say how large the file is")
    if remote.total < 2 * MIN_SEGMENT:
        raise SegmentsUnavailable(f"the file is small ({remote.total} bytes)")
    sidecar = Sidecar.for_url(task.url, etag=remote.etag, last_modified=remote.last_modified,
                              total=remote.total, digests=dict(remote.digests))
    keep = 0
    if old is not None and not old.segments and old.validator == sidecar.validator:
        keep = plan_resume(_part_size(task), old.source, task.url, old.total, old.validator).offset
    ranges = piece_ranges(keep, remote.total, count, MIN_SEGMENT)
    sidecar.segments = ([[0, keep, keep]] if keep else []) + [[a, b, 0] for a, b in ranges]
    fd = open_part(task.target, truncate=keep == 0)
    try:
        check_space(task.target.part.parent, remote.total - keep, task.target.path)
        preallocate(fd, remote.total, task.target.path)
        sidecar.save(task.target.sidecar)
    except BaseException:
        os.close(fd)
        raise
    return sidecar, fd


class _Run:
    def __init__(self, task: DownloadTask, sidecar: Sidecar, fd: int, count: int) -> None:
        self.task, self.sidecar, self.fd = task, sidecar, fd
        task.start_clock(sidecar.total)
        self.segments = sidecar.segments or []
        self.workers = max(1, min(count, sum(1 for s in self.segments if s[2] < s[1] - s[0])))
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.saved_at = time.monotonic()
        self.attempts = 0
        self.resumed_from = sidecar.segments_done
        task.progress.start(sidecar.total, self.resumed_from)

    def run(self) -> Outcome:
        todo = [i for i, s in enumerate(self.segments) if s[2] < s[1] - s[0]]
        hasher = PrefixHasher(self.task.target.part, self._frontier,
                              md5="md5" in self.sidecar.digests,
                              buffer_size=self.task.options.chunk_size,
                              sync_fd=self.fd if self.task.options.fsync else None)
        pool = ThreadPoolExecutor(self.workers, thread_name_prefix="gen_nb-segment")
        futures = [pool.submit(self._segment, i) for i in todo]   # taken in order
        try:
            self._watch(futures)
        finally:
            self.stop.set()  # harmless when all pieces are done; stops the rest otherwise
            pool.shutdown(wait=True)
            self._save(force=True)
        try:
            self._raise_first(futures)
        except BaseException:
            hasher.stop()
            raise
        return self._finish(hasher)

    def _frontier(self) -> int:
        """How many leading bytes of the file are complete."""
        at = 0
        for start, end, done in self.segments:
            if start != at:
                break
            at = start + done
            if done < end - start:
                break
        return at

    def _watch(self, futures: list[Future[None]]) -> None:
        pending: set[Future[None]] = set(futures)
        while pending:
            done, pending = wait(pending, timeout=0.1, return_when=FIRST_EXCEPTION)
            if any(f.exception() for f in done):
                self.stop.set()
                return
            if self.task.cancel is not None and self.task.cancel.is_set():
                self.stop.set()

    def _raise_first(self, futures: list[Future[None]]) -> None:
        errors = [e for f in futures if (e := f.exception()) is not None]
        real = [e for e in errors if not isinstance(e, DownloadCancelled)]
        if real:
            raise real[0]
        if errors:
            raise DownloadCancelled(f"Cancelled: {self.task.what}. The partial file and its "
                                    f"ranges are kept; call again to resume.")

    def _save(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.saved_at < SAVE_EVERY:
            return
        with self.lock:
            self.saved_at = now
            self.sidecar.save(self.task.target.sidecar)

    def _segment(self, index: int) -> None:
        seg = self.segments[index]
        retrier = TransferRetry(self.task.options, f"{self.task.what} (range {index + 1})",
                                cancel=self.stop, deadline=self.task.deadline)
        view = memoryview(bytearray(self.task.options.chunk_size))
        while seg[2] < seg[1] - seg[0]:
            self._check_stop()
            response = self._open(seg, retrier)
            if response is None:
                continue
            with response:
                before = seg[2]
                options = self.task.options
                reader = BodyReader(response, deadline=self.task.deadline,
                                    read_timeout=options.timeout[1],
                                    stall_window=options.stall_window,
                                    stall_bytes=options.stall_bytes)
                try:
                    with watch_cancel(self.stop, response):
                        self._pump(reader, seg, view)
                except ReadInterrupted as exc:
                    self._check_stop()
                    retrier.progressed(seg[2] - before)
                    retrier.pause(str(exc), cause=exc)
                    continue
                retrier.progressed(seg[2] - before)
                if seg[2] < seg[1] - seg[0]:
                    retrier.pause("the body ended early")
                else:
                    reader.release()

    def _check_stop(self) -> None:
        cancel = self.task.cancel
        if self.stop.is_set() or (cancel is not None and cancel.is_set()):
            raise DownloadCancelled("stopped")

    def _open(self, seg: list[int], retrier: TransferRetry) -> requests.Response | None:
        at, end = seg[0] + seg[2], seg[1]
        task = self.task
        response = get_from(task.session, task.url, task.options, retrier, start=at, end=end,
                            validator=self.sidecar.validator)
        if response is None:
            return None
        answer = classify_response(at, response.status_code, response.headers,
                                   self.sidecar.total, self.sidecar.etag, end=end,
                                   known_last_modified=self.sidecar.last_modified)
        if not usable(answer, response, retrier, task.url, task.what):
            return None
        if response.status_code != 206 or answer.kind != "body":
            response.close()   # a 200 is the whole (maybe changed) file: never splice it in
            raise SegmentsUnavailable(answer.reason if answer.kind == "restart" else
                                      "the server answered a range with the whole file")
        with self.lock:
            self.attempts += 1
        return response

    def _pump(self, reader: BodyReader, seg: list[int], buffer: memoryview) -> None:
        task, stop, fd, part = self.task, self.stop, self.fd, self.task.target.part
        while True:
            self._check_stop()
            base = seg[0] + seg[2]
            view = buffer[:min(len(buffer), seg[1] - base)]

            def write(piece: memoryview, at: int, base: int = base) -> None:
                write_at(fd, piece, base + at, part)

            n = fill(reader, view, stop, write) if len(view) else 0
            if not n:
                return
            seg[2] += n
            task.progress.advance(n)
            self._save()

    def _finish(self, hasher: PrefixHasher) -> Outcome:
        total = self.sidecar.total or 0
        self.task.progress.update(phase="verifying", message="checking sha256")
        digests = hasher.finish(total)
        verify_digests(self.task, digests, self.sidecar.digests)
        return Outcome(size=total, sha256=digests["sha256"], resumed_from=self.resumed_from,
                       attempts=self.attempts, validator=self.sidecar.validator,
                       etag=self.sidecar.etag, last_modified=self.sidecar.last_modified,
                       segments=self.workers, digests=digests)
