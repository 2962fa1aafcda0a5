"""The fault knobs: one table (``KNOBS``) says each knob's name, type, doc and effect.

A knob acts through hooks, run by the instrumented server in this order: ``on_request``
(before the app; may answer instead of it), ``on_headers`` (filters the response headers),
``on_body`` (a rule that shapes the response body); knobs of one kind run in table order,
so ``latency`` waits before ``status`` answers. An option (``option_of``) only tunes
another knob's hooks; an alias (``alias_of``) is another name for a knob. Adding a knob means
adding one entry to ``KNOBS``; validation, the ``X-Sandbox-Fault`` header and the table below
all follow from it. All knobs are optional and combinable:

"""

from __future__ import annotations

import textwrap
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .error_pages import error_body, reason
from .shaping import BodyRule, Drop, DroppingInput, Rate, Stall

Headers = list[tuple[str, str]]


@dataclass(frozen=True)
class Answer:
    """A complete response a knob gives instead of the app's."""

    status: int
    body: bytes
    content_type: str
    headers: Headers = field(default_factory=list)


@dataclass
class FaultContext:
    """What a knob's hooks may see and touch for one request."""

    server: str
    environ: dict[str, Any]
    knobs: dict[str, Any]
    stop: threading.Event
    handler: Any = None

    @property
    def sock(self) -> Any:
        """The client connection (to kill it)."""
        return self.environ.get("werkzeug.socket")

    @property
    def upload(self) -> bool:
        """Whether the request sends a body (PUT/POST): drop faults then cut that body."""
        return self.environ.get("REQUEST_METHOD") in ("PUT", "POST")


RequestHook = Callable[[FaultContext, Any], Answer | None]
HeadersHook = Callable[[FaultContext, Any, Headers], Headers]
BodyHook = Callable[[FaultContext, Any], BodyRule | None]


@dataclass(frozen=True)
class Knob:
    """One fault knob: its name, value type, doc, and how it acts (hooks), or what it tunes."""

    name: str
    type: type
    doc: str
    on_request: RequestHook | None = None
    on_headers: HeadersHook | None = None
    on_body: BodyHook | None = None
    option_of: str | None = None
    alias_of: str | None = None
    default: Any = None
    minimum: float = 0
    maximum: float | None = None

    @property
    def hooks(self) -> tuple[str, ...]:
        """Names of the hooks this knob has (empty for options and aliases)."""
        return tuple(n for n in ("on_request", "on_headers", "on_body") if getattr(self, n))


# --- effects ------------------------------------------------------------------------------
def plain(status: int, text: str) -> Answer:
    """A text/plain answer from the sandbox itself (not a fault of the emulated server)."""
    return Answer(status, text.encode(), "text/plain")


def _wait(ctx: FaultContext, seconds: float) -> Answer | None:
    if seconds and ctx.stop.wait(seconds):
        return plain(503, "sandbox stopping")
    return None


def _status(ctx: FaultContext, status: int) -> Answer:
    body, ctype = error_body(ctx.server, status, bool(ctx.knobs.get("html")))
    headers: Headers = []
    if "retry_after" in ctx.knobs:
        seconds = ctx.knobs["retry_after"]
        headers.append(("Retry-After", str(int(seconds) if seconds == int(seconds) else seconds)))
    return Answer(status, body, ctype, headers)


def _ignore_range(ctx: FaultContext, on: bool) -> None:
    if on:
        ctx.environ.pop("HTTP_RANGE", None)
        ctx.environ.pop("HTTP_IF_RANGE", None)


def _drop_upload(ctx: FaultContext, after: int) -> None:
    if ctx.upload:
        ctx.environ["wsgi.input"] = DroppingInput(ctx.environ["wsgi.input"], after, ctx.sock)


def _drop_names(names: tuple[str, ...]) -> HeadersHook:
    def strip(ctx: FaultContext, on: bool, headers: Headers) -> Headers:
        return [(k, v) for k, v in headers if k.lower() not in names] if on else headers

    return strip


def _no_length(ctx: FaultContext, on: bool, headers: Headers) -> Headers:
    if on and ctx.handler is not None:
        ctx.handler.protocol_version = "HTTP/1.0"  # close-delimited instead of chunked
    return _drop_names(("content-length",))(ctx, on, headers)


def _drop_body(ctx: FaultContext, after: int) -> BodyRule | None:
    return None if ctx.upload else Drop(after, ctx.sock)


def _stall(ctx: FaultContext, after: int) -> BodyRule:
    return Stall(after, ctx.knobs["stall_seconds"], ctx.stop)


def _rate(ctx: FaultContext, rate: float) -> BodyRule | None:
    return Rate(rate, ctx.stop) if rate else None


