"""Typed errors of gen_nb, and the one function that turns an HTTP answer into one.

Every error says what happened to which object, the HTTP status and the server's
``error_code`` when there is one, and what to do next. The tree::

    GenError
    ├── ConfigError (ValueError)              a setting is missing or malformed
    ├── UsageError (ValueError)               an argument cannot be used (bad id, no URL yet)
    ├── NetworkError (ConnectionError)        the host could not be reached / answered nothing
    ├── APIError                              the API answered with an error status
    │   ├── AuthenticationError (PermissionError)    401
    │   ├── PermissionDeniedError (PermissionError)  403
    │   ├── NotFoundError (LookupError)              404
    │   ├── ValidationError (ValueError)             422
    │   │   ├── InsufficientCreditsError
    │   │   ├── JobCannotBeStoppedError
    │   │   └── PlatformValidationError              422 platform_validation_failed
    │   ├── ConfirmationRequired                     428 two-phase delete (or confirm=False)
    │   ├── RateLimitError                           429
    │   ├── ServerError                              5xx
    │   └── UnexpectedResponseError                  any other status, or a body that is not JSON
    ├── RenderFailed                          a generation ended failed or stopped
    ├── WaitTimeout (TimeoutError)            a wait ran out of time; the render goes on
    ├── CallTimeout (TimeoutError)            a call ran past its total deadline
    ├── PlatformRuleError (ValueError)        a post breaks a platform's rules (checked locally)
    └── TransferError (OSError)               moving bytes went wrong
        ├── DownloadCancelled                 the cancel Event was set; the .part is kept
        ├── IntegrityError                    size or checksum does not match
        ├── DestinationExistsError (FileExistsError)
        ├── InsufficientSpaceError            not enough free disk; the .part is kept
        ├── DownloadLockedError               another download writes the same file
        ├── TransferTimeout (TimeoutError)    the transfer ran past its total deadline
        └── UploadRejectedError               a stream destination refused the bytes

No message ever contains an API key: every message goes through
:func:`gen_nb.api.redact.redact` when the error is built.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from gen_nb.api.redact import redact, redact_url, scrub

__all__ = [
    "APIError",
    "AuthenticationError",
    "CallTimeout",
    "ConfigError",
    "ConfirmationRequired",
    "DestinationExistsError",
    "DownloadCancelled",
    "DownloadLockedError",
    "GenError",
    "InsufficientCreditsError",
    "InsufficientSpaceError",
    "IntegrityError",
    "JobCannotBeStoppedError",
    "NetworkError",
    "NotFoundError",
    "PermissionDeniedError",
    "PlatformRuleError",
    "PlatformValidationError",
    "RateLimitError",
    "RenderFailed",
    "ServerError",
    "TransferError",
    "TransferTimeout",
    "UnexpectedResponseError",
    "UnknownNameError",
    "UploadRejectedError",
    "UsageError",
    "ValidationError",
    "WaitTimeout",
    "WrongKindError",
    "error_from_response",
]

class GenError(Exception):
    """Base of every error gen_nb raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(redact(message))

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""


class ConfigError(GenError, ValueError):
    """A setting is missing or malformed (the message names the argument and the variable)."""


class UsageError(GenError, ValueError):
    """A call was given something it cannot use (a malformed id, a render without a URL yet)."""


class WrongKindError(UsageError, TypeError):
    """An argument of a kind the call does not take (the message lists the kinds it does)."""


class UnknownNameError(UsageError, LookupError):
    """A name or id that is not among those offered (the message says which are)."""


class NetworkError(GenError, ConnectionError):
    """The host could not be reached, or the connection broke before an answer came."""


