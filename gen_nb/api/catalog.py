"""The client's engines, renders, layer outputs and content resources (a mixin of Client)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from gen_nb.errors import APIError, ConfigError, ConfirmationRequired
from gen_nb.models import (
    ContentResource,
    DeletePlan,
    Engine,
    Generation,
    LayerOutput,
    RemotionJob,
    Render,
    parse_list,
    renders_from_engine,
)

if TYPE_CHECKING:
    from gen_nb.config import Settings

__all__ = ["PAGE_SIZE", "CatalogMixin", "items_of"]

PAGE_SIZE = 20
MAX_PAGES = 10_000
RESOURCE_TYPES = ("video", "image", "audio", "zip", "safe_tensors")
_LIST_KEYS = ("engines", "projects", "data", "items", "results", "content_resources",
              "remotion_jobs", "posts")


def items_of(data: Any) -> list[Any]:
    """The list in an answer: a bare array, or the first array under a usual key."""
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        for key in _LIST_KEYS:
            if isinstance(data.get(key), list):
                return list(data[key])
    return []


def _is_missing_route(error: APIError) -> bool:
    """A 404/405 that means "no such endpoint", not "no such agent"."""
    said = f"{error.server_message or ''} {error.error_code or ''}".lower()
    return error.status in (404, 405) and "agent" not in said


def _statuses(status: str | Iterable[str] | None) -> set[str] | None:
    if status is None:
        return None
    items = [status] if isinstance(status, str) else list(status)
    return {s.strip().lower() for s in items}


class CatalogMixin:
    """Engines, renders, layers, remotion jobs and content resources."""

    if TYPE_CHECKING:
        settings: Settings

        _json: Callable[..., Any]
        _request: Callable[..., Any]
        def _engine_path(self, *parts: object) -> str: ...
        def generation(self, generation_id: str | int) -> Generation: ...

    # --- engines and renders --------------------------------------------------------------------

    def engines(self) -> list[Engine]:
        """The agent's engines: ``GET /{prefix}?agent_id=`` where the API has it, else the
        engines named by ``engine_ids=`` / ``GEN_NB_ENGINE_IDS`` (fetched one by one).

        Items of the list endpoint may be summaries without rows; :meth:`renders` fetches
        those in full. Raises ConfigError when there is neither a list nor named engines.

        >>> [e.title for e in client.engines()]            # doctest: +SKIP
        """
        try:
            data = self._json("GET", self._engine_path(), agent=True,
                              subject=f"the list of engines ({self.settings.engine_prefix})")
        except APIError as exc:
            if not _is_missing_route(exc):
                raise
            if not self.settings.engine_ids:
                raise ConfigError(
                    f"This GEN API cannot list engines (GET /{self.settings.engine_prefix} "
                    f"answered {exc.status}). Name them: gen_nb.connect(engine_ids=[812, 813]) "
                    "or set GEN_NB_ENGINE_IDS=812,813 (the ids are in each engine's URL in GEN)."
                ) from exc
            return [self.engine(engine_id) for engine_id in self.settings.engine_ids]
        return parse_list(Engine, items_of(data))

    def engine(self, engine_id: str | int) -> Engine:
        """One engine with its columns, rows and cells. Raises NotFoundError for a wrong id."""
        data = self._json("GET", self._engine_path(engine_id), agent=True,
                          subject=f"engine {engine_id}")
        return Engine.from_api(data.get("engine", data) if isinstance(data, dict) else {})

    def _full_engines(self, engine_ids: Iterable[str | int] | None) -> list[Engine]:
        if engine_ids is None and self.settings.engine_ids:
            engine_ids = self.settings.engine_ids
        if engine_ids is not None:
            return [self.engine(e) for e in engine_ids]
        return [e if e.rows else self.engine(e.id) for e in self.engines()]

    def renders(self, engine_ids: Iterable[str | int] | None = None, *,
                status: str | Iterable[str] | None = None) -> list[Render]:
        """Every take of every row's final video, across engines, in every status.

        ``engine_ids`` defaults to ``engine_ids=`` / ``GEN_NB_ENGINE_IDS``, else all engines.
        ``status`` keeps only renders in that status (or those statuses).

        >>> {r.status for r in client.renders()}          # doctest: +SKIP
        {'completed', 'failed', 'pending', 'processing', 'stopped'}
        """
        wanted = _statuses(status)
        found = [r for e in self._full_engines(engine_ids) for r in renders_from_engine(e)]
        return [r for r in found if wanted is None or r.status in wanted]

    def render(self, render_id: str | int) -> Render:
        """A render by its generation id, with engine context (row, take, layers) when found.

        Falls back to the bare generation (no layers) when no engine row holds it.
        """
        for render in self.renders():
            if render.id == str(render_id):
                return render
        return Render.from_generation(self.generation(render_id))

    def layers(self, render: Render | str | int) -> list[LayerOutput]:
        """Outputs of the layers composited into a render (voiceover, b-roll clips, …).

        A :class:`Render` is re-read from its engine so the outputs are current.
        """
        if isinstance(render, Render) and render.engine_id:
            engine = self.engine(render.engine_id)
            fresh = next((r for r in renders_from_engine(engine) if r.id == render.id), render)
            return list(fresh.layers)
        return list(self.render(render.id if isinstance(render, Render) else render).layers)

    def remotion_jobs(self, project_id: str | int, *, page: int | None = None) -> list[RemotionJob]:
        """Render jobs of one engine (``project_id``), newest first, 20 a page.

        ``page=None`` asks for the API's first page (no ``page`` parameter sent).
        """
        data = self._json("GET", "remotion_jobs", agent=True,
                          params={"project_id": project_id, "page": page},
                          subject=f"remotion jobs of engine {project_id}")
        return parse_list(RemotionJob, items_of(data))

    # --- content resources ----------------------------------------------------------------------

    def resources(self, type: str | None = None, *,
                  project_id: str | int | None = None) -> list[ContentResource]:
        """Every stored file, reading 0-based pages of 20 until a short or empty page.

        ``type`` is one of video, image, audio, zip, safe_tensors. Stops early if the server
        repeats a page (ignores ``page``).

        >>> len(client.resources(type="video"))            # doctest: +SKIP
        """
        if type is not None and type not in RESOURCE_TYPES:
            raise ValueError(f"type={type!r} is not one of {list(RESOURCE_TYPES)}.")
        found: list[ContentResource] = []
        previous: list[str] | None = None
        for page in range(MAX_PAGES):
            data = self._json("GET", "content_resources", agent=True,
                              params={"type": type, "project_id": project_id, "page": page},
                              subject=f"content resources page {page}")
            items = parse_list(ContentResource, items_of(data))
            ids = [r.id for r in items]
            if not items or ids == previous:
                break
            found += items
            previous = ids
            if len(items) < PAGE_SIZE:
                break
        return found

    def resource(self, resource_id: str | int) -> ContentResource:
        """One content resource, with its generator when there is one."""
        data = self._json("GET", f"content_resources/{resource_id}", agent=True,
                          subject=f"content resource {resource_id}")
        return ContentResource.from_api(data or {})

    def delete_resource(self, resource_id: str | int, *, confirm: bool = False,
                        dry_run: bool = False) -> DeletePlan:
        """Delete a stored file for good; its CDN URL then answers 404.

        ``dry_run=True`` only says what would go (nothing is sent but a GET).
        Without ``confirm=True`` it raises :class:`ConfirmationRequired` naming the file.
        With it, the DELETE is sent; a 428 answer is confirmed once with its
        ``confirm_token``. 200-with-empty-body and 204 both mean done.

        >>> plan = client.delete_resource(7, dry_run=True)     # doctest: +SKIP
        >>> client.delete_resource(7, confirm=True).deleted    # doctest: +SKIP
        True
        """
        res = self.resource(resource_id)
        plan = _plan_for(res)
        if dry_run:
            return plan
        if not confirm:
            raise ConfirmationRequired(
                f"Deleting content resource {res.id} ({res.file_name or res.url}) is permanent: "
                f"{' '.join(plan.warnings)} Call delete_resource({res.id!r}, confirm=True) to "
                "go ahead, or dry_run=True to see what would go.",
                subject=f"content resource {res.id}",
                body={"would_destroy": dict(plan.would_destroy)})
        subject = f"content resource {res.id}"
        path = f"content_resources/{res.id}"
        try:
            self._request("DELETE", path, agent=True, subject=subject)
            return _done(plan)
        except ConfirmationRequired as exc:
            if not exc.confirm_token:
                raise
            token, would = exc.confirm_token, exc.would_destroy
        self._confirm_delete(path, res.id, token)
        return _done(plan, would_destroy=would or plan.would_destroy)

    def _confirm_delete(self, path: str, resource_id: str, token: str) -> None:
        """The second DELETE of the two-phase flow; says so when the token is refused."""
        subject = f"confirming the delete of content resource {resource_id}"
        try:
            self._request("DELETE", path, agent=True, params={"confirm_token": token},
                          subject=subject, single_use=True)
        except APIError as exc:
            if exc.status not in (400, 403, 409, 410, 422, 428):
                raise
            code = f", error_code={exc.error_code!r}" if exc.error_code else ""
            raise type(exc)(
                f"The confirm token for deleting content resource {resource_id} was rejected or "
                f"has expired (HTTP {exc.status}{code}: {exc.server_message or 'no reason'}); "
                f"nothing was deleted. Call delete_resource({resource_id!r}, confirm=True) "
                "again to get a new token.",
                status=exc.status, error_code=exc.error_code, server_message=exc.server_message,
                subject=subject, body=exc.body) from exc


def _plan_for(res: ContentResource) -> DeletePlan:
    warnings = [f"The file {res.file_name or res.id} goes for good and its URL ({res.url}) "
                "will answer 404: engine rows, scheduled posts and links that use it break."]
    if res.generator is not None:
        warnings.append(f"It is the output of {res.generator.type or 'generation'} "
                        f"{res.generator.id}; deleting the engine would not have removed it.")
    return DeletePlan(resource_id=res.id, url=res.url, file_name=res.file_name,
                      would_destroy={"content_resources": 1, "urls": [res.url] if res.url else []},
                      warnings=tuple(warnings))


def _done(plan: DeletePlan, **changes: Any) -> DeletePlan:
    import dataclasses

    return dataclasses.replace(plan, deleted=True, **changes)
