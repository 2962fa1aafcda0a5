"""Which requests misbehave: fault rules (server, path, method, times → knobs) in a registry.

``Sandbox.inject(...)`` adds a rule; each request on a server takes the merged knobs of the
rules that match it. What the knobs are and do: see ``gen_nb.sandbox.knobs``.
"""

from __future__ import annotations

import fnmatch
import threading
from dataclasses import dataclass, field
from typing import Any

from .knobs import normalize_knobs

SERVERS = ("api", "cdn", "storage")


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
        """Add a rule (knobs: see ``gen_nb.sandbox.knobs``). ValueError on bad arguments."""
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
