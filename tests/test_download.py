"""gen_nb.download against the sandbox CDN: placement, skipping, clobbering, resuming, locks,
path traversal, disk full, and odd servers (via ``responses``)."""

from __future__ import annotations

import base64
import errno
import gzip
import hashlib
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
import responses
from _transfer_support import MiB, can_mount_tmpfs, cdn_gets, header_of, leftovers, sha256_of

from gen_nb.api.errors import (
    DestinationExistsError,
    DownloadCancelled,
    DownloadLockedError,
    InsufficientSpaceError,
    IntegrityError,
    NotFoundError,
    TransferError,
    UsageError,
)
from gen_nb.api.models import ContentResource, Generation, LayerOutput, OutputResource, Render
from gen_nb.transfer import DownloadResult, ProgressState, download
from gen_nb.transfer.manifest import MANIFEST_NAME

pytestmark = pytest.mark.usefixtures("fast_transfer_retries")


def _stop_after(cancel: threading.Event, nbytes: int) -> Any:
    def callback(state: ProgressState) -> None:
        if state.done >= nbytes:
            cancel.set()
    return callback


def test_download_to_a_folder(sb: Any, download_dir: Path) -> None:
    url = sb.large_media_url(3 * MiB, "clip.mp4")
    result = download(url, download_dir)
    assert isinstance(result, DownloadResult)
    assert result.path == download_dir / "clip.mp4"
    assert (result.bytes, result.resumed_from, result.skipped, result.segments) == \
        (3 * MiB, 0, False, 1)
    assert result.sha256 == sha256_of(result.path) == sb.media_sha256(url)
    assert leftovers(download_dir) == []
    gets = cdn_gets(sb, "clip.mp4")
    assert gets and not any(r.has_api_key for r in gets)
    assert header_of(gets[0], "Accept-Encoding") == "identity"


def test_download_to_a_file_path_and_default_folder(sb: Any, tmp_path: Path) -> None:
    url = sb.large_media_url(1000, "x.bin")
    result = download(url, tmp_path / "new" / "renamed.dat")
    assert result.path == tmp_path / "new" / "renamed.dat"
    result = download(url)      # GEN_NB_DOWNLOAD_DIR from the conftest
    assert result.path == Path(os.environ["GEN_NB_DOWNLOAD_DIR"]) / "x.bin"
    assert result.sha256 == sb.media_sha256(url)


def test_an_existing_file_without_extension_is_a_file_dest(sb: Any, tmp_path: Path) -> None:
    url = sb.large_media_url(1000, "x.bin")
    (tmp_path / "notes").write_text("mine")
    with pytest.raises(DestinationExistsError):
        download(url, tmp_path / "notes")
    assert download(url, tmp_path / "newdir").path == tmp_path / "newdir" / "x.bin"