class APIError(GenError):
    """The GEN API answered with an error status.

    Attributes: ``status`` (HTTP status), ``error_code`` (server code or None), ``server_message``
    (the server's own words), ``subject`` (what was asked for, e.g. "generation 42"), ``hint``
    (the next step), ``body`` (the decoded JSON body, or None).
    """

    default_hint = "Check the request and try again."

    def __init__(
        self,
        message: str | None = None,
        *,
        status: int = 0,
        error_code: str | None = None,
        server_message: str | None = None,
        subject: str = "request",
        hint: str | None = None,
        body: Any = None,
    ) -> None:
        self.status = status
        self.error_code = error_code
        self.server_message = server_message
        self.subject = subject
        self.hint = hint or self.default_hint
        self.body = body
        if message is None:
            code = f", error_code={error_code!r}" if error_code else ""
            said = f": {server_message}" if server_message else ""
            message = f"{subject} failed with HTTP {status}{code}{said}. {self.hint}"
        super().__init__(message)


class AuthenticationError(APIError, PermissionError):
    default_hint = (
        "The API key was refused. Pass api_key= to gen_nb.connect() or set GEN_API_KEY to a "
        "valid personal access token (gen_pat_…); unset it to use the sandbox."
    )


class PermissionDeniedError(APIError, PermissionError):
    default_hint = "This key may not do that; check the agent id (GEN_AGENT_ID) and its role."


class NotFoundError(APIError, LookupError):
    default_hint = (
        "Check the id and the agent id (GEN_AGENT_ID); GEN also answers 404 when this key has "
        "no access to the object."
    )


class ValidationError(APIError, ValueError):
    default_hint = "Fix the request as the server's message says."


class InsufficientCreditsError(ValidationError):
    default_hint = "Buy or free up credits in GEN, then start the render again."


class JobCannotBeStoppedError(ValidationError):
    default_hint = "The generation has already finished; nothing to stop."


class PlatformValidationError(ValidationError):
    """422 ``platform_validation_failed``: ``platform``, ``field`` and ``errors`` say what."""

    default_hint = "Fix the named field for that platform (see client.platforms() for the rules)."

    def __init__(self, message: str | None = None, **kwargs: Any) -> None:
        body = kwargs.get("body")
        detail = body.get("detail", body) if isinstance(body, dict) else None
        detail = detail if isinstance(detail, dict) else {}
        self.platform: str | None = _text_or_none(detail.get("platform"))
        self.field: str | None = _text_or_none(detail.get("field"))
        errors = detail.get("errors")
        self.errors: list[dict[str, Any]] = [e for e in errors if isinstance(e, dict)] \
            if isinstance(errors, list) else []
        super().__init__(message, **kwargs)


class ConfirmationRequired(APIError):
    """A delete needs confirmation: ``would_destroy`` says what goes; ``confirm_token`` allows it.

    Raised with status 428 by the API, and before anything is sent when confirm=True is missing.
    A ``would_destroy`` that is not an object (``"all"``) is kept as ``{"everything": "all"}``.
    """

    default_hint = "Deleting is permanent; call again with confirm=True to go ahead."

    def __init__(self, message: str | None = None, **kwargs: Any) -> None:
        raw = kwargs.get("body")
        body: dict[str, Any] = raw if isinstance(raw, dict) else {}
        token = body.get("confirm_token")
        self.confirm_token: str | None = token if isinstance(token, str) and token else None
        plan = body.get("would_destroy")
        self.would_destroy: dict[str, Any] = dict(plan) if isinstance(plan, dict) else (
            {} if plan in (None, "", [], {}) else {"everything": plan})
        kwargs.setdefault("status", 428)
        super().__init__(message, **kwargs)


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


class RateLimitError(APIError):
    """429. ``retry_after`` is the server's wait in seconds, when it sent one."""

    default_hint = "Too many requests; wait a little and try again (gen_nb already retried)."

    def __init__(self, message: str | None = None, *, retry_after: float | None = None,
                 **kwargs: Any) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kwargs)


class ServerError(APIError):
    default_hint = "GEN had a server problem (gen_nb already retried); try again later."


class UnexpectedResponseError(APIError):
    default_hint = (
        "The answer was not what the GEN API sends; check GEN_API_BASE_URL points at the API "
        "(e.g. https://api.gen.pro/v1) and not at a proxy or web page."
    )


