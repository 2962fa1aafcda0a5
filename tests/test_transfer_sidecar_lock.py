"""Sidecar files, the provenance record (manifest), no-follow file creation and the lock."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from gen_nb.api.errors import DownloadCancelled, DownloadLockedError
from gen_nb.transfer import files
from gen_nb.transfer.lock import DestinationLock
from gen_nb.transfer.manifest import MANIFEST_NAME, Manifest, record_for
from gen_nb.transfer.sidecar import Sidecar


def test_sidecar_round_trip_hides_the_query(tmp_path: Path) -> None:
    path = tmp_path / "a.mp4.part.json"
    sidecar = Sidecar.for_url("https://s3.x/a.mp4?X-Amz-Signature=secret", etag='"e"',
                              total=10, segments=[[0, 5, 2], [5, 10, 0]])
    sidecar.save(path)
    text = path.read_text()
    assert "secret" not in text
    loaded = Sidecar.load(path)
    assert loaded == sidecar
    assert loaded is not None and loaded.segments_done == 2 and loaded.validator == '"e"'


@pytest.mark.parametrize("text", [
    "", "not json", "[]", '{"version": 99, "url": "x"}', '{"version": 1}',
    '{"version": 1, "url": "x", "segments": [[0, 5, 9]]}',
    '{"version": 1, "url": "x", "segments": "nope"}',
    '{"version": 1, "url": "x", "bogus": 1, "total": 3}',
])
def test_bad_sidecars_are_ignored(tmp_path: Path, text: str) -> None:
    path = tmp_path / "s.json"
    path.write_text(text)
    loaded = Sidecar.load(path)
    assert loaded is None or (loaded.url == "x" and loaded.total == 3)


def test_manifest_records_without_secrets_and_newest_wins(tmp_path: Path) -> None:
    manifest = Manifest(tmp_path)
    url = "https://u:pw@c.example/f.bin?X-Amz-Signature=secret#frag"
    manifest.add(record_for("f.bin", url, 3, "00" * 32, etag='"e"', last_modified=None,
                            about={"kind": "render", "render_id": "7"}))
    manifest.add(record_for("f.bin", url, 4, "11" * 32, etag='"f"', last_modified=None))
    text = (tmp_path / MANIFEST_NAME).read_text()
    assert "secret" not in text and "pw" not in text and "frag" not in text
    record = Manifest(tmp_path).get("f.bin")
    assert record is not None and (record.size, record.etag) == (4, '"f"')
    assert record.source_url == "https://c.example/f.bin" and record.same_source(url)
    assert not record.same_source("https://c.example/f.bin?X-Amz-Signature=other")
    (tmp_path / MANIFEST_NAME).open("a").write("not json\n{\"version\": 7}\n")
    assert [r.path for r in Manifest(tmp_path).records()] == ["f.bin"]


def test_manifest_reads_what_other_writers_append(tmp_path: Path) -> None:
    reader, writer = Manifest(tmp_path), Manifest(tmp_path)
    assert reader.get("a") is None
    writer.add(record_for("a", "https://c/a", 1, "aa", etag=None, last_modified=None))
    assert reader.get("a") is not None and reader.get("a").size == 1


@pytest.mark.parametrize("plant", ["symlink", "hardlink", "dangling"])
def test_no_file_is_written_through_a_planted_link(tmp_path: Path, plant: str) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("precious")
    dest = tmp_path / "dest"
    dest.mkdir()
    for name in ("clip.mp4.part", "clip.mp4.lock", MANIFEST_NAME, "clip.mp4.part.json"):
        link = dest / name
        if plant == "symlink":
            link.symlink_to(outside)
        elif plant == "hardlink":
            link.hardlink_to(outside)
        else:
            link.symlink_to(tmp_path / "nowhere")
        with pytest.raises(files.LinkRefused):
            files.open_owned(link)
        link.unlink()
    assert outside.read_text() == "precious" and not (tmp_path / "nowhere").exists()


def test_replace_file_replaces_a_link_instead_of_writing_through_it(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("precious")
    target = tmp_path / "x.part.json"
    target.symlink_to(outside)
    files.replace_file(target, b"{}")
    assert outside.read_text() == "precious" and not target.is_symlink()
    assert target.read_text() == "{}" and [p.name for p in tmp_path.glob("*.tmp")] == []


def test_lock_excludes_a_second_holder_at_once(tmp_path: Path) -> None:
    lock_path = tmp_path / "x.lock"
    with DestinationLock(lock_path, timeout=0), \
            pytest.raises(DownloadLockedError, match="Another download"):
        DestinationLock(lock_path, timeout=0).acquire()
    assert not lock_path.exists()
    with DestinationLock(lock_path, timeout=0):
        pass


def test_second_holder_waits_until_released(tmp_path: Path) -> None:
    lock_path = tmp_path / "x.lock"
    first = DestinationLock(lock_path, timeout=0)
    first.acquire()
    got = threading.Event()

    def second() -> None:
        with DestinationLock(lock_path, timeout=10):
            got.set()

    thread = threading.Thread(target=second)
    thread.start()
    time.sleep(0.2)
    assert not got.is_set()
    first.release()
    thread.join(10)
    assert got.is_set()


def test_waiting_for_a_lock_can_be_cancelled(tmp_path: Path) -> None:
    lock_path = tmp_path / "x.lock"
    cancel = threading.Event()
    with DestinationLock(lock_path, timeout=0):
        threading.Timer(0.1, cancel.set).start()
        with pytest.raises(DownloadCancelled):
            DestinationLock(lock_path, timeout=30, cancel=cancel).acquire()


def test_lock_excludes_another_process(tmp_path: Path) -> None:
    lock_path = tmp_path / "x.lock"
    code = ("import sys, time, pathlib; from gen_nb.transfer.lock import DestinationLock\n"
            "l = DestinationLock(pathlib.Path(sys.argv[1]), timeout=0); l.acquire()\n"
            "print('locked', flush=True); time.sleep(30)")
    proc = subprocess.Popen([sys.executable, "-c", code, str(lock_path)],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
        with pytest.raises(DownloadLockedError, match=f"process {proc.pid}"):
            DestinationLock(lock_path, timeout=0.2).acquire()
    finally:
        proc.kill()
        proc.wait()
    with DestinationLock(lock_path, timeout=5):   # the kernel dropped the dead holder's lock
        pass
