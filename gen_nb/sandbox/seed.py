"""The seeded, deterministic sandbox world: a demo workspace that reads like a real one.

Three engines (812 Launch teasers, 813 Recipe shorts, 814 Weekly tips), 14 rows. Each row: a
Hook text cell (813 also has a Call to action), a ``video`` cell whose ``video_layers`` are
Voiceover (sound/audio → the engine's voiceover MP3), B-roll clips (clip/video → the engine's
b-roll MP4 + JPEG), Captions (caption/captions, no output) and a Background (image → JPEG/PNG),
and a ``final_video`` cell whose ``default_user_job`` is the current take and ``user_jobs``
the history. A row shows one media card (``samples``): its takes' MP4 and thumbnail, and its
title. Final takes cover every status (completed, failed, stopped, processing, pending),
several rows have multiple takes, one completed render has no thumbnail, one row was never
rendered, and there are > 20 video resources.

Times count back from when the world is built (``seeded_at``, default now): engines made
days ago, takes from days to seconds ago. The pending and processing renders are asleep
until someone polls them (``GET /v1/generations/{id}``, see ``renders.wake``), then finish
within ``render_seconds``: two of each in-flight status, one that completes and one planned
to fail, so watching one still leaves every status in the workspace.

``world="hostile"`` (tests) plants hostile strings on top: an engine title, a hook and an
upload's file name carrying ``<img src=x onerror=alert(1)>``, and a hook with odd unicode
(bidi override, zero-width space, combining accent, emoji) and a NUL byte. The default
``"demo"`` world has none of them.
"""

from __future__ import annotations

import random
import time
from typing import Any

from . import samples
from .blobs import BlobStore
from .renders import RENDER_COST, add_render_output
from .workspace import Cell, Column, Engine, Layer, Row, UserJob
from .world import World

XSS = "<img src=x onerror=alert(1)>"
ODD = "Crispy chickpeas\u00a0\U0001F96B no oil \u202etxet\u202c\u200b cafe\u0301\x00"
WORLDS = ("demo", "hostile")
MINUTE_MS, HOUR_MS, DAY_MS = 60_000, 3_600_000, 86_400_000
UNITS = {"s": 1000, "m": MINUTE_MS, "h": HOUR_MS, "d": DAY_MS}
TAKE_SECONDS = {"completed": 90, "failed": 40, "stopped": 25}  # updated_at after created_at
FRAMES = 90  # a render's length at 30 fps: the 3 s of the committed clips and voiceovers

THREE = [("Hook", "text", "ingredient", 0), ("Video", "video", "video", 1),
         ("Final video", "video", "final_video", 2)]
# (engine id, slug, project_type, age, columns in listing order, rows). A row is (media card,
# or None and its own hook; takes oldest first). A take is "status[:flag]@age", flags:
# nothumb (no thumbnail), cost-string (execution_cost "37.5"), fails (an in-flight render
# planned to fail); ages like 45s, 2m, 26h, 9d before the world was built.
ENGINES: list[tuple[int, str, str, str, list[tuple[str, str, str, int]],
                    list[tuple[str | None, str | None, list[str]]]]] = [
    (812, "launch-teasers", "autocontentengine", "12d", THREE, [
        ("render_aurora_earbuds", None, ["completed@9d"]),
        ("render_drop_friday", None, ["failed@4d", "completed@3d"]),
        ("render_rebuilt_from_scratch", None, ["completed@2d", "processing@75s"]),
        (None, "Aurora vs. last year's model", ["failed@26h", "processing:fails@2m"]),
        (None, "Unboxing Aurora in 30 seconds", ["stopped@20h"]),
        (None, "Launch day countdown", ["failed@6h"])]),
    (813, "recipe-shorts", "autocontentengine", "8d",
     [("Final video", "video", "final_video", 3), ("Hook", "text", "ingredient", 0),
      ("Video", "video", "video", 2), ("Call to action", "text", "ingredient", 1)], [
        ("render_b", None, ["completed@7d"]),
        ("render_banana_pancakes", None, ["completed:nothumb@5d"]),
        ("render_crispy_chickpeas", None, ["stopped@50h", "completed@47h"]),
        ("render_iced_matcha", None, ["pending@20s"]),
        (None, "Sheet-pan gnocchi, 20 minutes", [])]),
    (814, "weekly-tips", "vidsheet", "5d", THREE, [
        ("render_a", None, ["completed@4d", "pending:fails@45s"]),
        ("render_two_minute_rule", None, ["failed@74h", "failed@73h", "completed@70h"]),
        ("render_plan_your_week", None, ["completed:cost-string@25m"])]),
]
CTAS = ["Follow for part 2", "Save this for later", "Link in bio", "Share with a friend"]
FAIL_REASONS = ["Voice generation timed out", "Not enough footage for the requested duration",
                "Stock clip provider returned an error", "Caption alignment failed"]
