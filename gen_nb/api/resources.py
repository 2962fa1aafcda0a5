"""Content resources: paging the list, one resource, and a delete bound to the plan shown.

Deleting is permanent, so a delete acts on exactly what the user saw:

* :func:`plan_delete` (the dry run) reads the resource and returns a
  :class:`~gen_nb.api.models.DeletePlan` naming its id and URL;
* :func:`delete` deletes the requested id only after reading it again and checking that the
  server names the same id (and, when a plan is given, the same URL as in the plan);
* when the server answers 428 with a ``would_destroy`` that goes beyond the plan shown (more
  files, scheduled posts, engines…), nothing is confirmed: :class:`ServerPlanRequired` carries
  the server's plan and its token; passing that plan back (``plan=exc.plan``) confirms it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from gen_nb.api.calls import ApiCalls
from gen_nb.api.catalog import items_of
from gen_nb.api.errors import APIError, ConfirmationRequired, UnexpectedResponseError, UsageError
from gen_nb.api.models import ContentResource, DeletePlan, parse_list

__all__ = ["MAX_PAGES", "PAGE_SIZE", "RESOURCE_TYPES", "ServerPlanRequired", "delete",
           "plan_delete", "resource", "resources", "within"]

PAGE_SIZE = 20
MAX_PAGES = 5_000
RESOURCE_TYPES = ("video", "image", "audio", "zip", "safe_tensors")


class ServerPlanRequired(ConfirmationRequired):
    """The server would destroy more than the plan that was confirmed; nothing was deleted.

    ``plan`` is a :class:`DeletePlan` with the server's ``would_destroy`` and its
    ``confirm_token``: show it, and pass it back (``delete_resource(id, confirm=True,
    plan=exc.plan)``) to confirm exactly that.
    """

    def __init__(self, message: str, *, plan: DeletePlan, **kwargs: Any) -> None:
        self.plan = plan
        super().__init__(message, **kwargs)


def resources(api: ApiCalls, type: str | None, project_id: str | int | None,
              max_pages: int = MAX_PAGES) -> list[ContentResource]:
    """Every page of ``GET /content_resources`` (0-based, 20 a page) until a short one.

    Stops with an UnexpectedResponseError when a page repeats one already seen (a server
    ignoring ``page``) or ``max_pages`` pages came and still no end.
    """
    if type is not None and type not in RESOURCE_TYPES:
        raise UsageError(f"type={type!r} is not one of {list(RESOURCE_TYPES)}.")
    found: list[ContentResource] = []
    seen: set[tuple[str, ...]] = set()
    for page in range(max_pages):
        data = api.json("GET", "content_resources", agent=True,
                        params={"type": type, "project_id": project_id, "page": page},
                        subject=f"content resources page {page}")
        items = parse_list(ContentResource, items_of(data))
        ids = tuple(r.id for r in items)
        if ids and ids in seen:
            raise _paging_error(f"page {page} repeats an earlier page", len(found))
        seen.add(ids)
        found += items
        if len(items) < PAGE_SIZE:
            return found
    raise _paging_error(f"{max_pages} full pages came and no last page", len(found))


def _paging_error(what: str, count: int) -> UnexpectedResponseError:
    return UnexpectedResponseError(
        f"Listing content resources stopped: {what} ({count:,} resources read). The server "
        "does not page as GEN documents (0-based pages of 20, ending with a short page); "
        "filter with type= or project_id=, or check GEN_API_BASE_URL.",
        status=200, subject="content resources")


def resource(api: ApiCalls, resource_id: str | int) -> ContentResource:
    """``GET /content_resources/{id}`` (with its generator when there is one)."""
    data = api.json("GET", api.path("content_resources/{}", resource_id), agent=True,
                    subject=f"content resource {resource_id}")
    if not isinstance(data, Mapping):
        raise UnexpectedResponseError(status=200, subject=f"content resource {resource_id}",
                                      server_message="the answer is not an object")
    return ContentResource.from_api(data)


def plan_delete(api: ApiCalls, resource_id: str | int) -> DeletePlan:
    """The dry run: what deleting ``resource_id`` destroys, read from the server."""
    return _plan_for(_checked(api, resource_id))


def _checked(api: ApiCalls, resource_id: str | int) -> ContentResource:
    """The resource, refusing an answer about another id."""
    found = resource(api, resource_id)
    if found.id != str(resource_id).strip():
        raise UnexpectedResponseError(
            f"Asked for content resource {resource_id} but the server answered with "
            f"{found.id or 'no id'}; nothing was deleted. Check the id and GEN_API_BASE_URL.",
            status=200, subject=f"content resource {resource_id}")
    return found


def _plan_for(res: ContentResource) -> DeletePlan:
    warnings = [f"The file {res.file_name or res.id} goes for good and its URL ({res.url}) "
                "will answer 404: engine rows, scheduled posts and links that use it break."]
    destroy: dict[str, Any] = {"content_resources": 1}
    if res.generator is not None:
        destroy["renders" if "render" in (res.generator.type or "") else "generations"] = 1
        warnings.append(f"It is the output of {res.generator.type or 'generation'} "
                        f"{res.generator.id}; deleting the engine would not have removed it.")
    return DeletePlan(resource_id=res.id, url=res.url, file_name=res.file_name,
                      would_destroy={**destroy, "urls": [res.url] if res.url else []},
                      warnings=tuple(warnings))


def within(server: Mapping[str, Any], shown: Mapping[str, Any]) -> bool:
    """Whether the server's ``would_destroy`` stays inside the plan shown (every count ≤)."""
    for key, value in server.items():
        if key == "urls":
            continue
        limit = shown.get(key, 0)
        if isinstance(value, bool) or not isinstance(value, int | float) or \
                not isinstance(limit, int | float) or value > limit:
            return False
    return True


