"""stream_to: CDN → upload URL (sandbox storage and moto's S3 server) or a file object."""

from __future__ import annotations

import hashlib
import io
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _transfer_support import MiB, header_of

from gen_nb.api.errors import DownloadCancelled, TransferError, UploadRejectedError
from gen_nb.transfer import ProgressState, StreamResult, stream_to

SIZE = 3 * MiB + 99


pytestmark = pytest.mark.usefixtures("fast_transfer_retries")


def _storage_puts(sb: Any) -> list[Any]:
    return [r for r in sb.requests if r.server == "storage" and r.method in ("PUT", "POST")]


def test_stream_to_presigned_storage(sb: Any) -> None:
    url = sb.large_media_url(SIZE, "clip.mp4")
    dest = sb.storage_put_url("out/clip.mp4")
    seen: list[ProgressState] = []
    result = stream_to(url, dest, progress=seen.append)
    assert isinstance(result, StreamResult)
    stored = sb.storage_object("out/clip.mp4")
    assert stored is not None and stored.size == SIZE == result.bytes
    assert stored.sha256 == result.sha256 == sb.media_sha256(url)
    assert stored.content_type == "video/mp4"
    assert result.status == 200 and result.etag == f'"{stored.md5}"'
    assert "X-Amz-Signature" not in result.dest and result.dest.endswith("?…")
    put = _storage_puts(sb)[-1]
    assert header_of(put, "Content-Length") == str(SIZE)
    assert header_of(put, "Transfer-Encoding") is None
    assert not any(r.has_api_key for r in sb.requests)
    assert seen[-1].phase == "done" and seen[-1].done == SIZE


def test_post_and_extra_headers(sb: Any) -> None:
    url = sb.large_media_url(1000, "a.bin")
    result = stream_to(url, sb.storage_put_url("a.bin"), method="post",
                       headers={"Content-Type": "application/x-test", "X-Meta": "1"})
    stored = sb.storage_object("a.bin")
    assert stored is not None and stored.content_type == "application/x-test"
    assert result.status == 200 and _storage_puts(sb)[-1].method == "POST"


def test_an_empty_source_sends_content_length_zero(sb: Any) -> None:
    result = stream_to(sb.large_media_url(0, "empty.bin"), sb.storage_put_url("empty.bin"))
    assert result.bytes == 0 and result.sha256 == hashlib.sha256(b"").hexdigest()
    assert sb.storage_object("empty.bin").size == 0


@pytest.mark.parametrize("fault", [
    {"drop_after": MiB, "times": 1},
    {"status": 503, "times": 2},
    {"stall_after": 1000, "stall_seconds": 3, "times": 1},
])
def test_a_flaky_source_restarts_the_upload(sb: Any, fault: dict[str, Any]) -> None:
    url = sb.large_media_url(SIZE, "flaky.bin")
    sb.inject(server="cdn", **fault)
    result = stream_to(url, sb.storage_put_url("flaky.bin"), timeout=(5, 0.5))
    assert sb.storage_object("flaky.bin").sha256 == result.sha256 == sb.media_sha256(url)


def test_a_busy_destination_is_retried(sb: Any) -> None:
    url = sb.large_media_url(MiB, "busy.bin")
    sb.inject(server="storage", status=503, times=1)
    result = stream_to(url, sb.storage_put_url("busy.bin"))
    assert result.status == 200 and sb.storage_object("busy.bin").sha256 == result.sha256


def test_a_refused_upload_says_why(sb: Any) -> None:
    url = sb.large_media_url(MiB, "no.bin")
    bad = sb.storage_put_url("no.bin").replace("X-Amz-Signature=", "X-Amz-Signature=0")
    with pytest.raises(UploadRejectedError, match="SignatureDoesNotMatch") as info:
        stream_to(url, bad)
    assert info.value.status == 403
    assert "X-Amz-Signature" not in str(info.value)
    assert sb.storage_object("no.bin") is None


def test_a_source_without_length_goes_chunked_and_s3_refuses(sb: Any,
                                                             caplog: pytest.LogCaptureFixture
                                                             ) -> None:
    url = sb.large_media_url(MiB, "nolen.bin")
    sb.inject(server="cdn", no_length=True)
    with caplog.at_level(logging.WARNING, logger="gen_nb"), \
            pytest.raises(UploadRejectedError, match="NotImplemented") as info:
        stream_to(url, sb.storage_put_url("nolen.bin"))
    assert info.value.status == 501
    assert "chunked" in caplog.text
    assert header_of(_storage_puts(sb)[-1], "Transfer-Encoding") == "chunked"


