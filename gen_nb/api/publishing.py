"""Publishing a render by its URL: rules, posts (create, get, wait, list, edit, cancel) and the
legacy TikTok job. Functions take the client's :class:`~gen_nb.api.calls.ApiCalls`; the Client
methods with the same names document them for users.

Rules are checked locally first (:func:`gen_nb.api.post_rules.post_violations`), so a post
that breaks them raises :class:`PlatformRuleError` before anything is sent. The server's own
422 ``platform_validation_failed`` becomes :class:`PlatformValidationError` through the mapper.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from gen_nb.api import post_requests, post_rules
from gen_nb.api.calls import ApiCalls
from gen_nb.api.catalog import items_of
from gen_nb.api.errors import NotFoundError, PlatformRuleError, UsageError, WaitTimeout
from gen_nb.api.models import LegacyPublishJob, PlatformRules, Post, parse_list
from gen_nb.api.polling import poll

__all__ = ["PlatformRuleBook", "cancel_post", "check_post", "legacy_job", "post", "posts",
           "publish", "publish_legacy", "update_post", "wait_post"]

log = logging.getLogger("gen_nb")


class PlatformRuleBook:
    """The server's platform rules, fetched once per client (thread-safe), with the
    documented limits filled in for platforms it does not list."""

    def __init__(self, api: ApiCalls) -> None:
        self._api = api
        self._rules: list[PlatformRules] | None = None
        self._lock = threading.Lock()

    def server_rules(self, refresh: bool = False) -> list[PlatformRules]:
        with self._lock:
            if self._rules is None or refresh:
                data = self._api.json("GET", "schedule/platforms", subject="the platform rules")
                listed = data.get("platforms") if isinstance(data, dict) else data
                self._rules = parse_list(PlatformRules, listed if isinstance(listed, list)
                                         else [])
            return list(self._rules)

    def by_platform(self) -> dict[str, PlatformRules]:
        try:
            server = self.server_rules()
        except NotFoundError:
            log.warning("gen_nb: GET /schedule/platforms is missing; checking documented limits")
            server = []
        return post_rules.rules_by_platform(server)


def check_post(book: PlatformRuleBook, platforms: str | Iterable[str], *,
               description: str | None = "", title: str | None = None,
               media_url: str | None = None, options: Mapping[str, Any] | None = None
               ) -> list[str]:
    """The platform rules a post would break, one sentence each (empty: fine)."""
    return post_rules.post_violations(book.by_platform(), post_rules.normalize_platforms(platforms),
                                      description=description, title=title,
                                      media_url=media_url, options=options)


def publish(api: ApiCalls, book: PlatformRuleBook, render_or_url: Any,
            platforms: str | Iterable[str], *, description: str | None = "",
            title: str | None = None, schedule_type: str = "next_available",
            scheduled_time: Any = None, media_type: str | None = None,
            thumbnail_url: str | None = None, options: Mapping[str, Any] | None = None,
            idempotency_key: str | None = None, timezone_offset: int | None = None,
            check: bool = True) -> Post:
    """``POST /schedule/with-post`` after the local rule check (see Client.publish)."""
    names = post_rules.normalize_platforms(platforms)
    url, _thumb, kind, problems = post_rules.media_of(render_or_url)
    media_type = media_type or ("IMAGE" if kind == "image" else "VIDEO")
    if check:
        problems += post_rules.post_violations(
            book.by_platform(), names, description=description, title=title, media_url=url,
            media_kind_=kind, options=options, schedule_type=schedule_type,
            scheduled_time=scheduled_time, media_type=media_type)
    if problems and (check or url is None):
        raise PlatformRuleError(problems)
    agent = api.settings.require_agent_id("publishing")
    body = post_requests.post_body(
        agent, names, media_url=url, description=description, title=title,
        schedule_type=schedule_type, scheduled_time=scheduled_time, media_type=media_type,
        thumbnail_url=thumbnail_url, options=options)
    offset = post_requests.timezone_offset_minutes() if timezone_offset is None \
        else timezone_offset
    headers = post_requests.post_headers(idempotency_key or str(uuid.uuid4()), offset)
    data = api.json("POST", "schedule/with-post", json_body=body, headers=headers,
                    subject=f"publishing {url} to {', '.join(names)}")
    return Post.from_api(_object(data, "the new post"))


def _object(data: Any, what: str) -> Mapping[str, Any]:
    """An answer that must be a JSON object (None for an empty body is fine: {})."""
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        from gen_nb.api.errors import UnexpectedResponseError

        raise UnexpectedResponseError(status=200, subject=what,
                                      server_message=f"expected an object, got "
                                                     f"{type(data).__name__}")
    return data


def post(api: ApiCalls, post_id: str | int) -> Post:
    """``GET /schedule/post/{id}``: a post and its status per platform."""
    data = _object(api.json("GET", api.path("schedule/post/{}", post_id),
                            subject=f"post {post_id}"), f"post {post_id}")
    inner = data.get("post")
    bare = isinstance(inner, Mapping) and not {"platforms_status", "id", "post_id"} & set(data)
    return Post.from_api(inner if bare else data)  # type: ignore[arg-type]


def wait_post(api: ApiCalls, post_id: str | int, *, timeout: float | None,
              poll_interval: float | None, on_update: Callable[[Post], None] | None,
              cancel: threading.Event | None) -> Post:
    """Poll a post until every platform is published or one failed (see Client.wait_post)."""
    last, outcome = poll(lambda: post(api, post_id), done=lambda p: p.done,
                         status=lambda p: p.state, timeout=timeout,
                         interval=poll_interval, on_update=on_update, cancel=cancel)
    if outcome == "timeout":
        raise WaitTimeout(last, timeout or 0.0, what="Post",
                          advice="It may still go out: check it again later with "
                                 f"client.post({last.id!r}).")
    return last


def posts(api: ApiCalls, start_date: Any = None, end_date: Any = None) -> list[Post]:
    """Posts scheduled in a date window, read in ≤ 60-day windows (see Client.posts)."""
    try:
        windows = post_requests.post_windows(start_date, end_date)
    except (TypeError, ValueError) as exc:
        raise UsageError(f"start_date/end_date: {exc} Use dates like '2026-09-01'.") from None
    found: dict[str, Post] = {}
    for first, last in windows:
        data = api.json("GET", "schedule/posts", agent=True,
                        params={"start_date": first.isoformat(), "end_date": last.isoformat()},
                        subject=f"posts from {first} to {last}")
        for item in parse_list(Post, items_of(data)):
            found.setdefault(item.id, item)
    return list(found.values())


def cancel_post(api: ApiCalls, post_id: str | int) -> Post | None:
    """``DELETE /schedule/post/{id}``; the answer's post, if any."""
    data = api.json("DELETE", api.path("schedule/post/{}", post_id),
                    subject=f"cancelling post {post_id}")
    return Post.from_api(data) if isinstance(data, Mapping) and data else None


