"""Export benchmarks: what the manifest, naming and checks cost, reruns, Dask, memory.

    python benchmarks/bench_export.py [--files 1000] [--rounds 3] [--no-s3] [--no-dask]

One server process of our own (127.0.0.1, port 0) plays GEN: an API listing engines whose
rows hold the renders, and a CDN serving each render's bytes (keep-alive, Content-Length,
optionally a per-connection rate cap). Interleaved rounds, medians, ratios:

* export of N small renders to a local folder vs what one writes without it — list the
  completed renders, ``download_many`` their URLs: ≥ 0.9×;
* the same to S3 (moto in server mode, no local disk) vs list, ``download_many`` to a folder,
  then ``s3fs.put`` of that folder: ≥ 0.9×;
* a rerun with nothing new: ≤ 1 API request per engine (+ the list), 0 CDN requests;
* Dask, 2 worker processes × 8 threads vs 16 threads, under a per-connection cap (400 files
  or ``--files``, whichever is fewer): ≥ 0.8×, with a progress update at least once a second;
* peak memory (a fresh process each) flat in the number of files: RSS(N) / RSS(N/5) ≤ 1.25.

Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import http.server
import itertools
import json
import multiprocessing
import os
import socketserver
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

ROWS_PER_ENGINE = 50
SIZE = 64 << 10


def _engine(eid: int, first: int, count: int, base: str) -> dict[str, Any]:
    rows = []
    for i in range(first, first + count):
        job = {"id": 100000 + i, "status": "completed", "created_at_ts": 1_790_000_000_000,
               "output_resources": [{"id": i, "url": f"{base}/f/{i}.mp4", "object_type": "video"}]}
        cells = [{"id": 2 * i, "value": f"Render {i}", "default_user_job": None, "user_jobs": [],
                  "video_layers": []},
                 {"id": 2 * i + 1, "value": None, "default_user_job": job, "user_jobs": [],
                  "video_layers": []}]
        rows.append({"id": i, "position": i - first, "spreadsheet_cells": cells})
    return {"id": eid, "title": f"Engine {eid}", "spreadsheet_columns": [
        {"id": 1, "title": "Hook", "column_role": "ingredient", "position": 0},
        {"id": 2, "title": "Final", "column_role": "final_video", "position": 1}],
        "spreadsheet_rows": rows}


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    counts: ClassVar[dict[str, int]] = {"api": 0, "cdn": 0}
    files = 1000
    rate = 0.0
    body = bytes(range(256)) * (SIZE // 256)

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, status: int, data: bytes, kind: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("ETag", '"v1"')
        self.end_headers()
        if self.command != "HEAD":
            self._write(data)

    def _write(self, data: bytes) -> None:
        if not self.rate:
            self.wfile.write(data)
            return
        step = max(4096, int(self.rate / 20))
        start = time.monotonic()
        for at in range(0, len(data), step):
            self.wfile.write(data[at:at + step])
            delay = start + (at + step) / self.rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        base = f"http://127.0.0.1:{self.server.server_address[1]}"  # type: ignore[index]
        engines = max(1, self.files // ROWS_PER_ENGINE)
        if path.startswith("/f/"):
            self.counts["cdn"] += 1
            self._serve_file()
            return
        self.counts["api"] += 1
        if path in ("/v1/vidsheet", "/v1/vidsheet/"):
            listing = [{"id": e, "title": f"Engine {e}"} for e in range(engines)]
            self._send(200, json.dumps(listing).encode())
        elif path.startswith("/v1/vidsheet/"):
            eid = int(path.rsplit("/", 1)[1])
            self._send(200, json.dumps(_engine(eid, eid * ROWS_PER_ENGINE, ROWS_PER_ENGINE,
                                               base)).encode())
        elif path == "/counts":
            self._send(200, json.dumps(self.counts).encode())
        else:
            self._send(404, b'{"error": "no such route", "error_code": "not_found"}')

    def _serve_file(self) -> None:
        data = self.body
        start = 0
        value = self.headers.get("Range", "")
        if value.startswith("bytes="):
            first, _, last = value[6:].partition("-")
            start, end = int(first or 0), int(last) if last else len(data) - 1
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{end}/{len(data)}")
            data = data[start:end + 1]
        else:
            self.send_response(200)
        self.send_header("Content-Type", "video/mp4")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("ETag", '"v1"')
        self.end_headers()
        self._write(data)


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    request_queue_size = 128


def _serve(port_box: Any, files: int, rate: float) -> None:
    _Handler.files, _Handler.rate = files, rate
    server = _Server(("127.0.0.1", 0), _Handler)
    port_box.put(server.server_address[1])
    server.serve_forever()


def start_server(files: int, rate: float = 0.0) -> tuple[multiprocessing.Process, str]:
    box: Any = multiprocessing.Queue()
    process = multiprocessing.Process(target=_serve, args=(box, files, rate), daemon=True)
    process.start()
    return process, f"http://127.0.0.1:{box.get(timeout=30)}"


def _client(base: str) -> Any:
    import gen_nb

    return gen_nb.connect("gen_pat_bench_export", agent_id="1", base_url=f"{base}/v1",
                          retries=0)


@contextlib.contextmanager
def scratch(prefix: str) -> Iterator[Path]:
    """A fresh temp folder as a Path, removed afterwards whatever happens (none is left in
    /tmp)."""
    with tempfile.TemporaryDirectory(prefix=prefix, ignore_cleanup_errors=True) as work:
        yield Path(work)


def _counts(base: str) -> dict[str, int]:
    import urllib.request

    with urllib.request.urlopen(f"{base}/counts") as r:
        return json.loads(r.read())


def timed(fn: Any, *args: Any, **kwargs: Any) -> float:
    start = time.monotonic()
    fn(*args, **kwargs)
    return time.monotonic() - start


def compare_local(base: str, rounds: int, s3: Any) -> dict[str, list[float]]:
    import gen_nb

    times: dict[str, list[float]] = {"download_many": [], "export": [], "download_many_s3": [],
                                     "export_s3": []}

    def list_and_download(client: Any, folder: Path) -> None:
        """What one writes without export: list the completed renders, download_many them."""
        urls = [r.url for r in client.renders(status="completed") if r.url]
        gen_nb.download_many(urls, folder, progress=False, fsync=False)

    def list_download_put(client: Any, fs: Any, folder: Path, to: str) -> None:
        """Without export, into S3: list, download_many to disk, put the folder."""
        list_and_download(client, folder)
        fs.put(str(folder), to, recursive=True)

    with _client(base) as client:
        for n in range(rounds):
            with scratch("bench-export-") as work:
                pairs = [[("download_many", functools.partial(list_and_download, client,
                                                              work / "many")),
                          ("export", functools.partial(gen_nb.export, client, work / "export",
                                                       progress=False, fsync=False))]]
                if s3 is not None:
                    fs = s3.s3fs()
                    bucket = s3.bucket(f"bench-export-{os.getpid()}-{n}")
                    pairs.append([
                        ("download_many_s3", functools.partial(
                            list_download_put, client, fs, work / "via-disk", f"{bucket}/many")),
                        ("export_s3", functools.partial(
                            gen_nb.export, client, f"s3://{bucket}/gen",
                            storage_options=s3.storage_options, progress=False))])
                for pair in pairs:  # ABBA: neither side always goes first
                    for name, run in pair if n % 2 == 0 else reversed(pair):
                        times[name].append(timed(run))
    return times


def rerun_requests(base: str) -> tuple[int, int, int]:
    """(API requests, CDN requests, engines) of a rerun with nothing new."""
    import gen_nb

    with scratch("bench-rerun-") as work, _client(base) as client:
        gen_nb.export(client, work, progress=False, fsync=False)
        before = _counts(base)
        again = gen_nb.export(client, work, progress=False, fsync=False)
        after = _counts(base)
        engines = len(client.engines())
    assert set(again.counts) == {"skipped"}, again.counts
    return after["api"] - before["api"] - 2, after["cdn"] - before["cdn"], engines


def dask_vs_threads(files: int, rounds: int) -> tuple[list[float], list[float], float]:
    """Threads (16) vs Dask (2 processes × 8 threads) under a 2 MB/s per-connection cap
    (after one Dask run that imports gen_nb in the workers); and the largest gap between
    Dask progress updates (s)."""
    from distributed import Client, LocalCluster

    import gen_nb

    server, base = start_server(files, rate=2_000_000)
    _Handler.body = bytes(range(256)) * (SIZE // 256)
    threads: list[float] = []
    dask: list[float] = []
    gaps: list[float] = []
    try:
        with LocalCluster(n_workers=2, threads_per_worker=8, processes=True, host="127.0.0.1",
                          dashboard_address=None) as cluster, Client(cluster) as dask_client, \
                _client(base) as client:
            with scratch("bench-dask-warm-") as warm:   # imports gen_nb in the workers, once
                gen_nb.export(client, warm, progress=False, fsync=False, executor=dask_client)
            for n in range(rounds):
                with scratch("bench-dask-") as work:
                    seen: list[float] = []
                    pair = [(threads, functools.partial(gen_nb.export, client, work / "t",
                                                        progress=False, fsync=False,
                                                        max_workers=16)),
                            (dask, functools.partial(gen_nb.export, client, work / "d",
                                                     progress=lambda _state, seen=seen:
                                                     seen.append(time.monotonic()),
                                                     fsync=False, executor=dask_client))]
                    for times, run in pair if n % 2 == 0 else reversed(pair):
                        times.append(timed(run))
                    gaps.append(max(b - a for a, b in itertools.pairwise(seen)))
    finally:
        server.terminate()
    return threads, dask, max(gaps)


def peak_rss_kib() -> int:
    """This process's peak RSS in KiB: VmHWM where Linux gives it (ru_maxrss would carry
    the parent's size across fork + exec), else ru_maxrss."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    import resource

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def _peak_rss_child(files: int) -> int:
    code = ("import sys, tempfile; sys.path.insert(0, %r); import bench_export as b\n"
            "p, base = b.start_server(%d); import gen_nb; c = b._client(base)\n"
            "with tempfile.TemporaryDirectory() as d:\n"
            "    gen_nb.export(c, d, progress=False, fsync=False)\n"
            "print(b.peak_rss_kib()); p.terminate()")
    out = subprocess.run([sys.executable, "-c", code % (str(Path(__file__).parent), files)],
                         capture_output=True, text=True, check=True, timeout=600)
    return int(out.stdout.strip().splitlines()[-1])


