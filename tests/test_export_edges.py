"""Export against servers that change under it: an URL that expires mid-file, on Dask."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from adversary import Conn, LyingServer, Request

import gen_nb

BODY = bytes(range(256)) * 40          # 10,240 bytes
OTHER = bytes(reversed(range(256))) * 40


def _engine(url: str) -> dict[str, Any]:
    job = {"id": 77, "status": "completed",
           "output_resources": [{"id": 1, "url": url, "object_type": "video"}]}
    cell = {"id": 3, "value": None, "default_user_job": job, "user_jobs": [], "video_layers": []}
    title = {"id": 4, "value": "Expiring link", "default_user_job": None, "user_jobs": [],
             "video_layers": []}
    return {"id": 5, "title": "Links", "spreadsheet_columns": [
        {"id": 1, "title": "Hook", "column_role": "ingredient", "position": 0},
        {"id": 2, "title": "Final video", "column_role": "final_video", "position": 1}],
        "spreadsheet_rows": [{"id": 9, "position": 0, "spreadsheet_cells": [title, cell]}]}


def _gen_api(server: LyingServer, signature: list[int], fresh_body: bytes) -> None:
    def cdn_url() -> str:
        return server.url(f"/c/r.mp4?sig={signature[0]}")

    @server.route("/v1/vidsheet")
    def engines(request: Request, conn: Conn) -> None:
        conn.answer(200, json.dumps([_engine(cdn_url())]).encode(),
                    {"Content-Type": "application/json"})

    @server.route("/v1/vidsheet/5")
    def engine(request: Request, conn: Conn) -> None:
        conn.answer(200, json.dumps(_engine(cdn_url())).encode(),
                    {"Content-Type": "application/json"})

    @server.route("/v1/generations/77")
    def generation(request: Request, conn: Conn) -> None:
        signature[0] = 2                          # asking again gives a fresh signature
        conn.answer(200, json.dumps(_engine(cdn_url())["spreadsheet_rows"][0]
                                    ["spreadsheet_cells"][1]["default_user_job"]).encode(),
                    {"Content-Type": "application/json"})

    @server.route("/c/r.mp4")
    def cdn(request: Request, conn: Conn) -> None:
        sig = request.query.split("sig=")[1]
        data = BODY if sig == "1" else fresh_body
        etag = '"e1"' if data is BODY else '"e2"'
        start = int((request.header("range") or "bytes=0-").split("=")[1].split("-")[0])
        if sig == "1" and start:                  # the old link has expired
            conn.answer(403, b"<Error><Code>AccessDenied</Code></Error>")
            return
        headers = {"ETag": etag, "Content-Length": str(len(data) - start)}
        if start:
            headers["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
        conn.head(206 if start else 200, headers)
        conn.write(data[start:4000] if sig == "1" else data[start:])


@pytest.mark.parametrize(("fresh", "resumed"), [(BODY, True), (OTHER, False)])
def test_an_expired_url_is_refreshed_and_resumed_if_same(tmp_path: Path, fresh: bytes,
                                                         resumed: bool,
                                                         fast_transfer_retries) -> None:
    with LyingServer() as server:
        _gen_api(server, [1], fresh)
        with gen_nb.connect("gen_pat_expiry_TEST", agent_id="1",
                            base_url=server.url("/v1")) as client:
            report = gen_nb.export(client, tmp_path, progress=False, layers=False)
        ranged = [r for r in server.requests if r.path == "/c/r.mp4" and
                  "sig=2" in r.query and r.header("range") not in (None, "bytes=0-0")]
    (result,) = report.results
    if resumed:
        assert result.status == "done", result.error
        assert hashlib.sha256((tmp_path / result.path).read_bytes()).hexdigest() == \
            hashlib.sha256(BODY).hexdigest()
        assert ranged and ranged[0].header("range") == "bytes=4000-"
    else:
        assert result.status == "failed" and "different file" in (result.error or "")
        assert not (tmp_path / result.path).exists()


def test_export_on_dask_processes_with_live_progress(dask_cluster, client, sb,
                                                     tmp_path: Path) -> None:
    # ~0.7 s a file (~27 KB each): workers report a file at most every 0.25 s, so its bytes
    # must show up before it ends (at 150 kB/s every file ended within 0.2 s, all eight
    # slots at once, and only the final counts arrived, in one batch, when the workers'
    # connections were already warm)
    sb.inject("cdn", rate=40_000)
    states: list[tuple[float, int]] = []
    report = gen_nb.export(client, tmp_path / "dask", executor=dask_cluster, layers=False,
                           progress=lambda s: states.append((time.monotonic(), s.done)))
    sb.clear_faults()
    assert report.ok and report.counts.get("done") == len(report)
    first_done = min(r.seconds for r in report)
    assert any(0 < done < report.bytes for _, done in states), "no progress while in flight"
    counts = [done for _, done in states]
    assert counts == sorted(counts) and counts[-1] == report.bytes, states  # never backwards
    again = gen_nb.export(client, tmp_path / "dask", executor=dask_cluster, layers=False,
                          progress=False)
    assert again.counts == {"skipped": len(report)}
    assert first_done > 0


def test_cancel_on_dask_stops_running_transfers(dask_cluster, client, sb,
                                                tmp_path: Path) -> None:
    sb.inject("cdn", rate=10_000)             # ~2.7 s a file: cancel lands mid-file
    cancel = threading.Event()
    threading.Timer(1.0, cancel.set).start()
    started = time.monotonic()
    report = gen_nb.export(client, tmp_path / "stop", executor=dask_cluster, layers=False,
                           cancel=cancel, progress=False)
    sb.clear_faults()
    assert time.monotonic() - started < 10
    assert report.counts.get("cancelled") and not report.ok
    assert list((tmp_path / "stop").rglob("*.part")), "running files keep their .part"
