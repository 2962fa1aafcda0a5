"""Pure text for the widgets: sizes, speeds, durations, progress lines, counters, labels.

Nothing here touches a widget, the network or the clock: each function maps values to a string
(or a small tuple), so the widgets only render what these compute (the tqdm way).

Byte counts follow tqdm's convention (``unit_scale=True``, divisor 1000, three significant
digits) so a widget and a console bar (:func:`gen_nb.transfer.progress.make_bar`) read the
same: :func:`format_bytes` is ``tqdm.format_sizeof(n, "B")`` with a space before the unit, and
whole byte counts under 1 kB without decimals (``"512 B"``, not ``"512B"``; ``"5 B"``, not
``"5.00B"``). URLs are shown through :func:`gen_nb.api.redact.redact_url`, the one redactor.

>>> progress_text(5_000_000, 10_000_000, 2_500_000, 2.0)
'5.00 MB / 10.0 MB (50%) · 2.50 MB/s · ETA 0:02'
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from gen_nb.api.errors import APIError, GenError
from gen_nb.api.redact import redact, redact_url
from gen_nb.media import format_bytes

__all__ = [
    "caption_text",
    "counter_text",
    "error_parts",
    "error_text",
    "file_state",
    "form_words",
    "format_bytes",
    "format_duration",
    "format_rate",
    "layer_label",
    "matches_filter",
    "percent",
    "plan_lines",
    "post_state_text",
    "progress_text",
    "render_label",
    "render_lines",
    "resource_id_of",
    "search_text",
    "status_text",
    "tile_of",
    "url_of",
]

def format_rate(bytes_per_second: float | None) -> str:
    """A transfer speed: ``2_500_000 → '2.50 MB/s'``; None, 0 or negative → '– B/s'."""
    if not bytes_per_second or bytes_per_second <= 0 or not math.isfinite(bytes_per_second):
        return "– B/s"
    return f"{format_bytes(bytes_per_second)}/s"


def format_duration(seconds: float | None) -> str:
    """``m:ss`` below an hour, ``h:mm:ss`` above; None or negative → '?'."""
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return "?"
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"


def percent(done: int, total: int | None) -> float:
    """Progress in percent for a bar (0–100); 0 when the total is unknown or zero."""
    if not total or total <= 0:
        return 0.0
    return max(0.0, min(100.0, 100.0 * done / total))


def progress_text(done: int, total: int | None, rate: float | None,
                  eta: float | None) -> str:
    """One line for a transfer in flight: bytes of total (percent), speed, ETA.

    >>> progress_text(1200, None, None, None)
    '1.20 kB · – B/s'
    """
    if total:
        head = f"{format_bytes(done)} / {format_bytes(total)} ({percent(done, total):.0f}%)"
    else:
        head = format_bytes(done)
    parts = [head, format_rate(rate)]
    if total and eta is not None and done < total:
        parts.append(f"ETA {format_duration(eta)}")
    return " · ".join(parts)


def status_text(status: str, elapsed: float | None, detail: str | None = None) -> str:
    """A render's live status: ``'processing · 0:12 elapsed'`` (+ ``' · reason'``)."""
    text = status if elapsed is None else f"{status} · {format_duration(elapsed)} elapsed"
    return f"{text} · {detail}" if detail else text


def counter_text(field: str, length: int,
                 limits: Sequence[tuple[str, int | None]]) -> tuple[str, bool]:
    """A live character counter and whether any limit is exceeded.

    ``limits`` pairs a platform label with its maximum (None = no limit for that platform).

    >>> counter_text("Caption", 300, [("TikTok", 2200), ("X", 280)])
    ('Caption: 300 characters · TikTok 300/2200 · X 300/280 (20 over)', True)
    """
    parts = [f"{field}: {length} characters"]
    over = False
    for label, limit in limits:
        if limit is None:
            continue
        part = f"{label} {length}/{limit}"
        if length > limit:
            over = True
            part += f" ({length - limit} over)"
        parts.append(part)
    return " · ".join(parts), over


def error_text(exc: BaseException, secrets: Iterable[str] = ()) -> str:
    """The message to show for an error: a GenError's own words, else ``Type: message``.

    Never a traceback; API keys and the given secrets (e.g. a signed URL's query) are masked.
    """
    message = str(exc).strip()
    if not isinstance(exc, GenError):
        message = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    for secret in secrets:
        if secret:
            message = message.replace(secret, "…")
    return redact(message or type(exc).__name__)


_ADVICE = re.compile(r"^(Check|Pass|Set|Unset|Use|Try|Click|Wait|Fix|Buy|Add|Free|Pick|Enter|"
                     r"Download|Delete|Call|Run|Refresh|Remove|Look|Shorten|Tick|Select|Give|"
                     r"Ask|Start|Stop|Make|Choose|Open|Sign|Point|Show|Move)\b")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z(])")


