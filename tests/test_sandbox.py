"""The sandbox's GEN API: auth, engines, renders, generations, content resources, deletion."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from _support import EXAMPLES

from gen_nb import sandbox
from gen_nb.sandbox import make_media


class Api:
    """Tiny requests wrapper: the key header and agent_id are always sent."""

    def __init__(self, sb: sandbox.Sandbox) -> None:
        self.sb = sb
        self.headers = {"X-API-Key": sb.api_key}

    def call(self, method: str, path: str, *, agent: bool = True, headers=None, **kw: Any):
        params = dict(kw.pop("params", {}))
        if agent:
            params.setdefault("agent_id", self.sb.agent_id)
        return requests.request(method, self.sb.api_base + path, params=params, timeout=10,
                                headers={**self.headers, **(headers or {})}, **kw)

    def get(self, path: str, **kw: Any):
        return self.call("GET", path, **kw)

    def post(self, path: str, **kw: Any):
        return self.call("POST", path, **kw)

    def delete(self, path: str, **kw: Any):
        return self.call("DELETE", path, **kw)

    def start_render(self, engine: int = 812, cell: int | None = None, **kw: Any):
        cell = cell or self.sb.seed_data["final_video_cells"][engine][0]
        return self.post(f"/vidsheet/{engine}/cells/{cell}/render",
                         json={"agent_id": self.sb.agent_id}, **kw)

    def wait(self, gen_id: int, until: str = "completed", timeout: float = 15) -> list[str]:
        seen: list[str] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = self.get(f"/generations/{gen_id}", agent=False).json()["status"]
            if not seen or seen[-1] != status:
                seen.append(status)
            if status == until:
                return seen
            time.sleep(0.05)
        raise AssertionError(f"generation {gen_id} never reached {until}: {seen}")


@pytest.fixture(scope="module")
def sb() -> Iterator[sandbox.Sandbox]:
    """The hostile world (the demo plus XSS and odd strings): seed_data["xss"] exists."""
    with sandbox.start(render_seconds=0.6, publish_seconds=0.6, world="hostile") as handle:
        yield handle


@pytest.fixture()
def api(sb: sandbox.Sandbox) -> Api:
    sb.clear_faults()
    return Api(sb)


# --- auth and agents ----------------------------------------------------------------------
@pytest.mark.parametrize("headers", [{}, {"X-API-Key": "gen_pat_wrong"},
                                     {"Authorization": "Bearer gen_pat_wrong"},
                                     {"Authorization": "Basic abc"}])
@pytest.mark.parametrize("path", ["/vidsheet", "/generations/1", "/content_resources",
                                  "/schedule/posts"])
def test_bad_or_missing_key_is_401(sb: sandbox.Sandbox, headers, path: str) -> None:
    resp = requests.get(sb.api_base + path, params={"agent_id": sb.agent_id}, headers=headers,
                        timeout=10)
    assert resp.status_code == 401
    assert resp.json()["error_code"] == "unauthorized" and resp.json()["error"]


def test_bearer_token_is_accepted(sb: sandbox.Sandbox) -> None:
    resp = requests.get(sb.api_base + "/vidsheet", params={"agent_id": sb.agent_id},
                        headers={"Authorization": f"Bearer {sb.api_key}"}, timeout=10)
    assert resp.status_code == 200


@pytest.mark.parametrize("path", ["/vidsheet", "/autocontentengine/812", "/content_resources",
                                  "/remotion_jobs"])
def test_unknown_agent_is_404(api: Api, path: str) -> None:
    resp = api.get(path, params={"agent_id": "999"})
    assert resp.status_code == 404
    assert resp.json() == {"error": "Agent not found", "error_code": "not_found"}
    assert api.get(path, agent=False).status_code == 422


@pytest.mark.parametrize(("path", "code"), [
    ("/vidsheet/99999", "project_not_found"), ("/generations/99999", "not_found"),
    ("/content_resources/99999", "content_resource_not_found"),
    ("/content_resources/abc", "content_resource_not_found"), ("/nowhere", "not_found"),
])
def test_unknown_ids_are_404(api: Api, path: str, code: str) -> None:
    resp = api.get(path)
    assert resp.status_code == 404 and resp.json()["error_code"] == code


def test_wrong_method_is_405(api: Api) -> None:
    assert api.delete("/vidsheet/812").status_code == 405


# --- engines ------------------------------------------------------------------------------
def test_both_prefixes_serve_the_same_engines(api: Api) -> None:
    listed = api.get("/vidsheet").json()
    assert [e["id"] for e in listed] == [e["id"] for e in api.get("/autocontentengine").json()]
    assert len(listed) >= 2
    for engine in listed:
        new = api.get(f"/vidsheet/{engine['id']}").json()
        assert new == api.get(f"/autocontentengine/{engine['id']}").json()


def _columns_by_position(engine: dict) -> list[dict]:
    return sorted(engine["spreadsheet_columns"], key=lambda c: c["position"])


def test_engine_shape(api: Api) -> None:
    rows = 0
    for summary in api.get("/vidsheet").json():
        engine = api.get(f"/vidsheet/{summary['id']}").json()
        columns = _columns_by_position(engine)
        for row in engine["spreadsheet_rows"]:
            rows += 1
            assert len(row["spreadsheet_cells"]) == len(columns)
            by_role = {}
            for column, cell in zip(columns, row["spreadsheet_cells"], strict=True):
                assert "column_id" not in cell
                by_role[column["column_role"]] = cell
            layers = {layer["name"]: layer for layer in by_role["video"]["video_layers"]}
            assert layers["Voiceover"]["type"] in ("sound", "audio")
            assert layers["B-roll 1"]["type"] in ("clip", "video")
            assert layers["Background"]["type"] == "image"
            assert layers["Captions"]["type"] in ("caption", "captions")
            assert layers["Captions"]["default_user_job"] is None
            vo = layers["Voiceover"]["default_user_job"]["output_resources"][0]
            assert vo["url"].endswith(".mp3") and vo["url"].startswith(api.sb.cdn_base)
            final = by_role["final_video"]
            if final["default_user_job"] is not None:
                assert final["user_jobs"][-1]["id"] == final["default_user_job"]["id"]
    assert rows >= 12


def test_seed_covers_every_status_and_edge_case(sb: sandbox.Sandbox) -> None:
    data = sb.seed_data
    assert {"completed", "failed", "stopped", "processing", "pending"} <= set(
        data["renders_by_status"])
    assert data["render_without_thumbnail"]
    failed = data["generations"][data["renders_by_status"]["failed"][0]]
    assert failed["failed_reason"] and failed["output_resources"] == []
    blob = json.dumps(data["engines"])
    assert data["xss"] in blob
    cells = [c for e in data["engines"].values() for r in e["spreadsheet_rows"]
             for c in r["spreadsheet_cells"]]
    assert max(len(c["user_jobs"]) for c in cells) >= 2
    assert any(c["default_user_job"] is None and not c["video_layers"] and c["value"] is None
               for c in cells)  # a row that was never rendered
    layer_states = {(lay["default_user_job"] or {}).get("status") for c in cells
                    for lay in c["video_layers"]}
    assert layer_states == {"completed", "failed", None}
    stamps = {tuple(k for k in g if k.startswith(("created_at", "updated_at")))
              for g in data["generations"].values()}
    assert len(stamps) >= 3  # ISO only, ms only, both, none
    kinds = {o["object_type"] for g in data["generations"].values()
             for o in g["output_resources"]}
    assert {"video", "Video"} <= kinds


def test_seed_is_deterministic() -> None:
    """Same seed and seeded_at → the same world (times count back from seeded_at)."""
    at = time.time() - 3600
    with sandbox.start(seeded_at=at) as one, sandbox.start(seeded_at=at) as other:
        mine = json.dumps(one.seed_data["engines"]).replace(one.cdn_base, "CDN")
        theirs = json.dumps(other.seed_data["engines"]).replace(other.cdn_base, "CDN")
    assert mine == theirs


# --- shapes against the documented examples ----------------------------------------------


def _covers(example: Any, actual: Any, where: str = "") -> None:
    """Every key the example shows is present in ``actual`` (recursively, item by item)."""
    if isinstance(example, dict) and isinstance(actual, dict):
        missing = set(example) - set(actual)
        assert not missing, f"{where}: missing {sorted(missing)}"
        for key, value in example.items():
            _covers(value, actual[key], f"{where}.{key}")
    elif isinstance(example, list) and isinstance(actual, list):
        for i, (ex, act) in enumerate(zip(example, actual, strict=False)):
            _covers(ex, act, f"{where}[{i}]")


def _finished_then_running(jobs: list[dict]) -> list[dict]:
    """The first completed and the first processing item, the example's two kinds."""
    return [next(j for j in jobs if j["status"] == status) for status in ("completed",
                                                                          "processing")]


