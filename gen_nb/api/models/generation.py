"""Generations (user jobs) and the files they output."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gen_nb.api.models.fields import (
    TERMINAL_STATUSES,
    MediaKind,
    _dict,
    _float,
    _id,
    _list,
    _str,
    _times,
    file_name_from_url,
    media_kind,
)

# --- resources and generations ------------------------------------------------------------------

@dataclass(frozen=True)
class OutputResource:
    """A stored file a generation produced (``output_resources[]``)."""

    id: str | None
    url: str | None
    thumbnail_url: str | None = None
    object_type: str | None = None
    type: str | None = None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> OutputResource:
        return cls(
            id=_id(data.get("id")),
            url=_str(data.get("url")),
            thumbnail_url=_str(data.get("thumbnail_url")) or None,
            object_type=_str(data.get("object_type")),
            type=_str(data.get("type")),
        )

    @property
    def kind(self) -> MediaKind:
        return media_kind(self.object_type, self.url)

    @property
    def file_name(self) -> str | None:
        return file_name_from_url(self.url)


@dataclass(frozen=True)
class Generation:
    """A generation ("user job"): a render or any other job, with its outputs."""

    id: str
    status: str
    user_job_type: str | None = None
    result: Any = None
    failed_reason: str | None = None
    output_resources: tuple[OutputResource, ...] = ()
    execution_cost: float | None = None
    created_at: _dt.datetime | None = None
    updated_at: _dt.datetime | None = None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Generation:
        return cls(
            id=_id(data.get("id") or data.get("generation_id")) or "",
            status=str(data.get("status") or "pending").lower(),
            user_job_type=_str(data.get("user_job_type")),
            result=data.get("result"),
            failed_reason=_str(data.get("failed_reason")),
            output_resources=tuple(OutputResource.from_api(_dict(r))
                                   for r in _list(data.get("output_resources"))),
            execution_cost=_float(data.get("execution_cost")),
            created_at=_times(data, "created_at"),
            updated_at=_times(data, "updated_at"),
        )

    @property
    def done(self) -> bool:
        """True once the status is completed, failed or stopped."""
        return self.status in TERMINAL_STATUSES

    @property
    def video(self) -> OutputResource | None:
        """The final MP4 (item 0 of the outputs, preferring a video), or None."""
        for res in self.output_resources:
            if res.kind == "video":
                return res
        return self.output_resources[0] if self.output_resources else None
