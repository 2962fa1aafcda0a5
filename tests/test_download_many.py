"""download_many: bounded concurrency, per-item results in order, aggregate progress, cancel,
other executors."""

from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from _transfer_support import MiB, leftovers, sha256_of

from gen_nb.api.models import Render
from gen_nb.transfer import ProgressState, TransferResult, download_many

pytestmark = pytest.mark.usefixtures("fast_transfer_retries")


def test_many_files_one_result_each_in_order(sb: Any, download_dir: Path) -> None:
    urls = [sb.large_media_url(MiB + i, f"m{i}.bin") for i in range(6)]
    missing = f"{sb.cdn_base}/large/nope/missing.bin"
    srcs: list[Any] = [*urls[:3], missing, Render(id="9", status="processing"), *urls[3:]]
    seen: list[ProgressState] = []
    results = download_many(srcs, download_dir, max_workers=3, progress=seen.append)
    assert [r.status for r in results] == ["done"] * 3 + ["failed", "failed"] + ["done"] * 3
    assert all(isinstance(r, TransferResult) for r in results)
    assert "404" in (results[3].error or "") and "no URL" in (results[4].error or "")
    for result, url in zip([*results[:3], *results[5:]], urls, strict=True):
        assert result.path is not None
        assert result.sha256 == sha256_of(result.path) == sb.media_sha256(url)
        assert result.src == url
    final = seen[-1]
    assert final.phase == "failed" and final.done == sum(MiB + i for i in range(6))
    assert "6 done" in (final.message or "") and "2 failed" in (final.message or "")
    assert leftovers(download_dir) == []


def test_a_second_run_skips_everything(sb: Any, download_dir: Path) -> None:
    urls = [sb.large_media_url(1000 + i, f"s{i}.bin") for i in range(4)]
    download_many(urls, download_dir)
    again = download_many(urls, download_dir)
    assert [r.status for r in again] == ["skipped"] * 4
    assert all(r.sha256 for r in again)


def test_same_names_from_different_sources_do_not_collide(sb: Any, download_dir: Path) -> None:
    a = sb.large_media_url(3000, "clip.mp4", seed=1)
    b = sb.large_media_url(4000, "clip.mp4", seed=2)
    results = download_many([a, b, a], download_dir, max_workers=3)
    names = [r.path.name if r.path else None for r in results]
    assert names[:2] == ["clip.mp4", "clip-2.mp4"] and names[2] == "clip.mp4"
    assert sorted([results[0].status, results[2].status]) == ["done", "skipped"]
    assert results[1].sha256 == sb.media_sha256(b)


def test_cancel_stops_the_whole_batch(sb: Any, download_dir: Path) -> None:
    urls = [sb.large_media_url(2 * MiB, f"c{i}.bin") for i in range(6)]
    sb.inject(server="cdn", rate=2 * MiB)
    cancel = threading.Event()

    def stop(state: ProgressState) -> None:
        if state.done >= MiB:
            cancel.set()

    results = download_many(urls, download_dir, max_workers=2, progress=stop, cancel=cancel)
    statuses = [r.status for r in results]
    assert "cancelled" in statuses and set(statuses) <= {"cancelled", "done"}
    for result in results:
        if result.status == "cancelled":
            assert result.path is None
    finals = {p.name for p in download_dir.iterdir() if p.name.endswith(".bin")}
    assert finals == {r.path.name for r in results if r.status == "done" and r.path}


def test_a_caller_supplied_thread_pool_gets_live_progress(sb: Any,
                                                          download_dir: Path) -> None:
    urls = [sb.large_media_url(MiB, f"t{i}.bin") for i in range(3)]
    seen: list[ProgressState] = []
    with ThreadPoolExecutor(2) as pool:
        results = download_many(urls, download_dir, executor=pool, progress=seen.append)
        assert pool.submit(lambda: 42).result() == 42      # not shut down by us
    assert [r.status for r in results] == ["done"] * 3
    assert seen[-1].phase == "done" and seen[-1].done == 3 * MiB


@pytest.mark.parametrize("start", ["spawn", "fork"])
def test_a_process_pool_works_without_live_progress(sb: Any, download_dir: Path,
                                                    start: str) -> None:
    urls = [sb.large_media_url(MiB, f"p{i}.bin") for i in range(3)]
    seen: list[ProgressState] = []
    from gen_nb.transfer.remote import shared_session

    shared_session().get(urls[0]).close()    # a pooled connection a forked child must not use
    context = multiprocessing.get_context(start)
    with ProcessPoolExecutor(2, mp_context=context) as pool:
        results = download_many(urls, download_dir, executor=pool, progress=seen.append,
                                cancel=threading.Event())
    assert [r.status for r in results] == ["done"] * 3
    assert all(r.sha256 == sb.media_sha256(u) for r, u in zip(results, urls, strict=True))
    assert seen[-1].done == 3 * MiB and seen[-1].phase == "done"


def test_a_file_planted_after_the_batch_listed_the_folder_is_never_replaced(
        sb: Any, download_dir: Path, monkeypatch: Any) -> None:
    """The batch lists the folder once; a file that appears after that listing (another
    program, another process) is still never overwritten: the same bytes are accepted, other
    bytes fail that item and stay as they were."""
    from gen_nb.transfer import bulk

    same = sb.large_media_url(5000, "same.bin", seed=3)
    other = sb.large_media_url(6000, "other.bin", seed=4)
    real = bulk._absent_ones

    def list_then_plant(jobs: Any) -> set[int]:
        found = real(jobs)
        folder = download_dir
        assert len(found) == 2                       # both looked absent to the listing…
        import urllib.request

        with urllib.request.urlopen(same) as r:      # … then they appear
            (folder / "same.bin").write_bytes(r.read())
        (folder / "other.bin").write_bytes(b"not the render" * 10)
        return found

    monkeypatch.setattr(bulk, "_absent_ones", list_then_plant)
    results = download_many([same, other], download_dir, progress=False)
    assert results[0].status == "done"
    assert results[1].status == "failed" and "does not replace it" in (results[1].error or "")
    assert (download_dir / "other.bin").read_bytes() == b"not the render" * 10
    assert not list(download_dir.glob("*.tmp")) and not list(download_dir.glob("*.part"))
