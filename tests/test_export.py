"""gen_nb.export against the sandbox: names, the manifest, reruns, filters, failures, stores."""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path
from typing import Any

import pytest

import gen_nb
from gen_nb.api.errors import UsageError
from gen_nb.export import naming, select
from gen_nb.transfer.manifest import MANIFEST_NAME

RECORD_FIELDS = {"kind", "render_id", "layer_id", "engine_id", "title", "path", "size", "sha256",
                 "source_url", "etag", "last_modified", "exported_at"}


def _manifest(folder: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (folder / MANIFEST_NAME).read_text().splitlines()]


def _cdn_gets(sb: Any) -> int:
    return sum(1 for r in sb.requests if r.server == "cdn" and r.method == "GET")


def _api_gets(sb: Any) -> int:
    return sum(1 for r in sb.requests if r.server == "api")


@pytest.fixture()
def exported(client: Any, sb: Any, tmp_path: Path) -> tuple[Path, Any]:
    dest = tmp_path / "export"
    report = gen_nb.export(client, dest, progress=False)
    return dest, report


def test_every_completed_render_and_its_layers_land_with_a_record(exported, client) -> None:
    dest, report = exported
    done = [r for r in client.renders(status="completed") if r.url]
    assert report.ok and report.counts.get("done", 0) == len(report)
    renders = [r for r in report if r.kind == "render"]
    assert sorted(r.render_id for r in renders) == sorted(r.id for r in done)
    records = _manifest(dest)
    assert len(records) == len(report) and all(set(r) >= RECORD_FIELDS for r in records)
    for record in records:
        path = dest / record["path"]
        assert path.is_file() and path.stat().st_size == record["size"]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == record["sha256"]
        assert "?" not in record["source_url"] and "@" not in record["source_url"]
    layers = [r for r in records if r["kind"] == "layer"]
    assert layers, "layer outputs are exported too"
    for layer in layers:       # beside their render, in <render>.layers/
        render = next(r for r in records if r["kind"] == "render" and
                      r["render_id"] == layer["render_id"])
        assert layer["path"].startswith(render["path"].rsplit(".", 1)[0] + ".layers/")


def test_a_rerun_moves_nothing_and_asks_one_request_per_engine(exported, client, sb) -> None:
    dest, first = exported
    engines = len(client.engines())
    sb.clear_log()
    again = gen_nb.export(client, dest, progress=False)
    assert again.counts == {"skipped": len(first)} and again.bytes == 0
    assert _cdn_gets(sb) == 0
    assert _api_gets(sb) <= engines + 1         # the list, then one request per engine


def test_a_changed_or_missing_file_is_moved_again(exported, client) -> None:
    dest, _ = exported
    records = _manifest(dest)
    changed, missing = dest / records[0]["path"], dest / records[1]["path"]
    changed.write_bytes(b"x" * changed.stat().st_size)        # same size, other bytes
    missing.unlink()
    again = gen_nb.export(client, dest, progress=False)
    moved = {r.path for r in again if r.status == "done"}
    assert moved == {records[0]["path"], records[1]["path"]}
    assert hashlib.sha256(changed.read_bytes()).hexdigest() == records[0]["sha256"]


def test_dry_run_lists_what_would_move_with_sizes(client, sb, tmp_path: Path) -> None:
    report = gen_nb.export(client, tmp_path / "d", dry_run=True, progress=False)
    assert report.dry_run and {r.status for r in report} == {"planned"}
    assert all(r.bytes and r.bytes > 0 for r in report) and report.bytes > 0
    assert not (tmp_path / "d" / MANIFEST_NAME).exists()
    assert not [p for p in (tmp_path / "d").rglob("*") if p.is_file()]


def test_filters_status_engines_since_and_layers(client, tmp_path: Path) -> None:
    everything = select(client)
    only_renders = select(client, layers=False)
    assert only_renders and {i.kind for i in only_renders} == {"render"}
    assert len(everything) > len(only_renders)
    engine = only_renders[0].engine_id
    one_engine = select(client, engines=[engine], layers=False)
    assert one_engine and {i.engine_id for i in one_engine} == {engine}
    assert select(client, since="2999-01-01") == []
    failed = select(client, status="failed")
    assert failed == [] or {i.status for i in failed} == {"failed"}
    with pytest.raises(UsageError, match="status"):
        select(client, status="finished")


def test_sources_renders_frames_and_layer_outputs(client, tmp_path: Path) -> None:
    renders = [r for r in client.renders(status="completed") if r.url][:2]
    from_list = gen_nb.export(renders, tmp_path / "a", layers=False, progress=False)
    frame = gen_nb.renders_frame(renders)
    from_frame = gen_nb.export(frame, tmp_path / "b", layers=False, progress=False)
    assert sorted(r.path for r in from_list) == sorted(r.path for r in from_frame)
    layer_outputs = [lo for lo in renders[0].layers if lo.url]
    from_layers = gen_nb.export(layer_outputs, tmp_path / "c", progress=False)
    assert len(from_layers) == len(layer_outputs) and from_layers.ok


