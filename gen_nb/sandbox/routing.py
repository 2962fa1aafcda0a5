"""How the sandbox API's endpoints are declared: each one is registered once, with its URL rule,
methods and whether it needs the API key, by decorating its function::

    routes = Routes()

    @routes.route("/v1/generations/<job_id>", "GET")
    def get_generation(ctx: Ctx, job_id: str) -> Result:
        ...

An endpoint is a function ``(ctx, **url_values) -> (status, body)``; it raises ``ApiError`` for
an error answer. The body is JSON-shaped data, or a :class:`Page` (HTML, for the sandbox's own
pages). ``Routes.url_map()`` turns the registrations into one werkzeug ``Map``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request

from .errors import ApiError
from .world import World

Result = tuple[int, Any]
Handler = Callable[..., Result]


@dataclass(frozen=True)
class Page:
    """An HTML answer (the sandbox's own pages, not GEN's API)."""

    html: str


@dataclass(frozen=True)
class Endpoint:
    """One registered endpoint: URL rule, methods, the function, and whether it is public."""

    rule: str
    methods: tuple[str, ...]
    handler: Handler
    public: bool = False


class Routes:
    """A set of endpoints, each declared once by ``@routes.route(rule, *methods)``."""

    def __init__(self, *parts: Routes) -> None:
        self.endpoints: list[Endpoint] = [e for part in parts for e in part.endpoints]

    def route(self, rule: str, *methods: str, public: bool = False
              ) -> Callable[[Handler], Handler]:
        """Register the decorated function for ``rule`` and ``methods`` (public: no key)."""
        def register(handler: Handler) -> Handler:
            self.endpoints.append(Endpoint(rule, methods, handler, public))
            return handler

        return register

    def url_map(self) -> Map:
        """A werkzeug Map whose rules' endpoints are the :class:`Endpoint` records."""
        rules = [Rule(e.rule, endpoint=e, methods=list(e.methods)) for e in self.endpoints]
        return Map(rules, strict_slashes=False)


class Ctx:
    """One request as endpoints see it: the werkzeug request, the world, body and checks."""

    def __init__(self, request: Request, world: World) -> None:
        self.request, self.world = request, world
        self._body: Any = None

    def body(self) -> dict[str, Any]:
        """The JSON object body ({} if empty). 422 validation_error if not a JSON object."""
        if self._body is None:
            raw = self.request.get_data(cache=True)
            try:
                self._body = json.loads(raw) if raw.strip() else {}
            except ValueError:
                raise ApiError(422, "Request body is not valid JSON", "validation_error") from None
            if not isinstance(self._body, dict):
                raise ApiError(422, "Request body must be a JSON object", "validation_error")
        return self._body

    def agent(self, body: dict[str, Any] | None = None) -> str:
        """Check ``agent_id`` (query, else body). 422 if missing, 404 if unknown."""
        agent = self.request.args.get("agent_id")
        if agent is None and body is not None and body.get("agent_id") is not None:
            agent = str(body["agent_id"])
        if not agent:
            raise ApiError(422, "agent_id is required", "validation_error")
        if agent != self.world.agent_id:
            raise ApiError(404, "Agent not found", "not_found")
        return agent

    def page(self) -> int:
        """The ``page`` query value (default 0). 422 if not a non-negative integer."""
        raw = self.request.args.get("page", "0")
        if not raw.lstrip("-").isdigit() or int(raw) < 0:
            raise ApiError(422, "page must be a non-negative integer", "validation_error")
        return int(raw)


def to_id(value: str, what: str, code: str = "not_found") -> int:
    """A numeric id from a URL segment; 404 ``code`` if it is not one."""
    try:
        return int(value)
    except ValueError:
        raise ApiError(404, f"{what} {value!r} not found", code) from None
