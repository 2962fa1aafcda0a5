"""pandas views of renders, layer outputs, content resources and transfer results.

Pure functions: objects in, a plain :class:`pandas.DataFrame` out. Every frame has a stable
column order and stable dtypes — ids and text are pandas ``string``, statuses and media kinds are
``category`` (fixed categories in lifecycle order), times are ``datetime64[ns, UTC]``, counts are
nullable ``Int64``. Empty input gives an empty frame with the same columns and dtypes. A status
the API invents later is kept (appended after the known categories), never turned into NaN.

Frames are built column-wise: one list per column, straight from the objects' attributes (no
per-row dicts or tuples, no ``apply``), and categories from codes; so 10,000 or 100,000 renders
build in about 1–1.5 × the time of ``pd.DataFrame(records)`` of the same flat rows (see
``benchmarks/bench_frames.py``).

Rich view in a notebook: the DataFrame stays plain; wrap it when you want thumbnails::

    >>> import gen_nb
    >>> client = gen_nb.connect()                    # doctest: +SKIP
    >>> df = gen_nb.renders_frame(client)            # doctest: +SKIP
    >>> gen_nb.frames.styled(df)      # thumbnails, badges, links   # doctest: +SKIP

``styled(df)`` returns a :class:`StyledFrame` whose ``_repr_html_`` is :func:`frame_html`: lazy
``<img>`` thumbnails from their URLs (never image bytes), status badges, links that open in a new
tab, every other cell escaped, and only the first ``max_rows`` rows plus "… N more rows". In a
loop, ``display(gen_nb.frames.styled(df))``; for a raw string, ``frame_html(df)``.
"""

from __future__ import annotations

import datetime as _dt
import html
from collections.abc import Iterable, Mapping
from operator import attrgetter
from typing import Any

import numpy as np
import pandas as pd

from gen_nb.api.errors import WrongKindError
from gen_nb.api.models import (
    FPS,
    Generation,
    LayerOutput,
    Render,
    parse_time,
)
from gen_nb.display import link_html, safe_url, status_badge_html

__all__ = [
    "LAYER_COLUMNS",
    "LOCAL_COLUMNS",
    "MEDIA_KINDS",
    "RENDER_COLUMNS",
    "RENDER_STATUSES",
    "RESOURCE_COLUMNS",
    "TRANSFER_COLUMNS",
    "TRANSFER_STATUSES",
    "StyledFrame",
    "frame_html",
    "layers_frame",
    "renders_frame",
    "resources_frame",
    "styled",
    "transfers_frame",
]

RENDER_STATUSES = ("pending", "processing", "completed", "failed", "stopped")
TRANSFER_STATUSES = ("done", "skipped", "failed", "cancelled")
MEDIA_KINDS = ("video", "audio", "image", "text", "caption", "shape", "other")

_S, _I, _N = "string", "Int64", "int64"
# column name → dtype spec: a pandas dtype name, "utc" (datetime64[ns, UTC]) or a category tuple
RENDER_COLUMNS: dict[str, Any] = {
    "render_id": _S, "engine_id": _S, "engine": _S, "row_id": _S, "row": _I,
    "take": _N, "takes": _N, "is_current": "bool", "title": _S, "status": RENDER_STATUSES,
    "created_at": "utc", "url": _S, "thumbnail_url": _S, "output_resource_id": _S,
    "failed_reason": _S, "layer_count": _I,
}
LOCAL_COLUMNS: dict[str, Any] = {
    "downloaded": "bool", "downloaded_to": _S, "exported": "bool", "exported_to": _S,
    "post_url": _S, "file": _S,
}
LAYER_COLUMNS: dict[str, Any] = {
    "render_id": _S, "layer_id": _S, "name": _S, "type": _S, "kind": MEDIA_KINDS,
    "position": _I, "status": RENDER_STATUSES, "url": _S, "thumbnail_url": _S,
    "output_resource_id": _S, "start_seconds": "float64", "duration_seconds": "float64",
}
RESOURCE_COLUMNS: dict[str, Any] = {
    "id": _S, "file_name": _S, "kind": MEDIA_KINDS, "content_type": _S, "url": _S,
    "thumbnail_url": _S, "generator_id": _S, "generator_status": RENDER_STATUSES,
    "created_at": "utc",
}
TRANSFER_COLUMNS: dict[str, Any] = {
    "src": _S, "status": TRANSFER_STATUSES, "path": _S, "bytes": _I, "sha256": _S,
    "seconds": "float64", "error": _S,
}