def _row(name: str, value: str, target: str, ok: bool) -> bool:
    print(f"| {name} | {value} | {target} | {'PASS' if ok else 'FAIL'} |")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-s3", action="store_true")
    parser.add_argument("--no-dask", action="store_true")
    args = parser.parse_args(argv)
    s3 = None
    if not args.no_s3:
        sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))
        from _moto import MotoServer

        s3 = MotoServer()
    server, base = start_server(args.files)
    ok = True
    try:
        times = compare_local(base, args.rounds, s3)
        api, cdn, engines = rerun_requests(base)
    finally:
        server.terminate()
        if s3 is not None:
            s3.stop()
    med = {k: statistics.median(v) for k, v in times.items() if v}
    print(f"\n{args.files} renders of {SIZE >> 10} KiB, {args.rounds} interleaved rounds, "
          "medians\n\n| measure | value | target | result |\n|---|---|---|---|")
    for name, secs in med.items():
        print(f"| {name} | {secs:.2f} s ({args.files / secs:.0f} files/s) | – | – |")
    ok &= _row("export / download_many (speed)", f"{med['download_many'] / med['export']:.2f}",
               "≥ 0.9", med["download_many"] / med["export"] >= 0.9)
    if "export_s3" in med:
        ratio = med["download_many_s3"] / med["export_s3"]
        ok &= _row("export to S3 (moto) / download_many + put (speed)", f"{ratio:.2f}", "≥ 0.9",
                   ratio >= 0.9)
    ok &= _row("rerun: API requests", f"{api} for {engines} engines (+1 list)",
               "≤ 1 per engine", api <= engines + 1)
    ok &= _row("rerun: CDN requests", str(cdn), "0", cdn == 0)
    if not args.no_dask:
        threads, dask, gap = dask_vs_threads(min(args.files, 400), args.rounds)
        ratio = statistics.median(threads) / statistics.median(dask)
        ok &= _row("Dask 2 processes / 16 threads (speed)", f"{ratio:.2f}", "≥ 0.8",
                   ratio >= 0.8)
        ok &= _row("Dask: longest gap between progress updates", f"{gap:.2f} s", "≤ 1 s",
                   gap <= 1.0)
    small, large = _peak_rss_child(args.files // 5), _peak_rss_child(args.files)
    ok &= _row("peak RSS, N vs N/5 files", f"{large / 1024:.0f} vs {small / 1024:.0f} MiB "
               f"({large / small:.2f})", "≤ 1.25", large / small <= 1.25)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

