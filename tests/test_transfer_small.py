"""The small-file way (gen_nb.transfer.small): one GET into memory, verified, written once,
moved into place without clobbering — and the hand-over of larger answers to the locked way."""

from __future__ import annotations

import errno
import hashlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _transfer_support import (
    KeepAliveServer,
    MiB,
    body,
    cdn_gets,
    header_of,
    leftovers,
    sha256_of,
)

import gen_nb
from gen_nb.api.errors import DestinationExistsError, DownloadCancelled
from gen_nb.transfer import files, small, task
from gen_nb.transfer.manifest import MANIFEST_NAME, manifest_for
from gen_nb.transfer.plan import Target

pytestmark = pytest.mark.usefixtures("fast_transfer_retries")


@pytest.fixture()
def server() -> Iterator[KeepAliveServer]:
    with KeepAliveServer() as running:
        yield running


def _sha(name: str, size: int) -> str:
    return hashlib.sha256(body(name, size)).hexdigest()


def test_a_small_file_needs_no_part_sidecar_or_lock(server: KeepAliveServer, download_dir: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[list[str]] = []
    real = small.write_new

    def watching(path: Path, data: Any, *, fsync: bool = False) -> None:
        seen.append(sorted(p.name for p in download_dir.iterdir()))
        real(path, data, fsync=fsync)

    monkeypatch.setattr(small, "write_new", watching)
    result = gen_nb.download(server.url("a.bin", 70_000), download_dir, progress=False)
    assert result.sha256 == _sha("a.bin", 70_000) == sha256_of(download_dir / "70000")
    assert result.bytes == 70_000 and server.requests == 1
    assert seen == [[]]                       # nothing on disk before the verified body
    assert sorted(p.name for p in download_dir.iterdir()) == ["70000", MANIFEST_NAME]
    record = manifest_for(download_dir).get("70000")
    assert record is not None and record.sha256 == result.sha256 and record.etag


def test_a_larger_new_file_goes_on_with_the_same_answer(server: KeepAliveServer,
                                                        download_dir: Path) -> None:
    size = small.SMALL_FILE + 1
    result = gen_nb.download(server.url("big.bin", size), download_dir, progress=False)
    assert result.sha256 == _sha("big.bin", size) and server.requests == 1
    assert leftovers(download_dir) == []


def test_a_rerun_skips_a_small_file(server: KeepAliveServer, download_dir: Path) -> None:
    url = server.url("s.bin", 1000)
    gen_nb.download(url, download_dir, progress=False)
    assert gen_nb.download(url, download_dir, progress=False).skipped


def _appearing(monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    """The final file appears (another writer) right before gen_nb moves its own into place."""
    real = task.publish

    def first_someone_else(src: Path, dst: Path, *, overwrite: bool) -> str:
        dst.write_bytes(data)
        return real(src, dst, overwrite=overwrite)

    monkeypatch.setattr(task, "publish", first_someone_else)


@pytest.mark.parametrize("size", [1000, 2 * MiB], ids=["small", "locked"])
def test_an_identical_file_that_appeared_meanwhile_is_accepted(
        server: KeepAliveServer, download_dir: Path, monkeypatch: pytest.MonkeyPatch,
        size: int) -> None:
    _appearing(monkeypatch, body("same.bin", size))
    result = gen_nb.download(server.url("same.bin", size), download_dir, progress=False)
    assert result.sha256 == _sha("same.bin", size) == sha256_of(download_dir / str(size))
    assert leftovers(download_dir) == [] and not list(download_dir.glob("*.tmp"))


@pytest.mark.parametrize("size", [1000, 2 * MiB], ids=["small", "locked"])
def test_a_different_file_that_appeared_meanwhile_is_never_clobbered(
        server: KeepAliveServer, download_dir: Path, monkeypatch: pytest.MonkeyPatch,
        size: int) -> None:
    _appearing(monkeypatch, b"someone else's")
    with pytest.raises(DestinationExistsError, match="appeared"):
        gen_nb.download(server.url("other.bin", size), download_dir, progress=False)
    assert (download_dir / str(size)).read_bytes() == b"someone else's"
    assert not list(download_dir.glob("*.tmp"))
    if size > small.SMALL_FILE:            # a finished .part stays: overwrite=True resumes it
        assert leftovers(download_dir) == [f"{size}.part", f"{size}.part.json"]
        again = gen_nb.download(server.url("other.bin", size), download_dir, overwrite=True,
                                progress=False)
        assert again.sha256 == _sha("other.bin", size) and again.resumed_from == size


def test_without_hard_links_the_move_replaces_under_the_lock(
        server: KeepAliveServer, download_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_links(src: Any, dst: Any, **kwargs: Any) -> None:
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    for size in (1000, 2 * MiB):
        result = gen_nb.download(server.url("nl.bin", size), download_dir, progress=False)
        assert result.sha256 == _sha("nl.bin", size)
    assert leftovers(download_dir) == [] and not list(download_dir.glob("*.tmp"))
    _appearing(monkeypatch, b"x")
    with pytest.raises(DestinationExistsError):
        gen_nb.download(server.url("nl2.bin", 1001), download_dir, progress=False)
    assert (download_dir / "1001").read_bytes() == b"x"


def test_publish_never_replaces_without_overwrite(tmp_path: Path) -> None:
    src, dst = tmp_path / "src", tmp_path / "dst"
    src.write_bytes(b"new")
    dst.symlink_to(tmp_path / "nowhere")
    assert files.publish(src, dst, overwrite=False) == "taken"
    assert dst.is_symlink() and src.read_bytes() == b"new"
    assert files.publish(src, dst, overwrite=True) == "moved"
    assert dst.read_bytes() == b"new" and not dst.is_symlink() and not src.exists()


def test_a_part_left_hard_linked_to_the_final_file_is_cleaned_up(
        server: KeepAliveServer, download_dir: Path) -> None:
    url = server.url("hl.bin", 2 * MiB)
    gen_nb.download(url, download_dir, progress=False)
    target = Target(download_dir / str(2 * MiB))
    os.link(target.path, target.part)        # a run stopped between link and unlink
    target.sidecar.write_text("{}")
    assert gen_nb.download(url, download_dir, progress=False).skipped
    assert leftovers(download_dir) == []


def test_two_threads_on_one_small_file_download_it_once(server: KeepAliveServer,
                                                        download_dir: Path) -> None:
    url, results = server.url("t.bin", 5000), []
    barrier = threading.Barrier(2)

    def one() -> None:
        barrier.wait()
        results.append(gen_nb.download(url, download_dir, progress=False))

    threads = [threading.Thread(target=one) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(r.skipped for r in results) == [False, True]
    assert server.requests == 2              # the second only checks (Range: bytes=0-0)


def test_a_small_body_cut_short_is_kept_and_resumed(sb: Any, download_dir: Path) -> None:
    url = sb.large_media_url(200_000, "cut.bin")
    sb.inject(server="cdn", drop_after=50_000, times=1)
    result = gen_nb.download(url, download_dir, progress=False)
    assert result.sha256 == sb.media_sha256(url) and result.resumed_from == 50_000
    ranged = [g for g in cdn_gets(sb, "cut.bin") if header_of(g, "Range")]
    assert [header_of(g, "Range") for g in ranged] == ["bytes=50000-"]
    assert header_of(ranged[0], "If-Range")
    assert leftovers(download_dir) == []


def test_a_cancelled_small_body_keeps_its_part(sb: Any, download_dir: Path) -> None:
    url = sb.large_media_url(600_000, "c.bin")
    sb.inject(server="cdn", rate=400_000)
    cancel = threading.Event()

    def stop(state: Any) -> None:
        if state.done >= 100_000:
            cancel.set()

    with pytest.raises(DownloadCancelled):
        gen_nb.download(url, download_dir, cancel=cancel, progress=stop)
    assert leftovers(download_dir) == ["c.bin.part", "c.bin.part.json"]
    sb.clear_faults()
    result = gen_nb.download(url, download_dir, progress=False)
    assert result.resumed_from >= 100_000 and result.sha256 == sb.media_sha256(url)


def test_the_small_way_is_only_for_new_single_stream_downloads(sb: Any, download_dir: Path,
                                                               monkeypatch: pytest.MonkeyPatch
                                                               ) -> None:
    used: list[str] = []
    real = small.fetch

    def counting(task: Any) -> Any:
        used.append(task.url)
        return real(task)

    monkeypatch.setattr("gen_nb.transfer.downloader.fetch", counting)
    segmented = sb.large_media_url(3000, "seg.bin")
    assert gen_nb.download(segmented, download_dir, segments=4).sha256 == \
        sb.media_sha256(segmented)
    (download_dir / "old.bin.part").write_bytes(b"left over")   # an old partial file
    old = sb.large_media_url(3000, "old.bin")
    assert gen_nb.download(old, download_dir).sha256 == sb.media_sha256(old)
    assert used == [] and leftovers(download_dir) == []
    new = sb.large_media_url(3000, "new.bin")
    gen_nb.download(new, download_dir)
    assert used == [new]
