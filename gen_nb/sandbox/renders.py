"""Renders in the sandbox: start (credits, idempotency), stop, continue, wake, and the output
of a finished render. Renders started through the API go pending → processing → completed (or
failed, see ``World.fail_next``) over ``render_seconds``; ``timeline`` moves them along.
Seeded pending and processing renders sleep until they are first polled (:func:`wake`).
"""

from __future__ import annotations

import time
from typing import Any

from .errors import ApiError
from .workspace import Cell, Resource, UserJob
from .world import World

RENDER_COST = 50
FINISHED = ("completed", "failed", "stopped")
RUNNING = ("pending", "processing")


def start_render(world: World, engine_id: int, cell_id: int, idem_key: str | None
                 ) -> tuple[int, dict[str, Any]]:
    """Start a render on a final_video cell → (201, {"generation_id", "status"})."""
    signature = ("render", engine_id, cell_id)
    if idem_key and idem_key in world.idempotency:
        seen, status, body = world.idempotency[idem_key]
        if seen != signature:
            raise ApiError(422, "Idempotency-Key was already used for another request",
                           "validation_error")
        return status, dict(body)
    cell = world.find_cell(world.engine(engine_id), cell_id)
    if cell.role != "final_video":
        raise ApiError(422, f"Cell {cell_id} is a '{cell.role}' cell; renders start on the "
                       "final_video cell of a row", "validation_error")
    if world.credits < RENDER_COST:
        raise ApiError(422, "Insufficient credits for this job", "insufficient_credits_for_job")
    world.credits -= RENDER_COST
    job = _new_render(world, engine_id, cell)
    body = {"generation_id": job.id, "status": "pending"}
    if idem_key:
        world.idempotency[idem_key] = (signature, 201, dict(body))
    return 201, body


def _new_render(world: World, engine_id: int, cell: Cell) -> UserJob:
    now = world.now_ms()
    outcome, reason = "completed", None
    if world.fail_next:
        outcome, reason = "failed", world.fail_next.pop(0)
    job = UserJob(id=world.new_id("job", 60000), kind="render", user_job_type="video",
                  status="pending", created_ms=now, updated_ms=now, engine_id=engine_id,
                  cell_id=cell.id, started=time.time(), duration=world.render_seconds,
                  outcome=outcome, outcome_reason=reason, sample=cell.sample or "render_a")
    world.jobs[job.id] = job
    cell.job_id = job.id
    cell.history.append(job.id)
    cell.updated_ms = now
    return job


def wake(world: World, job: UserJob) -> None:
    """Set a sleeping seeded render going (the first time a client polls it).

    A seeded pending or processing render has no clock (``started is None``) until then; from
    now on it runs like a render started through the API, to the outcome it was seeded with
    (completed, or failed), finishing within ``render_seconds``. A processing one skips the
    pending part. Anything else (started, finished, not a render) is left alone.
    """
    if job.kind != "render" or job.started is not None or job.status not in RUNNING:
        return
    head = 0.2 * world.render_seconds if job.status == "processing" else 0.0
    job.started, job.due, job.duration = time.time() - head, 0.0, world.render_seconds


def stop_job(world: World, job_id: int) -> UserJob:
    """Stop a pending/processing job. 422 job_cannot_be_stopped if it has finished."""
    job = world.job(job_id)
    if job.status in FINISHED:
        raise ApiError(422, f"Generation {job_id} is already {job.status} and cannot be "
                       "stopped", "job_cannot_be_stopped")
    job.status, job.started, job.updated_ms = "stopped", None, world.now_ms()
    return job


def continue_job(world: World, job_id: int) -> UserJob:
    """Resume a stopped or failed job (it starts over); no-op while it runs."""
    job = world.job(job_id)
    if job.kind != "render":
        raise ApiError(422, f"Job {job_id} ({job.user_job_type}) cannot be continued",
                       "validation_error")
    if job.status == "completed":
        raise ApiError(422, f"Generation {job_id} is completed and cannot be continued",
                       "validation_error")
    if job.status in ("stopped", "failed"):
        job.status, job.failed_reason, job.outcome = "pending", None, "completed"
        job.started, job.due, job.duration = time.time(), 0.0, world.render_seconds
        job.updated_ms = world.now_ms()
    return job


def finish_render(world: World, job: UserJob) -> None:
    """End a render whose time is up: failed as planned, or completed with its MP4 + JPEG."""
    if job.outcome == "failed":
        job.status, job.failed_reason = "failed", job.outcome_reason or "Render failed"
        return
    job.status, job.execution_cost = "completed", RENDER_COST
    add_render_output(world, job, thumbnail=True)


def add_render_output(world: World, job: UserJob, thumbnail: bool) -> Resource:
    """Create the MP4 (+ JPEG) content resource of a completed render job."""
    res = world.add_resource(f"/outputs/render_{job.id}.mp4", f"{job.sample}.mp4",
                             f"render_{job.id}.mp4", "video", job.updated_ms or job.created_ms,
                             thumb=f"{job.sample}.jpg" if thumbnail else None,
                             project_id=job.engine_id, generator_id=job.id,
                             generator_type="video_render", is_render=True,
                             object_type="Video" if job.id % 2 else "video")
    job.resource_ids = [res.id]
    return res
