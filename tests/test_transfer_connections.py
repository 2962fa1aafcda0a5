"""Connections are reused across files: TCP connects counted in this process.

``socket.socket.connect`` is wrapped for the duration of a test and every connect to the
server's port is counted (testing.md, "Counting connections and round trips"). The server is
a keep-alive HTTP/1.1 server of the tests' own (the sandbox's werkzeug server answers
``Connection: close``). Each test starts from a fresh transfer session, so no connection
pooled by an earlier test is reused.
"""

from __future__ import annotations

import hashlib
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from _transfer_support import KeepAliveServer, MiB, body, leftovers, sha256_of

import gen_nb
from gen_nb.transfer import remote

FILES = 20
Connects = list[tuple[str, int]]


@pytest.fixture()
def server() -> Iterator[KeepAliveServer]:
    with KeepAliveServer() as running:
        yield running


@pytest.fixture()
def connects(server: KeepAliveServer,
             monkeypatch: pytest.MonkeyPatch) -> Iterator[Connects]:
    """Every TCP connect to the server's port from now on (and a fresh transfer session)."""
    port = server.port
    seen: list[tuple[str, int]] = []
    lock = threading.Lock()
    real = socket.socket.connect

    def counting(self: socket.socket, address: Any) -> Any:
        if isinstance(address, tuple) and len(address) >= 2 and address[1] == port:
            with lock:
                seen.append((str(address[0]), int(address[1])))
        return real(self, address)

    monkeypatch.setattr(remote, "_session", None)       # no connection pooled earlier
    monkeypatch.setattr(socket.socket, "connect", counting)
    yield seen
    session = remote._session
    if session is not None:
        session.close()


def _urls(server: KeepAliveServer, size: int, prefix: str) -> list[str]:
    return [server.url(f"{prefix}{i:02d}.bin", size + i) for i in range(FILES)]


def _check(folder: Path, urls: list[str]) -> None:
    for url in urls:
        name, size = urlsplit(url).path.strip("/").split("/")
        assert sha256_of(folder / size) == hashlib.sha256(body(name, int(size))).hexdigest()
    assert leftovers(folder) == []


@pytest.mark.parametrize("size", [64 << 10, 2 * MiB], ids=["64KiB", "2MiB"])
@pytest.mark.parametrize("workers", [1, 8])
def test_download_many_opens_no_more_connections_than_workers(
        server: KeepAliveServer, download_dir: Path, connects: Connects, size: int,
        workers: int) -> None:
    """One worker: one connection for all the files; 8 workers: at most 8."""
    urls = _urls(server, size, f"w{workers}")
    results = gen_nb.download_many(urls, download_dir, max_workers=workers, progress=False)
    assert [r.status for r in results] == ["done"] * FILES
    _check(download_dir, urls)
    assert 1 <= len(connects) <= workers, connects


@pytest.mark.parametrize("size", [64 << 10, 2 * MiB], ids=["64KiB", "2MiB"])
def test_sequential_downloads_share_one_connection(
        server: KeepAliveServer, download_dir: Path, connects: Connects, size: int) -> None:
    urls = _urls(server, size, "seq")
    for url in urls:
        assert not gen_nb.download(url, download_dir, progress=False).skipped
    _check(download_dir, urls)
    assert len(connects) == 1, connects


def test_a_rerun_that_skips_everything_reuses_the_connection(
        server: KeepAliveServer, download_dir: Path, connects: Connects) -> None:
    urls = _urls(server, 64 << 10, "again")
    gen_nb.download_many(urls, download_dir, max_workers=1, progress=False)
    again = gen_nb.download_many(urls, download_dir, max_workers=1, progress=False)
    assert [r.status for r in again] == ["skipped"] * FILES
    assert len(connects) <= 1, connects


@pytest.mark.parametrize("size", [64 << 10, 2 * MiB])
def test_streams_to_object_storage_share_one_connection(server: KeepAliveServer,
                                                        connects: Connects, size: int) -> None:
    import fsspec

    urls = _urls(server, size, f"st{size}-")
    fs = fsspec.filesystem("memory")
    try:
        for i, url in enumerate(urls):
            result = gen_nb.stream_to(url, f"memory://conn-{size}/f{i}.bin", progress=False)
            expected = hashlib.sha256(body(f"st{size}-{i:02d}.bin", size + i)).hexdigest()
            assert result.sha256 == expected and result.bytes == size + i
        assert len(connects) == 1, connects
    finally:
        fs.rm(f"/conn-{size}", recursive=True)