def test_source_errors_are_transfer_errors(sb: Any) -> None:
    with pytest.raises(TransferError, match="HTTP 404"):
        stream_to(f"{sb.cdn_base}/large/nope/x.bin", sb.storage_put_url("x.bin"))


def test_cancel_stops_the_upload(sb: Any) -> None:
    url = sb.large_media_url(SIZE, "cancel.bin")
    sb.inject(server="cdn", rate=2 * MiB)
    cancel = threading.Event()

    def stop(state: ProgressState) -> None:
        if state.done >= MiB // 2:
            cancel.set()

    with pytest.raises(DownloadCancelled):
        stream_to(url, sb.storage_put_url("cancel.bin"), cancel=cancel, progress=stop)
    assert sb.storage_object("cancel.bin") is None


def test_stream_into_a_file_object(sb: Any) -> None:
    url = sb.large_media_url(SIZE, "f.bin")
    sink = io.BytesIO()
    result = stream_to(url, sink)
    assert result.status == 0 and result.bytes == SIZE
    assert hashlib.sha256(sink.getvalue()).hexdigest() == result.sha256 == sb.media_sha256(url)


def test_stream_into_a_raw_file(sb: Any, tmp_path: Path) -> None:
    url = sb.large_media_url(SIZE, "raw.bin")
    with open(tmp_path / "raw.bin", "wb", buffering=0) as raw:
        result = stream_to(url, raw)
    assert hashlib.sha256((tmp_path / "raw.bin").read_bytes()).hexdigest() == result.sha256


def test_bad_arguments(sb: Any) -> None:
    url = sb.large_media_url(10, "x.bin")
    with pytest.raises(ValueError, match="PUT or POST"):
        stream_to(url, sb.storage_put_url("x.bin"), method="PATCH")
    with pytest.raises(ValueError, match="dest="):
        stream_to(url, "/tmp/not-a-url")


# --- a real S3 protocol server: moto in server mode, a boto3 presigned PUT URL ------------------

@pytest.fixture(scope="module")
def s3() -> Iterator[Any]:
    boto3 = pytest.importorskip("boto3")
    moto_server = pytest.importorskip("moto.server")
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    try:
        host, port = server.get_host_and_port()
        client = boto3.client("s3", endpoint_url=f"http://{host}:{port}", region_name="us-east-1",
                              aws_access_key_id="testing", aws_secret_access_key="testing")
        client.create_bucket(Bucket="renders")
        yield client
    finally:
        server.stop()


def test_stream_to_a_moto_presigned_put(sb: Any, s3: Any) -> None:
    url = sb.large_media_url(SIZE, "render.mp4")
    presigned = s3.generate_presigned_url("put_object", Params={"Bucket": "renders",
                                                                "Key": "render.mp4"},
                                          ExpiresIn=600)
    result = stream_to(url, presigned)
    body = s3.get_object(Bucket="renders", Key="render.mp4")["Body"].read()
    assert len(body) == SIZE and hashlib.sha256(body).hexdigest() == result.sha256
    assert result.sha256 == sb.media_sha256(url)
    assert result.etag == f'"{hashlib.md5(body).hexdigest()}"'


def test_moto_refusal_is_an_upload_rejected_error(sb: Any, s3: Any) -> None:
    url = sb.large_media_url(1000, "x.mp4")
    presigned = s3.generate_presigned_url("put_object", Params={"Bucket": "no-such-bucket",
                                                                "Key": "x.mp4"}, ExpiresIn=600)
    with pytest.raises(UploadRejectedError, match="NoSuchBucket") as info:
        stream_to(url, presigned)
    assert info.value.status == 404


def test_giving_up_does_not_promise_a_partial_file(sb: Any) -> None:
    url = sb.large_media_url(MiB, "gone.bin")
    sb.inject(server="storage", status=503)
    with pytest.raises(TransferError) as caught:
        stream_to(url, sb.storage_put_url("gone.bin"), retries=1)
    assert "nothing was kept" in str(caught.value)
    assert "partial file" not in str(caught.value)
