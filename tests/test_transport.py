"""gen_nb._http: key scoping (also across redirects), timeouts, retry and no-retry rules."""

from __future__ import annotations

import email.utils
import time

import pytest
import requests
import responses

from gen_nb import _http
from gen_nb.config import resolve_settings
from gen_nb.errors import NetworkError

API = "https://api.gen.pro/v1"
KEY = "gen_pat_test_SECRET"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"


def _session(key: str = KEY, base: str = API) -> requests.Session:
    return _http.api_session(resolve_settings(key, agent_id="1", base_url=base, env={}))


def _has_key(request: requests.PreparedRequest) -> bool:
    return "X-API-Key" in request.headers or "Authorization" in request.headers


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def _policy(retries: int = 3) -> tuple[_http.RetryPolicy, Sleeps]:
    sleeps = Sleeps()
    return _http.RetryPolicy(retries=retries, sleep=sleeps, jitter=lambda: 0.0), sleeps


# --- which header carries the key -------------------------------------------------------------

@pytest.mark.parametrize(("key", "header", "value"), [
    ("gen_pat_abc", "X-API-Key", "gen_pat_abc"),
    ("plainkey", "X-API-Key", "plainkey"),
    (JWT, "Authorization", f"Bearer {JWT}"),
    (f"Bearer {JWT}", "Authorization", f"Bearer {JWT}"),
    ("gen_pat_a.b.c", "X-API-Key", "gen_pat_a.b.c"),
])
def test_auth_header(key, header, value) -> None:
    assert _http.auth_header(key) == (header, value)


@pytest.mark.parametrize(("url", "sent"), [
    ("https://api.gen.pro/v1/generations/1", True),
    ("https://API.GEN.PRO:443/v1/x", True),
    ("http://api.gen.pro/v1/x", False),          # other scheme
    ("https://api.gen.pro:8443/v1/x", False),    # other port
    ("https://cdn.gen.pro/outputs/a.mp4", False),
    ("https://api.gen.pro.evil.test/v1", False),
    ("https://storage.example.com/put?sig=1", False),
])
@pytest.mark.parametrize("key", [KEY, JWT])
@responses.activate
def test_key_only_sent_to_api_origin(url, sent, key) -> None:
    responses.get(url, body=b"ok")
    _session(key).get(url)
    assert _has_key(responses.calls[0].request) is sent


@pytest.mark.parametrize("key", [KEY, JWT])
@responses.activate
def test_key_dropped_on_redirect_to_other_host_and_back(key) -> None:
    responses.get(f"{API}/hop", status=302, headers={"Location": "https://cdn.gen.pro/a.mp4"})
    responses.get("https://cdn.gen.pro/a.mp4", status=302,
                  headers={"Location": f"{API}/back"})
    responses.get(f"{API}/back", body=b"done")
    response = _session(key).get(f"{API}/hop")
    assert response.text == "done"
    first, cdn, back = (c.request for c in responses.calls)
    assert _has_key(first) and not _has_key(cdn) and _has_key(back)


@responses.activate
def test_key_dropped_on_redirect_to_same_host_other_port() -> None:
    responses.get(f"{API}/hop", status=307, headers={"Location": "https://api.gen.pro:8443/x"})
    responses.get("https://api.gen.pro:8443/x", body=b"x")
    _session().get(f"{API}/hop")
    assert not _has_key(responses.calls[1].request)


@responses.activate
def test_public_session_never_sends_a_key() -> None:
    responses.get("https://cdn.gen.pro/a.mp4", body=b"x")
    session = _http.public_session()
    session.get("https://cdn.gen.pro/a.mp4")
    assert session.auth is None and not _has_key(responses.calls[0].request)
    adapter = session.get_adapter("https://cdn.gen.pro/")
    assert adapter._pool_maxsize >= 16 and adapter.max_retries.total == 0


def test_key_not_in_session_or_auth_repr() -> None:
    session = _session()
    assert KEY not in repr(session) and KEY not in repr(session.auth)


