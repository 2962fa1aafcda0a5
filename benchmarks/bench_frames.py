"""renders_frame of 10,000 and 100,000 renders vs ``pd.DataFrame(records)`` of the same rows.

Design target: renders_frame ≤ 3 × the plain DataFrame constructor, at each size.
``renders_frame`` starts from Render objects (it extracts the fields and sets every dtype);
the reference gets ready-made flat dicts and only builds the frame (with pandas 3 it infers
``str`` and ``datetime64[us, UTC]`` columns itself). Rounds are interleaved (A B, B A, …) and
the medians of their CPU times (``resource.getrusage``) compared in the same run.

    .venv/bin/python benchmarks/bench_frames.py [--renders 10000 100000] [--rounds 15] [--json]

Exit status 0 when every size passes, 1 otherwise. ``run()`` measures one size.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import resource
import statistics
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # run from a clone, uninstalled

from gen_nb.api.models import LayerOutput, Render
from gen_nb.frames import RENDER_COLUMNS, renders_frame

TARGET_RATIO = 3.0
_STATUSES = ("completed", "completed", "completed", "failed", "processing", "pending", "stopped")


def make_renders(n: int) -> list[Render]:
    """``n`` deterministic renders: mixed statuses, 1–3 takes per row, 3 layers each."""
    base = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    layers = tuple(LayerOutput(render_id="0", layer_id=str(i), name=f"layer {i}", type="clip",
                               kind="video", position=i, status="completed",
                               url=f"https://cdn.example/l{i}.mp4", thumbnail_url=None,
                               output_resource_id=str(100 + i)) for i in range(3))
    renders = []
    for i in range(n):
        status = _STATUSES[i % len(_STATUSES)]
        done = status == "completed"
        renders.append(Render(
            id=str(60000 + i), status=status, engine_id=str(800 + i % 7),
            engine_title=f"Engine {i % 7}", row_id=str(5000 + i // 2), row_position=i // 2,
            cell_id=str(3000 + i // 2), title=f"Row {i // 2}: hook number {i}",
            take=1 + i % 2, takes=2, is_current=bool(i % 2),
            url=f"https://cdn.example/outputs/r{i}.mp4" if done else None,
            thumbnail_url=f"https://cdn.example/thumbnails/r{i}.jpg" if done else None,
            output_resource_id=str(90000 + i) if done else None,
            failed_reason="Voice generation timed out" if status == "failed" else None,
            created_at=None if i % 50 == 0 else base + dt.timedelta(seconds=37 * i),
            layers=layers,
        ))
    return renders


def flat_records(renders: list[Render]) -> list[dict[str, Any]]:
    """The same rows renders_frame produces, as plain dicts (the reference's input)."""
    return [dict(zip(RENDER_COLUMNS, (
        r.id, r.engine_id, r.engine_title, r.row_id, r.row_position, r.take, r.takes,
        r.is_current, r.title, r.status, r.created_at, r.url, r.thumbnail_url,
        r.output_resource_id, r.failed_reason, len(r.layers)), strict=True)) for r in renders]


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _time(fn: Callable[[], object]) -> float:
    """CPU seconds of ``fn()`` (``resource.getrusage``: user + system)."""
    gc.collect()
    start = _cpu()
    fn()
    return _cpu() - start


def run(n: int = 10_000, rounds: int = 15) -> dict[str, Any]:
    """Interleaved rounds; medians in seconds, the ratio, and whether it meets the target."""
    renders = make_renders(n)
    records = flat_records(renders)
    ours: list[float] = []
    reference: list[float] = []
    renders_frame(renders), pd.DataFrame(records)        # warm-up (imports, caches)
    for i in range(rounds):
        pair = [(ours, lambda: renders_frame(renders)), (reference, lambda: pd.DataFrame(records))]
        for sink, fn in pair if i % 2 == 0 else pair[::-1]:
            sink.append(_time(fn))
    ratio = statistics.median(ours) / statistics.median(reference)
    return {"benchmark": "renders_frame", "renders": n, "rounds": rounds,
            "renders_frame_median_s": statistics.median(ours),
            "renders_frame_min_max_s": [min(ours), max(ours)],
            "reference_median_s": statistics.median(reference),
            "reference_min_max_s": [min(reference), max(reference)],
            "ratio": ratio, "target_ratio": TARGET_RATIO, "passed": ratio <= TARGET_RATIO}


def report(result: dict[str, Any]) -> str:
    ms = 1000.0
    lo, hi = result["reference_min_max_s"]
    olo, ohi = result["renders_frame_min_max_s"]
    return "\n".join([
        f"renders_frame: {result['renders']:,} renders, {result['rounds']} interleaved rounds",
        f"  pd.DataFrame(records)  median {result['reference_median_s'] * ms:7.1f} ms CPU "
        f"(min {lo * ms:.1f}, max {hi * ms:.1f})",
        f"  renders_frame          median {result['renders_frame_median_s'] * ms:7.1f} ms CPU "
        f"(min {olo * ms:.1f}, max {ohi * ms:.1f})",
        f"  ratio {result['ratio']:.2f}x (target <= {result['target_ratio']:.0f}x)  "
        + ("PASS" if result["passed"] else "FAIL"),
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--renders", type=int, nargs="+", default=[10_000, 100_000],
                        help="sizes to measure, each against its own reference")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    results = []
    for n in args.renders:
        results.append(run(n, args.rounds))
        if not args.json:
            print(report(results[-1]), flush=True)
    if args.json:
        print(json.dumps(results))
    return 0 if all(r["passed"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
