"""Sandbox CDN, fault knobs, storage endpoint and request log, over real HTTP (requests, curl)."""

from __future__ import annotations

import hashlib
import http.client
import io
import shutil
import subprocess
import threading
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import requests

from gen_nb import sandbox
from gen_nb.sandbox import shaping

KB = 1024


@pytest.fixture(scope="module")
def sb() -> Iterator[sandbox.Sandbox]:
    with sandbox.start(render_seconds=1.0, publish_seconds=1.0) as handle:
        yield handle


@pytest.fixture(autouse=True)
def _clean(sb: sandbox.Sandbox) -> Iterator[None]:
    sb.clear_faults()
    sb.clear_log()
    yield
    sb.clear_faults()


@pytest.fixture()
def mp4_url(sb: sandbox.Sandbox) -> str:
    """A seeded render's MP4 URL (read-only use)."""
    data = sb.seed_data
    gen = data["generations"][data["renders_by_status"]["completed"][0]]
    return gen["output_resources"][0]["url"]


# --- CDN basics ---------------------------------------------------------------------------
def test_get_serves_real_mp4_with_validators(sb: sandbox.Sandbox, mp4_url: str) -> None:
    resp = requests.get(mp4_url, timeout=10)
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "video/mp4"
    assert resp.headers["Accept-Ranges"] == "bytes"
    assert resp.headers["ETag"].startswith('"') and not resp.headers["ETag"].startswith("W/")
    assert "Last-Modified" in resp.headers
    assert int(resp.headers["Content-Length"]) == len(resp.content)
    assert resp.content[4:8] == b"ftyp"
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    assert hashlib.sha256(resp.content).hexdigest() == sb.media_sha256(mp4_url)


@pytest.mark.parametrize(("range_header", "expected"), [
    ("bytes=0-99", (0, 100)), ("bytes=100-", (100, None)), ("bytes=-50", (-50, None)),
])
def test_range_206(mp4_url: str, range_header: str, expected: tuple[int, int | None]) -> None:
    full = requests.get(mp4_url, timeout=10).content
    resp = requests.get(mp4_url, headers={"Range": range_header}, timeout=10)
    assert resp.status_code == 206
    start, stop = expected
    assert resp.content == full[start:stop]
    first = start if start >= 0 else len(full) + start
    assert resp.headers["Content-Range"] == f"bytes {first}-{first + len(resp.content) - 1}/" \
        f"{len(full)}"


def test_unsatisfiable_range_416(mp4_url: str) -> None:
    size = int(requests.head(mp4_url, timeout=10).headers["Content-Length"])
    resp = requests.get(mp4_url, headers={"Range": f"bytes={size + 10}-"}, timeout=10)
    assert resp.status_code == 416
    assert resp.headers["Content-Range"] == f"bytes */{size}"


def test_multi_range_answers_whole_body(mp4_url: str) -> None:
    resp = requests.get(mp4_url, headers={"Range": "bytes=0-9,20-29"}, timeout=10)
    assert resp.status_code == 200
    assert len(resp.content) == int(resp.headers["Content-Length"])


def test_head_has_length_and_no_body(mp4_url: str) -> None:
    resp = requests.head(mp4_url, timeout=10)
    assert resp.status_code == 200 and resp.content == b""
    assert int(resp.headers["Content-Length"]) > 10 * KB


@pytest.mark.parametrize(("stale", "status"), [(True, 200), (False, 206)])
def test_if_range(mp4_url: str, stale: bool, status: int) -> None:
    etag = requests.head(mp4_url, timeout=10).headers["ETag"]
    validator = '"stale-etag"' if stale else etag
    resp = requests.get(mp4_url, headers={"Range": "bytes=10-", "If-Range": validator},
                        timeout=10)
    assert resp.status_code == status


def test_content_types(sb: sandbox.Sandbox) -> None:
    found = {}
    for item in sb.seed_data["content_resources"].values():
        res = item["content_resource"]
        found.setdefault(res["content_type"], res["url"])
    assert {"video/mp4", "image/jpeg", "image/png", "audio/mpeg", "application/zip"} <= set(found)
    for ctype, url in found.items():
        assert requests.head(url, timeout=10).headers["Content-Type"].startswith(ctype)


def test_unknown_path_404(sb: sandbox.Sandbox) -> None:
    assert requests.get(sb.cdn_base + "/outputs/nope.mp4", timeout=10).status_code == 404


