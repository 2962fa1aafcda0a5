"""Inline previews in Jupyter: a thumbnail, then a player that streams from the URL.

:func:`show` takes a render, a layer output, a content / output resource, a generation, a URL, a
local path or a download result and returns a :class:`MediaView`: rich HTML in a notebook, a
plain-text summary (what it would show, and the URL) in a terminal. Nothing is downloaded and no
bytes are embedded: players use ``preload="none"``, so the browser fetches only when you press
play. ``embed=True`` (local files only) is the one exception, capped at :data:`EMBED_LIMIT`.

Safety: every string from the API is ``html.escape``-d (a render titled
``<img src=x onerror=alert(1)>`` shows as that text) and only http(s) URLs reach a ``src`` or
``href`` (``javascript:`` and friends are refused by :func:`safe_url`).

Local files are shown through the path Jupyter already serves: a URL relative to the kernel's
working directory (the notebook's folder), e.g. ``downloads/clip.mp4``, which JupyterLab and
Notebook 7 resolve against the notebook for outputs. A file outside that folder cannot be
served; the view says so and what to do. Widgets use :class:`gen_nb.widgets.SaveLink`
instead, which builds the link from the page's base URL in the browser (widget HTML is never
rewritten by the front end).

Status messages (:func:`message_html`) wrap, lead with what to do, keep details in a
``<details>`` and use colours measured to reach 4.5:1 (WCAG AA) against JupyterLab's light and
dark backgrounds (:data:`MESSAGE_COLOURS`, :func:`contrast_ratio`).

Helpers for widgets (so no widget builds HTML itself): :func:`safe_url`,
:func:`status_badge_html`, :func:`thumbnail_html`, :func:`player_html`, :func:`media_html`,
:func:`link_html`, :func:`local_file_url`, :func:`file_link_html`, :func:`message_html`.

>>> import gen_nb
>>> client = gen_nb.connect()                              # doctest: +SKIP
>>> gen_nb.show(client.renders(status="completed")[0])     # doctest: +SKIP
"""

from __future__ import annotations

import html
import os
import urllib.parse
import warnings
from pathlib import Path
from typing import Any

from gen_nb.api.models import file_name_from_url
from gen_nb.media import (
    EMBED_LIMIT,
    Media,
    blocked,
    format_bytes,
    local_file_url,
    preview_of,
    safe_url,
    short,
)

__all__ = [
    "DARK_BACKGROUNDS",
    "EMBED_LIMIT",
    "LIGHT_BACKGROUNDS",
    "MESSAGE_COLOURS",
    "MediaView",
    "contrast_ratio",
    "file_link_html",
    "link_html",
    "local_file_url",
    "media_html",
    "message_html",
    "player_html",
    "report_html",
    "safe_url",
    "show",
    "status_badge_html",
    "thumbnail_html",
]

_BADGE_COLOURS = {
    "completed": "#1a7f37", "done": "#1a7f37", "published": "#1a7f37", "success": "#1a7f37",
    "processing": "#0969da", "publishing": "#0969da", "transferring": "#0969da",
    "pending": "#6e7781", "accepted": "#6e7781", "scheduled": "#6e7781", "skipped": "#6e7781",
    "failed": "#cf222e",
    "stopped": "#bc4c00", "cancelled": "#bc4c00",
}


def _esc(value: str) -> str:
    """Escape text and attribute values alike (``&``, ``<``, ``>``, ``"`` and ``'``)."""
    return html.escape(value, quote=True)


# --- messages -----------------------------------------------------------------------------------

MESSAGE_COLOURS: dict[str, tuple[str, str]] = {
    "ok": ("#116329", "#6fdd9b"),
    "bad": ("#a40e26", "#ff9e94"),
    "warn": ("#8a4600", "#ffb454"),
}
"""Text colour per message kind: (light theme, dark theme). JupyterLab Dark's own
``--jp-success-color0`` / ``--jp-error-color0`` reach only ~3.9:1 / ~3.8:1 on its background."""

