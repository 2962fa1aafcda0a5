"""Bulk publish and bulk delete on a selection, through the dashboard's BulkPanel, without a
kernel: rules checked per render before anything is sent, one confirmation bound to exactly the
list shown, a selection change discarding the plan, a second confirm sending nothing."""

from __future__ import annotations

import html
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from _support import private_sandbox
from _widget_support import click

from gen_nb.widgets import RenderBrowser

WAIT = 60.0


@pytest.fixture()
def world() -> Iterator[tuple[Any, Any]]:
    """A private sandbox per test (these tests publish and delete) and its client."""
    with private_sandbox(render_seconds=1.0, publish_seconds=0.5) as pair:
        yield pair


@dataclass
class Ticked:
    sandbox: Any
    browser: RenderBrowser
    delete: Any          # the Selection tab's bulk delete panel
    renders: list[Any]   # three renders with stored files; the first two are ticked


@pytest.fixture()
def ticked(world: tuple[Any, Any]) -> Ticked:
    sandbox, client = world
    browser = RenderBrowser(client)
    browser.wait()
    renders = _with_files(browser, 3)
    browser.picker.check(renders[:2])
    return Ticked(sandbox, browser, browser.bulk.delete, renders)


def _with_files(browser: RenderBrowser, n: int) -> list[Any]:
    found = [r for r in browser.picker.renders
             if r.status == "completed" and r.url and r.output_resource_id][:n]
    assert len(found) == n
    return found


def _calls(sandbox: Any, method: str, fragment: str) -> int:
    return sum(1 for r in sandbox.requests if r.method == method and fragment in r.path)


def test_bulk_publish_checks_rules_per_render_then_posts_the_rest(world: tuple[Any, Any]) -> None:
    own_sandbox, own_client = world
    browser = RenderBrowser(own_client)
    browser.wait()
    renders = _with_files(browser, 2)
    pending = next(r for r in browser.picker.renders if r.status != "completed")
    browser.picker.check([*renders, pending])
    publish = browser.bulk.publish
    assert publish.button.description == "Publish (3)"
    click(publish.button)                        # no platform ticked: nothing is sent
    assert _calls(own_sandbox, "POST", "/schedule/with-post") == 0
    assert "Nothing sent" in publish.message.text
    publish.boxes["youtube"].value = True        # YouTube needs a title
    click(publish.button)
    assert _calls(own_sandbox, "POST", "/schedule/with-post") == 0
    assert "title" in publish.report.value.lower()
    publish.title.value = "Spring launch"
    publish.caption.value = "Three takes, one launch"
    click(publish.button)
    assert publish.wait(WAIT), publish.message.text
    # the pending render was not sent
    assert _calls(own_sandbox, "POST", "/schedule/with-post") == 2
    assert "2 of 2 posts published; 1 renders not sent." in publish.message.text
    assert html.escape(pending.title or pending.id) in publish.report.value  # listed as not sent
    posted = [p for p in own_client.posts() if p.state == "published"]
    assert len(posted) >= 2


def test_bulk_delete_deletes_exactly_the_list_shown_once(ticked: Ticked) -> None:
    own_sandbox, delete = ticked.sandbox, ticked.delete
    first, second, third = ticked.renders
    click(delete.button)
    assert delete.wait(WAIT)
    assert [o.render.id for o in delete.plans] == [first.id, second.id]
    assert delete.confirm_button.description == "Confirm delete of 2 files"
    assert _calls(own_sandbox, "DELETE", "/") == 0   # a dry run deletes nothing
    click(delete.confirm_button)
    assert delete.wait(WAIT), delete.message.text
    deleted = {p.split("/")[-1] for r in own_sandbox.requests if r.method == "DELETE"
               for p in [r.path]}
    assert deleted == {str(first.output_resource_id), str(second.output_resource_id)}
    before = _calls(own_sandbox, "DELETE", "/")
    click(delete.confirm_button)                 # a finished delete cannot be confirmed again
    assert delete.wait(WAIT)
    assert _calls(own_sandbox, "DELETE", "/") == before
    assert str(third.output_resource_id) not in deleted


def test_a_selection_change_discards_the_bulk_plan(ticked: Ticked) -> None:
    own_sandbox, browser, delete = ticked.sandbox, ticked.browser, ticked.delete
    first, _, third = ticked.renders
    click(delete.button)
    assert delete.wait(WAIT) and len(delete.plans) == 2
    browser.picker.check([first, third])         # the user changes the selection
    assert delete.plans == [] and delete.button.layout.display != "none"
    click(delete.confirm_button)                 # the old confirm does nothing now
    assert delete.wait(WAIT)
    assert _calls(own_sandbox, "DELETE", "/") == 0


def test_a_selection_change_during_the_dry_run_discards_its_answer(ticked: Ticked) -> None:
    own_sandbox, browser, delete = ticked.sandbox, ticked.browser, ticked.delete
    third = ticked.renders[2]
    own_sandbox.inject(server="api", latency=0.5, times=2)   # the dry runs are slow
    click(delete.button)
    browser.picker.check([third])                # changed while the plan is in flight
    assert delete.wait(WAIT)
    assert delete.plans == []
    click(delete.confirm_button)
    assert delete.wait(WAIT)
    assert _calls(own_sandbox, "DELETE", "/") == 0