KNOBS: tuple[Knob, ...] = (
    Knob("latency", float, "seconds to wait before answering (delays the headers)",
         on_request=_wait),
    Knob("status", int, "answer this status instead (429/500/502/503/504/…; 4xx or 5xx)",
         on_request=_status, minimum=400, maximum=599),
    Knob("retry_after", float, "with ``status``: add the Retry-After header (seconds)",
         option_of="status"),
    Knob("html", bool, "with ``status``: the body is an HTML page (a proxy's)",
         option_of="status"),
    Knob("ignore_range", bool, "drop Range/If-Range from the request (200 with the whole body)",
         on_request=_ignore_range),
    Knob("drop_after", int, "close the connection after N body bytes (the client sees a short "
         "read). On PUT/POST it applies to the request body.", on_request=_drop_upload,
         on_body=_drop_body),
    Knob("truncate_after", int, "the same knob as ``drop_after``", alias_of="drop_after"),
    Knob("stall_after", int, "after N body bytes, pause ``stall_seconds`` once",
         on_body=_stall),
    Knob("stall_seconds", float, "with ``stall_after``: how long the pause is (default 30)",
         option_of="stall_after", default=30.0),
    Knob("no_etag", bool, "drop ETag and Last-Modified from the response",
         on_headers=_drop_names(("etag", "last-modified"))),
    Knob("no_length", bool, "drop Content-Length; the body is close-delimited (HTTP/1.0 "
         "framing)", on_headers=_no_length),
    Knob("rate", float, "cap the body at this many bytes per second (per connection)",
         on_body=_rate),
)
BY_NAME = {knob.name: knob for knob in KNOBS}


# --- validation ---------------------------------------------------------------------------
def _coerce(name: str, value: Any) -> Any:
    knob = BY_NAME.get(name)
    if knob is None:
        raise ValueError(f"unknown fault knob {name!r}; known: {', '.join(sorted(BY_NAME))}")
    if knob.type is bool:
        if isinstance(value, str):
            return value.strip().lower() not in ("0", "false", "no", "off")
        return bool(value)
    if value is None or isinstance(value, bool):
        raise ValueError(f"fault knob {name!r} needs a number, got {value!r}")
    number = knob.type(float(value)) if knob.type is int else knob.type(value)
    if number < knob.minimum or (knob.maximum is not None and number > knob.maximum):
        bounds = f"between {knob.minimum} and {knob.maximum}" if knob.maximum is not None \
            else f">= {knob.minimum}"
        raise ValueError(f"fault knob {name!r} must be {bounds}, got {value!r}")
    return number


def normalize_knobs(knobs: dict[str, Any]) -> dict[str, Any]:
    """Validate and coerce knob values, resolve aliases and fill in option defaults.

    Raises ValueError on unknown names or bad values.

    >>> normalize_knobs({"truncate_after": "10", "no_etag": True})
    {'no_etag': True, 'drop_after': 10}
    """
    out = {name: _coerce(name, value) for name, value in knobs.items()}
    for knob in KNOBS:
        if knob.alias_of and knob.name in out:
            out[knob.alias_of] = out.pop(knob.name)
    for knob in KNOBS:
        if knob.option_of in out and knob.default is not None:
            out.setdefault(knob.name, knob.default)
    return out


def parse_fault_header(value: str) -> dict[str, Any]:
    """Parse ``X-Sandbox-Fault: drop_after=1048576; ignore_range``. ValueError if malformed."""
    knobs: dict[str, Any] = {}
    for part in value.replace(",", ";").split(";"):
        part = part.strip()
        if not part:
            continue
        name, sep, raw = part.partition("=")
        knobs[name.strip()] = raw.strip() if sep else True
    return normalize_knobs(knobs)


# --- running the hooks --------------------------------------------------------------------
def request_answer(ctx: FaultContext) -> Answer | None:
    """Run the knobs' request hooks in table order; the first answer wins."""
    for knob in KNOBS:
        if knob.on_request and knob.name in ctx.knobs:
            answer = knob.on_request(ctx, ctx.knobs[knob.name])
            if answer is not None:
                return answer
    return None


def filter_headers(ctx: FaultContext, headers: Headers) -> Headers:
    """The response headers after every knob's header hook."""
    for knob in KNOBS:
        if knob.on_headers and knob.name in ctx.knobs:
            headers = knob.on_headers(ctx, ctx.knobs[knob.name], headers)
    return headers


def body_rules(ctx: FaultContext) -> list[BodyRule]:
    """The body rules of the knobs in force, in table order."""
    rules = (k.on_body(ctx, ctx.knobs[k.name]) for k in KNOBS
             if k.on_body and k.name in ctx.knobs)
    return [rule for rule in rules if rule is not None]


def status_line(status: int) -> str:
    """``"503 Service Unavailable"``."""
    return f"{status} {reason(status)}"


def knob_table(indent: str = "") -> str:
    """The knobs as a reStructuredText table (for docstrings and ``help()``)."""
    width = max(len(knob.name) for knob in KNOBS) + 1
    rule = f"{indent}{'=' * width} {'=' * 72}"
    lines = [rule]
    for knob in KNOBS:
        wrapped = textwrap.wrap(knob.doc, 72) or [""]
        lines.append(f"{indent}{knob.name:<{width}} {wrapped[0]}")
        lines.extend(f"{indent}{'':<{width}} {more}" for more in wrapped[1:])
    lines.append(rule)
    return "\n".join(lines)


__doc__ = (__doc__ or "") + knob_table() + """

Per request, the header ``X-Sandbox-Fault: drop_after=1048576; ignore_range`` applies knobs to
that request only (same names; a bare name means True), when the sandbox was started with
``fault_header=True``; otherwise the header is ignored and the request log says so.
"""
