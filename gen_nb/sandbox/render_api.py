"""The main GEN API endpoints of the sandbox: engines (both prefixes), renders, generations,
remotion jobs and content resources (list, detail, two-phase delete)."""

from __future__ import annotations

from . import wire
from .deletion import delete_resource
from .errors import ApiError
from .renders import continue_job, start_render, stop_job, wake
from .routing import Ctx, Result, Routes, to_id

PAGE_SIZE = 20
ENGINE = "/v1/<any(vidsheet, autocontentengine):prefix>"
RESOURCE_TYPES = ("video", "image", "audio", "zip", "safe_tensors")
routes = Routes()


# --- engines and renders ------------------------------------------------------------------
@routes.route(ENGINE, "GET")
def list_engines(ctx: Ctx, prefix: str) -> Result:
    """``GET /v1/{prefix}?agent_id=``: engine summaries."""
    ctx.agent()
    return 200, [wire.engine_summary(e) for e in ctx.world.engines.values()]


@routes.route(f"{ENGINE}/<engine_id>", "GET")
def get_engine(ctx: Ctx, prefix: str, engine_id: str) -> Result:
    """``GET /v1/{prefix}/{engine_id}?agent_id=``: the whole spreadsheet."""
    ctx.agent()
    engine = ctx.world.engine(to_id(engine_id, "Engine", "project_not_found"))
    return 200, wire.engine(ctx.world, engine)


@routes.route(f"{ENGINE}/<engine_id>/cells/<cell_id>/render", "POST")
def render(ctx: Ctx, prefix: str, engine_id: str, cell_id: str) -> Result:
    """``POST …/cells/{cell_id}/render``: 201 {generation_id, status} (Idempotency-Key)."""
    body = ctx.body()
    ctx.agent(body)
    eid = to_id(engine_id, "Engine", "project_not_found")
    return start_render(ctx.world, eid, to_id(cell_id, "Cell"),
                        ctx.request.headers.get("Idempotency-Key"))


@routes.route("/v1/generations/<job_id>", "GET")
def get_generation(ctx: Ctx, job_id: str) -> Result:
    """``GET /v1/generations/{id}``; polling a sleeping seeded render wakes it."""
    job = ctx.world.job(to_id(job_id, "Generation"))
    wake(ctx.world, job)
    return 200, wire.generation(ctx.world, job)


@routes.route("/v1/generations/<job_id>/stop", "POST")
def stop_generation(ctx: Ctx, job_id: str) -> Result:
    """``POST /v1/generations/{id}/stop``."""
    job = stop_job(ctx.world, to_id(job_id, "Generation"))
    return 200, wire.generation(ctx.world, job)


@routes.route("/v1/generations/<job_id>/continue", "POST")
def continue_generation(ctx: Ctx, job_id: str) -> Result:
    """``POST /v1/generations/{id}/continue``."""
    job = continue_job(ctx.world, to_id(job_id, "Generation"))
    return 200, wire.generation(ctx.world, job)


@routes.route("/v1/remotion_jobs", "GET")
def remotion_jobs(ctx: Ctx) -> Result:
    """``GET /v1/remotion_jobs?agent_id=&project_id=&page=``: renders, newest first."""
    ctx.agent()
    project = ctx.request.args.get("project_id")
    jobs = [j for j in ctx.world.jobs.values() if j.kind == "render"]
    if project:
        engine = ctx.world.engine(to_id(project, "Project", "project_not_found"))
        jobs = [j for j in jobs if j.engine_id == engine.id]
    jobs.sort(key=lambda j: (j.created_ms, j.id), reverse=True)
    start = ctx.page() * PAGE_SIZE
    return 200, [wire.remotion_job(ctx.world, j) for j in jobs[start:start + PAGE_SIZE]]


# --- content resources --------------------------------------------------------------------
@routes.route("/v1/content_resources", "GET")
def list_resources(ctx: Ctx) -> Result:
    """``GET /v1/content_resources?agent_id=&type=&project_id=&page=``, newest first."""
    ctx.agent()
    kind, project = ctx.request.args.get("type"), ctx.request.args.get("project_id")
    if kind and kind not in RESOURCE_TYPES:
        raise ApiError(422, f"type must be one of {', '.join(RESOURCE_TYPES)}",
                       "validation_error")
    items = [r for r in ctx.world.resources.values() if not r.deleted]
    if kind:
        items = [r for r in items if r.kind == kind]
    if project:
        pid = to_id(project, "Project", "project_not_found")
        ctx.world.engine(pid)
        items = [r for r in items if r.project_id == pid]
    items.sort(key=lambda r: r.id, reverse=True)
    start = ctx.page() * PAGE_SIZE
    return 200, [wire.resource(ctx.world, r) for r in items[start:start + PAGE_SIZE]]


@routes.route("/v1/content_resources/<rid>", "GET", "DELETE")
def resource(ctx: Ctx, rid: str) -> Result:
    """GET (detail) or DELETE (two-phase for renders) ``/v1/content_resources/{id}``."""
    ctx.agent()
    res_id = to_id(rid, "Content resource", "content_resource_not_found")
    if ctx.request.method == "DELETE":
        return delete_resource(ctx.world, res_id, ctx.request.args.get("confirm_token"))
    return 200, wire.resource_detail(ctx.world, ctx.world.resource(res_id))
