"""Publishing a render by its URL (current API and the legacy TikTok job): a mixin of Client.

Rules are checked locally first (:func:`gen_nb._builders.post_violations`), so a post that
breaks them raises :class:`PlatformRuleError` before anything is sent. The server's own 422
``platform_validation_failed`` becomes :class:`PlatformValidationError` through the mapper.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from gen_nb import _builders as build
from gen_nb._catalog import items_of
from gen_nb._polling import poll
from gen_nb.errors import NotFoundError, PlatformRuleError, WaitTimeout
from gen_nb.models import LegacyPublishJob, PlatformRules, Post, parse_list

if TYPE_CHECKING:
    from gen_nb.config import Settings

__all__ = ["PublishingMixin"]

log = logging.getLogger("gen_nb")


class PublishingMixin:
    """Platform rules, posts (create, get, wait, list, edit, cancel) and the legacy job."""

    if TYPE_CHECKING:
        settings: Settings
        _platform_rules: list[PlatformRules] | None

        _json: Callable[..., Any]

    # --- rules ----------------------------------------------------------------------------------

    def platforms(self, *, refresh: bool = False) -> list[PlatformRules]:
        """What each platform accepts (``GET /schedule/platforms``), fetched once per client.

        >>> [(p.platform, p.max_text) for p in client.platforms()]   # doctest: +SKIP
        """
        if self._platform_rules is None or refresh:
            data = self._json("GET", "schedule/platforms", subject="the platform rules")
            listed = data.get("platforms") if isinstance(data, dict) else data
            self._platform_rules = parse_list(PlatformRules, listed or [])
        return list(self._platform_rules)

    def _rules(self) -> dict[str, PlatformRules]:
        try:
            server = self.platforms()
        except NotFoundError:
            log.warning("gen_nb: GET /schedule/platforms is missing; checking documented limits")
            server = []
        return build.rules_by_platform(server)

    def check_post(self, platforms: str | Iterable[str], *, description: str | None = "",
                   title: str | None = None, media_url: str | None = None,
                   options: Mapping[str, Any] | None = None) -> list[str]:
        """The platform rules a post would break, one sentence each (empty: fine). Sends nothing
        but the (cached) rules request.

        >>> client.check_post(["x"], description="a" * 300, media_url="https://…")  # doctest: +SKIP
        ['X: the caption has 300 characters; the limit is 280. Shorten it by 20.']
        """
        return build.post_violations(self._rules(), build.normalize_platforms(platforms),
                                     description=description, title=title,
                                     media_url=media_url, options=options)

    # --- posts ----------------------------------------------------------------------------------

    def publish(
        self,
        render_or_url: Any,
        platforms: str | Iterable[str],
        *,
        description: str | None = "",
        title: str | None = None,
        schedule_type: str = "next_available",
        scheduled_time: Any = None,
        media_type: str | None = None,
        thumbnail_url: str | None = None,
        options: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
        timezone_offset: int | None = None,
        check: bool = True,
    ) -> Post:
        """Post a render (or a content resource, output resource or URL) by its URL.

        ``platforms``: names among tiktok, instagram, facebook, youtube, x, linkedin.
        ``schedule_type``: now, specific_time (needs a future ``scheduled_time``) or
        next_available. ``media_type`` defaults to VIDEO (IMAGE for images). ``options`` are
        platform options sent as is (``{"tiktok_privacy_level": "SELF_ONLY"}``). With
        ``check=True`` rule violations raise :class:`PlatformRuleError` before anything is
        sent. Sends an ``Idempotency-Key`` (uuid4 unless given) and ``X-Timezone-Offset``
        (minutes east of UTC, this machine's unless given). Follow it with :meth:`wait_post`.

        >>> post = client.publish(render, ["tiktok"], description="new!")   # doctest: +SKIP
        >>> client.wait_post(post.id).state                                 # doctest: +SKIP
        'published'
        """
        names = build.normalize_platforms(platforms)
        url, _thumb, kind, problems = build.media_of(render_or_url)
        media_type = media_type or ("IMAGE" if kind == "image" else "VIDEO")
        if check:
            problems += build.post_violations(
                self._rules(), names, description=description, title=title, media_url=url,
                media_kind_=kind, options=options, schedule_type=schedule_type,
                scheduled_time=scheduled_time, media_type=media_type)
        if problems and (check or url is None):
            raise PlatformRuleError(problems)
        agent = self.settings.require_agent_id("publishing")
        body = build.post_body(agent, names, media_url=url, description=description, title=title,
                               schedule_type=schedule_type, scheduled_time=scheduled_time,
                               media_type=media_type, thumbnail_url=thumbnail_url,
                               options=options)
        offset = build.timezone_offset_minutes() if timezone_offset is None else timezone_offset
        headers = build.post_headers(idempotency_key or str(uuid.uuid4()), offset)
        data = self._json("POST", "schedule/with-post", json=body, headers=headers,
                          subject=f"publishing {url} to {', '.join(names)}")
        return Post.from_api(data or {})

    def post(self, post_id: str | int) -> Post:
        """A post and its status per platform (``GET /schedule/post/{id}``)."""
        data = self._json("GET", f"schedule/post/{post_id}", subject=f"post {post_id}")
        return Post.from_api(data.get("post", data) if _is_bare_post(data) else data or {})

    def wait_post(self, post_id: str | int, *, timeout: float | None = 300.0,
                  poll_interval: float | None = None,
                  on_update: Callable[[Post], None] | None = None,
                  cancel: threading.Event | None = None) -> Post:
        """Poll a post until every platform is published or one failed; return it.

        A failed post is returned, not raised: look at ``post.state`` and each
        ``platforms_status[i].error``. Raises :class:`WaitTimeout` after ``timeout`` s;
        ``cancel`` stops waiting at once.
        """
        last, outcome = poll(lambda: self.post(post_id), done=lambda p: p.done,
                             status=lambda p: p.state, timeout=timeout,
                             interval=poll_interval, on_update=on_update, cancel=cancel)
        if outcome == "timeout":
            raise WaitTimeout(last, timeout or 0.0, what="Post",
                              advice="It may still go out: check it again later with "
                                     f"client.post({last.id!r}).")
        return last

    def posts(self, start_date: Any = None, end_date: Any = None) -> list[Post]:
        """Posts scheduled in a date window (default: the 30 days either side of today).

        Windows longer than the API's 60 days are read in several requests.
        """
        found: dict[str, Post] = {}
        for first, last in build.post_windows(start_date, end_date):
            data = self._json("GET", "schedule/posts", agent=True,
                              params={"start_date": first.isoformat(),
                                      "end_date": last.isoformat()},
                              subject=f"posts from {first} to {last}")
            for post in parse_list(Post, items_of(data)):
                found.setdefault(post.id, post)
        return list(found.values())

    def cancel_post(self, post_id: str | int) -> Post | None:
        """Cancel a scheduled post (``DELETE /schedule/post/{id}``); the answer's post, if any."""
        data = self._json("DELETE", f"schedule/post/{post_id}",
                          subject=f"cancelling post {post_id}")
        return Post.from_api(data) if isinstance(data, dict) and data else None

    def update_post(self, post_id: str | int, **fields: Any) -> Post:
        """Edit a scheduled post (not a ``now`` post): ``client.update_post(7, description=…)``.

        ``scheduled_time`` may be a datetime (sent as ISO UTC; must be in the future);
        ``platform``/``platforms`` become the ``platform`` array.
        """
        body = dict(fields)
        if "platforms" in body or "platform" in body:
            names = body.pop("platforms", None) or body.pop("platform")
            body.pop("platform", None)
            body["platform"] = build.normalize_platforms(names)
        if body.get("scheduled_time") is not None:
            when = body["scheduled_time"]
            problems = build.schedule_violations("specific_time", when)
            if problems:
                raise PlatformRuleError(problems)
            body["scheduled_time"] = build.iso_utc(build.parse_when(when))  # type: ignore[arg-type]
        data = self._json("PATCH", f"schedule/post/{post_id}", json=body,
                          subject=f"updating post {post_id}")
        return Post.from_api(data or {"id": post_id})

    # --- legacy TikTok job ------------------------------------------------------------------------

    def publish_legacy(
        self,
        render_or_url: Any,
        *,
        description: str | None = "",
        title: str | None = None,
        media_type: str | None = None,
        scheduled_time: Any = None,
        thumbnail_url: str | None = None,
        timezone_offset: int | None = None,
        idempotency_key: str | None = None,
        check: bool = True,
    ) -> LegacyPublishJob:
        """Post to TikTok through the legacy ``publish_content`` user job (still accepted).

        Sends ``{"user_job_type": "publish_content", "data": "<JSON string>"}``; follow it with
        :meth:`legacy_job`. TikTok's rules are checked first, like :meth:`publish`.
        """
        url, _thumb, kind, problems = build.media_of(render_or_url)
        if check:
            problems += build.post_violations(
                self._rules(), ["tiktok"], description=description, title=None, media_url=url,
                media_kind_=kind, media_type=media_type, scheduled_time=scheduled_time,
                schedule_type="specific_time" if scheduled_time is not None else "now")
        if problems and (check or url is None):
            raise PlatformRuleError(problems)
        offset = build.timezone_offset_minutes() if timezone_offset is None else timezone_offset
        body = build.legacy_body(url or "", description=description, title=title,
                                 media_type=media_type, scheduled_time=scheduled_time,
                                 thumbnail_url=thumbnail_url, timezone_offset=offset)
        data = self._json("POST", "user_jobs", agent=True, json=body,
                          headers={"Idempotency-Key": idempotency_key or str(uuid.uuid4())},
                          subject="the legacy TikTok publish job")
        return LegacyPublishJob.from_api(data or {})

    def legacy_job(self, job_id: str | int) -> LegacyPublishJob:
        """The state of a legacy publish job (``GET /user_jobs/{id}?agent_id=``)."""
        data = self._json("GET", f"user_jobs/{job_id}", agent=True,
                          subject=f"legacy publish job {job_id}")
        return LegacyPublishJob.from_api(data or {})


def _is_bare_post(data: Any) -> bool:
    """``{"post": {...}}`` with no status fields of its own."""
    return isinstance(data, dict) and isinstance(data.get("post"), dict) \
        and "platforms_status" not in data and "id" not in data and "post_id" not in data