def error_parts(exc: BaseException, secrets: Iterable[str] = ()) -> tuple[str, str | None]:
    """(what to do first, the full message or None) for an error shown in a widget.

    An API error leads with its hint, then the object and HTTP status in a few words; the
    full text (error_code, the server's words) goes in the details. Other errors lead with
    their advice sentences when they have some.

    >>> from gen_nb.api.errors import AuthenticationError
    >>> lead, detail = error_parts(AuthenticationError(status=401, subject="engines"))
    >>> lead.startswith("The API key was refused."), "HTTP 401" in lead, "401" in detail
    (True, True, True)
    """
    full = error_text(exc, secrets)
    if isinstance(exc, APIError) and exc.hint:
        what = exc.subject.split(" (", 1)[0]
        lead = f"{_masked(exc.hint, secrets)} ({what} failed with HTTP {exc.status}.)"
        return lead, full
    sentences = _SENTENCE.split(full)
    advice = [sentence for sentence in sentences if _ADVICE.match(sentence)]
    if not advice or len(sentences) < 2:
        return full, None
    status = getattr(exc, "status", None)
    where = f" (HTTP {status}.)" if isinstance(status, int) and status else ""
    return " ".join(advice) + where, full


def _masked(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "…")
    return redact(text)


_FORM_WORDS = (
    ("a title is required (the post's title).", "a title is required: fill in the Title field."),
    ("a media URL is required.", "this needs a render with a video (pick a completed one)."),
)


def form_words(violation: str) -> str:
    """A rule violation in the words of the form (the Title field, not ``title=``).

    >>> form_words("YouTube: a title is required (the post's title).")
    'YouTube: a title is required: fill in the Title field.'
    """
    for code_words, form in _FORM_WORDS:
        violation = violation.replace(code_words, form)
    return violation


def file_state(render: Any, deleted: bool = False) -> str:
    """The render's status as a marketer reads it: ``completed``, ``completed · file deleted``
    (known deleted), ``completed · file deleted or expired`` (GEN lists no file)."""
    status = str(getattr(render, "status", "?"))
    if deleted:
        return f"{status} · file deleted"
    if status == "completed" and not getattr(render, "url", None):
        return f"{status} · file deleted or expired"
    return status


def render_label(render: Any, marks: str = "", deleted: bool = False) -> str:
    """An option label for a render (plain text; the front end shows it as text); ``marks``
    (local state, e.g. "downloaded · published") go before the id.

    >>> from gen_nb.api.models import Render
    >>> render_label(Render(id="7", status="completed", title="Hello", engine_title="Shorts",
    ...                     url="https://cdn/x.mp4"))
    'Hello · Shorts · take 1/1 · completed · #7'
    """
    parts = [getattr(render, "title", None) or "(untitled)"]
    if getattr(render, "engine_title", None) or getattr(render, "engine_id", None):
        parts.append(render.engine_title or f"engine {render.engine_id}")
    parts.append(f"take {getattr(render, 'take', 1)}/{getattr(render, 'takes', 1)}")
    parts.append(file_state(render, deleted))
    if marks:
        parts.append(marks)
    parts.append(f"#{render.id}")
    return " · ".join(parts)


_TONES = {"completed": "ok", "processing": "busy", "pending": "busy", "failed": "bad",
          "stopped": "warn"}


def tile_of(render: Any, marks: str = "", deleted: bool = False) -> dict[str, str]:
    """What a gallery tile shows for a render (plain text and a URL the view checks again):
    id, title, label (the full line, for hover), thumb, state and tone of the badge, the
    placeholder text when there is no thumbnail, and a meta line (engine · take · marks)."""
    from gen_nb.media import safe_url

    status = str(getattr(render, "status", "?"))
    state = file_state(render, deleted)
    thumb = "" if deleted else (safe_url(getattr(render, "thumbnail_url", None)) or "")
    no_file = status == "completed" and (deleted or not getattr(render, "url", None))
    tone = "warn" if no_file else _TONES.get(status, "other")
    placeholder = ("file deleted" if deleted else "no file" if no_file else
                   "rendering…" if status in ("pending", "processing") else
                   f"{status}: no video" if status in ("failed", "stopped") else "no thumbnail")
    engine = getattr(render, "engine_title", None) or (
        f"engine {render.engine_id}" if getattr(render, "engine_id", None) else "")
    meta = " · ".join(part for part in (engine, f"take {getattr(render, 'take', 1)}", marks)
                      if part)
    if no_file:
        state = "file deleted" if deleted else "no file"
    return {"id": str(render.id), "title": getattr(render, "title", None) or "(untitled)",
            "label": render_label(render, marks, deleted), "thumb": thumb, "state": state,
            "tone": tone, "placeholder": placeholder, "meta": meta}


