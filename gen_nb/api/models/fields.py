"""Small tolerant parsers shared by the models: ids, numbers, times, media kinds."""

from __future__ import annotations

import datetime as _dt
import math
import posixpath
import urllib.parse
from collections.abc import Iterable, Mapping
from typing import Any, Literal

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
    if value is None or isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    return str(value)


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError, OverflowError):
        return None


def _float(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError, OverflowError):
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
    if number is not None and math.isfinite(number):
        try:
            return _dt.datetime.fromtimestamp(number / 1000.0, tz=_dt.UTC)
        except (OverflowError, OSError, ValueError):   # 1e300 or -1e20: not a real time
            return None
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



def parse_list(model: Any, items: Iterable[Any]) -> list[Any]:
    """``[model.from_api(x) for x in items]`` skipping non-objects."""
    return [model.from_api(x) for x in items if isinstance(x, Mapping)]
