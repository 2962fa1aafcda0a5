"""The sandbox request log: one record per request on every server, key values redacted."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

REDACTED = "<redacted>"
SECRET_HEADERS = {"x-api-key", "authorization", "proxy-authorization", "cookie"}
SECRET_QUERY = {"api_key", "apikey", "access_token", "token"}


@dataclass(frozen=True)
class RequestRecord:
    """What one request looked like. Never holds the API key value.

    ``server`` is "api", "cdn" or "storage"; ``host`` the Host header; ``query`` the query string
    as a dict (last value wins); ``has_api_key`` whether X-API-Key or Authorization was sent;
    ``status`` the response status (None while in flight); ``faults`` the knobs applied;
    ``bytes_sent`` response body bytes actually written; ``fault_header_ignored`` whether the
    request sent ``X-Sandbox-Fault`` to a sandbox not started with ``fault_header=True``.
    """

    server: str
    method: str
    host: str
    path: str
    query: dict[str, str]
    has_api_key: bool
    status: int | None
    headers: dict[str, str]
    time: float = 0.0
    faults: dict[str, Any] = field(default_factory=dict)
    bytes_sent: int = 0
    fault_header_ignored: bool = False


def redact(value: str, secret: str | None) -> str:
    """``value`` with every occurrence of ``secret`` replaced."""
    return value.replace(secret, REDACTED) if secret else value


class _Entry:
    """Mutable in-flight record; frozen into a RequestRecord on read."""

    __slots__ = ("bytes_sent", "fault_header_ignored", "faults", "fields", "status")

    def __init__(self, fields: dict[str, Any]) -> None:
        self.fields, self.status, self.bytes_sent = fields, None, 0
        self.faults: dict[str, Any] = {}
        self.fault_header_ignored = False

    def freeze(self) -> RequestRecord:
        """The record as it stands now."""
        return RequestRecord(**self.fields, status=self.status, faults=dict(self.faults),
                             bytes_sent=self.bytes_sent,
                             fault_header_ignored=self.fault_header_ignored)


class RequestLog:
    """Thread-safe, bounded list of requests (oldest dropped past ``limit``)."""

    def __init__(self, secret: str, limit: int = 20_000) -> None:
        self._secret, self._limit = secret, limit
        self._lock = threading.Lock()
        self._entries: list[_Entry] = []

    def begin(self, server: str, environ: dict[str, Any], query: dict[str, str]) -> _Entry:
        """Record the start of a request and return its live entry."""
        headers = {}
        for key, value in environ.items():
            if key.startswith("HTTP_") or key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                name = key.removeprefix("HTTP_").replace("_", "-").title()
                secret = name.lower() in SECRET_HEADERS
                headers[name] = REDACTED if secret else redact(str(value), self._secret)
        safe_query = {k: REDACTED if k.lower() in SECRET_QUERY else redact(v, self._secret)
                      for k, v in query.items()}
        has_key = "HTTP_X_API_KEY" in environ or "HTTP_AUTHORIZATION" in environ
        entry = _Entry({
            "server": server, "method": environ.get("REQUEST_METHOD", ""),
            "host": environ.get("HTTP_HOST", ""), "path": environ.get("PATH_INFO", ""),
            "query": safe_query, "has_api_key": has_key, "headers": headers,
            "time": time.time(),
        })
        with self._lock:
            self._entries.append(entry)
            if len(self._entries) > self._limit:
                del self._entries[: len(self._entries) - self._limit]
        return entry

    def records(self) -> list[RequestRecord]:
        """Snapshot of all records, oldest first."""
        with self._lock:
            entries = list(self._entries)
        return [e.freeze() for e in entries]

    def clear(self) -> None:
        """Forget every record."""
        with self._lock:
            self._entries.clear()