def test_a_planted_symlink_is_never_written_through(sb: Any, download_dir: Path,
                                                    tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (download_dir / "link.bin.part").symlink_to(victim)
    with pytest.raises(TransferError, match="symbolic link"):
        download(sb.large_media_url(5000, "link.bin"), download_dir)
    assert victim.read_text() == "precious"
    (download_dir / "link.bin.part").unlink()
    (download_dir / "link.bin.lock").symlink_to(victim)
    with pytest.raises(TransferError, match="symbolic link"):
        download(sb.large_media_url(5000, "link.bin"), download_dir)
    assert victim.read_text() == "precious"


def test_models_are_sources(sb: Any, download_dir: Path) -> None:
    url = sb.large_media_url(2000, "final.mp4")
    sources = [
        Render(id="1", status="completed", url=url),
        LayerOutput(render_id="1", layer_id="2", name="vo", type="sound", kind="audio",
                    position=0, status="completed", url=url, thumbnail_url=None,
                    output_resource_id="9"),
        ContentResource(id="7", url=url, file_name="nice name.mp4"),
        OutputResource(id="8", url=url),
        Generation(id="3", status="completed", output_resources=(OutputResource("8", url),)),
    ]
    names = {download(src, download_dir, overwrite=True).path.name for src in sources}
    assert names == {"final.mp4", "nice name.mp4"}
    with pytest.raises(ValueError, match="no URL to download yet"):
        download(Render(id="5", status="processing"), download_dir)
    with pytest.raises(ValueError, match="http"):
        download("file:///etc/passwd", download_dir)


def test_a_complete_file_is_skipped(sb: Any, download_dir: Path) -> None:
    url = sb.large_media_url(2 * MiB, "same.bin")
    first = download(url, download_dir)
    sb.clear_log()
    second = download(url, download_dir)
    assert second.skipped and second.bytes == first.bytes and second.sha256 == first.sha256
    assert [header_of(r, "Range") for r in cdn_gets(sb, "same.bin")] == ["bytes=0-0"]


def test_a_different_file_is_never_overwritten(sb: Any, download_dir: Path) -> None:
    url = sb.large_media_url(5000, "mine.txt")
    mine = download_dir / "mine.txt"
    mine.write_bytes(b"my own notes")
    with pytest.raises(DestinationExistsError, match="overwrite=True"):
        download(url, download_dir)
    assert mine.read_bytes() == b"my own notes"
    assert leftovers(download_dir) == []
    result = download(url, download_dir, overwrite=True)
    assert result.sha256 == sha256_of(mine) == sb.media_sha256(url)


def test_a_changed_source_does_not_clobber_the_old_download(sb: Any,
                                                            download_dir: Path) -> None:
    url = sb.large_media_url(4000, "v.bin", seed=11)
    old = download(url, download_dir)
    sb.mutate(url)
    with pytest.raises(DestinationExistsError, match="older version"):
        download(url, download_dir)
    new = download(url, download_dir, overwrite=True)
    assert new.sha256 == sb.media_sha256(url) != old.sha256


def test_same_size_foreign_file_is_never_taken_for_the_download(sb: Any,
                                                                download_dir: Path) -> None:
    """Size alone proves nothing: a same-size file gen_nb has no record of is a conflict."""
    url = sb.large_media_url(100, "f.bin")
    (download_dir / "f.bin").write_bytes(b"z" * 100)
    with pytest.raises(DestinationExistsError, match="cannot vouch"):
        download(url, download_dir)
    result = download(url, download_dir, overwrite=True)
    assert not result.skipped and result.sha256 == sb.media_sha256(url)


def test_a_file_changed_after_download_is_not_skipped(sb: Any, download_dir: Path) -> None:
    url = sb.large_media_url(100, "g.bin")
    first = download(url, download_dir)
    first.path.write_bytes(b"y" * 100)             # same size, other bytes
    with pytest.raises(DestinationExistsError, match="changed since"):
        download(url, download_dir)


@pytest.mark.parametrize("kind", ["inside", "outside"])
def test_a_link_at_the_final_name_is_never_skipped_or_followed(sb: Any, download_dir: Path,
                                                               tmp_path: Path,
                                                               kind: str) -> None:
    url = sb.large_media_url(100, "h.bin")
    real = download(url, download_dir / "real").path
    target = real if kind == "inside" else tmp_path / "elsewhere.bin"
    if kind == "outside":
        target.write_bytes(real.read_bytes())
    (download_dir / "h.bin").symlink_to(target)
    with pytest.raises(DestinationExistsError, match="symbolic link"):
        download(url, download_dir)
    result = download(url, download_dir, overwrite=True)   # replaces the link itself
    assert not (download_dir / "h.bin").is_symlink() and not result.skipped
    assert target.read_bytes() == real.read_bytes()


@pytest.mark.parametrize("given", ["abc", "g" * 64, "0" * 63, 42, b"0" * 64])
def test_a_malformed_expected_sha256_is_refused_before_the_download(
        sb: Any, download_dir: Path, given: Any) -> None:
    url = sb.large_media_url(2 * MiB, "never.bin")
    before = len(sb.requests)
    with pytest.raises(UsageError, match="expected_sha256= must be a sha256 digest"):
        download(url, download_dir, expected_sha256=given)
    assert len(sb.requests) == before and not any(download_dir.iterdir())


def test_expected_sha256_mismatch_leaves_nothing(sb: Any, download_dir: Path) -> None:
    url = sb.large_media_url(MiB, "bad.bin")
    with pytest.raises(IntegrityError, match="expected_sha256"):
        download(url, download_dir, expected_sha256="0" * 64)
    assert list(download_dir.iterdir()) == []
    good = download(url, download_dir, expected_sha256=sb.media_sha256(url).upper())
    assert good.sha256 == sb.media_sha256(url)


@pytest.mark.parametrize("status", [404, 403, 410])
def test_http_errors_are_clear_and_leave_nothing(sb: Any, download_dir: Path,
                                                 status: int) -> None:
    url = sb.large_media_url(MiB, "gone.bin")
    sb.inject(server="cdn", status=status)
    with pytest.raises(TransferError, match=f"HTTP {status}") as info:
        download(url, download_dir, retries=1)
    assert "gone.bin" in str(info.value)
    assert isinstance(info.value.__cause__, Exception)
    if status == 404:
        assert isinstance(info.value.__cause__, NotFoundError)
    assert list(download_dir.iterdir()) == []


def test_cancel_keeps_the_part_and_a_later_call_resumes(sb: Any, download_dir: Path) -> None:
    url = sb.large_media_url(4 * MiB, "c.bin")
    sb.inject(server="cdn", rate=8 * MiB)
    cancel = threading.Event()
    with pytest.raises(DownloadCancelled, match="kept"):
        download(url, download_dir, cancel=cancel, progress=_stop_after(cancel, MiB))
    assert not (download_dir / "c.bin").exists()
    assert leftovers(download_dir) == ["c.bin.part", "c.bin.part.json"]
    kept = (download_dir / "c.bin.part").stat().st_size
    assert 0 < kept < 4 * MiB
    sb.clear_faults()
    sb.clear_log()
    result = download(url, download_dir)
    assert result.resumed_from == kept
    assert result.sha256 == sb.media_sha256(url)
    first = cdn_gets(sb, "c.bin")[0]
    assert header_of(first, "Range") == f"bytes={kept}-"
    assert header_of(first, "If-Range")
    assert leftovers(download_dir) == []


_CHILD = """
import os, sys
from gen_nb.transfer import download
def die(state):
    if state.done >= int(sys.argv[3]):
        os._exit(17)          # a kernel crash: no cleanup, no finally blocks
download(sys.argv[1], sys.argv[2], progress=die)
"""


def test_resume_after_the_process_died(sb: Any, download_dir: Path) -> None:
    url = sb.large_media_url(6 * MiB, "crash.bin")
    sb.inject(server="cdn", rate=12 * MiB)
    child = subprocess.run([sys.executable, "-c", _CHILD, url, str(download_dir), str(MiB)],
                           capture_output=True, text=True, timeout=60)
    assert child.returncode == 17, child.stderr
    assert not (download_dir / "crash.bin").exists()
    assert (download_dir / "crash.bin.part.json").exists()
    sb.clear_faults()
    result = download(url, download_dir)
    assert result.resumed_from > 0
    assert result.sha256 == sb.media_sha256(url)
    assert leftovers(download_dir) == []


def _race(url: str, dest: Path, **kwargs: Any) -> list[Any]:
    start = threading.Barrier(2)
    outcomes: list[Any] = [None, None]

    def run(i: int) -> None:
        start.wait()
        try:
            outcomes[i] = download(url, dest, **kwargs)
        except Exception as exc:
            outcomes[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return outcomes


def test_concurrent_writers_wait_then_skip(sb: Any, download_dir: Path) -> None:
    url = sb.large_media_url(4 * MiB, "race.bin")
    sb.inject(server="cdn", rate=16 * MiB)
    outcomes = _race(url, download_dir)
    assert all(isinstance(o, DownloadResult) for o in outcomes), outcomes
    assert sorted(o.skipped for o in outcomes) == [False, True]
    assert sha256_of(download_dir / "race.bin") == sb.media_sha256(url)
    assert leftovers(download_dir) == []


def test_concurrent_writers_fail_fast_with_lock_timeout_zero(sb: Any,
                                                             download_dir: Path) -> None:
    url = sb.large_media_url(4 * MiB, "race0.bin")
    sb.inject(server="cdn", rate=16 * MiB)
    outcomes = _race(url, download_dir, lock_timeout=0)
    kinds = sorted(type(o).__name__ for o in outcomes)
    assert kinds == ["DownloadLockedError", "DownloadResult"], outcomes
    assert sha256_of(download_dir / "race0.bin") == sb.media_sha256(url)


def test_a_writer_in_another_process_is_respected(sb: Any, download_dir: Path) -> None:
    url = sb.large_media_url(4 * MiB, "proc.bin")
    sb.inject(server="cdn", rate=8 * MiB)
    code = ("import sys; from gen_nb.transfer import download; "
            "download(sys.argv[1], sys.argv[2], progress=False)")
    proc = subprocess.Popen([sys.executable, "-c", code, url, str(download_dir)])
    try:
        lock = download_dir / "proc.bin.lock"
        for _ in range(200):
            if lock.exists() and (download_dir / "proc.bin.part").exists():
                break
            threading.Event().wait(0.05)
        with pytest.raises(DownloadLockedError, match=r"process \d+"):
            download(url, download_dir, lock_timeout=0)
    finally:
        assert proc.wait(60) == 0
    assert sha256_of(download_dir / "proc.bin") == sb.media_sha256(url)


@pytest.mark.parametrize("name", ["../../etc/passwd", "../../escape.mp4", "../.bashrc"])
def test_path_traversal_names_stay_in_the_folder(sb: Any, tmp_path: Path, name: str) -> None:
    from urllib.parse import quote

    import requests

    registered = sb.large_media_url(3000, name)
    crafted = f"{sb.cdn_base}/large/0-3000/{quote(name, safe='')}"   # ..%2F..%2Fetc%2Fpasswd
    url = crafted if requests.head(crafted, timeout=10).status_code == 200 else registered
    assert url.endswith(quote(name, safe=""))
    folder = tmp_path / "inbox"
    result = download(url, folder)
    assert result.path.parent == folder
    written = [p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()]
    assert sorted(written) == sorted([f"inbox/{result.path.name}", f"inbox/{MANIFEST_NAME}"])
    assert result.sha256 == sb.media_sha256(registered)


@pytest.fixture()
def tiny_disk(tmp_path: Path) -> Any:
    mount = tmp_path / "tiny"
    mount.mkdir()
    if not can_mount_tmpfs():
        pytest.skip("needs root to mount a tmpfs (the injected-error test covers this)")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)],
                          capture_output=True)
    if done.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr!r}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_disk_full_on_a_real_small_disk(sb: Any, tiny_disk: Path) -> None:
    url = sb.large_media_url(3 * MiB, "big.bin")
    with pytest.raises(InsufficientSpaceError, match="free"):
        download(url, tiny_disk)                 # known size: refused before writing
    assert not (tiny_disk / "big.bin").exists()
    sb.inject(server="cdn", no_length=True)      # unknown size: the write itself fails
    with pytest.raises(InsufficientSpaceError, match="kept"):
        download(url, tiny_disk)
    assert not (tiny_disk / "big.bin").exists()
    assert (tiny_disk / "big.bin.part").exists()


