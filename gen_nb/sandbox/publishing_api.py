"""Sandbox endpoints of the publishing service (``/v1/schedule/...``), legacy user jobs, and
the sandbox's page for a post it "published" (``/sandbox/posts/...``, what ``post_url`` is)."""

from __future__ import annotations

import hashlib
import json
import time
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from . import wire
from .errors import ApiError
from .post_page import missing_page, post_page
from .publish import (
    PLATFORMS,
    check_platform,
    copy_body,
    create_post,
    find_published,
    invalid,
    media_urls,
    parse_time,
    post_json,
    problem,
)
from .routing import Ctx, Page, Result, Routes, to_id
from .workspace import Post, UserJob

MAX_WINDOW = timedelta(days=60)
routes = Routes()


@routes.route("/v1/schedule/platforms", "GET", public=True)
def platforms(ctx: Ctx) -> Result:
    """``GET /v1/schedule/platforms`` (no auth)."""
    return 200, {"platforms": json.loads(json.dumps(PLATFORMS))}


def _tz_minutes(ctx: Ctx) -> int:
    raw = ctx.request.headers.get("X-Timezone-Offset", "0").strip()
    try:
        return int(float(raw))
    except ValueError:
        return 0


@routes.route("/v1/schedule/with-post", "POST")
def with_post(ctx: Ctx) -> Result:
    """``POST /v1/schedule/with-post``; an Idempotency-Key replay answers the same post."""
    body = ctx.body()
    ctx.agent(body)
    key = ctx.request.headers.get("Idempotency-Key")
    fingerprint = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
    if key and key in ctx.world.idempotency:
        seen, status, answer = ctx.world.idempotency[key]
        if seen != ("post", fingerprint):
            raise invalid([problem(None, "Idempotency-Key", "reused", "Idempotency-Key was "
                                   "already used with a different request body")])
        post = ctx.world.posts.get(answer["post_id"])
        fresh = {**answer, **({"platforms_status": post_json(ctx.world, post)["platforms_status"]}
                              if post else {})}
        return status, copy_body(fresh, replay=True)
    answer = create_post(ctx.world, body, _tz_minutes(ctx))
    if key:
        ctx.world.idempotency[key] = (("post", fingerprint), 200, copy_body(answer, False))
    return 200, answer


@routes.route("/sandbox/posts/<platform>/<post_id>", "GET", public=True)
def sandbox_post_page(ctx: Ctx, platform: str, post_id: str) -> Result:
    """The HTML page a published ``post_url`` points at: a sandbox post, posted nowhere."""
    found = find_published(ctx.world, platform, post_id)
    if found is None:
        return 404, Page(missing_page(platform, post_id))
    return 200, Page(post_page(*found))


def _post(ctx: Ctx, post_id: str) -> Post:
    try:
        return ctx.world.posts[int(post_id)]
    except (ValueError, KeyError):
        raise ApiError(404, f"Post {post_id} not found", "not_found", detail=True) from None


@routes.route("/v1/schedule/post/<post_id>", "GET", "PATCH", "DELETE")
def post(ctx: Ctx, post_id: str) -> Result:
    """GET / PATCH / DELETE ``/v1/schedule/post/{id}``."""
    item = _post(ctx, post_id)
    if ctx.request.method == "DELETE":
        del ctx.world.posts[item.id]
        return 200, {"message": "Post deleted", "post_id": item.id, "deleted": True}
    if ctx.request.method == "PATCH":
        _edit(ctx, item, ctx.body())
    return 200, post_json(ctx.world, item)


def _edit(ctx: Ctx, item: Post, changes: dict[str, Any]) -> None:
    if item.schedule_type == "now":
        raise invalid([problem(None, "schedule_type", "not_editable",
                               "Posts sent with schedule_type 'now' cannot be edited")])
    if any(s.state != "accepted" for s in item.states):
        raise invalid([problem(None, "status", "not_editable",
                               "The post is already publishing or published")])
    merged = {"description": item.description, "title": item.title,
              "media_urls": item.media_urls, **changes}
    if "media_url" in changes:
        merged["media_urls"] = []
    errors = [e for s in item.states for e in check_platform(ctx.world, s.platform, merged)]
    when = item.scheduled_at
    if changes.get("scheduled_time"):
        when = parse_time(changes["scheduled_time"], "scheduled_time").timestamp()
        if when <= time.time():
            errors.append(problem(None, "scheduled_time", "in_past",
                                  "scheduled_time must be in the future"))
    if errors:
        raise invalid(errors)
    item.description, item.title = merged.get("description") or "", merged.get("title")
    item.media_urls, item.scheduled_at = media_urls(merged), when
    if changes.get("scheduled_time"):
        item.schedule_type = "specific_time"
    if "thumbnail_url" in changes:
        item.thumbnail_url = changes["thumbnail_url"]