class RenderFailed(GenError):
    """A generation ended ``failed`` or ``stopped``; ``generation`` holds the last state."""

    def __init__(self, generation: Any) -> None:
        self.generation = generation
        status = getattr(generation, "status", "failed")
        reason = getattr(generation, "failed_reason", None) or "no reason given"
        gid = getattr(generation, "id", "?")
        what = "was stopped" if status == "stopped" else f"failed: {reason}"
        super().__init__(
            f"Generation {gid} {what}. Look at the engine row in GEN, fix its inputs, and start "
            "the render again (client.start_render)."
        )


class CallTimeout(GenError, TimeoutError):
    """A call ran past its total deadline (a trickling or silent server cannot extend it)."""


class WaitTimeout(GenError, TimeoutError):
    """``client.wait`` ran out of time; the render is still going on the server."""

    def __init__(self, generation: Any, timeout: float, *, what: str = "Generation",
                 advice: str | None = None) -> None:
        self.generation = generation
        self.timeout = timeout
        gid = getattr(generation, "id", "?")
        status = getattr(generation, "status", "unknown")
        advice = advice or (f"It keeps running on the server: wait again with a longer "
                            f"timeout=, or stop it with client.stop({gid!r}).")
        state = "was stopped" if status == "stopped" else f"is still {status}"
        super().__init__(f"{what} {gid} {state} after {timeout:g} s of waiting. {advice}")


class PlatformRuleError(GenError, ValueError):
    """A post breaks platform rules; found before anything was sent. ``violations`` lists them."""

    def __init__(self, violations: Sequence[str]) -> None:
        self.violations = list(violations)
        lines = "\n".join(f"- {v}" for v in self.violations)
        super().__init__(
            f"The post breaks {len(self.violations)} platform rule(s); nothing was sent:\n{lines}"
        )


class TransferError(GenError, OSError):
    """Moving bytes went wrong. The message names the URL (never a key) and the file."""


class DownloadCancelled(TransferError):
    """The cancel Event was set. The ``.part`` file is kept; download again to resume."""


class IntegrityError(TransferError):
    """The bytes received do not match the expected size or checksum."""


class DestinationExistsError(TransferError, FileExistsError):
    """A different file already exists under the final name; pass overwrite=True to replace it."""


class InsufficientSpaceError(TransferError):
    """Not enough free disk space. The ``.part`` file is kept; free space and download again."""


class DownloadLockedError(TransferError):
    """Another download is writing the same destination right now."""


class TransferTimeout(TransferError, TimeoutError):
    """A transfer ran past its total deadline (size / minimum rate + a floor)."""


class UploadRejectedError(TransferError):
    """The stream destination refused the upload; ``status`` is its HTTP status."""

    def __init__(self, message: str, status: int | None = None) -> None:
        self.status = status
        super().__init__(message)


# --- the one mapper ----------------------------------------------------------------------------

MAX_ERROR_BODY = 64 << 10
"""How much of an error body is decoded (the rest is not needed for a message)."""

_BY_CODE: dict[str, type[APIError]] = {
    "unauthorized": AuthenticationError,
    "permission_denied": PermissionDeniedError,
    "forbidden": PermissionDeniedError,
    "not_found": NotFoundError,
    "content_resource_not_found": NotFoundError,
    "project_not_found": NotFoundError,
    "agent_not_found": ValidationError,
    "validation_error": ValidationError,
    "usable_gen_credit_required": InsufficientCreditsError,
    "insufficient_credits_for_job": InsufficientCreditsError,
    "no_active_credit_purchase": InsufficientCreditsError,
    "job_cannot_be_stopped": JobCannotBeStoppedError,
    "platform_validation_failed": PlatformValidationError,
    "rate_limited": RateLimitError,
    "rate_limit_exceeded": RateLimitError,
}

_BY_STATUS: dict[int, type[APIError]] = {
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    410: NotFoundError,
    422: ValidationError,
    428: ConfirmationRequired,
    429: RateLimitError,
}