PLANNED_FAILURE = "Stock clip provider returned an error"  # its row's B-roll 1 failed too
# (file name, sample, kind, has a thumbnail)
UPLOADS = [("sunrise-moodboard.png", "background.png", "image", True),
           ("city-lights-intro.mp4", "broll_a.mp4", "video", False),
           ("reference-one-pan-pasta.mp4", "render_b.mp4", "video", True),
           ("narrator-voice-sample.mp3", "voiceover.mp3", "audio", False),
           ("brand-kit.zip", "brand-kit.zip", "zip", False),
           ("style-lora.safetensors", "style-lora.safetensors", "safe_tensors", False)]
HOSTILE_UPLOADS = [(f"{XSS}.png", "background.png", "image", False)]
# (engine id, row index or None for the engine's title) → the hostile text
HOSTILE_TEXT: dict[tuple[int, int | None], str] = {
    (814, None): f"Weekly tips {XSS}", (814, 0): f"Tip of the week {XSS}", (813, 2): ODD}


def age_ms(text: str) -> int:
    """``"90s"``, ``"40m"``, ``"5h"``, ``"3d"`` → milliseconds."""
    return int(float(text[:-1]) * UNITS[text[-1]])


def parse_take(text: str) -> tuple[str, str, int]:
    """``"completed:nothumb@5d"`` → ("completed", "nothumb", age in ms)."""
    spec, _, age = text.partition("@")
    status, _, flag = spec.partition(":")
    return status, flag, age_ms(age)


def ends_failed(take: str) -> bool:
    """Whether a take is failed, or in flight and planned to fail."""
    status, flag, _ = parse_take(take)
    return status == "failed" or flag == "fails"