# the Render attribute behind each RENDER_COLUMNS column but the last (layer_count)
_RENDER_FIELDS = tuple(attrgetter(name) for name in (
    "id", "engine_id", "engine_title", "row_id", "row_position", "take", "takes", "is_current",
    "title", "status", "created_at", "url", "thumbnail_url", "output_resource_id",
    "failed_reason"))
# the LayerOutput attribute behind each LAYER_COLUMNS column from layer_id to output_resource_id
_LAYER_FIELDS = tuple(attrgetter(name) for name in (
    "layer_id", "name", "type", "kind", "position", "status", "url", "thumbnail_url",
    "output_resource_id"))


# --- building columns ---------------------------------------------------------------------------

_NS_RANGE = (_dt.datetime(1677, 9, 22, tzinfo=_dt.UTC),     # pd.Timestamp.min/max, rounded in
             _dt.datetime(2262, 4, 11, tzinfo=_dt.UTC))


def _utc(values: list[Any]) -> pd.DatetimeIndex:
    """datetime64[ns, UTC] from datetimes / None (ISO strings or epoch ms are parsed too).

    A time outside what nanoseconds can hold (before 1677 or after 2262: an API's odd
    ``created_at_ts``) becomes NaT rather than an error.
    """
    clean = [v if v is None or type(v) is _dt.datetime else _as_time(v) for v in values]
    try:
        return pd.to_datetime(clean, utc=True).astype("datetime64[ns, UTC]")
    except (OverflowError, pd.errors.OutOfBoundsDatetime):
        low, high = _NS_RANGE
        kept = [v if v is None or low <= (v if v.tzinfo else v.replace(tzinfo=_dt.UTC)) <= high
                else None for v in clean]
        return pd.to_datetime(kept, utc=True).astype("datetime64[ns, UTC]")


def _as_time(value: Any) -> _dt.datetime | None:
    if isinstance(value, _dt.datetime):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return parse_time(ms=value)
    return parse_time(iso=value)


def _categorical(values: list[Any], categories: tuple[str, ...]) -> pd.Categorical:
    """Fixed categories in order, plus any unknown value appended (so nothing becomes NaN).

    Values are compared lower-case; anything but a string is missing. Built from codes: one
    dict lookup per value (the distinct values are few), no hashing of the column by pandas.
    """
    try:
        distinct = set(values)
    except TypeError:                   # something unhashable: it is not a category anyway
        distinct = {v for v in values if isinstance(v, str)}
        values = [v if isinstance(v, str) else None for v in values]
    lowered = {v: v.lower() for v in distinct if isinstance(v, str)}
    extra = sorted(set(lowered.values()) - set(categories))
    names = [*categories, *extra]
    position = {name: i for i, name in enumerate(names)}
    code_of = {v: position[low] for v, low in lowered.items()}
    codes = np.fromiter((code_of.get(v, -1) for v in values), dtype=np.int32,
                        count=len(values)) if code_of else np.full(len(values), -1, np.int32)
    return pd.Categorical.from_codes(codes, dtype=pd.CategoricalDtype(names))


def _column(values: list[Any], spec: Any) -> Any:
    if isinstance(spec, tuple):
        return _categorical(values, spec)
    if spec == "utc":
        return _utc(values)
    if spec in ("float64", "int64", "bool"):
        return np.array(values, dtype=spec)
    return pd.array(values, dtype=spec)


def _frame(columns: list[list[Any]] | list[tuple[Any, ...]], spec: dict[str, Any]) -> pd.DataFrame:
    data = {name: _column(list(values), dtype)
            for (name, dtype), values in zip(spec.items(), columns, strict=True)}
    return pd.DataFrame(data, index=pd.RangeIndex(len(columns[0]) if columns else 0))


