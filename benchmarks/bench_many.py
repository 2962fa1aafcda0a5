#!/usr/bin/env python3
"""Many files: ``gen_nb.download_many`` against aria2c and ``xargs curl``, in the same run.

    python benchmarks/bench_many.py [--rounds 5] [--only NAME] [--baseline DIR]

Three scenarios from design.md's performance table, each against a local nginx (the one of
``run.py``, ``nginx.conf.template``) on 127.0.0.1:

* **small** — 1,000 × 64 KiB from the uncapped server;
* **capped** — 40 × 8 MiB from a server capping every connection at 5 MB/s (``limit_rate 5m``);
* **proxy** — 200 × 64 KiB through a TCP proxy that waits 60 ms on every new connection
  before it relays (a TCP + TLS handshake to a far CDN), counting the connections it accepts.

Every variant runs in its own subprocess, interleaved round by round (A B C … A B C …; the
short, noisy proxy rows three times a round), its output folder deleted after each run; the
tables give medians (min–max) and the ratios against the targets with PASS/FAIL. Worker counts
are matched: gen_nb ``max_workers=16`` against ``aria2c -j16``; ``xargs -P8 curl`` (8 processes
of 1/8 of the list each, every curl reusing its connection) is shown for reference, and so are
two loops on urllib3 itself (the floor of gen_nb's own stack, see ``_floor_worker``): a bare
one, and one that also does the per-file work gen_nb cannot skip (timeouts, a temp file linked
into place, a manifest line). gen_nb's seconds and CPU are those of the transfer itself
(measured inside the worker, without the interpreter's start and imports); the "process s"
column is the whole subprocess, for comparison with the binaries, whose seconds are their whole
process. gen_nb's rows check every result's sha256. ``--baseline DIR`` (a folder holding
another ``gen_nb/``, e.g. from ``git archive``) adds its ``download_many`` as ``[base]`` rows,
for before/after ratios in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.append(str(HERE.parent))      # run from a clone, uninstalled (PYTHONPATH still wins)

import run as base  # noqa: E402  (benchmarks/run.py: nginx, files, measuring)

KiB, MiB = 1 << 10, 1 << 20
ARIA2C = "aria2c"


# --- worker side ----------------------------------------------------------------------------------

def _worker(args: argparse.Namespace) -> None:
    import resource

    import gen_nb
    import gen_nb.transfer  # (imported before the clock starts: not part of the transfer)

    urls = Path(args.list).read_text().split()
    before, start = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    results = gen_nb.download_many(urls, args.out, max_workers=args.workers, progress=False,
                                   fsync=args.fsync != "0")
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF)
    bad = [r for r in results if r.status != "done" or r.sha256 != args.sha256]
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    print(json.dumps({"seconds": seconds, "cpu": cpu, "gen_nb": gen_nb.__file__,
                      "bad": f"{len(bad)} bad, first: {bad[0]}" if bad else None}))


def _floor_worker(args: argparse.Namespace) -> None:
    """The reference floor of gen_nb's own stack: a plain loop on urllib3 (which gen_nb's
    transfers use), ``--workers`` threads sharing one pool, each file read whole, hashed with
    sha256, written and fsync'ed. ``--guarded 1`` adds what gen_nb must do for every file
    besides: bounded socket timeouts, a temp file of its own moved into place with a hard
    link that never replaces anything (then unlinked), and one manifest line. Neither
    verifies a server digest, retries, resumes, reports progress nor returns results."""
    import hashlib
    import resource
    import secrets
    from concurrent.futures import ThreadPoolExecutor

    import urllib3

    urls = Path(args.list).read_text().split()
    out, guarded = Path(args.out), args.guarded == "1"
    out.mkdir(parents=True)
    origin = urls[0][:urls[0].index("/", len("http://"))]
    host, port = origin[len("http://"):].split(":")
    pool = urllib3.HTTPConnectionPool(
        host, int(port), maxsize=args.workers,
        timeout=urllib3.Timeout(connect=10, read=60) if guarded else None)
    manifest = os.open(out / "manifest.jsonl", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    def one(url: str) -> str:
        answer = pool.urlopen("GET", url[len(origin):], retries=False, redirect=False)
        data, path = answer.data, out / url.rsplit("/", 1)[1]
        digest = hashlib.sha256(data).hexdigest()
        name = f"{path}.{secrets.token_hex(4)}.tmp" if guarded else str(path)
        fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0),
                     0o644)
        os.write(fd, data)
        os.fsync(fd)
        os.close(fd)
        if guarded:
            os.link(name, path)
            os.unlink(name)
            os.lstat(out / "manifest.jsonl")
            line = {"path": path.name, "size": len(data), "sha256": digest, "source_url": url,
                    "etag": answer.headers.get("ETag")}
            os.write(manifest, (json.dumps(line, sort_keys=True) + "\n").encode())
        return digest

    before, start = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    with ThreadPoolExecutor(args.workers) as workers:
        digests = list(workers.map(one, urls))
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF)
    bad = sum(d != args.sha256 for d in digests)
    print(json.dumps({"seconds": seconds,
                      "cpu": (after.ru_utime + after.ru_stime) -
                             (before.ru_utime + before.ru_stime),
                      "bad": f"{bad} wrong sha256" if bad else None}))


# --- the proxy ------------------------------------------------------------------------------------

class HandshakeProxy:
    """A TCP relay on 127.0.0.1:0 that sleeps ``delay`` s on each new connection before it
    connects upstream and relays; ``accepted`` counts connections (asyncio, one thread)."""

    def __init__(self, upstream_port: int, delay: float = 0.060) -> None:
        self.upstream_port, self.delay = upstream_port, delay
        self.accepted = 0
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.AbstractServer | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="proxy", daemon=True)

    def __enter__(self) -> HandshakeProxy:
        self._thread.start()
        if not self._ready.wait(10):
            raise SystemExit("the proxy did not start")
        return self

    def __exit__(self, *exc: Any) -> None:
        closing = asyncio.run_coroutine_threadsafe(self._close(), self._loop)
        with contextlib.suppress(Exception):
            closing.result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    async def _close(self) -> None:
        """Stop listening and end every relay (no task left pending when the loop stops)."""
        if self._server is not None:
            self._server.close()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path}"

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._client, "127.0.0.1", 0))
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        try:
            await asyncio.sleep(self.delay)      # the handshake a far CDN would cost
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except (OSError, asyncio.CancelledError):
            writer.close()
            return
        try:
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        except asyncio.CancelledError:      # the proxy is closing: end quietly
            for end in (writer, up_writer):
                end.close()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError, asyncio.IncompleteReadError):
        while data := await reader.read(256 * KiB):
            writer.write(data)
            await writer.drain()
    with contextlib.suppress(OSError):
        writer.close()


# --- the variants ---------------------------------------------------------------------------------

FLOOR = "urllib3 loop (floor)"                       # see _floor_worker
GUARDED = "urllib3 loop, guarded"  # + timeouts, link, manifest

SCENARIOS = {   # name → (files, size, what)
    "small": (1000, 64 * KiB, "1,000 × 64 KiB, local nginx"),
    "capped": (40, 8 * MiB, "40 × 8 MiB, 5 MB/s per connection"),
    "proxy": (200, 64 * KiB, "200 × 64 KiB, 60 ms per new connection"),
}


# Runs per round: the proxy rows last ~0.3 s and swing most (aria2c 0.21–0.47 s within one
# run on the shared benchmark machine), so each round runs them three times, interleaved.
REPEAT = {"proxy": 3}


def _url_list(work: Path, name: str, url: Callable[[str], str], count: int) -> Path:
    path = work / f"{name}.txt"
    path.write_text("".join(url(f"{name}/f{i:04d}.bin") + "\n" for i in range(count)))
    return path


def _variants(args: argparse.Namespace, work: Path, lists: dict[str, Path],
              shas: dict[str, str]) -> dict[str, tuple[str, list[str], Path]]:
    """name → (scenario, command, output folder); with --baseline, its gen_nb rows too."""
    py = [sys.executable, str(Path(__file__).resolve()), "--worker", "many"]
    table: dict[str, tuple[str, list[str], Path]] = {}
    for scenario, listed in lists.items():
        out = work / "out" / scenario
        gen = [*py, "--list", str(listed), "--workers", str(args.workers),
               "--sha256", shas[scenario]]
        table[f"{scenario}: gen_nb {args.workers} workers"] = (
            scenario, [*gen, "--out", str(out / "g")], out / "g")
        if args.baseline:
            table[f"{scenario}: gen_nb {args.workers} workers [base]"] = (
                scenario, ["env", f"PYTHONPATH={args.baseline}", *gen, "--out",
                           str(out / "b")], out / "b")
        if scenario != "capped":
            table[f"{scenario}: gen_nb {args.workers} workers fsync=False"] = (
                scenario, [*gen, "--out", str(out / "n"), "--fsync", "0"], out / "n")
        if scenario != "capped":
            floor = [*py[:-1], "floor", "--list", str(listed), "--workers", str(args.workers),
                     "--sha256", shas[scenario]]
            table[f"{scenario}: {FLOOR}"] = (scenario, [*floor, "--out", str(out / "u")],
                                             out / "u")
            table[f"{scenario}: {GUARDED}"] = (
                scenario, [*floor, "--out", str(out / "v"), "--guarded", "1"], out / "v")
        table[f"{scenario}: aria2c -j{args.workers}"] = (
            scenario, [ARIA2C, f"-j{args.workers}", "-i", str(listed), "-d", str(out / "a"),
                       "--allow-overwrite=true", "-q"], out / "a")
        if scenario != "capped":
            per = -(-SCENARIOS[scenario][0] // 8)
            script = (f'mkdir -p "$1" && cd "$1" && xargs -P8 -n{per} curl -sS -f '
                      f'--remote-name-all < "$2"')
            table[f"{scenario}: xargs -P8 curl"] = (
                scenario, ["sh", "-c", script, "sh", str(out / "c"), str(listed)], out / "c")
    return table


def _prepare(work: Path) -> tuple[Path, dict[str, str]]:
    """The served files (one file per scenario, linked under every name) and their sha256."""
    root = work / "root"
    shas: dict[str, str] = {}
    for scenario, (count, size, _) in SCENARIOS.items():
        folder = root / scenario
        folder.mkdir(parents=True)
        shas[scenario] = base.make_file(folder / "one.bin", size, scenario.encode())
        for i in range(count):
            os.symlink("one.bin", folder / f"f{i:04d}.bin")
    (work / "out").mkdir()
    os.sync()
    return root, shas


def _one(name: str, cmd: list[str], out: Path, proxy: HandshakeProxy) -> dict[str, Any]:
    proxy.accepted = 0
    row = base.measure(cmd, out)
    row["connections"] = proxy.accepted
    if row.get("bad"):
        raise SystemExit(f"{name}: {row['bad']}")
    base.check_baseline(name, row, cmd)
    return row


def run_all(args: argparse.Namespace) -> dict[str, list[dict[str, Any]]]:
    work = Path(tempfile.mkdtemp(prefix="gen_nb-bench-many-"))
    work.chmod(0o755)              # nginx's workers run as an unprivileged user
    try:
        root, shas = _prepare(work)
        with base.Nginx(work, root, "50m", slow_rate=args.rate) as nginx, \
                HandshakeProxy(nginx.fast_port, args.delay / 1000) as proxy:
            lists = {"small": _url_list(work, "small", nginx.url, SCENARIOS["small"][0]),
                     "capped": _url_list(work, "capped", nginx.slow_url,
                                         SCENARIOS["capped"][0]),
                     "proxy": _url_list(work, "proxy", proxy.url, SCENARIOS["proxy"][0])}
            table = _variants(args, work, lists, shas)
            chosen = {n: v for n, v in table.items()
                      if not args.only or any(o in n for o in args.only)}
            rows: dict[str, list[dict[str, Any]]] = {name: [] for name in chosen}
            for round_no in range(1, args.rounds + 1):
                for rep in range(max(REPEAT.values())):
                    for name, (scenario, cmd, out) in chosen.items():
                        if rep >= REPEAT.get(scenario, 1):
                            continue
                        row = _one(name, cmd, out, proxy)
                        rows[name].append(row)
                        print(f"  round {round_no}: {name:<40} {row['seconds']:7.3f} s  "
                              f"cpu {row['cpu']:.2f} s  conns {row['connections']}",
                              flush=True)
        return rows
    finally:
        shutil.rmtree(work, ignore_errors=True)


# --- tables ---------------------------------------------------------------------------------------

def summarize(rows: dict[str, list[dict[str, Any]]], args: argparse.Namespace) -> str:
    repeats = ", ".join(f"{k} rows {n} runs a round" for k, n in REPEAT.items())
    lines = [f"{args.rounds} rounds ({repeats}), medians (min–max), {os.cpu_count()} CPUs; "
             "gen_nb: transfer time inside the process; binaries: the whole process", "",
             f"| {'variant':<40} | {'seconds':>20} | {'process s':>9} | {'CPU s':>6} | "
             f"{'files/s':>7} | {'conns (max)':>11} | {'RSS MiB':>7} |",
             f"|{'-' * 42}|{'-' * 22}|{'-' * 11}|{'-' * 8}|{'-' * 9}|{'-' * 13}|{'-' * 9}|"]
    for name, runs in rows.items():
        secs = [r["seconds"] for r in runs]
        files = SCENARIOS[name.split(":")[0]][0]
        spread = f"{statistics.median(secs):.3f} ({min(secs):.3f}–{max(secs):.3f})"
        conns = max(r["connections"] for r in runs)
        lines.append(f"| {name:<40} | {spread:>20} | {base.med(runs, 'wall'):>9.3f} | "
                     f"{base.med(runs, 'cpu'):>6.2f} | {files / base.med(runs, 'seconds'):>7.0f} | "
                     f"{conns if name.startswith('proxy') else '–':>11} | "
                     f"{max(r['rss_mib'] for r in runs):>7.1f} |")
    return "\n".join(lines)


def checks_of(rows: dict[str, list[dict[str, Any]]], args: argparse.Namespace
              ) -> list[base.Check]:
    w = args.workers

    def speed_ratio(a: str, b: str) -> float | None:
        if a not in rows or b not in rows:
            return None
        return base.med(rows[b], "seconds") / base.med(rows[a], "seconds")

    proxy_conns = [r["connections"] for r in rows.get(f"proxy: gen_nb {w} workers", [])]
    checks: list[base.Check] = [
        (f"1,000 × 64 KiB: gen_nb {w} workers vs aria2c -j{w}",
         speed_ratio(f"small: gen_nb {w} workers", f"small: aria2c -j{w}"), ">=", 1.0),
        (f"1,000 × 64 KiB: gen_nb {w} workers vs xargs -P8 curl (info)",
         speed_ratio(f"small: gen_nb {w} workers", "small: xargs -P8 curl"), ">=", 0.0),
        (f"40 × 8 MiB at 5 MB/s: gen_nb {w} workers vs aria2c -j{w}",
         speed_ratio(f"capped: gen_nb {w} workers", f"capped: aria2c -j{w}"), ">=", 1.0),
        (f"200 × 64 KiB, 60 ms/conn: gen_nb {w} workers vs aria2c -j{w}",
         speed_ratio(f"proxy: gen_nb {w} workers", f"proxy: aria2c -j{w}"), ">=", 1.0),
        ("200 × 64 KiB, 60 ms/conn: gen_nb vs the guarded urllib3 loop (info)",
         speed_ratio(f"proxy: gen_nb {w} workers", f"proxy: {GUARDED}"), ">=", 0.0),
        ("200 × 64 KiB, 60 ms/conn: the guarded urllib3 loop vs aria2c (info)",
         speed_ratio(f"proxy: {GUARDED}", f"proxy: aria2c -j{w}"), ">=", 0.0),
        ("200 × 64 KiB, 60 ms/conn: the bare urllib3 loop vs aria2c (info)",
         speed_ratio(f"proxy: {FLOOR}", f"proxy: aria2c -j{w}"), ">=", 0.0),
        ("200 × 64 KiB, 60 ms/conn: gen_nb connections (max)",
         float(max(proxy_conns)) if proxy_conns else None, "<=", float(w)),
    ]
    checks += _baseline_checks(args, speed_ratio)
    return checks


def _baseline_checks(args: argparse.Namespace, speed_ratio: Callable[[str, str], float | None]
                     ) -> list[base.Check]:
    """With --baseline: how much faster than the other checkout, per scenario (info)."""
    if not args.baseline:
        return []
    w = args.workers
    return [(f"{scenario}: gen_nb vs --baseline's gen_nb (info)",
             speed_ratio(f"{scenario}: gen_nb {w} workers",
                         f"{scenario}: gen_nb {w} workers [base]"), ">=", 0.0)
            for scenario in SCENARIOS]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=16,
                        help="gen_nb max_workers and aria2c -j (default 16)")
    parser.add_argument("--rate", default="5m", help="per-connection cap of the capped rows")
    parser.add_argument("--delay", type=float, default=60.0,
                        help="ms the proxy waits on each new connection")
    base.shared_arguments(parser, "its download_many runs too, as '[base]' rows",
                          ("--list", "--out", "--sha256", "--fsync", "--guarded"))
    args = parser.parse_args(argv)
    if args.worker:
        (_floor_worker if args.worker == "floor" else _worker)(args)
        return 0
    for tool, package in ((base.NGINX, "nginx-light"), (ARIA2C, "aria2"), ("curl", "curl")):
        if shutil.which(tool) is None:
            print(f"{tool} not found: apt-get install -y {package}", file=sys.stderr)
            return 2
    rows = run_all(args)
    print()
    print(summarize(rows, args))
    checks = checks_of(rows, args)
    print(base.target_table(checks))
    return 0 if base.all_met(checks) else 1


if __name__ == "__main__":
    sys.exit(main())
