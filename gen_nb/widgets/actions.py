"""The one core call behind each bulk action of the dashboard (no widgets here).

Each function takes renders and returns one outcome per render, never raising for one bad
item, so a bulk panel only shows what came back:

* :func:`download_all` → ``gen_nb.download_many`` (one aggregate progress);
* :func:`export_all` → ``gen_nb.export`` to a folder or storage URL;
* :func:`check_each` → the platform rules per render (``client.check_post``), before sending;
* :func:`publish_each` → ``client.publish`` then ``client.wait_post`` per render;
* :func:`plan_deletes` / :func:`delete_planned` → dry runs, then exactly those plans.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gen_nb.api.settings import TransferOptions

__all__ = ["BulkOutcome", "check_each", "delete_planned", "download_all", "export_all",
           "plan_deletes", "publish_each"]


@dataclass(frozen=True)
class BulkOutcome:
    """What happened to one render: ``value`` (a Post, a DeletePlan…) or ``error`` (text);
    ``again`` holds a larger plan GEN wants confirmed before it deletes."""

    render: Any
    value: Any = None
    error: str | None = None
    again: Any = None


def download_all(renders: Sequence[Any], dest: Any, *, options: TransferOptions | None = None,
                 progress: Any = None, cancel: threading.Event | None = None) -> list[Any]:
    """``gen_nb.download_many`` of the renders into ``dest`` (a folder)."""
    from gen_nb.transfer import download_many

    return download_many(list(renders), dest, options=options, progress=progress,
                         cancel=cancel)


def export_all(client: Any, renders: Sequence[Any], dest: str, *, layers: bool = False,
               options: TransferOptions | None = None, progress: Any = None,
               cancel: threading.Event | None = None) -> Any:
    """``gen_nb.export`` of the renders (and, with ``layers``, their layer outputs)."""
    from gen_nb.export import export

    return export(list(renders), dest, client=client, layers=layers, status="all",
                  options=options, progress=progress, cancel=cancel)


def check_each(client: Any, renders: Sequence[Any], platforms: Sequence[str], *,
               description: str = "", title: str | None = None) -> dict[str, list[str]]:
    """Rule violations per render id (empty lists for the renders that can be posted)."""
    if not platforms:
        return {r.id: ["Tick at least one platform."] for r in renders}
    found: dict[str, list[str]] = {}
    for render in renders:
        if render.status != "completed" or not render.url:
            found[render.id] = [f"Render {render.id} has no video to post ({render.status})."]
            continue
        found[render.id] = list(client.check_post(list(platforms), description=description,
                                                  title=title, media_url=render.url))
    return found


def publish_each(client: Any, renders: Sequence[Any], platforms: Sequence[str],
                 fields: dict[str, Any], *, cancel: threading.Event | None = None,
                 on_post: Callable[[Any, Any], Any] | None = None,
                 timeout: float = 120.0) -> list[BulkOutcome]:
    """Post each render, then follow each post to published/failed (one request at a time:
    publishing is never retried blindly)."""
    sent: list[BulkOutcome] = []
    for render in renders:
        if cancel is not None and cancel.is_set():
            sent.append(BulkOutcome(render, error="not sent: cancelled"))
            continue
        try:
            post = client.publish(render, list(platforms), **fields)
        except Exception as exc:
            sent.append(BulkOutcome(render, error=_text(exc)))
            continue
        if on_post is not None:
            on_post(render, post)
        sent.append(BulkOutcome(render, post))
    return [_followed(client, outcome, cancel, on_post, timeout) for outcome in sent]


def _followed(client: Any, outcome: BulkOutcome, cancel: Any, on_post: Any,
              timeout: float) -> BulkOutcome:
    if outcome.value is None:
        return outcome
    try:
        post = client.wait_post(outcome.value.id, timeout=timeout, cancel=cancel)
    except Exception as exc:  # the post goes on; its state is what we saw last
        return BulkOutcome(outcome.render, outcome.value, error=_text(exc))
    if on_post is not None:
        on_post(outcome.render, post)
    return BulkOutcome(outcome.render, post)


def plan_deletes(client: Any, renders: Sequence[Any]) -> list[BulkOutcome]:
    """A dry run per render with a stored file: what would be destroyed (nothing is)."""
    plans = []
    for render in renders:
        rid = getattr(render, "output_resource_id", None)
        if not rid:
            plans.append(BulkOutcome(render, error="no stored file to delete"))
            continue
        try:
            plans.append(BulkOutcome(render, client.delete_resource(rid, dry_run=True)))
        except Exception as exc:
            plans.append(BulkOutcome(render, error=_text(exc)))
    return plans


def delete_planned(client: Any, planned: Sequence[BulkOutcome], *,
                   cancel: threading.Event | None = None) -> list[BulkOutcome]:
    """Delete exactly the plans shown (``BulkOutcome.value``), one confirmation each; a larger
    server plan deletes nothing and comes back in ``again`` to be shown and confirmed."""
    from gen_nb.api.resources import ServerPlanRequired

    done = []
    for outcome in planned:
        plan = outcome.value
        if plan is None:
            continue
        if cancel is not None and cancel.is_set():
            done.append(BulkOutcome(outcome.render, plan, error="not deleted: cancelled"))
            continue
        try:
            deleted = client.delete_resource(str(plan.resource_id), confirm=True, plan=plan)
        except ServerPlanRequired as exc:
            done.append(BulkOutcome(outcome.render, plan, again=exc.plan,
                                error="GEN's plan is larger: nothing deleted yet"))
        except Exception as exc:
            done.append(BulkOutcome(outcome.render, plan, error=_text(exc)))
        else:
            done.append(BulkOutcome(outcome.render, deleted))
    return done


def _text(exc: BaseException) -> str:
    from gen_nb.widgets.text import error_text

    return error_text(exc)
