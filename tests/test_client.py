"""Client request shapes and answers, against documented payloads (``responses``, no server)."""

from __future__ import annotations

import json
import threading
import uuid

import pytest
import responses
from _support import body, ex, query
from hypothesis import given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st
from responses import matchers

import gen_nb
from gen_nb.api.client import Client
from gen_nb.api.errors import (
    AuthenticationError,
    ConfigError,
    ConfirmationRequired,
    JobCannotBeStoppedError,
    NotFoundError,
    RenderFailed,
    UnexpectedResponseError,
    ValidationError,
    WaitTimeout,
)
from gen_nb.api.settings import resolve_settings

API = "https://api.gen.pro/v1"
KEY = "gen_pat_client_TESTKEY"
AGENT = "77"


@pytest.fixture()
def api():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def make_client(prefix: str = "vidsheet", agent: str | None = AGENT, **kw) -> Client:
    settings = resolve_settings(KEY, agent_id=agent, engine_prefix=prefix, env={}, **kw)
    return Client(settings, sleep=lambda s: None)


@pytest.fixture()
def client():
    with make_client() as c:
        yield c


# --- connect, repr ------------------------------------------------------------------------------

def test_connect_with_key_talks_to_the_api(monkeypatch) -> None:
    monkeypatch.setenv("GEN_API_KEY", KEY)
    monkeypatch.setenv("GEN_AGENT_ID", AGENT)
    with gen_nb.connect() as c:
        assert not c.is_sandbox and c.sandbox is None
        assert c.settings.base_url == API and c.settings.agent_id == AGENT
        text = repr(c) + str(c) + repr(c.settings)
        assert API in repr(c) and AGENT in repr(c) and KEY not in text


def test_connect_refuses_without_key_when_sandbox_is_false() -> None:
    with pytest.raises(ConfigError, match="GEN_API_KEY"):
        gen_nb.connect(sandbox=False)


def test_connect_validates_before_starting_anything() -> None:
    with pytest.raises(ConfigError, match="engine_prefix"):
        gen_nb.connect(engine_prefix="nope", sandbox=False)


# --- generations --------------------------------------------------------------------------------

def test_generation_needs_no_agent(api) -> None:
    api.get(f"{API}/generations/56789", json=ex("generation_completed"))
    with make_client(agent=None) as c:
        g = c.generation(56789)
    assert g.status == "completed" and g.video.url.endswith(".mp4")
    call = api.calls[0]
    assert query(call) == {} and call.request.headers["X-API-Key"] == KEY


def test_agent_scoped_call_without_agent_says_how_and_sends_nothing(api) -> None:
    with make_client(agent=None) as c, pytest.raises(ConfigError, match="GEN_AGENT_ID"):
        c.engine(812)
    assert len(api.calls) == 0


@pytest.mark.parametrize("prefix", ["vidsheet", "autocontentengine"])
@pytest.mark.parametrize("given_key", [None, "my-key-1"])
def test_start_render_request_shape(api, prefix, given_key) -> None:
    api.post(f"{API}/{prefix}/812/cells/3002/render", status=201, json=ex("render_started"))
    with make_client(prefix) as c:
        g = c.start_render(812, 3002, idempotency_key=given_key)
    assert (g.id, g.status) == ("56789", "pending")
    call = api.calls[0]
    assert query(call) == {"agent_id": AGENT} and body(call) == {"agent_id": AGENT}
    sent = call.request.headers["Idempotency-Key"]
    if given_key:
        assert sent == given_key
    else:
        assert uuid.UUID(sent).version == 4


def test_start_render_gets_a_new_key_each_time(api, client) -> None:
    api.post(f"{API}/vidsheet/1/cells/2/render", status=201, json=ex("render_started"))
    client.start_render(1, 2)
    client.start_render(1, 2)
    keys = {c.request.headers["Idempotency-Key"] for c in api.calls}
    assert len(keys) == 2


def test_start_render_is_retried_on_503_with_the_same_key(api, client) -> None:
    api.post(f"{API}/vidsheet/1/cells/2/render", status=503)
    api.post(f"{API}/vidsheet/1/cells/2/render", status=201, json=ex("render_started"))
    assert client.start_render(1, 2).status == "pending"
    assert len({c.request.headers["Idempotency-Key"] for c in api.calls}) == 1
    assert len(api.calls) == 2


@pytest.mark.parametrize(("method", "answer"), [
    ("stop", {"id": 5, "status": "stopped"}),
    ("continue_generation", {"id": 5, "status": "pending"})])
def test_stop_and_continue(api, client, method, answer) -> None:
    action = "stop" if method == "stop" else "continue"
    api.post(f"{API}/generations/5/{action}", json=answer)
    assert getattr(client, method)(5).status == answer["status"]


