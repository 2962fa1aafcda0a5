"""What a preview shows, decided without any HTML (used by :mod:`gen_nb.display`).

:func:`preview_of` turns a render, layer output, resource, generation, URL, local path or download
result into a checked :class:`Media`: URLs in it are safe to put in attributes (http(s) only,
a relative URL Jupyter serves, or a ``data:`` URI we built when asked to embed), the rest is
text that the HTML side escapes.
"""

from __future__ import annotations

import base64
import math
import mimetypes
import os
import urllib.parse
from dataclasses import dataclass, replace
from pathlib import Path, PurePath
from typing import Any

from gen_nb.api.errors import UsageError, WrongKindError
from gen_nb.api.models import (
    ContentResource,
    Generation,
    LayerOutput,
    OutputResource,
    Render,
    media_kind,
)

__all__ = ["EMBED_LIMIT", "Media", "blocked", "format_bytes", "local_file_url", "preview_of",
           "safe_url", "short"]

EMBED_LIMIT = 20 * 1024 * 1024
"""Largest local file ``show(..., embed=True)`` inlines as base64 (bytes)."""

_NO_FILE_KINDS = frozenset({"caption", "text", "shape"})
_UNIT_LETTERS = "kMGTPEZYB"


def format_bytes(size: float | None) -> str:
    """A byte count in tqdm's units (``unit_scale=True``, divisor 1000, three significant
    digits) with a space before the unit; whole counts under 1 kB without decimals; None or
    not finite → '?'.

    >>> format_bytes(1_500_000), format_bytes(15_000), format_bytes(512), format_bytes(999_600)
    ('1.50 MB', '15.0 kB', '512 B', '1.00 MB')
    """
    if size is None or not math.isfinite(size):
        return "?"
    if abs(size) < 999.5 and float(size).is_integer():
        return f"{int(size)} B"
    from tqdm.std import tqdm

    text = tqdm.format_sizeof(size, "B")
    number = text.rstrip(_UNIT_LETTERS)
    return f"{number} {text[len(number):]}"


def safe_url(url: Any) -> str | None:
    """``url`` stripped if it is an absolute http(s) URL, else None.

    Refuses other schemes (``javascript:``, ``data:``, ``file:``), relative URLs, and anything
    with control characters or whitespace inside (browsers drop those, which can smuggle a
    scheme). The result still has to be ``html.escape``-d into an attribute.

    >>> safe_url("https://cdn.gen.pro/a.mp4"), safe_url("javascript:alert(1)")
    ('https://cdn.gen.pro/a.mp4', None)
    """
    if not isinstance(url, str):
        return None
    text = url.strip()
    if not text or any(ord(ch) <= 0x20 or ord(ch) == 0x7F for ch in text):
        return None
    try:
        parts = urllib.parse.urlsplit(text)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return text


def local_file_url(path: str | os.PathLike[str], *, cwd: str | os.PathLike[str] | None = None
                   ) -> str:
    """The relative URL under which Jupyter serves ``path`` to a notebook running in ``cwd``.

    ``cwd`` defaults to the kernel's working directory (the notebook's folder). The URL is
    percent-encoded (``downloads/my%20clip.mp4``); JupyterLab / Notebook 7 resolve it against the
    notebook and fetch it through their ``files/`` route. Raises ValueError, with what to do,
    when the file is missing or outside ``cwd``.

    >>> local_file_url("downloads/a b.mp4", cwd=".")          # doctest: +SKIP
    'downloads/a%20b.mp4'
    """
    base = Path(os.path.abspath(cwd if cwd is not None else os.getcwd()))
    target = Path(os.path.abspath(base / path))
    if not target.is_file():
        raise UsageError(f"{target} does not exist (or is not a file), so there is nothing "
                         "to show. Download it first: gen_nb.download(src, 'downloads/').")
    try:
        relative = target.relative_to(base)
    except ValueError:
        raise UsageError(
            f"{target} is outside the notebook's folder {base}; Jupyter only serves files "
            "under the folder the notebook runs in. Download into a folder next to the "
            "notebook (gen_nb.download(src, 'downloads/')), show the URL instead, or pass "
            "embed=True for a small file.") from None
    return urllib.parse.quote(relative.as_posix())


@dataclass(frozen=True)
class Media:
    """Everything a view needs, already checked: URLs here are safe to put in attributes."""

    label: str                      # our words ("Render 56789"); escaped when shown
    title: str | None = None        # from the API
    kind: str = "other"
    src: str | None = None          # http(s) URL, relative local URL or our data: URI
    shown_url: str | None = None    # what the text view prints (never base64)
    thumbnail: str | None = None    # http(s) URL
    status: str | None = None
    reason: str | None = None       # failure reason from the API
    notes: tuple[str, ...] = ()     # our explanations
    warning: str | None = None      # for show() to raise as a UserWarning at the caller
    size: int | None = None         # bytes of a local file
    remote: str | None = None       # the http(s) URL a local file came from (a second way)
    local: bool = False             # src is a path Jupyter serves (relative to the notebook)


def short(value: Any, limit: int = 200) -> str:
    """``str(value)``, cut at ``limit`` characters with an ellipsis."""
    text = str(value)
    return text if len(text) <= limit else text[:limit] + "…"


def _remote(label: str, url: Any, thumbnail: Any = None, kind: str | None = None,
            **fields: Any) -> Media:
    src = safe_url(url)
    notes: tuple[str, ...] = ()
    if url and src is None:
        notes = (f"Refused to show {short(url)!r}: only http(s) URLs are shown.",)
    return Media(label=label, kind=kind or media_kind(None, src), src=src,
                  shown_url=src, thumbnail=safe_url(thumbnail), notes=notes, **fields)


