"""File names for exported renders and layer outputs: a template, sanitised, collision-free.

A template is a ``str.format`` string over the fields of :data:`FIELDS`, with ``/`` between
folders — what yt-dlp calls an output template. Every field value is made safe first
(:func:`slug` for text, so a title can never add a folder or a ``..``), then every path
segment goes through :func:`gen_nb.transfer.plan.sanitize_file_name`; missing values become
``none``. The default puts an engine's renders in its folder, in row order, each take under
its own id, and a render's layer outputs in a folder beside it::

    launch-teasers/03-meet-aurora-our-lightest-earbuds-yet-56004.mp4
    launch-teasers/03-meet-aurora-our-lightest-earbuds-yet-56004.layers/2-voiceover.mp3

(one folder per engine, not per render: creating a thousand folders took longer than
writing the thousand files into them.)

>>> fields = {"engine": "Launch teasers", "row": 3, "title": "Meet Aurora!", "render_id": "56004",
...           "kind": "render", "ext": ".mp4"}
>>> path_for(DEFAULT_TEMPLATE, fields)
'launch-teasers/03-meet-aurora-56004.mp4'
>>> path_for(DEFAULT_TEMPLATE, {**fields, "kind": "layer", "layer": "Voiceover",
...                             "layer_position": 2, "ext": ".mp3"})
'launch-teasers/03-meet-aurora-56004.layers/2-voiceover.mp3'
"""

from __future__ import annotations

import functools
import re
import string
import unicodedata
from collections.abc import Mapping
from typing import Any

from gen_nb.api.errors import UsageError
from gen_nb.transfer.plan import sanitize_file_name

__all__ = ["DEFAULT_TEMPLATE", "FIELDS", "check_template", "path_for", "slug"]

DEFAULT_TEMPLATE = ("{engine}/{row:02d}-{title}-{render_id}"
                    "{layers_folder}{layer_position}{layer}{ext}")
FIELDS: dict[str, str] = {
    "engine": "the engine's title, slugged (launch-teasers)",
    "engine_id": "the engine's id",
    "row": "the row's position in the engine (a number; 0 when unknown)",
    "render_id": "the render (generation) id",
    "take": "which take of the row (1, 2, …)",
    "title": "the row's title, slugged",
    "kind": "render or layer",
    "layer": "the layer's name, slugged (empty for a render)",
    "layer_id": "the layer's id (empty for a render)",
    "layer_position": "the layer's position and a dash, e.g. 2- (empty for a render)",
    "layers_folder": ".layers/ for a layer output, empty for a render",
    "ext": "the file's extension with its dot (.mp4, .mp3)",
    "date": "the render's creation date (YYYY-MM-DD), or none",
}
_NUMBERS = ("row", "take")
_SLUG_SPLIT = re.compile(r"[^a-z0-9]+")
MAX_SLUG = 60


def slug(text: Any, limit: int = MAX_SLUG) -> str:
    """Lower-case ASCII words joined by ``-`` ("Café-style iced matcha!" → cafe-style-iced-matcha).

    >>> slug("Weekly tips <img src=x onerror=alert(1)>")
    'weekly-tips-img-src-x-onerror-alert-1'
    """
    if text is None:
        return "none"
    return _slug(str(text), limit)


@functools.lru_cache(maxsize=8192)  # engine names and titles repeat across thousands of files
def _slug(text: str, limit: int) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = [w for w in _SLUG_SPLIT.split(plain.lower()) if w]
    joined = "-".join(words)[:limit].strip("-")
    return joined or "none"


class _Formatter(string.Formatter):
    """Formats known fields only; numbers keep their format spec, text is already safe."""

    def get_value(self, key: int | str, args: Any, kwargs: Mapping[str, Any]) -> Any:
        if not isinstance(key, str) or key not in FIELDS:
            raise UsageError(f"name template field {{{key}}} is unknown; use "
                             f"{', '.join('{' + f + '}' for f in FIELDS)}.")
        return kwargs[key]

    def format_field(self, value: Any, format_spec: str) -> str:
        if not format_spec and type(value) is str:
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            return format(value, format_spec)
        return format(str(value), format_spec if not format_spec.endswith("d") else "")


_FORMAT = _Formatter()


def _safe_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    kind = fields.get("kind") or "render"
    layer = kind == "layer"
    position = fields.get("layer_position")
    out: dict[str, Any] = {
        "engine": slug(fields.get("engine") or fields.get("engine_id")),
        "engine_id": slug(fields.get("engine_id"), 40),
        "render_id": slug(fields.get("render_id"), 40),
        "title": slug(fields.get("title")),
        "kind": kind,
        "layer": slug(fields.get("layer")) if layer else "",
        "layer_id": slug(fields.get("layer_id"), 40) if layer else "",
        "layer_position": f"{position}-" if layer and position is not None else "",
        "layers_folder": ".layers/" if layer else "",
        "ext": _extension(fields.get("ext")),
        "date": slug(fields.get("date"), 10) if fields.get("date") else "none",
    }
    for name in _NUMBERS:
        value = fields.get(name)
        out[name] = value if isinstance(value, int) and not isinstance(value, bool) else 0
    return out


def _extension(value: Any) -> str:
    text = str(value or "").strip().lower()
    if not text:
        return ""
    text = text if text.startswith(".") else "." + text
    return "." + (re.sub(r"[^a-z0-9]", "", text[1:])[:10] or "bin")


def check_template(template: str) -> None:
    """Raise UsageError when ``template`` has an unknown field, bad syntax or is absolute."""
    if not isinstance(template, str) or not template.strip():
        raise UsageError("name= must be a non-empty template string, e.g. "
                         f"{DEFAULT_TEMPLATE!r}.")
    if template.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", template):
        raise UsageError(f"name={template!r} must be a path relative to the destination.")
    path_for(template, {"kind": "layer", "layer_position": 1})


def path_for(template: str, fields: Mapping[str, Any]) -> str:
    """The relative path (``/``-separated) for one file; UsageError for a bad template."""
    pieces = _compiled(template)
    safe = _safe_fields(fields)
    try:
        text = "".join(_FORMAT.format_field(safe[name], spec) if name else literal
                       for literal, name, spec in pieces)
    except (ValueError, TypeError) as exc:
        raise _bad_template(template, exc) from None
    parts = [_safe_part(part) for part in _SEPARATORS.split(text)
             if part.strip() not in ("", ".", "..")]
    return "/".join(parts) or "none"


_SEPARATORS = re.compile(r"[/\\]+")


def _bad_template(template: str, exc: BaseException) -> UsageError:
    return UsageError(f"name={template!r} is not a valid template ({exc}); fields are "
                      f"{', '.join('{' + f + '}' for f in FIELDS)}.")


@functools.lru_cache(maxsize=64)
def _compiled(template: str) -> tuple[tuple[str, str, str], ...]:
    """The template as (literal, "", "") and ("", field, spec) pieces, checked once."""
    pieces: list[tuple[str, str, str]] = []
    try:
        for literal, name, spec, conversion in _FORMAT.parse(template):
            if literal:
                pieces.append((literal, "", ""))
            if name is None:
                continue
            if conversion or name not in FIELDS:
                _FORMAT.get_value(name if not conversion else f"{name}!{conversion}", (), {})
            if "{" in (spec or ""):
                raise ValueError("a field's format cannot hold another field")
            pieces.append(("", name, spec or ""))
    except UsageError:
        raise
    except ValueError as exc:
        raise _bad_template(template, exc) from None
    return tuple(pieces)


@functools.lru_cache(maxsize=8192)
def _safe_part(part: str) -> str:
    return sanitize_file_name(part, default="none")