def _actual(api: Api, name: str) -> Any:
    data = api.sb.seed_data
    done = data["renders_by_status"]["completed"][0]
    rid = data["generations"][done]["output_resources"][0]["id"]
    url = data["generations"][done]["output_resources"][0]["url"]
    post = {"agent_id": api.sb.agent_id, "platform": ["tiktok"], "media_url": url}
    return {
        "engine": lambda: api.get("/vidsheet/812").json(),
        "generation_completed": lambda: api.get(f"/generations/{done}").json(),
        "generation_failed": lambda: api.get(
            f"/generations/{data['renders_by_status']['failed'][0]}").json(),
        "content_resources_page": lambda: api.get("/content_resources").json(),
        "content_resource": lambda: api.get(f"/content_resources/{rid}").json(),
        "remotion_jobs_page": lambda: _finished_then_running(
            api.get("/remotion_jobs", params={"project_id": 812}).json()),
        "delete_two_phase": lambda: api.delete(f"/content_resources/{rid}").json(),
        "platforms": lambda: {"platforms": sorted(  # in the example's order: tiktok, youtube
            api.get("/schedule/platforms").json()["platforms"],
            key=lambda p: ["tiktok", "youtube"].index(p["platform"])
            if p["platform"] in ("tiktok", "youtube") else 9)},
        "publish_accepted": lambda: api.post("/schedule/with-post", json=post).json(),
        "error_main": lambda: api.get("/vidsheet", params={"agent_id": "0"}).json(),
        "error_publishing": lambda: api.post("/schedule/with-post",
                                             json={**post, "platform": ["youtube"]}).json(),
    }[name]()


