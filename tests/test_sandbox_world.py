"""The seeded worlds: a demo workspace that reads like a real one, and the hostile test world.

Every row shows one media card (its MP4, thumbnail and title), every layer its engine's
voiceover, b-roll and background; times count back from when the sandbox started; in-flight
renders sleep until polled, then finish within ``render_seconds``.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from gen_nb import sandbox
from gen_nb.sandbox import samples, seed
from gen_nb.sandbox.blobs import MEDIA_DIR

RENDER_SECONDS = 1.0
HOSTILE_MARKS = ("<", "onerror", "\x00", "\u202e", "\u200b")


@pytest.fixture(scope="module")
def demo() -> Iterator[sandbox.Sandbox]:
    with sandbox.start(render_seconds=RENDER_SECONDS) as handle:
        yield handle


def _get(sb: sandbox.Sandbox, path: str) -> dict[str, Any]:
    resp = requests.get(sb.api_base + path, headers={"X-API-Key": sb.api_key}, timeout=10,
                        params={"agent_id": sb.agent_id})
    resp.raise_for_status()
    return resp.json()


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _file_sha(name: str) -> str:
    return _sha((MEDIA_DIR / name).read_bytes())


def _rows(data: Any) -> Iterator[tuple[int, dict[str, Any], dict[str, dict[str, Any]]]]:
    """(engine id, row, cells by column role ... and by column title) of every seeded row."""
    for eid, engine in data["engines"].items():
        columns = sorted(engine["spreadsheet_columns"], key=lambda c: c["position"])
        for row in engine["spreadsheet_rows"]:
            cells = {}
            for column, cell in zip(columns, row["spreadsheet_cells"], strict=True):
                cells[column["column_role"]] = cells[column["title"]] = cell
            yield eid, row, cells


# --- what the demo world holds ---------------------------------------------------------------

def test_demo_world_has_no_hostile_strings(demo: sandbox.Sandbox) -> None:
    data = demo.seed_data
    assert demo.world_name == "demo" and "xss" not in data
    text = json.dumps([data["engines"], data["content_resources"]], ensure_ascii=False)
    for mark in HOSTILE_MARKS:
        assert mark not in text, repr(mark)


def test_engines_and_rows_take_the_cards_titles(demo: sandbox.Sandbox) -> None:
    data = demo.seed_data
    assert [e["title"] for e in data["engines"].values()] == [
        "Launch teasers", "Recipe shorts", "Weekly tips"]
    for eid, _row, cells in _rows(data):
        slug = data["engines"][eid]["slug"]
        takes = cells["final_video"]["user_jobs"]
        done = [t for t in takes if t["status"] == "completed"]
        for take in done:  # a finished take shows its row's card: title, MP4 and thumbnail
            out = take["output_resources"][0]
            stem = next(s for s in samples.style(slug).cards
                        if samples.card(s).title == cells["Hook"]["value"])
            assert demo.media_sha256(out["url"]) == _file_sha(f"{stem}.mp4")
            if out["thumbnail_url"]:
                assert demo.media_sha256(out["thumbnail_url"]) == _file_sha(f"{stem}.jpg")
            if "Call to action" in cells:
                assert cells["Call to action"]["value"] == samples.card(stem).cta


def test_every_card_is_used_once(demo: sandbox.Sandbox) -> None:
    titles = [cells["Hook"]["value"] for _, _, cells in _rows(demo.seed_data)]
    catalog = json.loads((MEDIA_DIR / "catalog.json").read_text())
    cards = [c["title"] for c in catalog["cards"]]
    assert len(titles) == len(set(titles)) == 14
    assert set(cards) <= set(titles)


def test_layers_use_their_engines_media(demo: sandbox.Sandbox) -> None:
    data = demo.seed_data
    for eid, _row, cells in _rows(data):
        style = samples.style(data["engines"][eid]["slug"])
        expected = {"Voiceover": style.voiceover, "B-roll 1": style.broll[0],
                    "B-roll 2": style.broll[0], "Background": style.background}
        layers = cells["video"]["video_layers"]
        frames = {la["name"]: la["additional_attributes"]["durationInFrames"] for la in layers}
        assert frames["Voiceover"] == frames["Background"] == seed.FRAMES  # 3 s at 30 fps
        assert frames["B-roll 1"] + frames.get("B-roll 2", 0) == seed.FRAMES
        for layer in layers:
            job = layer["default_user_job"]
            if layer["name"] in expected and job and job["status"] == "completed":
                url = job["output_resources"][0]["url"]
                assert demo.media_sha256(url) == _file_sha(expected[layer["name"]]), url


def _stamps(item: dict[str, Any]) -> tuple[float, float] | None:
    """(created, updated) in epoch ms from whichever timestamps the object carries."""
    if "created_at_ts" in item:
        return item["created_at_ts"], item["updated_at_ts"]
    if "created_at" in item:
        return tuple(datetime.fromisoformat(item[k].replace("Z", "+00:00")).timestamp() * 1000
                     for k in ("created_at", "updated_at"))  # type: ignore[return-value]
    return None


def test_times_count_back_from_the_start(demo: sandbox.Sandbox) -> None:
    data, now = demo.seed_data, time.time() * 1000
    stamped = [(g, _stamps(g)) for g in data["generations"].values() if _stamps(g)]
    assert len(stamped) > 20
    for _gen, (created, updated) in stamped:
        assert now - 30 * 86_400_000 < created <= updated <= now
    running = [c for g, (c, _) in stamped if g["status"] in ("pending", "processing")]
    assert running and all(now - c < 10 * 60_000 for c in running)  # started minutes ago
    took = [u - c for g, (c, u) in stamped if g["status"] == "completed"]
    assert took and all(30_000 <= t <= 180_000 for t in took)  # a render takes 30–120 s
    ages = sorted(now - c for _, (c, _) in stamped)
    assert ages[0] < 3_600_000 and ages[-1] > 2 * 86_400_000  # minutes to days ago


def test_every_status_twice_in_flight(demo: sandbox.Sandbox) -> None:
    """Two sleeping renders per in-flight status: watching one still leaves the status."""
    data = demo.seed_data
    by_status = data["renders_by_status"]
    assert set(by_status) == {"completed", "failed", "stopped", "processing", "pending"}
    assert len(by_status["pending"]) == len(by_status["processing"]) == 2
    assert sorted(data["sleeping"]) == sorted(by_status["pending"] + by_status["processing"])


# --- in-flight renders move when watched -------------------------------------------------------

def _watch(sb: sandbox.Sandbox, gen_id: int, timeout: float) -> tuple[list[str], float, dict]:
    seen: list[str] = []
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        gen = _get(sb, f"/generations/{gen_id}")
        if not seen or seen[-1] != gen["status"]:
            seen.append(gen["status"])
        if gen["status"] in ("completed", "failed"):
            return seen, time.monotonic() - started, gen
        time.sleep(0.05)
    raise AssertionError(f"generation {gen_id} did not finish: {seen}")


def test_polling_wakes_a_seeded_render_and_it_finishes_in_time() -> None:
    with sandbox.start(render_seconds=RENDER_SECONDS) as sb:
        data = sb.seed_data
        processing, pending = data["renders_by_status"]["processing"][0], \
            data["renders_by_status"]["pending"][0]
        time.sleep(0.3)
        assert sb.seed_data["generations"][processing]["status"] == "processing"  # asleep
        seen, took, gen = _watch(sb, processing, 10 * RENDER_SECONDS)
        assert seen == ["processing", "completed"] and took < RENDER_SECONDS + 1.0
        assert gen["output_resources"][0]["url"].endswith(".mp4")
        seen, took, gen = _watch(sb, pending, 10 * RENDER_SECONDS)
        assert seen == ["pending", "processing", "completed"] and took < RENDER_SECONDS + 1.0
        after = sb.seed_data
        assert {"pending", "processing"} <= set(after["renders_by_status"])
        assert processing not in after["sleeping"] and pending not in after["sleeping"]


def test_a_render_planned_to_fail_fails_when_watched() -> None:
    with sandbox.start(render_seconds=RENDER_SECONDS) as sb:
        sleeping = sb.seed_data["renders_by_status"]["processing"][1]
        seen, _, gen = _watch(sb, sleeping, 10 * RENDER_SECONDS)
        assert seen == ["processing", "failed"] and gen["failed_reason"] == seed.PLANNED_FAILURE
        assert gen["output_resources"] == []


def test_a_woken_render_can_be_stopped(demo: sandbox.Sandbox) -> None:
    gen_id = demo.seed_data["renders_by_status"]["pending"][-1]
    headers = {"X-API-Key": demo.api_key}
    stopped = requests.post(f"{demo.api_base}/generations/{gen_id}/stop", headers=headers,
                            timeout=10)
    assert stopped.status_code == 200 and stopped.json()["status"] == "stopped"
    assert _get(demo, f"/generations/{gen_id}")["status"] == "stopped"  # never wakes again


def test_a_new_take_shows_its_rows_card(demo: sandbox.Sandbox) -> None:
    data = demo.seed_data
    eid, cells = next((e, c) for e, _, c in _rows(data)
                      if c["Hook"]["value"] == "Drop 02 lands this Friday")
    resp = requests.post(f"{demo.api_base}/vidsheet/{eid}/cells/{cells['final_video']['id']}"
                         "/render", headers={"X-API-Key": demo.api_key}, timeout=10,
                         json={"agent_id": demo.agent_id})
    assert resp.status_code == 201
    _, _, gen = _watch(demo, resp.json()["generation_id"], 10 * RENDER_SECONDS)
    assert demo.media_sha256(gen["output_resources"][0]["url"]) == _file_sha(
        "render_drop_friday.mp4")


# --- the hostile test world --------------------------------------------------------------------

def test_hostile_world_plants_xss_odd_unicode_and_a_nul() -> None:
    with sandbox.start(world="hostile") as sb:
        data = sb.seed_data
        assert sb.world_name == "hostile" and data["xss"] == seed.XSS
        assert data["engines"][814]["title"] == f"Weekly tips {seed.XSS}"
        hooks = [cells["Hook"]["value"] for _, _, cells in _rows(data)]
        assert f"Tip of the week {seed.XSS}" in hooks and seed.ODD in hooks
        assert "\x00" in seed.ODD and "\u202e" in seed.ODD
        names = [r["content_resource"]["file_name"] for r in data["content_resources"].values()]
        assert f"{seed.XSS}.png" in names
        statuses = set(data["renders_by_status"])
    assert statuses == {"completed", "failed", "stopped", "processing", "pending"}


def test_unknown_world_is_refused() -> None:
    with pytest.raises(ValueError, match="hostile"):
        sandbox.start(world="evil")


def test_the_catalog_the_world_reads_is_committed() -> None:
    assert (Path(MEDIA_DIR) / "catalog.json").is_file()
    assert samples.style("recipe-shorts").voiceover == "voiceover_recipe-shorts.mp3"
    with pytest.raises(KeyError):
        samples.card("render_nope")
