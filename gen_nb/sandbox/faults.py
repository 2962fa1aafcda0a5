"""Fault injection: which requests misbehave (registry) and how (body shaping).

Knobs (all optional, combinable):

============== ================================================================================
latency        seconds to wait before answering (delays the headers)
status         answer this status instead (429/500/502/503/504/…), ``retry_after`` adds the
               Retry-After header (seconds), ``html`` makes the body an HTML page (a proxy's)
drop_after     close the connection after N body bytes (the client sees a short read);
               ``truncate_after`` is the same knob. On PUT/POST it applies to the request body.
stall_after    after N body bytes, pause ``stall_seconds`` (default 30) once
ignore_range   drop Range/If-Range from the request (200 with the whole body)
no_etag        drop ETag and Last-Modified from the response
no_length      drop Content-Length; the body is close-delimited (HTTP/1.0 framing)
rate           cap the body at this many bytes per second (per connection)
============== ================================================================================

Per request, the header ``X-Sandbox-Fault: drop_after=1048576; ignore_range`` applies knobs to
that request only (same names; a bare name means True).
"""

from __future__ import annotations

import contextlib
import fnmatch
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

KNOB_TYPES: dict[str, type] = {
    "latency": float, "status": int, "retry_after": float, "html": bool,
    "drop_after": int, "truncate_after": int, "stall_after": int, "stall_seconds": float,
    "ignore_range": bool, "no_etag": bool, "no_length": bool, "rate": float,
}
SERVERS = ("api", "cdn", "storage")


def _coerce(name: str, value: Any) -> Any:
    kind = KNOB_TYPES.get(name)
    if kind is None:
        raise ValueError(f"unknown fault knob {name!r}; known: {', '.join(sorted(KNOB_TYPES))}")
    if kind is bool:
        if isinstance(value, str):
            return value.strip().lower() not in ("0", "false", "no", "off")
        return bool(value)
    if value is None or isinstance(value, bool):
        raise ValueError(f"fault knob {name!r} needs a number, got {value!r}")
    number = kind(float(value)) if kind is int else kind(value)
    if number < 0:
        raise ValueError(f"fault knob {name!r} must be >= 0, got {value!r}")
    return number


def normalize_knobs(knobs: dict[str, Any]) -> dict[str, Any]:
    """Validate and coerce knob values. Raises ValueError on unknown names or bad values.

    >>> normalize_knobs({"truncate_after": "10", "no_etag": True})
    {'no_etag': True, 'drop_after': 10}
    """
    out = {name: _coerce(name, value) for name, value in knobs.items()}
    if "truncate_after" in out:
        out["drop_after"] = out.pop("truncate_after")
    if "stall_after" in out:
        out.setdefault("stall_seconds", 30.0)
    if "status" in out and not 400 <= out["status"] <= 599:
        raise ValueError(f"fault status must be 4xx or 5xx, got {out['status']}")
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


@dataclass
class Fault:
    """One injected fault rule. ``hits`` counts the requests it applied to."""

    server: str | None
    path: str | None
    method: str | None
    times: int | None
    knobs: dict[str, Any]
    hits: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @property
    def active(self) -> bool:
        """Whether this fault will still apply to a matching request."""
        return self.times is None or self.hits < self.times

    def matches(self, server: str, method: str, path: str) -> bool:
        """Whether a request falls under this rule (path: prefix, or fnmatch with * ? [)."""
        if self.server not in (None, "*", server):
            return False
        if self.method and self.method.upper() != method.upper():
            return False
        if self.path is None:
            return True
        if any(ch in self.path for ch in "*?["):
            return fnmatch.fnmatchcase(path, self.path)
        return path.startswith(self.path)

    def claim(self) -> bool:
        """Count one use if still active; False when used up."""
        with self._lock:
            if not self.active:
                return False
            self.hits += 1
            return True