@pytest.mark.parametrize("name", ["engine", "generation_completed", "generation_failed",
                                  "content_resources_page", "content_resource",
                                  "remotion_jobs_page", "delete_two_phase", "platforms",
                                  "publish_accepted", "error_main", "error_publishing"])
def test_shapes_match_the_documented_examples(api: Api, name: str) -> None:
    _covers(EXAMPLES[name], _actual(api, name), name)


# --- content resources --------------------------------------------------------------------
def _all_pages(api: Api, **params: Any) -> list[list[dict]]:
    pages, page = [], 0
    while True:
        items = api.get("/content_resources", params={**params, "page": page}).json()
        pages.append(items)
        if len(items) < 20:
            return pages
        page += 1


def test_content_resources_paging(api: Api) -> None:
    pages = _all_pages(api, type="video")
    assert len(pages) >= 2 and len(pages[0]) == 20
    ids = [item["id"] for page in pages for item in page]
    assert len(ids) == len(set(ids)) > 20
    assert ids == sorted(ids, reverse=True)
    assert all(set(i) == {"id", "url", "thumbnail_url", "file_name", "content_type"}
               for page in pages for i in page)


@pytest.mark.parametrize("kind", ["video", "image", "audio", "zip", "safe_tensors"])
def test_content_resource_types(api: Api, kind: str) -> None:
    items = api.get("/content_resources", params={"type": kind}).json()
    assert items
    for item in items[:3]:
        assert requests.head(item["url"], timeout=10).status_code == 200


