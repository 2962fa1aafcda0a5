"""The fault matrix: every CDN misbehaviour ends with the source's exact bytes under the final
name, or a clear error with nothing under the final name."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from _transfer_support import MiB, cdn_gets, header_of, leftovers, sha256_of

from gen_nb.api.errors import DownloadCancelled, TransferError
from gen_nb.transfer import ProgressState, download

SIZE = 3 * MiB + 4321          # not a multiple of the 1 MiB chunk


pytestmark = pytest.mark.usefixtures("fast_transfer_retries")


# (id, faults to inject in order, download keyword arguments, minimum body GETs)
CASES: list[tuple[str, list[dict[str, Any]], dict[str, Any], int]] = [
    ("drop-at-0", [{"drop_after": 0, "times": 1}], {}, 2),
    ("drop-after-1-byte", [{"drop_after": 1, "times": 1}], {}, 2),
    ("drop-mid-chunk", [{"drop_after": MiB + 12345, "times": 1}], {}, 2),
    ("drop-at-exactly-1MiB", [{"drop_after": MiB, "times": 1}], {}, 2),
    ("drop-before-last-byte", [{"drop_after": SIZE - 1, "times": 1}], {}, 2),
    ("drops-twice", [{"drop_after": MiB, "times": 2}], {}, 3),
    ("truncated-body", [{"truncate_after": 2 * MiB, "times": 1}], {}, 2),
    ("429-burst", [{"status": 429, "retry_after": 0, "times": 2}], {}, 1),
    ("500-burst", [{"status": 500, "times": 2}], {}, 1),
    ("502-burst", [{"status": 502, "times": 2}], {}, 1),
    ("503-burst", [{"status": 503, "times": 2}], {}, 1),
    ("504-burst", [{"status": 504, "times": 2}], {}, 1),
    ("range-ignored-after-drop", [{"drop_after": MiB, "times": 1},
                                  {"ignore_range": True, "times": 2}], {}, 2),
    ("stall-past-read-timeout", [{"stall_after": MiB, "stall_seconds": 3, "times": 1}],
     {"timeout": (5, 0.5)}, 2),
    ("stall-in-headers", [{"latency": 3, "times": 1}], {"timeout": (5, 0.5)}, 1),
    ("no-etag", [{"no_etag": True}], {}, 1),
    ("no-length", [{"no_length": True}], {}, 1),
    ("no-etag-no-length", [{"no_etag": True, "no_length": True}], {}, 1),
    ("no-etag-then-drop", [{"no_etag": True}, {"drop_after": MiB, "times": 1}], {}, 2),
    ("slow-link", [{"rate": 16 * MiB}], {}, 1),
    ("drop-then-503", [{"drop_after": MiB, "times": 1}, {"status": 503, "times": 2}], {}, 2),
]


@pytest.mark.parametrize(("faults", "kwargs", "min_gets"),
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_fault_ends_with_the_exact_bytes(sb: Any, download_dir: Path,
                                         faults: list[dict[str, Any]], kwargs: dict[str, Any],
                                         min_gets: int) -> None:
    url = sb.large_media_url(SIZE, "f.bin")
    for fault in faults:
        sb.inject(server="cdn", **fault)
    result = download(url, download_dir, **kwargs)
    assert result.sha256 == sha256_of(download_dir / "f.bin") == sb.media_sha256(url)
    assert result.bytes == SIZE
    assert result.attempts >= min_gets - (1 if "status" in faults[-1] else 0)
    assert leftovers(download_dir) == []
    gets = cdn_gets(sb, "f.bin")
    assert len(gets) >= min_gets
    resumed = [g for g in gets if header_of(g, "Range")]
    if "drop_after" in faults[0] and "no_etag" not in faults[0]:
        assert all(header_of(g, "If-Range") for g in resumed)


def test_a_range_ignored_answer_is_never_spliced(sb: Any, download_dir: Path) -> None:
    url = sb.large_media_url(SIZE, "splice.bin")
    sb.inject(server="cdn", drop_after=MiB, times=1)
    sb.inject(server="cdn", ignore_range=True, times=2)
    result = download(url, download_dir)
    assert result.sha256 == sb.media_sha256(url)
    statuses = [(header_of(g, "Range"), g.status) for g in cdn_gets(sb, "splice.bin")]
    assert statuses[1] == (f"bytes={MiB}-", 200)        # asked to resume, got everything


def test_etag_changed_within_the_call_restarts(sb: Any, download_dir: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    url = sb.large_media_url(SIZE, "changing.bin", seed=5)
    old = sb.media_sha256(url)
    sb.inject(server="cdn", drop_after=MiB, times=1)
    from gen_nb.transfer import remote

    real_pause = remote.TransferRetry.pause
    mutated = []

    def pause_and_mutate(self: Any, *args: Any, **kwargs: Any) -> None:
        if not mutated:
            sb.mutate(url)             # the file changes while we wait to resume
            mutated.append(True)
        real_pause(self, *args, **kwargs)

    monkeypatch.setattr(remote.TransferRetry, "pause", pause_and_mutate)
    result = download(url, download_dir)
    assert mutated and result.sha256 == sb.media_sha256(url) != old
    assert result.resumed_from == 0


def test_etag_changed_between_calls_restarts(sb: Any, download_dir: Path) -> None:
    url = sb.large_media_url(SIZE, "changed.bin", seed=6)
    sb.inject(server="cdn", rate=8 * MiB)
    cancel = threading.Event()

    def stop(state: ProgressState) -> None:
        if state.done >= MiB:
            cancel.set()

    with pytest.raises(DownloadCancelled):
        download(url, download_dir, cancel=cancel, progress=stop)
    sb.clear_faults()
    sb.mutate(url)
    sb.clear_log()
    result = download(url, download_dir)
    assert result.sha256 == sb.media_sha256(url)
    first = cdn_gets(sb, "changed.bin")[0]
    assert header_of(first, "If-Range") and first.status == 200


def test_retries_run_out_with_a_clear_error(sb: Any, download_dir: Path) -> None:
    url = sb.large_media_url(SIZE, "never.bin")
    sb.inject(server="cdn", drop_after=0)
    with pytest.raises(TransferError, match="failed after 2 retries"):
        download(url, download_dir, retries=2)
    assert not (download_dir / "never.bin").exists()


def test_a_5xx_that_never_ends_is_reported(sb: Any, download_dir: Path) -> None:
    url = sb.large_media_url(SIZE, "down.bin")
    sb.inject(server="cdn", status=503)
    with pytest.raises(TransferError, match="HTTP 503"):
        download(url, download_dir, retries=2)
    assert list(download_dir.iterdir()) == []


def test_cancel_during_backoff_is_prompt(sb: Any, download_dir: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("gen_nb.transfer.remote.BACKOFF", 30.0)
    url = sb.large_media_url(SIZE, "wait.bin")
    sb.inject(server="cdn", status=503)
    cancel = threading.Event()
    threading.Timer(0.3, cancel.set).start()
    with pytest.raises(DownloadCancelled):
        download(url, download_dir, cancel=cancel)


@pytest.mark.parametrize(("segments", "kind"), [(1, "download"), (4, "download"),
                                                (1, "stream")])
def test_cancel_breaks_a_stalled_read(sb: Any, download_dir: Path, segments: int,
                                      kind: str) -> None:
    """Without the socket being shut down this would wait for the 60 s read timeout."""
    from gen_nb.transfer import stream_to

    url = sb.large_media_url(SIZE, "stalled.bin")
    sb.inject(server="cdn", stall_after=1000, stall_seconds=60)
    cancel = threading.Event()
    outcome: list[BaseException] = []

    def run() -> None:
        try:
            if kind == "stream":
                stream_to(url, sb.storage_put_url("stalled.bin"), cancel=cancel,
                          timeout=(5, 60))
            else:
                download(url, download_dir, segments=segments, cancel=cancel, timeout=(5, 60))
        except BaseException as exc:
            outcome.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    threading.Event().wait(0.5)
    cancel.set()
    worker.join(20)
    assert not worker.is_alive(), "cancel did not break the stalled read"
    assert outcome and isinstance(outcome[0], DownloadCancelled), outcome
    assert not (download_dir / "stalled.bin").exists()