class FaultRegistry:
    """Thread-safe list of Fault rules; later rules override earlier ones knob by knob."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def inject(self, server: str | None, path: str | None, method: str | None,
               times: int | None, knobs: dict[str, Any]) -> Fault:
        """Add a rule (see the module docstring for knobs). ValueError on bad arguments."""
        if server not in (None, "*", *SERVERS):
            raise ValueError(f"server must be one of {SERVERS} or None, got {server!r}")
        if times is not None and times < 1:
            raise ValueError(f"times must be >= 1 or None, got {times!r}")
        if not knobs:
            raise ValueError("inject() needs at least one knob, e.g. status=503")
        fault = Fault(server, path, method, times, normalize_knobs(knobs))
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        """Remove every rule."""
        with self._lock:
            self._faults.clear()

    def take(self, server: str, method: str, path: str) -> dict[str, Any]:
        """Merged knobs of the active rules matching this request (each one counted)."""
        with self._lock:
            candidates = [f for f in self._faults if f.matches(server, method, path)]
            self._faults = [f for f in self._faults if f.active]
        knobs: dict[str, Any] = {}
        for fault in candidates:
            if fault.claim():
                knobs.update(fault.knobs)
        return knobs


def kill_connection(sock: socket.socket | None) -> None:
    """Shut the client connection down (the client sees EOF / a short read)."""
    if sock is None:
        return
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


class SandboxDrop(ConnectionAbortedError):
    """Raised inside the server to abandon a response after a drop fault."""


def _cut(size: int, sent: int, limits: Iterable[int | None], piece_max: int | None) -> int:
    for limit in limits:
        if limit is not None and sent < limit:
            size = min(size, limit - sent)
    return min(size, piece_max) if piece_max else size


def _at_start(sock: socket.socket | None, stop: threading.Event, knobs: dict[str, Any]) -> None:
    """Apply drop_after=0 (drop) or else stall_after=0 (pause) before any body byte."""
    if knobs.get("drop_after") == 0:
        kill_connection(sock)
        raise SandboxDrop("sandbox fault: drop_after=0")
    stop.wait(knobs["stall_seconds"])


def shape_body(body: Iterable[bytes], knobs: dict[str, Any], sock: socket.socket | None,
               stop: threading.Event, count: Callable[[int], None]) -> Iterator[bytes]:
    """Yield ``body`` with drop/stall/rate faults applied; always closes ``body``."""
    drop, stall = knobs.get("drop_after"), knobs.get("stall_after")
    rate = knobs.get("rate")
    piece_max = max(1024, int(rate / 20)) if rate else None
    sent, started = 0, time.monotonic()
    try:
        if drop == 0 or stall == 0:
            yield b""  # send the headers first
            _at_start(sock, stop, knobs)
            stall = None
        for chunk in body:
            while chunk:
                cut = _cut(len(chunk), sent, (drop, stall), piece_max)
                piece, chunk = chunk[:cut], chunk[cut:]
                if rate:
                    delay = started + (sent + len(piece)) / rate - time.monotonic()
                    if delay > 0 and stop.wait(delay):
                        raise SandboxDrop("sandbox stopping")
                count(len(piece))
                yield piece
                sent += len(piece)
                if drop is not None and sent >= drop:
                    kill_connection(sock)
                    raise SandboxDrop(f"sandbox fault: drop_after={drop}")
                if stall is not None and sent >= stall:
                    stall = None
                    stop.wait(knobs["stall_seconds"])
    finally:
        close = getattr(body, "close", None)
        if close is not None:
            close()


class DroppingInput:
    """A request body reader that kills the connection after ``limit`` bytes."""

    def __init__(self, stream: Any, limit: int, sock: socket.socket | None) -> None:
        self._stream, self._left, self._sock = stream, limit, sock

    def read(self, size: int = -1) -> bytes:
        if self._left <= 0:
            kill_connection(self._sock)
            raise SandboxDrop("sandbox fault: drop_after on the request body")
        want = self._left if size is None or size < 0 else min(size, self._left)
        data = self._stream.read(want)
        self._left -= len(data)
        return data
