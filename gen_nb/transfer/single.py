"""The single-stream engine: one GET at a time, appended to ``<name>.part``, resumable.

Rules (see :mod:`gen_nb.transfer.plan` for the decisions themselves):

* a kept ``.part`` is continued with ``Range: bytes=N-`` and ``If-Range`` (strong ETag, else
  Last-Modified); its bytes are hashed first (on the hash thread, from disk);
* a dropped, stalled or short body is resumed from what is on disk, with bounded retries and
  exponential backoff; the budget resets only after a real amount of data arrived, and the
  transfer's total deadline (size / minimum rate + a floor) is never extended;
* a 200 to a Range request, changed validators or size, or an odd Content-Range → truncate and
  start over (never splice); a 416 whose size matches what is on disk → already complete;
* within one call a server without validators is still resumed (sizes must agree); across
  calls it is not (nothing would tell a changed file apart);
* a body without a known length is capped (``max_unknown_size``); the size is verified when
  known, and the checksum when the server offers one (or ``expected_sha256``).
"""

from __future__ import annotations

import logging
import os

import requests

from gen_nb.api.errors import IntegrityError, TransferError
from gen_nb.transfer.body import BodyReader, ReadInterrupted
from gen_nb.transfer.hashing import HashPipe
from gen_nb.transfer.headers import server_digests
from gen_nb.transfer.plan import Answer, classify_response, plan_resume
from gen_nb.transfer.remote import TransferRetry, check_cancel, get_from, usable, watch_cancel
from gen_nb.transfer.sidecar import Sidecar
from gen_nb.transfer.small import Pending
from gen_nb.transfer.task import DownloadTask, Outcome, check_space, open_part, verify_digests

__all__ = ["download_single"]

log = logging.getLogger("gen_nb")
MAX_RESTARTS = 5
PIPE_BUFFERS = 3        # chunk_size (1 MiB) buffers between the reading and the writing thread
FILL = 256 << 10        # bytes read into a buffer before it is handed to the writer


def download_single(task: DownloadTask, sidecar: Sidecar | None,
                    first: Pending | None = None,
                    retrier: TransferRetry | None = None, attempts: int = 0) -> Outcome:
    """Bring ``task.target.part`` to a complete, verified file. See the module docstring.

    ``first``: the answer to a plain GET already sent (:func:`gen_nb.transfer.small.fetch`),
    used before asking again; only for a new download (no ``.part``). ``retrier``, ``attempts``:
    the retry budget to go on with and the bodies read so far (a small download handed over
    after its body broke).
    """
    try:
        part_size: int | None = os.path.getsize(task.target.part)
    except OSError:
        part_size = None
    plan = plan_resume(part_size, sidecar.source if sidecar else None, task.url,
                       sidecar.total if sidecar else None, sidecar.validator if sidecar else None)
    if part_size:
        log.info("gen_nb: %s: %s", task.what, plan.reason)
    keep = plan.offset > 0 and sidecar is not None and not sidecar.segments
    stream = _SingleStream(task, sidecar if keep else None, plan.offset if keep else 0, first,
                           retrier)
    stream.attempts = attempts
    try:
        return stream.run()
    finally:
        stream.close()


