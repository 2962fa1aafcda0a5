"""The sandbox's S3-like storage endpoint (a WSGI app): presigned-style URLs for every method.

``/<bucket>/<key>`` answers PUT/POST (store; a Content-Length is required and chunked uploads
are refused, like S3), GET/HEAD (read back, with Range/ETag) and DELETE. Every request needs
an ``X-Amz-Signature`` query value that binds the method, bucket and key: an HMAC over
``"PUT /bucket/key"`` (POST shares PUT's, HEAD shares GET's), so a URL made for uploading
cannot read or delete. Missing or wrong signatures answer S3's 403 XML (AccessDenied,
SignatureDoesNotMatch). Bytes live in a temp folder that ``Sandbox.stop()`` deletes.
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

from .blobs import BLOCK
from .cdn import serve_conditional
from .error_pages import s3_error_xml
from .log import REDACTED

StartResponse = Callable[..., Any]
DRAIN_LIMIT = 10 << 30
SIGNED_AS = {"PUT": "PUT", "POST": "PUT", "GET": "GET", "HEAD": "GET", "DELETE": "DELETE"}


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
    return Response(s3_error_xml(code, message, **extra), status=status,
                    mimetype="application/xml")


class StorageApp:
    """S3-like storage: every method needs its signature; PUT/POST need a Content-Length."""

    def __init__(self, root: Path, secret: str, api_key: str, bucket: str = "sandbox-bucket"):
        self.root, self.secret, self.api_key, self.bucket = root, secret.encode(), api_key, bucket
        self.objects: dict[str, StoredObject] = {}
        self._lock = threading.Lock()

    def signature(self, method: str, bucket: str, key: str) -> str:
        """The X-Amz-Signature value that authorizes ``method`` on ``bucket/key``.

        ValueError for a method the storage does not answer.
        """
        verb = SIGNED_AS.get(method.upper())
        if verb is None:
            raise ValueError(f"storage methods are {', '.join(SIGNED_AS)}, not {method!r}")
        message = f"{verb} /{bucket}/{key}".encode()
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()

    def get(self, key: str) -> StoredObject | None:
        """Object by ``key`` (in the default bucket) or ``bucket/key``."""
        with self._lock:
            return self.objects.get(f"{self.bucket}/{key}") or self.objects.get(key)

    def keys(self, bucket: str) -> list[str]:
        """The keys stored in ``bucket``, sorted."""
        with self._lock:
            return sorted(o.key for o in self.objects.values() if o.bucket == bucket)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        bucket, _, key = request.path.lstrip("/").partition("/")
        if not bucket or not key:
            resp: Any = _s3_error(400, "InvalidURI", "Use /<bucket>/<key>")
        elif request.method not in SIGNED_AS:
            resp = _s3_error(405, "MethodNotAllowed", "The specified method is not allowed")
        else:
            denied = self._denied(request, bucket, key)
            resp = denied if denied is not None else self._serve(request, bucket, key)
        return resp(environ, start_response)

    def _denied(self, request: Request, bucket: str, key: str) -> Response | None:
        """S3's 403 for a missing or wrong signature; None when the request is signed."""
        sig = request.args.get("X-Amz-Signature")
        if not sig:
            return _s3_error(403, "AccessDenied", "Query-string authentication requires the "
                             "X-Amz-Signature parameter")
        if not hmac.compare_digest(sig, self.signature(request.method, bucket, key)):
            return _s3_error(403, "SignatureDoesNotMatch", "The request signature we calculated "
                             "does not match the signature you provided.")
        return None

    def _serve(self, request: Request, bucket: str, key: str) -> Any:
        """The answer to a signed request (a WSGI app: a Response or werkzeug's 416)."""
        if request.method in ("PUT", "POST"):
            return self._put(request, bucket, key)
        if request.method in ("GET", "HEAD"):
            return self._get(request, bucket, key)
        with self._lock:
            self.objects.pop(f"{bucket}/{key}", None)
        return Response(status=204)

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
