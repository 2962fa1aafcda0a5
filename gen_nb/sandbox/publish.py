"""Publishing in the sandbox: platform rules, validation, posts and their lifecycle.

A post's platforms go ``accepted`` → ``publishing`` (at the scheduled time, when the media is
fetched) → ``published`` after ``publish_seconds``; if a media URL is gone at fetch time the
platform ends ``failed`` with ``media_fetch_failed``. ``strict=false`` (the default) skips
platforms whose rules fail (``platforms_skipped``) as long as one platform is valid; otherwise
the request fails with 422 ``platform_validation_failed`` in the ``detail`` envelope.

Nothing is ever posted anywhere: a published platform's ``post_url`` is the sandbox's own page
about it (:data:`POST_PAGE` on the API server, see ``post_page``).
"""

from __future__ import annotations

import copy
import time
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit

from .errors import ApiError
from .workspace import PlatformState, Post, UserJob
from .world import World

PRIVACY = ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY"]
PLATFORMS: list[dict[str, Any]] = [
    {"platform": "tiktok", "label": "TikTok", "text_only": False, "media": ["video", "image"],
     "max_media_items": 1, "max_text": 2200, "max_title": None, "required": ["media_url"],
     "optional": ["tiktok_privacy_level"], "ignored": ["title"],
     "options": {"tiktok_privacy_level": PRIVACY}, "notes": ""},
    {"platform": "instagram", "label": "Instagram", "text_only": False,
     "media": ["video", "image"], "max_media_items": 10, "max_text": 2200, "max_title": None,
     "required": ["media_url"], "optional": ["media_type"], "ignored": ["title"],
     "options": {"media_type": ["REELS", "IMAGE", "VIDEO"]},
     "notes": "Videos are posted as Reels."},
    {"platform": "facebook", "label": "Facebook", "text_only": True, "media": ["video", "image"],
     "max_media_items": 10, "max_text": 63206, "max_title": 255, "required": [],
     "optional": ["title", "media_url"], "ignored": [], "options": {}, "notes": ""},
    {"platform": "youtube", "label": "YouTube", "text_only": False, "media": ["video"],
     "max_media_items": 1, "max_text": 5000, "max_title": 100, "required": ["media_url", "title"],
     "optional": ["youtube_options"], "ignored": [],
     "options": {"youtube_options.visibility": ["public", "unlisted", "private"]}, "notes": ""},
    {"platform": "x", "label": "X", "text_only": True, "media": ["video", "image"],
     "max_media_items": 4, "max_text": 280, "max_title": None, "required": [],
     "optional": ["media_url", "media_type"], "ignored": ["title"],
     "options": {"media_type": ["TWEET_VIDEO", "IMAGE"]}, "notes": ""},
    {"platform": "linkedin", "label": "LinkedIn", "text_only": True, "media": ["video", "image"],
     "max_media_items": 1, "max_text": 3000, "max_title": 400, "required": [],
     "optional": ["title", "media_url", "linkedin_options"], "ignored": [],
     "options": {"linkedin_options.visibility": ["PUBLIC", "CONNECTIONS"]}, "notes": ""},
]
PLATFORM_RULES = {p["platform"]: p for p in PLATFORMS}
MEDIA_TYPES = ("VIDEO", "IMAGE", "REELS", "TWEET_VIDEO")
SCHEDULE_TYPES = ("now", "specific_time", "next_available")
POST_PAGE = "/sandbox/posts/{platform}/{post_id}"  # on the API server: see ``post_page``
RAW_STATUS = {"accepted": "scheduled", "publishing": "processing", "published": "success",
              "failed": "error"}


def invalid(errors: list[dict[str, Any]], status: int = 422) -> ApiError:
    """The publishing 422: ``{"detail": {error, error_code, platform, field, errors}}``."""
    first = errors[0]
    return ApiError(status, first["message"], "platform_validation_failed", detail=True,
                    platform=first.get("platform"), field=first.get("field"), errors=errors)


def problem(platform: str | None, fld: str, error: str, message: str) -> dict[str, Any]:
    """One entry of a 422's ``errors`` list."""
    return {"platform": platform, "field": fld, "error": error, "message": message}


def parse_time(value: Any, fld: str) -> datetime:
    """An aware UTC datetime from ISO text (``Z`` or offset; naive means UTC). 422 if invalid."""
    try:
        stamp = datetime.fromisoformat(str(value).strip().replace(" ", "T", 1))
    except ValueError:
        raise invalid([problem(None, fld, "invalid", f"{fld} must be an ISO-8601 time")]) from None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def media_fetchable(world: World, url: str, at: float | None = None) -> bool:
    """Whether ``url`` is an object on the sandbox CDN (at time ``at``, default now)."""
    parts, cdn = urlsplit(url), urlsplit(world.cdn_base)
    if (parts.scheme, parts.netloc) != (cdn.scheme, cdn.netloc):
        return False
    if world.blobs.get(parts.path) is not None:
        return True
    gone = world.blobs.deleted_at(parts.path)
    return at is not None and gone is not None and gone > at


