"""A small HTTP server that lies on purpose, independent of gen_nb's sandbox.

Each path is scripted by a function ``(request, conn) -> None`` that writes raw bytes to the
socket, so a test can send exactly the wrong thing: a 206 whose total is ``*``, a body shorter
than its length, a byte every few seconds, validators that change, JSON nested 100,000 deep,
a silent socket. Bound to 127.0.0.1 on port 0; ``stop()`` (or the context manager) closes
every connection it opened.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

__all__ = ["Conn", "LyingServer", "Request"]


@dataclass
class Request:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes = b""

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass
class Conn:
    """The client connection of one request, with helpers to answer (or not)."""

    sock: socket.socket
    stop: threading.Event
    keep_alive: bool = False
    sent: list[bytes] = field(default_factory=list)

    def head(self, status: int, headers: dict[str, str] | None = None,
             reason: str = "X") -> None:
        lines = [f"HTTP/1.1 {status} {reason}"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        if not self.keep_alive:
            lines.append("Connection: close")
        self.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))

    def write(self, data: bytes) -> None:
        with contextlib.suppress(OSError):
            self.sock.sendall(data)
            self.sent.append(data)

    def answer(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None,
               length: int | None = None) -> None:
        """A whole answer; ``length`` (default: the real one) is what Content-Length says."""
        all_headers = {"Content-Length": str(len(body) if length is None else length),
                       **(headers or {})}
        self.head(status, all_headers)
        self.write(body)

    def trickle(self, data: bytes, every: float) -> None:
        """Send ``data`` one byte at a time, ``every`` seconds apart (until stopped)."""
        for i in range(len(data)):
            if self.stop.wait(every):
                return
            self.write(data[i:i + 1])

    def hang(self, seconds: float = 3600) -> None:
        """Say nothing (until stopped)."""
        self.stop.wait(seconds)


Handler = Callable[[Request, Conn], None]


class LyingServer:
    """``LyingServer({"/path": handler, ...})``; ``url(path)`` gives the address."""

    def __init__(self, routes: dict[str, Handler] | None = None) -> None:
        self.routes: dict[str, Handler] = dict(routes or {})
        self.requests: list[Request] = []
        self._stop = threading.Event()
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.2)
        self.port = self._sock.getsockname()[1]
        self._conns: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._accepting = threading.Thread(target=self._accept, daemon=True)
        self._accepting.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def route(self, path: str) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.routes[path] = handler
            return handler
        return register

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except (TimeoutError, OSError):
                continue
            self._conns.append(conn)
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            reader = conn.makefile("rb")
            while not self._stop.is_set():
                request = _read_request(reader)
                if request is None:
                    return
                self.requests.append(request)
                handler = self.routes.get(request.path)
                keep = (request.header("connection") or "").lower() != "close"
                out = Conn(conn, self._stop, keep_alive=keep and getattr(handler, "keep", False))
                if handler is None:
                    out.answer(404, b"no such route")
                else:
                    handler(request, out)
                if not out.keep_alive:
                    with contextlib.suppress(OSError):
                        conn.shutdown(socket.SHUT_RDWR)
                    return

    def stop(self) -> None:
        self._stop.set()
        for conn in list(self._conns):
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        self._sock.close()
        self._accepting.join(2)
        for thread in self._threads:
            thread.join(2)

    def __enter__(self) -> LyingServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _read_request(reader: object) -> Request | None:
    try:
        line = reader.readline()  # type: ignore[attr-defined]
    except OSError:
        return None
    if not line:
        return None
    method, target, _ = line.decode("latin-1").split(" ", 2)
    headers: dict[str, str] = {}
    while True:
        raw = reader.readline()  # type: ignore[attr-defined]
        if raw in (b"\r\n", b"\n", b""):
            break
        name, _, value = raw.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    body = b""
    length = int(headers.get("content-length", "0") or 0)
    if length:
        body = reader.read(length)  # type: ignore[attr-defined]
    path, _, query = target.partition("?")
    return Request(method, path, query, headers, body)


@contextlib.contextmanager
def serving(routes: dict[str, Handler]) -> Iterator[LyingServer]:
    server = LyingServer(routes)
    try:
        yield server
    finally:
        server.stop()


def elapsed(fn: Callable[[], object]) -> float:
    start = time.monotonic()
    with contextlib.suppress(Exception):
        fn()
    return time.monotonic() - start
