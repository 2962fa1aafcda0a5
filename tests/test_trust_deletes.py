"""Deletes act on exactly what the user saw: the id asked for, the plan shown, or nothing."""

from __future__ import annotations

import pytest
import responses
from responses import matchers

from gen_nb.api.client import Client
from gen_nb.api.errors import GenError, UnexpectedResponseError, UsageError
from gen_nb.api.resources import ServerPlanRequired
from gen_nb.api.settings import resolve_settings

API = "https://api.gen.pro/v1"
AGENT = "7"
URL = "https://cdn.gen.pro/outputs/render_xyz.mp4"


def _resource(rid: int | str = 4821, url: str = URL) -> dict:
    return {"content_resource": {"id": rid, "url": url, "file_name": "render_xyz.mp4"},
            "generator": {"id": 56789, "status": "completed", "type": "video_render"}}


@pytest.fixture()
def api():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture()
def client():
    with Client(resolve_settings("gen_pat_del_KEY", agent_id=AGENT, env={}),
                sleep=lambda s: None) as c:
        yield c


def _deletes(api) -> list:
    return [c for c in api.calls if c.request.method == "DELETE"]


@pytest.mark.parametrize("bad", ["../vidsheet/812", "4821/../812", "48 21", "", ".", "..",
                                 "a?b", "a#b", "x" * 300, "\u0000", 4.5, None, True])
def test_an_id_that_could_change_the_path_is_refused_before_sending(api, client, bad) -> None:
    with pytest.raises(UsageError):
        client.delete_resource(bad, confirm=True)
    assert api.calls == [] or len(api.calls) == 0


def test_ids_are_percent_encoded_into_the_path(api, client) -> None:
    api.get(f"{API}/content_resources/a%2Bb", json=_resource("a+b"))
    plan = client.delete_resource("a+b", dry_run=True)
    assert plan.resource_id == "a+b" and api.calls[0].request.path_url.startswith(
        "/v1/content_resources/a%2Bb?")


def test_a_get_answer_about_another_id_deletes_nothing(api, client) -> None:
    api.get(f"{API}/content_resources/4821", json=_resource(812))
    with pytest.raises(UnexpectedResponseError, match="answered with 812"):
        client.delete_resource(4821, confirm=True)
    assert _deletes(api) == []


def test_a_plan_made_for_another_resource_deletes_nothing(api, client) -> None:
    api.get(f"{API}/content_resources/4821", json=_resource(4821))
    api.get(f"{API}/content_resources/4822", json=_resource(4822, URL.replace("xyz", "abc")))
    plan = client.delete_resource(4821, dry_run=True)
    with pytest.raises(UsageError, match="plan is for content resource 4821"):
        client.delete_resource(4822, confirm=True, plan=plan)
    assert _deletes(api) == []


def test_a_plan_whose_url_changed_deletes_nothing(api, client) -> None:
    api.get(f"{API}/content_resources/4821", json=_resource(4821))
    plan = client.delete_resource(4821, dry_run=True)
    api.replace(responses.GET, f"{API}/content_resources/4821",
                json=_resource(4821, URL.replace("xyz", "new")))
    with pytest.raises(UsageError, match=r"not .* as in the plan shown"):
        client.delete_resource(4821, confirm=True, plan=plan)
    assert _deletes(api) == []


def test_a_larger_server_plan_is_shown_not_confirmed(api, client) -> None:
    big = {"content_resources": 57, "scheduled_posts": 12, "engines": 3}
    api.get(f"{API}/content_resources/4821", json=_resource())
    api.delete(f"{API}/content_resources/4821", status=428,
               json={"would_destroy": big, "confirm_token": "tok_big"},
               match=[matchers.query_param_matcher({"agent_id": AGENT})])
    plan = client.delete_resource(4821, dry_run=True)
    with pytest.raises(ServerPlanRequired) as info:
        client.delete_resource(4821, confirm=True, plan=plan)
    assert len(_deletes(api)) == 1                      # the token was not used
    exc = info.value
    assert exc.plan.would_destroy == big and exc.plan.confirm_token == "tok_big"
    assert "57" in str(exc) and "scheduled posts: 12" in str(exc)
    api.delete(f"{API}/content_resources/4821", status=204,
               match=[matchers.query_param_matcher({"agent_id": AGENT,
                                                    "confirm_token": "tok_big"})])
    done = client.delete_resource(4821, confirm=True, plan=exc.plan)   # confirm exactly that
    assert done.deleted and done.confirm_token is None and len(_deletes(api)) == 2


def test_a_plan_within_the_one_shown_is_confirmed_once(api, client) -> None:
    api.get(f"{API}/content_resources/4821", json=_resource())
    api.delete(f"{API}/content_resources/4821", status=428,
               json={"would_destroy": {"content_resources": 1, "renders": 1},
                     "confirm_token": "tok_ok"},
               match=[matchers.query_param_matcher({"agent_id": AGENT})])
    api.delete(f"{API}/content_resources/4821", status=200, body="",
               match=[matchers.query_param_matcher({"agent_id": AGENT,
                                                    "confirm_token": "tok_ok"})])
    assert client.delete_resource(4821, confirm=True).deleted
    assert len(_deletes(api)) == 2


def test_every_delete_error_is_a_gen_error(api, client) -> None:
    api.get(f"{API}/content_resources/4821", body="<html>proxy</html>", status=502)
    with pytest.raises(GenError):
        client.delete_resource(4821, confirm=True)
