"""Small files: one GET read into a reused buffer, verified, then written once.

A new download (nothing under the final name, no ``.part``, no ``.lock``) starts here with a
plain GET. When the answer is a 200 whose body has a known length of at most
:data:`SMALL_FILE` bytes (and no content coding), the body is read into a pooled buffer and
hashed on the calling thread, and only a complete, verified body touches the disk:

* no sidecar and no ``.part`` while all goes well; a body cut short (dropped, stalled,
  cancelled) after some bytes becomes an ordinary partial download — :class:`Partial`: the
  caller keeps the bytes in a ``.part`` with its sidecar, under the lock, and resumes them
  the usual way (Range + If-Range, the same retry budget), or keeps them for a later call;
* no lock file: the bytes go to a temp file of this download's own (``<name>.<random>.tmp``,
  created exclusively, never through a link; ``fsync``\\ed with ``fsync=True``), moved into
  place by :func:`gen_nb.transfer.task.move_into_place` — a hard link that never replaces a
  file that appeared meanwhile (an identical one is accepted, a different one raises
  DestinationExistsError) or ``os.replace`` with ``overwrite=True``;
* the manifest line and the folder's fsync as for every download.

Any other answer — larger, of unknown size, chunked or encoded, a 206 — is handed back with
its response unread, for the single-stream engine to continue under the lock
(:func:`gen_nb.transfer.downloader.download_to`). A download in progress elsewhere (its
``.part`` or ``.lock`` exists) or a file already there always takes the locked way.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import requests

from gen_nb.api import connection
from gen_nb.api.errors import DownloadCancelled
from gen_nb.transfer import pools
from gen_nb.transfer.body import BodyReader, ReadInterrupted, write_at
from gen_nb.transfer.files import remove_quietly, temp_beside, write_new
from gen_nb.transfer.hashing import digests_of
from gen_nb.transfer.headers import server_digests
from gen_nb.transfer.plan import Answer, Target, classify_response
from gen_nb.transfer.remote import TransferRetry, check_cancel, get_from, usable, watch_cancel
from gen_nb.transfer.sidecar import Sidecar
from gen_nb.transfer.task import (
    DownloadTask,
    Outcome,
    move_into_place,
    open_part,
    record,
    verify_digests,
)

__all__ = ["SMALL_FILE", "Partial", "Pending", "fetch", "keep", "nothing_there", "save"]

SMALL_FILE = 1 << 20


@dataclass
class Pending:
    """An answer too large (or too odd) for memory: the response is open, its body unread."""

    answer: Answer
    response: requests.Response
    retrier: TransferRetry


@dataclass
class Partial:
    """A small body cut short after ``got`` bytes (``error``: why; ``cancelled``: by the
    cancel Event). :func:`keep` writes them to the ``.part``; :meth:`release` frees the
    buffer."""

    buffer: memoryview
    got: int
    answer: Answer
    digests: dict[str, str]
    retrier: TransferRetry
    error: BaseException
    cancelled: bool
    attempts: int

    def release(self) -> None:
        pools.BUFFERS.give(self.buffer)


@dataclass
class _Body:
    buffer: memoryview
    size: int
    answer: Answer
    attempts: int
    digests: dict[str, str] = field(default_factory=dict)


def absent(paths: Sequence[Path]) -> list[bool]:
    """For each path, whether neither it nor its ``.part`` or ``.lock`` is there now — what
    :func:`nothing_there` checks with three ``lstat`` calls, from one listing per folder. A
    path asked for again counts as there (its first job makes it); a folder that cannot be
    listed counts as unknown (False)."""
    listings: dict[Path, set[str] | None] = {}
    seen: set[Path] = set()
    out = []
    for path in paths:
        if path.parent not in listings:
            try:
                with os.scandir(path.parent) as entries:
                    listings[path.parent] = {entry.name for entry in entries}
            except OSError:
                listings[path.parent] = None
        names, name = listings[path.parent], path.name
        out.append(names is not None and path not in seen and name not in names
                   and f"{name}.part" not in names and f"{name}.lock" not in names)
        seen.add(path)
    return out


def nothing_there(target: Target) -> bool:
    """No file under the final name, no ``.part`` and no ``.lock`` (links included)."""
    final = os.fspath(target.path)
    for name in (final, final + ".part", final + ".lock"):   # target.part, target.lock
        try:
            os.lstat(name)
        except FileNotFoundError:
            continue
        except OSError:            # cannot tell (e.g. a file where a folder should be)
            return False
        return False
    return True


def fetch(task: DownloadTask) -> Outcome | Pending | Partial:
    """GET the URL; a small body is saved (its Outcome); a larger (or odd) answer is
    :class:`Pending`, a small body cut short :class:`Partial`."""
    retrier = TransferRetry(task.options, task.what, cancel=task.cancel, deadline=task.deadline)
    attempts = 0
    while True:
        check_cancel(task.cancel, task.what)
        response = get_from(task.session, task.url, task.options, retrier)
        if response is None:
            continue
        answer = classify_response(0, response.status_code, response.headers)
        if not usable(answer, response, retrier, task.url, task.what):
            continue
        fast = _fits(answer, response)
        if fast is None:
            task.progress.start(None, 0)
            return Pending(answer, response, retrier)
        attempts += 1
        body = _read(task, response, fast, answer, retrier, attempts)
        if isinstance(body, Partial):
            return body
        if body is not None:
            return save(task, body)


def _fits(answer: Answer, response: requests.Response) -> connection.FastBody | None:
    """The body's fast reader when the body is small enough for memory, else None."""
    if answer.kind != "body" or response.status_code != 200 or answer.total is None or \
            answer.total > SMALL_FILE:
        return None
    fast = connection.fast_body(response)
    return fast if fast is not None and fast.remaining == answer.total else None


