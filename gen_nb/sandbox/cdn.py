"""The sandbox's public CDN and its S3-presigned-PUT-like storage endpoint (WSGI apps).

CDN answers carry ``Access-Control-Allow-Origin: *`` (public files, usable from a browser).

Range, If-Range, ETag, Last-Modified, HEAD and 416 all come from werkzeug's
``Response.make_conditional``; nothing here parses Range by hand. A request with several ranges
is answered 200 with the whole body (RFC 9110 lets a server ignore Range; werkzeug would 416).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import queue
import tempfile
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from werkzeug.exceptions import RequestedRangeNotSatisfiable
from werkzeug.wrappers import Request, Response
from werkzeug.wsgi import wrap_file

from .blobs import BLOCK, BlobStore
from .log import REDACTED

StartResponse = Callable[..., Any]
DRAIN_LIMIT = 10 << 30
EXPOSED = "Content-Length, Content-Range, Accept-Ranges, ETag, Last-Modified"


def _html_error(status: int, text: str) -> Response:
    body = f"<html><head><title>{status} {text}</title></head><body><h1>{status} {text}</h1>" \
           "</body></html>"
    return Response(body, status=status, mimetype="text/html")


def serve_conditional(request: Request, fh: Any, size: int, content_type: str, etag: str | None,
                      last_modified: Any, extra: dict[str, str] | None = None) -> Response:
    """A GET/HEAD response for a seekable file with werkzeug's Range/ETag/If-Range handling.

    Raises RequestedRangeNotSatisfiable (a WSGI app answering 416) for bad ranges.
    """
    resp = Response(wrap_file(request.environ, fh, buffer_size=BLOCK), mimetype=content_type,
                    direct_passthrough=True)
    if etag:
        resp.set_etag(etag)
    if last_modified is not None:
        resp.last_modified = last_modified
    resp.content_length = size
    resp.headers.update(extra or {})
    try:
        resp.make_conditional(request, accept_ranges=True, complete_length=size)
    except RequestedRangeNotSatisfiable:
        resp.close()
        raise
    del resp.headers["Date"]  # the server adds its own; two would be folded into one
    return resp


def _single_range_only(environ: dict[str, Any]) -> None:
    if "," in environ.get("HTTP_RANGE", ""):
        environ.pop("HTTP_RANGE")


class CdnApp:
    """Public GET/HEAD of BlobStore objects, plus ``/r/<token>`` redirects."""

    def __init__(self, blobs: BlobStore) -> None:
        self.blobs = blobs
        self.redirects: dict[str, str] = {}
        self._lock = threading.Lock()

    def add_redirect(self, target: str) -> str:
        """Register a redirect to ``target``; returns the path that 302s to it."""
        token = hashlib.sha256(target.encode()).hexdigest()[:16]
        with self._lock:
            self.redirects[token] = target
        return f"/r/{token}"

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        def public(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            headers = [*headers, ("Access-Control-Allow-Origin", "*"),
                       ("Access-Control-Expose-Headers", EXPOSED)]
            return start_response(status, headers, exc_info)

        return self._serve(environ, public)

    def _serve(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        if request.method not in ("GET", "HEAD"):
            resp = _html_error(405, "Method Not Allowed")
            resp.headers["Allow"] = "GET, HEAD"
            return resp(environ, start_response)
        if request.path.startswith("/r/"):
            target = self.redirects.get(request.path[3:])
            resp = Response(status=302, headers={"Location": target}) if target \
                else _html_error(404, "Not Found")
            return resp(environ, start_response)
        blob = self.blobs.get(request.path)
        if blob is None:
            return _html_error(404, "Not Found")(environ, start_response)
        _single_range_only(environ)
        try:
            resp = serve_conditional(request, blob.open(), blob.size, blob.content_type,
                                     blob.etag, blob.last_modified,
                                     {"Cache-Control": "public, max-age=31536000"})
        except RequestedRangeNotSatisfiable as exc:
            return exc(environ, start_response)
        return resp(environ, start_response)


@dataclass(frozen=True)
class StoredObject:
    """An object received by the storage endpoint. Bytes live in ``path`` (a temp file)."""

    bucket: str
    key: str
    size: int
    sha256: str
    md5: str
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)
    path: Path = Path()

    def read_bytes(self) -> bytes:
        """The stored bytes (for small objects in tests)."""
        return self.path.read_bytes()


def _s3_error(status: int, code: str, message: str, **extra: str) -> Response:
    more = "".join(f"<{k}>{v}</{k}>" for k, v in extra.items())
    body = f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>' \
           f"<Message>{message}</Message>{more}<RequestId>SANDBOX</RequestId></Error>"
    return Response(body, status=status, mimetype="application/xml")


class StorageApp:
    """S3-presigned-PUT-like storage: PUT/POST need a signature and a Content-Length."""

    def __init__(self, root: Path, secret: str, api_key: str, bucket: str = "sandbox-bucket"):
        self.root, self.secret, self.api_key, self.bucket = root, secret.encode(), api_key, bucket
        self.objects: dict[str, StoredObject] = {}
        self._lock = threading.Lock()

    def signature(self, bucket: str, key: str) -> str:
        """The X-Amz-Signature value that authorizes writing ``bucket/key``."""
        return hmac.new(self.secret, f"/{bucket}/{key}".encode(), hashlib.sha256).hexdigest()

    def get(self, key: str) -> StoredObject | None:
        """Object by ``key`` (in the default bucket) or ``bucket/key``."""
        with self._lock:
            return self.objects.get(f"{self.bucket}/{key}") or self.objects.get(key)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        bucket, _, key = request.path.lstrip("/").partition("/")
        if not bucket or not key:
            resp = _s3_error(400, "InvalidURI", "Use /<bucket>/<key>")
        elif request.method in ("PUT", "POST"):
            resp = self._put(request, bucket, key)
        elif request.method in ("GET", "HEAD"):
            return self._get(request, bucket, key)(environ, start_response)
        elif request.method == "DELETE":
            with self._lock:
                self.objects.pop(f"{bucket}/{key}", None)
            resp = Response(status=204)
        else:
            resp = _s3_error(405, "MethodNotAllowed", "The specified method is not allowed")
        return resp(environ, start_response)

    def _get(self, request: Request, bucket: str, key: str) -> Any:
        with self._lock:
            obj = self.objects.get(f"{bucket}/{key}")
        if obj is None:
            return _s3_error(404, "NoSuchKey", "The specified key does not exist.", Key=key)
        try:
            return serve_conditional(request, obj.path.open("rb"), obj.size, obj.content_type,
                                     obj.md5, None)
        except RequestedRangeNotSatisfiable as exc:
            return exc

    def _put(self, request: Request, bucket: str, key: str) -> Response:
        sig = request.args.get("X-Amz-Signature")
        if not sig:
            return _s3_error(403, "AccessDenied", "Query-string authentication requires the "
                             "X-Amz-Signature parameter")
        if not hmac.compare_digest(sig, self.signature(bucket, key)):
            return _s3_error(403, "SignatureDoesNotMatch", "The request signature we calculated "
                             "does not match the signature you provided.")
        if "chunked" in request.headers.get("Transfer-Encoding", "").lower():
            _drain(request.environ["wsgi.input"])
            resp = _s3_error(501, "NotImplemented", "A header you provided implies "
                             "functionality that is not implemented", Header="Transfer-Encoding")
            resp.headers["Connection"] = "close"
            return resp
        length = request.headers.get("Content-Length")
        if length is None or not length.isdigit():
            return _s3_error(411, "MissingContentLength",
                             "You must provide the Content-Length HTTP header.")
        stored = self._receive(request, bucket, key, int(length))
        if stored is None:
            return _s3_error(400, "IncompleteBody", "You did not provide the number of bytes "
                             "specified by the Content-Length HTTP header")
        return Response(status=200, headers={"ETag": f'"{stored.md5}"'})

    def _receive(self, request: Request, bucket: str, key: str,
                 length: int) -> StoredObject | None:
        stream = request.environ["wsgi.input"]
        sha, md5, left = hashlib.sha256(), _ThreadedMd5(), length
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix="put-")
        try:
            with os.fdopen(fd, "wb") as out:
                while left > 0:
                    data = stream.read(min(BLOCK, left))
                    if not data:
                        break
                    md5.update(data)
                    out.write(data)
                    sha.update(data)
                    left -= len(data)
        except BaseException:
            md5.hexdigest()
            os.unlink(tmp)
            raise
        md5_hex = md5.hexdigest()
        if left:
            os.unlink(tmp)
            return None
        headers = {k: REDACTED if k.lower() in ("x-api-key", "authorization")
                   else v.replace(self.api_key, REDACTED) for k, v in request.headers.items()}
        target = self.root / hashlib.sha256(f"{bucket}/{key}".encode()).hexdigest()
        os.replace(tmp, target)
        obj = StoredObject(bucket, key, length, sha.hexdigest(), md5_hex,
                           request.headers.get("Content-Type", "binary/octet-stream"),
                           headers, target)
        with self._lock:
            self.objects[f"{bucket}/{key}"] = obj
        return obj


def _drain(stream: Any) -> None:
    """Read and discard a request body (so the client can read our error answer).

    A body that only claims to be chunked (a client sending Transfer-Encoding: chunked *and*
    Content-Length with raw bytes) fails to parse: stop there, the connection closes anyway.
    """
    total = 0
    with contextlib.suppress(OSError, ValueError):
        while total < DRAIN_LIMIT:
            data = stream.read(BLOCK)
            if not data:
                return
            total += len(data)


class _ThreadedMd5:
    """md5 computed on a worker thread (hashlib drops the GIL), overlapping the receive loop."""

    def __init__(self) -> None:
        self._md5 = hashlib.md5(usedforsecurity=False)
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=8)
        self._thread = threading.Thread(target=self._run, name="gen_nb-sandbox-md5", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (data := self._queue.get()) is not None:
            self._md5.update(data)

    def update(self, data: bytes) -> None:
        self._queue.put(data)

    def hexdigest(self) -> str:
        """Finish (idempotent) and return the hex digest."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()
        return self._md5.hexdigest()