def _from_render(r: Render) -> Media:
    where = f" · take {r.take} of {r.takes}" if r.takes > 1 else ""
    media = _remote(f"Render {r.id}{where}", r.url, r.thumbnail_url, "video", title=r.title,
                    status=r.status, reason=r.failed_reason)
    if r.status in ("pending", "processing"):
        media = replace(media, notes=(*media.notes, "Not finished yet: client.wait("
                                      f"{r.id!r}) waits for it, then show it again."))
    return media


def _from_generation(g: Generation) -> Media:
    video = g.video
    return _remote(f"Generation {g.id}", video.url if video else None,
                   video.thumbnail_url if video else None, video.kind if video else None,
                   status=g.status, reason=g.failed_reason)


def _from_layer(lo: LayerOutput) -> Media:
    media = _remote(f"Layer {lo.layer_id or '?'} ({lo.kind}) of render {lo.render_id}",
                    lo.url, lo.thumbnail_url, lo.kind, title=lo.name, status=lo.status)
    if lo.url is None and (lo.kind in _NO_FILE_KINDS or lo.status in (None, "completed")):
        drawn = (f" (a {lo.kind} layer is drawn into the render)"
                 if lo.kind in _NO_FILE_KINDS else "")
        media = replace(media, notes=(f"No output file for this layer{drawn}.",))
    return media


def _from_path(path: Path, url: str | None, embed: bool, limit: int, label: str) -> Media:
    kind = media_kind(None, "x" + path.suffix)
    if embed:
        return _embedded(path, kind, limit, label)
    remote = safe_url(url)
    try:
        src = local_file_url(path)
    except ValueError as exc:
        fallback = _remote(label, url) if remote else Media(label=label, kind=kind)
        extra = " Playing it from its URL instead." if fallback.src else ""
        return replace(fallback, notes=(*fallback.notes, f"{exc}{extra}"))
    notes: tuple[str, ...] = ()
    if any(part.startswith(".") for part in PurePath(urllib.parse.unquote(src)).parts):
        notes = ("The path has a hidden (dot) folder; Jupyter does not serve hidden files "
                 "unless ContentsManager.allow_hidden is set. Download somewhere visible.",)
    return Media(label=label, kind=kind, src=src, shown_url=urllib.parse.unquote(src),
                 notes=notes, size=_size_of(path), remote=remote, local=True)


def _size_of(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None


def _embedded(path: Path, kind: str, limit: int, label: str) -> Media:
    size = path.stat().st_size if path.is_file() else -1
    if size < 0 or size > limit:
        why = ("it does not exist" if size < 0 else
               f"it has {size:,} bytes, more than the embed limit of {limit:,}")
        message = f"Not embedding {path}: {why}. Show it by path (no embed) or by its URL."
        return Media(label=label, kind=kind, notes=(message,), warning=message)
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return Media(label=label, kind=kind, src=f"data:{mime};base64,{data}",
                 shown_url=f"{path} (embedded, {size:,} bytes)",
                 warning=f"Embedding {size:,} bytes of {path.name} as base64: the notebook grows "
                         "by about a third more than that. Leave embed=False to stream from a "
                         "path.")


def _from_transfer(result: Any, embed: bool, limit: int) -> Media:
    path, url = getattr(result, "path", None), getattr(result, "url", getattr(result, "src", None))
    status = getattr(result, "status", None)
    if path is None:
        error = getattr(result, "error", None)
        return Media(label=f"Transfer of {url}", status=status if isinstance(status, str) else
                      None, reason=error, notes=("No local file (the transfer did not finish).",))
    return _from_path(Path(path), url, embed, limit, f"File {path}")


def _is_url(x: Any) -> bool:
    """A string with a scheme ("C:\\…" is a Windows path); a malformed URL counts as a URL."""
    if not isinstance(x, str):
        return False
    try:
        return len(urllib.parse.urlsplit(x.strip()).scheme) > 1
    except ValueError:
        return True


def preview_of(x: Any, embed: bool = False, limit: int = EMBED_LIMIT) -> Media:
    """Turn anything :func:`show` accepts into a checked :class:`Media` (TypeError otherwise).

    No side effects but reading a local file when ``embed`` is set; a warning for the caller
    travels in ``Media.warning``.
    """
    if isinstance(x, Media):
        return x
    media = _describe(x, embed, limit)
    local = isinstance(x, str | os.PathLike) or hasattr(x, "path")
    if embed and (_is_url(x) or not local):
        media = replace(media, warning="embed=True only applies to local files; showing from "
                                       "the URL.")
    return media


def _describe(x: Any, embed: bool, limit: int) -> Media:
    if isinstance(x, Render):
        return _from_render(x)
    if isinstance(x, LayerOutput):
        return _from_layer(x)
    if isinstance(x, Generation):
        return _from_generation(x)
    if isinstance(x, ContentResource | OutputResource):
        name = getattr(x, "file_name", None) or x.id or ""
        return _remote(f"File {name}", x.url, x.thumbnail_url, x.kind)
    if _is_url(x):
        return _remote(f"URL {short(x)}", x)
    if isinstance(x, str | os.PathLike):
        return _from_path(Path(x), None, embed, limit, f"File {x}")
    if hasattr(x, "path") and hasattr(x, "bytes"):
        return _from_transfer(x, embed, limit)
    raise WrongKindError(f"show() takes a Render, LayerOutput, ContentResource, OutputResource, "
                         f"Generation, URL, path or download result; got {type(x).__name__}.")


def blocked(media: Media) -> bool:
    """A status other than completed means no player (a failed or unfinished render)."""
    return media.status is not None and media.status.lower() not in ("completed", "done",
                                                                        "skipped", "success")
