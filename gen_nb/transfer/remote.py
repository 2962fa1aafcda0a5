"""The network side of transfers: the shared key-less session, retries, probes, error answers.

Transfers use one process-wide :func:`shared_session` (made by
:func:`gen_nb.api.transport.public_session`: no API key can ever reach a CDN or a stream
destination; pooled, so files on one host share connections) and pace their resume-aware
retries with the same core as the API client (:class:`gen_nb.api.transport.Retrying`).

GETs go out through :func:`gen_nb.transfer.lean.lean_get` (why: see that module).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

import requests

from gen_nb.api import connection
from gen_nb.api.errors import (
    DownloadCancelled,
    TransferError,
    TransferTimeout,
    error_from_response,
)
from gen_nb.api.settings import TransferOptions
from gen_nb.api.transport import (
    NETWORK_ERRORS,
    POOL_SIZE,
    Deadline,
    Retrying,
    RetryPolicy,
    parse_retry_after,
    public_session,
)
from gen_nb.transfer.headers import header, parse_content_range, server_digests
from gen_nb.transfer.lean import EnvironmentCache, lean_get
from gen_nb.transfer.plan import Answer, classify_response

__all__ = [
    "IDENTITY",
    "Remote",
    "TransferRetry",
    "check_cancel",
    "get_from",
    "probe",
    "raise_for_answer",
    "release_small",
    "shared_session",
    "transfer_deadline",
    "usable",
    "watch_cancel",
]

log = logging.getLogger("gen_nb")

BACKOFF = 0.5           # first pause between attempts, doubled each time (tests lower it)
IDENTITY = {"Accept-Encoding": "identity"}

_session: requests.Session | None = None
_session_lock = threading.Lock()
def shared_session() -> requests.Session:
    """The process-wide key-less session for CDN and storage traffic (pooled, thread-safe use).

    A forked child (e.g. a ProcessPoolExecutor worker) gets its own: pooled sockets must never
    be shared between processes.
    """
    global _session
    with _session_lock:
        if _session is None:
            session = public_session(pool_size=POOL_SIZE)
            session.merge_environment_settings = EnvironmentCache(  # type: ignore[method-assign]
                session.merge_environment_settings)
            _session = session
        return _session


def _after_fork_in_child() -> None:
    global _session, _session_lock
    _session, _session_lock = None, threading.Lock()   # never close: the parent owns them
    _WATCH.reset()


def check_cancel(cancel: threading.Event | None, what: str) -> None:
    if cancel is not None and cancel.is_set():
        raise DownloadCancelled(f"Cancelled: {what}. The partial file is kept; call again "
                                f"to resume.")


def transfer_deadline(options: TransferOptions, size: int | None, what: str) -> Deadline:
    """The total deadline of a transfer of ``size`` bytes (see TransferOptions)."""
    return Deadline(options.deadline_for(size), what, error=TransferTimeout)


class TransferRetry(Retrying):
    """Retrying for transfers: giving up raises a TransferError saying what is kept."""

    def __init__(self, options: TransferOptions, what: str, *,
                 cancel: threading.Event | None = None, deadline: Deadline | None = None,
                 after_giving_up: str = "a partial file is kept for resuming",
                 sleep: Callable[[float], object] | None = None) -> None:
        policy = RetryPolicy(retries=options.retries, backoff=BACKOFF)
        super().__init__(policy, what, cancel=cancel, deadline=deadline,
                         reset_after=max(options.chunk_size, 1 << 20), sleep=sleep)
        self.after_giving_up = after_giving_up

    def pause(self, reason: str, retry_after: float | None = None,  # type: ignore[override]
              cause: BaseException | None = None) -> bool:
        """Wait before the next attempt; raise TransferError when no retry is allowed."""
        if not super().pause(reason, retry_after):
            if retry_after is not None and retry_after > self.policy.retry_after_max:
                raise TransferError(f"{self.what}: the server asks to wait {retry_after:g} s "
                                    f"({reason}); try again later.") from cause
            raise TransferError(f"{self.what} failed after {self.policy.retries} retries: "
                                f"{reason}. Try again later; {self.after_giving_up}.") from cause
        check_cancel(self.cancel, self.what)
        return True


_HINTS = {
    401: "The CDN asks for credentials; gen_nb never sends your GEN key there. Use the "
         "render's own URL (client.render(id).url).",
    403: "The URL may have expired (signed URLs do) or be private: fetch the render again "
         "for a fresh URL.",
    404: "The file is not there: it may have been deleted, or the URL is wrong.",
    410: "The file was deleted.",
}


def raise_for_answer(response: requests.Response, url: str, what: str) -> None:
    """Raise a TransferError for an error status; its ``__cause__`` is the typed APIError.

    (The CLI maps a NotFoundError cause to exit code 4.)
    """
    status = response.status_code
    try:
        body = response.raw.read(2048, decode_content=True) if response.raw else b""
    except Exception:  # the body only decorates the message
        body = b""
    finally:
        response.close()
    api = error_from_response(status, body, dict(response.headers), subject=what,
                              method="GET", url=url)
    hint = _HINTS.get(status) or ("The server had a problem; try again later." if status >= 500
                                  else "Check the URL.")
    code = f", error_code={api.error_code!r}" if api.error_code else ""
    raise TransferError(f"{what} failed: the server answered HTTP {status}{code}. {hint}") \
        from api


@dataclass(frozen=True)
class Remote:
    """What a probe learnt about a file on a server."""

    total: int | None
    etag: str | None
    last_modified: str | None
    ranges: bool
    digests: Mapping[str, str]
    content_type: str | None = None


def _timeouts(options: TransferOptions, deadline: Deadline | None) -> tuple[float, float]:
    connect, read = options.timeout
    return (connect, deadline.read_timeout(read) if deadline is not None else read)


def get_from(session: requests.Session, url: str, options: TransferOptions,
             retrier: TransferRetry, *, start: int = 0, end: int | None = None,
             validator: str | None = None) -> requests.Response | None:
    """Streamed GET of ``url`` from byte ``start`` (to ``end``, exclusive, when given).

    A ranged request carries ``If-Range: validator`` when there is one, so a changed file
    answers 200 instead of a splice. A network error pauses ``retrier`` (raising when its
    budget is spent) and returns None: the caller simply tries again.
    """
    headers = dict(IDENTITY)
    if start or end is not None:
        headers["Range"] = f"bytes={start}-{'' if end is None else end - 1}"
        if validator:
            headers["If-Range"] = validator
    if retrier.deadline is not None:
        retrier.deadline.check()
    try:
        return lean_get(session, url, headers, _timeouts(options, retrier.deadline))
    except NETWORK_ERRORS as exc:
        retrier.pause(type(exc).__name__, cause=exc)
        return None


def usable(answer: Answer, response: requests.Response, retrier: TransferRetry, url: str,
           what: str) -> bool:
    """False after pausing for a retryable answer (429/5xx: Retry-After honoured); raises the
    typed error for a failing one; True when the response can be read."""
    if answer.kind == "retry":
        release_small(response)
        response.close()
        retrier.pause(answer.reason, parse_retry_after(response.headers.get("Retry-After")))
        return False
    if answer.kind == "fail":
        raise_for_answer(response, url, what)
    return True


def probe(session: requests.Session, url: str, options: TransferOptions, *,
          cancel: threading.Event | None, what: str) -> Remote:
    """GET ``Range: bytes=0-0`` (works where HEAD is not allowed, e.g. presigned GET URLs).

    A 206 proves ranges work and gives the total; a 200 means ranges are ignored; a 416
    with ``*/0`` is an empty file.
    """
    deadline = transfer_deadline(options, 0, what)
    retrier = TransferRetry(options, what, cancel=cancel, deadline=deadline)
    while True:
        check_cancel(cancel, what)
        response = get_from(session, url, options, retrier, start=0, end=1)
        if response is None:
            continue
        with response:
            answer = classify_response(0, response.status_code, response.headers, end=1)
            if answer.kind == "retry":
                release_small(response)
                retrier.pause(answer.reason, parse_retry_after(header(response.headers,
                                                                      "Retry-After")))
                continue
            status = response.status_code
            if status not in (200, 206, 416):
                raise_for_answer(response, url, what)
            cr = parse_content_range(header(response.headers, "Content-Range"))
            total = cr.total if cr else answer.total
            remote = Remote(total=total, etag=answer.etag, last_modified=answer.last_modified,
                            ranges=status == 206 and total is not None,
                            digests=server_digests(response.headers, status),
                            content_type=header(response.headers, "Content-Type"))
            release_small(response)
            return remote


def release_small(response: requests.Response, limit: int = 64 << 10) -> bool:
    """Read what is left of a small body (a probe's one byte, a short error page) and give
    the connection back to the pool; closing the response unread would drop it, and the next
    request to the host would pay a new TCP (+ TLS) handshake. True when it went back."""
    fast = connection.fast_body(response)
    if fast is None or fast.remaining is None or fast.remaining > limit:
        return False
    view = memoryview(bytearray(fast.remaining))
    try:
        while fast.remaining:
            fast.readinto(view)
    except OSError:
        return False
    return fast.release()


# --- cancel during a stalled read -----------------------------------------------------------------

class _CancelWatch:
    """Shuts down the socket of a response whose cancel Event gets set.

    A read blocked on a stalled connection would otherwise notice the cancel only at the
    read timeout (60 s by default). One helper thread polls the registered Events ten times
    a second and exits when nothing is registered.
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget everything (also used in a forked child, where the helper does not exist)."""
        self._items: dict[int, tuple[threading.Event, requests.Response]] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._next = 0

    def add(self, cancel: threading.Event, response: requests.Response) -> int:
        with self._lock:
            self._next += 1
            self._items[self._next] = (cancel, response)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="gen_nb-cancel",
                                                daemon=True)
                self._thread.start()
            return self._next

    def remove(self, key: int) -> None:
        with self._lock:
            self._items.pop(key, None)

    def _run(self) -> None:
        while True:
            time.sleep(0.1)
            with self._lock:
                if not self._items:
                    self._thread = None
                    return
                fired = [k for k, (cancel, _) in self._items.items() if cancel.is_set()]
                responses = [self._items.pop(k)[1] for k in fired]
            for response in responses:
                connection.shutdown(response)


_WATCH = _CancelWatch()


@contextlib.contextmanager
def watch_cancel(cancel: threading.Event | None,
                 response: requests.Response) -> Iterator[None]:
    """While inside, setting ``cancel`` breaks a read blocked on ``response``'s socket."""
    if cancel is None:
        yield
        return
    key = _WATCH.add(cancel, response)
    try:
        yield
    finally:
        _WATCH.remove(key)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
