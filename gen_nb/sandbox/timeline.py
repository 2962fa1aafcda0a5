"""What the clock has done by now: renders and legacy publish jobs finishing, posts going out.

The sandbox has no ticker thread: ``advance(world)`` is applied lazily (under the world's lock)
before every API answer and snapshot, so the state always matches the clock. Seeded jobs are
frozen (``started is None``) until polled (``renders.wake``); jobs started through the API,
and woken ones, move pending → processing → done.
"""

from __future__ import annotations

import time

from .publish import advance_posts, finish_legacy_job
from .renders import finish_render
from .workspace import UserJob
from .world import World


def advance(world: World) -> None:
    """Apply every state change that the clock says has happened by now."""
    now = time.time()
    for job in list(world.jobs.values()):
        if job.started is not None:
            advance_job(world, job, now)
    advance_posts(world, now)


def advance_job(world: World, job: UserJob, now: float) -> None:
    """Set a running job's status for ``now``: pending for the first 20 %, then processing,
    then finished (a render gets its output; a legacy publish fetches its media)."""
    start = job.started + job.due  # type: ignore[operator]
    if now < start + 0.2 * job.duration:
        job.status = "pending"
    elif now < start + job.duration:
        job.status = "processing"
    else:
        job.started = None
        job.updated_ms = int((start + job.duration) * 1000)
        if job.kind == "publish":
            finish_legacy_job(world, job, start)
        else:
            finish_render(world, job)
