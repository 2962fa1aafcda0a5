"""Destructive and paid clicks act on what is on screen, against the real sandbox."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from gen_nb.widgets import RenderBrowser


def _completed(client: Any, count: int) -> list[Any]:
    done = [r for r in client.renders(status="completed") if r.thumbnail_url and r.is_current]
    assert len(done) >= count
    return done[:count]


def _deletes(sb: Any) -> list[Any]:
    return [r for r in sb.requests if r.server == "api" and r.method == "DELETE"]


def _alive(url: str) -> bool:
    return requests.get(url, timeout=10).status_code == 200


@pytest.fixture()
def own(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from gen_nb import sandbox

    handle = sandbox.start(render_seconds=1, publish_seconds=1)
    try:
        yield handle
    finally:
        handle.stop()


@pytest.fixture()
def client(own: Any) -> Any:
    import gen_nb

    with gen_nb.connect(sandbox=own, quiet=True) as c:
        yield c


def test_picking_another_render_while_the_plan_loads_deletes_nothing(own, client) -> None:
    a, b = _completed(client, 2)
    browser = RenderBrowser(client)
    browser.wait()
    browser.select(a)
    panel = browser.delete_button
    own.inject("api", path=f"/v1/content_resources/{a.output_resource_id}", method="GET",
               latency=0.6, times=1)
    panel.click()                       # A's dry run is in flight…
    browser.select(b)                   # …when B is picked
    assert panel.wait(10)
    panel.confirm()                     # nothing on screen to confirm
    assert panel.wait(10) and _deletes(own) == []
    assert _alive(a.url) and _alive(b.url)
    panel.click()
    assert panel.wait(10) and panel.plan.resource_id == b.output_resource_id
    panel.confirm()
    assert panel.wait(10) and len(_deletes(own)) == 2     # B: the 428, then its confirmation
    assert not _alive(b.url) and _alive(a.url)


def test_a_finished_delete_cannot_be_confirmed_again(own, client) -> None:
    (a,) = _completed(client, 1)
    browser = RenderBrowser(client)
    browser.wait()
    browser.select(a)
    panel = browser.delete_button
    panel.click()
    assert panel.wait(10)
    panel.confirm()
    assert panel.wait(10) and not _alive(a.url)
    sent = len(_deletes(own))
    panel.confirm()
    panel.confirm_button.click()
    assert panel.wait(10) and len(_deletes(own)) == sent


def test_a_larger_server_plan_is_shown_and_asked_again(own, client) -> None:
    (a,) = _completed(client, 1)
    post = client.publish(a, ["tiktok"], description="later", schedule_type="specific_time",
                          scheduled_time="2099-01-01T00:00:00Z")
    assert post.id
    browser = RenderBrowser(client)
    browser.wait()
    browser.select(a)
    panel = browser.delete_button
    panel.click()
    assert panel.wait(10)
    panel.confirm()                     # the server answers 428: 1 file AND a scheduled post
    assert panel.wait(10) and _alive(a.url)
    assert any("scheduled posts" in line.text for line in panel.plan_box.children)
    assert [r.query.get("confirm_token") for r in _deletes(own)] == [None]
    panel.confirm()                     # confirmed with the server's plan in view
    assert panel.wait(10) and not _alive(a.url)
    assert _deletes(own)[-1].query.get("confirm_token")


def test_publish_posts_the_render_that_was_on_screen(own, client) -> None:
    a, b = _completed(client, 2)
    browser = RenderBrowser(client)
    browser.wait()
    browser.select(a)
    panel = browser.publish_panel
    panel.platform_boxes["tiktok"].value = True
    panel.caption.value = "on screen"
    own.inject("api", path="/v1/schedule/with-post", latency=0.5, times=1)
    panel.click()
    browser.select(b)                   # the selection changes while the post is sent
    assert panel.wait(20)
    sent = [r for r in own.requests if r.path == "/v1/schedule/with-post"]
    assert len(sent) == 1 and panel.post is not None
    stored = own.seed_data["posts"][int(panel.post.id)]
    assert stored["media_url"] == a.url != b.url