def _window(ctx: Ctx) -> tuple[datetime, datetime]:
    args, now = ctx.request.args, datetime.now(UTC)
    start = parse_time(args["start_date"], "start_date") if args.get("start_date") \
        else now - timedelta(days=30)
    end = parse_time(args["end_date"], "end_date") if args.get("end_date") \
        else start + timedelta(days=60)
    if args.get("end_date") and "T" not in args["end_date"]:
        end += timedelta(days=1)  # a plain date means the whole day
    if end < start:
        raise invalid([problem(None, "end_date", "invalid", "end_date is before start_date")])
    if end - start > MAX_WINDOW + timedelta(days=1):
        raise invalid([problem(None, "end_date", "window_too_large",
                               "The date window may span at most 60 days")])
    return start, end


@routes.route("/v1/schedule/posts", "GET")
def list_posts(ctx: Ctx) -> Result:
    """``GET /v1/schedule/posts?agent_id=&start_date=&end_date=`` (window ≤ 60 days)."""
    ctx.agent()
    start, end = _window(ctx)
    items = [p for p in ctx.world.posts.values()
             if start.timestamp() <= p.scheduled_at < end.timestamp()]
    items.sort(key=lambda p: p.scheduled_at)
    return 200, {"posts": [post_json(ctx.world, p) for p in items]}


# --- legacy publishing: POST /v1/user_jobs (TikTok only) ---------------------------------
def _legacy_data(body: dict[str, Any]) -> dict[str, Any]:
    if body.get("user_job_type") != "publish_content":
        raise ApiError(422, "user_job_type must be 'publish_content'", "validation_error")
    raw = body.get("data")
    if not isinstance(raw, str):
        raise ApiError(422, "data must be a JSON-encoded string", "validation_error")
    try:
        data = json.loads(raw)
    except ValueError:
        raise ApiError(422, "data is not valid JSON", "validation_error") from None
    if not isinstance(data, dict):
        raise ApiError(422, "data must encode a JSON object", "validation_error")
    if data.get("platform") != "tiktok":
        raise ApiError(422, "The legacy publish_content job supports platform 'tiktok' only",
                       "validation_error")
    if not data.get("media_url"):
        raise ApiError(422, "media_url is required", "validation_error")
    if len(data.get("description") or "") > 2200:
        raise ApiError(422, "description is longer than 2200 characters", "validation_error")
    return data


def _legacy_due(data: dict[str, Any]) -> float:
    kind = data.get("schedule_type", "now")
    if kind not in ("now", "scheduled"):
        raise ApiError(422, "schedule_type must be 'now' or 'scheduled'", "validation_error")
    if kind == "now":
        return 0.0
    if not data.get("scheduled_time"):
        raise ApiError(422, "scheduled_time is required for scheduled posts", "validation_error")
    try:
        when = datetime.fromisoformat(str(data["scheduled_time"]).strip().replace(" ", "T", 1))
    except ValueError:
        raise ApiError(422, "scheduled_time must be an ISO-8601 time",
                       "validation_error") from None
    if when.tzinfo is None:  # local time; timezone_offset = minutes east of UTC
        offset = int(float(data.get("timezone_offset") or 0))
        when = when.replace(tzinfo=timezone(timedelta(minutes=offset)))
    return max(0.0, when.timestamp() - time.time())


@routes.route("/v1/user_jobs", "POST")
def create_user_job(ctx: Ctx) -> Result:
    """``POST /v1/user_jobs?agent_id=`` with ``publish_content`` → 201 {"user_job_id"}."""
    body = ctx.body()
    ctx.agent(body)
    data = _legacy_data(body)
    world = ctx.world
    job = UserJob(id=world.new_id("legacy", 138860), kind="publish",
                  user_job_type="publish_content", status="pending", created_ms=world.now_ms(),
                  started=time.time(), due=_legacy_due(data), duration=world.publish_seconds,
                  payload=data, execution_cost=0)
    job.updated_ms = job.created_ms
    world.jobs[job.id] = job
    return 201, {"user_job_id": job.id}


@routes.route("/v1/user_jobs/<job_id>", "GET")
def user_job(ctx: Ctx, job_id: str) -> Result:
    """``GET /v1/user_jobs/{id}?agent_id=`` (any job: publish or render)."""
    ctx.agent()
    job = ctx.world.job(to_id(job_id, "User job"))
    gen = wire.generation(ctx.world, job)
    keep = ("id", "user_job_type", "status", "result", "failed_reason", "output_resources",
            "created_at", "created_at_ts", "updated_at", "updated_at_ts")
    return 200, {k: gen[k] for k in keep if k in gen}

