"""Request bodies and headers of the publishing endpoints, and date windows (pure, no I/O).

:func:`post_body` is the JSON of ``POST /schedule/with-post``, :func:`legacy_body` the legacy
TikTok ``publish_content`` job, :func:`post_headers` the Idempotency-Key and timezone headers,
:func:`post_windows` splits a date range into the ≤ 60-day windows ``GET /schedule/posts``
accepts.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Mapping, Sequence
from typing import Any

from gen_nb.api.errors import UsageError
from gen_nb.api.post_rules import iso_utc, parse_when

__all__ = ["MAX_POST_WINDOW_DAYS", "legacy_body", "post_body", "post_headers", "post_windows",
           "timezone_offset_minutes"]

MAX_POST_WINDOW_DAYS = 60


def timezone_offset_minutes(now: _dt.datetime | None = None) -> int:
    """This machine's UTC offset in minutes east of UTC (e.g. -420 for PDT, 60 for CET)."""
    local = (now or _dt.datetime.now()).astimezone()
    offset = local.utcoffset() or _dt.timedelta(0)
    return int(offset.total_seconds() // 60)


def post_body(
    agent_id: str,
    platforms: Sequence[str],
    *,
    media_url: str | None,
    description: str | None = "",
    title: str | None = None,
    schedule_type: str = "next_available",
    scheduled_time: Any = None,
    media_type: str = "VIDEO",
    thumbnail_url: str | None = None,
    options: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON body of ``POST /schedule/with-post`` (platform options merged at top level)."""
    body: dict[str, Any] = {
        "agent_id": str(agent_id),
        "platform": list(platforms),
        "schedule_type": schedule_type,
        "description": description or "",
        "media_type": media_type.upper(),
        "media_url": media_url,
    }
    moment = parse_when(scheduled_time)
    if moment is not None:
        body["scheduled_time"] = iso_utc(moment)
    if title is not None:
        body["title"] = title
    if thumbnail_url:
        body["thumbnail_url"] = thumbnail_url
    for key, value in (options or {}).items():
        body.setdefault(key, value)
    return body


def post_headers(idempotency_key: str, timezone_offset: int) -> dict[str, str]:
    """``Idempotency-Key`` and ``X-Timezone-Offset`` (minutes east of UTC) for a post."""
    return {"Idempotency-Key": idempotency_key, "X-Timezone-Offset": str(int(timezone_offset))}


def legacy_body(
    media_url: str,
    *,
    description: str | None = "",
    title: str | None = None,
    media_type: str | None = None,
    scheduled_time: Any = None,
    thumbnail_url: str | None = None,
    timezone_offset: int = 0,
) -> dict[str, Any]:
    """The legacy TikTok job: ``{"user_job_type": "publish_content", "data": "<JSON string>"}``."""
    moment = parse_when(scheduled_time)
    data: dict[str, Any] = {
        "platform": "tiktok",
        "media_url": media_url,
        "description": description or "",
        "schedule_type": "scheduled" if moment else "now",
        "timezone_offset": int(timezone_offset),
    }
    optional = {"title": title, "media_type": media_type.upper() if media_type else None,
                "scheduled_time": iso_utc(moment) if moment else None,
                "thumbnail_url": thumbnail_url}
    data.update({k: v for k, v in optional.items() if v})
    return {"user_job_type": "publish_content", "data": json.dumps(data)}


def _as_date(value: _dt.date | _dt.datetime | str) -> _dt.date:
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    return _dt.date.fromisoformat(value.strip()[:10])


def post_windows(start: Any = None, end: Any = None, *, today: _dt.date | None = None,
                 max_days: int = MAX_POST_WINDOW_DAYS) -> list[tuple[_dt.date, _dt.date]]:
    """Split ``[start, end]`` into windows the API accepts (≤ ``max_days`` each).

    Defaults: neither → today ± 30 days; only ``start`` → 60 days from it; only ``end`` → the
    60 days before it. Raises ValueError when ``end`` is before ``start`` or a date is not ISO.
    """
    today = today or _dt.datetime.now(_dt.UTC).date()
    span = _dt.timedelta(days=max_days)
    if start is None and end is None:
        first, last = today - span / 2, today + span / 2
    elif start is None:
        last = _as_date(end)
        first = last - span
    else:
        first = _as_date(start)
        last = _as_date(end) if end is not None else first + span
    if last < first:
        raise UsageError(f"end_date {last} is before start_date {first}: swap them, or give "
                         "only one of the two.")
    windows = []
    while first <= last:
        stop = min(last, first + _dt.timedelta(days=max_days))
        windows.append((first, stop))
        first = stop + _dt.timedelta(days=1)
    return windows
