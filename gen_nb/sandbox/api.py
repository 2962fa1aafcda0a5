"""The sandbox's GEN API (WSGI app): routing, auth, agent checks and the main endpoints.

Routes live in one werkzeug ``Map``; each endpoint is a function ``(ctx, **url_values)``
returning ``(status, body)``. Errors are raised as ``ApiError`` and rendered as
``{"error", "error_code"}`` (or the publishing service's ``{"detail": {...}}``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from . import publishing_api, views
from .world import ApiError, World

logger = logging.getLogger("gen_nb")
PAGE_SIZE = 20
ENGINE = "/v1/<any(vidsheet, autocontentengine):prefix>"
RESOURCE_TYPES = ("video", "image", "audio", "zip", "safe_tensors")
PUBLIC_ENDPOINTS = {"platforms"}
Result = tuple[int, Any]


class Ctx:
    """One request as endpoints see it."""

    def __init__(self, request: Request, world: World, app: ApiApp) -> None:
        self.request, self.world, self.app = request, world, app
        self._body: Any = None

    def body(self) -> dict[str, Any]:
        """The JSON object body ({} if empty). 422 validation_error if not a JSON object."""
        if self._body is None:
            raw = self.request.get_data(cache=True)
            try:
                self._body = json.loads(raw) if raw.strip() else {}
            except ValueError:
                raise ApiError(422, "Request body is not valid JSON", "validation_error") from None
            if not isinstance(self._body, dict):
                raise ApiError(422, "Request body must be a JSON object", "validation_error")
        return self._body

    def agent(self, body: dict[str, Any] | None = None) -> str:
        """Check ``agent_id`` (query, else body). 422 if missing, 404 if unknown."""
        agent = self.request.args.get("agent_id")
        if agent is None and body is not None and body.get("agent_id") is not None:
            agent = str(body["agent_id"])
        if not agent:
            raise ApiError(422, "agent_id is required", "validation_error")
        if agent != self.world.agent_id:
            raise ApiError(404, "Agent not found", "not_found")
        return agent

    def page(self) -> int:
        raw = self.request.args.get("page", "0")
        if not raw.lstrip("-").isdigit() or int(raw) < 0:
            raise ApiError(422, "page must be a non-negative integer", "validation_error")
        return int(raw)


def to_id(value: str, what: str, code: str = "not_found") -> int:
    """A numeric id from a URL segment; 404 ``code`` if it is not one."""
    try:
        return int(value)
    except ValueError:
        raise ApiError(404, f"{what} {value!r} not found", code) from None


# --- engines and renders ------------------------------------------------------------------
def list_engines(ctx: Ctx, prefix: str) -> Result:
    ctx.agent()
    return 200, [views.engine_summary(e) for e in ctx.world.engines.values()]


def get_engine(ctx: Ctx, prefix: str, engine_id: str) -> Result:
    ctx.agent()
    engine = ctx.world.engine(to_id(engine_id, "Engine", "project_not_found"))
    return 200, views.engine(ctx.world, engine)


def start_render(ctx: Ctx, prefix: str, engine_id: str, cell_id: str) -> Result:
    body = ctx.body()
    ctx.agent(body)
    eid = to_id(engine_id, "Engine", "project_not_found")
    return ctx.world.start_render(eid, to_id(cell_id, "Cell"),
                                  ctx.request.headers.get("Idempotency-Key"))


def get_generation(ctx: Ctx, job_id: str) -> Result:
    return 200, views.generation(ctx.world, ctx.world.job(to_id(job_id, "Generation")))


def stop_generation(ctx: Ctx, job_id: str) -> Result:
    job = ctx.world.stop_job(to_id(job_id, "Generation"))
    return 200, views.generation(ctx.world, job)


def continue_generation(ctx: Ctx, job_id: str) -> Result:
    job = ctx.world.continue_job(to_id(job_id, "Generation"))
    return 200, views.generation(ctx.world, job)


def remotion_jobs(ctx: Ctx) -> Result:
    ctx.agent()
    project = ctx.request.args.get("project_id")
    jobs = [j for j in ctx.world.jobs.values() if j.kind == "render"]
    if project:
        engine = ctx.world.engine(to_id(project, "Project", "project_not_found"))
        jobs = [j for j in jobs if j.engine_id == engine.id]
    jobs.sort(key=lambda j: (j.created_ms, j.id), reverse=True)
    start = ctx.page() * PAGE_SIZE
    return 200, [views.remotion_job(ctx.world, j) for j in jobs[start:start + PAGE_SIZE]]


# --- content resources --------------------------------------------------------------------
def list_resources(ctx: Ctx) -> Result:
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
    return 200, [views.resource(ctx.world, r) for r in items[start:start + PAGE_SIZE]]


def resource(ctx: Ctx, rid: str) -> Result:
    ctx.agent()
    res_id = to_id(rid, "Content resource", "content_resource_not_found")
    if ctx.request.method == "DELETE":
        status, body = ctx.world.delete_resource(res_id, ctx.request.args.get("confirm_token"))
        return status, body
    return 200, views.resource_detail(ctx.world, ctx.world.resource(res_id))


ENDPOINTS: dict[str, Callable[..., Result]] = {
    "engines": list_engines, "engine": get_engine, "render": start_render,
    "generation": get_generation, "stop": stop_generation, "continue": continue_generation,
    "remotion_jobs": remotion_jobs, "resources": list_resources, "resource": resource,
    **publishing_api.ENDPOINTS,
}
URL_MAP = Map([
    Rule(ENGINE, endpoint="engines", methods=["GET"]),
    Rule(f"{ENGINE}/<engine_id>", endpoint="engine", methods=["GET"]),
    Rule(f"{ENGINE}/<engine_id>/cells/<cell_id>/render", endpoint="render", methods=["POST"]),
    Rule("/v1/generations/<job_id>", endpoint="generation", methods=["GET"]),
    Rule("/v1/generations/<job_id>/stop", endpoint="stop", methods=["POST"]),
    Rule("/v1/generations/<job_id>/continue", endpoint="continue", methods=["POST"]),
    Rule("/v1/remotion_jobs", endpoint="remotion_jobs", methods=["GET"]),
    Rule("/v1/content_resources", endpoint="resources", methods=["GET"]),
    Rule("/v1/content_resources/<rid>", endpoint="resource", methods=["GET", "DELETE"]),
    *publishing_api.RULES,
], strict_slashes=False)


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    """A JSON response; ``body=None`` gives an empty body (204, or 200 with no content)."""
    if body is None:
        return Response(b"", status=status, headers=headers)
    return Response(json.dumps(body), status=status, headers=headers,
                    mimetype="application/json")


class ApiApp:
    """WSGI app for ``/v1/...``. Auth: ``X-API-Key: <key>`` or ``Authorization: Bearer <key>``."""

    def __init__(self, world: World, api_key: str, agent_id: str) -> None:
        self.world, self.api_key, self.agent_id = world, api_key, agent_id

    def authorized(self, request: Request) -> bool:
        if request.headers.get("X-API-Key") == self.api_key:
            return True
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        return scheme.lower() == "bearer" and token.strip() == self.api_key

    def dispatch(self, request: Request) -> Response:
        adapter = URL_MAP.bind_to_environ(request.environ)
        try:
            endpoint, values = adapter.match()
            if endpoint not in PUBLIC_ENDPOINTS and not self.authorized(request):
                raise ApiError(401, "Missing or invalid API key (send X-API-Key)",
                               "unauthorized")
            request.get_data(cache=True)  # read the body before taking the lock
            with self.world.lock:
                self.world.advance()
                status, body = ENDPOINTS[endpoint](Ctx(request, self.world, self), **values)
        except ApiError as exc:
            return json_response(exc.status, exc.body(), exc.headers)
        except MethodNotAllowed as exc:
            allow = {"Allow": ", ".join(exc.valid_methods or [])}
            return json_response(405, {"error": "Method not allowed", "error_code":
                                       "method_not_allowed"}, allow)
        except NotFound:
            return json_response(404, {"error": f"No route for {request.path}",
                                       "error_code": "not_found"})
        except HTTPException as exc:
            return json_response(exc.code or 500, {"error": exc.description or "error",
                                                   "error_code": "error"})
        return json_response(status, body)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        return self.dispatch(Request(environ))(environ, start_response)
