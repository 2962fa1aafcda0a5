"""Engines (columns, rows, cells, layers) and the renders and layer outputs found in them."""

from __future__ import annotations

import dataclasses
import datetime as _dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gen_nb.api.models.fields import (
    _LAYER_KINDS,
    FPS,
    TERMINAL_STATUSES,
    MediaKind,
    _dict,
    _id,
    _int,
    _list,
    _str,
    _times,
    file_name_from_url,
    media_kind,
)
from gen_nb.api.models.generation import Generation

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

    def with_state_of(self, current: Render) -> Render:
        """This take in its row, with the status, URLs and reason of ``current`` (fresher)."""
        return dataclasses.replace(
            self, status=current.status, url=current.url, thumbnail_url=current.thumbnail_url,
            output_resource_id=current.output_resource_id,
            failed_reason=current.failed_reason, created_at=current.created_at or self.created_at)

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