def test_stop_finished_job(api, client) -> None:
    api.post(f"{API}/generations/5/stop", status=422,
             json={"error": "Job cannot be stopped", "error_code": "job_cannot_be_stopped"})
    with pytest.raises(JobCannotBeStoppedError, match="generation 5"):
        client.stop(5)


def _sequence(api, gid: int, statuses: list[str], reason: str | None = None) -> None:
    for status in statuses:
        api.get(f"{API}/generations/{gid}",
                json={"id": gid, "status": status, "failed_reason": reason})


def test_wait_reports_each_status_change(api, client) -> None:
    _sequence(api, 9, ["pending", "pending", "processing", "processing", "completed"])
    seen: list[str] = []
    g = client.wait(9, poll_interval=0, on_update=lambda g: seen.append(g.status))
    assert g.status == "completed" and seen == ["pending", "processing", "completed"]
    assert len(api.calls) == 5


@pytest.mark.parametrize("final", ["failed", "stopped"])
def test_wait_raises_render_failed(api, client, final) -> None:
    _sequence(api, 9, ["processing", final], reason="Not enough footage")
    with pytest.raises(RenderFailed) as info:
        client.wait(9, poll_interval=0)
    assert info.value.generation.status == final and "Generation 9" in str(info.value)
    if final == "failed":
        assert "Not enough footage" in str(info.value)


def test_wait_can_return_failures(api, client) -> None:
    _sequence(api, 9, ["failed"])
    assert client.wait(9, poll_interval=0, raise_on_failure=False).status == "failed"


def test_wait_times_out(api, client) -> None:
    _sequence(api, 9, ["processing"])
    with pytest.raises(WaitTimeout) as info:
        client.wait(9, timeout=0, poll_interval=0)
    assert isinstance(info.value, TimeoutError) and "processing" in str(info.value)


def test_wait_stops_when_cancelled(api, client) -> None:
    _sequence(api, 9, ["processing"])
    cancel = threading.Event()
    g = client.wait(9, poll_interval=60, cancel=cancel,
                    on_update=lambda g: cancel.set())
    assert g.status == "processing" and len(api.calls) == 1


def test_get_is_retried_with_injected_sleep(api) -> None:
    slept: list[float] = []
    c = Client(resolve_settings(KEY, agent_id=AGENT, env={}), sleep=slept.append)
    api.get(f"{API}/generations/1", status=502)
    api.get(f"{API}/generations/1", json={"id": 1, "status": "pending"})
    assert c.generation(1).status == "pending" and len(slept) == 1


# --- errors through the mapper ------------------------------------------------------------------

def test_401_names_object_and_never_the_key(api, client) -> None:
    api.get(f"{API}/generations/3", status=401,
            json={"error": f"Invalid key {KEY}", "error_code": "unauthorized"})
    with pytest.raises(AuthenticationError) as info:
        client.generation(3)
    text = str(info.value)
    assert "generation 3" in text and "401" in text and "GEN_API_KEY" in text and KEY not in text


def test_html_answer_is_unexpected(api, client) -> None:
    api.get(f"{API}/generations/3", body="<html><body>Welcome to nginx</body></html>",
            content_type="text/html")
    with pytest.raises(UnexpectedResponseError, match="not JSON"):
        client.generation(3)


# --- engines and renders --------------------------------------------------------------------------

def _two_engines() -> list[dict]:
    first = ex("engine")
    second = json.loads(json.dumps(ex("engine")).replace("812", "813"))
    second["title"] = "Second"
    return [first, second]


def test_engines_from_the_list_endpoint(api, client) -> None:
    api.get(f"{API}/vidsheet", json=_two_engines())
    assert [e.id for e in client.engines()] == ["812", "813"]
    assert query(api.calls[0]) == {"agent_id": AGENT}


@pytest.mark.parametrize("status", [404, 405])
def test_engines_fall_back_to_named_ids(api, status) -> None:
    api.get(f"{API}/autocontentengine", status=status, body="Not Found")
    api.get(f"{API}/autocontentengine/812", json=ex("engine"))
    with make_client("autocontentengine", engine_ids="812") as c:
        assert [e.title for e in c.engines()] == ["Launch teasers"]


def test_engines_without_list_or_ids_says_how_to_name_them(api, client) -> None:
    api.get(f"{API}/vidsheet", status=404, json={"error": "Not found"})
    with pytest.raises(ConfigError) as info:
        client.engines()
    assert "GEN_NB_ENGINE_IDS" in str(info.value) and "engine_ids=" in str(info.value)


def test_unknown_agent_is_not_mistaken_for_a_missing_list(api) -> None:
    api.get(f"{API}/vidsheet", status=404,
            json={"error": "Agent not found", "error_code": "not_found"})
    with make_client(engine_ids="812") as c, pytest.raises(NotFoundError, match="Agent"):
        c.engines()


