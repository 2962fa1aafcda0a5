"""Engines, renders, layer outputs and remotion jobs: the requests and how answers are read.

Functions here take the client's :class:`~gen_nb.api.calls.ApiCalls`; the
:class:`~gen_nb.api.client.Client` methods with the same names document them for users.
Listing fetches engines concurrently (``Settings.concurrency`` at once, one request each) and
builds each engine's renders straight from its answer
(:func:`~gen_nb.api.models.renders_from_api`: no Engine model; the answer is dropped as soon as
its renders exist). :class:`RenderIndex` remembers which engine holds which render, and each
engine's renders for a short while, so a single render or its layers cost one or two requests
instead of a walk over the workspace.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from gen_nb.api.calls import ApiCalls
from gen_nb.api.errors import APIError, ConfigError, UsageError
from gen_nb.api.models import (
    Engine,
    LayerOutput,
    RemotionJob,
    Render,
    parse_list,
    renders_from_api,
    renders_from_engine,
)
from gen_nb.api.models.fields import _id

__all__ = ["LIST_KEYS", "RenderIndex", "engine", "engines", "items_of", "layers",
           "remotion_jobs", "render", "renders"]

LIST_KEYS = ("engines", "projects", "data", "items", "results", "content_resources",
             "remotion_jobs", "posts")
CACHE_SECONDS = 30.0
Progress = Callable[[int, int], Any]
_T = TypeVar("_T")


def items_of(data: Any) -> list[Any]:
    """The list in an answer: a bare array, or the first array under a usual key."""
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        for key in LIST_KEYS:
            if isinstance(data.get(key), list):
                return list(data[key])
    return []


def _is_missing_route(error: APIError) -> bool:
    """A 404/405 that means "no such endpoint", not "no such agent"."""
    said = f"{error.server_message or ''} {error.error_code or ''}".lower()
    return error.status in (404, 405) and "agent" not in said


def statuses(status: str | Iterable[str] | None) -> set[str] | None:
    if status is None:
        return None
    items = [status] if isinstance(status, str) else list(status)
    if not all(isinstance(s, str) for s in items):
        raise UsageError(f"status= must be a status name or a list of them, not {status!r}.")
    return {s.strip().lower() for s in items}


class RenderIndex:
    """Which engine holds which render, and recently listed renders per engine (thread-safe).

    It keeps the renders it is given (the very objects the caller got), never an Engine or an
    answer: remembering a listing costs one dict entry per render.
    """

    def __init__(self, seconds: float = CACHE_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds, self.clock = seconds, clock
        self._engine_of: dict[str, str] = {}
        self._renders: dict[str, tuple[float, Sequence[Render]]] = {}
        self._pruned = clock()
        self._lock = threading.Lock()

    def remember(self, found: Engine) -> None:
        """Remember an engine's renders (built from the engine model)."""
        self.remember_renders(found.id, renders_from_engine(found))

    def remember_renders(self, engine_id: str, found: Sequence[Render]) -> None:
        """Remember ``found``, the renders of ``engine_id`` just read from the API."""
        now = self.clock()
        with self._lock:
            if now - self._pruned > self.seconds:        # drop listings too old to be used
                self._pruned = now
                self._renders = {k: v for k, v in self._renders.items()
                                 if now - v[0] <= self.seconds}
            self._renders[engine_id] = (now, found)
            self._engine_of.update(dict.fromkeys([r.id for r in found], engine_id))

    def note(self, render_id: str, engine_id: str) -> None:
        """A render just started in ``engine_id``: remember where, and that the engine changed."""
        with self._lock:
            self._engine_of[render_id] = engine_id
            self._renders.pop(engine_id, None)

    def engine_of(self, render_id: str) -> str | None:
        with self._lock:
            return self._engine_of.get(render_id)

    def fresh_renders(self, engine_id: str) -> Sequence[Render] | None:
        """The renders of ``engine_id`` if they were read less than ``seconds`` ago."""
        with self._lock:
            seen = self._renders.get(engine_id)
        if seen is None or self.clock() - seen[0] > self.seconds:
            return None
        return seen[1]

    def forget(self, engine_id: str | None = None) -> None:
        """Drop the remembered renders (of every engine with None): the engine changed."""
        with self._lock:
            if engine_id is None:
                self._renders.clear()
            else:
                self._renders.pop(engine_id, None)


# --- engines ------------------------------------------------------------------------------------