@responses.activate
def test_every_request_has_a_timeout() -> None:
    responses.get(f"{API}/x", body=b"{}")
    _session().get(f"{API}/x")
    _session().get(f"{API}/x", timeout=3)
    assert responses.calls[0].request.req_kwargs["timeout"] == (10.0, 30.0)
    assert responses.calls[1].request.req_kwargs["timeout"] == 3


# --- retries ------------------------------------------------------------------------------------

@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
@pytest.mark.parametrize("method", ["GET", "HEAD", "DELETE"])
@responses.activate
def test_idempotent_requests_retry_on_transient_status(method, status) -> None:
    responses.add(method, f"{API}/x", status=status)
    responses.add(method, f"{API}/x", status=200)
    policy, sleeps = _policy()
    response = _http.retrying(_session(), method, f"{API}/x", policy=policy)
    assert response.status_code == 200 and len(responses.calls) == 2 and len(sleeps) == 1


@pytest.mark.parametrize("status", [400, 401, 403, 404, 405, 409, 422, 428])
@pytest.mark.parametrize("method", ["GET", "DELETE", "POST"])
@responses.activate
def test_never_retried(method, status) -> None:
    responses.add(method, f"{API}/x", status=status)
    policy, sleeps = _policy()
    response = _http.retrying(_session(), method, f"{API}/x", policy=policy)
    assert response.status_code == status and len(responses.calls) == 1 and sleeps == []


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
@pytest.mark.parametrize("method", ["POST", "PATCH"])
@responses.activate
def test_post_and_patch_without_key_are_never_retried(method, status) -> None:
    responses.add(method, f"{API}/x", status=status)
    policy, _ = _policy()
    assert _http.retrying(_session(), method, f"{API}/x", policy=policy,
                          json={}).status_code == status
    assert len(responses.calls) == 1


@pytest.mark.parametrize(("status", "retried"), [(429, True), (503, True), (500, False),
                                                 (502, False), (504, False)])
@responses.activate
def test_post_with_idempotency_key_retries_only_unprocessed(status, retried) -> None:
    responses.post(f"{API}/x", status=status)
    responses.post(f"{API}/x", status=201, json={"ok": True})
    policy, _ = _policy()
    response = _http.retrying(_session(), "POST", f"{API}/x", policy=policy, json={},
                              headers={"Idempotency-Key": "k1"})
    assert len(responses.calls) == (2 if retried else 1)
    assert response.status_code == (201 if retried else status)
    assert all(c.request.headers["Idempotency-Key"] == "k1" for c in responses.calls)


@pytest.mark.parametrize(("status", "retried"), [(429, True), (503, True), (500, False)])
@responses.activate
def test_single_use_delete_is_cautious(status, retried) -> None:
    responses.delete(f"{API}/x", status=status)
    responses.delete(f"{API}/x", status=204)
    policy, _ = _policy()
    _http.retrying(_session(), "DELETE", f"{API}/x", policy=policy, single_use=True)
    assert len(responses.calls) == (2 if retried else 1)


@responses.activate
def test_retries_are_bounded_and_back_off_exponentially() -> None:
    responses.get(f"{API}/x", status=503)
    policy, sleeps = _policy(retries=4)
    response = _http.retrying(_session(), "GET", f"{API}/x", policy=policy)
    assert response.status_code == 503 and len(responses.calls) == 5
    assert sleeps == [0.25, 0.5, 1.0, 2.0]  # backoff 0.5·2ⁿ with the jitter factor at 0.5


def test_backoff_has_jitter_and_a_cap() -> None:
    policy = _http.RetryPolicy(backoff=1.0, backoff_max=8.0, jitter=lambda: 0.999)
    assert 0.99 < policy.delay(0) < 1.0 and 7.9 < policy.delay(10) < 8.0
    low = _http.RetryPolicy(backoff=1.0, jitter=lambda: 0.0)
    assert low.delay(2) == 2.0


