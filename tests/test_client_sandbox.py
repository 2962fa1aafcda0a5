"""The client against the real emulator: renders, waits, deletes, publishing, key scoping.

Read-only tests use the session sandbox (``client`` / ``fresh_sandbox`` from conftest). Tests
that change the world (start renders, delete, publish) use this module's own sandbox, so the
session's seeded data stays as other test modules expect it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

import gen_nb
from gen_nb.api import transport as _http
from gen_nb.api.client import Client
from gen_nb.api.errors import (
    AuthenticationError,
    ConfirmationRequired,
    InsufficientCreditsError,
    JobCannotBeStoppedError,
    NetworkError,
    NotFoundError,
    PlatformRuleError,
    PlatformValidationError,
    RenderFailed,
    ServerError,
    WaitTimeout,
)
from gen_nb.api.settings import resolve_settings

STATUSES = {"pending", "processing", "completed", "failed", "stopped"}


@pytest.fixture(scope="module")
def own() -> Iterator[Any]:
    """A private sandbox with short timings for tests that change its world."""
    from gen_nb import sandbox

    with sandbox.start(render_seconds=1.0, publish_seconds=0.6) as sb:
        yield sb


@pytest.fixture()
def sb(own: Any) -> Any:
    own.clear_faults()
    own.clear_log()
    return own


@pytest.fixture()
def c(sb: Any) -> Iterator[Client]:
    """A client bound to the private sandbox whose retry sleeps are recorded, not slept."""
    with gen_nb.connect(sandbox=sb, quiet=True) as client:
        client.slept = []  # type: ignore[attr-defined]
        client._api.policy = _http.RetryPolicy(retries=3)
        client._api.sleep = client.slept.append  # type: ignore[attr-defined]
        yield client


def _api(sb: Any, method: str | None = None, path: str = "") -> list[Any]:
    return [r for r in sb.requests if r.server == "api" and r.path.startswith(path)
            and (method is None or r.method == method)]


def _completed_render(c: Client) -> Any:
    return next(r for r in c.renders(status="completed") if r.is_current and r.url)


# --- read-only, on the session sandbox --------------------------------------------------------

def test_renders_lists_every_seeded_render_with_its_status(client, fresh_sandbox) -> None:
    seeded = fresh_sandbox.seed_data["renders_by_status"]
    by_id = {r.id: r.status for r in client.renders()}
    assert set(seeded) == STATUSES
    for status, ids in seeded.items():
        for render_id in ids:
            assert by_id[str(render_id)] == status
    assert set(by_id.values()) >= STATUSES


def test_renders_have_takes_urls_and_layers(client) -> None:
    renders = client.renders()
    assert any(r.takes > 1 for r in renders) and any(not r.is_current for r in renders)
    done = [r for r in renders if r.status == "completed"]
    assert all(r.url and r.url.endswith(".mp4") for r in done)
    failed = [r for r in renders if r.status == "failed"]
    assert all(r.failed_reason for r in failed)
    layers = client.layers(done[0])
    assert layers and {"audio", "video"} <= {la.kind for la in layers}
    assert [la.name for la in client.layers(done[0].id)] == [la.name for la in layers]


def test_engines_and_both_prefixes(fresh_sandbox, client) -> None:
    ids = [e.id for e in client.engines()]
    assert ids == [str(i) for i in fresh_sandbox.seed_data["engines"]]
    with gen_nb.connect(sandbox=fresh_sandbox, engine_prefix="autocontentengine",
                        quiet=True) as old:
        assert [e.id for e in old.engines()] == ids
        assert old.engine(ids[0]).rows
    assert _api(fresh_sandbox, "GET", "/v1/autocontentengine")


def test_resources_reads_all_pages(client, fresh_sandbox) -> None:
    seeded = fresh_sandbox.seed_data["content_resources"]
    found = client.resources()
    assert len(found) > 20 and {r.id for r in found} <= {str(i) for i in seeded}
    pages = [r.query.get("page") for r in _api(fresh_sandbox, "GET", "/v1/content_resources")]
    assert pages == [str(n) for n in range(len(pages))] and len(pages) >= 2
    videos = client.resources(type="video")
    assert videos and all(r.kind == "video" for r in videos)


def test_resource_of_a_render_has_its_generator(client) -> None:
    render = _completed_render(client)
    res = client.resource(render.output_resource_id)
    assert res.url == render.url and res.generator is not None


def test_remotion_jobs(client, fresh_sandbox) -> None:
    engine_id = str(next(iter(fresh_sandbox.seed_data["engines"])))
    jobs = client.remotion_jobs(engine_id)
    assert jobs and {j.status for j in jobs} <= STATUSES
    assert _api(fresh_sandbox, "GET", "/v1/remotion_jobs")[0].query["project_id"] == engine_id


def test_wrong_key_and_unknown_agent(fresh_sandbox) -> None:
    bad = resolve_settings("gen_pat_wrong_key_123", agent_id=fresh_sandbox.agent_id,
                           base_url=fresh_sandbox.api_base, env={})
    with Client(bad) as c, pytest.raises(AuthenticationError) as info:
        c.engines()
    assert "gen_pat_wrong_key_123" not in str(info.value)
    with gen_nb.connect(sandbox=fresh_sandbox, agent_id="999999", quiet=True) as c, \
            pytest.raises(NotFoundError):
        c.engines()


def test_environment_pointing_at_a_sandbox_works_like_the_api(monkeypatch, fresh_sandbox) -> None:
    monkeypatch.setenv("GEN_API_BASE_URL", fresh_sandbox.api_base)
    monkeypatch.setenv("GEN_API_KEY", fresh_sandbox.api_key)
    monkeypatch.setenv("GEN_AGENT_ID", fresh_sandbox.agent_id)
    with gen_nb.connect() as c:
        assert c.sandbox is None and c.is_sandbox
        assert c.renders()


# --- key scoping ----------------------------------------------------------------------------------

def test_key_goes_to_the_api_only(client, fresh_sandbox) -> None:
    render = _completed_render(client)
    public = _http.public_session()
    assert public.get(render.url).status_code == 200
    assert client._api.session.get(render.thumbnail_url).status_code == 200  # API session, CDN URL
    put = fresh_sandbox.storage_put_url("scoping.bin")
    assert client._api.session.put(put, data=b"abc").status_code in (200, 201)
    records = fresh_sandbox.requests
    assert {r.server for r in records} >= {"api", "cdn", "storage"}
    for record in records:
        assert record.has_api_key is (record.server == "api"), record


@pytest.mark.parametrize("target", ["cdn", "storage", "api"])
def test_redirect_from_the_cdn_never_carries_the_key_off_the_api(client, fresh_sandbox,
                                                                target) -> None:
    render = _completed_render(client)
    urls = {"cdn": render.url, "storage": fresh_sandbox.storage_put_url("r.bin"),
            "api": f"{fresh_sandbox.api_base}/schedule/platforms"}
    fresh_sandbox.clear_log()
    client._api.session.get(fresh_sandbox.redirect_url(urls[target]))
    records = fresh_sandbox.requests
    assert records[0].server == "cdn" and not records[0].has_api_key
    assert all(r.has_api_key is (r.server == "api") for r in records)


def test_key_is_dropped_when_the_api_origin_redirects_elsewhere(fresh_sandbox) -> None:
    # Pretend the CDN origin is "the API": the key goes to its first hop, never past the redirect.
    settings = resolve_settings(fresh_sandbox.api_key, agent_id="1",
                                base_url=fresh_sandbox.cdn_base, env={})
    session = _http.api_session(settings)
    target = f"{fresh_sandbox.api_base}/schedule/platforms"  # another port: another origin
    session.get(fresh_sandbox.redirect_url(target))
    first, second = fresh_sandbox.requests[:2]
    assert (first.server, first.has_api_key) == ("cdn", True)
    assert (second.server, second.has_api_key) == ("api", False)


# --- retries against injected faults --------------------------------------------------------------

@pytest.mark.parametrize(("knobs", "times"), [({"status": 503}, 2), ({"status": 502}, 1),
                                             ({"status": 429, "retry_after": 2}, 1)])
def test_get_retries_injected_faults_and_honours_retry_after(c, sb, knobs, times) -> None:
    gid = str(sb.seed_data["renders_by_status"]["completed"][0])
    sb.inject("api", path=f"/v1/generations/{gid}", times=times, **knobs)
    assert c.generation(gid).status == "completed"
    assert len(_api(sb, "GET", f"/v1/generations/{gid}")) == times + 1
    assert len(c.slept) == times
    if "retry_after" in knobs:
        assert c.slept == [2]


def test_plain_post_is_not_retried(c, sb) -> None:
    sb.inject("api", path="/v1/generations/", method="POST", status=503, times=1)
    with pytest.raises(ServerError):
        c.stop(sb.seed_data["renders_by_status"]["processing"][0])
    assert len(_api(sb, "POST")) == 1 and c.slept == []


def test_stopped_sandbox_gives_network_error() -> None:
    from gen_nb import sandbox

    handle = sandbox.start()
    with gen_nb.connect(sandbox=handle, quiet=True, retries=0) as c:
        handle.stop()
        with pytest.raises(NetworkError, match=r"127\.0\.0\.1"):
            c.generation(1)


# --- renders, on the private sandbox --------------------------------------------------------------

def test_start_render_wait_completes_with_updates(c, sb) -> None:
    render = _completed_render(c)
    started = c.start_render(render.engine_id, render.cell_id)
    assert started.status == "pending"
    seen: list[str] = []
    done = c.wait(started.id, timeout=30, poll_interval=0.05,
                  on_update=lambda g: seen.append(g.status))
    assert done.status == "completed" and done.video is not None
    assert seen[-1] == "completed" and seen == sorted(
        seen, key=["pending", "processing", "completed"].index)
    assert len(seen) == len(set(seen)) and "processing" in seen
    call = _api(sb, "POST", "/v1/vidsheet")[0]
    assert call.query["agent_id"] == sb.agent_id and call.headers.get("Idempotency-Key")
    newest = [r for r in c.renders([render.engine_id]) if r.id == done.id]
    assert newest and newest[0].is_current and newest[0].take == newest[0].takes


def test_start_render_is_idempotent(c) -> None:
    render = _completed_render(c)
    first = c.start_render(render.engine_id, render.cell_id, idempotency_key="same-key")
    again = c.start_render(render.engine_id, render.cell_id, idempotency_key="same-key")
    other = c.start_render(render.engine_id, render.cell_id)
    assert first.id == again.id and other.id != first.id
    for gid in (first.id, other.id):
        c.wait(gid, timeout=30, poll_interval=0.05)


def test_stop_and_continue(c) -> None:
    render = _completed_render(c)
    started = c.start_render(render.engine_id, render.cell_id)
    assert c.stop(started.id).status == "stopped"
    with pytest.raises(RenderFailed, match="stopped"):
        c.wait(started.id, poll_interval=0.05)
    with pytest.raises(JobCannotBeStoppedError):
        c.stop(started.id)
    assert c.continue_generation(started.id).status in ("pending", "processing")
    assert c.wait(started.id, timeout=30, poll_interval=0.05).status == "completed"


def test_failed_render_and_no_credits(c, sb) -> None:
    render = _completed_render(c)
    sb.fail_next_renders(1, reason="No footage")
    started = c.start_render(render.engine_id, render.cell_id)
    with pytest.raises(RenderFailed, match="No footage"):
        c.wait(started.id, timeout=30, poll_interval=0.05)
    credits, sb.credits = sb.credits, 0
    try:
        with pytest.raises(InsufficientCreditsError):
            c.start_render(render.engine_id, render.cell_id)
    finally:
        sb.credits = credits


def test_wait_cancel(c) -> None:
    render = _completed_render(c)
    started = c.start_render(render.engine_id, render.cell_id)
    cancel = threading.Event()
    cancel.set()
    assert not c.wait(started.id, poll_interval=5, cancel=cancel).done
    c.wait(started.id, timeout=30, poll_interval=0.05)


# --- delete -------------------------------------------------------------------------------------

def test_delete_render_dry_run_confirm_428_then_cdn_404(c, sb) -> None:
    render = _completed_render(c)
    public = _http.public_session()
    assert public.get(render.url).status_code == 200
    plan = c.delete_resource(render.output_resource_id, dry_run=True)
    assert not plan.deleted and plan.url == render.url
    with pytest.raises(ConfirmationRequired, match="confirm=True"):
        c.delete_resource(render.output_resource_id)
    assert _api(sb, "DELETE") == []
    done = c.delete_resource(render.output_resource_id, confirm=True)
    assert done.deleted and done.would_destroy.get("content_resources") == 1
    deletes = _api(sb, "DELETE")
    assert deletes[0].status == 428 and deletes[1].status in (200, 204)
    assert "confirm_token" in deletes[1].query
    assert public.get(render.url).status_code == 404
    with pytest.raises(NotFoundError):
        c.resource(render.output_resource_id)


def test_delete_plain_resource_in_one_step(c, sb) -> None:
    upload = next(r for r in c.resources(type="image") if r.generator is None)
    assert c.delete_resource(upload.id, confirm=True).deleted
    assert [d.status for d in _api(sb, "DELETE")] in ([200], [204])


# --- publishing ---------------------------------------------------------------------------------

def test_publish_to_published(c, sb) -> None:
    render = _completed_render(c)
    post = c.publish(render, ["tiktok", "youtube"], description="Launch day #gen",
                     title="Launch", schedule_type="now")
    seen: list[str] = []
    final = c.wait_post(post.id, timeout=30, poll_interval=0.05,
                        on_update=lambda p: seen.append(p.state))
    assert final.state == "published" and seen[-1] == "published"
    assert all(s.post_url for s in final.platforms_status)
    sent = _api(sb, "POST", "/v1/schedule/with-post")[0]
    assert sent.headers.get("Idempotency-Key") and "X-Timezone-Offset" in sent.headers
    assert post.id in {p.id for p in c.posts()}


def test_publish_rule_violation_sends_nothing(c, sb) -> None:
    render = _completed_render(c)
    with pytest.raises(PlatformRuleError, match="280"):
        c.publish(render, ["x"], description="a" * 300)
    with pytest.raises(PlatformRuleError, match="title is required"):
        c.publish(render, ["youtube"], description="ok")
    assert _api(sb, "POST") == []


def test_publish_server_side_422(c, sb) -> None:
    render = _completed_render(c)
    with pytest.raises(PlatformValidationError) as info:
        c.publish(render, ["youtube"], description="no title", check=False)
    assert info.value.platform == "youtube" and info.value.status == 422
    assert len(_api(sb, "POST", "/v1/schedule/with-post")) == 1


def test_legacy_publish_job(c, sb) -> None:
    render = _completed_render(c)
    job = c.publish_legacy(render, description="legacy #tiktok")
    assert job.id and job.status == "pending"
    data = _api(sb, "POST", "/v1/user_jobs")[0]
    assert data.query["agent_id"] == sb.agent_id
    deadline = threading.Event()
    for _ in range(300):
        job = c.legacy_job(job.id)
        if job.done:
            break
        deadline.wait(0.05)
    assert job.status == "completed" and job.post_id


# --- connect() without a key --------------------------------------------------------------------

def test_connect_without_key_starts_one_shared_sandbox(capsys) -> None:
    first = gen_nb.connect()
    second = gen_nb.connect(quiet=True)
    try:
        out = capsys.readouterr().out
        assert out.count("\n") == 1 and "sandbox" in out and first.settings.base_url in out
        assert first.sandbox is second.sandbox and first.is_sandbox
        assert second.generation(first.renders()[0].id)
        first.close()
        assert second.engines()  # still running for the other client
    finally:
        first.close()
        second.close()
    with pytest.raises(NetworkError):
        Client(second.settings, sleep=lambda s: None).generation(1)


def test_a_wait_that_gives_up_can_stop_the_job_on_the_server() -> None:
    """``cancel_on_timeout=True`` stops the render when the client gives up (fal's
    client_timeout); without it the render goes on."""
    from _support import private_sandbox

    with private_sandbox(render_seconds=60.0) as (_, client):
        render = _completed_render(client)
        kept = client.start_render(render.engine_id, render.cell_id)
        with pytest.raises(WaitTimeout) as plain:
            client.wait(kept.id, timeout=0.3, poll_interval=0.05)
        assert "stopped on the server" not in str(plain.value)
        assert client.generation(kept.id).status in ("pending", "processing")
        stopped = client.start_render(render.engine_id, render.cell_id)
        with pytest.raises(WaitTimeout, match="stopped on the server") as info:
            client.wait(stopped.id, timeout=0.3, poll_interval=0.05, cancel_on_timeout=True)
        assert client.generation(stopped.id).status == "stopped"
        assert info.value.generation.status == "stopped"
