"""``gen_nb.stream_to``: GET from the CDN and PUT/POST the bytes elsewhere, never to disk.

Memory stays flat: the source body is read into a few reused 1 MiB buffers and each one is
handed to the upload's socket as a ``memoryview``. When the source says how long it is, the
upload carries that ``Content-Length`` (S3-style presigned PUTs refuse chunked bodies);
otherwise it goes chunked, with a logged warning. The source ``Content-Type`` is forwarded
unless ``headers`` sets one. Both requests use gen_nb's key-less session, so the GEN key is
never sent anywhere. The destination must answer 2xx and the byte count must match the
source's length. A broken source or a 429/5xx destination restarts the whole transfer (a
repeated PUT to the same URL replaces the object), up to ``retries`` times.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any

import requests

from gen_nb.api.errors import (
    DownloadCancelled,
    GenError,
    IntegrityError,
    TransferError,
    UploadRejectedError,
    UsageError,
)
from gen_nb.api.redact import redact_url
from gen_nb.api.settings import TransferOptions
from gen_nb.api.transport import NETWORK_ERRORS, Deadline
from gen_nb.api.transport import parse_retry_after as _retry_after
from gen_nb.transfer.body import BodyReader, ReadInterrupted, fill
from gen_nb.transfer.downloader import source_of
from gen_nb.transfer.hashing import HashPipe
from gen_nb.transfer.headers import header
from gen_nb.transfer.lean import lean_get
from gen_nb.transfer.object_store import (
    ObjectTarget,
    ObjectWriter,
    is_object_url,
    open_target,
    verify,
)
from gen_nb.transfer.plan import retryable_status
from gen_nb.transfer.progress import Progress, make_sink
from gen_nb.transfer.remote import (
    IDENTITY,
    TransferRetry,
    check_cancel,
    raise_for_answer,
    release_small,
    shared_session,
    transfer_deadline,
    watch_cancel,
)
from gen_nb.transfer.results import StreamResult

__all__ = ["stream_to"]

log = logging.getLogger("gen_nb")


class _Abort(Exception):
    """Raised inside the upload body to stop the upload (not an OSError, so urllib3 lets it
    through untouched); ``cause`` is what went wrong."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause


class _SourceBody:
    """The upload body: iterates the source's bytes (requests sends it chunked)."""

    def __init__(self, response: requests.Response, length: int | None, pipe: HashPipe,
                 progress: Progress, cancel: threading.Event | None, what: str,
                 options: TransferOptions, deadline: Deadline) -> None:
        self.response, self.length, self.pipe = response, length, pipe
        self.progress, self.cancel, self.what = progress, cancel, what
        self.options, self.deadline = options, deadline
        self.count = 0

    def __iter__(self) -> Iterator[memoryview]:
        options = self.options
        reader = BodyReader(self.response, deadline=self.deadline,
                            read_timeout=options.timeout[1], stall_window=options.stall_window,
                            stall_bytes=options.stall_bytes)
        while True:
            try:
                check_cancel(self.cancel, self.what)
            except DownloadCancelled as exc:
                raise _Abort(exc) from exc
            view = self.pipe.take()
            try:
                n = fill(reader, view, self.cancel)
            except ReadInterrupted as exc:
                self.pipe.give_back(view)
                if self.cancel is not None and self.cancel.is_set():
                    raise _Abort(DownloadCancelled(f"Cancelled: {self.what}.")) from exc
                raise _Abort(exc) from exc
            except TransferError as exc:    # the deadline (an OSError: urllib3 would wrap it)
                self.pipe.give_back(view)
                raise _Abort(exc) from exc
            if not n:
                self.pipe.give_back(view)
                break
            yield view[:n]
            self.pipe.submit(view, n)
            self.count += n
            self.progress.advance(n)
            if self.length is None and self.count > options.max_unknown_size:
                raise _Abort(TransferError(
                    f"{self.what}: the source did not say its size and sent more than "
                    f"{options.max_unknown_size:,} bytes; stopped. Raise max_unknown_size= "
                    "(GEN_NB_MAX_UNKNOWN_SIZE) if it really is that large."))
        if self.length is not None and self.count != self.length:
            raise _Abort(ReadInterrupted(f"the source ended after {self.count} of "
                                         f"{self.length} bytes"))
        reader.release()    # all of it read: the connection goes back for the next file


class _SizedSourceBody(_SourceBody):
    """A body of known length: requests sends ``Content-Length`` and no chunk framing."""

    def __len__(self) -> int:
        return self.length or 0


