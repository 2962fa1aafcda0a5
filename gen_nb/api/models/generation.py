"""Generations (user jobs) and the files they output."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gen_nb.api.models.fields import (
    TERMINAL_STATUSES,
    MediaKind,
    _constructor,
    _dict,
    _float,
    _id,
    _list,
    _status,
    _str,
    _times,
    file_name_from_url,
    media_kind,
)

# --- resources and generations ------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class OutputResource:
    """A stored file a generation produced (``output_resources[]``)."""

    id: str | None
    url: str | None
    thumbnail_url: str | None = None
    object_type: str | None = None
    type: str | None = None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> OutputResource:
        get = data.get
        new = _new_output_resource if cls is OutputResource else cls
        return new(_id(get("id")), _str(get("url")), _str(get("thumbnail_url")) or None,
                   _str(get("object_type")), _str(get("type")))

    @property
    def kind(self) -> MediaKind:
        return media_kind(self.object_type, self.url)

    @property
    def file_name(self) -> str | None:
        return file_name_from_url(self.url)


_new_output_resource = _constructor(OutputResource)


@dataclass(frozen=True, slots=True)
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
        get = data.get
        outputs = get("output_resources")
        cost = get("execution_cost")
        new = _new_generation if cls is Generation else cls
        return new(
            _id(get("id") or get("generation_id")) or "",
            _status(get("status")),
            _str(get("user_job_type")),
            get("result"),
            _str(get("failed_reason")),
            tuple([OutputResource.from_api(_dict(r)) for r in _list(outputs)])
            if outputs else (),
            None if cost is None else _float(cost),
            _times(data, "created_at"),
            _times(data, "updated_at"),
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


_new_generation = _constructor(Generation)
