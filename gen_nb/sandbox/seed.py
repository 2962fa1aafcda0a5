"""The seeded, deterministic sandbox world (seed=0 by default).

Three engines, 14 rows. Each row: an ingredient text cell, a ``video`` cell whose
``video_layers`` are Voiceover (sound/audio → MP3), B-roll clips (clip/video → MP4 + JPEG),
Captions (caption/captions, no output) and a Background (image → JPEG/PNG), and a
``final_video`` cell whose ``default_user_job`` is the current take and ``user_jobs`` the
history. Final takes cover every status (completed, failed, stopped, processing, pending),
several rows have multiple takes, one completed render has no thumbnail, one row was never
rendered, and an engine title, a hook and an upload's file name carry
``<img src=x onerror=alert(1)>`` for HTML-escaping tests. There are > 20 video resources.
"""

from __future__ import annotations

import random
from typing import Any

from .blobs import BlobStore
from .renders import RENDER_COST, add_render_output
from .workspace import Cell, Column, Engine, Layer, Row, UserJob
from .world import World

XSS = "<img src=x onerror=alert(1)>"
BASE_MS = 1772366400000  # 2026-03-01T12:00:00Z
HOUR_MS, DAY_MS = 3_600_000, 86_400_000

# (engine id, slug, title, project_type, columns in listing order, rows: list of take plans)
# Columns: (title, type, role, position). A take plan is a list of statuses, oldest first.
ENGINES: list[tuple[int, str, str, str, list[tuple[str, str, str, int]], list[list[str]]]] = [
    (812, "launch-teasers", "Launch teasers", "autocontentengine",
     [("Hook", "text", "ingredient", 0), ("Video", "video", "video", 1),
      ("Final video", "video", "final_video", 2)],
     [["completed"], ["failed", "completed"], ["completed", "completed"], ["processing"],
      ["pending"], ["completed:nothumb"]]),
    (813, "recipe-shorts", "Recipe shorts", "autocontentengine",
     [("Final video", "video", "final_video", 3), ("Hook", "text", "ingredient", 0),
      ("Video", "video", "video", 2), ("Call to action", "text", "ingredient", 1)],
     [["completed"], ["failed"], ["stopped"], ["stopped", "completed"], []]),
    (814, "weekly-tips", f"Weekly tips {XSS}", "vidsheet",
     [("Hook", "text", "ingredient", 0), ("Video", "video", "video", 1),
      ("Final video", "video", "final_video", 2)],
     [["completed"], ["failed", "failed", "completed"], ["completed:cost-string"]]),
]
HOOKS = ["Stop scrolling: 3 tips", "You've been doing this wrong", "The 10-second fix",
         "Nobody tells you this", "Try this tonight", "Before you buy, watch this",
         "One pan, five minutes", "Chef's secret in 15s", "Why your sauce splits",
         "Leftovers, upgraded", "Weekend prep in one video", "Ask me anything: lighting",
         "Your Monday reset", "Three apps I can't live without"]
CTAS = ["Follow for part 2", "Save this for later", "Link in bio", "Comment 'recipe'",
        "Share with a friend"]
FAIL_REASONS = ["Voice generation timed out", "Not enough footage for the requested duration",
                "Stock clip provider returned an error", "Caption alignment failed"]
UPLOADS = [("product-hero.png", "background.png", "image", True),
           ("intro-clip.mp4", "broll_a.mp4", "video", False),
           ("customer-testimonial.mp4", "render_b.mp4", "video", True),
           ("jingle.mp3", "voiceover.mp3", "audio", False),
           ("brand-kit.zip", "brand-kit.zip", "zip", False),
           ("style-lora.safetensors", "style-lora.safetensors", "safe_tensors", False),
           (f"{XSS}.png", "background.png", "image", False)]


