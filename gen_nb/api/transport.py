"""HTTP plumbing: the only place gen_nb makes ``requests`` sessions.

* :func:`api_session` — for the GEN API. The key is attached by :class:`ScopedKeyAuth` only to
  requests whose scheme, host and port equal the API's, and is re-checked on every redirect
  hop (requests itself keeps custom headers such as ``X-API-Key`` on cross-host redirects).
* :func:`public_session` — for the CDN and stream destinations: no key at all, a connection pool
  of 16, and no retry adapter (callers such as ``gen_nb.transfer`` run their own resume loop).
* :func:`retrying` — sends one request with bounded retries, exponential backoff with jitter and
  ``Retry-After``; network failures become :class:`gen_nb.errors.NetworkError`.

Retry rules (see :func:`may_retry`): GET/HEAD/OPTIONS/DELETE are retried on 429/500/502/503/504
and on connection errors. POST and PATCH are never retried blindly; a POST that carries an
``Idempotency-Key`` is retried only on 429 and 503 (the server did not process it, and a repeat
with the same key returns the first answer anyway). A request marked ``single_use`` (a DELETE with
a one-time ``confirm_token``) is treated like a keyed POST. 401/403/404/422 are never retried.
Every request gets a ``(connect, read)`` timeout unless the caller passes its own.
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import requests
import requests.adapters
import requests.auth

from gen_nb.config import Settings, origin_of
from gen_nb.errors import NetworkError, parse_retry_after

__all__ = [
    "DEFAULT_TIMEOUTS",
    "RETRY_STATUSES",
    "RetryPolicy",
    "ScopedKeyAuth",
    "api_session",
    "auth_header",
    "may_retry",
    "network_error",
    "public_session",
    "retrying",
]

log = logging.getLogger("gen_nb")

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
KEYED_RETRY_STATUSES = frozenset({429, 503})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "DELETE"})
DEFAULT_TIMEOUTS = (10.0, 30.0)
PUBLIC_POOL_SIZE = 16
_JWT = re.compile(r"^[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*$")
_NETWORK_ERRORS = (requests.ConnectionError, requests.Timeout,
                   requests.exceptions.ChunkedEncodingError)


def _user_agent() -> str:
    from gen_nb import __version__

    return f"gen_nb/{__version__} {requests.utils.default_user_agent()}"


# --- key scoping ----------------------------------------------------------------------------------

def auth_header(api_key: str) -> tuple[str, str]:
    """The header that carries a key: ``X-API-Key`` for tokens, ``Authorization`` for JWTs.

    ``gen_pat_…`` tokens (and anything that is not a JWT) go in ``X-API-Key``; a three-part
    dot-separated JWT (optionally given as ``"Bearer …"``) goes in ``Authorization: Bearer``.
    """
    key = api_key.strip()
    if key.lower().startswith("bearer "):
        return "Authorization", "Bearer " + key[7:].strip()
    if not key.startswith("gen_pat_") and _JWT.match(key):
        return "Authorization", f"Bearer {key}"
    return "X-API-Key", key


class ScopedKeyAuth(requests.auth.AuthBase):
    """Adds the key to requests for one origin only, and strips it from every other one."""

    def __init__(self, origin: tuple[str, str, int], api_key: str) -> None:
        self.origin = origin
        self._header, self._value = auth_header(api_key)

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        self.apply(request)
        return request

    def apply(self, request: requests.PreparedRequest) -> None:
        """Set the key when the request goes to the API origin; otherwise remove it."""
        if request.url and origin_of(request.url) == self.origin:
            request.headers[self._header] = self._value
            return
        request.headers.pop("X-API-Key", None)
        if request.headers.get("Authorization") == self._value:
            del request.headers["Authorization"]

    def __repr__(self) -> str:
        scheme, host, port = self.origin
        return f"ScopedKeyAuth(origin='{scheme}://{host}:{port}', header={self._header!r}, key=***)"


class _Session(requests.Session):
    """A session with a default timeout on every request and key re-scoping on redirects."""

    def __init__(self, timeouts: tuple[float, float] = DEFAULT_TIMEOUTS) -> None:
        super().__init__()
        self.default_timeouts = timeouts
        self.headers["User-Agent"] = _user_agent()

    def request(self, method: str, url: Any,  # type: ignore[override]
                *args: Any, **kwargs: Any) -> requests.Response:
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.default_timeouts
        return super().request(method, url, *args, **kwargs)

    def rebuild_auth(self, prepared_request: requests.PreparedRequest,
                     response: requests.Response) -> None:
        super().rebuild_auth(prepared_request, response)
        if isinstance(self.auth, ScopedKeyAuth):
            self.auth.apply(prepared_request)

    def __repr__(self) -> str:
        return f"<gen_nb session auth={self.auth!r}>"


def api_session(settings: Settings, *, pool_size: int = 10) -> requests.Session:
    """A session for the GEN API: JSON accept header, scoped key, default timeouts.

    >>> from gen_nb.config import resolve_settings
    >>> s = api_session(resolve_settings(api_key="gen_pat_x", env={}))
    >>> "gen_pat_x" in repr(s)
    False
    """
    session = _Session(settings.timeouts)
    session.headers["Accept"] = "application/json"
    if settings.api_key:
        session.auth = ScopedKeyAuth(settings.api_origin, settings.api_key)
    adapter = requests.adapters.HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size,
                                            max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def public_session(*, pool_size: int = PUBLIC_POOL_SIZE,
                   timeouts: tuple[float, float] = DEFAULT_TIMEOUTS) -> requests.Session:
    """A key-less session for the CDN and stream destinations (pooled, no retry adapter).

    >>> public_session().auth is None
    True
    """
    session = _Session(timeouts)
    adapter = requests.adapters.HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size,
                                            max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


# --- retries --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry. ``sleep`` and ``jitter`` are injectable for tests.

    The n-th retry (n from 0) waits ``min(backoff_max, backoff * 2**n)`` scaled by a jitter
    factor in [0.5, 1), or exactly the server's ``Retry-After`` when it sent one. A
    ``Retry-After`` longer than ``retry_after_max`` is not waited for: the error is raised.
    """

    retries: int = 4
    backoff: float = 0.5
    backoff_max: float = 16.0
    retry_after_max: float = 120.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    jitter: Callable[[], float] = field(default=random.random, repr=False)

    def delay(self, attempt: int, retry_after: float | None = None) -> float | None:
        """Seconds to wait before retry number ``attempt``, or None to give up."""
        if retry_after is not None:
            return retry_after if retry_after <= self.retry_after_max else None
        base = min(self.backoff_max, self.backoff * (2 ** attempt))
        return base * (0.5 + self.jitter() / 2)


