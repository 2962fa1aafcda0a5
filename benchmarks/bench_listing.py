"""Listing 1,000 engines at a 20 ms round trip: ``client.renders()`` vs 8 plain requests threads.

Design target (design.md): listing ≤ 1.3 × the time of a plain 8-thread ``requests``
reference fetching the same engine URLs.

A small server of this benchmark's own (``http.server``'s ThreadingHTTPServer, HTTP/1.1
keep-alive, Nagle off, in its own process so that it never competes for the client's GIL)
listens on 127.0.0.1 (port 0). Every request sleeps ``--rtt`` (20 ms) and then answers
pre-serialised JSON: ``GET /v1/vidsheet/{id}`` an engine with ``--rows`` rows shaped like the
real API (the rows of ``bench_models.py``: 4–5 layers with outputs, 1–3 takes),
``GET /v1/vidsheet`` the list of engine summaries (no rows).

Variants, each in a fresh subprocess, interleaved round by round (A B C, C B A, …); the wall
time of the listing call alone is measured (not the interpreter start, imports or client
set-up), with its CPU seconds (``resource.getrusage``) beside it:

* ``requests 8 threads`` (the reference): ``ThreadPoolExecutor(8)``, one ``requests.Session``,
  ``session.get(url, params={"agent_id": …}, headers={"X-API-Key": …}).json()`` per engine;
* ``gen_nb engine_ids=``: ``gen_nb.connect(key, base_url=…, engine_ids=[…]).renders()``
  (``Settings.concurrency`` = 8, the default);
* ``gen_nb list endpoint``: the same with no ``engine_ids``: ``GET /vidsheet`` first, then every
  engine it lists.

    .venv/bin/python benchmarks/bench_listing.py [--engines 1000] [--rtt 0.02] [--rows 10]
                                                 [--rounds 5] [--json]

Exit status 0 on PASS, 1 on FAIL.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TARGET = 1.3
KEY = "gen_pat_bench_listing_KEY"
AGENT = "7"
VARIANTS = ("requests 8 threads", "gen_nb engine_ids=", "gen_nb list endpoint")


# --- the server (its own process) -------------------------------------------------------------

def serve(engines: int, rows: int, rtt: float) -> None:
    """Answer engine JSON after ``rtt`` seconds per request; print the port, then serve."""
    import http.server
    import urllib.parse

    sys.path.insert(0, str(HERE))
    from bench_models import engine_answer

    bodies: dict[str, bytes] = {}
    summaries = []
    for n in range(engines):
        answer, _ = engine_answer(800 + n, n * rows, rows)
        bodies[str(800 + n)] = json.dumps(answer, separators=(",", ":")).encode()
        summaries.append({k: v for k, v in answer.items()
                          if k not in ("spreadsheet_rows", "spreadsheet_columns")})
    listing = json.dumps(summaries).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            time.sleep(rtt)
            path = urllib.parse.urlsplit(self.path).path
            head, _, tail = path.rpartition("/")
            if path == "/v1/vidsheet":
                body, status = listing, 200
            elif head == "/v1/vidsheet" and tail in bodies:
                body, status = bodies[tail], 200
            else:
                body, status = b'{"error": "not found", "error_code": "not_found"}', 404
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    class Server(http.server.ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 64

    with Server(("127.0.0.1", 0), Handler) as server:
        print(server.server_address[1], sum(map(len, bodies.values())), flush=True)
        server.serve_forever()


# --- one measurement (a child process) ------------------------------------------------------------

def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def child(variant: str, port: int, engines: int) -> dict[str, Any]:
    base = f"http://127.0.0.1:{port}/v1"
    ids = [str(800 + n) for n in range(engines)]
    if variant == "requests 8 threads":
        from concurrent.futures import ThreadPoolExecutor

        import requests

        session = requests.Session()

        def fetch(engine_id: str) -> Any:
            response = session.get(f"{base}/vidsheet/{engine_id}", params={"agent_id": AGENT},
                                   headers={"X-API-Key": KEY}, timeout=30)
            response.raise_for_status()
            return response.json()

        start_wall, start_cpu = time.perf_counter(), _cpu()
        with ThreadPoolExecutor(8) as pool:
            result = list(pool.map(fetch, ids))
        count = len(result)
    else:
        sys.path.insert(0, str(ROOT))
        import gen_nb

        named = ids if variant == "gen_nb engine_ids=" else None
        client = gen_nb.connect(KEY, agent_id=AGENT, base_url=base, engine_ids=named,
                                quiet=True)
        start_wall, start_cpu = time.perf_counter(), _cpu()
        renders = client.renders()
        count = len({r.engine_id for r in renders})
    wall, cpu = time.perf_counter() - start_wall, _cpu() - start_cpu
    if count != engines:
        raise SystemExit(f"{variant}: got {count} engines, expected {engines}")
    return {"variant": variant, "wall_s": wall, "cpu_s": cpu,
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def _measure(variant: str, port: int, engines: int) -> dict[str, Any]:
    out = subprocess.run([sys.executable, __file__, "--child", variant, str(port),
                          str(engines)], capture_output=True, text=True, check=False, cwd=ROOT,
                         env={**os.environ, "GEN_NB_DISABLE_PROGRESS": "1"})
    if out.returncode != 0:
        raise SystemExit(f"child {variant!r} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# --- the run ------------------------------------------------------------------------------------

def run(engines: int = 1000, rtt: float = 0.02, rows: int = 10, rounds: int = 5,
        log: Any = None) -> dict[str, Any]:
    server = subprocess.Popen([sys.executable, __file__, "--serve", str(engines), str(rows),
                               str(rtt)], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        line = server.stdout.readline().split() if server.stdout else []
        if not line:
            raise SystemExit("the benchmark server did not start")
        port, total_bytes = int(line[0]), int(line[1])
        if log:
            log(f"server on 127.0.0.1:{port}: {engines:,} engines of {rows} rows "
                f"({total_bytes / 2**20:.1f} MiB of JSON), {rtt * 1000:.0f} ms per request")
        runs: dict[str, list[dict[str, Any]]] = {v: [] for v in VARIANTS}
        for i in range(rounds):
            for variant in VARIANTS if i % 2 == 0 else VARIANTS[::-1]:
                result = _measure(variant, port, engines)
                runs[variant].append(result)
                if log:
                    log(f"  round {i + 1}: {variant:22} {result['wall_s']:6.2f} s  "
                        f"cpu {result['cpu_s']:5.2f} s  rss {result['peak_rss_mib']:5.0f} MiB")
    finally:
        server.terminate()
        server.wait(10)
    rows_out = {}
    for variant, results in runs.items():
        walls = [r["wall_s"] for r in results]
        rows_out[variant] = {
            "wall_s": statistics.median(walls), "wall_min_max_s": [min(walls), max(walls)],
            "cpu_s": statistics.median(r["cpu_s"] for r in results),
            "peak_rss_mib": statistics.median(r["peak_rss_mib"] for r in results)}
    ref = rows_out[VARIANTS[0]]["wall_s"]
    checks = [{"what": f"{v} vs {VARIANTS[0]} (time)", "measured": rows_out[v]["wall_s"] / ref,
               "target": TARGET, "passed": rows_out[v]["wall_s"] / ref <= TARGET}
              for v in VARIANTS[1:]]
    return {"benchmark": "listing", "engines": engines, "rtt_s": rtt, "rows": rows,
            "rounds": rounds, "ideal_s": engines / 8 * rtt, "variants": rows_out,
            "checks": checks, "passed": all(c["passed"] for c in checks)}


def report(result: dict[str, Any]) -> str:
    lines = [f"listing: {result['engines']:,} engines of {result['rows']} rows, "
             f"{result['rtt_s'] * 1000:.0f} ms per request, {result['rounds']} interleaved "
             f"rounds, medians (min–max), {os.cpu_count()} CPUs; 8 × {result['rtt_s'] * 1000:.0f}"
             f" ms pipes alone: {result['ideal_s']:.2f} s", "",
             "| variant                |     wall s (min–max)   | client CPU s | peak RSS MiB |",
             "|------------------------|------------------------|--------------|--------------|"]
    for name, row in result["variants"].items():
        lo, hi = row["wall_min_max_s"]
        lines.append(f"| {name:22} | {row['wall_s']:6.2f} ({lo:5.2f}–{hi:5.2f})   | "
                     f"{row['cpu_s']:12.2f} | {row['peak_rss_mib']:12.0f} |")
    lines += ["", "| target                                            | measured | needed | "
              "result |",
              "|---------------------------------------------------|----------|--------|"
              "--------|"]
    for check in result["checks"]:
        lines.append(f"| {check['what']:49} | {check['measured']:8.2f} | <= {check['target']:.1f}"
                     f" | {'PASS' if check['passed'] else 'FAIL':6} |")
    lines += ["", "PASS" if result["passed"] else "FAIL"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--serve"]:
        serve(int(argv[1]), int(argv[2]), float(argv[3]))
        return 0
    if argv[:1] == ["--child"]:
        print(json.dumps(child(argv[1], int(argv[2]), int(argv[3]))))
        return 0
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--engines", type=int, default=1000)
    parser.add_argument("--rtt", type=float, default=0.02, help="seconds per request")
    parser.add_argument("--rows", type=int, default=10, help="rows per engine")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    result = run(args.engines, args.rtt, args.rows, args.rounds,
                 log=None if args.json else lambda line: print(line, flush=True))
    print(json.dumps(result) if args.json else report(result))
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