def _listed(api: ApiCalls) -> list[Mapping[str, Any]] | None:
    """The items of ``GET /{prefix}?agent_id=``; None when the API has no list endpoint but
    engines are named in the settings (ConfigError when they are not)."""
    subject = f"the list of engines ({api.settings.engine_prefix})"
    try:
        data = api.json("GET", api.engine_path(), agent=True, subject=subject)
    except APIError as exc:
        if not _is_missing_route(exc):
            raise
        if not api.settings.engine_ids:
            raise ConfigError(
                f"This GEN API cannot list engines (GET /{api.settings.engine_prefix} "
                f"answered {exc.status}). Name them: gen_nb.connect(engine_ids=[812, 813]) "
                "or set GEN_NB_ENGINE_IDS=812,813 (the ids are in each engine's URL in GEN)."
            ) from exc
        return None
    return [item for item in items_of(data) if isinstance(item, Mapping)]


def engines(api: ApiCalls, index: RenderIndex | None = None) -> list[Engine]:
    """``GET /{prefix}?agent_id=``, or the engines named in the settings (fetched, at most
    ``Settings.concurrency`` at once) when the API has no list endpoint."""
    items = _listed(api)
    if items is None:
        return _fetch_all(api, list(api.settings.engine_ids), index or RenderIndex(), None)
    return parse_list(Engine, items)


def _answer(api: ApiCalls, engine_id: str | int) -> Mapping[str, Any]:
    """The engine object of ``GET /{prefix}/{id}?agent_id=`` (bare or under ``"engine"``)."""
    data = api.json("GET", api.engine_path("{}", engine_id), agent=True,
                    subject=f"engine {engine_id}")
    return _engine_object(engine_id, data)


def _engine_object(engine_id: str | int, data: Any) -> Mapping[str, Any]:
    inner = data.get("engine", data) if isinstance(data, dict) else None
    if not isinstance(inner, dict):
        raise _shape_error(f"engine {engine_id}", "an engine object", data)
    return inner


def engine(api: ApiCalls, engine_id: str | int, index: RenderIndex | None = None) -> Engine:
    """One engine with its columns, rows and cells (``GET /{prefix}/{id}?agent_id=``)."""
    found = Engine.from_api(_answer(api, engine_id))
    if index is not None:
        index.remember(found)
    return found


def _fetch_all(api: ApiCalls, todo: Sequence[Engine | str], index: RenderIndex,
               on_progress: Progress | None) -> list[Engine]:
    def one(item: Engine | str) -> Engine:
        if isinstance(item, Engine):
            index.remember(item)
            return item
        return engine(api, item, index)

    return _concurrently(api, one, todo, on_progress)


def _concurrently(api: ApiCalls, one: Callable[[Any], _T], todo: Sequence[Any],
                  on_progress: Progress | None) -> list[_T]:
    """``[one(item) for item in todo]``, ``Settings.concurrency`` at a time, in order;
    ``on_progress(done, total)`` before the first and after each."""
    total, done, lock = len(todo), [0], threading.Lock()

    def counted(item: Any) -> _T:
        result = one(item)
        with lock:
            done[0] += 1
            count = done[0]
        if on_progress is not None:
            on_progress(count, total)
        return result

    if on_progress is not None:
        on_progress(0, total)
    workers = max(1, min(api.settings.concurrency, total))
    if workers == 1:
        return [counted(item) for item in todo]
    with ThreadPoolExecutor(workers, thread_name_prefix="gen_nb-list") as pool:
        return list(pool.map(counted, todo))


# --- renders and layers -----------------------------------------------------------------------

