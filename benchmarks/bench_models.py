"""Models for 200k renders vs ``json.loads`` of the same engine answers (requests + json).

Design target (design.md): building gen_nb's models costs ≤ 2 × what decoding the same answers
with ``json`` costs, in CPU time and in peak memory, and grows linearly with the renders.

The answers are shaped like the real API's ``GET /{prefix}/{engine_id}`` (see gen-api.md and
gen-api-examples.json): 100 rows an engine, each with two text cells, a video cell of 4–5
layers (each with an output resource) and a final_video cell with 1–3 takes in ``user_jobs``
(the current one also as ``default_user_job``); ids are integers, timestamps ISO, epoch ms,
both or neither. They are written once to a temp file, one engine a line (~2 KB a render).

Every measurement runs in a fresh subprocess (``--child``) that imports what it needs, then
reads the engines' bodies one at a time from the file, the way answers arrive from the
network:

* ``json`` (the reference: what requests + json leaves a caller with) —
  ``answers.append(json.loads(body))`` for every body; the answers are kept.
* ``gen_nb`` — ``client.renders()`` without the network: ``gen_nb.api.catalog.renders`` with
  an ``ApiCalls`` stand-in whose ``request()`` answers the next body (catalog decodes it, as
  with the real client; concurrency 1, so the CPU is not muddled by threads); the renders are
  kept, and so is the client's RenderIndex.
* ``json dropped`` (information) — ``json.loads(body)`` for every body, each answer dropped at
  once: the decoding alone, the floor under any model built from the answers.
* ``engine tree`` (information, ``--tree``) — ``renders_from_engine(Engine.from_api(...))``
  for every body, keeping the renders (the path through the full engine model).

CPU is ``resource.getrusage(RUSAGE_SELF)`` user + system around the work (not the interpreter
start and imports), and the part of it spent in the cyclic collector (``gc.callbacks``); peak
memory is the child's ``ru_maxrss`` (the whole process).

Linear: the per-render cost at ``--renders`` may be at most 1.3 × the cost at ``--small``. The
work outside the collector is flat per render; the collector's full passes over the renders
kept so far (each object is walked a bounded number of times, ~5, as the heap grows by 25 %
between passes) approach that bound from below, so a small run pays a little less per render
than a big one, and a bigger one no more. Variants are
interleaved (A B, B A, …), each size and variant ``--rounds`` times; medians are compared.

    .venv/bin/python benchmarks/bench_models.py [--renders 200000] [--small 50000]
                                                [--rounds 5] [--tree] [--json]

Exit status 0 on PASS, 1 on FAIL.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CPU_TARGET = 2.0         # gen_nb CPU ≤ 2 × json's
RSS_TARGET = 2.0         # gen_nb peak RSS ≤ 2 × json's
LINEAR_TARGET = 1.3      # µs/render at the big size ≤ 1.3 × µs/render at the small size
ROWS_PER_ENGINE = 100
BASE_MS = 1772366400000  # 2026-03-01T12:00:00Z
_STATUSES = ("completed", "completed", "completed", "failed", "processing", "pending",
             "stopped")
_LAYERS = (("B-roll 1", "clip", "mp4", "video"), ("Voiceover", "sound", "mp3", "audio"),
           ("B-roll 2", "clip", "mp4", "video"), ("Music", "audio", "mp3", "audio"),
           ("Captions", "caption", None, None))


# --- the answers ----------------------------------------------------------------------------------

def _iso(ms: int) -> str:
    stamp = dt.datetime.fromtimestamp(ms / 1000, dt.UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def _stamps(obj_id: int, ms: int) -> dict[str, Any]:
    """ISO, epoch ms, both or neither, by id (as the API and the sandbox do)."""
    style, out = obj_id % 4, dict[str, Any]()
    if style in (0, 1):
        out.update(created_at=_iso(ms), updated_at=_iso(ms + 5000))
    if style in (0, 2):
        out.update(created_at_ts=ms, updated_at_ts=ms + 5000)
    return out


def _job(job_id: int, status: str, outputs: list[dict[str, Any]], ms: int) -> dict[str, Any]:
    return {"id": job_id, "status": status,
            "failed_reason": "Voice generation timed out" if status == "failed" else None,
            "output_resources": outputs, **_stamps(job_id, ms)}


def _row(engine_id: int, n: int, position: int) -> tuple[dict[str, Any], int]:
    """Row ``n`` of an engine and how many takes (renders) it has."""
    ms, cdn = BASE_MS + n * 60_000, f"https://cdn.gen.pro/outputs/e{engine_id}"
    layers = []
    for k, (name, kind, ext, object_type) in enumerate(_LAYERS[:4 + n % 2]):
        layer_id = n * 10 + k
        job = None
        if ext:
            job = _job(700_000_000 + layer_id, "completed", [{
                "id": 800_000_000 + layer_id,
                "url": f"{cdn}/r{n}/{name.replace(' ', '_').lower()}.{ext}",
                "thumbnail_url": (f"https://cdn.gen.pro/thumbnails/e{engine_id}/r{n}/l{k}.jpg"
                                  if object_type == "video" else None),
                "object_type": object_type, "type": "output"}], ms)
        layers.append({"id": layer_id, "name": name, "position": k, "type": kind,
                       "additional_attributes": {
                           "src": f"https://cdn.gen.pro/uploads/e{engine_id}/s{layer_id}.{ext}",
                           "from": 0 if kind != "clip" else k * 75,
                           "durationInFrames": 150 + k * 30},
                       "default_user_job": job, "user_jobs": []})
    takes = []
    for t in range(1 + n % 3):
        job_id = 500_000_000 + n * 4 + t
        status = _STATUSES[(n * 3 + t) % len(_STATUSES)]
        outputs = [{"id": 900_000_000 + n * 4 + t, "url": f"{cdn}/render_{job_id}.mp4",
                    "thumbnail_url": f"https://cdn.gen.pro/thumbnails/render_{job_id}.jpg",
                    "object_type": "video", "type": "output"}] if status == "completed" else []
        takes.append(_job(job_id, status, outputs, ms + t * 1000))

    def cell(k: int, value: Any = None, **parts: Any) -> dict[str, Any]:
        return {"id": n * 4 + k, "value": value, "cell_role": "content",
                "default_user_job": None, "user_jobs": [], "video_layers": [],
                "created_at_ts": ms, "updated_at_ts": ms + 9000, **parts}

    cells = [cell(0, f"Hook {n}: stop scrolling, here are 3 tips"),
             cell(1, f"Script of row {n}: open on the product, three quick tips, call to action."),
             cell(2, video_layers=layers),
             cell(3, default_user_job=dict(takes[-1]), user_jobs=takes)]
    return {"id": 100_000 + n, "position": position, "spreadsheet_cells": cells}, len(takes)


def engine_answer(engine_id: int, first_row: int, rows: int) -> tuple[dict[str, Any], int]:
    """One engine answer with ``rows`` rows, and how many renders it holds."""
    columns = [{"id": engine_id * 10 + k, "title": title, "type": kind, "column_role": role,
                "position": k} for k, (title, kind, role) in enumerate((
                    ("Hook", "text", "ingredient"), ("Script", "text", "ingredient"),
                    ("Video", "video", "video"), ("Final video", "video", "final_video")))]
    built = [_row(engine_id, first_row + j, j) for j in range(rows)]
    return ({"id": engine_id, "slug": f"engine-{engine_id}", "title": f"Engine {engine_id}",
             "project_type": "autocontentengine", "status": "active", "created_at": _iso(BASE_MS),
             "created_at_ts": BASE_MS, "spreadsheet_columns": columns,
             "spreadsheet_rows": [row for row, _ in built]},
            sum(n for _, n in built))


def write_answers(path: Path, renders: int, rows: int = ROWS_PER_ENGINE) -> list[int]:
    """Engine bodies (one JSON a line) until ``renders`` renders; the running render count
    after each engine."""
    counts, total, engine_id = [], 0, 800
    with path.open("wb") as out:
        while total < renders:
            answer, n = engine_answer(engine_id, (engine_id - 800) * rows, rows)
            out.write(json.dumps(answer, separators=(",", ":")).encode() + b"\n")
            total += n
            counts.append(total)
            engine_id += 1
    return counts


# --- one measurement (the child process) ----------------------------------------------------------

def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def child(variant: str, path: str, engines: int) -> dict[str, Any]:
    import requests  # noqa: F401  (every variant carries requests, as a real caller does)

    if variant != "json":     # the reference imports nothing of gen_nb
        sys.path.insert(0, str(ROOT))
        from gen_nb.api import catalog
        from gen_nb.api.calls import ApiCalls
        from gen_nb.api.models import Engine, renders_from_engine

    def bodies() -> Any:
        with open(path, "rb") as f:
            for _ in range(engines):
                yield f.readline()

    collector = [0.0, 0.0]           # CPU seconds in the cyclic collector; when one began

    def timed(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            collector[1] = _cpu()
        else:
            collector[0] += _cpu() - collector[1]

    kept: Any
    start_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    gc.callbacks.append(timed)
    start = _cpu()
    if variant == "json":
        kept = [json.loads(body) for body in bodies()]
        count = None
    elif variant == "json dropped":
        for body in bodies():
            json.loads(body)
        kept, count = None, None
    elif variant == "gen_nb":
        feed, ok = bodies(), types.SimpleNamespace(status_code=200)

        class Api:   # the part of ApiCalls that listing uses, answering from the file
            settings = types.SimpleNamespace(engine_ids=(), concurrency=1, engine_prefix="vidsheet")

            @staticmethod
            def engine_path(template: str = "", *ids: Any) -> str:
                return "vidsheet/" + template.format(*ids)

            @staticmethod
            def request(method: str, path: str, **kwargs: Any) -> tuple[Any, bytes]:
                return ok, next(feed)      # catalog decodes the body itself

            decode = ApiCalls.decode       # the client's own decoding, as in a real listing

            @staticmethod
            def json(method: str, path: str, **kwargs: Any) -> Any:
                return json.loads(next(feed))

        index = catalog.RenderIndex()
        kept = (catalog.renders(Api(), index, [str(i) for i in range(engines)]), index)  # type: ignore[arg-type]
        count = len(kept[0])
    elif variant == "engine tree":
        kept = [r for body in bodies() for r in renders_from_engine(Engine.from_api(
            json.loads(body)))]
        count = len(kept)
    else:
        raise SystemExit(f"unknown variant {variant!r}")
    cpu = _cpu() - start
    gc.callbacks.remove(timed)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"variant": variant, "cpu_s": cpu, "gc_s": collector[0], "peak_rss_kib": peak,
            "start_rss_kib": start_rss, "renders": count}


def _measure(variant: str, path: Path, engines: int) -> dict[str, Any]:
    out = subprocess.run([sys.executable, __file__, "--child", variant, str(path), str(engines)],
                         capture_output=True, text=True, check=False, cwd=ROOT)
    if out.returncode != 0:
        raise SystemExit(f"child {variant} failed:\n{out.stderr}")
    return json.loads(out.stdout)


# --- the run ------------------------------------------------------------------------------------

def run(renders: int = 200_000, small: int = 50_000, rounds: int = 5,
        tree: bool = False, log: Any = None) -> dict[str, Any]:
    variants = ["json", "gen_nb", "json dropped"] + (["engine tree"] if tree else [])
    with tempfile.TemporaryDirectory(prefix="gen_nb-bench-models-") as tmp:
        path = Path(tmp) / "engines.jsonl"
        started = time.perf_counter()
        counts = write_answers(path, renders)
        sizes = {"big": (len(counts), counts[-1])}
        cut = next(i for i, c in enumerate(counts, 1) if c >= small)
        sizes["small"] = (cut, counts[cut - 1])
        if log:
            log(f"wrote {counts[-1]:,} renders in {len(counts)} engines "
                f"({path.stat().st_size / 2**20:.0f} MiB of JSON) in "
                f"{time.perf_counter() - started:.1f} s")
        runs: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for i in range(rounds):
            for size in ("small", "big"):
                order = variants if i % 2 == 0 else variants[::-1]
                for variant in order:
                    result = _measure(variant, path, sizes[size][0])
                    runs.setdefault((size, variant), []).append(result)
                    if log:
                        log(f"  round {i + 1}: {size:5} {variant:12} cpu {result['cpu_s']:6.2f} s"
                            f"  peak rss {result['peak_rss_kib'] / 1024:7.1f} MiB")
    return _summary(runs, sizes, rounds)


def _summary(runs: dict[tuple[str, str], list[dict[str, Any]]],
             sizes: dict[str, tuple[int, int]], rounds: int) -> dict[str, Any]:
    rows = {}
    for (size, variant), results in runs.items():
        engines, renders = sizes[size]
        cpu = [r["cpu_s"] for r in results]
        rss = [r["peak_rss_kib"] / 1024 for r in results]
        base = [r["start_rss_kib"] / 1024 for r in results]
        got = {r["renders"] for r in results} - {None}
        if got and got != {renders}:
            raise SystemExit(f"{variant} built {got} renders, expected {renders}")
        rows[f"{size}/{variant}"] = {
            "size": size, "variant": variant, "engines": engines, "renders": renders,
            "cpu_s": statistics.median(cpu), "cpu_min_max_s": [min(cpu), max(cpu)],
            "us_per_render": statistics.median(cpu) / renders * 1e6,
            "gc_s": statistics.median(r["gc_s"] for r in results),
            "peak_rss_mib": statistics.median(rss), "rss_min_max_mib": [min(rss), max(rss)],
            "start_rss_mib": statistics.median(base),
        }
    big, small = rows["big/gen_nb"], rows["small/gen_nb"]
    ref, ref_small = rows["big/json"], rows["small/json"]
    checks = [
        ("CPU, gen_nb vs json (big)", big["cpu_s"] / ref["cpu_s"], "<=", CPU_TARGET),
        ("peak RSS, gen_nb vs json (big)", big["peak_rss_mib"] / ref["peak_rss_mib"], "<=",
         RSS_TARGET),
        ("µs/render big vs small, gen_nb (linear)",
         big["us_per_render"] / small["us_per_render"], "<=", LINEAR_TARGET),
        ("CPU, gen_nb vs json (small)", small["cpu_s"] / ref_small["cpu_s"], "<=", CPU_TARGET),
    ]
    floor = rows["big/json dropped"]
    return {"benchmark": "models", "rounds": rounds, "rows": rows,
            "json_growth": ref["us_per_render"] / ref_small["us_per_render"],
            "vs_decoding_alone": big["cpu_s"] / floor["cpu_s"],
            "growth_outside_gc": ((big["cpu_s"] - big["gc_s"]) / big["renders"])
            / ((small["cpu_s"] - small["gc_s"]) / small["renders"]),
            "checks": [{"what": w, "measured": m, "op": op, "target": t, "passed": m <= t}
                       for w, m, op, t in checks],
            "passed": all(m <= t for _, m, _, t in checks)}


def report(result: dict[str, Any]) -> str:
    lines = [f"models: {result['rounds']} interleaved rounds, medians (min–max), a fresh "
             f"process per run, {os.cpu_count()} CPUs", "",
             "| size  | variant      | engines | renders |  CPU s (min–max)     | of it GC s "
             "| µs/render | peak RSS MiB (min–max) | RSS before MiB |",
             "|-------|--------------|---------|---------|----------------------|------------"
             "|-----------|------------------------|----------------|"]
    for row in sorted(result["rows"].values(), key=lambda r: (r["size"] != "small",
                                                                r["variant"])):
        lo, hi = row["cpu_min_max_s"]
        rlo, rhi = row["rss_min_max_mib"]
        lines.append(
            f"| {row['size']:5} | {row['variant']:12} | {row['engines']:7,} | "
            f"{row['renders']:7,} | {row['cpu_s']:6.2f} ({lo:5.2f}–{hi:5.2f}) | "
            f"{row['gc_s']:10.2f} | {row['us_per_render']:9.1f} | "
            f"{row['peak_rss_mib']:6.0f} ({rlo:5.0f}–{rhi:5.0f})   | "
            f"{row['start_rss_mib']:14.0f} |")
    lines += ["", "information: json µs/render big vs small "
              f"{result['json_growth']:.2f}; gen_nb µs/render outside the collector, big vs "
              f"small {result['growth_outside_gc']:.2f}; gen_nb CPU vs decoding alone (big) "
              f"{result['vs_decoding_alone']:.2f}", "",
              "| target                                      | measured | needed | result |",
              "|---------------------------------------------|----------|--------|--------|"]
    for check in result["checks"]:
        lines.append(f"| {check['what']:43} | {check['measured']:8.2f} | {check['op']} "
                     f"{check['target']:<4.2f}| {'PASS' if check['passed'] else 'FAIL':6} |")
    lines.append("")
    lines.append("PASS" if result["passed"] else "FAIL")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        print(json.dumps(child(argv[1], argv[2], int(argv[3]))))
        return 0
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--renders", type=int, default=200_000, help="the big size")
    parser.add_argument("--small", type=int, default=50_000, help="the size for linearity")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--tree", action="store_true",
                        help="also measure renders through the full Engine model")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    result = run(args.renders, args.small, args.rounds, args.tree,
                 log=None if args.json else lambda line: print(line, flush=True))
    print(json.dumps(result) if args.json else report(result))
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
