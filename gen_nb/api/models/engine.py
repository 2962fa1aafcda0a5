"""Engines (columns, rows, cells, layers) and the renders and layer outputs found in them.

Two ways lead from an engine answer to its renders, with the same result:

* ``renders_from_engine(Engine.from_api(data))`` — through the full model of the engine (its
  columns, rows, cells, layers and jobs), for callers that want the engine too;
* ``renders_from_api(data)`` — straight from the decoded JSON, building only the
  :class:`Render` and :class:`LayerOutput` objects (no intermediate models): what listing uses,
  several times cheaper in CPU and memory. ``tests/test_models_fast.py`` checks the two agree on
  the documented payloads and on arbitrary malformed ones.

The layer outputs of a row are built once and shared by all the row's takes (the same
:class:`LayerOutput` objects in every take's ``layers``): a render's layer outputs are the
layers of the row's video cell as they are *now*. ``LayerOutput.render_id`` therefore names the
row's current take (the final-video cell's ``default_user_job``; the latest take in the cell's
history when the cell shows none), whichever take's ``layers`` it was reached from.
``gen_nb.layers_frame(render)`` labels the rows of a render's layers with that render's id.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gen_nb.api.models.fields import (
    _HINT_KINDS,
    _LAYER_KINDS,
    FPS,
    TERMINAL_STATUSES,
    MediaKind,
    _constructor,
    _dict,
    _id,
    _int,
    _list,
    _status,
    _str,
    _times,
    _word,
    file_name_from_url,
    media_kind,
    parse_time,
)
from gen_nb.api.models.generation import Generation

# --- engines ------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Column:
    id: str | None
    title: str | None
    type: str | None
    column_role: str | None
    position: int | None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Column:
        get = data.get
        return cls(_id(get("id")), _str(get("title")), _str(get("type")),
                   _str(get("column_role")), _int(get("position")))


def _job(value: Any) -> Generation | None:
    return Generation.from_api(value) if isinstance(value, Mapping) else None


def _jobs(value: Any) -> tuple[Generation, ...]:
    return tuple([Generation.from_api(_dict(j)) for j in _list(value)]) if value else ()


@dataclass(frozen=True, slots=True)
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
        get = data.get
        attrs = _dict(get("additional_attributes"))
        return (_new_layer if cls is Layer else cls)(
            _id(get("id")), _word(get("name")), _int(get("position")), _word(get("type")),
            _str(attrs.get("src")), _int(attrs.get("from")), _int(attrs.get("durationInFrames")),
            _job(get("default_user_job")), _jobs(get("user_jobs")),
        )


_new_layer = _constructor(Layer)


@dataclass(frozen=True, slots=True)
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
        get = data.get
        layers = get("video_layers")
        return (_new_cell if cls is Cell else cls)(
            _id(get("id")), get("value"), _str(get("cell_role")),
            _job(get("default_user_job")), _jobs(get("user_jobs")),
            tuple([Layer.from_api(_dict(v)) for v in _list(layers)]) if layers else (),
            _times(data, "created_at"), _times(data, "updated_at"),
        )

    @property
    def has_video_output(self) -> bool:
        job = self.default_user_job
        return bool(job and any(r.kind == "video" for r in job.output_resources))


_new_cell = _constructor(Cell)


@dataclass(frozen=True, slots=True)
class Row:
    id: str | None
    position: int | None
    cells: tuple[Cell, ...]

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Row:
        get = data.get
        cells = get("spreadsheet_cells")
        return (_new_row if cls is Row else cls)(_id(get("id")), _int(get("position")),
                   tuple([Cell.from_api(_dict(c)) for c in _list(cells)]) if cells else ())


_new_row = _constructor(Row)


def _by_position(item: Any) -> tuple[bool, int]:
    return (item.position is None, item.position or 0)


@dataclass(frozen=True, slots=True)
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
        get = data.get
        columns = sorted((Column.from_api(_dict(c)) for c in _list(get("spreadsheet_columns"))),
                         key=_by_position)
        return cls(
            _id(get("id")) or "", _str(get("title")), _str(get("slug")), _str(get("status")),
            _str(get("project_type")), _times(data, "created_at"), tuple(columns),
            tuple([Row.from_api(_dict(r)) for r in _list(get("spreadsheet_rows"))]),
        )

    def column_index(self, role: str) -> int | None:
        """Position in a row of the cell of the first column with ``column_role == role``."""
        for index, column in enumerate(self.columns):
            if (column.column_role or "").lower() == role:
                return index
        return None

    def cell(self, row: Row, role: str) -> Cell | None:
        """The row's cell for a column role, matched by position (cells carry no column id)."""
        return self._cell(row, role, self.column_index(role))

    @staticmethod
    def _cell(row: Row, role: str, index: int | None) -> Cell | None:
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

