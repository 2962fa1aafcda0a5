"""WSGI middleware around each sandbox server: request log + fault injection."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl

from .faults import DroppingInput, FaultRegistry, parse_fault_header, shape_body
from .log import RequestLog

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
HANDLER_KEY = "gen_nb.sandbox.handler"
FAULT_HEADER = "HTTP_X_SANDBOX_FAULT"
ERROR_CODES = {429: "rate_limited", 500: "internal_error", 502: "bad_gateway",
               503: "service_unavailable", 504: "gateway_timeout", 401: "unauthorized",
               403: "forbidden", 404: "not_found", 422: "validation_error"}
S3_CODES = {500: "InternalError", 503: "SlowDown", 403: "AccessDenied", 404: "NoSuchKey",
            400: "BadRequest", 429: "SlowDown"}


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def error_body(server: str, status: int, html: bool = False) -> tuple[bytes, str]:
    """The body a misbehaving ``server`` would send for ``status``, and its content type."""
    phrase = _reason(status)
    if html or server == "cdn":
        page = f"<html><head><title>{status} {phrase}</title></head><body><center><h1>" \
               f"{status} {phrase}</h1></center><hr><center>sandbox-edge</center></body></html>"
        return page.encode(), "text/html; charset=utf-8"
    if server == "storage":
        code = S3_CODES.get(status, "ServiceUnavailable")
        xml = f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>' \
              f"<Message>{phrase}</Message><RequestId>SANDBOX</RequestId></Error>"
        return xml.encode(), "application/xml"
    payload = {"error": f"{phrase} (sandbox fault)", "error_code": ERROR_CODES.get(status, "error")}
    return json.dumps(payload).encode(), "application/json"


class Instrumented:
    """Wraps one server's app: logs every request and applies matching faults."""

    def __init__(self, app: WSGIApp, server: str, log: RequestLog, faults: FaultRegistry,
                 stop: threading.Event) -> None:
        self.app, self.server, self.log, self.faults, self.stop = app, server, log, faults, stop

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]):
        query = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
        entry = self.log.begin(self.server, environ, query)
        method, path = environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO", "/")
        knobs = self.faults.take(self.server, method, path)
        if FAULT_HEADER in environ:
            try:
                knobs.update(parse_fault_header(environ[FAULT_HEADER]))
            except ValueError as exc:
                return self._plain(start_response, entry, 400, f"bad X-Sandbox-Fault: {exc}")
        entry.faults.update(knobs)
        if knobs.get("latency") and self.stop.wait(knobs["latency"]):
            return self._plain(start_response, entry, 503, "sandbox stopping")
        if "status" in knobs:
            return self._fault_status(start_response, entry, knobs)
        sock = environ.get("werkzeug.socket")
        if knobs.get("ignore_range"):
            environ.pop("HTTP_RANGE", None)
            environ.pop("HTTP_IF_RANGE", None)
        if "drop_after" in knobs and method in ("PUT", "POST"):
            limit = knobs.pop("drop_after")
            environ["wsgi.input"] = DroppingInput(environ["wsgi.input"], limit, sock)
        body = self.app(environ, self._start_response(start_response, entry, knobs, environ))

        def count(n: int) -> None:
            entry.bytes_sent += n

        return shape_body(body, knobs, sock, self.stop, count)

    @staticmethod
    def _start_response(start_response: Callable[..., Any], entry: Any, knobs: dict[str, Any],
                        environ: dict[str, Any]) -> Callable[..., Any]:
        """start_response that records the status and strips headers for no_etag/no_length."""
        drop = set()
        if knobs.get("no_etag"):
            drop |= {"etag", "last-modified"}
        if knobs.get("no_length"):
            drop.add("content-length")

        def sr(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            entry.status = int(status.split()[0])
            handler = environ.get(HANDLER_KEY)
            if "content-length" in drop and handler is not None:
                handler.protocol_version = "HTTP/1.0"  # close-delimited instead of chunked
            headers = [(k, v) for k, v in headers if k.lower() not in drop]
            return start_response(status, headers, exc_info)

        return sr

    def _fault_status(self, start_response: Callable[..., Any], entry: Any,
                      knobs: dict[str, Any]) -> list[bytes]:
        status = knobs["status"]
        body, ctype = error_body(self.server, status, bool(knobs.get("html")))
        headers = [("Content-Type", ctype), ("Content-Length", str(len(body)))]
        if "retry_after" in knobs:
            seconds = knobs["retry_after"]
            headers.append(("Retry-After", str(int(seconds) if seconds == int(seconds)
                                               else seconds)))
        entry.status = status
        entry.bytes_sent = len(body)
        start_response(f"{status} {_reason(status)}", headers)
        return [body]

    @staticmethod
    def _plain(start_response: Callable[..., Any], entry: Any, status: int,
               text: str) -> list[bytes]:
        body = text.encode()
        entry.status = status
        start_response(f"{status} {_reason(status)}", [("Content-Type", "text/plain"),
                                                       ("Content-Length", str(len(body)))])
        return [body]
