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
from gen_nb.transfer.manifest import MANIFEST_NAME

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


# A valid value other than the default for every field of TransferOptions.
_NOT_DEFAULT: dict[str, Any] = {
    "timeout": (3.0, 7.0), "retries": 1, "chunk_size": 1 << 16, "fsync": False,
    "lock_timeout": 5.0, "progress": False, "overwrite": True, "segments": 2,
    "min_rate": 1024.0, "deadline_floor": 30.0, "deadline": 90.0, "stall_window": 5.0,
    "stall_bytes": 1024, "max_unknown_size": 1 << 20}


def test_every_transfer_option_reaches_each_item(sb: Any, download_dir: Path,
                                                 monkeypatch: Any) -> None:
    """download_many takes every option download takes, as keywords, and every item runs
    with all of them."""
    import dataclasses

    from gen_nb.api.settings import TransferOptions
    from gen_nb.transfer import bulk

    assert set(_NOT_DEFAULT) == {f.name for f in dataclasses.fields(TransferOptions)}
    defaults = TransferOptions()
    assert all(getattr(defaults, k) != v for k, v in _NOT_DEFAULT.items())
    seen: list[Any] = []
    real = bulk.download_to

    def spy(source: Any, target: Any, progress: Any, options: Any, **kw: Any) -> Any:
        seen.append(options)
        return real(source, target, progress, options, **kw)

    monkeypatch.setattr(bulk, "download_to", spy)
    urls = [sb.large_media_url(1000 + i, f"o{i}.bin") for i in range(3)]
    results = download_many(urls, download_dir, max_workers=2, **_NOT_DEFAULT)
    assert [r.status for r in results] == ["done"] * 3, [r.error for r in results]
    assert len(seen) == 3
    for options in seen:
        assert {k: getattr(options, k) for k in _NOT_DEFAULT} == _NOT_DEFAULT


def test_expected_sha256_is_one_digest_per_source(sb: Any, download_dir: Path) -> None:
    urls = [sb.large_media_url(2000 + i, f"e{i}.bin", seed=i) for i in range(3)]
    wanted = [sb.media_sha256(urls[0]).upper(), None, "0" * 64]
    results = download_many(urls, download_dir, expected_sha256=wanted, progress=False)
    assert [r.status for r in results] == ["done", "done", "failed"]
    assert "expected_sha256" in (results[2].error or "")
    assert results[0].sha256 == sb.media_sha256(urls[0])
    assert sorted(p.name for p in download_dir.iterdir()) == \
        ["e0.bin", "e1.bin", MANIFEST_NAME]  # the wrong one left nothing, not even a .part
    assert leftovers(download_dir) == []
    assert not list(download_dir.glob("*.tmp"))


@pytest.mark.parametrize(("given", "match"), [
    ("ab" * 32, "one sha256 per source"),                 # a digest, not a list of them
    (["ab" * 32], "1 digests for 2 sources"),
    ([None, "abc"], r"expected_sha256\[1\] must be a sha256 digest"),
    ([None, "zz" * 32], r"expected_sha256\[1\] must be a sha256 digest"),
    ([None, 12], r"expected_sha256\[1\] must be a sha256 digest"),
])
def test_a_bad_expected_sha256_is_refused_before_anything_moves(
        sb: Any, download_dir: Path, given: Any, match: str) -> None:
    from gen_nb.api.errors import UsageError

    urls = [sb.large_media_url(100, "a.bin"), sb.large_media_url(100, "b.bin")]
    before = len(sb.requests)
    with pytest.raises(UsageError, match=match):
        download_many(urls, download_dir, expected_sha256=given, progress=False)
    assert len(sb.requests) == before and not any(download_dir.iterdir())