def update_post(api: ApiCalls, post_id: str | int, fields: Mapping[str, Any]) -> Post:
    """``PATCH /schedule/post/{id}`` (see Client.update_post)."""
    body = dict(fields)
    if "platforms" in body or "platform" in body:
        names = body.pop("platforms", None) or body.pop("platform")
        body.pop("platform", None)
        body["platform"] = post_rules.normalize_platforms(names)
    if body.get("scheduled_time") is not None:
        when = body["scheduled_time"]
        problems = post_rules.schedule_violations("specific_time", when)
        if problems:
            raise PlatformRuleError(problems)
        body["scheduled_time"] = post_rules.iso_utc(post_rules.parse_when(when))  # type: ignore[arg-type]
    data = api.json("PATCH", api.path("schedule/post/{}", post_id), json_body=body,
                    subject=f"updating post {post_id}")
    return Post.from_api(_object(data, f"post {post_id}") or {"id": post_id})


def publish_legacy(api: ApiCalls, book: PlatformRuleBook, render_or_url: Any, *,
                   description: str | None = "", title: str | None = None,
                   media_type: str | None = None, scheduled_time: Any = None,
                   thumbnail_url: str | None = None, timezone_offset: int | None = None,
                   idempotency_key: str | None = None, check: bool = True
                   ) -> LegacyPublishJob:
    """The legacy TikTok ``publish_content`` user job (see Client.publish_legacy)."""
    url, _thumb, kind, problems = post_rules.media_of(render_or_url)
    if check:
        problems += post_rules.post_violations(
            book.by_platform(), ["tiktok"], description=description, title=None,
            media_url=url, media_kind_=kind, media_type=media_type,
            scheduled_time=scheduled_time,
            schedule_type="specific_time" if scheduled_time is not None else "now")
    if problems and (check or url is None):
        raise PlatformRuleError(problems)
    offset = post_requests.timezone_offset_minutes() if timezone_offset is None \
        else timezone_offset
    body = post_requests.legacy_body(url or "", description=description, title=title,
                                     media_type=media_type, scheduled_time=scheduled_time,
                                     thumbnail_url=thumbnail_url, timezone_offset=offset)
    data = api.json("POST", "user_jobs", agent=True, json_body=body,
                    headers={"Idempotency-Key": idempotency_key or str(uuid.uuid4())},
                    subject="the legacy TikTok publish job")
    return LegacyPublishJob.from_api(_object(data, "the legacy publish job"))


def legacy_job(api: ApiCalls, job_id: str | int) -> LegacyPublishJob:
    """``GET /user_jobs/{id}?agent_id=``: the state of a legacy publish job."""
    data = api.json("GET", api.path("user_jobs/{}", job_id), agent=True,
                    subject=f"legacy publish job {job_id}")
    return LegacyPublishJob.from_api(_object(data, f"legacy publish job {job_id}"))
