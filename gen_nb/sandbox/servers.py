"""The sandbox's HTTP servers: threaded werkzeug servers on 127.0.0.1, one acceptor thread.

The acceptor blocks in one selector over every listening socket and a wake-up socket (no
polling), so ``stop()`` returns in a few milliseconds: it wakes the acceptor, closes the
listening sockets and shuts down every open connection. Each request runs on its own daemon
thread (werkzeug's threaded server); its WSGI environ carries the request handler under
``HANDLER_KEY`` (fault knobs use it to change the response framing).
"""

from __future__ import annotations

import contextlib
import logging
import selectors
import socket
import threading
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

logger = logging.getLogger("gen_nb")
HANDLER_KEY = "gen_nb.sandbox.handler"


class _Handler(WSGIRequestHandler):
    """werkzeug's handler, plus connection tracking (for stop) and quiet logging."""

    def setup(self) -> None:
        super().setup()
        self.server.gen_nb_connections.add(self.connection)  # type: ignore[attr-defined]

    def finish(self) -> None:
        self.server.gen_nb_connections.discard(self.connection)  # type: ignore[attr-defined]
        super().finish()

    def make_environ(self) -> dict[str, Any]:
        environ = super().make_environ()
        environ[HANDLER_KEY] = self
        return environ

    def log(self, type: str, message: str, *args: Any) -> None:
        logger.debug("sandbox %s: %s", type, _redacted(self.server, message, args))


def _redacted(server: Any, message: str, args: tuple[Any, ...]) -> str:
    text = message % args if args else message
    secret = getattr(server, "gen_nb_secret", "")
    return text.replace(secret, "<redacted>") if secret else text


class Servers:
    """Named HTTP servers (bound by ``bind``), served by one thread from ``serve`` to ``stop``.

    ``secret`` (the API key) is redacted from every log line the servers write.
    """

    def __init__(self, host: str, secret: str) -> None:
        self.host, self.secret = host, secret
        self._servers: dict[str, BaseWSGIServer] = {}
        self._thread: threading.Thread | None = None
        self._wake: tuple[socket.socket, socket.socket] | None = None
        self._stopping = threading.Event()

    @property
    def bound(self) -> bool:
        """Whether any server is bound (and not yet stopped)."""
        return bool(self._servers)

    def bind(self, name: str, port: int, app: Any) -> str:
        """Bind server ``name`` on ``port`` (0: any free one); returns its origin URL."""
        srv = make_server(self.host, port, app, threaded=True, request_handler=_Handler)
        srv.block_on_close = False  # type: ignore[attr-defined]
        srv.timeout = 0  # handle_request() must never block: the acceptor knows it is ready
        srv.gen_nb_connections = set()  # type: ignore[attr-defined]
        srv.gen_nb_secret = self.secret  # type: ignore[attr-defined]
        srv.log = lambda type, message, *args: logger.warning(  # type: ignore[method-assign]
            "sandbox server %s: %s", type, _redacted(srv, message, args))
        self._servers[name] = srv
        return f"http://{self.host}:{srv.server_port}"

    def serve(self) -> None:
        """Start accepting connections on every bound server (one daemon thread)."""
        self._stopping.clear()
        self._wake = socket.socketpair()
        self._thread = threading.Thread(target=self._accept, args=(self._wake[0],),
                                        name="gen_nb-sandbox", daemon=True)
        self._thread.start()

    def _accept(self, wake: socket.socket) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(wake, selectors.EVENT_READ)
            for srv in self._servers.values():
                selector.register(srv, selectors.EVENT_READ)
            while not self._stopping.is_set():
                for key, _ in selector.select():
                    if key.fileobj is not wake and not self._stopping.is_set():
                        key.fileobj.handle_request()  # type: ignore[union-attr]

    def stop(self) -> None:
        """Stop accepting, close the listening sockets, drop open connections. Idempotent."""
        self._stopping.set()
        if self._wake is not None:
            with contextlib.suppress(OSError):
                self._wake[1].send(b"x")
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        for srv in self._servers.values():
            srv.server_close()
            for conn in list(srv.gen_nb_connections):  # type: ignore[attr-defined]
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
        self._servers.clear()
        for sock in self._wake or ():
            sock.close()
        self._wake = None
