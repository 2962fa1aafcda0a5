"""Frozen dataclasses for what the GEN API returns, parsed tolerantly.

Each model has one ``from_api(data)`` classmethod: unknown fields are ignored, ids become
strings, ``object_type`` is compared case-insensitively, thumbnails may be null, timestamps may be
ISO strings or epoch milliseconds (or absent), optional objects may be missing. A payload copied
from GEN's docs parses without edits.

>>> Generation.from_api({"id": 7, "status": "completed", "output_resources": []}).id
'7'
"""

from __future__ import annotations

import datetime as _dt
import posixpath
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "FPS",
    "TERMINAL_STATUSES",
    "Cell",
    "Column",
    "ContentResource",
    "DeletePlan",
    "Engine",
    "Generation",
    "GeneratorRef",
    "Layer",
    "LayerOutput",
    "LegacyPublishJob",
    "OutputResource",
    "PlatformRules",
    "PlatformStatus",
    "Post",
    "RemotionJob",
    "Render",
    "Row",
    "file_name_from_url",
    "media_kind",
    "parse_list",
    "parse_time",
    "renders_from_engine",
]

Status = Literal["pending", "processing", "completed", "failed", "stopped"]
TERMINAL_STATUSES = frozenset({"completed", "failed", "stopped"})
MediaKind = Literal["video", "audio", "image", "text", "caption", "shape", "other"]
FPS = 30

_LAYER_KINDS: dict[str, MediaKind] = {
    "sound": "audio", "audio": "audio", "voice": "audio", "music": "audio",
    "clip": "video", "video": "video",
    "image": "image", "picture": "image",
    "caption": "caption", "captions": "caption", "subtitle": "caption", "subtitles": "caption",
    "text": "text", "shape": "shape",
}
_EXT_KINDS: dict[str, MediaKind] = {
    ".mp4": "video", ".mov": "video", ".webm": "video", ".m4v": "video",
    ".mp3": "audio", ".m4a": "audio", ".wav": "audio", ".aac": "audio", ".ogg": "audio",
    ".jpg": "image", ".jpeg": "image", ".png": "image", ".webp": "image", ".gif": "image",
}


# --- small parsers ----------------------------------------------------------------------------

def _id(value: Any) -> str | None:
    """Ids are opaque strings (integers in examples, strings in the OpenAPI file)."""
    if value is None or value == "":
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _int(value: Any) -> int | None:
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None


def _float(value: Any) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