def test_content_resource_filters_and_errors(api: Api) -> None:
    scoped = [i for p in _all_pages(api, project_id=813) for i in p]
    assert scoped and len(scoped) < len([i for p in _all_pages(api) for i in p])
    assert api.get("/content_resources", params={"type": "pdf"}).status_code == 422
    assert api.get("/content_resources", params={"project_id": 1}).status_code == 404


def test_content_resource_detail(api: Api, sb: sandbox.Sandbox) -> None:
    gen_id = sb.seed_data["renders_by_status"]["completed"][0]
    out = sb.seed_data["generations"][gen_id]["output_resources"][0]
    body = api.get(f"/content_resources/{out['id']}").json()
    assert body["content_resource"]["url"] == out["url"]
    assert body["content_resource"]["content_type"] == "video/mp4"
    assert body["generator"] == {"id": gen_id, "status": "completed", "type": "video_render"}


# --- renders ------------------------------------------------------------------------------
@contextlib.contextmanager
def render_seconds(sb: sandbox.Sandbox, seconds: float) -> Iterator[None]:
    saved, sb.render_seconds = sb.render_seconds, seconds
    try:
        yield
    finally:
        sb.render_seconds = saved


def test_render_lifecycle(api: Api, sb: sandbox.Sandbox) -> None:
    with render_seconds(sb, 2.0):  # pending 0.4 s, processing 1.6 s: both get observed
        resp = api.start_render(engine=813)
    assert resp.status_code == 201 and resp.json()["status"] == "pending"
    gen_id = resp.json()["generation_id"]
    seen = api.wait(gen_id)
    order = ["pending", "processing", "completed"]
    assert seen == sorted(seen, key=order.index) and "processing" in seen
    gen = api.get(f"/generations/{gen_id}", agent=False).json()
    out = gen["output_resources"][0]
    assert gen["execution_cost"] and out["object_type"].lower() == "video"
    media = requests.get(out["url"], timeout=10)
    assert media.status_code == 200 and media.headers["Content-Type"] == "video/mp4"
    assert requests.get(out["thumbnail_url"], timeout=10).headers["Content-Type"] == "image/jpeg"
    cell = next(c for r in api.get("/vidsheet/813").json()["spreadsheet_rows"]
                for c in r["spreadsheet_cells"] if c["default_user_job"]
                and c["default_user_job"]["id"] == gen_id)
    assert cell["user_jobs"][-1]["id"] == gen_id


def test_render_accepts_agent_in_body_only(api: Api, sb: sandbox.Sandbox) -> None:
    cell = sb.seed_data["final_video_cells"][814][0]
    resp = api.post(f"/autocontentengine/814/cells/{cell}/render", agent=False,
                    json={"agent_id": sb.agent_id})
    assert resp.status_code == 201


def test_idempotent_render_start(api: Api, sb: sandbox.Sandbox) -> None:
    before = sb.credits
    first = api.start_render(headers={"Idempotency-Key": "idem-render-1"})
    again = api.start_render(headers={"Idempotency-Key": "idem-render-1"})
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert sb.credits == before - 50
    other_cell = sb.seed_data["final_video_cells"][812][1]
    clash = api.start_render(cell=other_cell, headers={"Idempotency-Key": "idem-render-1"})
    assert clash.status_code == 422


def test_render_needs_credits(api: Api, sb: sandbox.Sandbox) -> None:
    saved, sb.credits = sb.credits, 10
    try:
        resp = api.start_render()
        assert resp.status_code == 422
        assert resp.json()["error_code"] == "insufficient_credits_for_job"
    finally:
        sb.credits = saved