def test_renders_across_engines_with_status_filter(api, client) -> None:
    summaries = [{"id": 812, "title": "Launch teasers"}, {"id": 813, "title": "Second"}]
    api.get(f"{API}/vidsheet", json={"engines": summaries})
    first, second = _two_engines()
    api.get(f"{API}/vidsheet/812", json=first)
    api.get(f"{API}/vidsheet/813", json=second)
    renders = client.renders()
    assert [(r.engine_id, r.id, r.status) for r in renders] == [
        ("812", "56700", "failed"), ("812", "56789", "completed"),
        ("813", "56700", "failed"), ("813", "56789", "completed")]
    assert [r.engine_id for r in client.renders(status="failed")] == ["812", "813"]
    assert client.renders(["813"], status=["completed", "failed"])[0].engine_title == "Second"


def test_render_and_layers(api, client) -> None:
    api.get(f"{API}/vidsheet", json=[ex("engine")])
    api.get(f"{API}/vidsheet/812", json=ex("engine"))
    api.get(f"{API}/generations/56789", json=ex("generation_completed"))
    client.renders()                               # the client now knows where 56789 lives
    api.calls.reset()
    render = client.render(56789)                  # the generation + its (cached) engine
    assert render.cell_id == "3002" and render.is_current and render.status == "completed"
    assert [c.request.path_url.split("?")[0] for c in api.calls] == ["/v1/generations/56789"]
    names = [la.name for la in client.layers(render)]
    assert names == ["B-roll 1", "Voiceover", "Captions"]
    assert [la.name for la in client.layers("56789")] == names


def test_render_by_id_does_not_walk_the_workspace(api, client) -> None:
    api.get(f"{API}/vidsheet/812", json=ex("engine"))
    api.get(f"{API}/generations/56789", json=ex("generation_completed"))
    bare = client.render(56789)
    assert bare.engine_id is None and bare.url.endswith("render_xyz.mp4") and len(api.calls) == 1
    placed = client.render(56789, engine_id=812)
    assert placed.cell_id == "3002" and len(api.calls) == 3


def test_render_unknown_to_engines_falls_back_to_generation(api, client) -> None:
    api.get(f"{API}/vidsheet", json=[ex("engine")])
    api.get(f"{API}/generations/9000", json=ex("generation_openapi_variant"))
    render = client.render("9000")
    assert render.engine_id is None and render.url.endswith("abc123.mp4")


@pytest.mark.parametrize("page", [None, 2])
def test_remotion_jobs(api, client, page) -> None:
    api.get(f"{API}/remotion_jobs", json=ex("remotion_jobs_page"))
    jobs = client.remotion_jobs(812, page=page)
    assert [j.status for j in jobs] == ["completed", "processing"]
    expected = {"agent_id": AGENT, "project_id": "812"} | ({"page": "2"} if page else {})
    assert query(api.calls[0]) == expected


# --- content resources ----------------------------------------------------------------------------

def _page(start: int, count: int) -> list[dict]:
    return [{"id": start + i, "url": f"https://cdn.gen.pro/uploads/{start + i}.mp4",
             "file_name": f"{start + i}.mp4", "content_type": "video/mp4"} for i in range(count)]


@pytest.mark.parametrize(("sizes", "requests_made"), [([20, 20, 3], 3), ([20, 0], 2), ([5], 1),
                                                      ([0], 1)])
def test_resources_reads_every_page(api, client, sizes, requests_made) -> None:
    for number, size in enumerate(sizes):
        api.get(f"{API}/content_resources", json=_page(number * 100, size),
                match=[matchers.query_param_matcher({"agent_id": AGENT, "type": "video",
                                                     "page": str(number)})])
    found = client.resources(type="video")
    assert len(found) == sum(sizes) and len(api.calls) == requests_made


def test_resources_stop_when_the_server_ignores_page(api, client) -> None:
    api.get(f"{API}/content_resources", json=_page(0, 20))
    with pytest.raises(UnexpectedResponseError, match="repeats an earlier page"):
        client.resources()
    assert len(api.calls) == 2


def test_resources_stop_when_pages_never_end(api, client) -> None:
    """Rotating ids defeat a repeat check: the page limit still ends the listing."""
    pages = iter(range(0, 10**6, 20))
    api.add_callback("GET", f"{API}/content_resources",
                     callback=lambda req: (200, {}, json.dumps(_page(next(pages), 20))))
    from gen_nb.api import resources as resource_listing

    with pytest.raises(UnexpectedResponseError, match="no last page"):
        resource_listing.resources(client._api, None, None, max_pages=30)
    assert len(api.calls) == 30