def search_text(render: Any) -> str:
    """What the search box matches: title, id, engine title and id, lower-cased."""
    return " ".join(str(getattr(render, name, "") or "")
                    for name in ("title", "id", "engine_title", "engine_id")).lower()


def render_lines(renders: Sequence[Any], limit: int = 5) -> list[str]:
    """A short listing for text views: ``title · engine · status · #id`` for the first
    ``limit`` renders, then ``… N more``.

    >>> from gen_nb.api.models import Render
    >>> render_lines([Render(id="7", status="completed", title="Hi", engine_title="Shorts")])
    ['Hi · Shorts · completed · #7']
    """
    lines = []
    for render in renders[:limit]:
        engine = getattr(render, "engine_title", None) or (
            f"engine {render.engine_id}" if getattr(render, "engine_id", None) else "–")
        lines.append(f"{render.title or '(untitled)'} · {engine} · {render.status} · #{render.id}")
    if len(renders) > limit:
        lines.append(f"… {len(renders) - limit} more")
    return lines


def layer_label(layer: Any) -> str:
    """An option label for a layer output (plain text).

    >>> from gen_nb.api.models import LayerOutput
    >>> layer_label(LayerOutput("7", "3", "Voiceover", "sound", "audio", 1, "completed",
    ...                         "https://cdn/x.mp3", None, "9"))
    '1. Voiceover · audio · completed'
    """
    position = getattr(layer, "position", None)
    head = f"{position}. " if position is not None else ""
    name = getattr(layer, "name", None) or f"layer {getattr(layer, 'layer_id', '?')}"
    parts = [f"{head}{name}", str(getattr(layer, "kind", None) or "other")]
    status = getattr(layer, "status", None)
    if status:
        parts.append(str(status))
    if not getattr(layer, "url", None):
        parts.append("no output")
    return " · ".join(parts)


def caption_text(item: Any) -> str:
    """A one-line plain-text caption for whatever a Preview shows."""
    if item is None:
        return ""
    if isinstance(item, str):
        return redact_url(item)
    if hasattr(item, "layer_id"):
        return f"Layer of render {item.render_id}: {layer_label(item)}"
    if hasattr(item, "takes"):
        return f"Render {render_label(item)}"
    name = getattr(item, "file_name", None) or getattr(item, "id", None) or type(item).__name__
    return f"File {name}"


def matches_filter(render: Any, *, text: str = "", engine_id: str | None = None,
                   status: str | None = None) -> bool:
    """Whether a render passes the picker's filters (text matches title, id or engine title)."""
    if engine_id and getattr(render, "engine_id", None) != engine_id:
        return False
    if status and getattr(render, "status", None) != status:
        return False
    needle = text.strip().lower()
    return not needle or needle in search_text(render)


def plan_lines(plan: Any) -> list[str]:
    """What a delete plan says will go (or went), one line each, plain text."""
    verb = "Deleted" if getattr(plan, "deleted", False) else "Will permanently delete"
    name = getattr(plan, "file_name", None) or getattr(plan, "url", None) or ""
    head = f"{verb} content resource {plan.resource_id}"
    lines = [f"{head} ({name})" if name else head]
    destroy: Mapping[str, Any] = getattr(plan, "would_destroy", None) or {}
    for key, value in destroy.items():
        if isinstance(value, list | tuple):
            value = ", ".join(str(v) for v in value) or "none"
        lines.append(f"• {str(key).replace('_', ' ')}: {value}")
    lines.extend(f"⚠ {w}" for w in getattr(plan, "warnings", ()) or ())
    return lines


def post_state_text(post: Any) -> str:
    """A post's state in one line: ``'published · tiktok: published'`` (+ errors)."""
    parts = [str(getattr(post, "state", "accepted"))]
    for status in getattr(post, "platforms_status", ()) or ():
        word = status.normalized_status or status.status or "?"
        item = f"{status.platform}: {word}"
        if status.error:
            item += f" ({status.error_code + ': ' if status.error_code else ''}{status.error})"
        parts.append(item)
    return " · ".join(parts)


def resource_id_of(target: Any) -> str | None:
    """The content-resource id behind a Render / LayerOutput / resource / id string."""
    if target is None:
        return None
    if isinstance(target, str | int):
        return str(target)
    for name in ("output_resource_id", "content_resource_id"):
        value = getattr(target, name, None)
        if value:
            return str(value)
    if hasattr(target, "url") and hasattr(target, "id") and not hasattr(target, "status"):
        return str(target.id)  # a ContentResource / OutputResource
    return None


def url_of(item: Any) -> str | None:
    """The media URL behind a URL string / Render / LayerOutput / resource (None if none yet)."""
    return item if isinstance(item, str) else getattr(item, "url", None)
