"""Models parse every documented payload unedited, in every documented variant."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from _support import EXAMPLES, ex, stringify_ids

from gen_nb.api.errors import error_from_response
from gen_nb.api.models import (
    ContentResource,
    Engine,
    Generation,
    LegacyPublishJob,
    PlatformRules,
    Post,
    RemotionJob,
    Render,
    parse_list,
    parse_time,
    renders_from_engine,
)

# the spec folder lies beside the checkout (shared/ next to the repo, as in CI)
SHARED = Path(__file__).resolve().parents[2] / "shared" / "gen-api-examples.json"


@pytest.mark.skipif(not SHARED.exists(), reason="the shared spec folder is not on this machine")
def test_test_data_is_the_unedited_spec_copy() -> None:
    assert json.loads(SHARED.read_text()) == EXAMPLES


@pytest.mark.parametrize("name", ["render_started", "generation_completed", "generation_failed",
                                  "generation_openapi_variant"])
def test_generations_parse(name) -> None:
    g = Generation.from_api(ex(name))
    assert g.id and isinstance(g.id, str)
    assert g.status in ("pending", "completed", "failed")


def test_generation_details() -> None:
    done = Generation.from_api(ex("generation_completed"))
    assert done.id == "56789" and done.done and done.execution_cost == 50.0
    assert done.video is not None and done.video.url.endswith("render_xyz.mp4")
    assert done.video.thumbnail_url.endswith(".jpg") and done.video.id == "4821"
    failed = Generation.from_api(ex("generation_failed"))
    assert failed.failed_reason.startswith("Not enough footage") and failed.video is None
    variant = Generation.from_api(ex("generation_openapi_variant"))
    assert variant.id == "9000" and variant.execution_cost == 2.5
    assert variant.video.kind == "video" and variant.video.thumbnail_url is None  # "Video"
    assert variant.result == {"full_text": "hello"}


@pytest.mark.parametrize("object_type", ["video", "Video", "VIDEO"])
def test_object_type_is_case_insensitive(object_type) -> None:
    data = ex("generation_completed")
    data["output_resources"][0]["object_type"] = object_type
    assert Generation.from_api(data).video.kind == "video"


@pytest.mark.parametrize("ids", ["int", "str"])
def test_engine_renders_and_layers(ids) -> None:
    data = ex("engine") if ids == "int" else stringify_ids(ex("engine"))
    engine = Engine.from_api(data)
    assert engine.id == "812" and engine.title == "Launch teasers"
    assert engine.created_at == dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)
    assert [c.column_role for c in engine.columns] == ["ingredient", "video", "final_video"]
    renders = renders_from_engine(engine)
    assert [(r.id, r.status, r.take, r.is_current) for r in renders] == [
        ("56700", "failed", 1, False), ("56789", "completed", 2, True)]
    current = renders[1]
    assert (current.engine_id, current.row_id, current.cell_id) == ("812", "501", "3002")
    assert current.title == "Stop scrolling: 3 tips" and current.takes == 2
    assert current.url.endswith("render_xyz.mp4") and current.output_resource_id == "4821"
    assert renders[0].failed_reason == "Voice generation timed out"
    layers = current.layers
    assert [(la.name, la.kind) for la in layers] == [
        ("B-roll 1", "video"), ("Voiceover", "audio"), ("Captions", "caption")]
    assert layers[1].url.endswith("vo_001.mp3") and layers[1].duration_seconds == 10.0
    assert layers[0].thumbnail_url.endswith("broll_001.jpg")
    assert layers[2].url is None and layers[2].status is None
    assert engine.renders() == renders


def test_engine_without_optional_parts() -> None:
    engine = Engine.from_api({"id": 1, "spreadsheet_rows": [{"id": 2}]})
    assert engine.columns == () and renders_from_engine(engine) == []
    assert Engine.from_api({"id": "x"}).rows == ()


def test_render_from_a_bare_generation() -> None:
    r = Render.from_generation(Generation.from_api(ex("generation_completed")))
    assert r.id == "56789" and r.file_name == "render_xyz.mp4" and r.layers == ()


def test_remotion_jobs() -> None:
    jobs = parse_list(RemotionJob, ex("remotion_jobs_page"))
    assert [j.status for j in jobs] == ["completed", "processing"]
    assert jobs[0].content_resource_id == "8000" and jobs[1].url is None
    assert jobs[0].created_at.year == 2026


def test_content_resources() -> None:
    page = parse_list(ContentResource, ex("content_resources_page"))
    assert [r.id for r in page] == ["5012", "5008"]
    assert page[0].kind == "image" and page[1].kind == "video" and page[1].thumbnail_url is None
    one = ContentResource.from_api(ex("content_resource"))
    assert one.id == "4821" and one.file_name == "render_xyz.mp4"
    assert one.generator.id == "56789" and one.generator.type == "video_render"
    assert ContentResource.from_api({"content_resource": {"id": 1}, "generator": None}).generator \
        is None


def test_platform_rules_and_checks() -> None:
    rules = parse_list(PlatformRules, ex("platforms")["platforms"])
    tiktok, youtube = rules
    assert tiktok.max_text == 2200 and youtube.max_title == 100 and "title" in youtube.required
    assert tiktok.check(description="ok", media_url="https://cdn/x.mp4") == []
    problems = youtube.check(description="x" * 5001, media_url=None)
    assert len(problems) == 3  # caption too long, title missing, media missing
    assert tiktok.check(media_url="u", options={"tiktok_privacy_level": "WORLD"})


def test_posts() -> None:
    accepted = Post.from_api(ex("publish_accepted"))
    assert accepted.id == "48213" and accepted.platforms == ("tiktok",)
    assert accepted.state == "accepted" and not accepted.done and accepted.status_url
    assert accepted.description == "caption #hashtags"
    published = Post.from_api(ex("post_published"))
    assert published.state == "published" and published.done
    status = published.platforms_status[0]
    assert status.post_url.startswith("https://www.tiktok.com/")
    assert status.published_at == dt.datetime(2026, 9, 20, 15, 0, 4, tzinfo=dt.UTC)


def test_legacy_jobs() -> None:
    created = LegacyPublishJob.from_api(ex("legacy_publish_created"))
    assert created.id == "138860" and created.status == "pending"
    job = LegacyPublishJob.from_api(ex("legacy_publish_job"))
    assert job.done and job.post_id == "7459234123456"


@pytest.mark.parametrize(("name", "status", "kind"), [
    ("error_main", 404, "NotFoundError"), ("error_credits", 422, "InsufficientCreditsError"),
    ("error_publishing", 422, "PlatformValidationError"),
    ("delete_two_phase", 428, "ConfirmationRequired")])
def test_error_payloads(name, status, kind) -> None:
    err = error_from_response(status, json.dumps(ex(name)), {}, subject="x")
    assert type(err).__name__ == kind


@pytest.mark.parametrize(("iso", "ms"), [("2026-03-01T12:00:00.000Z", None),
                                         (None, 1772366400000), ("2026-03-01T12:00:00", None),
                                         ("2026-03-01T13:00:00+01:00", None)])
def test_either_timestamp_form(iso, ms) -> None:
    assert parse_time(iso, ms) == dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)


def test_unknown_fields_are_ignored_and_missing_ones_tolerated() -> None:
    data = ex("generation_completed")
    data["brand_new_field"] = {"x": 1}
    data["output_resources"][0]["weird"] = True
    assert Generation.from_api(data).id == "56789"
    assert Generation.from_api({}).status == "pending"
    assert Post.from_api({}).state == "accepted"
    assert ContentResource.from_api({"id": 3, "url": "https://cdn.gen.pro/a/b.mp4"}).file_name \
        == "b.mp4"
