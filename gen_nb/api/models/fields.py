"""Small tolerant parsers shared by the models: ids, numbers, times, media kinds.

Each parser has a fast path for the types JSON actually gives (an exact ``str``, ``int`` or
``float``: one ``type(...) is`` test, no exception, no copy) and falls back to the general,
tolerant rules for anything else. Both paths give the same answers (see
``tests/test_models_fast.py``).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import math
import posixpath
import sys
import urllib.parse
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any, Literal, TypeVar

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
# every hint media_kind() understands (object_type / content_type family): kind
_HINT_KINDS: dict[str, MediaKind] = {**_LAYER_KINDS, "video": "video", "audio": "audio",
                                     "image": "image"}
_EXT_KINDS: dict[str, MediaKind] = {
    ".mp4": "video", ".mov": "video", ".webm": "video", ".m4v": "video",
    ".mp3": "audio", ".m4a": "audio", ".wav": "audio", ".aac": "audio", ".ogg": "audio",
    ".jpg": "image", ".jpeg": "image", ".png": "image", ".webp": "image", ".gif": "image",
}
_EMPTY: Mapping[str, Any] = MappingProxyType({})
_T = TypeVar("_T")
_UTC = _dt.UTC
_fromisoformat = _dt.datetime.fromisoformat
_fromtimestamp = _dt.datetime.fromtimestamp
_intern = sys.intern


# --- building frozen objects fast -------------------------------------------------------------

def _constructor(cls: type[_T]) -> Callable[..., _T]:
    """A constructor for the frozen, slotted dataclass ``cls`` taking every field positionally,
    about 6 × faster than ``cls(...)``.

    A frozen dataclass's ``__init__`` sets each field with ``object.__setattr__`` (~110 ns a
    field here: 2.3 µs for a Render). This one builds the object as an instance of a plain
    slotted twin with the same fields (``self.x = x``, ~15 ns a field), then makes it a ``cls``
    (``__class__`` assignment, which Python allows between classes with the same slots). What
    it returns is an ordinary ``cls`` instance: equal, hashable, frozen, picklable; only the
    defaults are not applied (every field must be given, in order).
    """
    names = [f.name for f in dataclasses.fields(cls)]   # type: ignore[arg-type]

    def become(self: Any, _cls: type[_T] = cls) -> None:
        self.__class__ = _cls

    twin = dataclasses.make_dataclass(
        f"_{cls.__name__}Builder", names, slots=True, eq=False, repr=False, match_args=False,
        namespace={"__post_init__": become, "__module__": cls.__module__})
    return twin


# --- small parsers ----------------------------------------------------------------------------

def _id(value: Any) -> str | None:
    """Ids are opaque strings (integers in examples, strings in the OpenAPI file)."""
    kind = type(value)
    if kind is str:
        return value or None
    if kind is int:
        return str(value)
    if value is None or value == "" or isinstance(value, bool) or \
            not isinstance(value, str | int | float):
        return None
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        if value.is_integer():
            value = int(value)
    return str(value)


def _str(value: Any) -> str | None:
    """Text fields: strings (numbers shown as text); objects, lists and booleans are dropped."""
    if type(value) is str:
        return value
    if value is None or isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    return str(value)


def _int(value: Any) -> int | None:
    if type(value) is int:
        return value
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        return None


def _float(value: Any) -> float | None:
    if type(value) is float:
        return value
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError):
        return None


_STATUSES: dict[str, str] = {s: s for s in ("pending", "processing", "completed", "failed",
                                             "stopped")}


def _status(value: Any) -> str:
    """A job status, lower-case; ``pending`` when absent (a known status is one shared str)."""
    if type(value) is str and value:
        return _STATUSES.get(value) or value.lower()
    return str(value or "pending").lower()


def _word(value: Any) -> str | None:
    """``_str`` for the short words an answer repeats in every row (layer names and types):
    one shared (interned) string each, not one per row."""
    if type(value) is str:
        return _intern(value) if len(value) <= 40 else value
    return _str(value)


def _dict(value: Any) -> Mapping[str, Any]:
    """``value`` when it is an object, else an empty (shared, read-only) mapping."""
    return value if type(value) is dict or isinstance(value, Mapping) else _EMPTY


def _list(value: Any) -> Sequence[Any]:
    """``value`` when it is an array (not copied), else an empty tuple."""
    return value if type(value) is list or isinstance(value, list | tuple) else ()


def parse_time(iso: Any = None, ms: Any = None) -> _dt.datetime | None:
    """A tz-aware UTC datetime from an ISO-8601 string or epoch milliseconds; None if neither."""
    if type(iso) is str and iso:
        try:                            # the usual "2026-03-01T12:00:00.000Z": one C call
            value: _dt.datetime | None = _fromisoformat(iso)
        except ValueError:
            value = _iso_slow(iso)
        if value is not None:
            tz = value.tzinfo
            if tz is _UTC:
                return value
            if tz is None:
                return value.replace(tzinfo=_UTC)
            return value.astimezone(_UTC)
    elif isinstance(iso, str) and iso.strip():
        value = _iso_slow(iso)
        if value is not None:
            if value.tzinfo is None:
                value = value.replace(tzinfo=_UTC)
            return value.astimezone(_UTC)
    if ms is None:
        return None
    number = _float(ms)
    if number is not None and math.isfinite(number):
        try:
            return _fromtimestamp(number / 1000.0, tz=_UTC)
        except (OverflowError, OSError, ValueError):   # 1e300 or -1e20: not a real time
            return None
    return None


def _iso_slow(iso: str) -> _dt.datetime | None:
    """Surrounding spaces and a ``Z`` in any place ``+00:00`` would go."""
    text = iso.strip().replace("Z", "+00:00")
    try:
        return _fromisoformat(text)
    except ValueError:
        return None


def _times(data: Mapping[str, Any], name: str) -> _dt.datetime | None:
    return parse_time(data.get(name), data.get(name + "_ts"))


def _kind_of_url(url: str) -> MediaKind | None:
    ext = posixpath.splitext(urllib.parse.urlsplit(url).path)[1].lower()
    return _EXT_KINDS.get(ext)


def media_kind(object_type: str | None = None, url: str | None = None,
               content_type: str | None = None) -> MediaKind:
    """Normalised media kind from whichever hint is present (case-insensitive)."""
    if object_type:
        kind = _HINT_KINDS.get(object_type) or _HINT_KINDS.get(object_type.strip().lower())
        if kind is not None:
            return kind
    if content_type:
        kind = _HINT_KINDS.get(content_type.split("/")[0].strip().lower())
        if kind is not None:
            return kind
    if url:
        return _kind_of_url(url) or "other"
    return "other"


def file_name_from_url(url: str | None) -> str | None:
    """The last path segment of a URL, percent-decoded (not yet sanitised for disk)."""
    if not url:
        return None
    name = posixpath.basename(urllib.parse.unquote(urllib.parse.urlsplit(url).path))
    return name or None


def parse_list(model: Any, items: Iterable[Any]) -> list[Any]:
    """``[model.from_api(x) for x in items]`` skipping non-objects."""
    return [model.from_api(x) for x in items if isinstance(x, Mapping)]
