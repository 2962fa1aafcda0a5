"""Publishing: local rule checks, request shapes, legacy job, posts window (``responses``)."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
import responses
from _support import body, ex, query
from responses import matchers

from gen_nb.api import post_requests, post_rules
from gen_nb.api.client import Client
from gen_nb.api.errors import PlatformRuleError, PlatformValidationError, WaitTimeout
from gen_nb.api.models import ContentResource, Generation, OutputResource, Render
from gen_nb.api.settings import resolve_settings

API = "https://api.gen.pro/v1"
AGENT = "77"


def make_client() -> Client:
    return Client(resolve_settings("gen_pat_pub_TESTKEY", agent_id=AGENT, env={}),
                  sleep=lambda s: None)


CDN_MP4 = "https://cdn.gen.pro/outputs/render_xyz.mp4"
FUTURE = dt.datetime.now(dt.UTC) + dt.timedelta(days=3)
PAST = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)


@pytest.fixture()
def api():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(f"{API}/schedule/platforms", json=ex("platforms"))
        yield mock


@pytest.fixture()
def client():
    with make_client() as c:
        yield c


def _posts(api) -> list:
    return [c for c in api.calls if c.request.method in ("POST", "PATCH")]


RENDER = Render(id="56789", status="completed", url=CDN_MP4,
                thumbnail_url="https://cdn.gen.pro/thumbnails/render_xyz.jpg")


@pytest.mark.parametrize("src", [
    RENDER, CDN_MP4, ContentResource(id="4821", url=CDN_MP4, content_type="video/mp4"),
    OutputResource(id="4821", url=CDN_MP4, object_type="Video"),
    Generation.from_api(ex("generation_completed"))], ids=lambda s: type(s).__name__)
def test_publish_request_shape(api, client, src) -> None:
    api.post(f"{API}/schedule/with-post", json=ex("publish_accepted"))
    post = client.publish(src, "TikTok", description="caption #hashtags",
                          options={"tiktok_privacy_level": "SELF_ONLY"}, timezone_offset=-420)
    assert post.id == "48213" and post.state == "accepted"
    call = _posts(api)[0]
    sent = body(call)
    assert sent == {"agent_id": AGENT, "platform": ["tiktok"], "schedule_type": "next_available",
                    "description": "caption #hashtags", "media_type": "VIDEO",
                    "media_url": CDN_MP4, "tiktok_privacy_level": "SELF_ONLY"}
    assert isinstance(sent["agent_id"], str) and isinstance(sent["platform"], list)
    assert uuid.UUID(call.request.headers["Idempotency-Key"]).version == 4
    assert call.request.headers["X-Timezone-Offset"] == "-420"
    assert call.request.headers["X-API-Key"]


def test_publish_specific_time_and_given_key(api, client) -> None:
    api.post(f"{API}/schedule/with-post", json=ex("publish_accepted"))
    client.publish(RENDER, ["youtube", "tiktok"], title="Launch", description="d",
                   schedule_type="specific_time", scheduled_time=FUTURE, media_type="reels",
                   thumbnail_url="https://cdn.gen.pro/t.jpg", idempotency_key="post-1",
                   options={"youtube_options": {"visibility": "unlisted"}})
    call = _posts(api)[0]
    sent = body(call)
    assert sent["platform"] == ["youtube", "tiktok"] and sent["title"] == "Launch"
    assert sent["scheduled_time"] == post_rules.iso_utc(FUTURE) and sent["media_type"] == "REELS"
    assert sent["thumbnail_url"].endswith("t.jpg")
    assert sent["youtube_options"] == {"visibility": "unlisted"}
    assert call.request.headers["Idempotency-Key"] == "post-1"
    assert int(call.request.headers["X-Timezone-Offset"]) == post_requests.timezone_offset_minutes()


@pytest.mark.parametrize(("kwargs", "needle"), [
    ({"platforms": ["x"], "description": "a" * 281}, "limit is 280"),
    ({"platforms": ["youtube"]}, "title is required"),
    ({"platforms": ["youtube"], "title": "t" * 101}, "limit is 100"),
    ({"platforms": ["myspace"]}, "unknown platform 'myspace'"),
    ({"platforms": []}, "at least one platform"),
    ({"platforms": ["tiktok"], "schedule_type": "specific_time"}, "needs scheduled_time"),
    ({"platforms": ["tiktok"], "schedule_type": "specific_time", "scheduled_time": PAST},
     "in the past"),
    ({"platforms": ["tiktok"], "scheduled_time": FUTURE}, "only used with"),
    ({"platforms": ["tiktok"], "schedule_type": "later"}, "schedule_type='later'"),
    ({"platforms": ["tiktok"], "media_type": "GIF"}, "media_type='GIF'"),
    ({"platforms": ["tiktok"], "options": {"tiktok_privacy_level": "WORLD"}}, "WORLD"),
    ({"platforms": ["linkedin"], "title": "t" * 401}, "limit is 400"),
    ({"platforms": ["instagram"], "description": "a" * 2201}, "limit is 2200"),
])
def test_rule_violations_raise_before_sending(api, client, kwargs, needle) -> None:
    platforms = kwargs.pop("platforms")
    with pytest.raises(PlatformRuleError) as info:
        client.publish(RENDER, platforms, **kwargs)
    assert needle in str(info.value) and "nothing was sent" in str(info.value)
    assert isinstance(info.value, ValueError) and info.value.violations
    assert _posts(api) == []


@pytest.mark.parametrize(("src", "needle"), [
    (Render(id="1", status="processing"), "processing, not completed"),
    ("not a url", "is not an http"),
    (42, "cannot post a int"),
    (ContentResource(id="3", url="https://cdn.gen.pro/a.mp3", content_type="audio/mpeg"),
     "not audio"),
])
def test_media_problems_raise_before_sending(api, client, src, needle) -> None:
    with pytest.raises(PlatformRuleError, match=needle):
        client.publish(src, ["youtube"], title="t")
    assert _posts(api) == []


def test_check_false_sends_anyway_and_server_422_is_typed(api, client) -> None:
    api.post(f"{API}/schedule/with-post", status=422, json=ex("error_publishing"))
    with pytest.raises(PlatformValidationError) as info:
        client.publish(RENDER, ["youtube"], check=False)
    err = info.value
    assert err.platform == "youtube" and err.field == "title" and err.errors
    assert "Title is required for YouTube" in str(err)
    assert len(_posts(api)) == 1


def test_check_post_lists_problems_and_caches_rules(api, client) -> None:
    assert client.check_post(["x"], description="a" * 300, media_url=CDN_MP4) == [
        "X: the caption has 300 characters; the limit is 280. Shorten it by 20."]
    assert client.check_post("tiktok", description="fine", media_url=CDN_MP4) == []
    client.platforms()
    assert len([c for c in api.calls if c.request.url.endswith("/platforms")]) == 1
    assert {p.platform for p in client.platforms()} == {"tiktok", "youtube"}


def test_post_and_wait_post(api, client) -> None:
    accepted = {"id": 48213, "platforms_status": [{"platform": "tiktok",
                                                   "normalized_status": "accepted"}]}
    publishing = json.loads(json.dumps(accepted).replace("accepted", "publishing"))
    for answer in (accepted, publishing, publishing, ex("post_published")):
        api.get(f"{API}/schedule/post/48213", json=answer)
    seen: list[str] = []
    post = client.wait_post(48213, poll_interval=0, on_update=lambda p: seen.append(p.state))
    assert post.state == "published" and seen == ["accepted", "publishing", "published"]
    assert post.platforms_status[0].post_url.startswith("https://www.tiktok.com/")


def test_wait_post_returns_failures_and_times_out(api, client) -> None:
    failed = {"id": 5, "platforms_status": [{"platform": "tiktok", "normalized_status": "failed",
                                             "error": "could not fetch",
                                             "error_code": "media_fetch_failed"}]}
    api.get(f"{API}/schedule/post/5", json=failed)
    post = client.wait_post(5, poll_interval=0)
    assert post.state == "failed" and post.platforms_status[0].error_code == "media_fetch_failed"
    api.get(f"{API}/schedule/post/6", json={"id": 6, "status": "scheduled"})
    with pytest.raises(WaitTimeout, match="Post 6"):
        client.wait_post(6, timeout=0, poll_interval=0)


def test_posts_window_and_split(api, client) -> None:
    api.get(f"{API}/schedule/posts", json={"posts": [{"id": 1}, {"id": 2}]})
    posts = client.posts("2026-01-01", "2026-01-31")
    assert [p.id for p in posts] == ["1", "2"]
    assert query(api.calls[-1]) == {"agent_id": AGENT, "start_date": "2026-01-01",
                                    "end_date": "2026-01-31"}
    api.calls.reset()
    client.posts(dt.date(2026, 1, 1), dt.datetime(2026, 6, 1))
    windows = [query(c) for c in api.calls]
    assert len(windows) == 3 and windows[0]["start_date"] == "2026-01-01"
    assert windows[-1]["end_date"] == "2026-06-01"


def test_post_windows_defaults_and_errors() -> None:
    today = dt.date(2026, 5, 10)
    assert post_requests.post_windows(today=today) == [(dt.date(2026, 4, 10), dt.date(2026, 6, 9))]
    assert post_requests.post_windows(end="2026-05-10", today=today)[0][0] == dt.date(2026, 3, 11)
    with pytest.raises(ValueError, match="before"):
        post_requests.post_windows("2026-05-10", "2026-05-01")
    for first, last in post_requests.post_windows("2026-01-01", "2027-01-01"):
        assert (last - first).days <= 60


def test_cancel_and_update_post(api, client) -> None:
    api.delete(f"{API}/schedule/post/7", status=204)
    assert client.cancel_post(7) is None
    api.patch(f"{API}/schedule/post/7", json={"id": 7, "status": "scheduled",
                                              "description": "new"})
    post = client.update_post(7, description="new", platforms="TikTok", scheduled_time=FUTURE)
    assert post.description == "new"
    sent = body(_posts(api)[0])
    assert sent == {"description": "new", "platform": ["tiktok"],
                    "scheduled_time": post_rules.iso_utc(FUTURE)}
    with pytest.raises(PlatformRuleError, match="past"):
        client.update_post(7, scheduled_time=PAST)
    assert len(_posts(api)) == 1


def test_patch_is_not_retried(api, client) -> None:
    api.patch(f"{API}/schedule/post/7", status=503)
    with pytest.raises(Exception, match="503"):
        client.update_post(7, description="x")
    assert len(_posts(api)) == 1


@pytest.mark.parametrize("when", [None, FUTURE])
def test_legacy_publish_shape(api, client, when) -> None:
    api.post(f"{API}/user_jobs", status=201, json=ex("legacy_publish_created"),
             match=[matchers.query_param_matcher({"agent_id": AGENT})])
    job = client.publish_legacy(RENDER, description="hi", scheduled_time=when,
                                timezone_offset=120)
    assert job.id == "138860" and job.status == "pending"
    sent = body(_posts(api)[0])
    assert sent["user_job_type"] == "publish_content" and isinstance(sent["data"], str)
    data = json.loads(sent["data"])
    expected = {"platform": "tiktok", "media_url": CDN_MP4, "description": "hi",
                "schedule_type": "scheduled" if when else "now", "timezone_offset": 120}
    if when:
        expected["scheduled_time"] = post_rules.iso_utc(when)
    assert data == expected
    assert _posts(api)[0].request.headers["Idempotency-Key"]


def test_legacy_publish_checks_tiktok_rules(api, client) -> None:
    with pytest.raises(PlatformRuleError, match="2200"):
        client.publish_legacy(RENDER, description="a" * 2300)
    assert _posts(api) == []


def test_legacy_job(api, client) -> None:
    api.get(f"{API}/user_jobs/138860", json=ex("legacy_publish_job"),
            match=[matchers.query_param_matcher({"agent_id": AGENT})])
    job = client.legacy_job(138860)
    assert job.done and job.post_id == "7459234123456"


def test_missing_platforms_endpoint_uses_documented_limits() -> None:
    with responses.RequestsMock() as mock, make_client() as c:
        mock.get(f"{API}/schedule/platforms", status=404, json={"error": "Not found"})
        assert "limit is 280" in c.check_post(["x"], description="a" * 281, media_url=CDN_MP4)[0]


@pytest.mark.parametrize(("given", "expected"), [("Twitter", ["x"]), (["YT", "yt"], ["youtube"]),
                                                 (("tiktok", " IG "), ["tiktok", "instagram"])])
def test_normalize_platforms(given, expected) -> None:
    assert post_rules.normalize_platforms(given) == expected


def test_parse_when_conventions() -> None:
    expected = dt.datetime(2026, 9, 20, 15, tzinfo=dt.UTC)
    assert post_rules.parse_when("2026-09-20T15:00:00") == expected
    assert post_rules.parse_when("2026-09-20T08:00:00-07:00") == dt.datetime(2026, 9, 20, 15,
                                                                        tzinfo=dt.UTC)
    naive = dt.datetime(2026, 9, 20, 8)
    assert post_rules.parse_when(naive) == naive.astimezone(dt.UTC)
