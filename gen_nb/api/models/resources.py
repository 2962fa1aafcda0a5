"""Content resources, remotion jobs and delete plans."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gen_nb.api.models.fields import (
    MediaKind,
    _dict,
    _id,
    _str,
    _times,
    file_name_from_url,
    media_kind,
)

# --- content resources ------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class GeneratorRef:
    id: str | None
    status: str | None
    type: str | None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> GeneratorRef:
        return cls(_id(data.get("id")), _str(data.get("status")), _str(data.get("type")))


@dataclass(frozen=True, slots=True)
class ContentResource:
    """A stored file (a render, a layer output, an upload)."""

    id: str
    url: str | None
    thumbnail_url: str | None = None
    file_name: str | None = None
    content_type: str | None = None
    generator: GeneratorRef | None = None
    created_at: _dt.datetime | None = None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> ContentResource:
        """Accepts a list item or the ``{"content_resource": …, "generator": …}`` envelope."""
        generator = data.get("generator")
        inner = data.get("content_resource")
        item = _dict(inner) if isinstance(inner, Mapping) else data
        return cls(
            id=_id(item.get("id")) or "",
            url=_str(item.get("url")),
            thumbnail_url=_str(item.get("thumbnail_url")) or None,
            file_name=_str(item.get("file_name")) or file_name_from_url(_str(item.get("url"))),
            content_type=_str(item.get("content_type")),
            generator=GeneratorRef.from_api(generator) if isinstance(generator, Mapping) else None,
            created_at=_times(item, "created_at"),
        )

    @property
    def kind(self) -> MediaKind:
        return media_kind(None, self.url, self.content_type)


@dataclass(frozen=True, slots=True)
class RemotionJob:
    """An item of ``/remotion_jobs``: one render job of an engine."""

    status: str
    created_at: _dt.datetime | None = None
    content_resource_id: str | None = None
    url: str | None = None
    thumbnail_url: str | None = None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> RemotionJob:
        return cls(
            status=str(data.get("status") or "pending").lower(),
            created_at=_times(data, "created_at"),
            content_resource_id=_id(data.get("content_resource_id")),
            url=_str(data.get("url")),
            thumbnail_url=_str(data.get("thumbnail_url")) or None,
        )


@dataclass(frozen=True, slots=True)
class DeletePlan:
    """What a delete would destroy (a dry run), or did destroy (``deleted=True``)."""

    resource_id: str
    url: str | None = None
    file_name: str | None = None
    would_destroy: Mapping[str, Any] = field(default_factory=dict)
    confirm_token: str | None = field(default=None, repr=False)
    deleted: bool = False
    warnings: tuple[str, ...] = ()