def test_cdn_is_another_host(sb: sandbox.Sandbox) -> None:
    hosts = {urlsplit(u).netloc for u in (sb.url, sb.cdn_base, sb.storage_base)}
    assert len(hosts) == 3


def test_mutate_changes_bytes_and_validators(sb: sandbox.Sandbox) -> None:
    url = sb.large_media_url(3 * KB * KB, name="mutating.bin", seed=11)
    before = requests.head(url, timeout=10).headers
    digest = sb.media_sha256(url)
    sb.mutate(url)
    after = requests.get(url, timeout=10)
    assert after.headers["ETag"] != before["ETag"]
    assert after.headers["Last-Modified"] != before["Last-Modified"]
    assert len(after.content) == 3 * KB * KB
    assert hashlib.sha256(after.content).hexdigest() == sb.media_sha256(url) != digest
    stale = requests.get(url, headers={"Range": "bytes=5-", "If-Range": before["ETag"]},
                         timeout=10)
    assert stale.status_code == 200


def test_large_media_is_deterministic_and_ranged(sb: sandbox.Sandbox) -> None:
    size = 5 * KB * KB + 123
    url = sb.large_media_url(size, seed=7)
    assert sb.large_media_url(size, seed=7) == url
    body = requests.get(url, timeout=30).content
    assert len(body) == size
    assert hashlib.sha256(body).hexdigest() == sb.media_sha256(url)
    assert sb.media_sha256(sb.large_media_url(size, seed=8)) != sb.media_sha256(url)
    part = requests.get(url, headers={"Range": f"bytes={KB * KB - 5}-{2 * KB * KB + 5}"},
                        timeout=10)
    assert part.status_code == 206 and part.content == body[KB * KB - 5:2 * KB * KB + 6]


@pytest.mark.parametrize("name", ["with space.bin", "back\\slash.bin", "100%.bin"])
def test_large_media_names_needing_quotes(sb: sandbox.Sandbox, name: str) -> None:
    url = sb.large_media_url(1000, name=name, seed=3)
    answer = requests.get(url, timeout=10)
    assert answer.status_code == 200
    assert hashlib.sha256(answer.content).hexdigest() == sb.media_sha256(url)


def test_redirect_url(sb: sandbox.Sandbox, mp4_url: str) -> None:
    hop = sb.redirect_url(mp4_url)
    resp = requests.get(hop, allow_redirects=False, timeout=10)
    assert resp.status_code == 302 and resp.headers["Location"] == mp4_url
    assert requests.get(hop, timeout=10).content == requests.get(mp4_url, timeout=10).content


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl not installed")
def test_docs_curl_download(sb: sandbox.Sandbox, mp4_url: str, tmp_path) -> None:
    """The docs' ``curl -L -o final_video.mp4 <render url>`` works (through a redirect too)."""
    for url in (mp4_url, sb.redirect_url(mp4_url)):
        out = tmp_path / "final_video.mp4"
        subprocess.run(["curl", "-sS", "-f", "-L", "-o", str(out), url], check=True, timeout=30)
        assert hashlib.sha256(out.read_bytes()).hexdigest() == sb.media_sha256(mp4_url)


# --- faults -------------------------------------------------------------------------------
def _read_all(url: str, **kw) -> tuple[int, bytes]:
    got = bytearray()
    with requests.get(url, stream=True, timeout=kw.pop("timeout", 10), **kw) as resp:
        for chunk in resp.iter_content(64 * KB):
            got += chunk
        return resp.status_code, bytes(got)


def test_drop_after_gives_short_read(sb: sandbox.Sandbox) -> None:
    url = sb.large_media_url(2 * KB * KB, name="drop.bin")
    fault = sb.inject("cdn", path="/large/", drop_after=4 * 64 * KB, times=1)
    got = bytearray()
    with pytest.raises(requests.exceptions.ChunkedEncodingError), \
            requests.get(url, stream=True, timeout=10) as resp:
        for chunk in resp.iter_content(64 * KB):
            got += chunk
    assert len(got) == 4 * 64 * KB and fault.hits == 1 and not fault.active
    assert _read_all(url)[1] == bytes(requests.get(url, timeout=10).content)  # next one clean


def test_truncate_after_is_drop_after(sb: sandbox.Sandbox, mp4_url: str) -> None:
    fault = sb.inject("cdn", truncate_after=1000, times=1)
    assert fault.knobs == {"drop_after": 1000}
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        requests.get(mp4_url, timeout=10)