def stream_to(src: Any, dest: Any, *, method: str = "PUT",
              headers: Mapping[str, str] | None = None, progress: Any = None,
              cancel: threading.Event | None = None,
              storage_options: Mapping[str, Any] | None = None, reread: bool = False,
              options: TransferOptions | None = None, **changes: Any) -> StreamResult:
    """Copy ``src`` (a URL or render/resource) to ``dest`` without touching the local disk.

    ``dest``: an fsspec URL (``s3://bucket/key``, ``gs://…``, ``az://…``, ``memory://…``,
    ``file://…``; ``storage_options`` go to the filesystem), an http(s) URL (e.g. an S3
    presigned PUT URL) receiving a ``method`` (PUT or POST) request, or a writable binary file
    object. fsspec destinations go through the filesystem's own multipart writer (memory stays
    at one part), appear only when complete, and are checked afterwards (size, and the store's
    ETag where it has one; ``reread=True`` reads the object back and compares its sha256).
    ``headers`` are added to an http upload. Transfer knobs (``timeout``, ``retries``,
    ``chunk_size``, ``min_rate``…) come from ``options=`` and keywords, as for
    :func:`gen_nb.download`. Returns :class:`StreamResult` (``dest`` without its signature).

    Errors: UploadRejectedError (the destination answered non-2xx; ``.status``),
    IntegrityError (byte count or checksum mismatch), DownloadCancelled, TransferTimeout,
    TransferError (source HTTP errors, retries used up); UsageError for a bad ``dest`` or
    ``method``, or a storage extra that is not installed.

    >>> sb = gen_nb.sandbox.start()                                  # doctest: +SKIP
    >>> src, dest = sb.large_media_url(1 << 20), sb.storage_put_url("a.bin")  # doctest: +SKIP
    >>> r = gen_nb.stream_to(src, dest)                              # doctest: +SKIP
    >>> r.status, sb.storage_object("a.bin").sha256 == r.sha256      # doctest: +SKIP
    (200, True)
    >>> gen_nb.stream_to(src, "memory://bucket/a.bin").bytes          # doctest: +SKIP
    1048576
    """
    opts = TransferOptions.resolve(options, **changes)
    url = source_of(src).url
    method = method.upper() if isinstance(method, str) else method
    if method not in ("PUT", "POST"):
        raise UsageError(f"method= must be PUT or POST, got {method!r}")
    to_file = hasattr(dest, "write")
    target = open_target(dest, dict(storage_options or {}), max(5 << 20, opts.chunk_size)) \
        if is_object_url(dest) else None
    if target is None and not to_file and not (
            isinstance(dest, str) and dest.lower().startswith(("http://", "https://"))):
        raise UsageError("dest= must be an fsspec URL (s3://bucket/key, memory://…), an "
                         "http(s) URL (e.g. a presigned PUT URL) or a writable binary file "
                         f"object, not {redact_url(str(dest))!r}.")
    shown_dest = getattr(dest, "name", type(dest).__name__) if to_file else redact_url(dest)
    reporter = Progress(make_sink(progress, f"→ {shown_dest}", opts.progress))
    copy = _StreamCopy(url, dest, method, dict(headers or {}), reporter, cancel, opts,
                       target, reread)
    return reporter.run(lambda: copy.run(str(shown_dest)))


