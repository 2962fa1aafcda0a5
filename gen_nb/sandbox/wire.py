"""How the sandbox API writes its objects on the wire: the JSON shapes GEN's docs show (see
gen-api-examples.json), plus ``snapshot``, everything at once for tests.

Timestamps vary on purpose, like the real API: by id, an object carries ISO ``created_at``/
``updated_at``, epoch-millisecond ``created_at_ts``/``updated_at_ts``, both, or neither.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from .publish import post_json
from .renders import RUNNING
from .timeline import advance
from .workspace import Cell, Engine, Layer, Resource, UserJob
from .world import World


def iso(ms: int) -> str:
    """``2026-03-01T12:00:00.000Z`` for epoch milliseconds."""
    stamp = datetime.fromtimestamp(ms / 1000, UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def stamps(obj_id: int, created_ms: int, updated_ms: int | None = None) -> dict[str, Any]:
    """The timestamp fields of object ``obj_id``: ISO, ms, both or none (by ``obj_id % 4``)."""
    style, updated = obj_id % 4, updated_ms or created_ms
    out: dict[str, Any] = {}
    if style in (0, 1):
        out.update(created_at=iso(created_ms), updated_at=iso(updated))
    if style in (0, 2):
        out.update(created_at_ts=created_ms, updated_at_ts=updated)
    return out


def output(world: World, res: Resource) -> dict[str, Any]:
    """An ``output_resources[]`` item."""
    return {"id": res.id, "url": world.url(res.path), "thumbnail_url": world.url(res.thumb_path),
            "object_type": res.object_type, "type": "output"}


def outputs(world: World, job: UserJob) -> list[dict[str, Any]]:
    """A job's ``output_resources`` (deleted resources left out)."""
    return [output(world, r) for r in world.live_resources(job.resource_ids)]


def generation(world: World, job: UserJob) -> dict[str, Any]:
    """``GET /v1/generations/{id}``."""
    return {"id": job.id, "status": job.status, "user_job_type": job.user_job_type,
            "result": copy.deepcopy(job.result), "failed_reason": job.failed_reason,
            "output_resources": outputs(world, job), "execution_cost": job.execution_cost,
            **stamps(job.id, job.created_ms, job.updated_ms)}


def job_brief(world: World, job: UserJob) -> dict[str, Any]:
    """A job as embedded in cells and layers (``default_user_job``, ``user_jobs[]``)."""
    return {"id": job.id, "status": job.status, "failed_reason": job.failed_reason,
            "output_resources": outputs(world, job),
            **stamps(job.id, job.created_ms, job.updated_ms)}


def _brief_or_none(world: World, job_id: int | None) -> dict[str, Any] | None:
    return None if job_id is None else job_brief(world, world.jobs[job_id])


def layer(world: World, lay: Layer) -> dict[str, Any]:
    """A ``video_layers[]`` item: its current job and older takes."""
    attrs: dict[str, Any] = {"from": lay.start_frame, "durationInFrames": lay.frames}
    if lay.src_resource is not None:
        attrs = {"src": world.url(world.resources[lay.src_resource].path), **attrs}
    history = lay.history[:-1] if len(lay.history) > 1 else []
    return {"id": lay.id, "name": lay.name, "position": lay.position, "type": lay.type,
            "additional_attributes": attrs,
            "default_user_job": _brief_or_none(world, lay.job_id),
            "user_jobs": [job_brief(world, world.jobs[j]) for j in history]}


def cell(world: World, c: Cell) -> dict[str, Any]:
    """A ``spreadsheet_cells[]`` item: value, current job, takes and layers."""
    return {"id": c.id, "value": c.value, "cell_role": "content",
            "default_user_job": _brief_or_none(world, c.job_id),
            "user_jobs": [job_brief(world, world.jobs[j]) for j in c.history],
            "video_layers": [layer(world, lay) for lay in c.layers],
            "created_at_ts": c.created_ms, "updated_at_ts": c.updated_ms}


def engine_summary(e: Engine) -> dict[str, Any]:
    """An item of ``GET /v1/{prefix}`` (no rows)."""
    return {"id": e.id, "slug": e.slug, "title": e.title, "project_type": e.project_type,
            "status": e.status, "created_at": iso(e.created_ms), "created_at_ts": e.created_ms}


def engine(world: World, e: Engine) -> dict[str, Any]:
    """``GET /v1/{prefix}/{engine_id}``: columns, rows, cells (no column_id), layers."""
    rows = []
    for row in e.rows:
        item: dict[str, Any] = {"id": row.id}
        if row.position is not None:
            item["position"] = row.position
        item["spreadsheet_cells"] = [cell(world, c) for c in row.cells]
        rows.append(item)
    columns = [{"id": c.id, "title": c.title, "type": c.type, "column_role": c.role,
                "position": c.position} for c in e.columns]
    return {**engine_summary(e), "spreadsheet_columns": columns, "spreadsheet_rows": rows}


def resource(world: World, res: Resource) -> dict[str, Any]:
    """A content resource list item."""
    return {"id": res.id, "url": world.url(res.path), "thumbnail_url": world.url(res.thumb_path),
            "file_name": res.file_name, "content_type": res.content_type}


def resource_detail(world: World, res: Resource) -> dict[str, Any]:
    """``GET /v1/content_resources/{id}``."""
    generator = None
    if res.generator_id is not None:
        job = world.jobs[res.generator_id]
        generator = {"id": job.id, "status": job.status, "type": res.generator_type}
    body = {**resource(world, res), **stamps(res.id, res.created_ms)}
    return {"content_resource": body, "generator": generator}


def remotion_job(world: World, job: UserJob) -> dict[str, Any]:
    """A ``GET /v1/remotion_jobs`` item."""
    item: dict[str, Any] = {"created_at": iso(job.created_ms), "status": job.status}
    live = world.live_resources(job.resource_ids)
    if live:
        item.update(content_resource_id=live[0].id, url=world.url(live[0].path),
                    thumbnail_url=world.url(live[0].thumb_path))
    return item


def snapshot(world: World) -> dict[str, Any]:
    """Everything as of now, JSON-shaped, plus handy indexes for tests (``renders_by_status``,
    ``sleeping``: seeded in-flight renders nobody has polled yet, …, and a test world's planted
    strings such as ``xss``). Takes the world's lock and applies the clock first."""
    with world.lock:
        advance(world)
        return _everything(world)


def _everything(world: World) -> dict[str, Any]:
    renders = [j for j in world.jobs.values() if j.kind == "render"]
    by_status: dict[str, list[int]] = {}
    for job in renders:
        by_status.setdefault(job.status, []).append(job.id)
    no_thumb = [j.id for j in renders if j.status == "completed" and j.resource_ids
                and world.resources[j.resource_ids[0]].thumb_path is None]
    return {
        "agent_id": world.agent_id,
        "engines": {e.id: engine(world, e) for e in world.engines.values()},
        "generations": {j.id: generation(world, j) for j in world.jobs.values()},
        "content_resources": {r.id: resource_detail(world, r)
                              for r in world.resources.values() if not r.deleted},
        "posts": {p.id: post_json(world, p) for p in world.posts.values()},
        "renders_by_status": by_status,
        "render_ids": [j.id for j in renders],
        "render_without_thumbnail": no_thumb,
        "final_video_cells": {e.id: [c.id for row in e.rows for c in row.cells
                                     if c.role == "final_video"]
                              for e in world.engines.values()},
        "sleeping": [j.id for j in renders if j.started is None and j.status in RUNNING],
        "credits": world.credits,
        **world.marks,
    }