def test_render_only_on_final_video_cells(api: Api, sb: sandbox.Sandbox) -> None:
    row = sb.seed_data["engines"][812]["spreadsheet_rows"][0]
    hook_cell = row["spreadsheet_cells"][0]["id"]
    assert api.start_render(cell=hook_cell).status_code == 422
    assert api.start_render(cell=1).status_code == 404


def test_stop_and_continue_rules(api: Api, sb: sandbox.Sandbox) -> None:
    with render_seconds(sb, 60):
        gen_id = api.start_render(engine=814).json()["generation_id"]
    stopped = api.post(f"/generations/{gen_id}/stop", agent=False)
    assert stopped.status_code == 200 and stopped.json()["status"] == "stopped"
    again = api.post(f"/generations/{gen_id}/stop", agent=False)
    assert again.status_code == 422 and again.json()["error_code"] == "job_cannot_be_stopped"
    completed = sb.seed_data["renders_by_status"]["completed"][0]
    assert api.post(f"/generations/{completed}/stop", agent=False).status_code == 422
    resumed = api.post(f"/generations/{gen_id}/continue", agent=False)
    assert resumed.status_code == 200 and resumed.json()["status"] in ("pending", "processing")
    api.wait(gen_id)
    assert api.post(f"/generations/{gen_id}/continue", agent=False).status_code == 422


def test_fail_next_render(api: Api, sb: sandbox.Sandbox) -> None:
    sb.fail_next_renders(1, reason="Voice generation timed out")
    gen_id = api.start_render(engine=813).json()["generation_id"]
    api.wait(gen_id, until="failed")
    gen = api.get(f"/generations/{gen_id}", agent=False).json()
    assert gen["failed_reason"] == "Voice generation timed out" and gen["output_resources"] == []


def test_remotion_jobs(api: Api) -> None:
    jobs = api.get("/remotion_jobs", params={"project_id": 812}).json()
    assert jobs and len(jobs) <= 20
    stamps = [j["created_at"] for j in jobs]
    assert stamps == sorted(stamps, reverse=True)
    done = [j for j in jobs if j["status"] == "completed"]
    assert done and all(j["url"].endswith(".mp4") for j in done)
    assert api.get("/remotion_jobs", params={"project_id": 812, "page": 5}).json() == []
    assert api.get("/remotion_jobs", params={"project_id": 1}).status_code == 404


# --- deletion -----------------------------------------------------------------------------
def test_two_phase_delete_of_a_render(api: Api) -> None:
    gen_id = api.start_render(engine=812).json()["generation_id"]
    api.wait(gen_id)
    out = api.get(f"/generations/{gen_id}", agent=False).json()["output_resources"][0]
    first = api.delete(f"/content_resources/{out['id']}")
    assert first.status_code == 428
    plan = first.json()
    assert plan["would_destroy"]["content_resources"] == 1
    assert plan["confirm_token"].startswith("tok_")
    assert requests.head(out["url"], timeout=10).status_code == 200  # nothing gone yet
    wrong = api.delete(f"/content_resources/{out['id']}", params={"confirm_token": "tok_bad"})
    assert wrong.status_code == 422
    done = api.delete(f"/content_resources/{out['id']}",
                      params={"confirm_token": plan["confirm_token"]})
    assert done.status_code in (200, 204) and done.content == b""
    assert requests.get(out["url"], timeout=10).status_code == 404
    assert requests.get(out["thumbnail_url"], timeout=10).status_code == 404
    assert api.get(f"/content_resources/{out['id']}").status_code == 404
    assert api.get(f"/generations/{gen_id}", agent=False).json()["output_resources"] == []
    reuse = api.delete(f"/content_resources/{out['id']}",
                       params={"confirm_token": plan["confirm_token"]})
    assert reuse.status_code == 404


def test_confirm_token_expires(api: Api, sb: sandbox.Sandbox) -> None:
    rid = sb.seed_data["generations"][sb.seed_data["renders_by_status"]["completed"][1]][
        "output_resources"][0]["id"]
    sb.confirm_ttl = 0
    try:
        token = api.delete(f"/content_resources/{rid}").json()["confirm_token"]
        late = api.delete(f"/content_resources/{rid}", params={"confirm_token": token})
        assert late.status_code == 422
    finally:
        sb.confirm_ttl = 300
    assert api.get(f"/content_resources/{rid}").status_code == 200