def _read(task: DownloadTask, response: requests.Response, fast: connection.FastBody,
          answer: Answer, retrier: TransferRetry, attempts: int) -> _Body | Partial | None:
    """The whole body in a pooled buffer; a Partial when it was cut short after some bytes;
    None after pausing for a retry when it broke before its first byte."""
    total = answer.total or 0       # (no disk-space check: a full disk fails the one write)
    task.start_clock(total)
    task.progress.start(total, 0)
    buffer, got = pools.BUFFERS.take(SMALL_FILE), [0]
    digests = server_digests(response.headers, 200)
    try:
        with response, watch_cancel(task.cancel, response):
            _fill(task, response, fast, buffer[:total], got)
    except (ReadInterrupted, DownloadCancelled) as exc:
        cancelled = isinstance(exc, DownloadCancelled) or bool(task.cancel and
                                                               task.cancel.is_set())
        if got[0]:
            return Partial(buffer, got[0], answer, digests, retrier, exc, cancelled, attempts)
        pools.BUFFERS.give(buffer)
        check_cancel(task.cancel, task.what)
        retrier.pause(str(exc), cause=exc)
        return None
    except BaseException:
        pools.BUFFERS.give(buffer)
        raise
    return _Body(buffer, total, answer, attempts, digests)


def _fill(task: DownloadTask, response: requests.Response, fast: connection.FastBody,
          view: memoryview, got: list[int]) -> None:
    """Read the whole body into ``view``; ``got[0]`` counts the bytes as they come."""
    options = task.options
    reader = BodyReader(response, deadline=task.deadline, read_timeout=options.timeout[1],
                        stall_window=options.stall_window, stall_bytes=options.stall_bytes,
                        fast=fast)
    total = len(view)
    while got[0] < total:
        check_cancel(task.cancel, task.what)
        n = reader.readinto(view[got[0]:])
        if not n:
            raise ReadInterrupted(f"the body ended {total - got[0]} bytes early")
        got[0] += n
        task.progress.advance(n)
    reader.release()


def keep(task: DownloadTask, partial: Partial) -> Sidecar:
    """(Under the destination lock.) The cut body's bytes as the ``.part``, with the sidecar
    that makes them resumable, as the single-stream engine would have left them."""
    answer = partial.answer
    sidecar = Sidecar.for_url(task.url, etag=answer.etag, last_modified=answer.last_modified,
                              total=answer.total, digests=partial.digests)
    sidecar.save(task.target.sidecar)
    fd = open_part(task.target, truncate=True)
    try:
        write_at(fd, partial.buffer[:partial.got], 0, task.target.part)
    finally:
        os.close(fd)
    return sidecar


def save(task: DownloadTask, body: _Body) -> Outcome:
    """Verify the body, write it to a temp file of its own and move that into place."""
    try:
        view = body.buffer[:body.size]
        got = digests_of(view, "md5" in body.digests)
        verify_digests(task, got, body.digests, discard=False)
        tmp = temp_beside(task.target.path)
        write_new(tmp, view, fsync=task.options.fsync)
    finally:
        pools.BUFFERS.give(body.buffer)
    try:
        moved = move_into_place(task, tmp, body.size, got["sha256"], locked=False)
    except BaseException:
        remove_quietly(tmp)
        raise
    if not moved:                  # the same bytes got there first
        remove_quietly(tmp)
    answer = body.answer
    record(task, body.size, got["sha256"], answer.etag, answer.last_modified)
    return Outcome(size=body.size, sha256=got["sha256"], resumed_from=0,
                   attempts=body.attempts, validator=None, etag=answer.etag,
                   last_modified=answer.last_modified, digests=got)
