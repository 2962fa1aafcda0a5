"""gen_nb.api.transport: key scoping (also across redirects), timeouts, retry and no-retry rules."""

from __future__ import annotations

import email.utils
import random
import time

import pytest
import requests
import responses

from gen_nb.api import transport as _http
from gen_nb.api.errors import NetworkError
from gen_nb.api.settings import resolve_settings

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


TIMEOUT = (10.0, 30.0)


def _policy(retries: int = 3) -> tuple[_http.Retrying, Sleeps]:
    sleeps = Sleeps()
    policy = _http.RetryPolicy(retries=retries, jitter=lambda: 0.0)
    return _http.Retrying(policy, "a test request", sleep=sleeps), sleeps


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
    response = _http.send(_session(), method, f"{API}/x", retrying=policy, timeout=TIMEOUT)
    assert response.status_code == 200 and len(responses.calls) == 2 and len(sleeps) == 1


@pytest.mark.parametrize("status", [400, 401, 403, 404, 405, 409, 422, 428])
@pytest.mark.parametrize("method", ["GET", "DELETE", "POST"])
@responses.activate
def test_never_retried(method, status) -> None:
    responses.add(method, f"{API}/x", status=status)
    policy, sleeps = _policy()
    response = _http.send(_session(), method, f"{API}/x", retrying=policy, timeout=TIMEOUT)
    assert response.status_code == status and len(responses.calls) == 1 and sleeps == []


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
@pytest.mark.parametrize("method", ["POST", "PATCH"])
@responses.activate
def test_post_and_patch_without_key_are_never_retried(method, status) -> None:
    responses.add(method, f"{API}/x", status=status)
    policy, _ = _policy()
    assert _http.send(_session(), method, f"{API}/x", retrying=policy, timeout=TIMEOUT,
                     json={}).status_code == status
    assert len(responses.calls) == 1


@pytest.mark.parametrize(("status", "retried"), [(429, True), (503, True), (500, False),
                                                 (502, False), (504, False)])
