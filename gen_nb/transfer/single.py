"""The single-stream engine: one GET at a time, appended to ``<name>.part``, resumable.

Rules (see :mod:`gen_nb.transfer.plan` for the decisions themselves):

* a kept ``.part`` is continued with ``Range: bytes=N-`` and ``If-Range`` (strong ETag, else
  Last-Modified); its bytes are hashed first (on the hash thread, from disk);
* a dropped, stalled or short body is resumed from what is on disk, with bounded retries and
  exponential backoff; the budget resets whenever bytes arrive;
* a 200 to a Range request, a changed ETag or size, or an odd Content-Range → truncate and
  start over (never splice); a 416 whose size matches what is on disk → already complete;
* within one call a server without validators is still resumed (sizes must agree); across
  calls it is not (nothing would tell a changed file apart);
* the size is verified, and the checksum when the server offers one (or ``expected_sha256``).
"""

from __future__ import annotations

import logging
import os

import requests

from gen_nb.errors import IntegrityError
from gen_nb.transfer._body import BodyReader, ReadInterrupted
from gen_nb.transfer._hashing import HashPipe
from gen_nb.transfer._job import Job, Outcome, check_space, open_part, verify_digests
from gen_nb.transfer._net import (
    Retrier,
    check_cancel,
    get_from,
    usable,
    watch_cancel,
)
from gen_nb.transfer.headers import server_digests
from gen_nb.transfer.plan import Answer, classify_response, plan_resume
from gen_nb.transfer.sidecar import Sidecar

__all__ = ["download_single"]

log = logging.getLogger("gen_nb")
MAX_RESTARTS = 5
PIPE_BUFFERS = 3        # chunk_size (1 MiB) buffers between the reading and the writing thread


def download_single(job: Job, sidecar: Sidecar | None) -> Outcome:
    """Bring ``job.target.part`` to a complete, verified file. See the module docstring."""
    try:
        part_size: int | None = os.path.getsize(job.target.part)
    except OSError:
        part_size = None
    plan = plan_resume(part_size, sidecar.source if sidecar else None, job.url,
                       sidecar.total if sidecar else None, sidecar.validator if sidecar else None)
    if part_size:
        log.info("gen_nb: %s: %s", job.what, plan.reason)
    keep = plan.offset > 0 and sidecar is not None and not sidecar.segments
    stream = _Stream(job, sidecar if keep else None, plan.offset if keep else 0)
    try:
        return stream.run()
    finally:
        stream.close()


