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


def test_etag_mismatch_is_an_integrity_error() -> None:
    import fsspec

    fs = fsspec.filesystem("memory")
    fs.pipe("/verify/x.bin", b"abc")
    writer = object_store.ObjectWriter(object_store.ObjectTarget(fs, "/verify/x.bin", "x"))
    writer.digests.update(memoryview(b"abc"))
    real = fs.info

    def lying(path: str, **kw: Any) -> dict:
        return {**real(path, **kw), "ETag": '"' + "0" * 32 + '"'}

    fs.info = lying  # type: ignore[method-assign]
    try:
        with pytest.raises(IntegrityError, match="ETag"):
            object_store.verify(writer, 3, hashlib.sha256(b"abc").hexdigest())
    finally:
        del fs.info


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