LIGHT_BACKGROUNDS = ("#ffffff", "#eeeeee")   # Lab light layout-color0/2, VS Code light
DARK_BACKGROUNDS = ("#111111", "#212121", "#1e1e1e")  # Lab dark layout-color0/1, VS Code dark
_DARK_HOSTS = ('body[data-jp-theme-light="false"]', "body.vscode-dark",
               "body.vscode-high-contrast:not(.vscode-high-contrast-light)")


def _luminance(colour: str) -> float:
    value = colour.lstrip("#")
    channels = [int(value[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(foreground: str, background: str) -> float:
    """The WCAG 2 contrast ratio of two ``#rrggbb`` colours (1 to 21).

    >>> round(contrast_ratio("#000000", "#ffffff"))
    21
    """
    high, low = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def _message_style() -> str:
    rules = [".gen-nb-msg{white-space:pre-line;overflow-wrap:anywhere;line-height:1.45;"
             "margin:2px 0;max-width:100%;min-width:0}",
             ".gen-nb-msg summary{cursor:pointer;width:max-content;max-width:100%}",
             ".gen-nb-msg pre{white-space:pre-wrap;overflow-wrap:anywhere;margin:2px 0 0;"
             "font-size:90%}"]
    for kind, (light, dark) in MESSAGE_COLOURS.items():
        rules.append(f".gen-nb-msg-{kind}{{color:{light}}}")
        rules.append(",".join(f"{host} .gen-nb-msg-{kind}" for host in _DARK_HOSTS)
                     + f"{{color:{dark}}}")
    return f"<style>{''.join(rules)}</style>"


_MESSAGE_STYLE = _message_style()


def message_html(text: str, kind: str = "info", detail: str | None = None) -> str:
    """A status message that wraps: ``text`` first, ``detail`` in a collapsed ``<details>``.

    ``kind``: info (the theme's text colour), ok, bad or warn (:data:`MESSAGE_COLOURS`).
    Both strings are escaped; "" when there is nothing to say.

    >>> "&lt;b&gt;" in message_html("<b>", "bad")
    True
    """
    if not text and not detail:
        return ""
    kind = kind if kind in MESSAGE_COLOURS else "info"
    body = _esc(text)
    if detail:
        body += f"<details><summary>Details</summary><pre>{_esc(detail)}</pre></details>"
    role = "alert" if kind == "bad" else "status"
    return (f'{_MESSAGE_STYLE}<div class="gen-nb-msg gen-nb-msg-{kind}" role="{role}">'
            f"{body}</div>")


# --- small public helpers ---------------------------------------------------------------------

def status_badge_html(status: str | None) -> str:
    """A small coloured ``<span>`` for a status (render, post or transfer); "" for None.

    >>> status_badge_html("failed")[:5]
    '<span'
    """
    if status is None or status == "":
        return ""
    key = str(status).lower()
    colour = _BADGE_COLOURS.get(key, "#6e7781")
    slug = key if key in _BADGE_COLOURS else "other"
    return (f'<span class="gen-nb-status gen-nb-status-{slug}" style="display:inline-block;'
            f"padding:0 6px;border-radius:8px;font-size:85%;color:#fff;background:{colour}\">"
            f"{_esc(str(status))}</span>")


def link_html(url: Any, text: str | None = None) -> str:
    """A new-tab link (``rel="noopener noreferrer"``) to an http(s) URL; "" for any other URL.

    ``text`` (escaped) defaults to the URL's file name.

    >>> link_html("javascript:alert(1)")
    ''
    """
    safe = safe_url(url)
    if safe is None:
        return ""
    label = text if text is not None else (file_name_from_url(safe) or safe)
    return (f'<a href="{_esc(safe)}" title="{_esc(safe)}" target="_blank" '
            f'rel="noopener noreferrer">{_esc(short(label))}</a>')


def file_link_html(path: str | os.PathLike[str], *,
                   cwd: str | os.PathLike[str] | None = None) -> str:
    """A link to a local file through :func:`local_file_url`; if Jupyter cannot serve it, the
    reason as text. Relative links resolve in notebook outputs (JupyterLab / Notebook 7)."""
    name = Path(path).name
    try:
        href = local_file_url(path, cwd=cwd)
    except ValueError as exc:
        return f'<span class="gen-nb-note">{_esc(str(exc))}</span>'
    return (f'<a href="{_esc(href)}" target="_blank" rel="noopener noreferrer" '
            f'download="{_esc(name)}">{_esc(name)}</a>')


def report_html(columns: list[str], rows: list[list[Any]], *, limit: int = 200,
                status_column: str = "status") -> str:
    """A small table of what a bulk action did: every cell escaped (None → ""), the status
    column as a badge, at most ``limit`` rows then "… N more".

    >>> "&lt;i&gt;" in report_html(["title"], [["<i>"]])
    True
    """
    head = "".join(f"<th>{_esc(c)}</th>" for c in columns)
    body = []
    for row in rows[:limit]:
        cells = [status_badge_html(str(v)) if c == status_column and v else
                 _esc("" if v is None else str(v)) for c, v in zip(columns, row, strict=True)]
        body.append("<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>")
    if len(rows) > limit:
        body.append(f'<tr><td colspan="{len(columns)}">… {len(rows) - limit:,} more</td></tr>')
    return (f'<table class="gen-nb-report"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table>")


# --- HTML ---------------------------------------------------------------------------------------

def thumbnail_html(x: Any, *, width: int = 160) -> str:
    """A lazy ``<img>`` of ``x``'s thumbnail URL (http(s) only), or "" when there is none.

    >>> thumbnail_html("https://cdn.gen.pro/a.mp4")
    ''
    """
    media = preview_of(x)
    if media.thumbnail is None:
        return ""
    return (f'<img class="gen-nb-thumbnail" loading="lazy" src="{_esc(media.thumbnail)}" '
            f'width="{int(width)}" alt="thumbnail" style="display:block;margin:4px 0">')


def player_html(x: Any, *, width: int = 480) -> str:
    """The player for ``x``: ``<video>``, ``<audio>`` or ``<img>`` streaming from its URL.

    Video: ``controls preload="none" playsinline``, poster = the thumbnail, never autoplay or
    loop. No player (a status badge, the failure reason and notes instead) when the status is
    not completed or there is no file. Raises TypeError for objects :func:`show` does not take.

    >>> 'preload="none"' in player_html("https://cdn.gen.pro/outputs/a.mp4")
    True
    """
    media = preview_of(x)
    if blocked(media) or media.src is None:
        return _notes_html(media)
    src, style = _esc(media.src), f'style="max-width:100%" width="{int(width)}"'
    if media.kind == "audio":
        player = f'<audio controls preload="none" src="{src}"></audio>'
    elif media.kind == "image":
        player = f'<img loading="lazy" src="{src}" {style} alt="">'
    elif media.kind == "video":
        poster = f' poster="{_esc(media.thumbnail)}"' if media.thumbnail else ""
        player = (f'<video controls preload="none" playsinline{poster} src="{src}" {style}>'
                  f"{_link(media)}</video>")
    else:
        player = f"<div>{_link(media)}</div>"
    return f'<div class="gen-nb-player">{player}</div>{_notes_html(media, badge=False)}'


def _link(media: Media) -> str:
    if media.src is None or media.src.startswith("data:"):
        return ""
    return (f'<a href="{_esc(media.src)}" target="_blank" rel="noopener noreferrer">'
            "open the file</a>")


def _notes_html(media: Media, *, badge: bool = True) -> str:
    parts = []
    if badge and blocked(media):
        parts.append(f"<div>{status_badge_html(media.status)}</div>")
    if media.reason and blocked(media):
        parts.append(f'<div class="gen-nb-reason">{_esc(media.reason)}</div>')
    parts.extend(f'<div class="gen-nb-note"><em>{_esc(n)}</em></div>'
                 for n in media.notes)
    return "".join(parts)


def _plays(media: Media) -> bool:
    """Whether the player itself shows the picture (a video's poster, an image)."""
    return not blocked(media) and media.src is not None and media.kind in ("video", "image")


def _save_html(media: Media) -> str:
    """For a local file: a save link (relative: output renderers resolve it) with its size,
    and the URL it came from as a second way."""
    if not media.local or media.src is None:
        return ""
    name = Path(urllib.parse.unquote(media.src)).name
    size = f" ({format_bytes(media.size)})" if media.size is not None else ""
    parts = [f'<a href="{_esc(media.src)}" download="{_esc(name)}" target="_blank" '
             f'rel="noopener noreferrer">Save {_esc(name)}{size} to your computer</a>']
    if media.remote:
        parts.append(f'<a href="{_esc(media.remote)}" target="_blank" '
                     f'rel="noopener noreferrer">or from its URL</a>')
    return f'<div class="gen-nb-save">{" · ".join(parts)}</div>'


def media_html(x: Any, *, width: int = 480, thumb_width: int = 160) -> str:
    """The whole preview :func:`show` renders: heading, then the player (a video's poster is
    its thumbnail, so the thumbnail shows alone only when nothing plays), or the notes; for a
    local file a save link with its size."""
    media = preview_of(x)
    title = f" — {_esc(media.title)}" if media.title else ""
    badge = "" if blocked(media) else f" {status_badge_html(media.status)}"
    thumb = "" if _plays(media) else thumbnail_html(media, width=thumb_width)
    return (f'<div class="gen-nb-show" style="font-family:sans-serif;font-size:13px">'
            f"<div><b>{_esc(media.label)}</b>{title}{badge}</div>"
            f"{thumb}{player_html(media, width=width)}{_save_html(media)}</div>")


def _text_view(media: Media) -> str:
    lines = [media.label + (f" — {media.title}" if media.title else "")
             + (f" [{media.status}]" if media.status else "")]
    if media.reason:
        lines.append(f"  reason: {media.reason}")
    if media.src is not None and not blocked(media):
        lines.append(f"  {media.kind}: {media.shown_url}")
    if media.thumbnail:
        lines.append(f"  thumbnail: {media.thumbnail}")
    if media.local and media.size is not None:
        lines.append(f"  size: {media.size:,} bytes")
    if media.remote:
        lines.append(f"  from: {media.remote}")
    lines.extend(f"  note: {n}" for n in media.notes)
    return "\n".join(lines)


class MediaView:
    """What :func:`show` returns: HTML in a notebook, a text summary in a terminal."""

    def __init__(self, media: Media, *, width: int = 480) -> None:
        self._media = media
        self._width = width

    @property
    def src(self) -> str | None:
        """The URL the player streams from (None when nothing can be played)."""
        return None if blocked(self._media) else self._media.src

    @property
    def notes(self) -> tuple[str, ...]:
        """Explanations shown with the preview (why there is no player, etc.)."""
        return self._media.notes

    def _repr_html_(self) -> str:
        return media_html(self._media, width=self._width)

    def __repr__(self) -> str:
        return _text_view(self._media)


def show(x: Any, *, embed: bool = False, embed_limit: int = EMBED_LIMIT,
         width: int = 480) -> MediaView:
    """Preview ``x`` inline: thumbnail first, then a player streaming from its URL.

    ``x``: Render, LayerOutput, ContentResource, OutputResource, Generation, an http(s) URL, a
    local path or a ``gen_nb.download`` result. A render that is not completed shows its status
    and failure reason, no player; a caption layer says it has no file. Local files play through
    a relative URL when under the notebook's folder (else the view explains). ``embed=True``
    inlines a local file as base64 (up to ``embed_limit`` bytes, with a warning). Returns a
    :class:`MediaView`; in a loop use ``display(gen_nb.show(x))``. Raises TypeError for other
    objects.

    >>> import gen_nb
    >>> client = gen_nb.connect()                              # doctest: +SKIP
    >>> render = client.renders(status="completed")[0]         # doctest: +SKIP
    >>> gen_nb.show(render)                                    # doctest: +SKIP
    >>> gen_nb.show(gen_nb.download(render, "downloads/"))     # doctest: +SKIP
    """
    media = preview_of(x, embed, embed_limit)
    if media.warning:
        warnings.warn(media.warning, UserWarning, stacklevel=2)
    return MediaView(media, width=width)
