"""Segmented downloads: parallel ranges, per-range resume, fallbacks to a single stream."""

from __future__ import annotations

import itertools
import json
import logging
import threading
from pathlib import Path
from typing import Any

import pytest
from _transfer_support import MiB, cdn_gets, header_of, leftovers, sha256_of

from gen_nb.api.errors import DownloadCancelled
from gen_nb.transfer import ProgressState, download

SIZE = 6 * MiB + 777


pytestmark = pytest.mark.usefixtures("fast_transfer_retries")


def _cancel_after(nbytes: int) -> tuple[threading.Event, Any]:
    cancel = threading.Event()

    def callback(state: ProgressState) -> None:
        if state.done >= nbytes:
            cancel.set()
    return cancel, callback


def test_four_ranges_make_one_verified_file(sb: Any, download_dir: Path) -> None:
    url = sb.large_media_url(SIZE, "seg.bin")
    result = download(url, download_dir, segments=4)
    assert (result.segments, result.bytes) == (4, SIZE)
    assert result.sha256 == sha256_of(result.path) == sb.media_sha256(url)
    ranges = [header_of(g, "Range") or "" for g in cdn_gets(sb, "seg.bin")]
    assert ranges[0] == "bytes=0-0"                    # the probe
    pieces = sorted(tuple(int(x) for x in r[6:].split("-")) for r in ranges[1:])
    assert pieces[0][0] == 0 and pieces[-1][1] == SIZE - 1
    assert all(a[1] + 1 == b[0] for a, b in itertools.pairwise(pieces))
    assert all(header_of(g, "If-Range") for g in cdn_gets(sb, "seg.bin")
               if header_of(g, "Range") != "bytes=0-0")
    assert leftovers(download_dir) == []


@pytest.mark.parametrize(("fault", "why"), [
    ({"ignore_range": True}, "ignores Range"),
    ({"no_length": True, "ignore_range": True}, "ignores Range"),
])
def test_falls_back_to_one_stream_with_a_reason(sb: Any, download_dir: Path,
                                                caplog: pytest.LogCaptureFixture,
                                                fault: dict[str, Any], why: str) -> None:
    url = sb.large_media_url(SIZE, "fb.bin")
    sb.inject(server="cdn", **fault)
    with caplog.at_level(logging.INFO, logger="gen_nb"):
        result = download(url, download_dir, segments=4)
    assert result.segments == 1
    assert result.sha256 == sb.media_sha256(url)
    assert why in caplog.text and "single stream" in caplog.text


def test_small_files_use_one_stream(sb: Any, download_dir: Path) -> None:
    url = sb.large_media_url(MiB, "small.bin")
    result = download(url, download_dir, segments=8)
    assert result.segments == 1 and result.sha256 == sb.media_sha256(url)


@pytest.mark.parametrize("fault", [
    {"drop_after": 300_000, "times": 3},
    {"status": 503, "times": 3},
    {"stall_after": 100_000, "stall_seconds": 3, "times": 2},
    {"truncate_after": 1, "times": 4},
])
def test_each_range_resumes_on_its_own(sb: Any, download_dir: Path,
                                       fault: dict[str, Any]) -> None:
    url = sb.large_media_url(SIZE, "flaky.bin")
    sb.inject(server="cdn", path="/large/", **fault)
    result = download(url, download_dir, segments=4, timeout=(5, 0.5))
    assert result.sha256 == sb.media_sha256(url)
    assert leftovers(download_dir) == []


def test_a_file_changing_after_the_probe_is_never_spliced(sb: Any, download_dir: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    url = sb.large_media_url(SIZE, "half.bin", seed=4)
    from gen_nb.transfer import segmented

    real_probe = segmented.probe

    def probe_then_change(*args: Any, **kwargs: Any) -> Any:
        remote = real_probe(*args, **kwargs)
        sb.mutate(url)                  # every range now answers 200 (If-Range fails)
        return remote

    monkeypatch.setattr(segmented, "probe", probe_then_change)
    result = download(url, download_dir, segments=4)
    assert result.sha256 == sb.media_sha256(url)
    assert result.segments == 1


def test_cancelled_ranges_resume_in_a_later_call(sb: Any, download_dir: Path) -> None:
    url = sb.large_media_url(SIZE, "later.bin")
    sb.inject(server="cdn", rate=MiB)
    cancel, callback = _cancel_after(MiB)
    with pytest.raises(DownloadCancelled):
        download(url, download_dir, segments=4, cancel=cancel, progress=callback)
    sidecar = json.loads((download_dir / "later.bin.part.json").read_text())
    done = sum(seg[2] for seg in sidecar["segments"])
    assert len(sidecar["segments"]) >= 4 and 0 < done < SIZE
    assert not (download_dir / "later.bin").exists()
    sb.clear_faults()
    result = download(url, download_dir, segments=4)
    assert result.resumed_from == done
    assert result.sha256 == sb.media_sha256(url)
    assert leftovers(download_dir) == []


def test_a_segmented_part_resumes_even_with_one_segment(sb: Any, download_dir: Path) -> None:
    url = sb.large_media_url(SIZE, "one.bin")
    sb.inject(server="cdn", rate=MiB)
    cancel, callback = _cancel_after(MiB)
    with pytest.raises(DownloadCancelled):
        download(url, download_dir, segments=3, cancel=cancel, progress=callback)
    sb.clear_faults()
    result = download(url, download_dir)
    assert result.resumed_from > 0 and result.sha256 == sb.media_sha256(url)


def test_a_single_stream_part_is_kept_when_switching_to_segments(sb: Any,
                                                                 download_dir: Path) -> None:
    url = sb.large_media_url(SIZE, "switch.bin")
    sb.inject(server="cdn", rate=4 * MiB)
    cancel, callback = _cancel_after(MiB)
    with pytest.raises(DownloadCancelled):
        download(url, download_dir, cancel=cancel, progress=callback)
    kept = (download_dir / "switch.bin.part").stat().st_size
    sb.clear_faults()
    result = download(url, download_dir, segments=4)
    assert result.resumed_from == kept > 0
    assert result.segments >= 2
    assert result.sha256 == sb.media_sha256(url)


def test_a_changed_file_between_calls_starts_over(sb: Any, download_dir: Path) -> None:
    url = sb.large_media_url(SIZE, "mut.bin", seed=9)
    sb.inject(server="cdn", rate=MiB)
    cancel, callback = _cancel_after(MiB)
    with pytest.raises(DownloadCancelled):
        download(url, download_dir, segments=4, cancel=cancel, progress=callback)
    sb.clear_faults()
    sb.mutate(url)
    result = download(url, download_dir, segments=4)
    assert result.sha256 == sb.media_sha256(url)
    assert result.resumed_from == 0
