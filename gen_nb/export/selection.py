"""What an export moves: renders and layer outputs, from any source, through the filters.

``source`` may be a client (every engine), engine ids (with ``client=``), renders, layer
outputs, or a DataFrame from ``renders_frame``/``layers_frame`` (read through its rows; pandas
is never imported here). Each file becomes one :class:`ExportItem`, a flat record that also
names the file (see :mod:`gen_nb.export.naming`) and can be sent to another process (Dask).
"""

from __future__ import annotations

import datetime as _dt
import posixpath
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from gen_nb.api.errors import UsageError
from gen_nb.api.models import LayerOutput, Render, parse_time

__all__ = ["ExportItem", "Filters", "items_from", "select"]

STATUSES = ("pending", "processing", "completed", "failed", "stopped")


@dataclass(frozen=True)
class ExportItem:
    """One file to export: where it comes from and what it is (for its name and record)."""

    kind: str                      # "render" or "layer"
    url: str
    render_id: str
    engine_id: str | None = None
    engine: str | None = None
    row: int | None = None
    take: int | None = None
    title: str | None = None
    status: str | None = None
    created_at: _dt.datetime | None = None
    layer_id: str | None = None
    layer: str | None = None
    layer_position: int | None = None

    @property
    def key(self) -> str:
        """What makes two items the same file (a render, or one layer of one render)."""
        return f"{self.kind}:{self.render_id}:{self.layer_id or ''}"

    @property
    def ext(self) -> str:
        """The URL path's extension (``.mp4``), or empty."""
        rest = self.url.split("#", 1)[0].split("?", 1)[0]
        path = rest.split("://", 1)[-1].partition("/")[2]   # past the scheme and host
        return posixpath.splitext(path)[1]

    def fields(self) -> dict[str, Any]:
        """The naming template's fields for this item."""
        return {"engine": self.engine, "engine_id": self.engine_id, "row": self.row,
                "render_id": self.render_id, "take": self.take, "title": self.title,
                "kind": self.kind, "layer": self.layer, "layer_id": self.layer_id,
                "layer_position": self.layer_position, "ext": self.ext,
                "date": self.created_at.date().isoformat() if self.created_at else None}

    def about(self) -> dict[str, Any]:
        """The provenance fields of its manifest record."""
        return {"kind": self.kind, "render_id": self.render_id, "layer_id": self.layer_id,
                "engine_id": self.engine_id, "title": self.title}


@dataclass(frozen=True)
class Filters:
    """Which renders count: statuses (default completed), engines, created since, layers."""

    status: frozenset[str] = frozenset({"completed"})
    engines: frozenset[str] | None = None
    since: _dt.datetime | None = None
    layers: bool = True

    @classmethod
    def build(cls, status: Any = "completed", engines: Any = None, since: Any = None,
              layers: bool = True) -> Filters:
        """Validated filters; UsageError names the bad argument and what it takes."""
        wanted = _statuses(status)
        engine_set = None if engines is None else frozenset(
            str(e) for e in ([engines] if isinstance(engines, str | int) else engines))
        return cls(wanted, engine_set, _since(since), bool(layers))

    def keeps(self, render: Render) -> bool:
        if render.status not in self.status or not render.url:
            return False
        if self.engines is not None and render.engine_id not in self.engines:
            return False
        return self.since is None or (render.created_at is not None
                                      and render.created_at >= self.since)


def _statuses(status: Any) -> frozenset[str]:
    if status is None or status == "all":
        return frozenset(STATUSES)
    items = [status] if isinstance(status, str) else list(status)
    bad = [s for s in items if not isinstance(s, str) or s.lower() not in STATUSES]
    if bad:
        raise UsageError(f"status={status!r}: use one or more of {', '.join(STATUSES)} "
                         "(or 'all').")
    return frozenset(s.lower() for s in items)


def _since(value: Any) -> _dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, _dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=_dt.UTC)
    if isinstance(value, _dt.date):
        return _dt.datetime.combine(value, _dt.time(), tzinfo=_dt.UTC)
    parsed = parse_time(iso=value) if isinstance(value, str) else None
    if parsed is None:
        raise UsageError(f"since={value!r} is not a date or time; pass e.g. '2026-11-01' or a "
                         "datetime.")
    return parsed


