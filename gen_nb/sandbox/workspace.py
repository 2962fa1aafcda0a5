"""What a GEN workspace holds, as plain records: engines (rows, cells, layers), user jobs,
content resources and scheduled posts. Behaviour lives elsewhere (renders, publish, deletion);
these are the nouns the sandbox's state is made of.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Resource:
    """A content resource (a stored file) and where the CDN serves it."""

    id: int
    path: str
    file_name: str
    content_type: str
    kind: str
    created_ms: int
    thumb_path: str | None = None
    project_id: int | None = None
    generator_id: int | None = None
    generator_type: str | None = None
    object_type: str = "video"
    is_render: bool = False
    deleted: bool = False


@dataclass
class UserJob:
    """A user job / generation: a render, a layer's generation or a legacy publish.

    ``started`` is set while the clock drives it (``due`` seconds of delay, then ``duration``
    seconds of work) and ``outcome`` is how it will end; seeded jobs have ``started=None``
    (a seeded pending or processing render starts when first polled: ``renders.wake``).
    """

    id: int
    kind: str
    user_job_type: str
    status: str
    created_ms: int
    failed_reason: str | None = None
    resource_ids: list[int] = field(default_factory=list)
    execution_cost: int | str | None = None
    result: dict[str, Any] | None = None
    engine_id: int | None = None
    cell_id: int | None = None
    started: float | None = None
    due: float = 0.0
    duration: float = 0.0
    outcome: str = "completed"
    outcome_reason: str | None = None
    sample: str = "render_a"
    payload: dict[str, Any] = field(default_factory=dict)
    updated_ms: int = 0


@dataclass
class Layer:
    """A video layer of a ``video`` cell (voiceover, b-roll, captions, background)."""

    id: int
    name: str
    position: int
    type: str
    start_frame: int
    frames: int
    job_id: int | None = None
    history: list[int] = field(default_factory=list)
    src_resource: int | None = None


@dataclass
class Cell:
    """A spreadsheet cell: ingredient text, a video cell with layers, or a final_video cell.

    ``sample`` (final_video cells) is the stem of the media card its renders show.
    """

    id: int
    value: str | None
    role: str
    created_ms: int
    updated_ms: int
    layers: list[Layer] = field(default_factory=list)
    job_id: int | None = None
    history: list[int] = field(default_factory=list)
    sample: str | None = None


@dataclass
class Column:
    """A spreadsheet column; ``role`` is ingredient, video or final_video."""

    id: int
    title: str
    type: str
    role: str
    position: int


@dataclass
class Row:
    """A spreadsheet row: one cell per column, in column-position order."""

    id: int
    position: int | None
    cells: list[Cell] = field(default_factory=list)


@dataclass
class Engine:
    """An engine (project): a spreadsheet whose rows each produce one final video."""

    id: int
    slug: str
    title: str
    status: str
    created_ms: int
    project_type: str = "autocontentengine"
    columns: list[Column] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)


@dataclass
class PlatformState:
    """Where one platform of a post stands: accepted → publishing → published | failed."""

    platform: str
    state: str = "accepted"
    error: str | None = None
    error_code: str | None = None
    post_id: str | None = None
    published_at: float | None = None
    warning: str | None = None


@dataclass
class Post:
    """A scheduled post of the publishing service (times are epoch seconds)."""

    id: int
    agent_id: str
    platforms: list[str]
    description: str
    title: str | None
    media_urls: list[str]
    thumbnail_url: str | None
    schedule_type: str
    scheduled_at: float
    created: float
    tz_minutes: int
    options: dict[str, Any] = field(default_factory=dict)
    states: list[PlatformState] = field(default_factory=list)
