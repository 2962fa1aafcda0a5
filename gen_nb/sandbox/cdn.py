"""The sandbox's public CDN (a WSGI app over the BlobStore) and conditional GET/HEAD serving.

CDN answers carry ``Access-Control-Allow-Origin: *`` (public files, usable from a browser).

Range, If-Range, ETag, Last-Modified, HEAD and 416 all come from werkzeug's
``Response.make_conditional``; nothing here parses Range by hand. A request with several ranges
is answered 200 with the whole body (RFC 9110 lets a server ignore Range; werkzeug would 416).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.exceptions import RequestedRangeNotSatisfiable
from werkzeug.wrappers import Request, Response
from werkzeug.wsgi import wrap_file

from .blobs import BLOCK, BlobStore

StartResponse = Callable[..., Any]
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
    """Drop a multi-range Range header (answered 200 with the whole body)."""
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