def test_plain_delete_alternates_204_and_200(api: Api, sb: sandbox.Sandbox) -> None:
    audio = api.get("/content_resources", params={"type": "audio"}).json()[:2]
    statuses = set()
    for item in audio:
        resp = api.delete(f"/content_resources/{item['id']}")
        assert resp.content == b""
        statuses.add(resp.status_code)
        assert requests.get(item["url"], timeout=10).status_code == 404
    assert statuses == {200, 204}
    sb.delete_status = 204
    image = api.get("/content_resources", params={"type": "image"}).json()[0]
    assert api.delete(f"/content_resources/{image['id']}").status_code == 204
    sb.delete_status = None


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl not installed")
def test_docs_curl_delete(api: Api, sb: sandbox.Sandbox) -> None:
    """``curl -X DELETE "<api>/content_resources/<id>?agent_id=<id>" -H "X-API-Key: <key>"``."""
    zip_item = api.get("/content_resources", params={"type": "zip"}).json()[0]
    render = sb.seed_data["generations"][sb.seed_data["renders_by_status"]["completed"][0]]
    codes = []
    for rid in (zip_item["id"], render["output_resources"][0]["id"]):
        url = f"{sb.api_base}/content_resources/{rid}?agent_id={sb.agent_id}"
        proc = subprocess.run(["curl", "-sS", "-X", "DELETE", url, "-H",
                               f"X-API-Key: {sb.api_key}", "-w", "\n%{http_code}"],
                              capture_output=True, text=True, check=True, timeout=30)
        codes.append(int(proc.stdout.rsplit("\n", 1)[1]))
    assert codes[0] in (200, 204) and codes[1] == 428


# --- the handle ---------------------------------------------------------------------------
def test_handle_basics(sb: sandbox.Sandbox) -> None:
    assert sb.api_base == sb.url + "/v1" and sb.url.startswith("http://127.0.0.1:")
    assert sb.api_key.startswith("gen_pat_sandbox_") and isinstance(sb.agent_id, str)
    assert sb.api_key not in repr(sb)
    with pytest.raises(ValueError):
        sb.mutate("https://cdn.gen.pro/outputs/x.mp4")
    with pytest.raises(TypeError):
        sb.seed_data["engines"] = {}  # type: ignore[index]


def test_serve_prints_banner_and_stops() -> None:
    out, stop = io.StringIO(), threading.Event()
    thread = threading.Thread(target=sandbox.serve, kwargs={"out": out, "stop_event": stop})
    thread.start()
    deadline = time.monotonic() + 10
    while "curl" not in out.getvalue() and time.monotonic() < deadline:
        time.sleep(0.05)
    banner = out.getvalue()
    stop.set()
    thread.join(timeout=10)
    assert not thread.is_alive()
    for label in ("API base:", "CDN base:", "Storage base:", "API key:", "Agent id:", "curl"):
        assert label in banner
    api_base = banner.split("API base:")[1].split()[0]
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(api_base + "/schedule/platforms", timeout=5)


def test_committed_media_match_their_checksums() -> None:
    import hashlib

    media = Path(make_media.MEDIA_DIR)
    lines = (media / "SHA256SUMS").read_text().splitlines()
    assert len(lines) >= 10
    total = 0
    for line in lines:
        digest, name = line.split("  ")
        data = (media / name).read_bytes()
        total += len(data)
        assert hashlib.sha256(data).hexdigest() == digest, name
    assert total < 600 * 1024


def test_make_media_regenerates_byte_identically() -> None:
    if not os.environ.get("CI"):  # CI installs the media extra: there a missing ffmpeg fails
        pytest.importorskip("imageio_ffmpeg")
    assert make_media.main(["--check"]) == 0
