"""Platform rules for posts, checked locally before anything is sent (pure, no I/O).

:func:`post_violations` lists every rule a post breaks, one readable sentence each, from the
server's rules (``GET /schedule/platforms``) completed with the limits GEN documents;
:func:`media_of` says what would be posted for a render, resource or URL. Every rule can be
tested with plain values.
"""

from __future__ import annotations

import datetime as _dt
import urllib.parse
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from gen_nb.api.models import (
    ContentResource,
    Generation,
    LayerOutput,
    OutputResource,
    PlatformRules,
    Render,
    media_kind,
)

__all__ = [
    "MEDIA_TYPES",
    "PLATFORMS",
    "SCHEDULE_TYPES",
    "flatten_options",
    "iso_utc",
    "media_of",
    "normalize_platforms",
    "parse_when",
    "post_violations",
    "rules_by_platform",
    "schedule_violations",
]

PLATFORMS = ("tiktok", "instagram", "facebook", "youtube", "x", "linkedin")
SCHEDULE_TYPES = ("now", "specific_time", "next_available")
MEDIA_TYPES = ("VIDEO", "IMAGE", "REELS", "TWEET_VIDEO")
_ALIASES = {"twitter": "x", "ig": "instagram", "yt": "youtube", "fb": "facebook"}
# Limits documented in gen-api.md, used when GET /schedule/platforms does not list a platform.
_KNOWN: dict[str, dict[str, Any]] = {
    "tiktok": {"label": "TikTok", "max_text": 2200},
    "instagram": {"label": "Instagram", "max_text": 2200},
    "facebook": {"label": "Facebook", "max_text": 63206, "max_title": 255},
    "youtube": {"label": "YouTube", "max_text": 5000, "max_title": 100,
                "required": ("media_url", "title")},
    "x": {"label": "X", "max_text": 280},
    "linkedin": {"label": "LinkedIn", "max_text": 3000, "max_title": 400},
}


def rules_by_platform(server_rules: Iterable[PlatformRules]) -> dict[str, PlatformRules]:
    """The server's rules by platform name, completed with the documented limits."""
    rules = {name: PlatformRules(platform=name, **known) for name, known in _KNOWN.items()}
    rules.update({r.platform: r for r in server_rules if r.platform})
    return rules


def normalize_platforms(platforms: str | Iterable[str]) -> list[str]:
    """``"TikTok"`` or ``["tiktok", "Twitter"]`` → ``["tiktok", "x"]`` (lower-case, no repeats)."""
    items = [platforms] if isinstance(platforms, str) else list(platforms)
    names = (str(p).strip().lower() for p in items)
    return list(dict.fromkeys(_ALIASES.get(n, n) for n in names if n))


def flatten_options(options: Mapping[str, Any] | None) -> dict[str, Any]:
    """``{"youtube_options": {"visibility": "public"}}`` → ``{"youtube_options.visibility": …}``."""
    flat: dict[str, Any] = {}
    for key, value in (options or {}).items():
        if isinstance(value, Mapping):
            for inner, item in flatten_options(value).items():
                flat[f"{key}.{inner}"] = item
        else:
            flat[key] = value
    return flat


def parse_when(value: _dt.datetime | _dt.date | str | None) -> _dt.datetime | None:
    """A tz-aware UTC datetime. Naive datetimes are local time; strings without offset are UTC.

    Raises ValueError for a string that is not ISO-8601.
    """
    if value is None or value == "":
        return None
    if isinstance(value, str):
        parsed = _dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=_dt.UTC)
        return parsed.astimezone(_dt.UTC)
    if not isinstance(value, _dt.datetime):
        value = _dt.datetime.combine(value, _dt.time())
    return value.astimezone(_dt.UTC)  # naive → taken as local time