class _PausedGC:
    """``with _paused_gc:`` — the cyclic garbage collector off inside, as it was outside.

    Decoding an engine answer and building its renders allocates tens of thousands of dicts
    and lists that live only until the renders exist. With the collector on, they outlive a
    few young collections, get promoted, and trigger full collections that walk every render
    built so far: listing then costs O(renders²) (28 full collections and half the CPU for
    200k renders; see benchmarks/bench_models.py). Nothing here makes reference cycles, so
    pausing the collector for that short stretch loses nothing; reference counting frees the
    answer as usual. Re-entrant and shared by threads: the first to enter turns it off (if
    it was on), the last to leave turns it back on.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._inside = 0
        self._was_on = False

    def __enter__(self) -> None:
        with self._lock:
            if self._inside == 0:
                self._was_on = gc.isenabled()
                gc.disable()
            self._inside += 1

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._inside -= 1
            if self._inside == 0 and self._was_on:
                gc.enable()


_paused_gc = _PausedGC()


def _engine_renders(api: ApiCalls, item: Mapping[str, Any] | str,
                    index: RenderIndex) -> list[Render]:
    """An engine's renders: from a list item that carries its rows, else fetched by id.

    The answer is decoded here (by the rules of ``ApiCalls.json``) so that the collector
    pause covers the decoding and the building, not the request.
    """
    if isinstance(item, Mapping):
        with _paused_gc:
            found = renders_from_api(item)
        engine_id = _id(item.get("id")) or ""
    else:
        subject = f"engine {item}"
        response, body = api.request("GET", api.engine_path("{}", item), agent=True,
                                     subject=subject)
        with _paused_gc:
            answer = _engine_object(item, api.decode(response, body, subject))
            found = renders_from_api(answer)
        engine_id = _id(answer.get("id")) or ""
    index.remember_renders(engine_id, found)
    return found


def _has_rows(item: Mapping[str, Any]) -> bool:
    """A list item that is a whole engine (``Engine.from_api(item).rows`` is not empty)."""
    rows = item.get("spreadsheet_rows")
    return isinstance(rows, list | tuple) and len(rows) > 0


def renders(api: ApiCalls, index: RenderIndex, engine_ids: Iterable[str | int] | None = None,
            *, status: str | Iterable[str] | None = None,
            on_progress: Progress | None = None) -> list[Render]:
    """Every take of every row's final video across the engines (see Client.renders)."""
    wanted = statuses(status)
    if engine_ids is None and api.settings.engine_ids:
        engine_ids = api.settings.engine_ids
    todo: list[Mapping[str, Any] | str]
    if engine_ids is not None:
        todo = [str(e) for e in engine_ids]
    else:
        todo = [item if _has_rows(item) else (_id(item.get("id")) or "")
                for item in _listed(api) or ()]
    batches = _concurrently(api, lambda item: _engine_renders(api, item, index), todo,
                            on_progress)
    return [r for batch in batches for r in batch if wanted is None or r.status in wanted]


def _in_engine(api: ApiCalls, index: RenderIndex, engine_id: str, render_id: str,
               fresh: bool) -> Render | None:
    cached = None if fresh else index.fresh_renders(engine_id)
    found = cached if cached is not None else _engine_renders(api, engine_id, index)
    return next((r for r in found if r.id == render_id), None)


def render(api: ApiCalls, index: RenderIndex, render_id: str | int,
           generation: Callable[[str], Any], *, engine_id: str | int | None = None) -> Render:
    """A render by id: its generation now, placed in its engine row when the engine is known
    (given, or seen recently by this client); no walk over the workspace."""
    rid = str(render_id)
    current = Render.from_generation(generation(rid))
    holder = str(engine_id) if engine_id is not None else index.engine_of(rid)
    if holder is None:
        return current
    found = _in_engine(api, index, holder, rid, fresh=False)
    return current if found is None else found.with_state_of(current)


def layers(api: ApiCalls, index: RenderIndex, target: Render | str | int) -> list[LayerOutput]:
    """The layer outputs of a render, read fresh from its engine (see Client.layers)."""
    rid = str(target.id if isinstance(target, Render) else target)
    holder = target.engine_id if isinstance(target, Render) else index.engine_of(rid)
    if holder:
        found = _in_engine(api, index, holder, rid, fresh=True)
        if found is not None:
            return list(found.layers)
        if isinstance(target, Render):
            return list(target.layers)
    for item in renders(api, index):
        if item.id == rid:
            return list(item.layers)
    return []


def remotion_jobs(api: ApiCalls, project_id: str | int, page: int | None) -> list[RemotionJob]:
    """``GET /remotion_jobs?agent_id=&project_id=&page=`` (20 a page, newest first)."""
    if page is not None and (isinstance(page, bool) or not isinstance(page, int) or page < 0):
        raise UsageError(f"page= must be a whole number ≥ 0 (or None), not {page!r}.")
    data = api.json("GET", "remotion_jobs", agent=True,
                    params={"project_id": project_id, "page": page},
                    subject=f"remotion jobs of engine {project_id}")
    return parse_list(RemotionJob, items_of(data))


def _shape_error(subject: str, expected: str, data: Any) -> APIError:
    from gen_nb.api.errors import UnexpectedResponseError

    kind = type(data).__name__ if data is not None else "nothing"
    return UnexpectedResponseError(
        status=200, subject=subject,
        server_message=f"expected {expected}, got {kind}",
        hint="The answer does not have the shape the GEN API documents; check "
             "GEN_API_BASE_URL points at the API.")