def may_retry(method: str, *, status: int | None = None, error: BaseException | None = None,
              keyed: bool = False, single_use: bool = False) -> bool:
    """Whether a failed attempt may be repeated (pure; see the module docstring for the rules).

    >>> may_retry("GET", status=503), may_retry("POST", status=503), may_retry("GET", status=404)
    (True, False, False)
    """
    method = method.upper()
    if method in IDEMPOTENT_METHODS and not single_use:
        if error is not None:
            return isinstance(error, _NETWORK_ERRORS)
        return status in RETRY_STATUSES
    if keyed or single_use:
        return error is None and status in KEYED_RETRY_STATUSES
    return False


def network_error(exc: BaseException, url: str, *, check: str = "") -> NetworkError:
    """A :class:`NetworkError` naming the host, what went wrong and what to check."""
    host = requests.utils.urlparse(url).netloc or url
    if isinstance(exc, requests.Timeout) or "timed out" in str(exc).lower():
        what = "did not answer in time"
        advice = "Try again, or raise timeout= (GEN_NB_TIMEOUT) if the network is slow."
    elif isinstance(exc, requests.exceptions.ChunkedEncodingError):
        what = "broke the connection in the middle of an answer"
        advice = "Try again; check your network or proxy if it keeps happening."
    else:
        what = "could not be reached"
        advice = "Check your internet connection, proxy settings (HTTPS_PROXY) and the host name."
    reason = str(exc).split(": ", 1)[-1][:200]
    return NetworkError(f"{host} {what} ({type(exc).__name__}: {reason}). {advice} {check}".strip())


def _sleep_before_retry(policy: RetryPolicy, attempt: int, method: str, url: str,
                        reason: str, retry_after: float | None = None) -> bool:
    delay = policy.delay(attempt, retry_after)
    if delay is None:
        return False
    log.info("gen_nb: %s %s → %s; retry %d/%d in %.2f s", method, url.split("?")[0], reason,
             attempt + 1, policy.retries, delay)
    policy.sleep(delay)
    return True


def retrying(
    session: requests.Session,
    method: str,
    url: str,
    *,
    policy: RetryPolicy | None = None,
    single_use: bool = False,
    check: str = "",
    **kwargs: Any,
) -> requests.Response:
    """Send a request, retrying as :func:`may_retry` allows; return the last response.

    Error statuses are returned, not raised (map them with ``errors.error_from_response``).
    Connection failures that are not retried raise :class:`NetworkError`; ``check`` is appended
    to its message (e.g. which setting names the host).
    """
    policy = policy or RetryPolicy()
    headers: Mapping[str, str] = kwargs.get("headers") or {}
    keyed = any(k.lower() == "idempotency-key" for k in headers)
    attempt = 0
    while True:
        can_retry = attempt < policy.retries
        try:
            response = session.request(method, url, **kwargs)
        except requests.RequestException as exc:
            if can_retry and may_retry(method, error=exc, keyed=keyed, single_use=single_use) \
                    and _sleep_before_retry(policy, attempt, method, url, type(exc).__name__):
                attempt += 1
                continue
            raise network_error(exc, url, check=check) from exc
        status = response.status_code
        if can_retry and may_retry(method, status=status, keyed=keyed, single_use=single_use):
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            if _sleep_before_retry(policy, attempt, method, url, f"HTTP {status}", retry_after):
                response.close()
                attempt += 1
                continue
        return response