class _SingleStream:
    def __init__(self, task: DownloadTask, sidecar: Sidecar | None, offset: int,
                 first: Pending | None = None, retrier: TransferRetry | None = None) -> None:
        self.task = task
        self.first = first if not offset else None
        self.pipe = HashPipe(task.options.chunk_size, PIPE_BUFFERS, path=task.target.part)
        self.fd: int | None = None
        if offset:
            self._file(truncate=False)
        self.offset = self.resumed_from = offset   # bytes in the .part (after a flush)
        self.sidecar = sidecar or Sidecar.for_url(task.url)
        self.prefix_pending = offset > 0
        task.start_clock(self.sidecar.total)
        self.retrier = retrier or (self.first.retrier if self.first else TransferRetry(
            task.options, task.what, cancel=task.cancel, deadline=task.deadline))
        self.attempts = self.restarts = 0
        task.progress.start(self.sidecar.total, offset)

    def close(self) -> None:
        if self.first is not None:         # never used (an error came first)
            self.first.response.close()
        self.pipe.close()          # finishes pending writes first
        if self.fd is not None:
            os.close(self.fd)

    def _file(self, truncate: bool = True) -> int:
        """The ``.part``'s descriptor, created on the first body (errors leave no file)."""
        if self.fd is None:
            self.fd = self.pipe.fd = open_part(self.task.target, truncate=truncate)
        return self.fd

    def run(self) -> Outcome:
        while True:
            check_cancel(self.task.cancel, self.task.what)
            got = self._request()
            if got is None:
                continue
            answer, response = got
            with response:
                if answer.kind == "complete":
                    self._hash_prefix()
                    break
                if answer.kind == "restart":
                    self._restart(answer.reason)
                    continue
                if self._receive(response, answer):
                    break
        return self._finish()

    def _request(self) -> tuple[Answer, requests.Response] | None:
        if self.first is not None:
            first, self.first = self.first, None
            return first.answer, first.response
        task, known = self.task, self.offset > 0
        response = get_from(task.session, task.url, task.options, self.retrier,
                            start=self.offset, validator=self.sidecar.validator)
        if response is None:
            return None
        answer = classify_response(self.offset, response.status_code, response.headers,
                                   self.sidecar.total if known else None,
                                   self.sidecar.etag if known else None,
                                   known_last_modified=self.sidecar.last_modified if known
                                   else None)
        if not usable(answer, response, self.retrier, task.url, task.what):
            return None
        return answer, response

    def _restart(self, reason: str) -> None:
        self.restarts += 1
        if self.restarts > MAX_RESTARTS:
            raise IntegrityError(f"{self.task.what}: the server keeps changing the file or "
                                 f"ignoring ranges ({reason}); giving up. Try again later.")
        log.info("gen_nb: %s: %s", self.task.what, reason)
        self.pipe.flush()
        os.ftruncate(self._file(), 0)
        self.offset = 0
        self.prefix_pending = False
        self.sidecar = Sidecar.for_url(self.task.url)
        self.pipe.reset()
        self.task.progress.update(done=0, rebase=True)

    def _hash_prefix(self) -> None:
        if self.prefix_pending:
            self.pipe.reset(md5="md5" in self.sidecar.digests, offset=self.offset)
            self.pipe.add_prefix(self.task.target.part, self.offset)
            self.prefix_pending = False

    def _adopt(self, response: requests.Response, answer: Answer) -> None:
        """Take the answer's facts into the sidecar (fresh start) or check them (resume)."""
        task = self.task
        if answer.offset == 0:
            if self.offset:
                self._restart(answer.reason)
            self._file()
            self.sidecar = Sidecar.for_url(task.url, etag=answer.etag,
                                           last_modified=answer.last_modified,
                                           total=answer.total,
                                           digests=server_digests(response.headers, 200))
            self.sidecar.save(task.target.sidecar)
            self.pipe.reset(md5="md5" in self.sidecar.digests)
        else:
            if self.sidecar.total is None and answer.total is not None:
                self.sidecar.total = answer.total
                self.sidecar.save(task.target.sidecar)
            self._hash_prefix()
        total = self.sidecar.total
        if total is not None:
            check_space(task.target.part.parent, total - self.offset, task.target.path)
            task.start_clock(total)
        task.progress.update(total=total, done=self.offset)

    def _receive(self, response: requests.Response, answer: Answer) -> bool:
        """Write this answer's body; True when the file is complete."""
        self._adopt(response, answer)
        self.attempts += 1
        before = self.offset
        options = self.task.options
        reader = BodyReader(response, deadline=self.task.deadline,
                            read_timeout=options.timeout[1], stall_window=options.stall_window,
                            stall_bytes=options.stall_bytes)
        try:
            with watch_cancel(self.task.cancel, response):
                self._pump(reader)
        except ReadInterrupted as exc:
            self._settle(before)
            check_cancel(self.task.cancel, self.task.what)
            self.retrier.pause(str(exc), cause=exc)
            return False
        self._settle(before)
        total = self.sidecar.total
        if total is not None and self.offset < total:
            self.retrier.pause(f"the body ended {total - self.offset} bytes early")
            return False
        reader.release()
        return True

    def _settle(self, before: int) -> None:
        """Wait for the writes; count the bytes that arrived towards the retry budget."""
        self.offset = self.pipe.flush()
        self.retrier.progressed(max(0, self.offset - before))

    def _pump(self, reader: BodyReader) -> None:
        """Read pieces and hand them to the pipe (which writes and hashes them)."""
        task, pipe, cancel = self.task, self.pipe, self.task.cancel
        total, received = self.sidecar.total, self.offset
        cap = task.options.max_unknown_size
        while True:
            if cancel is not None and cancel.is_set():
                check_cancel(cancel, task.what)
            view = pipe.take()
            if total is not None:   # never read past the announced size
                view = view[:max(0, min(len(view), total - received))]
            filled, n = 0, 1
            try:   # fill FILL bytes (or the buffer) before handing over: fewer handoffs
                while n and filled < min(len(view), FILL):
                    if filled and cancel is not None and cancel.is_set():
                        break         # handed over below; the loop's check raises
                    n = reader.readinto(view[filled:])
                    filled += n
                    task.progress.advance(n)
            finally:   # what arrived is kept, also when a read failed (a resume starts there)
                if filled:
                    pipe.submit(view, filled)
                else:
                    pipe.give_back(view)
            received += filled
            if not n or not len(view):
                return
            if total is None and received > cap:
                raise self._too_long(cap)

    def _too_long(self, cap: int) -> TransferError:
        self.pipe.flush()
        os.ftruncate(self._file(), 0)
        return TransferError(
            f"{self.task.what}: the server did not say how large the file is, and it sent more "
            f"than the limit for such bodies ({cap:,} bytes); stopped and deleted what came. "
            "If the file really is that large, raise max_unknown_size= "
            "(GEN_NB_MAX_UNKNOWN_SIZE).")

    def _finish(self) -> Outcome:
        self.task.progress.update(phase="verifying")
        digests = self.pipe.digests()
        self.offset = self.pipe.flush()
        verify_digests(self.task, digests, self.sidecar.digests)
        return Outcome(size=self.offset, sha256=digests["sha256"],
                       resumed_from=self.resumed_from, attempts=self.attempts,
                       validator=self.sidecar.validator, etag=self.sidecar.etag,
                       last_modified=self.sidecar.last_modified,
                       size_known=self.sidecar.total is not None, digests=digests)
