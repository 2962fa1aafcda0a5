"""Frozen dataclasses for what the GEN API returns, parsed tolerantly.

Modules: ``generation`` (Generation, OutputResource), ``engine`` (Engine and its rows, Render,
LayerOutput), ``resources`` (ContentResource, RemotionJob, DeletePlan), ``publishing``
(PlatformRules, Post, LegacyPublishJob); everything is importable from ``gen_nb.api.models``.

Models are frozen, slotted dataclasses (no ``__dict__``, no reference cycles, nothing that
points back at the answer they came from). Each model has one ``from_api(data)`` classmethod:
unknown fields are ignored, ids become strings, ``object_type`` is compared case-insensitively,
thumbnails may be null, timestamps may be ISO strings or epoch milliseconds (or absent),
optional objects may be missing. A payload copied from GEN's docs parses without edits.
``renders_from_api(engine_answer)`` gives an engine's renders straight from its JSON (what
listing uses); ``renders_from_engine(Engine.from_api(...))`` gives the same through the full
engine model.

>>> Generation.from_api({"id": 7, "status": "completed", "output_resources": []}).id
'7'
"""

from __future__ import annotations

from gen_nb.api.models.engine import (
    Cell,
    Column,
    Engine,
    Layer,
    LayerOutput,
    Render,
    Row,
    renders_from_api,
    renders_from_engine,
)
from gen_nb.api.models.fields import (
    FPS,
    TERMINAL_STATUSES,
    MediaKind,
    Status,
    file_name_from_url,
    media_kind,
    parse_list,
    parse_time,
)
from gen_nb.api.models.generation import (
    Generation,
    OutputResource,
)
from gen_nb.api.models.publishing import (
    LegacyPublishJob,
    PlatformRules,
    PlatformStatus,
    Post,
)
from gen_nb.api.models.resources import (
    ContentResource,
    DeletePlan,
    GeneratorRef,
    RemotionJob,
)

__all__ = [
    "FPS",
    "TERMINAL_STATUSES",
    "Cell",
    "Column",
    "ContentResource",
    "DeletePlan",
    "Engine",
    "Generation",
    "GeneratorRef",
    "Layer",
    "LayerOutput",
    "LegacyPublishJob",
    "MediaKind",
    "OutputResource",
    "PlatformRules",
    "PlatformStatus",
    "Post",
    "RemotionJob",
    "Render",
    "Row",
    "Status",
    "file_name_from_url",
    "media_kind",
    "parse_list",
    "parse_time",
    "renders_from_api",
    "renders_from_engine",
]
