"""The sandbox's mutable state: engines, jobs (generations), content resources, posts.

Everything is guarded by one lock. Time-driven changes (a render finishing, a post going out)
are applied lazily by ``advance()``, which the API calls before answering, so the state always
matches the clock without a ticker thread. Seeded in-flight renders are frozen (their status
never changes by itself); renders started through the API go pending → processing →
completed over ``render_seconds``.
"""

from __future__ import annotations

import itertools
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from .blobs import BlobStore

RENDER_COST = 50
CONFIRM_TTL = 300.0
FINISHED = ("completed", "failed", "stopped")


class ApiError(Exception):
    """An error answer: ``status`` + message + error_code (+ extra fields / detail envelope)."""

    def __init__(self, status: int, message: str, code: str, *, detail: bool = False,
                 headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.message, self.code, self.detail = status, message, code, detail
        self.extra, self.headers = extra, headers or {}

    def body(self) -> dict[str, Any]:
        """The JSON body: ``{"error", "error_code", …}`` or ``{"detail": {…}}``."""
        inner = {"error": self.message, "error_code": self.code, **self.extra}
        return {"detail": inner} if self.detail else inner


@dataclass
class Resource:
    """A content resource (a stored file) and where the CDN serves it."""

    id: int
    path: str
    file_name: str
    content_type: str
    kind: str
    created_ms: int
    thumb_path: str | None = None
    project_id: int | None = None
    generator_id: int | None = None
    generator_type: str | None = None
    object_type: str = "video"
    is_render: bool = False
    deleted: bool = False


@dataclass
class Job:
    """A user job / generation: a render, a layer's generation or a legacy publish."""

    id: int
    kind: str
    user_job_type: str
    status: str
    created_ms: int
    failed_reason: str | None = None
    resource_ids: list[int] = field(default_factory=list)
    execution_cost: int | str | None = None
    result: dict[str, Any] | None = None
    engine_id: int | None = None
    cell_id: int | None = None
    started: float | None = None
    due: float = 0.0
    duration: float = 0.0
    outcome: str = "completed"
    outcome_reason: str | None = None
    sample: str = "render_a"
    payload: dict[str, Any] = field(default_factory=dict)
    updated_ms: int = 0


@dataclass
class Layer:
    id: int
    name: str
    position: int
    type: str
    start_frame: int
    frames: int
    job_id: int | None = None
    history: list[int] = field(default_factory=list)
    src_resource: int | None = None


@dataclass
class Cell:
    id: int
    value: str | None
    role: str
    created_ms: int
    updated_ms: int
    layers: list[Layer] = field(default_factory=list)
    job_id: int | None = None
    history: list[int] = field(default_factory=list)


@dataclass
class Column:
    id: int
    title: str
    type: str
    role: str
    position: int


@dataclass
class Row:
    id: int
    position: int | None
    cells: list[Cell] = field(default_factory=list)


@dataclass
class Engine:
    id: int
    slug: str
    title: str
    status: str
    created_ms: int
    project_type: str = "autocontentengine"
    columns: list[Column] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)