def test_status_fault_with_retry_after(sb: sandbox.Sandbox, mp4_url: str) -> None:
    sb.inject("cdn", status=429, retry_after=3, times=2)
    for _ in range(2):
        resp = requests.get(mp4_url, timeout=10)
        assert resp.status_code == 429 and resp.headers["Retry-After"] == "3"
    assert requests.get(mp4_url, timeout=10).status_code == 200


@pytest.mark.parametrize("status", [500, 502, 503, 504, 429])
def test_api_status_fault_has_json_envelope(sb: sandbox.Sandbox, status: int) -> None:
    sb.inject("api", path="/v1/generations/*", status=status, times=1)
    resp = requests.get(f"{sb.api_base}/generations/1", headers={"X-API-Key": sb.api_key},
                        timeout=10)
    assert resp.status_code == status
    assert set(resp.json()) == {"error", "error_code"}


def test_api_status_fault_can_be_html(sb: sandbox.Sandbox) -> None:
    sb.inject("api", status=502, html=True, times=1)
    resp = requests.get(f"{sb.api_base}/schedule/platforms", timeout=10)
    assert resp.status_code == 502 and resp.headers["Content-Type"].startswith("text/html")


def test_ignore_range(mp4_url: str, sb: sandbox.Sandbox) -> None:
    sb.inject("cdn", ignore_range=True, times=1)
    resp = requests.get(mp4_url, headers={"Range": "bytes=0-9"}, timeout=10)
    assert resp.status_code == 200 and len(resp.content) > 10


def test_no_etag(mp4_url: str, sb: sandbox.Sandbox) -> None:
    sb.inject("cdn", no_etag=True, times=1)
    headers = requests.get(mp4_url, timeout=10).headers
    assert "ETag" not in headers and "Last-Modified" not in headers


def test_no_length_is_close_delimited(mp4_url: str, sb: sandbox.Sandbox) -> None:
    full = requests.get(mp4_url, timeout=10).content
    sb.inject("cdn", no_length=True, times=1)
    resp = requests.get(mp4_url, timeout=10)
    assert "Content-Length" not in resp.headers and "Transfer-Encoding" not in resp.headers
    assert resp.content == full


def test_latency_delays_headers(mp4_url: str, sb: sandbox.Sandbox) -> None:
    sb.inject("cdn", latency=3, times=1)
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(mp4_url, timeout=(5, 0.3))


def test_stall_mid_body_times_out(sb: sandbox.Sandbox) -> None:
    url = sb.large_media_url(KB * KB, name="stall.bin")
    sb.inject("cdn", stall_after=100_000, stall_seconds=3, times=1)
    with pytest.raises(requests.exceptions.ConnectionError):
        _read_all(url, timeout=(5, 0.3))


def test_rate_paces_the_body_without_real_waiting() -> None:
    """The rate knob asks to wait until ``sent / rate`` seconds have passed, in small pieces
    (checked on the shaping function with a stop Event that records instead of sleeping)."""

    class RecordingStop(threading.Event):
        def __init__(self) -> None:
            super().__init__()
            self.waits: list[float] = []

        def wait(self, timeout: float | None = None) -> bool:
            self.waits.append(timeout or 0.0)
            return False

    stop, counted = RecordingStop(), []
    pieces = list(shaping.shape_body([b"x" * 200_000], [shaping.Rate(400_000, stop)],
                                     counted.append))
    assert b"".join(pieces) == b"x" * 200_000 and sum(counted) == 200_000
    assert max(len(p) for p in pieces) <= 400_000 // 20      # ≥ 20 pieces a second
    assert stop.waits == sorted(stop.waits)                 # each piece waits longer
    assert 0.45 < stop.waits[-1] <= 0.5                      # the last one: 200 KB / 400 KB/s
    unpaced = RecordingStop()
    assert list(shaping.shape_body([b"y" * 10], [], counted.append)) == [b"y" * 10]
    assert unpaced.waits == []


@pytest.fixture(scope="module")
def header_sb() -> Iterator[sandbox.Sandbox]:
    """A sandbox started with the test-only switch that honours ``X-Sandbox-Fault``."""
    with sandbox.start(fault_header=True) as handle:
        yield handle


@pytest.fixture()
def header_mp4(header_sb: sandbox.Sandbox) -> str:
    data = header_sb.seed_data
    return data["generations"][data["renders_by_status"]["completed"][0]][
        "output_resources"][0]["url"]


