"""The sandbox's mutable state: engines, user jobs (generations), content resources, posts.

A ``World`` is the container: its tables, id counters, clock, settings and lookups, all guarded
by one lock. What changes it lives in the modules above: ``renders`` (start, stop, continue),
``publish`` (posts), ``deletion`` (two-phase delete), ``timeline`` (what the clock has done by
now) and ``seed`` (the deterministic demo workspace).
"""

from __future__ import annotations

import itertools
import threading
import time
from typing import Any

from .blobs import BlobStore
from .errors import ApiError
from .workspace import Cell, Engine, Post, Resource, UserJob

CONFIRM_TTL = 300.0


class World:
    """All sandbox state. Build a seeded one with ``seed.seeded_world(...)``.

    ``cdn_base`` is the CDN's origin, ``site`` the API server's (where the sandbox's own pages,
    such as a published post's page, live).
    """

    def __init__(self, *, blobs: BlobStore, cdn_base: str, agent_id: str,
                 render_seconds: float, publish_seconds: float, credits: int,
                 site: str = "") -> None:
        self.lock = threading.RLock()
        self.blobs, self.cdn_base, self.agent_id, self.site = blobs, cdn_base, agent_id, site
        self.render_seconds, self.publish_seconds, self.credits = (
            render_seconds, publish_seconds, credits)
        self.engines: dict[int, Engine] = {}
        self.jobs: dict[int, UserJob] = {}
        self.resources: dict[int, Resource] = {}
        self.posts: dict[int, Post] = {}
        self.idempotency: dict[str, tuple[Any, int, dict[str, Any]]] = {}
        self.confirm_tokens: dict[str, tuple[int, float]] = {}
        self.fail_next: list[str] = []
        self.delete_status: int | None = None
        self.confirm_ttl = CONFIRM_TTL
        self.deletes = 0
        self.marks: dict[str, str] = {}  # strings a test world planted, e.g. {"xss": "<img…>"}
        self._ids: dict[str, itertools.count[int]] = {}

    # ids and clock -----------------------------------------------------------------------
    def new_id(self, kind: str, start: int) -> int:
        """Next id of ``kind`` (counters start at ``start`` the first time)."""
        counter = self._ids.setdefault(kind, itertools.count(start))
        return next(counter)

    @staticmethod
    def now_ms() -> int:
        """The clock, in epoch milliseconds."""
        return int(time.time() * 1000)

    def url(self, path: str | None) -> str | None:
        """Absolute CDN URL of a CDN path."""
        return None if path is None else self.cdn_base + path

    # lookups -----------------------------------------------------------------------------
    def engine(self, engine_id: int) -> Engine:
        """The engine, or 404 project_not_found."""
        try:
            return self.engines[engine_id]
        except KeyError:
            raise ApiError(404, f"Engine {engine_id} not found", "project_not_found") from None

    def job(self, job_id: int) -> UserJob:
        """The user job, or 404 not_found."""
        try:
            return self.jobs[job_id]
        except KeyError:
            raise ApiError(404, f"Generation {job_id} not found", "not_found") from None

    def resource(self, rid: int) -> Resource:
        """The live content resource, or 404 content_resource_not_found."""
        res = self.resources.get(rid)
        if res is None or res.deleted:
            raise ApiError(404, f"Content resource {rid} not found",
                           "content_resource_not_found")
        return res

    def live_resources(self, ids: list[int]) -> list[Resource]:
        """The resources of ``ids`` that are not deleted, in order."""
        return [self.resources[i] for i in ids if not self.resources[i].deleted]

    def find_cell(self, engine: Engine, cell_id: int) -> Cell:
        """A cell of ``engine``, or 404 not_found."""
        for row in engine.rows:
            for cell in row.cells:
                if cell.id == cell_id:
                    return cell
        raise ApiError(404, f"Cell {cell_id} not found in engine {engine.id}", "not_found")

    # content -----------------------------------------------------------------------------
    def add_resource(self, path: str, sample: str, file_name: str, kind: str,
                     created_ms: int, thumb: str | None = None, **fields: Any) -> Resource:
        """Register a content resource and serve its file (and thumbnail) on the CDN."""
        rid = self.new_id("resource", 4800)
        blob = self.blobs.add_file(path, sample, created_ms / 1000)
        thumb_path = None
        if thumb is not None:
            stem, ext = path.rsplit("/", 1)[1].rsplit(".", 1)[0], thumb.rsplit(".", 1)[1]
            thumb_path = f"/uploads/{stem}_thumb.{ext}" if path.startswith("/uploads/") \
                else f"/thumbnails/{stem}.{ext}"
            self.blobs.add_file(thumb_path, thumb, created_ms / 1000)
        res = Resource(rid, path, file_name, blob.content_type, kind, created_ms,
                       thumb_path=thumb_path, **fields)
        self.resources[rid] = res
        return res
