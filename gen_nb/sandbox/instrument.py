"""The WSGI wrapper around each sandbox server: it logs every request and applies the fault
knobs in force (injected rules, plus the ``X-Sandbox-Fault`` header when the sandbox was started
with ``fault_header=True``), running each knob's hooks from the ``knobs`` table."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from urllib.parse import parse_qsl

from .faults import FaultRegistry
from .knobs import (
    Answer,
    FaultContext,
    body_rules,
    filter_headers,
    parse_fault_header,
    plain,
    request_answer,
    status_line,
)
from .log import RequestLog
from .servers import HANDLER_KEY
from .shaping import shape_body

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
FAULT_HEADER = "HTTP_X_SANDBOX_FAULT"


class Instrumented:
    """Wraps one server's app: logs every request and applies matching faults.

    ``fault_header`` says whether the per-request ``X-Sandbox-Fault`` header is honoured (a
    test-only switch); when it is not, the header is ignored and the log entry says so.
    """

    def __init__(self, app: WSGIApp, server: str, log: RequestLog, faults: FaultRegistry,
                 stop: threading.Event, fault_header: bool = False) -> None:
        self.app, self.server, self.log, self.faults, self.stop = app, server, log, faults, stop
        self.fault_header = fault_header

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]
                 ) -> Iterable[bytes]:
        query = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
        entry = self.log.begin(self.server, environ, query)
        method, path = environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO", "/")
        knobs = self.faults.take(self.server, method, path)
        if FAULT_HEADER in environ and not self.fault_header:
            entry.fault_header_ignored = True
        elif FAULT_HEADER in environ:
            try:
                knobs.update(parse_fault_header(environ[FAULT_HEADER]))
            except ValueError as exc:
                return self._answer(start_response, entry, plain(400, f"bad X-Sandbox-Fault: "
                                                                      f"{exc}"))
        entry.faults.update(knobs)
        ctx = FaultContext(self.server, environ, knobs, self.stop, environ.get(HANDLER_KEY))
        answer = request_answer(ctx)
        if answer is not None:
            return self._answer(start_response, entry, answer)
        body = self.app(environ, self._start_response(start_response, entry, ctx))
        return self._shaped(body, entry, ctx)

    @staticmethod
    def _shaped(body: Iterable[bytes], entry: Any, ctx: FaultContext) -> Iterator[bytes]:
        def count(n: int) -> None:
            entry.bytes_sent += n

        return shape_body(body, body_rules(ctx), count)

    @staticmethod
    def _start_response(start_response: Callable[..., Any], entry: Any,
                        ctx: FaultContext) -> Callable[..., Any]:
        """start_response that records the status and lets the knobs filter the headers."""
        def sr(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            entry.status = int(status.split()[0])
            return start_response(status, filter_headers(ctx, headers), exc_info)

        return sr

    @staticmethod
    def _answer(start_response: Callable[..., Any], entry: Any, answer: Answer) -> list[bytes]:
        """Send a knob's (or the sandbox's own) complete answer instead of the app's."""
        headers = [("Content-Type", answer.content_type),
                   ("Content-Length", str(len(answer.body))), *answer.headers]
        entry.status, entry.bytes_sent = answer.status, len(answer.body)
        start_response(status_line(answer.status), headers)
        return [answer.body]