@dataclass(frozen=True, slots=True)
class LayerOutput:
    """The output of one layer of a render (the voiceover MP3, one b-roll clip, …).

    Layer outputs belong to the engine row: all takes of a row share the same objects, and
    ``render_id`` is the id of the row's current take (see the module docstring).
    """

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
        return (_new_layer_output if cls is LayerOutput else cls)(
            render_id, layer.id, layer.name, layer.type, kind, layer.position,
            job.status if job else None, url, res.thumbnail_url if res else None,
            res.id if res else None, layer.start_frame, layer.duration_frames,
        )


_new_layer_output = _constructor(LayerOutput)


@dataclass(frozen=True, slots=True)
class Render:
    """One take of an engine row's final video: a render generation and where it lives.

    ``take`` counts from 1 in the order of the cell's history; ``takes`` is how many the row
    has; ``is_current`` marks the take the cell shows now. ``layers`` are the outputs of the
    layers composited into it (the row's video cell), shared by all takes of the row.
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

    def __repr__(self) -> str:
        return self.describe()

    def describe(self) -> str:
        """A few readable lines (what a notebook shows for a Render)."""
        where = ", ".join(x for x in (
            f"{self.engine_title or 'engine'} ({self.engine_id})" if self.engine_id else "",
            f"row {self.row_position}" if self.row_position is not None else "",
            f"cell {self.cell_id}" if self.cell_id else "") if x)
        names = ", ".join(lo.name or str(lo.layer_id) for lo in self.layers[:4])
        more = "…" if len(self.layers) > 4 else ""
        lines = [f"Render {self.id} ({self.status}, take {self.take} of {self.takes}"
                 f"{', current' if self.is_current and self.takes > 1 else ''})",
                 f"  title:  {self.title or '(untitled)'}"]
        lines += [f"  where:  {where}"] if where else []
        lines += [f"  url:    {self.url}"] if self.url else []
        lines += [f"  failed: {self.failed_reason}"] if self.failed_reason else []
        lines += [f"  layers: {len(self.layers)} ({names}{more})"] if self.layers else []
        return "\n".join(lines)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(f"Render {self.id}" if cycle else self.describe())

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


_new_render = _constructor(Render)


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
    """Every final-video take of every row (current and history, all statuses).

    The takes of a row share one tuple of layer outputs (see the module docstring).
    """
    renders: list[Render] = []
    final_at, video_at = engine.column_index("final_video"), engine.column_index("video")
    for row in engine.rows:
        final = engine._cell(row, "final_video", final_at)
        if final is None:
            continue
        takes = _takes(final)
        if not takes:
            continue
        current_id = final.default_user_job.id if final.default_user_job else None
        video_cell = engine._cell(row, "video", video_at)
        owner = takes[-1].id if current_id is None else current_id
        layers = tuple([LayerOutput.from_layer(owner, layer) for layer in
                        sorted(video_cell.video_layers, key=_by_position)]) \
            if video_cell is not None and video_cell.video_layers else ()
        title, count = _row_title(row), len(takes)
        for number, generation in enumerate(takes, start=1):
            video = generation.video
            renders.append(_new_render(
                generation.id, generation.status, engine.id, engine.title, row.id,
                row.position, final.id, title, number, count, generation.id == current_id,
                video.url if video else None, video.thumbnail_url if video else None,
                video.id if video else None, generation.failed_reason, generation.created_at,
                layers))
    return renders


# --- renders straight from the JSON ---------------------------------------------------------------
#
# The same rules as above, applied to the decoded answer: every field goes through the same
# small parsers (``_id``, ``_str``, ``_int``, ``_status``, ``parse_time``) as in the models, only
# the objects in between are skipped. tests/test_models_fast.py checks that the results equal
# ``renders_from_engine(Engine.from_api(data))`` for documented, sandbox and arbitrary answers.

def _resource_kind(res: Mapping[str, Any]) -> MediaKind:
    """``OutputResource.from_api(res).kind`` without building the resource."""
    hint = res.get("object_type")
    if type(hint) is str:
        kind = _HINT_KINDS.get(hint)
        if kind is not None:
            return kind
    return media_kind(_str(hint), _str(res.get("url")))


def _has_video_output(cell: Mapping[str, Any]) -> bool:
    job = cell.get("default_user_job")
    if not isinstance(job, Mapping):
        return False
    return any(_resource_kind(_dict(r)) == "video" for r in _list(job.get("output_resources")))


def _pick(cells: Sequence[Any], index: int | None, final: bool) -> Mapping[str, Any] | None:
    """``Engine._cell`` for raw cells (``final``: the final-video role, else the video role)."""
    if index is not None and index < len(cells):
        return _dict(cells[index])
    for item in cells:
        cell = _dict(item)
        if _has_video_output(cell) if final else bool(_list(cell.get("video_layers"))):
            return cell
    return None


def _role_indices(columns: Sequence[Any]) -> tuple[int | None, int | None]:
    """``Engine.column_index`` of ``final_video`` and ``video`` for raw columns."""
    keyed = []
    for item in columns:
        col = _dict(item)
        position = _int(col.get("position"))
        keyed.append(((position is None, position or 0), (_str(col.get("column_role")) or "")))
    keyed.sort(key=lambda pair: pair[0])
    roles = [role.lower() for _, role in keyed]
    final = roles.index("final_video") if "final_video" in roles else None
    video = roles.index("video") if "video" in roles else None
    return final, video


def _generation_id(job: Mapping[str, Any]) -> str:
    return _id(job.get("id") or job.get("generation_id")) or ""


def _layer_output(owner: str, layer: Mapping[str, Any]) -> LayerOutput:
    """``LayerOutput.from_layer(owner, Layer.from_api(layer))`` without the Layer.

    The hottest function of listing (4–5 calls a row): the usual JSON types are tested inline
    (``type(x) is …``) before falling back to the tolerant parsers.
    """
    get = layer.get
    attrs = get("additional_attributes")
    if type(attrs) is not dict:
        attrs = _dict(attrs)
    layer_type = _word(get("type"))
    kind = (_LAYER_KINDS.get(layer_type) or _LAYER_KINDS.get(layer_type.lower())) \
        if layer_type else None
    job = get("default_user_job")
    status = url = thumb = res_id = None
    res: Mapping[str, Any] | None = None
    if type(job) is dict or isinstance(job, Mapping):
        status = _status(job.get("status"))
        outputs = job.get("output_resources")
        if type(outputs) is not list:
            outputs = _list(outputs)
        if outputs:
            res = outputs[0]
            if type(res) is not dict:
                res = _dict(res)
            url = res.get("url")
            if type(url) is not str:
                url = _str(url)
            thumb = res.get("thumbnail_url")
            thumb = (thumb if type(thumb) is str else _str(thumb)) or None
            res_id = _id(res.get("id"))
    if kind is None:
        kind = media_kind(None if res is None else _str(res.get("object_type")),
                          url or _str(attrs.get("src")))
    position, start, frames = get("position"), attrs.get("from"), attrs.get("durationInFrames")
    return _new_layer_output(
        owner, _id(get("id")), _word(get("name")), layer_type, kind,
        position if type(position) is int else _int(position), status, url, thumb, res_id,
        start if type(start) is int else _int(start),
        frames if type(frames) is int else _int(frames))


def _layer_outputs(owner: str, raw: Sequence[Any]) -> tuple[LayerOutput, ...]:
    """The row's layer outputs in ``position`` order (unknown positions last, stable)."""
    outputs = [_layer_output(owner, _dict(item)) for item in raw]
    positions = [o.position for o in outputs]
    if None in positions or positions != sorted(positions):  # type: ignore[type-var]
        outputs.sort(key=_by_position)
    return tuple(outputs)