def iso_utc(value: _dt.datetime) -> str:
    """``2026-09-20T15:00:00Z`` (what the API expects for ``scheduled_time``)."""
    return value.astimezone(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")




def media_of(src: Any) -> tuple[str | None, str | None, str, list[str]]:
    """``(media_url, thumbnail_url, kind, problems)`` of what is to be posted.

    Accepts a :class:`Render`, :class:`ContentResource`, :class:`OutputResource`,
    :class:`LayerOutput`, :class:`Generation` or a URL string.
    """
    problems: list[str] = []
    url: str | None
    thumb: str | None
    if isinstance(src, str):
        url, thumb, kind = src.strip(), None, media_kind(None, src.strip())
    elif isinstance(src, Generation):
        video = src.video
        url, thumb = (video.url, video.thumbnail_url) if video else (None, None)
        kind = video.kind if video else "other"
    elif isinstance(src, Render | ContentResource | OutputResource | LayerOutput):
        url, thumb = src.url, src.thumbnail_url
        kind = src.kind if not isinstance(src, Render) else media_kind(None, src.url)
    else:
        return None, None, "other", [f"cannot post a {type(src).__name__}; pass a render, a "
                                     "content resource, an output resource or a URL."]
    status = getattr(src, "status", None)
    if isinstance(src, Render | Generation) and status != "completed":
        problems.append(f"render {src.id} is {status}, not completed; wait for it "
                        "(client.wait) before posting.")
    if not url:
        problems.append("there is no media URL to post.")
    elif urllib.parse.urlsplit(url).scheme not in ("http", "https") or \
            not urllib.parse.urlsplit(url).hostname:
        problems.append(f"media URL {url!r} is not an http(s) URL the platforms can fetch.")
    return url or None, thumb, kind if kind != "other" else "video", problems


def schedule_violations(schedule_type: str, when: Any,
                        now: _dt.datetime | None = None) -> list[str]:
    """Problems with ``schedule_type`` / ``scheduled_time`` (specific_time needs a future time)."""
    now = now or _dt.datetime.now(_dt.UTC)
    if schedule_type not in SCHEDULE_TYPES:
        return [f"schedule_type={schedule_type!r} is not one of {list(SCHEDULE_TYPES)}."]
    try:
        moment = parse_when(when)
    except (TypeError, ValueError):
        return [f"scheduled_time={when!r} is not an ISO-8601 time or a datetime."]
    if schedule_type != "specific_time":
        if moment is not None:
            return [f"scheduled_time is only used with schedule_type='specific_time' (not "
                    f"{schedule_type!r}); pass schedule_type='specific_time'."]
        return []
    if moment is None:
        return ["schedule_type='specific_time' needs scheduled_time= (a future time)."]
    if moment <= now:
        return [f"scheduled_time {iso_utc(moment)} is in the past; it must be in the future."]
    return []


def post_violations(
    rules: Mapping[str, PlatformRules],
    platforms: Sequence[str],
    *,
    description: str | None = "",
    title: str | None = None,
    media_url: str | None = None,
    media_kind_: str | None = None,
    options: Mapping[str, Any] | None = None,
    schedule_type: str = "next_available",
    scheduled_time: Any = None,
    media_type: str | None = None,
    now: _dt.datetime | None = None,
) -> list[str]:
    """Every rule the post breaks, one readable sentence each (empty list: fine)."""
    problems: list[str] = []
    if not platforms:
        problems.append(f"name at least one platform ({', '.join(PLATFORMS)}).")
    flat = flatten_options(options)
    for name in platforms:
        rule = rules.get(name)
        if rule is None:
            problems.append(f"unknown platform {name!r}; choose from {', '.join(sorted(rules))}.")
            continue
        problems += rule.check(description=description, title=title, media_url=media_url,
                               options=flat)
        if media_kind_ and rule.media and media_kind_ not in {m.lower() for m in rule.media}:
            problems.append(f"{rule.label or name}: takes {', '.join(rule.media)}, not "
                            f"{media_kind_}.")
    if media_type is not None and media_type.upper() not in MEDIA_TYPES:
        problems.append(f"media_type={media_type!r} is not one of {list(MEDIA_TYPES)}.")
    now = now or _dt.datetime.now(_dt.UTC)
    return problems + schedule_violations(schedule_type, scheduled_time, now)










