"""The sandbox's publishing service (/v1/schedule/...) and the legacy publish user job."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from gen_nb import sandbox

LIMITS = {"tiktok": (2200, None), "instagram": (2200, None), "facebook": (63206, 255),
          "youtube": (5000, 100), "x": (280, None), "linkedin": (3000, 400)}


@pytest.fixture(scope="module")
def sb() -> Iterator[sandbox.Sandbox]:
    with sandbox.start(render_seconds=0.5, publish_seconds=1.0) as handle:
        yield handle


@pytest.fixture()
def media(sb: sandbox.Sandbox) -> str:
    data = sb.seed_data
    return data["generations"][data["renders_by_status"]["completed"][0]][
        "output_resources"][0]["url"]


def call(sb: sandbox.Sandbox, method: str, path: str, headers=None, **kw: Any):
    return requests.request(method, sb.api_base + path, timeout=10,
                            headers={"X-API-Key": sb.api_key, **(headers or {})}, **kw)


def publish(sb: sandbox.Sandbox, headers=None, **body: Any):
    return call(sb, "POST", "/schedule/with-post", headers=headers,
                json={"agent_id": sb.agent_id, **body})


def wait_post(sb: sandbox.Sandbox, post_id: int, until: set[str], timeout: float = 10):
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = call(sb, "GET", f"/schedule/post/{post_id}").json()
        state = body["platforms_status"][0]["normalized_status"]
        if not seen or seen[-1] != state:
            seen.append(state)
        if state in until:
            return seen, body
        time.sleep(0.05)
    raise AssertionError(f"post {post_id} stuck: {seen}")


def future(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat()


def test_platforms_need_no_auth_and_list_the_limits(sb: sandbox.Sandbox) -> None:
    resp = requests.get(sb.api_base + "/schedule/platforms", timeout=10)
    assert resp.status_code == 200
    rules = {p["platform"]: p for p in resp.json()["platforms"]}
    assert set(rules) == set(LIMITS)
    for name, (max_text, max_title) in LIMITS.items():
        assert (rules[name]["max_text"], rules[name]["max_title"]) == (max_text, max_title)
    assert "title" in rules["youtube"]["required"]


@pytest.mark.parametrize(("body", "platform", "field"), [
    ({"platform": ["youtube"]}, "youtube", "title"),
    ({"platform": ["youtube"], "title": "t" * 101}, "youtube", "title"),
    ({"platform": ["facebook"], "title": "t" * 256}, "facebook", "title"),
    ({"platform": ["linkedin"], "title": "t" * 401}, "linkedin", "title"),
    ({"platform": ["x"], "description": "d" * 281}, "x", "description"),
    ({"platform": ["tiktok"], "description": "d" * 2201}, "tiktok", "description"),
    ({"platform": ["tiktok"], "media_url": None}, "tiktok", "media_url"),
    ({"platform": ["tiktok"], "media_url": "https://example.com/a.mp4"}, "tiktok", "media_url"),
    ({"platform": ["tiktok"], "tiktok_privacy_level": "EVERYONE"}, "tiktok",
     "tiktok_privacy_level"),
    ({"platform": "tiktok"}, None, "platform"),
    ({"platform": ["myspace"]}, "myspace", "platform"),
    ({"platform": ["tiktok"], "schedule_type": "later"}, None, "schedule_type"),
    ({"platform": ["tiktok"], "schedule_type": "specific_time"}, None, "scheduled_time"),
    ({"platform": ["tiktok"], "schedule_type": "specific_time",
      "scheduled_time": "2020-01-01T00:00:00Z"}, None, "scheduled_time"),
])
def test_validation_422_in_detail_envelope(sb: sandbox.Sandbox, media: str, body: dict,
                                           platform, field: str) -> None:
    resp = publish(sb, **{"media_url": media, "description": "hi", **body})
    assert resp.status_code == 422
    detail = resp.json()["detail"]
    assert detail["error_code"] == "platform_validation_failed" and detail["error"]
    assert (detail["platform"], detail["field"]) == (platform, field)
    assert detail["errors"][0]["field"] == field


def test_media_of_a_deleted_resource_is_rejected(sb: sandbox.Sandbox) -> None:
    assert publish(sb, platform=["tiktok"], media_url=sb.cdn_base + "/outputs/gone.mp4"
                   ).status_code == 422


def test_strict_vs_skip(sb: sandbox.Sandbox, media: str) -> None:
    lenient = publish(sb, platform=["tiktok", "youtube"], media_url=media, description="hi")
    assert lenient.status_code == 200
    assert lenient.json()["platforms"] == ["tiktok"]
    assert lenient.json()["platforms_skipped"][0]["platform"] == "youtube"
    strict = publish(sb, platform=["tiktok", "youtube"], media_url=media, strict=True)
    assert strict.status_code == 422


def test_publish_progression(sb: sandbox.Sandbox, media: str) -> None:
    resp = publish(sb, platform=["youtube", "tiktok"], media_url=media, title="Launch",
                   description="caption #tags", schedule_type="now")
    assert resp.status_code == 200
    body = resp.json()
    assert body["idempotent_replay"] is False and body["status_url"].endswith(
        str(body["post_id"]))
    assert [s["normalized_status"] for s in body["platforms_status"]] == ["accepted"] * 2
    assert body["platforms_status"][1]["warning"]  # tiktok ignores the title
    seen, post = wait_post(sb, body["post_id"], {"published"})
    assert seen[-1] == "published" and "publishing" in seen
    state = post["platforms_status"][0]
    assert state["post_url"].startswith(f"{sb.url}/sandbox/posts/youtube/")
    assert state["published_at"]
    assert post["status"] in ("success", "processing")


def test_post_url_is_a_sandbox_page_that_says_nothing_was_published(
        sb: sandbox.Sandbox, media: str) -> None:
    caption = "Launch day <b>#1</b> & more"
    body = publish(sb, platform=["tiktok"], media_url=media, description=caption,
                   thumbnail_url="javascript:alert(1)", schedule_type="now").json()
    _, post = wait_post(sb, body["post_id"], {"published"})
    state = post["platforms_status"][0]
    url = state["post_url"]
    assert url == f"{sb.url}/sandbox/posts/tiktok/{state['platform_post_id']}"
    assert "tiktok.com" not in url
    page = requests.get(url, timeout=10)  # public: no key needed
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    text = page.text
    assert "Sandbox post: not published anywhere" in text and "TikTok" in text
    assert "Launch day &lt;b&gt;#1&lt;/b&gt; &amp; more" in text and "<b>#1" not in text
    assert f'href="{media}"' in text and "UTC" in text
    assert f'<video src="{media}"' in text and "javascript:" not in text  # no such poster
    missing = requests.get(f"{sb.url}/sandbox/posts/tiktok/123", timeout=10)
    assert missing.status_code == 404 and "No such sandbox post" in missing.text
    wrong = requests.get(url.replace("/tiktok/", "/youtube/"), timeout=10)
    assert wrong.status_code == 404


def test_deleted_media_fails_with_media_fetch_failed(sb: sandbox.Sandbox) -> None:
    upload = call(sb, "GET", "/content_resources",
                  params={"agent_id": sb.agent_id, "type": "audio"}).json()[0]
    resp = publish(sb, platform=["tiktok"], media_url=upload["url"],
                   schedule_type="specific_time", scheduled_time=future(2.0))
    assert resp.status_code == 200
    assert call(sb, "DELETE", f"/content_resources/{upload['id']}",
                params={"agent_id": sb.agent_id}).status_code in (200, 204)
    _, post = wait_post(sb, resp.json()["post_id"], {"published", "failed"})
    state = post["platforms_status"][0]
    assert state["normalized_status"] == "failed" and state["error_code"] == "media_fetch_failed"


def test_idempotent_replay(sb: sandbox.Sandbox, media: str) -> None:
    args = {"platform": ["x"], "description": "once", "media_url": media}
    first = publish(sb, headers={"Idempotency-Key": "pub-1"}, **args)
    again = publish(sb, headers={"Idempotency-Key": "pub-1"}, **args)
    assert first.json()["post_id"] == again.json()["post_id"]
    assert again.json()["idempotent_replay"] is True
    other = publish(sb, headers={"Idempotency-Key": "pub-1"}, **{**args, "description": "2"})
    assert other.status_code == 422


def test_list_posts_window(sb: sandbox.Sandbox, media: str) -> None:
    post_id = publish(sb, platform=["x"], description="listed", media_url=media).json()["post_id"]
    today = datetime.now(UTC).date()
    params = {"agent_id": sb.agent_id, "start_date": str(today - timedelta(days=1)),
              "end_date": str(today + timedelta(days=1))}
    listed = call(sb, "GET", "/schedule/posts", params=params).json()["posts"]
    assert post_id in [p["id"] for p in listed]
    params["end_date"] = str(today + timedelta(days=70))
    resp = call(sb, "GET", "/schedule/posts", params=params)
    assert resp.status_code == 422 and resp.json()["detail"]["field"] == "end_date"


def test_patch_and_delete_post(sb: sandbox.Sandbox, media: str) -> None:
    now_post = publish(sb, platform=["x"], description="now", media_url=media,
                       schedule_type="now").json()["post_id"]
    assert call(sb, "PATCH", f"/schedule/post/{now_post}",
                json={"description": "edited"}).status_code == 422
    later = publish(sb, platform=["linkedin"], description="later", media_url=media,
                    schedule_type="specific_time", scheduled_time=future(3600)).json()["post_id"]
    edited = call(sb, "PATCH", f"/schedule/post/{later}", json={"description": "edited"})
    assert edited.status_code == 200 and edited.json()["description"] == "edited"
    too_long = call(sb, "PATCH", f"/schedule/post/{later}", json={"title": "t" * 401})
    assert too_long.status_code == 422
    assert call(sb, "DELETE", f"/schedule/post/{later}").status_code == 200
    gone = call(sb, "GET", f"/schedule/post/{later}")
    assert gone.status_code == 404 and gone.json()["detail"]["error_code"] == "not_found"


# --- legacy ------------------------------------------------------------------------------
def legacy(sb: sandbox.Sandbox, data: Any, job_type: str = "publish_content"):
    payload = data if not isinstance(data, dict) else json.dumps(data)
    return call(sb, "POST", "/user_jobs", params={"agent_id": sb.agent_id},
                json={"user_job_type": job_type, "data": payload})


def legacy_wait(sb: sandbox.Sandbox, job_id: int) -> dict:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        job = call(sb, "GET", f"/user_jobs/{job_id}", params={"agent_id": sb.agent_id}).json()
        if job["status"] in ("completed", "failed"):
            return job
        time.sleep(0.05)
    raise AssertionError("legacy job never finished")


def test_legacy_publish_completes(sb: sandbox.Sandbox, media: str) -> None:
    resp = legacy(sb, {"platform": "tiktok", "media_url": media, "description": "legacy",
                       "schedule_type": "now", "timezone_offset": 0})
    assert resp.status_code == 201 and set(resp.json()) == {"user_job_id"}
    job = legacy_wait(sb, resp.json()["user_job_id"])
    assert job["status"] == "completed" and job["result"]["post_id"]
    assert job["user_job_type"] == "publish_content" and job["failed_reason"] is None


def test_legacy_publish_of_missing_media_fails(sb: sandbox.Sandbox) -> None:
    resp = legacy(sb, {"platform": "tiktok", "media_url": sb.cdn_base + "/outputs/none.mp4",
                       "schedule_type": "now"})
    job = legacy_wait(sb, resp.json()["user_job_id"])
    assert job["status"] == "failed" and "media_fetch_failed" in job["failed_reason"]


@pytest.mark.parametrize(("data", "job_type"), [
    ({"platform": "youtube", "media_url": "u"}, "publish_content"),
    ({"platform": "tiktok"}, "publish_content"),
    ({"platform": "tiktok", "media_url": "u", "schedule_type": "scheduled"}, "publish_content"),
    ("not json", "publish_content"),
    ({"platform": "tiktok", "media_url": "u"}, "video"),
])
def test_legacy_validation(sb: sandbox.Sandbox, data, job_type: str) -> None:
    resp = legacy(sb, data, job_type)
    assert resp.status_code == 422 and resp.json()["error_code"] == "validation_error"


def test_legacy_data_must_be_a_json_string(sb: sandbox.Sandbox, media: str) -> None:
    resp = call(sb, "POST", "/user_jobs", params={"agent_id": sb.agent_id},
                json={"user_job_type": "publish_content",
                      "data": {"platform": "tiktok", "media_url": media}})
    assert resp.status_code == 422