def _video(job: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """``Generation.from_api(job).video`` as a raw resource."""
    outputs = _list(job.get("output_resources"))
    if not outputs:
        return None
    for item in outputs:
        res = _dict(item)
        if _resource_kind(res) == "video":
            return res
    return _dict(outputs[0])


def renders_from_api(data: Mapping[str, Any]) -> list[Render]:
    """``renders_from_engine(Engine.from_api(data))``, straight from an engine answer.

    ``data`` is the decoded JSON of ``GET /{prefix}/{engine_id}`` (the engine object). Only the
    renders and their (shared) layer outputs are built, and nothing refers back to ``data``
    or to an engine, so the answer can be dropped as soon as this returns.

    >>> [r.id for r in renders_from_api({"id": 1, "spreadsheet_rows": []})]
    []
    """
    get = data.get
    rows = _list(get("spreadsheet_rows"))
    if not rows:
        return []
    engine_id, engine_title = _id(get("id")) or "", _str(get("title"))
    final_at, video_at = _role_indices(_list(get("spreadsheet_columns")))
    renders: list[Render] = []
    append = renders.append
    for item in rows:
        row = _dict(item)
        cells = _list(row.get("spreadsheet_cells"))
        if not cells:
            continue
        final = _pick(cells, final_at, True)
        if final is None:
            continue
        jobs = [_dict(j) for j in _list(final.get("user_jobs"))]
        ids = [_generation_id(j) for j in jobs]
        current = final.get("default_user_job")
        current_id = None
        if isinstance(current, Mapping):
            current_id = _generation_id(current)
            if current_id not in ids:
                jobs.append(current)
                ids.append(current_id)
        count = len(jobs)
        if not count:
            continue
        video_cell = _pick(cells, video_at, False)
        raw_layers = _list(video_cell.get("video_layers")) if video_cell is not None else ()
        layers = _layer_outputs(ids[-1] if current_id is None else current_id, raw_layers) \
            if raw_layers else ()
        row_id, row_position = _id(row.get("id")), _int(row.get("position"))
        cell_id, title = _id(final.get("id")), _title(cells)
        for number in range(count):
            job, job_id = jobs[number], ids[number]
            jget = job.get
            video = _video(job)
            if video is None:
                url = thumb = res_id = None
            else:
                url, thumb = _str(video.get("url")), _str(video.get("thumbnail_url")) or None
                res_id = _id(video.get("id"))
            append(_new_render(job_id, _status(jget("status")), engine_id, engine_title, row_id,
                          row_position, cell_id, title, number + 1, count, job_id == current_id,
                          url, thumb, res_id, _str(jget("failed_reason")),
                          parse_time(jget("created_at"), jget("created_at_ts")), layers))
    return renders


def _title(cells: Sequence[Any]) -> str | None:
    """``_row_title`` for raw cells."""
    for item in cells:
        value = _dict(item).get("value")
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None