def _source(obj: Any, method: str) -> Any:
    """A client / engine (anything with a ``method()``) is asked for its items."""
    if not isinstance(obj, Iterable) and callable(getattr(obj, method, None)):
        return getattr(obj, method)()
    return obj


# --- renders ------------------------------------------------------------------------------------

def _as_render(item: Any) -> Render:
    if isinstance(item, Render):
        return item
    if isinstance(item, Generation):
        return Render.from_generation(item)
    raise WrongKindError(f"renders_frame() takes Render objects (or a Client); got "
                         f"{type(item).__name__}. Use client.renders() to list them.")


def renders_frame(renders: Any, local: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """One row per render take, columns and dtypes as in :data:`RENDER_COLUMNS`.

    ``renders`` is a list of :class:`~gen_nb.api.models.Render` (a :class:`Generation` becomes a
    render without engine context), a single render, or a client / engine (its ``renders()`` is
    called). ``take``/``takes`` say "take n of m"; ``is_current`` marks the take the cell shows.
    ``local``: what :func:`gen_nb.local_state.local_state` found for them; it adds the columns
    of :data:`LOCAL_COLUMNS` (downloaded and where, exported and where, the post URL, and
    ``file``: "deleted" or "missing" when the render's file is gone). Raises TypeError for
    anything else.

    >>> import gen_nb
    >>> client = gen_nb.connect()                    # doctest: +SKIP
    >>> gen_nb.renders_frame(client).query("status == 'completed'")[["render_id", "url"]]
    ... # doctest: +SKIP
    """
    renders = _source(renders, "renders")
    if isinstance(renders, Render | Generation):
        renders = [renders]
    items = [r if type(r) is Render else _as_render(r) for r in renders]
    columns = [list(map(get, items)) for get in _RENDER_FIELDS]
    columns.append([len(r.layers) for r in items])                  # layer_count
    frame = _frame(columns, RENDER_COLUMNS)
    return frame if local is None else _with_local(frame, items, local)


def _with_local(frame: pd.DataFrame, items: list[Render], local: Mapping[str, Any]
                ) -> pd.DataFrame:
    """The local-state columns, one value per render (NA where nothing is known)."""
    def first(copies: Any) -> str | None:
        return next((c.where for c in copies or () if getattr(c, "verified", True)), None)

    states = [local.get(r.id) for r in items]
    values: dict[str, list[Any]] = {
        "downloaded": [bool(s is not None and s.is_downloaded) for s in states],
        "downloaded_to": [first(s.downloaded) if s else None for s in states],
        "exported": [bool(s is not None and s.exported) for s in states],
        "exported_to": [first(s.exported) if s else None for s in states],
        "post_url": [(s.published[0] if s and s.published else None) for s in states],
        "file": [("deleted" if s.deleted else "missing" if s.file_missing else None)
                 if s else None for s in states],
    }
    for name, column in values.items():
        frame[name] = _column(column, LOCAL_COLUMNS[name])
    return frame


# --- layer outputs ------------------------------------------------------------------------------

def _layer_outputs(source: Any) -> list[tuple[str, LayerOutput]]:
    """(render id, layer output) pairs: a render's id labels its layers."""
    if isinstance(source, LayerOutput):
        return [(source.render_id, source)]
    if isinstance(source, Render):
        return [(source.id, layer) for layer in source.layers]
    if isinstance(source, Iterable) and not isinstance(source, str | bytes | Mapping):
        return [pair for item in source for pair in _layer_outputs(item)]
    raise WrongKindError(f"layers_frame() takes a Render, LayerOutput objects or a list of "
                         f"renders; got {type(source).__name__}. Use client.layers(render) to "
                         "fetch them.")


def layers_frame(source: Any) -> pd.DataFrame:
    """One row per layer output, columns and dtypes as in :data:`LAYER_COLUMNS`.

    ``source`` is a render (its layers), a list of renders (all their layers, in order), a
    :class:`~gen_nb.api.models.LayerOutput` or a list of them. ``render_id`` is the render the
    layers were listed from (the takes of a row share their layer outputs, so each take's rows
    carry that take's id); for layer outputs given on their own it is their ``render_id``, the
    row's current take. ``start_seconds`` and ``duration_seconds`` are frames / 30 (NaN when
    unknown). Raises TypeError for anything else.

    >>> import gen_nb
    >>> client = gen_nb.connect()                    # doctest: +SKIP
    >>> render = client.renders(status="completed")[0]             # doctest: +SKIP
    >>> gen_nb.layers_frame(client.layers(render))[["name", "kind", "url"]]  # doctest: +SKIP
    """
    pairs = _layer_outputs(source)
    layers = [lo for _, lo in pairs]
    columns: list[list[Any]] = [[rid for rid, _ in pairs]]
    columns += [list(map(get, layers)) for get in _LAYER_FIELDS]
    columns.append([None if lo.start_frame is None else lo.start_frame / FPS for lo in layers])
    columns.append([None if lo.duration_frames is None else lo.duration_frames / FPS
                    for lo in layers])
    return _frame(columns, LAYER_COLUMNS)


# --- content resources ----------------------------------------------------------------------------

def resources_frame(resources: Any) -> pd.DataFrame:
    """One row per stored file, columns and dtypes as in :data:`RESOURCE_COLUMNS`.

    ``resources`` is a list of :class:`~gen_nb.api.models.ContentResource` (an
    :class:`~gen_nb.api.models.OutputResource` works too; missing fields are NA) or a client (its
    ``resources()`` is called). ``created_at`` helps with retention ("older than 30 days").

    >>> import gen_nb
    >>> client = gen_nb.connect()                    # doctest: +SKIP
    >>> gen_nb.resources_frame(client)[["id", "file_name", "kind"]]  # doctest: +SKIP
    """
    items = list(_source(resources, "resources"))
    columns: list[list[Any]] = [[] for _ in RESOURCE_COLUMNS]
    for res in items:
        generator = getattr(res, "generator", None)
        values = (res.id, getattr(res, "file_name", None), getattr(res, "kind", None),
                  getattr(res, "content_type", None), res.url,
                  getattr(res, "thumbnail_url", None), getattr(generator, "id", None),
                  getattr(generator, "status", None), getattr(res, "created_at", None))
        for column, value in zip(columns, values, strict=True):
            column.append(value)
    return _frame(columns, RESOURCE_COLUMNS)


# --- transfer results ---------------------------------------------------------------------------

def _transfer_row(result: Any) -> tuple[Any, ...]:
    """(src, status, path, bytes, sha256, seconds, error) from any transfer result shape."""
    if isinstance(result, Mapping):
        get = result.get
    else:
        def get(name: str, default: Any = None) -> Any:
            return getattr(result, name, default)
    status = get("status")
    skipped = get("skipped")
    if status is None and skipped is not None:                        # DownloadResult
        status = "skipped" if skipped else "done"
    elif isinstance(status, int) and not isinstance(status, bool):   # StreamResult: HTTP status
        status = "done" if 200 <= status < 300 else "failed"
    path = get("path", get("dest"))
    return (get("src", get("url")), status, None if path is None else str(path),
            get("bytes"), get("sha256"), get("seconds"), get("error"))


def transfers_frame(results: Iterable[Any]) -> pd.DataFrame:
    """One row per transfer, columns and dtypes as in :data:`TRANSFER_COLUMNS`.

    Accepts what ``gen_nb.download_many`` returns (TransferResult), ``gen_nb.download``'s
    DownloadResult (status ``done``, or ``skipped`` when the file was already there), a
    StreamResult (2xx → ``done``) or plain dicts with the same keys. A single result is fine too.

    >>> import gen_nb
    >>> results = gen_nb.download_many(client.renders(status="completed"))  # doctest: +SKIP
    >>> gen_nb.transfers_frame(results).groupby("status").size()            # doctest: +SKIP
    """
    if not isinstance(results, Iterable) or isinstance(results, Mapping):
        results = [results]
    rows = [_transfer_row(result) for result in results]
    columns = list(zip(*rows, strict=True)) or [()] * len(TRANSFER_COLUMNS)
    return _frame(columns, TRANSFER_COLUMNS)


# --- rich HTML view -----------------------------------------------------------------------------

_CELL_TEXT_LIMIT = 300
_STATUS_COLUMNS = frozenset({"status", "generator_status"})
_LINK_COLUMNS = frozenset({"url", "src", "post_url", "status_url"})


def _missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):     # list-like cells
        return False