def _render_item(render: Render) -> ExportItem:
    return ExportItem("render", render.url or "", render.id, render.engine_id,
                      render.engine_title, render.row_position, render.take, render.title,
                      render.status, render.created_at)


def _layer_item(layer: LayerOutput, render: Render | None) -> ExportItem:
    base = _render_item(render) if render is not None else ExportItem(
        "render", "", layer.render_id, status=layer.status)
    return ExportItem("layer", layer.url or "", base.render_id, base.engine_id, base.engine,
                      base.row, base.take, base.title, layer.status or base.status,
                      base.created_at, layer.layer_id, layer.name, layer.position)


def _from_render(render: Render, filters: Filters) -> Iterator[ExportItem]:
    if not filters.keeps(render):
        return
    yield _render_item(render)
    if filters.layers and render.is_current:     # a row's layers belong to its current take
        for layer in render.layers:
            if layer.url and (layer.status in (None, "completed")):
                yield _layer_item(layer, render)


def _from_row(row: dict[str, Any], filters: Filters) -> Iterator[ExportItem]:
    """A DataFrame row from renders_frame (render_id, url, …) or layers_frame (layer_id…)."""
    def text(name: str) -> str | None:
        value = row.get(name)
        return None if value is None or value != value else str(value)   # NaN → None

    def number(name: str) -> int | None:
        value = row.get(name)
        try:
            return None if value is None or value != value else int(value)
        except (TypeError, ValueError):
            return None

    url, status = text("url"), text("status")
    if not url or (status is not None and status not in filters.status):
        return
    kind = "layer" if "layer_id" in row else "render"
    if filters.engines is not None and text("engine_id") not in filters.engines:
        return
    created = row.get("created_at")
    yield ExportItem(kind, url, text("render_id") or "", text("engine_id"), text("engine"),
                     number("row"), number("take"), text("title"), status,
                     created if isinstance(created, _dt.datetime) else None,
                     text("layer_id") if kind == "layer" else None,
                     text("name") if kind == "layer" else None,
                     number("position") if kind == "layer" else None)


def items_from(source: Any, filters: Filters, client: Any = None) -> list[ExportItem]:
    """Every file to export from ``source`` (see the module docstring), deduplicated."""
    found: dict[str, ExportItem] = {}
    for item in _items(source, filters, client):
        found.setdefault(item.key, item)
    return list(found.values())


def _items(source: Any, filters: Filters, client: Any) -> Iterator[ExportItem]:
    if hasattr(source, "renders") and callable(source.renders):          # a client
        engines = sorted(filters.engines) if filters.engines else None
        for render in source.renders(engines, status=sorted(filters.status)):
            yield from _from_render(render, filters)
        return
    if hasattr(source, "iterrows") and hasattr(source, "to_dict"):          # a DataFrame
        for row in source.to_dict("records"):
            yield from _from_row(row, filters)
        return
    if isinstance(source, Render | LayerOutput):
        source = [source]
    if isinstance(source, str | int) or not isinstance(source, Iterable):
        source = [source]
    yield from _from_list(list(source), filters, client)


def _from_list(items: list[Any], filters: Filters, client: Any) -> Iterator[ExportItem]:
    engine_ids = [i for i in items if isinstance(i, str | int) and not isinstance(i, bool)]
    if engine_ids:
        if client is None:
            raise UsageError("Engine ids need a client: export(['812'], dest, client=client) "
                             "or export(client, dest, engines=['812']).")
        narrowed = Filters(filters.status, frozenset(str(e) for e in engine_ids),
                           filters.since, filters.layers)
        yield from _items(client, narrowed, None)
    for item in items:
        if isinstance(item, Render):
            yield from _from_render(item, filters)
        elif isinstance(item, LayerOutput):
            if item.url:
                yield _layer_item(item, None)
        elif not (isinstance(item, str | int) and not isinstance(item, bool)):
            raise UsageError(f"export() takes a client, engine ids, renders, layer outputs or "
                             f"a DataFrame of them; got {type(item).__name__}.")


def select(source: Any, *, client: Any = None, status: Any = "completed", engines: Any = None,
           since: Any = None, layers: bool = True) -> list[ExportItem]:
    """The items :func:`gen_nb.export` would consider (before the manifest says what is new)."""
    return items_from(source, Filters.build(status, engines, since, layers), client)