def test_disk_full_injected_keeps_the_part_and_resumes(sb: Any, download_dir: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from gen_nb.transfer import body

    url = sb.large_media_url(3 * MiB, "full.bin")
    real = body._pwrite
    written = [0]

    def failing(fd: int, data: Any, offset: int) -> int:
        if written[0] >= MiB:
            raise OSError(errno.ENOSPC, "No space left on device")
        n = real(fd, data, offset)
        written[0] += n
        return n

    monkeypatch.setattr("gen_nb.transfer.body._pwrite", failing)
    with pytest.raises(InsufficientSpaceError, match="disk is full"):
        download(url, download_dir)
    assert not (download_dir / "full.bin").exists()
    assert leftovers(download_dir) == ["full.bin.part", "full.bin.part.json"]
    monkeypatch.setattr("gen_nb.transfer.body._pwrite", real)
    result = download(url, download_dir)
    assert result.resumed_from >= MiB
    assert result.sha256 == sb.media_sha256(url)


def test_redirects_are_followed_without_the_key(sb: Any, download_dir: Path) -> None:
    url = sb.large_media_url(5000, "target.mp4")
    result = download(sb.redirect_url(url), download_dir / "r.mp4")
    assert result.sha256 == sb.media_sha256(url)
    assert not any(r.has_api_key for r in sb.requests)


def test_progress_reports_phases_in_order(sb: Any, download_dir: Path) -> None:
    url = sb.large_media_url(3 * MiB, "p.bin")
    seen: list[ProgressState] = []
    download(url, download_dir, progress=seen.append)
    assert seen[0].phase == "starting" and seen[-1].phase == "done"
    assert seen[-1].done == seen[-1].total == 3 * MiB
    assert [s.done for s in seen] == sorted(s.done for s in seen)


# --- odd servers, via `responses` (no sockets: exercises the generic, decoding reader) --------

def _b64(data: bytes, algo: str = "sha256") -> str:
    return base64.b64encode(hashlib.new(algo, data).digest()).decode()


@responses.activate
def test_gzip_bodies_are_decoded_and_their_length_not_trusted(download_dir: Path) -> None:
    body = b"hello " * 5000
    responses.get("https://cdn.test/a.txt", body=gzip.compress(body),
                  headers={"Content-Encoding": "gzip", "ETag": '"g"'})
    result = download("https://cdn.test/a.txt", download_dir)
    assert result.bytes == len(body)
    assert (download_dir / "a.txt").read_bytes() == body


@responses.activate
def test_server_checksums_are_verified(download_dir: Path) -> None:
    body = os.urandom(50_000)
    responses.get("https://cdn.test/ok.bin", body=body,
                  headers={"Repr-Digest": f"sha-256=:{_b64(body)}:"})
    responses.get("https://cdn.test/bad.bin", body=body,
                  headers={"Repr-Digest": f"sha-256=:{_b64(b'other')}:"})
    responses.get("https://cdn.test/md5.bin", body=body,
                  headers={"x-goog-hash": f"crc32c=AAAAAA==,md5={_b64(b'x', 'md5')}"})
    assert download("https://cdn.test/ok.bin", download_dir).sha256 == \
        hashlib.sha256(body).hexdigest()
    with pytest.raises(IntegrityError, match="server's checksum"):
        download("https://cdn.test/bad.bin", download_dir)
    with pytest.raises(IntegrityError, match="md5"):
        download("https://cdn.test/md5.bin", download_dir)
    assert sorted(p.name for p in download_dir.iterdir()) == sorted([MANIFEST_NAME, "ok.bin"])


@responses.activate
def test_a_body_longer_than_its_range_is_never_trusted(download_dir: Path) -> None:
    responses.get("https://cdn.test/long.bin", body=b"x" * 100, status=206,
                  headers={"Content-Range": "bytes 0-49/50", "Content-Length": "100"})
    with pytest.raises(IntegrityError, match="Content-Length does not match"):
        download("https://cdn.test/long.bin", download_dir, retries=0)
    assert not (download_dir / "long.bin").exists()


@responses.activate
def test_reading_stops_at_the_announced_size(download_dir: Path) -> None:
    responses.get("https://cdn.test/a.bin", body=b"y" * 100, status=200,
                  headers={"Content-Range": "bytes 0-49/50"})
    responses.get("https://cdn.test/b.bin", body=b"y" * 80, status=206,
                  headers={"Content-Range": "bytes 0-49/50"})
    assert download("https://cdn.test/a.bin", download_dir).bytes == 100
    assert download("https://cdn.test/b.bin", download_dir).bytes == 50