def check_platform(world: World, name: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    """Rule violations of ``body`` for platform ``name`` (empty list when fine)."""
    rule, errors = PLATFORM_RULES[name], []
    text, title = body.get("description") or "", body.get("title")
    media = media_urls(body)
    if len(text) > rule["max_text"]:
        errors.append(problem(name, "description", "too_long",
                              f"Caption is {len(text)} characters; {rule['label']} allows "
                              f"{rule['max_text']}"))
    if "title" in rule["required"] and not title:
        errors.append(problem(name, "title", "required", f"Title is required for {rule['label']}"))
    if title and rule["max_title"] and len(title) > rule["max_title"]:
        errors.append(problem(name, "title", "too_long", f"Title is {len(title)} characters; "
                              f"{rule['label']} allows {rule['max_title']}"))
    if not media and "media_url" in rule["required"]:
        errors.append(problem(name, "media_url", "required",
                              f"{rule['label']} needs a media_url"))
    if not media and not text and rule["text_only"]:
        errors.append(problem(name, "description", "required", "A text-only post needs a "
                              "description"))
    if len(media) > rule["max_media_items"]:
        errors.append(problem(name, "media_urls", "too_many", f"{rule['label']} takes at most "
                              f"{rule['max_media_items']} media item(s)"))
    for url in media:
        if not media_fetchable(world, url):
            errors.append(problem(name, "media_url", "not_reachable", f"media_url is not a "
                                  f"public URL that can be fetched: {url}"))
    privacy = body.get("tiktok_privacy_level")
    if name == "tiktok" and privacy is not None and privacy not in PRIVACY:
        errors.append(problem(name, "tiktok_privacy_level", "invalid",
                              f"tiktok_privacy_level must be one of {PRIVACY}"))
    return errors


def media_urls(body: dict[str, Any]) -> list[str]:
    """``media_url`` then ``media_urls`` of a request body, without duplicates."""
    urls = list(body.get("media_urls") or [])
    if body.get("media_url"):
        urls.insert(0, body["media_url"])
    return list(dict.fromkeys(urls))


def _request_checks(body: dict[str, Any]) -> tuple[list[str], str]:
    platforms = body.get("platform")
    if not isinstance(platforms, list) or not platforms:
        raise invalid([problem(None, "platform", "invalid", "platform must be a non-empty "
                               "array of " + "|".join(PLATFORM_RULES))])
    unknown = [p for p in platforms if p not in PLATFORM_RULES]
    if unknown:
        raise invalid([problem(str(p), "platform", "invalid", f"Unknown platform {p!r}")
                       for p in unknown])
    schedule_type = body.get("schedule_type") or "next_available"
    if schedule_type not in SCHEDULE_TYPES:
        raise invalid([problem(None, "schedule_type", "invalid",
                               f"schedule_type must be one of {SCHEDULE_TYPES}")])
    if body.get("media_type") and body["media_type"] not in MEDIA_TYPES:
        raise invalid([problem(None, "media_type", "invalid",
                               f"media_type must be one of {MEDIA_TYPES}")])
    return list(dict.fromkeys(platforms)), schedule_type


def scheduled_at(body: dict[str, Any], schedule_type: str, now: float) -> float:
    """When the post goes out; 422 if specific_time lacks a future ``scheduled_time``."""
    if schedule_type != "specific_time":
        return now
    if not body.get("scheduled_time"):
        raise invalid([problem(None, "scheduled_time", "required",
                               "scheduled_time is required when schedule_type is specific_time")])
    when = parse_time(body["scheduled_time"], "scheduled_time").timestamp()
    if when <= now:
        raise invalid([problem(None, "scheduled_time", "in_past",
                               "scheduled_time must be in the future")])
    return when


def create_post(world: World, body: dict[str, Any], tz_minutes: int) -> dict[str, Any]:
    """Validate and store a ``POST /v1/schedule/with-post`` request; returns the 200 body."""
    platforms, schedule_type = _request_checks(body)
    now = time.time()
    when = scheduled_at(body, schedule_type, now)
    problems = {p: check_platform(world, p, body) for p in platforms}
    bad = [e for errs in problems.values() for e in errs]
    good = [p for p in platforms if not problems[p]]
    if bad and (body.get("strict") or not good):
        raise invalid(bad)
    post = Post(world.new_id("post", 48200), str(body.get("agent_id")), good,
                body.get("description") or "", body.get("title"), media_urls(body),
                body.get("thumbnail_url"), schedule_type, when, now, tz_minutes,
                {k: v for k, v in body.items() if k.endswith("_options") or k.endswith("_level")})
    for name in good:
        state = PlatformState(name)
        if body.get("title") and "title" in PLATFORM_RULES[name]["ignored"]:
            state.warning = f"title is ignored by {PLATFORM_RULES[name]['label']}"
        post.states.append(state)
    world.posts[post.id] = post
    skipped = [{"platform": p, "reason": problems[p][0]["message"]} for p in platforms
               if problems[p]]
    return {"message": "Schedule and post created successfully", "post_id": post.id,
            "platforms": good,
            "platforms_status": [_state_json(world, post, s) for s in post.states],
            "platforms_skipped": skipped, "status_url": f"/schedule/post/{post.id}",
            "idempotent_replay": False, "post": _post_brief(post)}


def _local_time(epoch: float, minutes: int) -> str:
    zone = timezone(timedelta(minutes=minutes))
    text = datetime.fromtimestamp(epoch, zone).strftime("%Y-%m-%d %H:%M:%S %z")
    return text[:-2] + ":" + text[-2:]


def _utc(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def post_url(world: World, platform: str, post_id: str) -> str:
    """Where the sandbox shows the post it "published" on ``platform`` (its own page)."""
    return world.site + POST_PAGE.format(platform=platform, post_id=post_id)


def find_published(world: World, platform: str, post_id: str
                   ) -> tuple[Post, PlatformState] | None:
    """The post and platform state published on ``platform`` as ``post_id``, or None."""
    for post in world.posts.values():
        for s in post.states:
            if s.platform == platform and s.state == "published" and s.post_id == post_id:
                return post, s
    return None


def _state_json(world: World, post: Post, s: PlatformState) -> dict[str, Any]:
    url = post_url(world, s.platform, s.post_id or "") if s.state == "published" else None
    return {"platform": s.platform, "status": RAW_STATUS[s.state], "normalized_status": s.state,
            "platform_post_id": s.post_id if s.state == "published" else None,
            "post_url": url, "published_at": _utc(s.published_at), "error": s.error,
            "error_code": s.error_code, "warning": s.warning,
            "platform_options": {k: v for k, v in post.options.items()
                                 if k.startswith(s.platform)},
            "scheduled_time": _local_time(post.scheduled_at, post.tz_minutes)}


def _overall(post: Post) -> str:
    states = {s.state for s in post.states}
    if states == {"published"}:
        return "success"
    if states == {"failed"}:
        return "failed"
    if states <= {"published", "failed"}:
        return "partial"
    return "processing" if "publishing" in states else "scheduled"


def _post_brief(post: Post) -> dict[str, Any]:
    return {"id": post.id, "status": _overall(post), "description": post.description,
            "title": post.title, "media_url": post.media_urls[0] if post.media_urls else None,
            "media_urls": list(post.media_urls), "thumbnail_url": post.thumbnail_url,
            "schedule_type": post.schedule_type, "scheduled_time": _utc(post.scheduled_at),
            "created_at": _utc(post.created), "platforms": [s.platform for s in post.states]}


def post_json(world: World, post: Post) -> dict[str, Any]:
    """``GET /v1/schedule/post/{id}``."""
    return {**_post_brief(post),
            "platforms_status": [_state_json(world, post, s) for s in post.states]}


def advance_posts(world: World, now: float) -> None:
    """Move every post's platforms along the clock (fetching media at the scheduled time)."""
    for post in world.posts.values():
        if now < post.scheduled_at:
            continue
        for index, s in enumerate(post.states):
            if s.state == "accepted":
                if all(media_fetchable(world, u, post.scheduled_at) for u in post.media_urls):
                    s.state = "publishing"
                else:
                    s.state, s.error_code = "failed", "media_fetch_failed"
                    s.error = "Could not fetch media_url (HTTP 404): the file is gone"
            done_at = post.scheduled_at + world.publish_seconds
            if s.state == "publishing" and now >= done_at:
                s.state, s.published_at = "published", done_at
                s.post_id = str(7459234100000 + post.id * 10 + index)


def finish_legacy_job(world: World, job: UserJob, fetched_at: float) -> None:
    """Complete a legacy publish_content job (TikTok) whose publish window has passed."""
    url = job.payload.get("media_url") or ""
    if media_fetchable(world, url, fetched_at):
        job.status, job.result = "completed", {"post_id": str(7459234123456 + job.id)}
    else:
        job.status = "failed"
        job.failed_reason = f"media_fetch_failed: could not fetch media_url {url}"


def copy_body(body: dict[str, Any], replay: bool) -> dict[str, Any]:
    """A deep copy of a with-post answer, marked as an idempotent replay or not."""
    out = copy.deepcopy(body)
    out["idempotent_replay"] = replay
    return out
