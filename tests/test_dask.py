"""download_many on a Dask cluster of worker processes: live progress, cancel that reaches
running transfers, and a worker killed mid-file whose file is resumed elsewhere.

(The same runner carries ``gen_nb.export(executor=…)``: tests/test_export_edges.py.)
"""

from __future__ import annotations

import hashlib
import itertools
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from _dask import worker_pids

import gen_nb

MiB = 1 << 20


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_download_many_on_dask_moves_every_file_with_live_progress(
        dask_cluster: Any, sb: Any, tmp_path: Path) -> None:
    urls = [sb.large_media_url(2 * MiB + i, f"d{i}.bin", seed=i) for i in range(4)]
    sb.inject("cdn", rate=2 * MiB)                  # ~1 s a file: progress has time to move
    states: list[tuple[float, int, int | None]] = []
    try:
        results = gen_nb.download_many(urls, tmp_path, executor=dask_cluster,
                                       progress=lambda s: states.append(
                                           (time.monotonic(), s.done, s.total)))
    finally:
        sb.clear_faults()
    assert [r.status for r in results] == ["done"] * 4, [r.error for r in results]
    for url, result in zip(urls, results, strict=True):
        assert result.path is not None and _sha(result.path) == sb.media_sha256(url)
    total = sum(2 * MiB + i for i in range(4))
    assert states[-1][1] == total
    moving = [done for _, done, _ in states if 0 < done < total]
    assert moving, "no progress while the files were in flight"
    counts = [done for _, done, _ in states]
    assert counts == sorted(counts)
    gaps = [b[0] - a[0] for a, b in itertools.pairwise(states)]
    assert max(gaps) < 1.0, f"progress paused for {max(gaps):.2f} s"


def test_cancel_on_dask_stops_running_transfers_and_keeps_parts(
        dask_cluster: Any, sb: Any, tmp_path: Path) -> None:
    urls = [sb.large_media_url(4 * MiB, f"c{i}.bin", seed=10 + i) for i in range(10)]
    sb.inject("cdn", rate=512 * 1024)               # ~8 s a file
    cancel = threading.Event()
    threading.Timer(1.5, cancel.set).start()
    started = time.monotonic()
    try:
        results = gen_nb.download_many(urls, tmp_path, executor=dask_cluster, cancel=cancel,
                                       progress=False)
    finally:
        sb.clear_faults()
    assert time.monotonic() - started < 6, "cancel did not reach the running transfers"
    assert {r.status for r in results} == {"cancelled"}
    assert list(tmp_path.glob("*.part")), "running files keep their .part to resume"
    assert not [p for p in tmp_path.glob("c*.bin")], "nothing half-written under a final name"
    again = gen_nb.download_many(urls[:2], tmp_path, progress=False)  # and they resume
    assert [r.status for r in again] == ["done", "done"]
    assert _sha(again[0].path) == sb.media_sha256(urls[0])


def test_a_worker_killed_mid_file_is_resumed_elsewhere(dask_cluster: Any, sb: Any,
                                                       tmp_path: Path) -> None:
    url = sb.large_media_url(6 * MiB, "k.bin", seed=42)
    sb.inject("cdn", rate=MiB)                      # ~6 s: time to kill it in the middle
    sb.clear_log()
    seen: list[int] = []
    part = tmp_path / "k.bin.part"
    killed: list[int] = []

    def kill_when_half_there() -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not killed:
            if part.exists() and part.stat().st_size > 2 * MiB:
                before = set(worker_pids(dask_cluster).values())
                for pid in before:
                    # the worker whose task holds the file: the one with the .part open
                    fds = Path(f"/proc/{pid}/fd")
                    if any(os.path.realpath(f) == str(part) for f in fds.iterdir()):
                        os.kill(pid, signal.SIGKILL)
                        killed.append(pid)
                        return
            time.sleep(0.05)

    if not Path("/proc/self/fd").exists():
        pytest.skip("needs /proc to find the worker holding the file")
    killer = threading.Thread(target=kill_when_half_there, daemon=True)
    killer.start()
    try:
        results = gen_nb.download_many([url], tmp_path, executor=dask_cluster,
                                       progress=lambda s: seen.append(s.done))
    finally:
        killer.join(30)
        sb.clear_faults()
    assert killed, "the test never found the worker that held the file"
    assert results[0].status == "done", results[0].error
    assert _sha(tmp_path / "k.bin") == sb.media_sha256(url)
    ranges = [r.headers.get("Range") for r in sb.requests if r.path.endswith("/k.bin")]
    assert any(r and not r.startswith("bytes=0-") for r in ranges), ranges  # resumed, not redone
    dask_cluster.wait_for_workers(2, timeout=60)    # the nanny brought it back for the others


def test_expected_sha256_reaches_the_dask_workers(dask_cluster: Any, sb: Any,
                                                  tmp_path: Path) -> None:
    urls = [sb.large_media_url(4096, f"x{i}.bin", seed=i) for i in range(2)]
    results = gen_nb.download_many(urls, tmp_path, executor=dask_cluster, progress=False,
                                   expected_sha256=[sb.media_sha256(urls[0]), "1" * 64])
    assert [r.status for r in results] == ["done", "failed"], [r.error for r in results]
    assert "expected_sha256" in (results[1].error or "")
    assert not (tmp_path / "x1.bin").exists()
