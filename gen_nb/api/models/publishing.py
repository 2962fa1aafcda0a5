"""Platform rules, posts and legacy publish jobs."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gen_nb.api.models.fields import (
    TERMINAL_STATUSES,
    _dict,
    _id,
    _int,
    _list,
    _str,
    parse_time,
)

# --- publishing ---------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class PlatformRules:
    """What one platform accepts (``GET /schedule/platforms``)."""

    platform: str
    label: str | None = None
    text_only: bool = False
    media: tuple[str, ...] = ()
    max_media_items: int | None = None
    max_text: int | None = None
    max_title: int | None = None
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    ignored: tuple[str, ...] = ()
    options: Mapping[str, Any] = field(default_factory=dict)
    notes: str | None = None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> PlatformRules:
        return cls(
            platform=str(data.get("platform") or "").lower(),
            label=_str(data.get("label")),
            text_only=bool(data.get("text_only")),
            media=tuple(str(m) for m in _list(data.get("media"))),
            max_media_items=_int(data.get("max_media_items")),
            max_text=_int(data.get("max_text")),
            max_title=_int(data.get("max_title")),
            required=tuple(str(m) for m in _list(data.get("required"))),
            optional=tuple(str(m) for m in _list(data.get("optional"))),
            ignored=tuple(str(m) for m in _list(data.get("ignored"))),
            options=dict(_dict(data.get("options"))),
            notes=_str(data.get("notes")),
        )

    def check(self, *, description: str | None = None, title: str | None = None,
              media_url: str | None = None, options: Mapping[str, Any] | None = None) -> list[str]:
        """Human-readable rule violations for a post to this platform (empty when fine)."""
        name = self.label or self.platform
        problems: list[str] = []
        text = description or ""
        if self.max_text is not None and len(text) > self.max_text:
            problems.append(f"{name}: the caption has {len(text)} characters; the limit is "
                            f"{self.max_text}. Shorten it by {len(text) - self.max_text}.")
        if "title" in self.required and not (title or "").strip():
            problems.append(f"{name}: a title is required (the post's title).")
        if title and self.max_title is not None and len(title) > self.max_title:
            problems.append(f"{name}: the title has {len(title)} characters; the limit is "
                            f"{self.max_title}.")
        if "media_url" in self.required and not media_url:
            problems.append(f"{name}: a media URL is required.")
        for key, value in (options or {}).items():
            allowed = self.options.get(key)
            if isinstance(allowed, list) and value not in allowed:
                problems.append(f"{name}: {key}={value!r} is not one of {allowed}.")
        return problems


@dataclass(frozen=True, slots=True)
class PlatformStatus:
    platform: str
    status: str | None = None
    normalized_status: str | None = None
    platform_post_id: str | None = None
    post_url: str | None = None
    published_at: _dt.datetime | None = None
    error: str | None = None
    error_code: str | None = None
    warning: str | None = None
    scheduled_time: str | None = None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> PlatformStatus:
        return cls(
            platform=str(data.get("platform") or ""),
            status=_str(data.get("status")),
            normalized_status=_str(data.get("normalized_status")),
            platform_post_id=_id(data.get("platform_post_id")),
            post_url=_str(data.get("post_url")),
            published_at=parse_time(data.get("published_at")),
            error=_str(data.get("error")),
            error_code=_str(data.get("error_code")),
            warning=_str(data.get("warning")),
            scheduled_time=_str(data.get("scheduled_time")),
        )


@dataclass(frozen=True, slots=True)
class Post:
    """A scheduled / published post and its status per platform."""

    id: str
    status: str | None = None
    platforms: tuple[str, ...] = ()
    platforms_status: tuple[PlatformStatus, ...] = ()
    platforms_skipped: tuple[Mapping[str, Any], ...] = ()
    status_url: str | None = None
    idempotent_replay: bool = False
    description: str | None = None
    media_urls: tuple[str, ...] = ()

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Post:
        """Accepts the create answer (``post_id`` + ``post``) and the poll answer (``id``)."""
        inner = _dict(data.get("post"))
        statuses = tuple(PlatformStatus.from_api(_dict(s))
                         for s in _list(data.get("platforms_status")))
        platforms = tuple(str(p) for p in _list(data.get("platforms"))) or tuple(
            s.platform for s in statuses)
        return cls(
            id=_id(data.get("post_id") or data.get("id") or inner.get("id")) or "",
            status=_str(data.get("status") or inner.get("status")),
            platforms=platforms,
            platforms_status=statuses,
            platforms_skipped=tuple(_dict(s) for s in _list(data.get("platforms_skipped"))),
            status_url=_str(data.get("status_url")),
            idempotent_replay=bool(data.get("idempotent_replay")),
            description=_str(data.get("description") or inner.get("description")),
            media_urls=_media_urls(data, inner),
        )

    @property
    def media_url(self) -> str | None:
        """The first media URL posted (the render's CDN URL), if the answer says it."""
        return self.media_urls[0] if self.media_urls else None

    @property
    def state(self) -> str:
        """One word for the whole post: failed, published, publishing or accepted."""
        states = [(s.normalized_status or s.status or "").lower() for s in self.platforms_status]
        if not states:
            return (self.status or "accepted").lower()
        if any(s == "failed" for s in states):
            return "failed"
        if all(s == "published" for s in states):
            return "published"
        if any(s in ("publishing", "published") for s in states):
            return "publishing"
        return "accepted"

    @property
    def done(self) -> bool:
        return self.state in ("published", "failed")


def _media_urls(data: Mapping[str, Any], inner: Mapping[str, Any]) -> tuple[str, ...]:
    found: list[str] = []
    for source in (data, inner):
        for value in (source.get("media_url"), *_list(source.get("media_urls"))):
            text = _str(value)
            if text and text not in found:
                found.append(text)
    return tuple(found)


@dataclass(frozen=True, slots=True)
class LegacyPublishJob:
    """A legacy ``publish_content`` user job (TikTok only)."""

    id: str
    status: str
    post_id: str | None = None
    failed_reason: str | None = None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> LegacyPublishJob:
        return cls(
            id=_id(data.get("id") or data.get("user_job_id")) or "",
            status=str(data.get("status") or "pending").lower(),
            post_id=_id(_dict(data.get("result")).get("post_id")),
            failed_reason=_str(data.get("failed_reason")),
        )

    @property
    def done(self) -> bool:
        return self.status in TERMINAL_STATUSES
