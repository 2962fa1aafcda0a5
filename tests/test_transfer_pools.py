"""What transfers reuse between files: buffers, helper threads, the manifest's descriptor,
and the claims that keep two threads off one destination."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from gen_nb.api.errors import DownloadCancelled, DownloadLockedError
from gen_nb.transfer import files, pools
from gen_nb.transfer.governor import Governor
from gen_nb.transfer.hashing import HashPipe
from gen_nb.transfer.lock import Claims
from gen_nb.transfer.manifest import MANIFEST_NAME, Manifest, record_for


def test_buffers_are_reused_and_the_idle_ones_bounded() -> None:
    pool = pools.BufferPool(keep_bytes=3 << 10)
    first = pool.take(1024)
    assert first.nbytes == 1024
    pool.give(first)
    assert pool.take(1024) is first and pool.take(1024) is not first
    for _ in range(5):
        pool.give(memoryview(bytearray(1024)))
    assert pool.kept == 3 << 10


def test_helpers_are_reused_and_leave_when_idle() -> None:
    helpers = pools.Helpers(idle_seconds=0.2)
    for _ in range(5):
        assert helpers.start(lambda: None).wait(5)
        time.sleep(0.01)                      # the helper parks again
    assert helpers.threads == 1
    gate = threading.Event()
    started = [helpers.start(gate.wait) for _ in range(3)]
    assert helpers.threads == 3               # busy helpers are never shared
    gate.set()
    assert all(done.wait(5) for done in started)
    deadline = time.monotonic() + 5
    while helpers.threads and time.monotonic() < deadline:
        time.sleep(0.05)
    assert helpers.threads == 0


def test_a_failing_job_does_not_cost_the_helper() -> None:
    helpers = pools.Helpers(idle_seconds=1)

    def broken() -> None:
        raise RuntimeError("job bug")

    assert helpers.start(broken).wait(5)
    ran = []
    assert helpers.start(lambda: ran.append(1)).wait(5) and ran == [1]


def test_a_pipe_gives_its_buffers_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pools, "BUFFERS", pools.BufferPool())
    size = 64 << 10
    pipe = HashPipe(size, 2)
    mine = {id(b) for b in pipe._buffers}
    view = pipe.take()
    view[:3] = b"abc"
    pipe.submit(view, 3)
    assert pipe.digests()["sha256"].startswith("ba7816bf")
    pipe.close()
    pipe.close()                              # a second close is harmless
    assert pools.BUFFERS.kept == 2 * size
    assert {id(pools.BUFFERS.take(size)), id(pools.BUFFERS.take(size))} == mine


def test_a_slow_stream_starts_writeback_as_it_goes(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    fd = os.open(tmp_path / "w.bin", os.O_RDWR | os.O_CREAT)
    pipe = HashPipe(4096, 2, fd=fd, path=tmp_path / "w.bin")
    monkeypatch.setattr(pipe, "WRITEBACK_SLOW", (1, 0.0))
    try:
        view = pipe.take()
        view[:10] = b"0123456789"
        pipe.submit(view, 10)
        assert pipe.flush() == 10
        assert pipe._written_back == 10
    finally:
        pipe.close()
        os.close(fd)


def _record(name: str, size: int = 1) -> object:
    return record_for(name, f"https://c.example/{name}", size, "ab" * 32, etag=None,
                      last_modified=None)


def test_the_manifest_follows_a_replaced_or_removed_file(tmp_path: Path) -> None:
    manifest = Manifest(tmp_path)
    manifest.add(_record("a"))                                  # type: ignore[arg-type]
    path = tmp_path / MANIFEST_NAME
    (tmp_path / "other").write_text("")
    os.replace(tmp_path / "other", path)                        # replaced under the name
    manifest.add(_record("b"))                                  # type: ignore[arg-type]
    assert [r.path for r in Manifest(tmp_path).records()] == ["b"]
    path.unlink()                                               # removed
    manifest.add(_record("c"))                                  # type: ignore[arg-type]
    assert [r.path for r in Manifest(tmp_path).records()] == ["c"]


def test_the_manifest_never_writes_through_a_planted_link(tmp_path: Path) -> None:
    manifest = Manifest(tmp_path)
    manifest.add(_record("a"))                                  # type: ignore[arg-type]
    outside = tmp_path / "outside.txt"
    outside.write_text("precious")
    path = tmp_path / MANIFEST_NAME
    path.unlink()
    path.symlink_to(outside)
    with pytest.raises(files.LinkRefused):
        manifest.add(_record("b"))                              # type: ignore[arg-type]
    assert outside.read_text() == "precious"


def test_parallel_appends_never_interleave(tmp_path: Path) -> None:
    manifest = Manifest(tmp_path)

    def many(prefix: str) -> None:
        for i in range(200):
            manifest.add(_record(f"{prefix}{i}", size=i))      # type: ignore[arg-type]

    threads = [threading.Thread(target=many, args=(p,)) for p in "abcd"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(Manifest(tmp_path).records()) == 800


def test_a_claim_keeps_a_second_thread_waiting(tmp_path: Path) -> None:
    claims, path, got = Claims(), tmp_path / "x.bin", threading.Event()
    with claims.hold(path, timeout=0):
        def second() -> None:
            with claims.hold(path, timeout=10):
                got.set()

        thread = threading.Thread(target=second)
        thread.start()
        time.sleep(0.2)
        assert not got.is_set()
        with pytest.raises(DownloadLockedError, match="this process"), \
                claims.hold(path, timeout=0.1):
            pass
    thread.join(10)
    assert got.is_set() and not claims._held


def test_waiting_for_a_claim_can_be_cancelled(tmp_path: Path) -> None:
    claims, cancel = Claims(), threading.Event()
    with claims.hold(tmp_path / "y.bin"):
        threading.Timer(0.1, cancel.set).start()
        with pytest.raises(DownloadCancelled), \
                claims.hold(tmp_path / "y.bin", timeout=30, cancel=cancel):
            pass
    assert not claims._held


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _window(governor: Governor, clock: _Clock, rate: float, item: float) -> None:
    """Feed one measuring window: ``rate`` items per second, each ``item`` seconds long."""
    count = max(2 * governor.limit, int(rate * governor.WINDOW) + 1)
    for _ in range(count):
        clock.now += 1 / rate
        governor.observe(item)


def test_the_governor_halves_while_short_items_keep_their_pace() -> None:
    clock = _Clock()
    governor = Governor(16, clock=clock)
    _window(governor, clock, 700, 0.02)
    assert governor.limit == 8
    _window(governor, clock, 720, 0.01)          # as fast with half: kept, and halved again
    assert governor.limit == 4
    for _ in range(5):
        _window(governor, clock, 730, 0.005)
    assert governor.limit == 4                   # never below LEAST


def test_the_governor_undoes_a_try_that_costs_speed_and_rests() -> None:
    clock = _Clock()
    governor = Governor(16, clock=clock)
    _window(governor, clock, 700, 0.02)
    assert governor.limit == 8
    _window(governor, clock, 400, 0.02)          # latency-bound: half the workers, half the pace
    assert governor.limit == 16
    for _ in range(governor.REST):
        _window(governor, clock, 700, 0.02)
        assert governor.limit == 16
    _window(governor, clock, 700, 0.02)          # tries again after resting
    assert governor.limit == 8


def test_long_items_bring_every_worker_back() -> None:
    clock = _Clock()
    governor = Governor(16, clock=clock)
    _window(governor, clock, 700, 0.02)
    _window(governor, clock, 700, 0.02)
    assert governor.limit == 4
    _window(governor, clock, 50, 1.5)            # big files under a cap
    assert governor.limit == 16