def _dict(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []


def parse_time(iso: Any = None, ms: Any = None) -> _dt.datetime | None:
    """A tz-aware UTC datetime from an ISO-8601 string or epoch milliseconds; None if neither."""
    if isinstance(iso, str) and iso.strip():
        text = iso.strip().replace("Z", "+00:00")
        try:
            value = _dt.datetime.fromisoformat(text)
        except ValueError:
            value = None
        if value is not None:
            if value.tzinfo is None:
                value = value.replace(tzinfo=_dt.UTC)
            return value.astimezone(_dt.UTC)
    number = _float(ms)
    if number is not None:
        return _dt.datetime.fromtimestamp(number / 1000.0, tz=_dt.UTC)
    return None


def _times(data: Mapping[str, Any], name: str) -> _dt.datetime | None:
    return parse_time(data.get(name), data.get(f"{name}_ts"))


def media_kind(object_type: str | None = None, url: str | None = None,
               content_type: str | None = None) -> MediaKind:
    """Normalised media kind from whichever hint is present (case-insensitive)."""
    for hint in (object_type, (content_type or "").split("/")[0]):
        hint = (hint or "").strip().lower()
        if hint in ("video", "audio", "image"):
            return hint  # type: ignore[return-value]
        if hint in _LAYER_KINDS:
            return _LAYER_KINDS[hint]
    if url:
        ext = posixpath.splitext(urllib.parse.urlsplit(url).path)[1].lower()
        if ext in _EXT_KINDS:
            return _EXT_KINDS[ext]
    return "other"


def file_name_from_url(url: str | None) -> str | None:
    """The last path segment of a URL, percent-decoded (not yet sanitised for disk)."""
    if not url:
        return None
    name = posixpath.basename(urllib.parse.unquote(urllib.parse.urlsplit(url).path))
    return name or None


# --- resources and generations ------------------------------------------------------------------

@dataclass(frozen=True)
class OutputResource:
    """A stored file a generation produced (``output_resources[]``)."""

    id: str | None
    url: str | None
    thumbnail_url: str | None = None
    object_type: str | None = None
    type: str | None = None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> OutputResource:
        return cls(
            id=_id(data.get("id")),
            url=_str(data.get("url")),
            thumbnail_url=_str(data.get("thumbnail_url")) or None,
            object_type=_str(data.get("object_type")),
            type=_str(data.get("type")),
        )

    @property
    def kind(self) -> MediaKind:
        return media_kind(self.object_type, self.url)

    @property
    def file_name(self) -> str | None:
        return file_name_from_url(self.url)


@dataclass(frozen=True)
class Generation:
    """A generation ("user job"): a render or any other job, with its outputs."""

    id: str
    status: str
    user_job_type: str | None = None
    result: Any = None
    failed_reason: str | None = None
    output_resources: tuple[OutputResource, ...] = ()
    execution_cost: float | None = None
    created_at: _dt.datetime | None = None
    updated_at: _dt.datetime | None = None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Generation:
        return cls(
            id=_id(data.get("id") or data.get("generation_id")) or "",
            status=str(data.get("status") or "pending").lower(),
            user_job_type=_str(data.get("user_job_type")),
            result=data.get("result"),
            failed_reason=_str(data.get("failed_reason")),
            output_resources=tuple(OutputResource.from_api(_dict(r))
                                   for r in _list(data.get("output_resources"))),
            execution_cost=_float(data.get("execution_cost")),
            created_at=_times(data, "created_at"),
            updated_at=_times(data, "updated_at"),
        )

    @property
    def done(self) -> bool:
        """True once the status is completed, failed or stopped."""
        return self.status in TERMINAL_STATUSES

    @property
    def video(self) -> OutputResource | None:
        """The final MP4 (item 0 of the outputs, preferring a video), or None."""
        for res in self.output_resources:
            if res.kind == "video":
                return res
        return self.output_resources[0] if self.output_resources else None


# --- engines ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Column:
    id: str | None
    title: str | None
    type: str | None
    column_role: str | None
    position: int | None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Column:
        return cls(_id(data.get("id")), _str(data.get("title")), _str(data.get("type")),
                   _str(data.get("column_role")), _int(data.get("position")))


@dataclass(frozen=True)
class Layer:
    """One layer of a video cell (``video_layers[]``)."""

    id: str | None
    name: str | None
    position: int | None
    type: str | None
    src: str | None = None
    start_frame: int | None = None
    duration_frames: int | None = None
    default_user_job: Generation | None = None
    user_jobs: tuple[Generation, ...] = ()

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Layer:
        attrs = _dict(data.get("additional_attributes"))
        job = data.get("default_user_job")
        return cls(
            id=_id(data.get("id")),
            name=_str(data.get("name")),
            position=_int(data.get("position")),
            type=_str(data.get("type")),
            src=_str(attrs.get("src")),
            start_frame=_int(attrs.get("from")),
            duration_frames=_int(attrs.get("durationInFrames")),
            default_user_job=Generation.from_api(job) if isinstance(job, Mapping) else None,
            user_jobs=tuple(Generation.from_api(_dict(j)) for j in _list(data.get("user_jobs"))),
        )


@dataclass(frozen=True)
class Cell:
    id: str | None
    value: Any
    cell_role: str | None
    default_user_job: Generation | None
    user_jobs: tuple[Generation, ...]
    video_layers: tuple[Layer, ...]
    created_at: _dt.datetime | None = None
    updated_at: _dt.datetime | None = None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Cell:
        job = data.get("default_user_job")
        return cls(
            id=_id(data.get("id")),
            value=data.get("value"),
            cell_role=_str(data.get("cell_role")),
            default_user_job=Generation.from_api(job) if isinstance(job, Mapping) else None,
            user_jobs=tuple(Generation.from_api(_dict(j)) for j in _list(data.get("user_jobs"))),
            video_layers=tuple(Layer.from_api(_dict(v)) for v in _list(data.get("video_layers"))),
            created_at=_times(data, "created_at"),
            updated_at=_times(data, "updated_at"),
        )

    @property
    def has_video_output(self) -> bool:
        job = self.default_user_job
        return bool(job and any(r.kind == "video" for r in job.output_resources))


@dataclass(frozen=True)
class Row:
    id: str | None
    position: int | None
    cells: tuple[Cell, ...]

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Row:
        return cls(_id(data.get("id")), _int(data.get("position")),
                   tuple(Cell.from_api(_dict(c)) for c in _list(data.get("spreadsheet_cells"))))


@dataclass(frozen=True)
class Engine:
    """An engine ("vidsheet" / auto content engine): columns, and rows of cells."""

    id: str
    title: str | None = None
    slug: str | None = None
    status: str | None = None
    project_type: str | None = None
    created_at: _dt.datetime | None = None
    columns: tuple[Column, ...] = ()
    rows: tuple[Row, ...] = ()

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Engine:
        columns = sorted(
            (Column.from_api(_dict(c)) for c in _list(data.get("spreadsheet_columns"))),
            key=lambda c: (c.position is None, c.position or 0))
        return cls(
            id=_id(data.get("id")) or "",
            title=_str(data.get("title")),
            slug=_str(data.get("slug")),
            status=_str(data.get("status")),
            project_type=_str(data.get("project_type")),
            created_at=_times(data, "created_at"),
            columns=tuple(columns),
            rows=tuple(Row.from_api(_dict(r)) for r in _list(data.get("spreadsheet_rows"))),
        )

    def column_index(self, role: str) -> int | None:
        """Position in a row of the cell of the first column with ``column_role == role``."""
        for index, column in enumerate(self.columns):
            if (column.column_role or "").lower() == role:
                return index
        return None

    def cell(self, row: Row, role: str) -> Cell | None:
        """The row's cell for a column role, matched by position (cells carry no column id)."""
        index = self.column_index(role)
        if index is not None and index < len(row.cells):
            return row.cells[index]
        if role == "final_video":
            return next((c for c in row.cells if c.has_video_output), None)
        if role == "video":
            return next((c for c in row.cells if c.video_layers), None)
        return None

    def renders(self) -> list[Render]:
        return renders_from_engine(self)


# --- renders and layer outputs --------------------------------------------------------------------

@dataclass(frozen=True)
class LayerOutput:
    """The output of one layer of a render (the voiceover MP3, one b-roll clip, …)."""

    render_id: str
    layer_id: str | None
    name: str | None
    type: str | None
    kind: MediaKind
    position: int | None
    status: str | None
    url: str | None
    thumbnail_url: str | None
    output_resource_id: str | None
    start_frame: int | None = None
    duration_frames: int | None = None

    @property
    def duration_seconds(self) -> float | None:
        return None if self.duration_frames is None else self.duration_frames / FPS

    @property
    def file_name(self) -> str | None:
        return file_name_from_url(self.url)

    @classmethod
    def from_layer(cls, render_id: str, layer: Layer) -> LayerOutput:
        job = layer.default_user_job
        res = job.output_resources[0] if job and job.output_resources else None
        url = res.url if res else None
        kind = _LAYER_KINDS.get((layer.type or "").lower()) or media_kind(
            res.object_type if res else None, url or layer.src)
        return cls(
            render_id=render_id, layer_id=layer.id, name=layer.name, type=layer.type, kind=kind,
            position=layer.position, status=job.status if job else None, url=url,
            thumbnail_url=res.thumbnail_url if res else None,
            output_resource_id=res.id if res else None,
            start_frame=layer.start_frame, duration_frames=layer.duration_frames,
        )


@dataclass(frozen=True)
class Render:
    """One take of an engine row's final video: a render generation and where it lives.

    ``take`` counts from 1 in the order of the cell's history; ``takes`` is how many the row
    has; ``is_current`` marks the take the cell shows now. ``layers`` are the outputs of the
    layers composited into it (the row's video cell).
    """

    id: str
    status: str
    engine_id: str | None = None
    engine_title: str | None = None
    row_id: str | None = None
    row_position: int | None = None
    cell_id: str | None = None
    title: str | None = None
    take: int = 1
    takes: int = 1
    is_current: bool = True
    url: str | None = None
    thumbnail_url: str | None = None
    output_resource_id: str | None = None
    failed_reason: str | None = None
    created_at: _dt.datetime | None = None
    layers: tuple[LayerOutput, ...] = field(default=(), repr=False)

    @property
    def done(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def file_name(self) -> str | None:
        return file_name_from_url(self.url)

    @classmethod
    def from_generation(cls, generation: Generation, **where: Any) -> Render:
        """A render from a generation alone (no engine context)."""
        video = generation.video
        return cls(
            id=generation.id, status=generation.status,
            url=video.url if video else None,
            thumbnail_url=video.thumbnail_url if video else None,
            output_resource_id=video.id if video else None,
            failed_reason=generation.failed_reason,
            created_at=generation.created_at, **where,
        )


def _takes(cell: Cell) -> list[Generation]:
    """The cell's history with the current take included once, in history order."""
    takes = list(cell.user_jobs)
    current = cell.default_user_job
    if current is not None and all(t.id != current.id for t in takes):
        takes.append(current)
    return takes


def _row_title(row: Row) -> str | None:
    for cell in row.cells:
        if isinstance(cell.value, str) and cell.value.strip():
            return cell.value.strip()
    return None


def renders_from_engine(engine: Engine) -> list[Render]:
    """Every final-video take of every row (current and history, all statuses)."""
    renders: list[Render] = []
    for row in engine.rows:
        final = engine.cell(row, "final_video")
        if final is None:
            continue
        takes = _takes(final)
        video_cell = engine.cell(row, "video")
        current_id = final.default_user_job.id if final.default_user_job else None
        for number, generation in enumerate(takes, start=1):
            render_layers = tuple(
                LayerOutput.from_layer(generation.id, layer)
                for layer in sorted(video_cell.video_layers if video_cell else (),
                                    key=lambda la: (la.position is None, la.position or 0)))
            renders.append(Render.from_generation(
                generation,
                engine_id=engine.id, engine_title=engine.title, row_id=row.id,
                row_position=row.position, cell_id=final.id, title=_row_title(row),
                take=number, takes=len(takes), is_current=generation.id == current_id,
                layers=render_layers,
            ))
    return renders


# --- content resources ------------------------------------------------------------------------

@dataclass(frozen=True)
class GeneratorRef:
    id: str | None
    status: str | None
    type: str | None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> GeneratorRef:
        return cls(_id(data.get("id")), _str(data.get("status")), _str(data.get("type")))


@dataclass(frozen=True)
class ContentResource:
    """A stored file (a render, a layer output, an upload)."""

    id: str
    url: str | None
    thumbnail_url: str | None = None
    file_name: str | None = None
    content_type: str | None = None
    generator: GeneratorRef | None = None
    created_at: _dt.datetime | None = None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> ContentResource:
        """Accepts a list item or the ``{"content_resource": …, "generator": …}`` envelope."""
        generator = data.get("generator")
        inner = data.get("content_resource")
        item = _dict(inner) if isinstance(inner, Mapping) else data
        return cls(
            id=_id(item.get("id")) or "",
            url=_str(item.get("url")),
            thumbnail_url=_str(item.get("thumbnail_url")) or None,
            file_name=_str(item.get("file_name")) or file_name_from_url(_str(item.get("url"))),
            content_type=_str(item.get("content_type")),
            generator=GeneratorRef.from_api(generator) if isinstance(generator, Mapping) else None,
            created_at=_times(item, "created_at"),
        )

    @property
    def kind(self) -> MediaKind:
        return media_kind(None, self.url, self.content_type)


@dataclass(frozen=True)
class RemotionJob:
    """An item of ``/remotion_jobs``: one render job of an engine."""

    status: str
    created_at: _dt.datetime | None = None
    content_resource_id: str | None = None
    url: str | None = None
    thumbnail_url: str | None = None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> RemotionJob:
        return cls(
            status=str(data.get("status") or "pending").lower(),
            created_at=_times(data, "created_at"),
            content_resource_id=_id(data.get("content_resource_id")),
            url=_str(data.get("url")),
            thumbnail_url=_str(data.get("thumbnail_url")) or None,
        )


@dataclass(frozen=True)
class DeletePlan:
    """What a delete would destroy (a dry run), or did destroy (``deleted=True``)."""

    resource_id: str
    url: str | None = None
    file_name: str | None = None
    would_destroy: Mapping[str, Any] = field(default_factory=dict)
    confirm_token: str | None = field(default=None, repr=False)
    deleted: bool = False
    warnings: tuple[str, ...] = ()


# --- publishing ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class PlatformRules:
    """What one platform accepts (``GET /schedule/platforms``)."""

    platform: str
    label: str | None = None
    text_only: bool = False
    media: tuple[str, ...] = ()
    max_media_items: int | None = None
    max_text: int | None = None
    max_title: int | None = None
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    ignored: tuple[str, ...] = ()
    options: Mapping[str, Any] = field(default_factory=dict)
    notes: str | None = None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> PlatformRules:
        return cls(
            platform=str(data.get("platform") or "").lower(),
            label=_str(data.get("label")),
            text_only=bool(data.get("text_only")),
            media=tuple(str(m) for m in _list(data.get("media"))),
            max_media_items=_int(data.get("max_media_items")),
            max_text=_int(data.get("max_text")),
            max_title=_int(data.get("max_title")),
            required=tuple(str(m) for m in _list(data.get("required"))),
            optional=tuple(str(m) for m in _list(data.get("optional"))),
            ignored=tuple(str(m) for m in _list(data.get("ignored"))),
            options=dict(_dict(data.get("options"))),
            notes=_str(data.get("notes")),
        )

    def check(self, *, description: str | None = None, title: str | None = None,
              media_url: str | None = None, options: Mapping[str, Any] | None = None) -> list[str]:
        """Human-readable rule violations for a post to this platform (empty when fine)."""
        name = self.label or self.platform
        problems: list[str] = []
        text = description or ""
        if self.max_text is not None and len(text) > self.max_text:
            problems.append(f"{name}: the caption has {len(text)} characters; the limit is "
                            f"{self.max_text}. Shorten it by {len(text) - self.max_text}.")
        if "title" in self.required and not (title or "").strip():
            problems.append(f"{name}: a title is required; pass title=…")
        if title and self.max_title is not None and len(title) > self.max_title:
            problems.append(f"{name}: the title has {len(title)} characters; the limit is "
                            f"{self.max_title}.")
        if "media_url" in self.required and not media_url:
            problems.append(f"{name}: a media URL is required.")
        for key, value in (options or {}).items():
            allowed = self.options.get(key)
            if isinstance(allowed, list) and value not in allowed:
                problems.append(f"{name}: {key}={value!r} is not one of {allowed}.")
        return problems


@dataclass(frozen=True)
class PlatformStatus:
    platform: str
    status: str | None = None
    normalized_status: str | None = None
    platform_post_id: str | None = None
    post_url: str | None = None
    published_at: _dt.datetime | None = None
    error: str | None = None
    error_code: str | None = None
    warning: str | None = None
    scheduled_time: str | None = None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> PlatformStatus:
        return cls(
            platform=str(data.get("platform") or ""),
            status=_str(data.get("status")),
            normalized_status=_str(data.get("normalized_status")),
            platform_post_id=_id(data.get("platform_post_id")),
            post_url=_str(data.get("post_url")),
            published_at=parse_time(data.get("published_at")),
            error=_str(data.get("error")),
            error_code=_str(data.get("error_code")),
            warning=_str(data.get("warning")),
            scheduled_time=_str(data.get("scheduled_time")),
        )


@dataclass(frozen=True)
class Post:
    """A scheduled / published post and its status per platform."""

    id: str
    status: str | None = None
    platforms: tuple[str, ...] = ()
    platforms_status: tuple[PlatformStatus, ...] = ()
    platforms_skipped: tuple[Mapping[str, Any], ...] = ()
    status_url: str | None = None
    idempotent_replay: bool = False
    description: str | None = None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Post:
        """Accepts the create answer (``post_id`` + ``post``) and the poll answer (``id``)."""
        inner = _dict(data.get("post"))
        statuses = tuple(PlatformStatus.from_api(_dict(s))
                         for s in _list(data.get("platforms_status")))
        platforms = tuple(str(p) for p in _list(data.get("platforms"))) or tuple(
            s.platform for s in statuses)
        return cls(
            id=_id(data.get("post_id") or data.get("id") or inner.get("id")) or "",
            status=_str(data.get("status") or inner.get("status")),
            platforms=platforms,
            platforms_status=statuses,
            platforms_skipped=tuple(_dict(s) for s in _list(data.get("platforms_skipped"))),
            status_url=_str(data.get("status_url")),
            idempotent_replay=bool(data.get("idempotent_replay")),
            description=_str(data.get("description") or inner.get("description")),
        )

    @property
    def state(self) -> str:
        """One word for the whole post: failed, published, publishing or accepted."""
        states = [(s.normalized_status or s.status or "").lower() for s in self.platforms_status]
        if not states:
            return (self.status or "accepted").lower()
        if any(s == "failed" for s in states):
            return "failed"
        if all(s == "published" for s in states):
            return "published"
        if any(s in ("publishing", "published") for s in states):
            return "publishing"
        return "accepted"

    @property
    def done(self) -> bool:
        return self.state in ("published", "failed")


@dataclass(frozen=True)
class LegacyPublishJob:
    """A legacy ``publish_content`` user job (TikTok only)."""

    id: str
    status: str
    post_id: str | None = None
    failed_reason: str | None = None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> LegacyPublishJob:
        return cls(
            id=_id(data.get("id") or data.get("user_job_id")) or "",
            status=str(data.get("status") or "pending").lower(),
            post_id=_id(_dict(data.get("result")).get("post_id")),
            failed_reason=_str(data.get("failed_reason")),
        )

    @property
    def done(self) -> bool:
        return self.status in TERMINAL_STATUSES


def parse_list(model: Any, items: Iterable[Any]) -> list[Any]:
    """``[model.from_api(x) for x in items]`` skipping non-objects."""
    return [model.from_api(x) for x in items if isinstance(x, Mapping)]