def test_templates_are_checked_and_collisions_get_numbers(client, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="unknown"):
        gen_nb.export(client, tmp_path, name="{nope}{ext}", progress=False)
    with pytest.raises(UsageError, match="relative"):
        gen_nb.export(client, tmp_path, name="/abs/{render_id}{ext}", progress=False)
    report = gen_nb.export(client, tmp_path / "flat", name="{engine}{ext}", layers=False,
                           progress=False)
    paths = [r.path for r in report]
    assert len(set(p.lower() for p in paths)) == len(paths) and report.ok
    assert any("-2." in p for p in paths)


def test_hostile_titles_cannot_leave_the_destination(tmp_path: Path) -> None:
    fields = {"engine": "../../etc", "title": "..\\..\\x<img>", "render_id": "../1",
              "kind": "render", "ext": ".mp4/../../x"}
    path = naming.path_for(naming.DEFAULT_TEMPLATE, fields)
    assert ".." not in path.split("/") and not path.startswith("/")


def test_one_bad_file_does_not_stop_the_rest(client, sb, tmp_path: Path) -> None:
    renders = [r for r in client.renders(status="completed") if r.url][:3]
    bad = renders[1].url.split(sb.cdn_base, 1)[1]
    sb.inject("cdn", path=bad, status=404)
    report = gen_nb.export(renders, tmp_path / "e", layers=False, progress=False)
    by_status = {r.render_id: r.status for r in report}
    assert by_status[renders[1].id] == "failed" and not report.ok
    assert [by_status[r.id] for r in (renders[0], renders[2])] == ["done", "done"]
    failed = next(r for r in report if r.status == "failed")
    assert "404" in (failed.error or "")


def test_cancel_stops_and_a_rerun_finishes(client, sb, tmp_path: Path) -> None:
    sb.inject("cdn", rate=200_000)           # slow enough to cancel in the middle
    cancel = threading.Event()
    timer = threading.Timer(0.5, cancel.set)
    timer.start()
    try:
        first = gen_nb.export(client, tmp_path / "c", cancel=cancel, progress=False,
                              layers=False, max_workers=2)
    finally:
        timer.cancel()
    assert first.counts.get("cancelled") and not first.ok
    sb.clear_faults()
    second = gen_nb.export(client, tmp_path / "c", progress=False, layers=False)
    assert second.ok and second.counts.get("done")
    assert set(second.counts) <= {"done", "skipped"}


def test_progress_is_aggregated_over_all_files(client, sb, tmp_path: Path) -> None:
    states: list[Any] = []
    sb.inject("cdn", rate=100_000)            # long enough for the throttle to let states out
    try:
        report = gen_nb.export(client, tmp_path / "p", progress=states.append, layers=False)
    finally:
        sb.clear_faults()
    assert states[-1].phase == "done" and states[-1].done == report.bytes
    assert any(0 < s.done < report.bytes for s in states)


def test_memory_store_round_trip_and_rerun(client, sb) -> None:
    import fsspec

    dest = "memory://gen-nb-export/run1"
    first = gen_nb.export(client, dest, layers=False, progress=False)
    fs = fsspec.filesystem("memory")
    lines = fs.cat("/gen-nb-export/run1/" + MANIFEST_NAME).decode().splitlines()
    assert first.ok and len(lines) == len(first)
    sb.clear_log()
    again = gen_nb.export(client, dest, layers=False, progress=False)
    assert again.counts == {"skipped": len(first)} and _cdn_gets(sb) == 0


def test_s3_export_with_multipart_checks(client, moto, sb) -> None:
    bucket = moto.bucket("gen-nb-export")
    options = moto.storage_options
    first = gen_nb.export(client, f"s3://{bucket}/gen", storage_options=options,
                          progress=False, layers=False)
    assert first.ok and first.counts.get("done") == len(first)
    fs = moto.s3fs()
    records = [json.loads(x) for x in fs.cat(f"{bucket}/gen/{MANIFEST_NAME}").decode()
               .splitlines()]
    assert {r["path"] for r in records} == {r.path for r in first}
    for record in records:
        assert fs.info(f"{bucket}/gen/{record['path']}")["size"] == record["size"]
    sb.clear_log()
    again = gen_nb.export(client, f"s3://{bucket}/gen", storage_options=options,
                          progress=False, layers=False)
    assert again.counts == {"skipped": len(first)} and _cdn_gets(sb) == 0


def test_a_file_planted_where_an_export_writes_is_never_replaced(client: Any,
                                                                 tmp_path: Path) -> None:
    """The driver lists each folder once to spare three lstat calls a file; a file of someone
    else's at a planned path is seen there and kept, and only that item fails."""
    dest = tmp_path / "export"
    planned = gen_nb.export(client, dest, dry_run=True, layers=False, progress=False)
    victim = dest / planned.results[1].path
    victim.parent.mkdir(parents=True)
    victim.write_bytes(b"not gen_nb's file")
    report = gen_nb.export(client, dest, layers=False, progress=False)
    assert victim.read_bytes() == b"not gen_nb's file"
    failed = [r for r in report if r.status == "failed"]
    assert [r.path for r in failed] == [planned.results[1].path]
    assert "overwrite" in (failed[0].error or "") or "exists" in (failed[0].error or "")
    assert report.counts.get("done") == len(planned.results) - 1