@pytest.mark.parametrize(("header", "check"), [
    ("ignore_range", lambda r: r.status_code == 200),
    ("status=503; retry_after=1", lambda r: r.status_code == 503),
    ("no_etag", lambda r: "ETag" not in r.headers),
])
def test_per_request_fault_header(header_mp4: str, header: str, check) -> None:
    resp = requests.get(header_mp4, headers={"Range": "bytes=0-9", "X-Sandbox-Fault": header},
                        timeout=10)
    assert check(resp)
    assert requests.get(header_mp4, headers={"Range": "bytes=0-9"}, timeout=10).status_code == 206


@pytest.mark.parametrize("header", ["drop_after=0", "truncate_after=10"])
def test_per_request_drop(header_mp4: str, header: str) -> None:
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        requests.get(header_mp4, headers={"X-Sandbox-Fault": header}, timeout=10)


def test_bad_fault_header_is_400(header_mp4: str) -> None:
    resp = requests.get(header_mp4, headers={"X-Sandbox-Fault": "explode=1"}, timeout=10)
    assert resp.status_code == 400


@pytest.mark.parametrize("header", ["status=503", "drop_after=0", "explode=1", "ignore_range"])
def test_fault_header_is_ignored_without_the_switch(sb: sandbox.Sandbox, mp4_url: str,
                                                    header: str) -> None:
    resp = requests.get(mp4_url, headers={"Range": "bytes=0-9", "X-Sandbox-Fault": header},
                        timeout=10)
    assert resp.status_code == 206 and len(resp.content) == 10
    (record,) = sb.requests
    assert record.fault_header_ignored and record.faults == {}
    assert record.headers["X-Sandbox-Fault"] == header


def test_fault_header_is_ignored_on_the_api_and_storage_too(sb: sandbox.Sandbox) -> None:
    api = requests.get(f"{sb.api_base}/schedule/platforms",
                       headers={"X-Sandbox-Fault": "status=500"}, timeout=10)
    put = requests.put(sb.storage_put_url("header.bin"), data=b"abc",
                       headers={"X-Sandbox-Fault": "drop_after=0"}, timeout=10)
    assert (api.status_code, put.status_code) == (200, 200)
    assert [r.fault_header_ignored for r in sb.requests] == [True, True]


def test_requests_without_the_header_are_not_marked(sb: sandbox.Sandbox, mp4_url: str) -> None:
    requests.head(mp4_url, timeout=10)
    assert [r.fault_header_ignored for r in sb.requests] == [False]


@pytest.mark.parametrize("kwargs", [{"explode": 1}, {}, {"status": 200}, {"drop_after": -1},
                                    {"server": "ftp", "status": 500}])
def test_inject_rejects_bad_arguments(sb: sandbox.Sandbox, kwargs) -> None:
    with pytest.raises(ValueError):
        sb.inject(**kwargs)


@pytest.mark.parametrize(("path", "method", "hit"), [
    ("/outputs/", None, True), ("/outputs/*.mp4", "GET", True), ("/thumbnails/", None, False),
    ("*.jpg", None, False), (None, "HEAD", False),
])
def test_fault_matching(sb: sandbox.Sandbox, mp4_url: str, path, method, hit: bool) -> None:
    sb.inject("cdn", path=path, method=method, status=503)
    assert (requests.get(mp4_url, timeout=10).status_code == 503) is hit


def test_faults_are_per_server(sb: sandbox.Sandbox, mp4_url: str) -> None:
    sb.inject("storage", status=500)
    assert requests.get(mp4_url, timeout=10).status_code == 200


# --- storage ------------------------------------------------------------------------------
def test_put_then_read_back(sb: sandbox.Sandbox) -> None:
    data = bytes(range(256)) * 4000
    url = sb.storage_put_url("exports/clip.mp4")
    resp = requests.put(url, data=data, headers={"Content-Type": "video/mp4"}, timeout=10)
    assert resp.status_code == 200
    assert resp.headers["ETag"] == f'"{hashlib.md5(data).hexdigest()}"'
    obj = sb.storage_object("exports/clip.mp4")
    assert obj is not None and obj.size == len(data) and obj.content_type == "video/mp4"
    assert obj.sha256 == hashlib.sha256(data).hexdigest()
    assert obj.headers["Content-Length"] == str(len(data))
    read = sb.storage_url("exports/clip.mp4", method="GET")
    assert requests.get(read, timeout=10).content == data