class _Stream:
    def __init__(self, job: Job, sidecar: Sidecar | None, offset: int) -> None:
        self.job = job
        self.pipe = HashPipe(job.chunk_size, PIPE_BUFFERS, path=job.target.part)
        self.fd: int | None = None
        if offset:
            self._file(truncate=False)
        self.offset = self.resumed_from = offset   # bytes in the .part (after a flush)
        self.sidecar = sidecar or Sidecar.for_url(job.url)
        self.prefix_pending = offset > 0
        self.retrier = Retrier(job.retries, job.what, job.cancel)
        self.attempts = self.restarts = 0
        job.progress.start(self.sidecar.total, offset)

    def close(self) -> None:
        self.pipe.close()          # finishes pending writes first
        if self.fd is not None:
            os.close(self.fd)

    def _file(self, truncate: bool = True) -> int:
        """The ``.part``'s descriptor, created on the first body (errors leave no file)."""
        if self.fd is None:
            self.fd = self.pipe.fd = open_part(self.job.target, truncate=truncate)
        return self.fd

    def run(self) -> Outcome:
        while True:
            check_cancel(self.job.cancel, self.job.what)
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
        job = self.job
        response = get_from(job.session, job.url, job.timeout, self.retrier, start=self.offset,
                            validator=self.sidecar.validator)
        if response is None:
            return None
        known = self.offset > 0
        answer = classify_response(self.offset, response.status_code, response.headers,
                                   self.sidecar.total if known else None,
                                   self.sidecar.etag if known else None)
        if not usable(answer, response, self.retrier, job.url, job.what):
            return None
        return answer, response

    def _restart(self, reason: str) -> None:
        self.restarts += 1
        if self.restarts > MAX_RESTARTS:
            raise IntegrityError(f"{self.job.what}: the server keeps changing the file or "
                                 f"ignoring ranges ({reason}); giving up. Try again later.")
        log.info("gen_nb: %s: %s", self.job.what, reason)
        self.pipe.flush()
        os.ftruncate(self._file(), 0)
        self.offset = 0
        self.prefix_pending = False
        self.sidecar = Sidecar.for_url(self.job.url)
        self.pipe.reset()
        self.job.progress.update(done=0, rebase=True)

    def _hash_prefix(self) -> None:
        if self.prefix_pending:
            self.pipe.reset(md5="md5" in self.sidecar.digests, offset=self.offset)
            self.pipe.add_prefix(self.job.target.part, self.offset)
            self.prefix_pending = False

    def _adopt(self, response: requests.Response, answer: Answer) -> None:
        """Take the answer's facts into the sidecar (fresh start) or check them (resume)."""
        if answer.offset == 0:
            if self.offset:
                self._restart(answer.reason)
            self._file()
            self.sidecar = Sidecar.for_url(self.job.url, etag=answer.etag,
                                           last_modified=answer.last_modified,
                                           total=answer.total,
                                           digests=server_digests(response.headers, 200))
            self.sidecar.save(self.job.target.sidecar)
            self.pipe.reset(md5="md5" in self.sidecar.digests)
        else:
            if self.sidecar.total is None and answer.total is not None:
                self.sidecar.total = answer.total
                self.sidecar.save(self.job.target.sidecar)
            self._hash_prefix()
        total = self.sidecar.total
        if total is not None:
            check_space(self.job.target.part.parent, total - self.offset, self.job.target.path)
        self.job.progress.update(total=total, done=self.offset)

    def _receive(self, response: requests.Response, answer: Answer) -> bool:
        """Write this answer's body; True when the file is complete."""
        self._adopt(response, answer)
        self.attempts += 1
        before = self.offset
        try:
            with watch_cancel(self.job.cancel, response):
                self._pump(BodyReader(response))
        except ReadInterrupted as exc:
            self._settle(before)
            check_cancel(self.job.cancel, self.job.what)
            self.retrier.pause(str(exc), cause=exc)
            return False
        self._settle(before)
        total = self.sidecar.total
        if total is not None and self.offset < total:
            self.retrier.pause(f"the body ended {total - self.offset} bytes early")
            return False
        return True

    def _settle(self, before: int) -> None:
        """Wait for the writes; reset the retry budget if bytes arrived."""
        self.offset = self.pipe.flush()
        if self.offset > before:
            self.retrier.progressed()

    def _pump(self, reader: BodyReader) -> None:
        """Read pieces and hand them to the pipe (which writes and hashes them)."""
        job, pipe, cancel = self.job, self.pipe, self.job.cancel
        total, received = self.sidecar.total, self.offset
        while True:
            if cancel is not None and cancel.is_set():
                check_cancel(cancel, job.what)
            view = pipe.take()
            if total is not None:   # never read past the announced size
                view = view[:max(0, min(len(view), total - received))]
            try:
                n = reader.readinto(view) if len(view) else 0
            except BaseException:
                pipe.give_back(view)
                raise
            if not n:
                pipe.give_back(view)
                return
            pipe.submit(view, n)
            received += n
            job.progress.advance(n)

    def _finish(self) -> Outcome:
        self.job.progress.update(phase="verifying")
        digests = self.pipe.digests()
        self.offset = self.pipe.flush()
        verify_digests(self.job, digests, self.sidecar.digests)
        return Outcome(size=self.offset, sha256=digests["sha256"],
                       resumed_from=self.resumed_from, attempts=self.attempts,
                       validator=self.sidecar.validator, digests=digests)