def _number(value: float) -> str:
    if value != 0 and abs(value) < 0.01:
        return f"{value:.3g}"
    return f"{value:.3f}".rstrip("0").rstrip(".")


def _text(value: Any) -> str:
    text = _number(value) if isinstance(value, float) else str(value)
    if len(text) > _CELL_TEXT_LIMIT:
        text = text[:_CELL_TEXT_LIMIT] + "…"
    return html.escape(text, quote=True)


def _thumbnail_cell(value: Any, width: int) -> str:
    url = safe_url(value)
    if url is None:
        return _text(value)
    return f'<img loading="lazy" src="{html.escape(url, quote=True)}" width="{int(width)}" alt="">'


def _link_cell(value: Any) -> str:
    return link_html(value) or _text(value)


def _cell(column: str, value: Any, thumb_width: int) -> str:
    if _missing(value):
        return ""
    if column.endswith("thumbnail_url"):
        return _thumbnail_cell(value, thumb_width)
    if column in _LINK_COLUMNS:
        return _link_cell(value)
    if column in _STATUS_COLUMNS:
        return status_badge_html(str(value))
    return _text(value)


def frame_html(df: pd.DataFrame, max_rows: int | None = 50, *, thumb_width: int = 96) -> str:
    """An HTML table of ``df``: thumbnails as lazy ``<img>``, statuses as badges, URLs as links.

    Only http(s) URLs become ``src``/``href``; every other cell is ``html.escape``-d and cut at
    300 characters. Frames longer than ``max_rows`` (None = no limit) show their first rows and
    "… N more rows", so the output stays small. The index is not shown.

    >>> import pandas as pd
    >>> "&lt;b&gt;" in frame_html(pd.DataFrame({"title": ["<b>"]}))
    True
    """
    shown = df if max_rows is None or len(df) <= max_rows else df.head(max(int(max_rows), 0))
    names = [str(c) for c in df.columns]
    head = "".join(f"<th>{html.escape(n, quote=True)}</th>" for n in names)
    body = []
    for row in shown.itertuples(index=False, name=None):
        cells = "".join(f"<td>{_cell(n, v, thumb_width)}</td>"
                        for n, v in zip(names, row, strict=True))
        body.append(f"<tr>{cells}</tr>")
    hidden = len(df) - len(shown)
    if hidden:
        body.append(f'<tr><td colspan="{max(len(names), 1)}">'
                    f"… {hidden:,} more rows</td></tr>")
    return (f'<table class="gen-nb-frame"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table>"
            f"<small>{len(df):,} rows × {len(names)} columns</small>")


class StyledFrame:
    """A DataFrame shown as :func:`frame_html` in notebooks and as plain text elsewhere.

    ``.frame`` is the untouched DataFrame. Create with :func:`styled`.
    """

    def __init__(self, frame: pd.DataFrame, max_rows: int | None = 50) -> None:
        self.frame = frame
        self.max_rows = max_rows

    def _repr_html_(self) -> str:
        return frame_html(self.frame, self.max_rows)

    def __repr__(self) -> str:
        """The plain-text table (its first ``max_rows`` rows), missing values shown as –."""
        shown = self.frame if self.max_rows is None else self.frame.head(self.max_rows)
        text = shown.astype(object).where(shown.notna(), "–").to_string()
        hidden = len(self.frame) - len(shown)
        return text + (f"\n… {hidden:,} more rows" if hidden else "")

    def __len__(self) -> int:
        return len(self.frame)


def styled(df: pd.DataFrame, max_rows: int | None = 50) -> StyledFrame:
    """Wrap ``df`` for a rich notebook view (thumbnails, badges, links); ``df`` is unchanged.

    >>> import gen_nb
    >>> gen_nb.frames.styled(gen_nb.renders_frame(client))   # doctest: +SKIP
    """
    return StyledFrame(df, max_rows)