class _StreamCopy:
    def __init__(self, url: str, dest: Any, method: str, headers: dict[str, str],
                 progress: Progress, cancel: threading.Event | None,
                 options: TransferOptions, target: ObjectTarget | None = None,
                 reread: bool = False) -> None:
        self.url, self.dest, self.method, self.headers = url, dest, method, headers
        self.progress, self.cancel, self.options = progress, cancel, options
        self.target, self.reread = target, reread
        self.writer: ObjectWriter | None = None
        self.source_etag: str | None = None
        self.source_last_modified: str | None = None
        self.session = shared_session()
        self.what = f"Streaming {redact_url(url)}"
        self.deadline = transfer_deadline(options, None, self.what)
        self.retrier = TransferRetry(options, self.what, cancel=cancel, deadline=self.deadline,
                                     after_giving_up="nothing was kept (a stream starts over)")

    def run(self, shown_dest: str) -> StreamResult:
        started = time.monotonic()
        while True:
            source = self._open_source()
            pipe = HashPipe(self.options.chunk_size)
            try:
                outcome = self._attempt(source, pipe)
            finally:
                source.close()
                pipe.close()
            if outcome is not None:
                status, etag, count, sha = outcome
                if self.writer is not None:
                    etag = verify(self.writer, count, sha, self.reread)
                return StreamResult(src=redact_url(self.url), dest=shown_dest, bytes=count,
                                    sha256=sha, status=status,
                                    seconds=time.monotonic() - started, etag=etag,
                                    source_etag=self.source_etag,
                                    source_last_modified=self.source_last_modified)

    def _open_source(self) -> requests.Response:
        while True:
            check_cancel(self.cancel, self.what)
            self.deadline.check()
            try:
                response = lean_get(self.session, self.url, IDENTITY, self._timeout())
            except NETWORK_ERRORS as exc:
                self.retrier.pause(type(exc).__name__, cause=exc)
                continue
            if response.status_code == 200:
                self.source_etag = header(response.headers, "ETag")
                self.source_last_modified = header(response.headers, "Last-Modified")
                return response
            if retryable_status(response.status_code):
                if not release_small(response):   # a short error page: keep the connection
                    response.close()
                self.retrier.pause(f"the source answered HTTP {response.status_code}",
                                   _retry_after(response.headers.get("Retry-After")))
                continue
            raise_for_answer(response, self.url, self.what)

    def _timeout(self) -> tuple[float, float]:
        connect, read = self.options.timeout
        return connect, self.deadline.read_timeout(read)

    def _attempt(self, source: requests.Response,
                 pipe: HashPipe) -> tuple[int, str | None, int, str] | None:
        length = _length(source)
        if length is not None and self.deadline.seconds == self.options.deadline_for(None):
            self.deadline.resize(self.options.deadline_for(length))
        kind = _SourceBody if length is None else _SizedSourceBody
        body = kind(source, length, pipe, self.progress, self.cancel, self.what, self.options,
                    self.deadline)
        self.progress.start(length)
        try:
            with watch_cancel(self.cancel, source):
                status, etag = self._send(body, source)
        except _Abort as exc:
            if isinstance(exc.cause, DownloadCancelled | TransferError) and \
                    not isinstance(exc.cause, ReadInterrupted):
                raise exc.cause from None
            self._again(body, str(exc.cause), exc.cause)
            return None
        except NETWORK_ERRORS as exc:
            self._again(body, f"the destination broke the connection ({exc})", exc)
            return None
        except _Retryable as exc:
            self._again(body, str(exc), None, exc.retry_after)
            return None
        if length is not None and body.count != length:
            raise IntegrityError(f"{self.what}: sent {body.count} bytes of {length}.")
        return status, etag, body.count, pipe.digests()["sha256"]

    def _again(self, body: _SourceBody, reason: str, cause: BaseException | None,
               retry_after: float | None = None) -> None:
        if hasattr(self.dest, "write") and body.count:
            raise TransferError(f"{self.what} broke after {body.count} bytes were written to "
                                f"the file object ({reason}); it cannot be retried.") from cause
        # no budget reset when bytes went out: a stream keeps nothing and starts over, so a
        # destination that always fails after reading part of the body must not loop forever
        self.retrier.pause(reason, retry_after, cause=cause)

    def _send(self, body: _SourceBody, source: requests.Response) -> tuple[int, str | None]:
        if self.target is not None:
            return self._send_object(body, self.target)
        if hasattr(self.dest, "write"):
            for view in body:
                _write_all(self.dest, view)
            return 0, None
        headers = dict(self.headers)
        content_type = header(source.headers, "Content-Type")
        if content_type and not any(k.lower() == "content-type" for k in headers):
            headers["Content-Type"] = content_type
        data: Any = body
        if body.length == 0:
            data = b""
        elif body.length is None:
            log.warning("gen_nb: %s: the source sends no length, so the upload goes chunked; "
                        "S3 presigned PUTs refuse chunked bodies (411/501).", self.what)
        response = self.session.request(self.method, self.dest, data=data, headers=headers,
                                        timeout=self._timeout(), allow_redirects=False)
        with response:
            return self._check_answer(response)

    def _send_object(self, body: _SourceBody, target: ObjectTarget) -> tuple[int, str | None]:
        """The bytes into an fsspec object (committed only when complete)."""
        writer = ObjectWriter(target, body.length)
        try:
            writer.open()
            for view in body:
                writer.write(view)
            writer.finish()
        except _Abort:
            writer.abandon()
            raise
        except GenError:
            writer.abandon()
            raise
        except Exception as exc:          # the store refused (permissions, bucket, network)
            writer.abandon()
            raise TransferError(f"Writing {target.shown} failed ({type(exc).__name__}: "
                                f"{str(exc)[:200]}); nothing was stored under that name. Check "
                                "the bucket, the path and storage_options=.") from exc
        self.writer = writer
        return 0, None

    def _check_answer(self, response: requests.Response) -> tuple[int, str | None]:
        status = response.status_code
        if 200 <= status < 300:
            return status, header(response.headers, "ETag")
        text = response.text[:2000] if response.content else ""
        if retryable_status(status):
            raise _Retryable(f"the destination answered HTTP {status}",
                             _retry_after(response.headers.get("Retry-After")))
        code = _s3_error(text)
        hint = "The destination redirects; pass the final URL." if 300 <= status < 400 else \
            "Check that the URL is a valid, unexpired upload URL for this method."
        raise UploadRejectedError(f"{self.method} {redact_url(self.dest)} answered HTTP "
                                  f"{status}: {code or 'no details'}. {hint}", status=status)


class _Retryable(Exception):
    def __init__(self, message: str, retry_after: float | None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def _write_all(dest: Any, view: memoryview) -> None:
    """``dest.write`` until all of ``view`` is taken (raw files may take less)."""
    while view:
        written = dest.write(view)
        if written is None or written >= len(view):
            return
        view = view[written:]


def _s3_error(text: str) -> str:
    """``Code: Message`` from an S3-style XML error body, else the start of the text."""
    code = re.search(r"<Code>([^<]*)</Code>", text)
    message = re.search(r"<Message>([^<]*)</Message>", text)
    if code:
        return code.group(1) + (f": {message.group(1)}" if message else "")
    return " ".join(text.split())[:160]


def _length(response: requests.Response) -> int | None:
    encoding = (header(response.headers, "Content-Encoding") or "identity").strip().lower()
    value = header(response.headers, "Content-Length")
    if value is None or encoding not in ("", "identity"):
        return None
    try:
        return int(value)
    except ValueError:
        return None
