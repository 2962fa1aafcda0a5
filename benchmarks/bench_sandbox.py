"""How long ``Sandbox.stop()`` takes: start and stop a sandbox N times, median and max.

Design target: a sandbox closes in well under 0.1 s (median ≤ 0.05 s here). Each round starts
a sandbox, makes one API and one CDN request through a keep-alive session (so stop() has open
connections to drop), then times ``stop()`` alone. ``start()`` is timed too, for information.

    .venv/bin/python benchmarks/bench_sandbox.py [--runs 20] [--json]

Exit status 0 on PASS, 1 on FAIL. ``run()`` returns the numbers.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # run from a clone, uninstalled

from gen_nb import sandbox

TARGET_MEDIAN_S = 0.05


def one_round() -> tuple[float, float]:
    """(start seconds, stop seconds) of one sandbox that served two keep-alive requests."""
    began = time.perf_counter()
    sb = sandbox.start()
    started = time.perf_counter() - began
    with requests.Session() as session:
        session.get(sb.api_base + "/schedule/platforms", timeout=10).raise_for_status()
        session.get(sb.large_media_url(1 << 16), timeout=10).raise_for_status()
        began = time.perf_counter()
        sb.stop()
        stopped = time.perf_counter() - began
    return started, stopped


def run(runs: int = 20) -> dict[str, Any]:
    """``runs`` rounds; medians and maxima in seconds, and whether stop() meets the target."""
    one_round()  # warm-up: imports, sample media digests
    starts, stops = zip(*(one_round() for _ in range(runs)), strict=True)
    median = statistics.median(stops)
    return {"benchmark": "sandbox_stop", "runs": runs,
            "stop_median_s": median, "stop_max_s": max(stops), "stop_min_s": min(stops),
            "start_median_s": statistics.median(starts), "start_max_s": max(starts),
            "target_median_s": TARGET_MEDIAN_S, "passed": median <= TARGET_MEDIAN_S}


def report(result: dict[str, Any]) -> str:
    """The result as a few human-readable lines."""
    ms = 1000.0
    return "\n".join([
        f"sandbox start/stop: {result['runs']} rounds (each with 2 keep-alive requests)",
        f"  stop()   median {result['stop_median_s'] * ms:7.2f} ms  "
        f"(min {result['stop_min_s'] * ms:.2f}, max {result['stop_max_s'] * ms:.2f})",
        f"  start()  median {result['start_median_s'] * ms:7.2f} ms  "
        f"(max {result['start_max_s'] * ms:.2f})",
        f"  target: stop() median <= {result['target_median_s'] * ms:.0f} ms  "
        + ("PASS" if result["passed"] else "FAIL"),
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    result = run(args.runs)
    print(json.dumps(result) if args.json else report(result))
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