def test_resources_reject_unknown_type(client) -> None:
    with pytest.raises(ValueError, match="safe_tensors"):
        client.resources(type="movie")


def test_resource_envelope(api, client) -> None:
    api.get(f"{API}/content_resources/4821", json=ex("content_resource"))
    res = client.resource(4821)
    assert res.file_name == "render_xyz.mp4" and res.generator.status == "completed"
    assert query(api.calls[0]) == {"agent_id": AGENT}


def test_resource_not_found(api, client) -> None:
    api.get(f"{API}/content_resources/1", status=404,
            json={"error": "Not found", "error_code": "content_resource_not_found"})
    with pytest.raises(NotFoundError, match="content resource 1"):
        client.resource(1)


def _deletes(api) -> list:
    return [c for c in api.calls if c.request.method == "DELETE"]


def test_delete_dry_run_sends_no_delete(api, client) -> None:
    api.get(f"{API}/content_resources/4821", json=ex("content_resource"))
    plan = client.delete_resource(4821, dry_run=True)
    assert not plan.deleted and plan.url.endswith("render_xyz.mp4")
    assert any("404" in w for w in plan.warnings) and any("post" in w for w in plan.warnings)
    assert _deletes(api) == []


def test_delete_without_confirm_raises_and_sends_nothing(api, client) -> None:
    api.get(f"{API}/content_resources/4821", json=ex("content_resource"))
    with pytest.raises(ConfirmationRequired) as info:
        client.delete_resource(4821)
    assert "render_xyz.mp4" in str(info.value) and "confirm=True" in str(info.value)
    assert _deletes(api) == []


@pytest.mark.parametrize(("status", "payload"), [(204, None), (200, ""), (200, "{}")])
def test_delete_accepts_200_and_204(api, client, status, payload) -> None:
    api.get(f"{API}/content_resources/5012", json=ex("content_resources_page")[0])
    api.delete(f"{API}/content_resources/5012", status=status, body=payload)
    plan = client.delete_resource(5012, confirm=True)
    assert plan.deleted and query(_deletes(api)[0]) == {"agent_id": AGENT}


def test_delete_two_phase(api, client) -> None:
    api.get(f"{API}/content_resources/4821", json=ex("content_resource"))
    api.delete(f"{API}/content_resources/4821", status=428, json=ex("delete_two_phase"),
               match=[matchers.query_param_matcher({"agent_id": AGENT})])
    api.delete(f"{API}/content_resources/4821", status=204,
               match=[matchers.query_param_matcher({"agent_id": AGENT,
                                                    "confirm_token": "tok_7f3a"})])
    plan = client.delete_resource(4821, confirm=True)
    assert plan.deleted and plan.would_destroy["content_resources"] == 1
    assert len(_deletes(api)) == 2


@pytest.mark.parametrize("status", [410, 422, 428])
def test_delete_with_rejected_token_says_so(api, client, status) -> None:
    api.get(f"{API}/content_resources/4821", json=ex("content_resource"))
    api.delete(f"{API}/content_resources/4821", status=428, json=ex("delete_two_phase"),
               match=[matchers.query_param_matcher({"agent_id": AGENT})])
    api.delete(f"{API}/content_resources/4821", status=status,
               json={"error": "Invalid or expired confirm token", "error_code": "validation_error"})
    with pytest.raises(Exception) as info:
        client.delete_resource(4821, confirm=True)
    text = str(info.value)
    assert "rejected or has expired" in text and "nothing was deleted" in text
    assert "content resource 4821" in text
    if status == 422:
        assert isinstance(info.value, ValidationError)


_SECRETS = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
                   min_size=10, max_size=40)


@hyp_settings(max_examples=40, deadline=None)
@given(secret=_SECRETS, kind=st.sampled_from(["pat", "jwt"]))
def test_random_keys_never_show(secret, kind) -> None:
    key = f"gen_pat_{secret}" if kind == "pat" else f"eyJ{secret}.eyJ{secret[::-1]}.sig{secret}"
    c = Client(resolve_settings(key, agent_id=AGENT, env={}), sleep=lambda s: None)
    with responses.RequestsMock() as mock:
        mock.get(f"{API}/generations/1", status=401,
                 json={"error": f"Key {key} is not valid", "error_code": "unauthorized"})
        with pytest.raises(AuthenticationError) as info:
            c.generation(1)
        sent = mock.calls[0].request.headers
        assert sent.get("X-API-Key") == key or sent.get("Authorization") == f"Bearer {key}"
    for text in (repr(c), str(c), repr(c.settings), repr(c._api.session), repr(c._api.session.auth),
                 str(info.value), repr(info.value)):
        assert key not in text
    c.close()
