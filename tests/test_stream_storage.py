"""stream_to into object storage through fsspec: memory://, file:// and a real S3 server (moto)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

import gen_nb
from gen_nb.api.errors import IntegrityError, TransferError, UsageError
from gen_nb.transfer import object_store

MiB = 1 << 20


def test_memory_destination_holds_exactly_the_bytes(sb: Any) -> None:
    import fsspec

    url = sb.large_media_url(3 * MiB, "m.bin", seed=1)
    result = gen_nb.stream_to(url, "memory://gen-nb-test/a/m.bin", progress=False)
    data = fsspec.filesystem("memory").cat("/gen-nb-test/a/m.bin")
    assert result.bytes == len(data) == 3 * MiB
    assert hashlib.sha256(data).hexdigest() == result.sha256 == sb.media_sha256(url)


def test_file_destination_appears_only_when_complete(sb: Any, tmp_path: Path) -> None:
    url = sb.large_media_url(2 * MiB, "f.bin", seed=2)
    sb.inject("cdn", path="/large/", drop_after=MiB, times=9)     # every attempt breaks
    target = tmp_path / "out" / "f.bin"
    with pytest.raises(TransferError):
        gen_nb.stream_to(url, f"file://{target}", progress=False, retries=1)
    assert not target.exists()
    sb.clear_faults()
    result = gen_nb.stream_to(url, f"file://{target}", progress=False, reread=True)
    assert target.read_bytes() and result.sha256 == sb.media_sha256(url)


def test_s3_multipart_upload_is_verified_against_its_etag(sb: Any, moto: Any) -> None:
    bucket = moto.bucket("gen-nb-stream")
    url = sb.large_media_url(12 * MiB, "big.bin", seed=3)
    result = gen_nb.stream_to(url, f"s3://{bucket}/renders/big.bin", progress=False,
                              storage_options=moto.storage_options, chunk_size=5 * MiB)
    info = moto.s3fs().info(f"{bucket}/renders/big.bin")
    assert info["size"] == 12 * MiB and result.etag and result.etag.endswith("-3")
    assert result.sha256 == sb.media_sha256(url)


def test_s3_upload_broken_midway_leaves_no_object(sb: Any, moto: Any) -> None:
    bucket = moto.bucket("gen-nb-broken")
    url = sb.large_media_url(12 * MiB, "cut.bin", seed=4)
    sb.inject("cdn", path="/large/", drop_after=7 * MiB, times=9)
    with pytest.raises(TransferError):
        gen_nb.stream_to(url, f"s3://{bucket}/cut.bin", progress=False, retries=1,
                         storage_options=moto.storage_options, chunk_size=5 * MiB)
    assert not moto.s3fs().exists(f"{bucket}/cut.bin")


def test_a_missing_bucket_is_a_clear_error(sb: Any, moto: Any) -> None:
    url = sb.large_media_url(MiB, "x.bin")
    with pytest.raises(TransferError, match="nothing was stored"):
        gen_nb.stream_to(url, "s3://no-such-bucket-gen-nb/x.bin", progress=False, retries=0,
                         storage_options=moto.storage_options)


def _lying_etag(fs: Any) -> None:
    real = fs.info
    fs.info = lambda path, **kw: {**real(path, **kw), "ETag": '"' + "0" * 32 + '"'}


def test_an_etag_that_is_no_md5_of_ours_means_read_it_back() -> None:
    """SSE-KMS ETags are no MD5: intact bytes pass (read back), other bytes fail."""
    import fsspec

    fs = fsspec.filesystem("memory")
    fs.pipe("/verify/x.bin", b"abc")
    writer = object_store.ObjectWriter(object_store.ObjectTarget(fs, "/verify/x.bin", "x"))
    writer.digests.update(memoryview(b"abc"))
    _lying_etag(fs)
    try:
        assert object_store.verify(writer, 3, hashlib.sha256(b"abc").hexdigest()) == "0" * 32
        fs.pipe("/verify/x.bin", b"abd")                   # the store holds other bytes
        with pytest.raises(IntegrityError, match="reading the object back gives sha256"):
            object_store.verify(writer, 3, hashlib.sha256(b"abc").hexdigest())
    finally:
        del fs.info
        fs.rm("/verify", recursive=True)


def test_a_small_object_is_one_put_checked_by_its_answer(sb: Any, moto: Any) -> None:
    import logging

    calls: list[str] = []

    class Calls(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            message = record.getMessage()
            if message.startswith("CALL: "):
                calls.append(message.split()[1].rstrip(","))

    bucket = moto.bucket("gen-nb-one-put")
    url = sb.large_media_url(300_000, "small.bin", seed=7)
    handler, log = Calls(), logging.getLogger("s3fs")
    level = log.level
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)
    try:
        result = gen_nb.stream_to(url, f"s3://{bucket}/a/small.bin", progress=False,
                                  storage_options=moto.storage_options)
    finally:
        log.removeHandler(handler)
        log.setLevel(level)
    assert calls == ["put_object"], calls            # no multipart, no HEAD afterwards
    assert result.etag == hashlib.md5(moto.s3fs().cat(f"{bucket}/a/small.bin")).hexdigest()
    assert result.sha256 == sb.media_sha256(url)


def test_part_digests_match_s3_multipart_etags() -> None:
    parts = [b"a" * 5, b"b" * 5, b"c" * 2]
    digests = object_store.PartDigests(5)
    for piece in (b"aaa", b"aabbb", b"bbcc"):
        digests.update(memoryview(piece))
    expected = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest() + "-3"
    assert expected in digests.etags()
    assert hashlib.md5(b"".join(parts)).hexdigest() in digests.etags()


def test_an_unknown_scheme_names_the_missing_extra(sb: Any) -> None:
    url = sb.large_media_url(1024, "y.bin")
    with pytest.raises(UsageError, match=r"gen_nb\[gcs\]|driver"):
        gen_nb.stream_to(url, "gs://bucket/y.bin", progress=False)
