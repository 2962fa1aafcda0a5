"""The sandbox's GEN API as a WSGI app: routing, auth, the clock, and error rendering.

The endpoints live in ``render_api`` and ``publishing_api``, each registered once with its rule
(see ``routing``). Auth is ``X-API-Key: <key>`` or ``Authorization: Bearer <key>`` unless the
endpoint is registered ``public=True``. Errors are raised as ``ApiError`` and rendered as
``{"error", "error_code"}`` (or the publishing service's ``{"detail": {...}}``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.wrappers import Request, Response

from . import publishing_api, render_api
from .errors import ApiError
from .routing import Ctx, Endpoint, Page, Routes
from .timeline import advance
from .world import World

ROUTES = Routes(render_api.routes, publishing_api.routes)
URLS = ROUTES.url_map()


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    """A JSON response; ``body=None`` gives an empty body (204, or 200 with no content), a
    :class:`Page` an HTML one."""
    if isinstance(body, Page):
        return Response(body.html, status=status, headers=headers, mimetype="text/html")
    if body is None:
        return Response(b"", status=status, headers=headers)
    return Response(json.dumps(body), status=status, headers=headers,
                    mimetype="application/json")


def _http_error(request: Request, exc: HTTPException) -> Response:
    """The API's JSON answer for werkzeug's HTTP errors (no route 404, 405, bad request …)."""
    if isinstance(exc, MethodNotAllowed):
        allow = {"Allow": ", ".join(exc.valid_methods or [])}
        return json_response(405, {"error": "Method not allowed",
                                   "error_code": "method_not_allowed"}, allow)
    if isinstance(exc, NotFound):
        return json_response(404, {"error": f"No route for {request.path}",
                                   "error_code": "not_found"})
    return json_response(exc.code or 500, {"error": exc.description or "error",
                                           "error_code": "error"})


class ApiApp:
    """WSGI app for ``/v1/...`` over one World, answering as GEN's API does."""

    def __init__(self, world: World, api_key: str) -> None:
        self.world, self.api_key = world, api_key

    def authorized(self, request: Request) -> bool:
        """Whether the request carries this sandbox's key (either header form)."""
        if request.headers.get("X-API-Key") == self.api_key:
            return True
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        return scheme.lower() == "bearer" and token.strip() == self.api_key

    def dispatch(self, request: Request) -> Response:
        """Route, check the key, bring the world up to date, run the endpoint."""
        try:
            endpoint, values = URLS.bind_to_environ(request.environ).match()
            status, body = self._run(endpoint, request, values)
        except ApiError as exc:
            return json_response(exc.status, exc.body(), exc.headers)
        except HTTPException as exc:
            return _http_error(request, exc)
        return json_response(status, body)

    def _run(self, endpoint: Endpoint, request: Request, values: Mapping[str, Any]
             ) -> tuple[int, Any]:
        """The endpoint's (status, body), after the key check; ApiError for an error answer."""
        if not endpoint.public and not self.authorized(request):
            raise ApiError(401, "Missing or invalid API key (send X-API-Key)", "unauthorized")
        request.get_data(cache=True)  # read the body before taking the lock
        with self.world.lock:
            advance(self.world)
            return endpoint.handler(Ctx(request, self.world), **values)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        return self.dispatch(Request(environ))(environ, start_response)