class _Unsized:
    """A file-like body without a length: requests adds Transfer-Encoding: chunked."""

    def __init__(self, data: bytes) -> None:
        self._buf = io.BytesIO(data)

    def read(self, size: int = -1) -> bytes:
        return self._buf.read(size)

    def __iter__(self) -> Iterator[bytes]:  # like urllib3's HTTPResponse (resp.raw)
        return iter(lambda: self._buf.read(8192), b"")


@pytest.mark.parametrize("kind", ["generator", "file_with_length_header"])
def test_chunked_put_is_refused_like_s3(sb: sandbox.Sandbox, kind: str) -> None:
    data = b"x" * 50_000
    if kind == "generator":
        body, headers = (data[i:i + 1000] for i in range(0, len(data), 1000)), {}
    else:  # raw bytes framed as chunked + Content-Length: what data=resp.raw sends
        body, headers = _Unsized(data), {"Content-Length": str(len(data))}
    resp = requests.put(sb.storage_put_url("chunked.bin"), data=body, headers=headers,
                        timeout=10)
    assert resp.status_code == 501
    assert "<Code>NotImplemented</Code>" in resp.text and "Transfer-Encoding" in resp.text
    assert sb.storage_object("chunked.bin") is None


def test_put_without_length_is_411(sb: sandbox.Sandbox) -> None:
    parts = urlsplit(sb.storage_put_url("nolength.bin"))
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    conn.putrequest("PUT", f"{parts.path}?{parts.query}")
    conn.endheaders()
    assert conn.getresponse().status == 411
    conn.close()


@pytest.mark.parametrize(("mangle", "code"), [
    (lambda u: u.split("?")[0], "AccessDenied"),
    (lambda u: u.replace("X-Amz-Signature=", "X-Amz-Signature=00"), "SignatureDoesNotMatch"),
])
def test_put_needs_a_valid_signature(sb: sandbox.Sandbox, mangle, code: str) -> None:
    resp = requests.put(mangle(sb.storage_put_url("sig.bin")), data=b"abc", timeout=10)
    assert resp.status_code == 403 and f"<Code>{code}</Code>" in resp.text


def test_put_drop_fault_breaks_the_upload(sb: sandbox.Sandbox) -> None:
    sb.inject("storage", method="PUT", drop_after=64 * KB, times=1)
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.put(sb.storage_put_url("dropped.bin"), data=b"z" * (4 * KB * KB), timeout=10)
    assert sb.storage_object("dropped.bin") is None


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl not installed")
def test_curl_upload_with_length(sb: sandbox.Sandbox, tmp_path) -> None:
    src = tmp_path / "up.bin"
    src.write_bytes(b"q" * 100_000)
    subprocess.run(["curl", "-sS", "-f", "-T", str(src), sb.storage_put_url("curl.bin")],
                   check=True, timeout=30)
    assert sb.storage_object("curl.bin").sha256 == hashlib.sha256(src.read_bytes()).hexdigest()


# --- request log --------------------------------------------------------------------------
def test_request_log_records_and_redacts(sb: sandbox.Sandbox, mp4_url: str) -> None:
    requests.get(f"{sb.api_base}/vidsheet", params={"agent_id": sb.agent_id},
                 headers={"X-API-Key": sb.api_key}, timeout=10)
    requests.get(f"{sb.api_base}/vidsheet", params={"agent_id": sb.agent_id},
                 headers={"Authorization": f"Bearer {sb.api_key}"}, timeout=10)
    requests.head(mp4_url, timeout=10)
    api1, api2, cdn = sb.requests
    assert (api1.server, api1.method, api1.path, api1.status) == ("api", "GET", "/v1/vidsheet",
                                                                 200)
    assert api1.query == {"agent_id": sb.agent_id} and api1.has_api_key and api2.has_api_key
    assert api1.host == urlsplit(sb.url).netloc
    assert (cdn.server, cdn.method, cdn.has_api_key) == ("cdn", "HEAD", False)
    assert sb.api_key not in repr(sb.requests) and sb.api_key not in repr(sb)
    assert api1.headers["X-Api-Key"] == api2.headers["Authorization"] == "<redacted>"
    sb.clear_log()
    assert sb.requests == []


def test_stop_closes_ports() -> None:
    handle = sandbox.start()
    url = handle.cdn_base
    handle.stop()
    handle.stop()  # idempotent
    assert "stopped" in repr(handle) and handle.cdn_base == url
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(url + "/outputs/x.mp4", timeout=5)