class _Builder:
    """Populates a World from the ENGINES table, counting back from ``now_ms``."""

    def __init__(self, world: World, seed: int, now_ms: int, hostile: bool) -> None:
        self.world, self.rng, self.now_ms = world, random.Random(seed), now_ms
        self.text = HOSTILE_TEXT if hostile else {}

    def job(self, kind: str, job_type: str, status: str, created_ms: int,
            **fields: Any) -> UserJob:
        """A seeded (clock-frozen) user job, registered in the world."""
        done = TAKE_SECONDS.get(status, 0) * 1000
        job = UserJob(id=self.world.new_id("job", 56000), kind=kind, user_job_type=job_type,
                      status=status, created_ms=created_ms, updated_ms=created_ms + done,
                      **fields)
        self.world.jobs[job.id] = job
        return job

    # layers ------------------------------------------------------------------------------
    @staticmethod
    def _layer_spec(layer: Layer, style: samples.EngineStyle
                    ) -> tuple[str, str, str | None, str, str]:
        """(path prefix, sample, thumbnail sample, kind, job type) of a layer's output."""
        if layer.type in ("sound", "audio"):
            return "vo", style.voiceover, None, "audio", "audio_generation"
        if layer.type == "image":
            return "bg", style.background, None, "image", "image_generation"
        return "broll", style.broll[0], style.broll[1], "video", "stock_footage"

    def layer_output(self, layer: Layer, engine: Engine, ms: int, failed: bool = False) -> None:
        """A layer's generation (and, unless it failed, its output on the CDN)."""
        prefix, sample, thumb, kind, job_type = self._layer_spec(layer, samples.style(engine.slug))
        job = self.job("layer", job_type, "failed" if failed else "completed", ms,
                       engine_id=engine.id, execution_cost=2,
                       failed_reason=PLANNED_FAILURE if failed else None)
        layer.job_id = job.id
        layer.history.append(job.id)
        if failed:
            return
        folder = "/uploads" if kind == "image" else "/outputs"
        ext = sample.rsplit(".", 1)[1]
        res = self.world.add_resource(
            f"{folder}/{prefix}_{job.id}.{ext}", sample, f"{prefix}_{job.id}.{ext}", kind,
            job.updated_ms, thumb=thumb, project_id=engine.id, generator_id=job.id,
            generator_type=job_type, object_type=kind)
        job.resource_ids = [res.id]
        layer.src_resource = res.id

    def layers(self, engine: Engine, row_index: int, ms: int, failing: bool) -> list[Layer]:
        """The layers of a row's video cell (B-roll 1 failed when the row's render fails)."""
        e2, two = engine.id == 813, row_index % 2 == 0  # even rows cut between two clips
        specs = [("Voiceover", 2, "audio" if engine.id != 812 else "sound", 0, FRAMES),
                 ("B-roll 1", 0, "video" if e2 else "clip", 0, FRAMES // 2 if two else FRAMES)]
        if two:
            specs.append(("B-roll 2", 1, "video" if e2 else "clip", FRAMES // 2, FRAMES // 2))
        specs += [("Captions", 3, "captions" if e2 else "caption", 0, FRAMES),
                  ("Background", 4, "image", 0, FRAMES)]
        out = []
        for name, position, kind, start, frames in specs:
            layer = Layer(self.world.new_id("layer", 4000), name, position, kind, start, frames)
            if kind not in ("caption", "captions"):
                if name == "Voiceover" and engine.id == 812 and row_index == 1:
                    self.layer_output(layer, engine, ms - HOUR_MS)  # an older take
                self.layer_output(layer, engine, ms, failed=failing and name == "B-roll 1")
            out.append(layer)
        return out

    # takes -------------------------------------------------------------------------------
    def take(self, cell: Cell, engine: Engine, entry: str, failing: bool) -> None:
        """One render of a final_video cell, in the status (and with the output) it plans;
        ``failing``: the row's layers failed for it (its reason says so)."""
        status, flag, age = parse_take(entry)
        job = self.job("render", "video", status, self.now_ms - age, engine_id=engine.id,
                       cell_id=cell.id, sample=cell.sample or "render_a")
        if status == "failed":
            job.failed_reason = PLANNED_FAILURE if failing else self.rng.choice(FAIL_REASONS)
        if flag == "fails":
            job.outcome, job.outcome_reason = "failed", PLANNED_FAILURE
        if status == "completed":
            job.execution_cost = "37.5" if flag == "cost-string" else RENDER_COST
            add_render_output(self.world, job, thumbnail=flag != "nothumb")
        if status == "stopped":
            job.execution_cost = 0
        cell.job_id = job.id
        cell.history.append(job.id)
        cell.updated_ms = job.updated_ms

    # engines, rows, cells ----------------------------------------------------------------
    def engine(self, spec: tuple[Any, ...]) -> Engine:
        """An engine of the ENGINES table with its columns and rows."""
        eid, slug, ptype, age, columns, rows = spec
        title = self.text.get((eid, None), samples.style(slug).title)
        engine = Engine(eid, slug, title, "active", self.now_ms - age_ms(age), ptype)
        for title_, type_, role, position in columns:
            engine.columns.append(Column(self.world.new_id("column", 1), title_, type_, role,
                                         position))
        for index, row in enumerate(rows):
            engine.rows.append(self.row(engine, index, *row))
        return engine

    def row(self, engine: Engine, index: int, stem: str | None, hook: str | None,
            takes: list[str]) -> Row:
        """A row: its cells in column-position order, the media card ``stem`` its renders
        show (rows without one render the engine's first card if asked to)."""
        card = samples.card(stem or samples.style(engine.slug).cards[0])
        first = min((parse_take(t)[2] for t in takes), default=3 * HOUR_MS)
        row_ms = self.now_ms - first - 2 * HOUR_MS
        failing = bool(takes) and ends_failed(takes[-1])
        row = Row(self.world.new_id("row", 501), None if engine.id == 814 else index)
        for column in sorted(engine.columns, key=lambda c: c.position):
            cell = Cell(self.world.new_id("cell", 3000), None, column.role, row_ms, row_ms)
            if column.title == "Hook":
                cell.value = self.text.get((engine.id, index), hook or card.title)
            elif column.title == "Call to action":
                cell.value = card.cta if stem else self.rng.choice(CTAS)
            elif column.role == "video":
                cell.layers = self.layers(engine, index, row_ms + 30 * MINUTE_MS, failing)
            else:
                cell.sample = card.stem
                for n, entry in enumerate(takes, start=1):
                    self.take(cell, engine, entry, failing and n == len(takes))
            row.cells.append(cell)
        return row

    def uploads(self, table: list[tuple[str, str, str, bool]]) -> None:
        """Uploaded files (no generator, some with thumbnails), 13 and more days old."""
        for i, (name, sample, kind, thumb) in enumerate(table):
            token = f"{self.rng.getrandbits(48):012x}"
            ext = sample.rsplit(".", 1)[1]
            self.world.add_resource(
                f"/uploads/{token}.{ext}", sample, name, kind, self.now_ms - (13 + i) * DAY_MS,
                thumb=sample if thumb and kind == "image"
                else (sample.replace(".mp4", ".jpg") if thumb else None),
                object_type=kind.capitalize() if i % 2 else kind)


def seeded_world(*, seed: int, blobs: BlobStore, cdn_base: str, agent_id: str,
                 render_seconds: float, publish_seconds: float, credits: int, site: str = "",
                 world: str = "demo", seeded_at: float | None = None) -> World:
    """A new World filled with the deterministic workspace ``world`` ("demo" or "hostile")
    for ``seed``, its times counting back from ``seeded_at`` (epoch seconds; default now).

    ValueError for an unknown ``world``.
    """
    if world not in WORLDS:
        raise ValueError(f"unknown sandbox world {world!r}; the worlds are {', '.join(WORLDS)}")
    built = World(blobs=blobs, cdn_base=cdn_base, agent_id=agent_id, site=site,
                  render_seconds=render_seconds, publish_seconds=publish_seconds,
                  credits=credits)
    now_ms = int((time.time() if seeded_at is None else seeded_at) * 1000)
    builder = _Builder(built, seed, now_ms, hostile=world == "hostile")
    builder.uploads(UPLOADS + (HOSTILE_UPLOADS if world == "hostile" else []))
    for spec in ENGINES:
        engine = builder.engine(spec)
        built.engines[engine.id] = engine
    if world == "hostile":
        built.marks["xss"] = XSS
    return built