@responses.activate
def test_post_with_idempotency_key_retries_only_unprocessed(status, retried) -> None:
    responses.post(f"{API}/x", status=status)
    responses.post(f"{API}/x", status=201, json={"ok": True})
    policy, _ = _policy()
    response = _http.send(_session(), "POST", f"{API}/x", retrying=policy, timeout=TIMEOUT, json={},
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
    _http.send(_session(), "DELETE", f"{API}/x", retrying=policy, timeout=TIMEOUT, single_use=True)
    assert len(responses.calls) == (2 if retried else 1)


@responses.activate
def test_retries_are_bounded_and_back_off_exponentially() -> None:
    responses.get(f"{API}/x", status=503)
    policy, sleeps = _policy(retries=4)
    response = _http.send(_session(), "GET", f"{API}/x", retrying=policy, timeout=TIMEOUT)
    assert response.status_code == 503 and len(responses.calls) == 5
    assert sleeps == [0.25, 0.5, 1.0, 2.0]  # backoff 0.5·2ⁿ with the jitter factor at 0.5


def test_backoff_has_jitter_and_a_cap() -> None:
    policy = _http.RetryPolicy(retries=20, backoff=1.0, backoff_max=8.0, jitter=lambda: 0.999)
    assert 0.99 < policy.delay(0) < 1.0 and 7.9 < policy.delay(10) < 8.0
    low = _http.RetryPolicy(backoff=1.0, jitter=lambda: 0.0)
    assert low.delay(2) == 2.0 and low.delay(4) is None   # the budget (4) is spent


def test_backoff_jitter_leaves_the_users_random_sequence_alone() -> None:
    """A user who seeded ``random`` gets the same numbers whether or not gen_nb retried."""
    random.seed(1234)
    expected = [random.random() for _ in range(3)]
    random.seed(1234)
    delays = [_http.RetryPolicy(retries=5).delay(n) for n in range(3)]
    assert [random.random() for _ in range(3)] == expected
    assert len({round(d or 0, 9) for d in delays}) == 3       # still jittered (and growing)


def test_deadline_shrinks_reads_and_stops_waits() -> None:
    clock = [0.0]
    deadline = _http.Deadline(10.0, "listing", clock=lambda: clock[0])
    assert deadline.read_timeout(30.0) == 10.0 and not deadline.expired
    clock[0] = 9.5
    assert deadline.read_timeout(30.0) == pytest.approx(0.5)
    retrying = _http.Retrying(_http.RetryPolicy(retries=5, jitter=lambda: 0.0), "listing",
                              deadline=deadline, sleep=lambda s: None)
    with pytest.raises(_http.CallTimeout, match="deadline of 10 s"):
        retrying.pause("HTTP 503")       # the 0.25 s wait would still fit; 1 s more would not
        clock[0] = 9.9
        retrying.pause("HTTP 503")
    clock[0] = 10.0
    assert deadline.expired
    with pytest.raises(TimeoutError):
        deadline.check()


def test_budget_resets_only_after_real_progress() -> None:
    retrying = _http.Retrying(_http.RetryPolicy(retries=2, jitter=lambda: 0.0), "x",
                              reset_after=1000, sleep=lambda s: None)
    assert retrying.pause("a") and retrying.pause("b")
    retrying.progressed(999)              # a trickle is not progress
    assert retrying.pause("c") is False
    retrying.progressed(1000)
    assert retrying.pause("d") is True


@pytest.mark.parametrize("header", ["3", "http-date"])
@responses.activate
def test_retry_after_is_honoured(header) -> None:
    value = "3" if header == "3" else email.utils.formatdate(time.time() + 3, usegmt=True)
    responses.get(f"{API}/x", status=429, headers={"Retry-After": value})
    responses.get(f"{API}/x", status=200)
    policy, sleeps = _policy()
    response = _http.send(_session(), "GET", f"{API}/x", retrying=policy, timeout=TIMEOUT)
    assert response.status_code == 200
    assert sleeps[0] == pytest.approx(3, abs=1.1)


@responses.activate
def test_retry_after_beyond_the_bound_is_not_waited_for() -> None:
    responses.get(f"{API}/x", status=503, headers={"Retry-After": "3600"})
    policy, sleeps = _policy()
    response = _http.send(_session(), "GET", f"{API}/x", retrying=policy, timeout=TIMEOUT)
    assert response.status_code == 503
    assert len(responses.calls) == 1 and sleeps == []


@pytest.mark.parametrize("exc", [requests.ConnectionError("refused"),
                                 requests.ConnectTimeout("slow"), requests.ReadTimeout("slow"),
                                 requests.exceptions.ChunkedEncodingError("cut")])
@responses.activate
def test_get_retries_connection_errors_then_raises_network_error(exc) -> None:
    responses.get(f"{API}/x", body=exc)
    policy, sleeps = _policy(retries=2)
    with pytest.raises(NetworkError) as info:
        _http.send(_session(), "GET", f"{API}/x", retrying=policy, timeout=TIMEOUT,
                   check="Check the URL.")
    assert len(responses.calls) == 3 and len(sleeps) == 2
    text = str(info.value)
    assert "api.gen.pro" in text and "Check the URL." in text and KEY not in text
    assert isinstance(info.value, ConnectionError)


@responses.activate
def test_get_recovers_after_connection_error() -> None:
    responses.get(f"{API}/x", body=requests.ConnectionError("reset"))
    responses.get(f"{API}/x", json={"ok": 1})
    policy, _ = _policy()
    response = _http.send(_session(), "GET", f"{API}/x", retrying=policy, timeout=TIMEOUT)
    assert response.json() == {"ok": 1}


@pytest.mark.parametrize("headers", [None, {"Idempotency-Key": "k"}])
@responses.activate
def test_post_connection_error_is_not_retried(headers) -> None:
    responses.post(f"{API}/x", body=requests.ConnectionError("reset"))
    policy, _ = _policy()
    with pytest.raises(NetworkError, match="could not be reached"):
        _http.send(_session(), "POST", f"{API}/x", retrying=policy, timeout=TIMEOUT,
                   headers=headers)
    assert len(responses.calls) == 1


def test_network_error_for_a_closed_port_names_the_host() -> None:
    import socket

    with socket.socket() as sock:  # a port that is certainly closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    policy, sleeps = _policy(retries=1)
    with pytest.raises(NetworkError) as info:
        _http.send(_http.public_session(), "GET", f"http://127.0.0.1:{port}/x",
                   retrying=policy, timeout=TIMEOUT)
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
        _http.send(_session(), "GET", f"{API}/x?agent_id=1", retrying=policy, timeout=TIMEOUT)
    assert "retry 1/2" in caplog.text and KEY not in caplog.text
