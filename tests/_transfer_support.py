"""Helpers shared by the transfer tests (plain functions; fixtures live in each module)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

MiB = 1 << 20


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(MiB), b""):
            digest.update(block)
    return digest.hexdigest()


def leftovers(folder: Path) -> list[str]:
    """Names of gen_nb's temp files (``.part``, ``.part.json``, ``.lock``) in ``folder``."""
    return sorted(p.name for p in folder.iterdir()
                  if p.name.endswith((".part", ".part.json", ".lock")))


def cdn_gets(sb: Any, path_part: str) -> list[Any]:
    """The CDN GET records for URLs containing ``path_part``."""
    return [r for r in sb.requests if r.server == "cdn" and r.method == "GET"
            and path_part in r.path]


def header_of(record: Any, name: str) -> str | None:
    for key, value in record.headers.items():
        if key.lower() == name.lower():
            return str(value)
    return None


def url_path(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).path


def can_mount_tmpfs() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0 and Path("/proc/mounts").exists()


class KeepAliveServer:
    """A threaded HTTP/1.1 server on 127.0.0.1:0 that keeps connections open (the sandbox's
    werkzeug server closes each one), for tests that count connections.

    ``url(name, size)`` serves ``size`` deterministic bytes (``body(name, size)``) with an
    ETag and Content-Length; ``Range: bytes=a-b`` / ``bytes=a-`` get a 206. ``redirects``
    maps a path to a Location (a 302). A request line with an absolute URI (as sent to a
    forward proxy) is served too. ``seen`` lists (request line target, headers) of every
    request. Use as a context manager.
    """

    def __init__(self) -> None:
        import http.server
        import socketserver

        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                owner.seen.append((self.path, dict(self.headers)))
                path = self.path.split("://", 1)[-1].partition("/")[2] if "://" in self.path \
                    else self.path.lstrip("/")
                if "/" + path in owner.redirects:
                    self.send_response(302)
                    self.send_header("Location", owner.redirects["/" + path])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self._serve(*path.partition("?")[0].partition("/")[::2])

            def _serve(self, name: str, size: str) -> None:
                data = body(name, int(size))
                start, end, status = _range(self.headers.get("Range"), len(data))
                self.send_response(status)
                self.send_header("Content-Length", str(end - start))
                self.send_header("ETag", f'"{name}-{size}"')
                if status == 206:
                    self.send_header("Content-Range", f"bytes {start}-{end - 1}/{len(data)}")
                self.end_headers()
                self.wfile.write(data[start:end])

        class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True
            block_on_close = False

        self.seen: list[tuple[str, dict[str, str]]] = []
        self.redirects: dict[str, str] = {}
        self._server = Server(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]

    @property
    def requests(self) -> int:
        return len(self.seen)

    def url(self, name: str, size: int) -> str:
        return f"http://127.0.0.1:{self.port}/{name}/{size}"

    def __enter__(self) -> KeepAliveServer:
        import threading

        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()


def body(name: str, size: int) -> bytes:
    """The deterministic bytes KeepAliveServer serves for ``name``."""
    return hashlib.shake_256(name.encode()).digest(size) if size else b""


def _range(header: str | None, total: int) -> tuple[int, int, int]:
    """(start, end exclusive, status) for a simple ``bytes=a-b`` / ``bytes=a-`` header."""
    if not header or not header.startswith("bytes=") or "," in header:
        return 0, total, 200
    first, _, last = header[6:].partition("-")
    if not first.isdigit() or int(first) >= total:
        return 0, total, 200
    end = min(total, int(last) + 1) if last.isdigit() else total
    return int(first), end, 206
