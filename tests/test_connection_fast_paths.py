"""gen_nb.api.connection, the one place that reaches into urllib3/http.client internals: with the
installed urllib3 every fast path is there (this test fails loudly when an upgrade removes one),
and when they are absent every caller falls back to the public path and still moves the right
bytes."""

from __future__ import annotations

import hashlib
import socket
from pathlib import Path
from typing import Any

import pytest
import requests
from _transfer_support import KeepAliveServer
from _transfer_support import body as expected_body

from gen_nb.api import connection


def _completed(client: Any) -> Any:
    return next(r for r in client.renders() if r.status == "completed" and r.url)


def test_the_installed_urllib3_has_every_attribute_the_fast_paths_use(
        monkeypatch: pytest.MonkeyPatch) -> None:
    size = 300_000
    connects: list[Any] = []
    real = socket.socket.connect
    monkeypatch.setattr(socket.socket, "connect",
                        lambda sock, address: (connects.append(address), real(sock, address))[1])
    with KeepAliveServer() as server, requests.Session() as session:
        url = server.url("fast.bin", size)
        with session.get(url, stream=True, timeout=30) as response:
            assert connection.missing(response) == [], (
                "urllib3/http.client changed under gen_nb.api.connection: these fast paths "
                f"now fall back to the slower public path: {connection.missing(response)}")
            body = connection.fast_body(response)
            assert body is not None and body.remaining == size
            view = memoryview(bytearray(1 << 16))
            got = bytearray()
            while n := body.readinto(view):
                got += view[:n]
            assert body.release() is True   # the connection went back to urllib3's pool
        assert bytes(got) == expected_body("fast.bin", size)
        with session.get(server.url("next.bin", 10), timeout=30) as again:
            assert again.content == expected_body("next.bin", 10)
        mine = [a for a in connects if isinstance(a, tuple) and a[1] == server.port]
        assert len(mine) == 1, "the second request opened another connection"


def test_downloads_and_streams_fall_back_when_the_internals_are_gone(
        client: Any, sb: Any, download_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import gen_nb

    render = _completed(client)
    expected = hashlib.sha256(requests.get(render.url, timeout=30).content).hexdigest()
    monkeypatch.setattr(connection, "_parts", lambda response: (None, None, None))
    with requests.get(render.url, stream=True, timeout=30) as response:
        assert connection.fast_body(response) is None
        assert connection.shutdown(response) is False
        assert connection.set_read_timeout(response, 1.0) is False
        assert "urllib3 HTTPResponse._fp" in connection.missing(response)
    result = gen_nb.download(render, download_dir, progress=False)
    assert result.sha256 == expected
    assert hashlib.sha256(result.path.read_bytes()).hexdigest() == expected
    key = "fallback/take.mp4"
    gen_nb.stream_to(render, sb.bucket_url(key), progress=False)
    assert sb.bucket_object(key).sha256 == expected
