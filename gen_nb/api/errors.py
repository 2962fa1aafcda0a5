"""Typed errors of gen_nb, and the one function that turns an HTTP answer into one.

Every error says what happened to which object, the HTTP status and the server's
``error_code`` when there is one, and what to do next. The tree::

    GenError
    ├── ConfigError (ValueError)              a setting is missing or malformed
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
    ├── PlatformRuleError (ValueError)        a post breaks a platform's rules (checked locally)
    └── TransferError (OSError)               moving bytes went wrong
        ├── DownloadCancelled                 the cancel Event was set; the .part is kept
        ├── IntegrityError                    size or checksum does not match
        ├── DestinationExistsError (FileExistsError)
        ├── InsufficientSpaceError            not enough free disk; the .part is kept
        ├── DownloadLockedError               another download writes the same file
        └── UploadRejectedError               a stream destination refused the bytes

No message ever contains an API key: :func:`redact` scrubs anything that looks like one.
"""

from __future__ import annotations

import email.utils
import json
import re
import time
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "APIError",
    "AuthenticationError",
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
    "UnexpectedResponseError",
    "UploadRejectedError",
    "ValidationError",
    "WaitTimeout",
    "error_from_response",
    "parse_retry_after",
    "redact",
]

_KEY_PATTERNS = [
    re.compile(r"gen_pat_[A-Za-z0-9_\-]+"),
    re.compile(r"(?i)(x-api-key['\"]?\s*[:=]\s*['\"]?)[^\s'\",}]+"),
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._\-]+"),
]
# a JWT (three base64url parts, the first one a JSON header: "eyJ…")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]+")


def redact(text: str, secrets: Sequence[str] = ()) -> str:
    """Return ``text`` with API keys (``gen_pat_…``, bearer tokens, given secrets) masked."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    text = _KEY_PATTERNS[0].sub("gen_pat_***", text)
    text = _JWT.sub("***", text)
    for pattern in _KEY_PATTERNS[1:]:
        text = pattern.sub(lambda m: m.group(1) + "***", text)
    return text


class GenError(Exception):
    """Base of every error gen_nb raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(redact(message))

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""


class ConfigError(GenError, ValueError):
    """A setting is missing or malformed (the message names the argument and the variable)."""


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
        detail = kwargs.get("body") or {}
        detail = detail.get("detail", detail) if isinstance(detail, dict) else {}
        self.platform: str | None = detail.get("platform") if isinstance(detail, dict) else None
        self.field: str | None = detail.get("field") if isinstance(detail, dict) else None
        errors = detail.get("errors") if isinstance(detail, dict) else None
        self.errors: list[dict[str, Any]] = list(errors or [])
        super().__init__(message, **kwargs)


class ConfirmationRequired(APIError):
    """A delete needs confirmation: ``would_destroy`` says what goes; ``confirm_token`` allows it.

    Raised with status 428 by the API, and before anything is sent when confirm=True is missing.
    """

    default_hint = "Deleting is permanent; call again with confirm=True to go ahead."

    def __init__(self, message: str | None = None, **kwargs: Any) -> None:
        raw = kwargs.get("body")
        body: dict[str, Any] = raw if isinstance(raw, dict) else {}
        self.confirm_token: str | None = body.get("confirm_token")
        self.would_destroy: dict[str, Any] = dict(body.get("would_destroy") or {})
        kwargs.setdefault("status", 428)
        super().__init__(message, **kwargs)


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
        super().__init__(f"{what} {gid} is still {status} after {timeout:g} s. {advice}")


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


class UploadRejectedError(TransferError):
    """The stream destination refused the upload; ``status`` is its HTTP status."""

    def __init__(self, message: str, status: int | None = None) -> None:
        self.status = status
        super().__init__(message)


# --- the one mapper ----------------------------------------------------------------------------

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


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _decode(body: bytes | str | None) -> tuple[Any, str]:
    if body is None:
        return None, ""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    try:
        return json.loads(text), text
    except ValueError:
        return None, text


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
    return (str(code) if code else None), (str(message) if message else None)


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


def error_from_response(
    status: int,
    body: bytes | str | None,
    headers: Mapping[str, str] | None = None,
    *,
    subject: str = "request",
    method: str = "GET",
    url: str = "",
) -> APIError:
    """Build the typed error for an error answer. Never raises; the caller raises the result.

    ``subject`` names the object ("generation 42", "content resource 7"); ``url`` (query
    included) appears without secrets. Non-JSON bodies (an HTML page from a proxy) give an
    :class:`UnexpectedResponseError` (or the status's class) quoting the start of the text.
    """
    headers = {k.lower(): v for k, v in (headers or {}).items()}
    data, text = _decode(body)
    code, server_message = _envelope(data)
    cls = _pick_class(status, code)
    if data is None and text.strip():
        snippet = " ".join(re.sub(r"<[^>]+>", " ", text).split())[:160]
        server_message = f"the answer was not JSON ({headers.get('content-type', 'no type')}): "
        server_message += repr(snippet)
    where = f"{method} {redact(url)}" if url else method
    full_subject = f"{subject} ({where})" if url else subject
    kwargs: dict[str, Any] = dict(
        status=status,
        error_code=code,
        server_message=server_message,
        subject=full_subject,
        hint=_CODE_HINTS.get(code or ""),
        body=data,
    )
    if cls is RateLimitError:
        kwargs["retry_after"] = parse_retry_after(headers.get("retry-after"))
    return cls(**kwargs)