class _Builder:
    """Populates a World from the ENGINES table with a seeded RNG."""

    def __init__(self, world: World, seed: int) -> None:
        self.world, self.rng = world, random.Random(seed)
        self.hooks = list(HOOKS)
        self.rng.shuffle(self.hooks)

    def job(self, kind: str, job_type: str, status: str, created_ms: int,
            **fields: Any) -> UserJob:
        """A seeded (clock-frozen) user job, registered in the world."""
        job = UserJob(id=self.world.new_id("job", 56000), kind=kind, user_job_type=job_type,
                  status=status, created_ms=created_ms, updated_ms=created_ms + 90_000,
                  **fields)
        self.world.jobs[job.id] = job
        return job

    def _layer_spec(self, layer: Layer, engine: int) -> tuple[str, str, str | None, str, str]:
        if layer.type in ("sound", "audio"):
            return "vo", "voiceover.mp3", None, "audio", "audio_generation"
        if layer.type == "image":
            sample = "background.png" if engine == 813 else "background.jpg"
            return "bg", sample, None, "image", "image_generation"
        broll = self.rng.choice(["broll_a", "broll_b"])
        return "broll", f"{broll}.mp4", f"{broll}.jpg", "video", "stock_footage"

    def layer_output(self, layer: Layer, engine: int, ms: int, failed: bool = False) -> None:
        prefix, sample, thumb, kind, job_type = self._layer_spec(layer, engine)
        status = "failed" if failed else "completed"
        job = self.job("layer", job_type, status, ms, engine_id=engine, execution_cost=2,
                       failed_reason=self.rng.choice(FAIL_REASONS) if failed else None)
        layer.job_id = job.id
        layer.history.append(job.id)
        if failed:
            return
        folder = "/uploads" if kind == "image" else "/outputs"
        ext = sample.rsplit(".", 1)[1]
        res = self.world.add_resource(
            f"{folder}/{prefix}_{job.id}.{ext}", sample, f"{prefix}_{job.id}.{ext}", kind, ms,
            thumb=thumb, project_id=engine, generator_id=job.id, generator_type=job_type,
            object_type=kind)
        job.resource_ids = [res.id]
        layer.src_resource = res.id

    def layers(self, engine: int, row_index: int, ms: int, failed_row: bool) -> list[Layer]:
        e2 = engine == 813
        specs = [("Voiceover", 2, "audio" if engine != 812 else "sound", 0, 300),
                 ("B-roll 1", 0, "video" if e2 else "clip", 0, 150)]
        if row_index % 2 == 0:
            specs.append(("B-roll 2", 1, "video" if e2 else "clip", 150, 150))
        specs += [("Captions", 3, "captions" if e2 else "caption", 0, 300),
                  ("Background", 4, "image", 0, 300)]
        out = []
        for name, position, kind, start, frames in specs:
            layer = Layer(self.world.new_id("layer", 4000), name, position, kind, start, frames)
            if kind not in ("caption", "captions"):
                if name == "Voiceover" and engine == 812 and row_index == 1:
                    self.layer_output(layer, engine, ms - HOUR_MS)  # an older take
                self.layer_output(layer, engine, ms, failed=failed_row and name == "B-roll 1")
            out.append(layer)
        return out

    def takes(self, cell: Cell, engine: int, plan: list[str], ms: int) -> None:
        for i, entry in enumerate(plan):
            status, _, flag = entry.partition(":")
            created = ms + i * 10 * 60_000
            job = self.job("render", "video", status, created, engine_id=engine,
                           cell_id=cell.id, sample=self.rng.choice(["render_a", "render_b"]))
            if status == "failed":
                job.failed_reason = self.rng.choice(FAIL_REASONS)
            if status == "completed":
                job.execution_cost = "37.5" if flag == "cost-string" else RENDER_COST
                add_render_output(self.world, job, thumbnail=flag != "nothumb")
            if status == "stopped":
                job.execution_cost = 0
            cell.job_id = job.id
            cell.history.append(job.id)
            cell.updated_ms = job.updated_ms

    def engine(self, index: int, spec: tuple[Any, ...]) -> Engine:
        eid, slug, title, ptype, columns, plans = spec
        ms = BASE_MS + index * DAY_MS
        engine = Engine(eid, slug, title, "active", ms, ptype)
        for title_, type_, role, position in columns:
            engine.columns.append(Column(self.world.new_id("column", 1), title_, type_, role,
                                         position))
        ordered = sorted(engine.columns, key=lambda c: c.position)
        for r, plan in enumerate(plans):
            row_ms = ms + r * HOUR_MS
            row = Row(self.world.new_id("row", 501), None if eid == 814 else r)
            for column in ordered:
                cell = Cell(self.world.new_id("cell", 3000), None, column.role, row_ms, row_ms)
                if column.role == "ingredient":
                    cell.value = self._text(column.title, eid, r)
                elif column.role == "video":
                    failed = bool(plan) and plan[-1] == "failed"
                    cell.layers = self.layers(eid, r, row_ms, failed)
                else:
                    self.takes(cell, eid, plan, row_ms + 30 * 60_000)
                row.cells.append(cell)
            engine.rows.append(row)
        return engine

    def _text(self, title: str, eid: int, r: int) -> str:
        if title == "Call to action":
            return self.rng.choice(CTAS)
        if eid == 814 and r == 0:
            return f"Tip of the week {XSS}"
        return self.hooks.pop()

    def uploads(self) -> None:
        """The uploaded files of the UPLOADS table (no generator, some with thumbnails)."""
        for i, (name, sample, kind, thumb) in enumerate(UPLOADS):
            token = f"{self.rng.getrandbits(48):012x}"
            ext = sample.rsplit(".", 1)[1]
            self.world.add_resource(
                f"/uploads/{token}.{ext}", sample, name, kind, BASE_MS - (i + 1) * DAY_MS,
                thumb=sample if thumb and kind == "image"
                else (sample.replace(".mp4", ".jpg") if thumb else None),
                object_type=kind.capitalize() if i % 2 else kind)


def seeded_world(*, seed: int, blobs: BlobStore, cdn_base: str, agent_id: str,
                 render_seconds: float, publish_seconds: float, credits: int) -> World:
    """A new World filled with the deterministic demo workspace for ``seed``."""
    world = World(blobs=blobs, cdn_base=cdn_base, agent_id=agent_id,
                  render_seconds=render_seconds, publish_seconds=publish_seconds,
                  credits=credits)
    builder = _Builder(world, seed)
    builder.uploads()
    for index, spec in enumerate(ENGINES):
        engine = builder.engine(index, spec)
        world.engines[engine.id] = engine
    return world
