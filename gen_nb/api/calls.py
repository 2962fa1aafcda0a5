"""One API call, start to finish: path, request, retries, deadline, bounded body, typed error.

:class:`ApiCalls` is the HTTP side of a :class:`~gen_nb.api.client.Client`: the catalog and
publishing modules build requests and parse answers; this sends them. It owns the session,
builds every path (:meth:`ApiCalls.path`, the only place ids enter a URL: validated and
percent-encoded), reads answers up to ``Settings.max_answer_bytes`` and within the call's
deadline, and turns every error answer into the typed error of
:func:`~gen_nb.api.errors.error_from_response`, with the key scrubbed.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any

import requests

from gen_nb.api import transport
from gen_nb.api.errors import (
    GenError,
    UnexpectedResponseError,
    UsageError,
    error_from_response,
)
from gen_nb.api.redact import redact_url
from gen_nb.api.settings import Settings

__all__ = ["ApiCalls", "encode_id"]

MAX_ID_LENGTH = 200
READ_PIECE = 1 << 16


def encode_id(value: Any, what: str = "id") -> str:
    """A path segment for an id: validated, then percent-encoded (ids are opaque strings).

    Raises :class:`UsageError` for an empty id, one with whitespace, control characters,
    ``/``, ``\\``, ``?`` or ``#``, a bare ``.``/``..``, or one longer than 200 characters.

    >>> encode_id(812), encode_id("a+b")
    ('812', 'a%2Bb')
    """
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise UsageError(f"{what} must be a string or an integer, not {type(value).__name__}.")
    text = str(value).strip()
    bad = (not text or len(text) > MAX_ID_LENGTH or text in (".", "..")
           or any(ch in "/\\?#" or ord(ch) <= 0x20 or ord(ch) == 0x7F for ch in text))
    if bad:
        shown = repr(text[:40]) + ("…" if len(text) > 40 else "")
        raise UsageError(f"{what} {shown} is not a valid GEN id (ids are numbers or plain "
                         "strings without spaces, slashes, '?' or '#'). Pass the id exactly "
                         "as GEN shows it, e.g. client.generation(56789).")
    return urllib.parse.quote(text, safe="")


class ApiCalls:
    """Sends API requests for one client (see the module docstring)."""

    def __init__(self, settings: Settings, *, is_sandbox: bool,
                 policy: transport.RetryPolicy | None = None,
                 sleep: Callable[[float], Any] | None = None) -> None:
        self.settings = settings
        self.is_sandbox = is_sandbox
        self.policy = policy or transport.RetryPolicy(retries=settings.retries)
        self.sleep = sleep   # tests replace the pause between retries
        self.session = transport.api_session(settings)

    def close(self) -> None:
        self.session.close()

    # --- paths ----------------------------------------------------------------------------------

    @staticmethod
    def path(template: str, *ids: Any) -> str:
        """A request path: ``path("generations/{}/stop", 7)`` → ``"generations/7/stop"``.

        Every id goes through :func:`encode_id` (validated, percent-encoded): this is the only
        way an id enters a URL.
        """
        return template.format(*(encode_id(value) for value in ids))

    def engine_path(self, template: str = "", *ids: Any) -> str:
        """An engine endpoint's path under the configured prefix (vidsheet/autocontentengine)."""
        tail = self.path(template, *ids)
        return f"{self.settings.engine_prefix}/{tail}" if tail else self.settings.engine_prefix

    # --- sending ----------------------------------------------------------------------------------

    def request(self, method: str, path: str, *, subject: str, agent: bool = False,
                params: Mapping[str, Any] | None = None, json_body: Any = None,
                headers: Mapping[str, str] | None = None,
                single_use: bool = False) -> tuple[requests.Response, bytes]:
        """Send one request (with retries, within the deadline); raise the mapped error for an
        error status. Returns the response and its body (read in full, bounded)."""
        query = {k: v for k, v in (params or {}).items() if v is not None}
        if agent:
            query = {"agent_id": self.settings.require_agent_id(subject), **query}
        check = ("Is the sandbox still running?" if self.is_sandbox else
                 f"The API base URL is {self.settings.base_url} (GEN_API_BASE_URL).")
        deadline = transport.Deadline(self.settings.deadline, subject)
        retrying = transport.Retrying(self.policy, subject, deadline=deadline, sleep=self.sleep)
        url = self.settings.base_url + "/" + path.lstrip("/")
        response = transport.send(
            self.session, method, url, retrying=retrying, timeout=self.settings.timeouts,
            single_use=single_use, check=check, params=query or None, json=json_body,
            headers=dict(headers or {}))
        with response:
            body = self._read(response, deadline, subject)
        if not response.ok:
            raise self.error(response, body, subject, method)
        return response, body

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        """Like :meth:`request`, returning the decoded JSON body (None when the body is empty).

        A body that is not JSON (or nests absurdly deep) is an UnexpectedResponseError.
        """
        response, body = self.request(method, path, **kwargs)
        return self.decode(response, body, kwargs["subject"], method)

    def decode(self, response: requests.Response, body: bytes, subject: str,
               method: str = "GET") -> Any:
        """The JSON of an answer's body: None when empty (or 204); the mapped error when it
        is not JSON or nests absurdly deep."""
        if response.status_code == 204 or not body.strip():
            return None
        try:
            return json.loads(body)
        except (ValueError, RecursionError):
            raise self.error(response, body, subject, method) from None

    def error(self, response: requests.Response, body: bytes, subject: str,
              method: str) -> Exception:
        """The mapped error for an answer, the key scrubbed from everything it carries."""
        status = response.status_code if response.status_code >= 400 else 502
        if response.ok:  # a 2xx whose body is not what the API sends
            return UnexpectedResponseError(
                status=response.status_code, subject=f"{subject} ({method} "
                f"{redact_url(response.url)})",
                server_message=error_from_response(status, body, response.headers,
                                                   secrets=(self.settings.api_key,))
                .server_message or "the answer was empty or not JSON")
        wait = transport.parse_retry_after(response.headers.get("Retry-After"))
        return error_from_response(status, body, response.headers, subject=subject,
                                   method=method, url=response.url,
                                   secrets=(self.settings.api_key,), retry_after=wait)

    def _read(self, response: requests.Response, deadline: transport.Deadline,
              subject: str) -> bytes:
        """The whole body, at most ``max_answer_bytes``, read before the deadline."""
        limit = self.settings.max_answer_bytes
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit:
            raise _too_large(subject, int(declared), limit)
        pieces: list[bytes] = []
        size = 0
        try:
            for piece in _pieces(response, deadline):
                size += len(piece)
                if size > limit:
                    raise _too_large(subject, size, limit)
                pieces.append(piece)
        except GenError:
            raise
        except transport.READ_ERRORS as exc:
            if response.status_code in (204, 304):   # a body where none may be: ignore it
                return b""
            raise transport.network_error(exc, response.url) from exc
        return b"".join(pieces)


def _pieces(response: requests.Response, deadline: transport.Deadline) -> Any:
    raw = response.raw
    read1 = getattr(raw, "read1", None)
    while True:
        deadline.check("reading the answer")
        piece = read1(READ_PIECE, decode_content=True) if read1 else raw.read(READ_PIECE)
        if not piece:
            return
        yield piece


def _too_large(subject: str, size: int, limit: int) -> UnexpectedResponseError:
    return UnexpectedResponseError(
        f"{subject}: the answer is larger than {limit:,} bytes (at least {size:,}); the GEN "
        "API never sends that much, so this is not the API (check GEN_API_BASE_URL) or a "
        "server fault. Nothing was kept.", status=0, subject=subject)