@pytest.mark.parametrize("header", ["3", "http-date"])
@responses.activate
def test_retry_after_is_honoured(header) -> None:
    value = "3" if header == "3" else email.utils.formatdate(time.time() + 3, usegmt=True)
    responses.get(f"{API}/x", status=429, headers={"Retry-After": value})
    responses.get(f"{API}/x", status=200)
    policy, sleeps = _policy()
    assert _http.retrying(_session(), "GET", f"{API}/x", policy=policy).status_code == 200
    assert sleeps[0] == pytest.approx(3, abs=1.1)


@responses.activate
def test_retry_after_beyond_the_bound_is_not_waited_for() -> None:
    responses.get(f"{API}/x", status=503, headers={"Retry-After": "3600"})
    policy, sleeps = _policy()
    assert _http.retrying(_session(), "GET", f"{API}/x", policy=policy).status_code == 503
    assert len(responses.calls) == 1 and sleeps == []


@pytest.mark.parametrize("exc", [requests.ConnectionError("refused"),
                                 requests.ConnectTimeout("slow"), requests.ReadTimeout("slow"),
                                 requests.exceptions.ChunkedEncodingError("cut")])
@responses.activate
def test_get_retries_connection_errors_then_raises_network_error(exc) -> None:
    responses.get(f"{API}/x", body=exc)
    policy, sleeps = _policy(retries=2)
    with pytest.raises(NetworkError) as info:
        _http.retrying(_session(), "GET", f"{API}/x", policy=policy, check="Check the URL.")
    assert len(responses.calls) == 3 and len(sleeps) == 2
    text = str(info.value)
    assert "api.gen.pro" in text and "Check the URL." in text and KEY not in text
    assert isinstance(info.value, ConnectionError)


@responses.activate
def test_get_recovers_after_connection_error() -> None:
    responses.get(f"{API}/x", body=requests.ConnectionError("reset"))
    responses.get(f"{API}/x", json={"ok": 1})
    policy, _ = _policy()
    assert _http.retrying(_session(), "GET", f"{API}/x", policy=policy).json() == {"ok": 1}


@pytest.mark.parametrize("headers", [None, {"Idempotency-Key": "k"}])
@responses.activate
def test_post_connection_error_is_not_retried(headers) -> None:
    responses.post(f"{API}/x", body=requests.ConnectionError("reset"))
    policy, _ = _policy()
    with pytest.raises(NetworkError, match="could not be reached"):
        _http.retrying(_session(), "POST", f"{API}/x", policy=policy, headers=headers)
    assert len(responses.calls) == 1


def test_network_error_for_a_closed_port_names_the_host() -> None:
    import socket

    with socket.socket() as sock:  # a port that is certainly closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    policy, sleeps = _policy(retries=1)
    with pytest.raises(NetworkError) as info:
        _http.retrying(_http.public_session(), "GET", f"http://127.0.0.1:{port}/x",
                       policy=policy)
    assert f"127.0.0.1:{port}" in str(info.value) and len(sleeps) == 1


@pytest.mark.parametrize(("method", "kwargs", "expected"), [
    ("GET", {"status": 503}, True), ("get", {"status": 429}, True),
    ("GET", {"status": 404}, False), ("PUT", {"status": 503}, False),
    ("POST", {"status": 503, "keyed": True}, True), ("POST", {"status": 502, "keyed": True}, False),
    ("POST", {"error": requests.ConnectionError(), "keyed": True}, False),
    ("DELETE", {"error": requests.ConnectionError()}, True),
    ("DELETE", {"error": requests.ConnectionError(), "single_use": True}, False),
    ("GET", {"error": ValueError()}, False),
])
def test_may_retry_table(method, kwargs, expected) -> None:
    assert _http.may_retry(method, **kwargs) is expected


@responses.activate
def test_retry_logs_never_contain_the_key(caplog) -> None:
    responses.get(f"{API}/x", status=503)
    policy, _ = _policy(retries=2)
    with caplog.at_level("DEBUG"):
        _http.retrying(_session(), "GET", f"{API}/x?agent_id=1", policy=policy)
    assert "retry 1/2" in caplog.text and KEY not in caplog.text
