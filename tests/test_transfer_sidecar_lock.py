"""Sidecar files, completion notes and the cross-process destination lock."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from gen_nb.errors import DownloadCancelled, DownloadLockedError
from gen_nb.transfer.lock import DestinationLock
from gen_nb.transfer.sidecar import Sidecar, read_note, write_note


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


def test_completion_note_tracks_the_file(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"abc")
    write_note(path, "https://c/f.bin?sig=1", '"e"', "00" * 32)
    note = read_note(path)
    if note is None:
        pytest.skip("this file system has no user xattrs")
    assert (note.url, note.validator, note.size) == ("https://c/f.bin", '"e"', 3)
    path.write_bytes(b"abcd")   # changed behind our back → the note no longer applies
    assert read_note(path) is None


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