class World:
    """All sandbox state. Build with ``World(seed=0, blobs=…, cdn_base=…, …)``."""

    def __init__(self, *, seed: int, blobs: BlobStore, cdn_base: str, agent_id: str,
                 render_seconds: float, publish_seconds: float, credits: int) -> None:
        from .data import populate

        self.lock = threading.RLock()
        self.blobs, self.cdn_base, self.agent_id = blobs, cdn_base, agent_id
        self.render_seconds, self.publish_seconds, self.credits = (
            render_seconds, publish_seconds, credits)
        self.engines: dict[int, Engine] = {}
        self.jobs: dict[int, Job] = {}
        self.resources: dict[int, Resource] = {}
        self.posts: dict[int, Any] = {}
        self.idempotency: dict[str, tuple[Any, int, dict[str, Any]]] = {}
        self.confirm_tokens: dict[str, tuple[int, float]] = {}
        self.fail_next: list[str] = []
        self.delete_status: int | None = None
        self.confirm_ttl = CONFIRM_TTL
        self._deletes = 0
        self._ids: dict[str, itertools.count[int]] = {}
        populate(self, seed)

    # ids and clock -----------------------------------------------------------------------
    def new_id(self, kind: str, start: int) -> int:
        """Next id of ``kind`` (counters start at ``start`` the first time)."""
        counter = self._ids.setdefault(kind, itertools.count(start))
        return next(counter)

    @staticmethod
    def now_ms() -> int:
        return int(time.time() * 1000)

    def url(self, path: str | None) -> str | None:
        """Absolute CDN URL of a CDN path."""
        return None if path is None else self.cdn_base + path

    # lookups -----------------------------------------------------------------------------
    def engine(self, engine_id: int) -> Engine:
        try:
            return self.engines[engine_id]
        except KeyError:
            raise ApiError(404, f"Engine {engine_id} not found", "project_not_found") from None

    def job(self, job_id: int) -> Job:
        try:
            return self.jobs[job_id]
        except KeyError:
            raise ApiError(404, f"Generation {job_id} not found", "not_found") from None

    def resource(self, rid: int) -> Resource:
        res = self.resources.get(rid)
        if res is None or res.deleted:
            raise ApiError(404, f"Content resource {rid} not found",
                           "content_resource_not_found")
        return res

    def live_resources(self, ids: list[int]) -> list[Resource]:
        return [self.resources[i] for i in ids if not self.resources[i].deleted]

    def find_cell(self, engine: Engine, cell_id: int) -> Cell:
        for row in engine.rows:
            for cell in row.cells:
                if cell.id == cell_id:
                    return cell
        raise ApiError(404, f"Cell {cell_id} not found in engine {engine.id}", "not_found")

    # time-driven changes -----------------------------------------------------------------
    def advance(self) -> None:
        """Apply every state change that the clock says has happened by now."""
        now = time.time()
        for job in list(self.jobs.values()):
            if job.started is not None:
                self._advance_job(job, now)
        from .publish import advance_posts

        advance_posts(self, now)

    def _advance_job(self, job: Job, now: float) -> None:
        start = job.started + job.due  # type: ignore[operator]
        if now < start + 0.2 * job.duration:
            job.status = "pending"
        elif now < start + job.duration:
            job.status = "processing"
        else:
            job.started = None
            job.updated_ms = int((start + job.duration) * 1000)
            if job.kind == "publish":
                from .publish import finish_legacy_job

                finish_legacy_job(self, job, start)
            else:
                self._finish_render(job)

    def _finish_render(self, job: Job) -> None:
        if job.outcome == "failed":
            job.status, job.failed_reason = "failed", job.outcome_reason or "Render failed"
            return
        from .data import add_render_output

        job.status, job.execution_cost = "completed", RENDER_COST
        add_render_output(self, job, thumbnail=True)

    # renders -----------------------------------------------------------------------------
    def start_render(self, engine_id: int, cell_id: int, idem_key: str | None
                     ) -> tuple[int, dict[str, Any]]:
        """Start a render on a final_video cell → (201, {"generation_id", "status"})."""
        signature = ("render", engine_id, cell_id)
        if idem_key and idem_key in self.idempotency:
            seen, status, body = self.idempotency[idem_key]
            if seen != signature:
                raise ApiError(422, "Idempotency-Key was already used for another request",
                               "validation_error")
            return status, dict(body)
        cell = self.find_cell(self.engine(engine_id), cell_id)
        if cell.role != "final_video":
            raise ApiError(422, f"Cell {cell_id} is a '{cell.role}' cell; renders start on the "
                           "final_video cell of a row", "validation_error")
        if self.credits < RENDER_COST:
            raise ApiError(422, "Insufficient credits for this job", "insufficient_credits_for_job")
        self.credits -= RENDER_COST
        job = self._new_render(engine_id, cell)
        body = {"generation_id": job.id, "status": "pending"}
        if idem_key:
            self.idempotency[idem_key] = (signature, 201, dict(body))
        return 201, body

    def _new_render(self, engine_id: int, cell: Cell) -> Job:
        now = self.now_ms()
        outcome, reason = "completed", None
        if self.fail_next:
            outcome, reason = "failed", self.fail_next.pop(0)
        job = Job(id=self.new_id("job", 60000), kind="render", user_job_type="video",
                  status="pending", created_ms=now, updated_ms=now, engine_id=engine_id,
                  cell_id=cell.id, started=time.time(), duration=self.render_seconds,
                  outcome=outcome, outcome_reason=reason,
                  sample="render_b" if len(cell.history) % 2 else "render_a")
        self.jobs[job.id] = job
        cell.job_id = job.id
        cell.history.append(job.id)
        cell.updated_ms = now
        return job

    def stop_job(self, job_id: int) -> Job:
        """Stop a pending/processing job. 422 job_cannot_be_stopped if it has finished."""
        job = self.job(job_id)
        if job.status in FINISHED:
            raise ApiError(422, f"Generation {job_id} is already {job.status} and cannot be "
                           "stopped", "job_cannot_be_stopped")
        job.status, job.started, job.updated_ms = "stopped", None, self.now_ms()
        return job

    def continue_job(self, job_id: int) -> Job:
        """Resume a stopped or failed job (it starts over); no-op while it runs."""
        job = self.job(job_id)
        if job.kind != "render":
            raise ApiError(422, f"Job {job_id} ({job.user_job_type}) cannot be continued",
                           "validation_error")
        if job.status == "completed":
            raise ApiError(422, f"Generation {job_id} is completed and cannot be continued",
                           "validation_error")
        if job.status in ("stopped", "failed"):
            job.status, job.failed_reason, job.outcome = "pending", None, "completed"
            job.started, job.due, job.duration = time.time(), 0.0, self.render_seconds
            job.updated_ms = self.now_ms()
        return job

    # deletion ----------------------------------------------------------------------------
    def delete_resource(self, rid: int, token: str | None) -> tuple[int, dict[str, Any] | None]:
        """DELETE a content resource → (428, plan) | (200, None) | (204, None)."""
        res = self.resource(rid)
        if res.is_render:
            if not token:
                return 428, self._plan(res)
            owner, expires = self.confirm_tokens.pop(token, (None, 0.0))
            if owner != rid or expires <= time.time():
                raise ApiError(422, "confirm_token is invalid, expired or already used; "
                               "send the DELETE again without it to get a new one",
                               "validation_error")
        res.deleted = True
        self.blobs.delete(res.path)
        if res.thumb_path:
            self.blobs.delete(res.thumb_path)
        self._deletes += 1
        status = self.delete_status or (204 if self._deletes % 2 else 200)
        return status, None

    def _plan(self, res: Resource) -> dict[str, Any]:
        token = f"tok_{secrets.token_hex(8)}"
        self.confirm_tokens[token] = (res.id, time.time() + self.confirm_ttl)
        url = self.url(res.path)
        posts = sum(1 for p in self.posts.values() if url in p.media_urls
                    and any(s.state == "accepted" for s in p.states))
        destroy = {"content_resources": 1, "renders": 1}
        if posts:
            destroy["scheduled_posts"] = posts
        return {"would_destroy": destroy, "confirm_token": token}

    # snapshot ----------------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        """JSON-shaped copy of everything, for assertions (see Sandbox.seed_data)."""
        from . import views

        with self.lock:
            self.advance()
            return views.snapshot(self)