_CODE_HINTS: dict[str, str] = {
    "agent_not_found": "The agent id is unknown; set GEN_AGENT_ID (or agent_id=) to your agent.",
    "usable_gen_credit_required": "This needs a usable GEN credit; add credits in GEN.",
    "no_active_credit_purchase": "There is no active credit purchase; buy credits in GEN.",
}


def _decode(body: bytes | str | None, limit: int) -> tuple[Any, str]:
    """(JSON value or None, text). Never raises: deep nesting or junk just is "not JSON"."""
    if body is None:
        return None, ""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
    text = text[:limit]
    try:
        return json.loads(text), text
    except (ValueError, RecursionError):
        return None, text


def _as_text(value: Any) -> str | None:
    """A server field as text (numbers and nested values are shown, not trusted)."""
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else json.dumps(value, default=str)[:300]


def _envelope(data: Any) -> tuple[str | None, str | None]:
    """(error_code, message) from either envelope: main API or publishing ``detail``."""
    if not isinstance(data, dict):
        return None, None
    detail = data.get("detail")
    if isinstance(detail, dict):
        data = detail
    elif isinstance(detail, str) and "error" not in data:
        return None, detail
    code = data.get("error_code")
    message = data.get("error") or data.get("message")
    return (_as_text(code) if isinstance(code, str | int) else None), _as_text(message)


def _pick_class(status: int, code: str | None) -> type[APIError]:
    if code in _BY_CODE:
        cls = _BY_CODE[code]
        # a code only refines within its family (e.g. not_found sent with 422 stays a 422 error)
        if status in _BY_STATUS and not issubclass(cls, _BY_STATUS[status]):
            return _BY_STATUS[status]
        return cls
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if status >= 500:
        return ServerError
    return UnexpectedResponseError


def _not_json(text: str, headers: Mapping[str, str], secrets: Sequence[str]) -> str:
    snippet = " ".join(re.sub(r"<[^>]+>", " ", text[:4000]).split())[:160]
    kind = headers.get("content-type", "no type")
    return f"the answer was not JSON ({kind}): {redact(snippet, secrets)!r}"


def error_from_response(
    status: int,
    body: bytes | str | None,
    headers: Mapping[str, str] | None = None,
    *,
    subject: str = "request",
    method: str = "GET",
    url: str = "",
    secrets: Iterable[str | None] = (),
    retry_after: float | None = None,
) -> APIError:
    """Build the typed error for an error answer. Never raises; the caller raises the result.

    ``subject`` names the object ("generation 42", "content resource 7"); ``url`` appears
    through :func:`~gen_nb.api.redact.redact_url`. ``secrets`` (the client's key) are scrubbed
    from the server's message and the decoded ``body``, however the server escaped them.
    Non-JSON bodies (an HTML page from a proxy) give an :class:`UnexpectedResponseError` (or
    the status's class) quoting the start of the text.

    >>> error_from_response(404, b'{"error": "gone", "error_code": "not_found"}').status
    404
    """
    wanted = tuple(s for s in secrets if s)
    try:
        low = {str(k).lower(): str(v) for k, v in (headers or {}).items()}
        data, text = _decode(body, MAX_ERROR_BODY)
        data = scrub(data, wanted)
        code, server_message = _envelope(data)
        if data is None and text.strip():
            server_message = _not_json(text, low, wanted)
    except Exception:  # a mapper that raises would hide the real problem
        low, data, code, server_message = {}, None, None, None
    where = f"{method} {redact_url(url)}" if url else method
    kwargs: dict[str, Any] = dict(
        status=status, error_code=code,
        server_message=redact(server_message, wanted) if server_message else None,
        subject=f"{subject} ({where})" if url else subject,
        hint=_CODE_HINTS.get(code or ""), body=data,
    )
    cls = _pick_class(status, code)
    if cls is RateLimitError:
        kwargs["retry_after"] = retry_after
    return cls(**kwargs)