def delete(api: ApiCalls, resource_id: str | int, plan: DeletePlan | None) -> DeletePlan:
    """Delete exactly ``resource_id`` (see the module docstring for the binding rules)."""
    if plan is not None and plan.resource_id != str(resource_id).strip():
        raise UsageError(f"The plan is for content resource {plan.resource_id}, not "
                         f"{resource_id}; nothing was deleted. Make a plan for this one first.")
    current = _checked(api, resource_id)
    shown = plan or _plan_for(current)
    if plan is not None and plan.url != current.url:
        raise UsageError(f"Content resource {current.id} now has the URL {current.url}, not "
                         f"{plan.url} as in the plan shown; nothing was deleted. Make a new "
                         "plan (dry_run=True) and confirm that one.")
    path = api.path("content_resources/{}", current.id)
    subject = f"content resource {current.id}"
    if plan is not None and plan.confirm_token:
        _confirm(api, path, current.id, plan.confirm_token)
        return dataclasses.replace(shown, deleted=True, confirm_token=None)
    try:
        api.request("DELETE", path, agent=True, subject=subject)
        return dataclasses.replace(shown, deleted=True)
    except ConfirmationRequired as exc:
        if not exc.confirm_token:
            raise
        if not within(exc.would_destroy, shown.would_destroy):
            raise _larger(current, shown, exc) from None
        _confirm(api, path, current.id, exc.confirm_token)
        return dataclasses.replace(shown, deleted=True, would_destroy={
            **exc.would_destroy, "urls": list(shown.would_destroy.get("urls", []))})


def _larger(res: ContentResource, shown: DeletePlan, exc: ConfirmationRequired
            ) -> ServerPlanRequired:
    server = dataclasses.replace(shown, would_destroy=dict(exc.would_destroy),
                                 confirm_token=exc.confirm_token)
    listed = ", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in exc.would_destroy.items())
    return ServerPlanRequired(
        f"Deleting content resource {res.id} would destroy more than the plan you confirmed "
        f"({listed}); nothing was deleted. Look at the server's plan (exc.plan) and, to go "
        f"ahead with exactly that, call delete_resource({res.id!r}, confirm=True, "
        "plan=exc.plan).", plan=server, status=428, subject=f"content resource {res.id}",
        body={"would_destroy": dict(exc.would_destroy), "confirm_token": exc.confirm_token})


def _confirm(api: ApiCalls, path: str, resource_id: str, token: str) -> None:
    """The second DELETE of the two-phase flow; says so when the token is refused."""
    subject = f"confirming the delete of content resource {resource_id}"
    try:
        api.request("DELETE", path, agent=True, params={"confirm_token": token},
                    subject=subject, single_use=True)
    except APIError as exc:
        if exc.status not in (400, 403, 409, 410, 422, 428):
            raise
        code = f", error_code={exc.error_code!r}" if exc.error_code else ""
        raise type(exc)(
            f"The confirm token for deleting content resource {resource_id} was rejected or "
            f"has expired (HTTP {exc.status}{code}: {exc.server_message or 'no reason'}); "
            f"nothing was deleted. Call delete_resource({resource_id!r}, confirm=True) "
            "again to get a new token.",
            status=exc.status, error_code=exc.error_code, server_message=exc.server_message,
            subject=subject, body=exc.body) from exc
