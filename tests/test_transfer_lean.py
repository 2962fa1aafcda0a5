"""The transfer GET (gen_nb.transfer.lean): what it keeps of Session.request, and when it
steps aside for it."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from _transfer_support import KeepAliveServer, body

import gen_nb
from gen_nb.transfer import lean, remote

IDENTITY = {"Accept-Encoding": "identity"}


@pytest.fixture()
def server() -> Iterator[KeepAliveServer]:
    with KeepAliveServer() as running:
        yield running


@pytest.fixture()
def session(monkeypatch: pytest.MonkeyPatch) -> Iterator[requests.Session]:
    """A fresh shared transfer session (it reads the environment afresh)."""
    monkeypatch.setattr(remote, "_session", None)
    fresh = remote.shared_session()
    yield fresh
    fresh.close()


def _get(session: requests.Session, url: str) -> requests.Response:
    return lean.lean_get(session, url, IDENTITY, (5.0, 5.0))


def test_a_plain_get_streams_with_the_session_headers(server: KeepAliveServer,
                                                      session: requests.Session) -> None:
    response = _get(session, server.url("a", 1000))
    assert response.status_code == 200 and isinstance(response, requests.Response)
    assert response.headers["content-length"] == "1000" and response.headers.get("ETag")
    assert response.raw.read() == body("a", 1000)
    sent = server.seen[-1][1]
    assert sent["Accept-Encoding"] == "identity"
    assert sent["User-Agent"] == session.headers["User-Agent"]


@pytest.mark.parametrize("url", ["http://127.0.0.1:{port}/sp%20ace/10",
                                 "http://127.0.0.1:{port}/q/10?x=%2F&y=1",
                                 "HTTP://127.0.0.1:{port}/caps/10"])
def test_urls_are_prepared_as_requests_prepares_them(server: KeepAliveServer,
                                                     session: requests.Session,
                                                     url: str) -> None:
    url = url.format(port=server.port)
    expected = requests.Request("GET", url).prepare().url
    response = _get(session, url)
    assert response.url == expected
    response.close()


def test_a_redirect_is_left_to_requests(server: KeepAliveServer, session: requests.Session,
                                        download_dir: Path) -> None:
    server.redirects["/moved/1234"] = server.url("there", 1234)
    url = f"http://127.0.0.1:{server.port}/moved/1234"
    result = gen_nb.download(url, download_dir / "x.bin", progress=False)
    assert result.sha256 == hashlib.sha256(body("there", 1234)).hexdigest()


def test_session_cookies_go_the_requests_way(server: KeepAliveServer,
                                             session: requests.Session) -> None:
    session.cookies.set("c", "1", domain="127.0.0.1")
    _get(session, server.url("ck", 10)).close()
    assert "c=1" in server.seen[-1][1].get("Cookie", "")


def test_netrc_credentials_are_still_sent(server: KeepAliveServer, session: requests.Session,
                                          tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login user password pw\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    monkeypatch.setattr(lean, "_netrc_seen", {})
    _get(session, server.url("n", 10)).close()
    assert server.seen[-1][1].get("Authorization", "").startswith("Basic ")


def test_an_environment_proxy_is_used(server: KeepAliveServer,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    with KeepAliveServer() as proxy:
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.port}")
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        monkeypatch.setattr(remote, "_session", None)
        session = remote.shared_session()
        try:
            response = _get(session, server.url("p", 100))
            assert response.raw.read() == body("p", 100)
        finally:
            session.close()
        assert proxy.seen and proxy.seen[-1][0] == server.url("p", 100)
        assert not server.seen


def test_connection_errors_are_requests_errors(session: requests.Session) -> None:
    with KeepAliveServer() as gone:
        url = gone.url("x", 10)
    with pytest.raises(requests.ConnectionError):
        _get(session, url)


def test_the_environment_is_seen_again(monkeypatch: pytest.MonkeyPatch) -> None:
    base = requests.Session()
    cache = lean.EnvironmentCache(base.merge_environment_settings)
    monkeypatch.delenv("HTTPS_PROXY", raising=False)
    monkeypatch.delenv("https_proxy", raising=False)
    assert cache("https://cdn.example/a", {}, True, None, None)["proxies"] == {}
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    cache._env_read = float("-inf")          # (it looks at the variables twice a second)
    merged = cache("https://cdn.example/b", {}, True, None, None)
    assert merged["proxies"].get("https") == "http://proxy.example:3128"
    merged["proxies"].clear()                 # callers get their own copy
    assert cache("https://cdn.example/c", {}, True, None, None)["proxies"]


def test_a_patched_adapter_is_respected(server: KeepAliveServer, session: requests.Session,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = requests.adapters.HTTPAdapter.send

    def spying(self: requests.adapters.HTTPAdapter, request: requests.PreparedRequest,
               **kwargs: object) -> requests.Response:
        calls.append(str(request.url))
        return real(self, request, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", spying)
    _get(session, server.url("m", 10)).close()
    assert calls == [server.url("m", 10)]
