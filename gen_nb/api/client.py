"""The GEN client: :func:`connect` and :class:`Client`.

``Client`` is the one object users hold. Its methods are the documented entry points; each
is a few lines that call the module doing the work: :mod:`~gen_nb.api.catalog` (engines,
renders, layers), :mod:`~gen_nb.api.resources` (stored files, deletes),
:mod:`~gen_nb.api.publishing` (posts) — all through one :class:`~gen_nb.api.calls.ApiCalls`
(session, retries, deadline, typed errors).

>>> import gen_nb
>>> client = gen_nb.connect(quiet=True)            # no key → the local sandbox  # doctest: +SKIP
>>> r = client.renders(status="completed")[0]      # doctest: +SKIP
>>> client.wait(client.start_render(r.engine_id, r.cell_id).id, poll_interval=0.5)  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from types import TracebackType
from typing import Any

from gen_nb.api import catalog, publishing, resources
from gen_nb.api.calls import ApiCalls
from gen_nb.api.errors import (
    ConfigError,
    JobCannotBeStoppedError,
    RenderFailed,
    UnexpectedResponseError,
    WaitTimeout,
)
from gen_nb.api.models import (
    ContentResource,
    DeletePlan,
    Engine,
    Generation,
    LayerOutput,
    LegacyPublishJob,
    PlatformRules,
    Post,
    RemotionJob,
    Render,
)
from gen_nb.api.polling import poll
from gen_nb.api.settings import Settings, resolve_settings
from gen_nb.api.shared_sandbox import SHARED
from gen_nb.api.transport import RetryPolicy

__all__ = ["Client", "connect"]

log = logging.getLogger("gen_nb")


def _generation(data: Any, subject: str) -> Generation:
    if data is not None and not isinstance(data, Mapping):
        raise UnexpectedResponseError(status=200, subject=subject,
                                      server_message=f"expected a generation object, got "
                                                     f"{type(data).__name__}")
    return Generation.from_api(data or {})


class Client:
    """A connection to the GEN API (or to the local sandbox). Build it with :func:`connect`.

    ``settings`` are frozen and never show the key; ``sandbox`` is the sandbox handle the client
    talks to (None for the real API). Use it as a context manager or call :meth:`close`.

    >>> from gen_nb import sandbox
    >>> with sandbox.start() as sb, connect(sandbox=sb) as client:   # doctest: +SKIP
    ...     print(client.generation(client.renders()[0].id).status)
    """

    def __init__(self, settings: Settings | None = None, *, sandbox: Any = None,
                 policy: RetryPolicy | None = None, sleep: Callable[[float], Any] | None = None,
                 _on_close: Callable[[], None] | None = None) -> None:
        self.settings = settings if settings is not None else resolve_settings()
        self.sandbox = sandbox
        self._api = ApiCalls(self.settings, is_sandbox=self.is_sandbox, policy=policy,
                             sleep=sleep)
        self._index = catalog.RenderIndex()
        self._rules = publishing.PlatformRuleBook(self._api)
        self._on_close = _on_close
        self._closed = False

    # --- housekeeping ---------------------------------------------------------------------------

    @property
    def is_sandbox(self) -> bool:
        """True when this client talks to a gen_nb sandbox rather than to GEN."""
        key = self.settings.api_key or ""
        return self.sandbox is not None or key.startswith("gen_pat_sandbox_")

    def __repr__(self) -> str:
        where = " sandbox" if self.is_sandbox else ""
        return (f"<gen_nb.Client {self.settings.base_url} agent={self.settings.agent_id!r}"
                f"{where}{' closed' if self._closed else ''}>")

    __str__ = __repr__

    def close(self) -> None:
        """Close the HTTP session, and stop the sandbox if this client started it."""
        if self._closed:
            return
        self._closed = True
        self._api.close()
        if self._on_close is not None:
            self._on_close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # --- generations ----------------------------------------------------------------------------

    def generation(self, generation_id: str | int) -> Generation:
        """The current state of a generation (a render or any other job). Needs no agent id.

        Raises NotFoundError for an unknown id. Example: ``client.generation(56789).status``.
        """
        subject = f"generation {generation_id}"
        data = self._api.json("GET", self._api.path("generations/{}", generation_id),
                              subject=subject)
        return _generation(data, subject)

    def wait(self, generation_id: str | int, *, timeout: float | None = 600.0,
             poll_interval: float | None = None,
             on_update: Callable[[Generation], None] | None = None,
             cancel: threading.Event | None = None, raise_on_failure: bool = True,
             cancel_on_timeout: bool = False) -> Generation:
        """Poll a generation until it is completed, failed or stopped, and return it.

        Polls every 2 s growing to 10 s (GEN's documented pace) unless ``poll_interval`` is
        given. ``on_update(generation)`` runs on every status change. Setting ``cancel`` stops
        waiting at once and returns the latest state (the render goes on). Raises
        :class:`WaitTimeout` after ``timeout`` seconds — having stopped the job on the server
        first when ``cancel_on_timeout=True`` — and :class:`RenderFailed` when it ends failed
        or stopped (unless ``raise_on_failure=False``).

        >>> g = client.wait(gen.id, poll_interval=0.5, on_update=print)  # doctest: +SKIP
        """
        last, outcome = poll(lambda: self.generation(generation_id), done=lambda g: g.done,
                             status=lambda g: g.status, timeout=timeout,
                             interval=poll_interval, on_update=on_update, cancel=cancel)
        if outcome == "timeout":
            raise self._timed_out(last, timeout or 0.0, cancel_on_timeout)
        if raise_on_failure and last.status in ("failed", "stopped"):
            raise RenderFailed(last)
        return last

    def _timed_out(self, last: Generation, timeout: float, stop: bool) -> WaitTimeout:
        if not stop:
            return WaitTimeout(last, timeout)
        try:
            stopped = self.stop(last.id)
        except JobCannotBeStoppedError:
            return WaitTimeout(last, timeout, advice="It finished just as the wait ended; "
                               f"read it with client.generation({last.id!r}).")
        return WaitTimeout(stopped, timeout, advice="The wait gave up, so it was stopped on "
                           "the server (cancel_on_timeout=True); start it again with a longer "
                           "timeout=.")

    def stop(self, generation_id: str | int) -> Generation:
        """Stop a running generation. Raises JobCannotBeStoppedError if it has finished."""
        subject = f"stopping generation {generation_id}"
        data = self._api.json("POST", self._api.path("generations/{}/stop", generation_id),
                              subject=subject)
        return _generation(data or {"id": generation_id, "status": "stopped"}, subject)

    def continue_generation(self, generation_id: str | int) -> Generation:
        """Continue a paused or stopped generation (``POST /generations/{id}/continue``)."""
        subject = f"continuing generation {generation_id}"
        data = self._api.json("POST", self._api.path("generations/{}/continue", generation_id),
                              subject=subject)
        return _generation(data or {"id": generation_id, "status": "pending"}, subject)

    def start_render(self, engine_id: str | int, cell_id: str | int, *,
                     idempotency_key: str | None = None) -> Generation:
        """Start rendering the ``final_video`` cell ``cell_id`` of engine ``engine_id``.

        Costs credits (InsufficientCreditsError when there are none). Sends ``agent_id`` in the
        query and the body and an ``Idempotency-Key`` (a new uuid4 unless given: repeating a
        call with the same key within 24 h returns the same generation and charges nothing).
        Returns the pending generation; follow it with :meth:`wait`.

        >>> r = client.renders()[0]                                    # doctest: +SKIP
        >>> client.wait(client.start_render(r.engine_id, r.cell_id).id)  # doctest: +SKIP
        """
        subject = f"rendering cell {cell_id} of engine {engine_id}"
        agent = self.settings.require_agent_id(subject)
        path = self._api.engine_path("{}/cells/{}/render", engine_id, cell_id)
        data = self._api.json("POST", path, subject=subject, agent=True,
                              json_body={"agent_id": agent},
                              headers={"Idempotency-Key": idempotency_key or str(uuid.uuid4())})
        started = _generation(data, subject)
        self._index.note(started.id, str(engine_id))
        return started

    # --- engines, renders, layers ---------------------------------------------------------------

    def engines(self) -> list[Engine]:
        """The agent's engines: ``GET /{prefix}?agent_id=`` where the API has it, else the
        engines named by ``engine_ids=`` / ``GEN_NB_ENGINE_IDS`` (fetched one request each).

        Items of the list endpoint may be summaries without rows; :meth:`renders` fetches
        those in full. Raises ConfigError when there is neither a list nor named engines.

        >>> [e.title for e in client.engines()]            # doctest: +SKIP
        """
        return catalog.engines(self._api, self._index)

    def engine(self, engine_id: str | int) -> Engine:
        """One engine with its columns, rows and cells. Raises NotFoundError for a wrong id."""
        return catalog.engine(self._api, engine_id, self._index)

    def renders(self, engine_ids: Iterable[str | int] | None = None, *,
                status: str | Iterable[str] | None = None,
                on_progress: Callable[[int, int], Any] | None = None) -> list[Render]:
        """Every take of every row's final video, across engines, in every status.

        ``engine_ids`` defaults to ``engine_ids=`` / ``GEN_NB_ENGINE_IDS``, else all engines;
        they are fetched ``concurrency`` at a time (``GEN_NB_CONCURRENCY``, default 8).
        ``status`` keeps only renders in that status (or those statuses).
        ``on_progress(done, total)`` hears about each engine fetched (from worker threads).

        >>> {r.status for r in client.renders()}          # doctest: +SKIP
        {'completed', 'failed', 'pending', 'processing', 'stopped'}
        """
        return catalog.renders(self._api, self._index, engine_ids, status=status,
                               on_progress=on_progress)

    def render(self, render_id: str | int, *, engine_id: str | int | None = None) -> Render:
        """A render by its generation id: its current state, with engine context (row, take,
        layers) when the engine is known (``engine_id=``, or seen by this client recently).

        One request for the generation, one more for its engine when known; otherwise the bare
        generation (no layers). Raises NotFoundError for an unknown id.
        """
        return catalog.render(self._api, self._index, render_id, self.generation,
                              engine_id=engine_id)

    def layers(self, render: Render | str | int) -> list[LayerOutput]:
        """Outputs of the layers composited into a render (voiceover, b-roll clips, …).

        Read fresh from the render's engine (one request when the engine is known).
        """
        return catalog.layers(self._api, self._index, render)

    def remotion_jobs(self, project_id: str | int, *, page: int | None = None
                      ) -> list[RemotionJob]:
        """Render jobs of one engine (``project_id``), newest first, 20 a page.

        ``page=None`` asks for the API's first page (no ``page`` parameter sent).
        """
        return catalog.remotion_jobs(self._api, project_id, page)

    # --- content resources ----------------------------------------------------------------------

    def resources(self, type: str | None = None, *,
                  project_id: str | int | None = None) -> list[ContentResource]:
        """Every stored file, reading 0-based pages of 20 until a short or empty page.

        ``type`` is one of video, image, audio, zip, safe_tensors. A server that repeats a
        page or never ends gives an UnexpectedResponseError saying so.

        >>> len(client.resources(type="video"))            # doctest: +SKIP
        """
        return resources.resources(self._api, type, project_id)

    def resource(self, resource_id: str | int) -> ContentResource:
        """One content resource, with its generator when there is one."""
        return resources.resource(self._api, resource_id)

    def delete_resource(self, resource_id: str | int, *, confirm: bool = False,
                        dry_run: bool = False, plan: DeletePlan | None = None) -> DeletePlan:
        """Delete a stored file for good; its CDN URL then answers 404.

        ``dry_run=True`` only says what would go (a GET; nothing is deleted): the plan names
        the resource id and URL. Without ``confirm=True`` it raises
        :class:`ConfirmationRequired` naming the file. With it, exactly ``resource_id`` is
        deleted, and only if the server still describes the same file (and, when ``plan=``
        is given, the same URL as that plan). A 428 answer is confirmed with its token when it
        destroys no more than the plan; when it destroys more, :class:`ServerPlanRequired`
        carries the server's plan (``exc.plan``): pass ``plan=exc.plan`` to confirm that.

        >>> plan = client.delete_resource(7, dry_run=True)                # doctest: +SKIP
        >>> client.delete_resource(7, confirm=True, plan=plan).deleted     # doctest: +SKIP
        True
        """
        if dry_run:
            return resources.plan_delete(self._api, resource_id)
        if not confirm:
            shown = resources.plan_delete(self._api, resource_id)
            raise resources.ConfirmationRequired(
                f"Deleting content resource {shown.resource_id} "
                f"({shown.file_name or shown.url}) is permanent: {' '.join(shown.warnings)} "
                f"Call delete_resource({shown.resource_id!r}, confirm=True) to go ahead, or "
                "dry_run=True to see what would go.",
                subject=f"content resource {shown.resource_id}",
                body={"would_destroy": dict(shown.would_destroy)})
        done = resources.delete(self._api, resource_id, plan)
        self._index.forget()
        return done

    # --- publishing -----------------------------------------------------------------------------

    def platforms(self, *, refresh: bool = False) -> list[PlatformRules]:
        """What each platform accepts (``GET /schedule/platforms``), fetched once per client.

        >>> [(p.platform, p.max_text) for p in client.platforms()]   # doctest: +SKIP
        """
        return self._rules.server_rules(refresh)

    def check_post(self, platforms: str | Iterable[str], *, description: str | None = "",
                   title: str | None = None, media_url: str | None = None,
                   options: Mapping[str, Any] | None = None) -> list[str]:
        """The platform rules a post would break, one sentence each (empty: fine). Sends nothing
        but the (cached) rules request.

        >>> client.check_post(["x"], description="a" * 300, media_url="https://…")  # doctest: +SKIP
        ['X: the caption has 300 characters; the limit is 280. Shorten it by 20.']
        """
        return publishing.check_post(self._rules, platforms, description=description,
                                     title=title, media_url=media_url, options=options)

    def publish(self, render_or_url: Any, platforms: str | Iterable[str], *,
                description: str | None = "", title: str | None = None,
                schedule_type: str = "next_available", scheduled_time: Any = None,
                media_type: str | None = None, thumbnail_url: str | None = None,
                options: Mapping[str, Any] | None = None, idempotency_key: str | None = None,
                timezone_offset: int | None = None, check: bool = True) -> Post:
        """Post a render (or a content resource, output resource or URL) by its URL.

        ``platforms``: names among tiktok, instagram, facebook, youtube, x, linkedin.
        ``schedule_type``: now, specific_time (needs a future ``scheduled_time``) or
        next_available. ``media_type`` defaults to VIDEO (IMAGE for images). ``options`` are
        platform options sent as is (``{"tiktok_privacy_level": "SELF_ONLY"}``). With
        ``check=True`` rule violations raise :class:`PlatformRuleError` before anything is
        sent. Sends an ``Idempotency-Key`` (uuid4 unless given) and ``X-Timezone-Offset``
        (minutes east of UTC, this machine's unless given). Follow it with :meth:`wait_post`.

        >>> post = client.publish(render, ["tiktok"], description="new!")   # doctest: +SKIP
        >>> client.wait_post(post.id).state                                 # doctest: +SKIP
        'published'
        """
        return publishing.publish(
            self._api, self._rules, render_or_url, platforms, description=description,
            title=title, schedule_type=schedule_type, scheduled_time=scheduled_time,
            media_type=media_type, thumbnail_url=thumbnail_url, options=options,
            idempotency_key=idempotency_key, timezone_offset=timezone_offset, check=check)

    def post(self, post_id: str | int) -> Post:
        """A post and its status per platform (``GET /schedule/post/{id}``)."""
        return publishing.post(self._api, post_id)

    def wait_post(self, post_id: str | int, *, timeout: float | None = 300.0,
                  poll_interval: float | None = None,
                  on_update: Callable[[Post], None] | None = None,
                  cancel: threading.Event | None = None) -> Post:
        """Poll a post until every platform is published or one failed; return it.

        A failed post is returned, not raised: look at ``post.state`` and each
        ``platforms_status[i].error``. Raises :class:`WaitTimeout` after ``timeout`` s;
        ``cancel`` stops waiting at once.
        """
        return publishing.wait_post(self._api, post_id, timeout=timeout,
                                    poll_interval=poll_interval, on_update=on_update,
                                    cancel=cancel)

    def posts(self, start_date: Any = None, end_date: Any = None) -> list[Post]:
        """Posts scheduled in a date window (default: the 30 days either side of today).

        Windows longer than the API's 60 days are read in several requests.
        """
        return publishing.posts(self._api, start_date, end_date)

    def cancel_post(self, post_id: str | int) -> Post | None:
        """Cancel a scheduled post (``DELETE /schedule/post/{id}``); the answer's post, if any."""
        return publishing.cancel_post(self._api, post_id)

    def update_post(self, post_id: str | int, **fields: Any) -> Post:
        """Edit a scheduled post (not a ``now`` post): ``client.update_post(7, description=…)``.

        ``scheduled_time`` may be a datetime (sent as ISO UTC; must be in the future);
        ``platform``/``platforms`` become the ``platform`` array.
        """
        return publishing.update_post(self._api, post_id, fields)

    def publish_legacy(self, render_or_url: Any, *, description: str | None = "",
                       title: str | None = None, media_type: str | None = None,
                       scheduled_time: Any = None, thumbnail_url: str | None = None,
                       timezone_offset: int | None = None, idempotency_key: str | None = None,
                       check: bool = True) -> LegacyPublishJob:
        """Post to TikTok through the legacy ``publish_content`` user job (still accepted).

        Sends ``{"user_job_type": "publish_content", "data": "<JSON string>"}``; follow it with
        :meth:`legacy_job`. TikTok's rules are checked first, like :meth:`publish`.
        """
        return publishing.publish_legacy(
            self._api, self._rules, render_or_url, description=description, title=title,
            media_type=media_type, scheduled_time=scheduled_time, thumbnail_url=thumbnail_url,
            timezone_offset=timezone_offset, idempotency_key=idempotency_key, check=check)

    def legacy_job(self, job_id: str | int) -> LegacyPublishJob:
        """The state of a legacy publish job (``GET /user_jobs/{id}?agent_id=``)."""
        return publishing.legacy_job(self._api, job_id)


# --- connect ------------------------------------------------------------------------------------

def connect(
    api_key: str | None = None,
    *,
    agent_id: str | int | None = None,
    base_url: str | None = None,
    engine_prefix: str | None = None,
    sandbox: Any = None,
    engine_ids: Any = None,
    timeout: float | None = None,
    retries: int | None = None,
    deadline: float | None = None,
    concurrency: int | None = None,
    quiet: bool = False,
) -> Client:
    """Connect to GEN, or to the local sandbox when there is no key.

    Settings come from the arguments, then the environment (``GEN_API_KEY``, ``GEN_AGENT_ID``,
    ``GEN_API_BASE_URL``, ``GEN_ENGINE_PREFIX``, ``GEN_NB_*``), then defaults (timeout 30 s,
    4 retries, 120 s per call). With no key anywhere — or ``sandbox=True`` — a sandbox is
    started in a background thread (shared by later ``connect()`` calls, stopped when the last
    client closes) and one line says so unless ``quiet``. ``sandbox=<handle>`` binds to a
    running sandbox; ``sandbox=False`` refuses to fall back (ConfigError when there is no key).
    A malformed key (spaces, line breaks, non-ASCII) is a ConfigError that does not quote it.

    >>> client = connect(quiet=True)                  # doctest: +SKIP
    >>> client.is_sandbox                             # doctest: +SKIP
    True
    """
    settings = resolve_settings(api_key, agent_id=agent_id, base_url=base_url,
                                engine_prefix=engine_prefix, engine_ids=engine_ids,
                                timeout=timeout, retries=retries, deadline=deadline,
                                concurrency=concurrency)
    if sandbox is None or sandbox is False:
        if settings.api_key:
            return Client(settings)
        if sandbox is False:
            raise ConfigError("No API key: pass api_key= to gen_nb.connect() or set GEN_API_KEY "
                              "(a personal access token, gen_pat_…), or allow the sandbox.")
    if sandbox is None or sandbox is True:
        handle, on_close = SHARED.acquire(), SHARED.release
        if not quiet:
            reason = "sandbox=True" if sandbox is True else "no GEN_API_KEY set"
            print(f"gen_nb: {reason} — using the local sandbox at {handle.api_base}")
    else:
        handle, on_close = sandbox, None
    settings = dataclasses.replace(
        settings, api_key=handle.api_key, base_url=str(handle.api_base).rstrip("/"),
        agent_id=str(agent_id) if agent_id is not None else str(handle.agent_id))
    log.info("gen_nb: connected to the sandbox at %s", handle.api_base)
    return Client(settings, sandbox=handle, _on_close=on_close)
