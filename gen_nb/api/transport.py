"""The one network core of gen_nb, shared by the API client and the transfer engine.

* **Sessions** — :func:`api_session` for the GEN API: the key is attached by
  :class:`ScopedKeyAuth` only to requests whose scheme, host and port equal the API's, and is
  re-checked on every redirect hop. :func:`public_session` for the CDN and stream
  destinations: no key at all. Neither has a retry adapter: retrying is decided here.
* **Retry rules** (:func:`may_retry`) — GET/HEAD/OPTIONS/DELETE repeat on
  :data:`RETRY_STATUSES` and on :data:`NETWORK_ERRORS`; POST and PATCH never repeat blindly: a
  POST with an ``Idempotency-Key`` repeats only on 429/503 (the server did not process it, and
  a repeat with the same key returns the first answer anyway); a ``single_use`` request (a
  DELETE with a one-time ``confirm_token``) is treated like a keyed POST.
* **Pacing** (:class:`RetryPolicy`, :class:`Retrying`) — exponential backoff with jitter and a
  cap, or the server's ``Retry-After`` (seconds or HTTP date, parsed by urllib3's ``Retry``) up
  to a maximum; waits end early when a cancel Event is set and never run past a deadline.
* **Deadlines** (:class:`Deadline`) — every call has a total time budget that no trickling or
  silent server can extend: per-read timeouts shrink to what is left, and a wait that would
  outlast it raises the deadline's error instead.

urllib3's ``Retry`` is used for what it does well (``Retry-After``); the loop itself is ours,
because urllib3 cannot express the keyed-POST rule, cancel-aware waits or a total deadline.
"""

from __future__ import annotations

import http.client
import logging
import random
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import requests
import requests.adapters
import requests.auth
import urllib3
from urllib3.exceptions import InvalidHeader
from urllib3.util.retry import Retry

from gen_nb.api.errors import CallTimeout, GenError, NetworkError
from gen_nb.api.redact import redact_url
from gen_nb.api.settings import Settings, origin_of

__all__ = [
    "IDEMPOTENT_METHODS",
    "NETWORK_ERRORS",
    "READ_ERRORS",
    "RETRY_STATUSES",
    "Deadline",
    "RetryPolicy",
    "Retrying",
    "ScopedKeyAuth",
    "api_session",
    "auth_header",
    "may_retry",
    "network_error",
    "parse_retry_after",
    "public_session",
    "send",
]

log = logging.getLogger("gen_nb")

RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
KEYED_RETRY_STATUSES = frozenset({429, 503})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "DELETE"})
NETWORK_ERRORS: tuple[type[BaseException], ...] = (
    requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)
READ_ERRORS: tuple[type[BaseException], ...] = (
    *NETWORK_ERRORS, urllib3.exceptions.HTTPError, http.client.HTTPException, OSError)
"""What reading a streamed body can raise (catch GenError first: some are OSErrors too)."""
POOL_SIZE = 32
_JWT = re.compile(r"^[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*$")
_RETRY_AFTER = Retry(retry_after_max=10**9)


def _user_agent() -> str:
    from gen_nb import __version__

    return f"gen_nb/{__version__} {requests.utils.default_user_agent()}"


# --- deadlines and pacing ---------------------------------------------------------------------

class Deadline:
    """A total time budget for one call. ``seconds=None`` means none (waits are unbounded).

    ``error`` builds the exception raised when it runs out (a CallTimeout by default; the
    transfer engine passes its own, a TransferError).

    >>> d = Deadline(0, "listing engines"); d.expired
    True
    """

    def __init__(self, seconds: float | None, what: str,
                 error: Callable[[str], GenError] = CallTimeout,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds, self.what, self._error, self._clock = seconds, what, error, clock
        self._start = clock()
        self._end = None if seconds is None else self._start + max(0.0, seconds)

    def resize(self, seconds: float | None) -> None:
        """Change the budget, still counted from when the call began (e.g. once a size is
        known)."""
        self.seconds = seconds
        self._end = None if seconds is None else self._start + max(0.0, seconds)

    def remaining(self) -> float | None:
        """Seconds left (never negative), or None without a deadline."""
        return None if self._end is None else max(0.0, self._end - self._clock())

    @property
    def expired(self) -> bool:
        left = self.remaining()
        return left is not None and left <= 0

    def error(self, detail: str = "") -> GenError:
        """The exception that says the budget ran out (not raised here)."""
        extra = f" ({detail})" if detail else ""
        return self._error(
            f"{self.what} did not finish within its deadline of {self.seconds:g} s{extra}. "
            "The server is too slow or stalls; try again later, or allow more time "
            "(deadline= / GEN_NB_DEADLINE).")

    def check(self, detail: str = "") -> None:
        """Raise :meth:`error` when the budget is spent."""
        if self.expired:
            raise self.error(detail)

    def read_timeout(self, per_read: float) -> float:
        """``per_read`` shrunk to what is left (at least 1 ms, so a read can still fail)."""
        left = self.remaining()
        return per_read if left is None else max(0.001, min(per_read, left))


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or HTTP date), or None.

    >>> parse_retry_after("3"), parse_retry_after("soon")
    (3, None)
    """
    if not value or not value.strip():
        return None
    try:
        return _RETRY_AFTER.parse_retry_after(value.strip())
    except (InvalidHeader, ValueError, OverflowError):
        return None


# Jitter from a generator of gen_nb's own: drawing from the random module's shared one would
# move the sequence of a user who seeded it (random.seed) whenever a request is retried.
_JITTER = random.Random()


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry. ``jitter`` is injectable for tests.

    Retry ``n`` (from 0) waits ``min(backoff_max, backoff * 2**n)`` scaled by a factor in
    [0.5, 1), or exactly the server's ``Retry-After``; a ``Retry-After`` longer than
    ``retry_after_max`` is not waited for (the caller gives up with the server's answer).
    """

    retries: int = 4
    backoff: float = 0.5
    backoff_max: float = 30.0
    retry_after_max: float = 120.0
    jitter: Callable[[], float] = field(default=_JITTER.random, repr=False, compare=False)

    def delay(self, attempt: int, retry_after: float | None = None) -> float | None:
        """Seconds to wait before retry number ``attempt``, or None to give up."""
        if attempt >= self.retries:
            return None
        if retry_after is not None:
            return retry_after if retry_after <= self.retry_after_max else None
        base = min(self.backoff_max, self.backoff * (2 ** attempt))
        return base * (0.5 + self.jitter() / 2)


class Retrying:
    """The attempts of one operation: counts failures, waits between them.

    :meth:`pause` waits (on ``cancel`` when given, so setting it ends the wait at once) and
    returns False when no retry is allowed (budget spent, Retry-After too long). A wait that
    would outlast ``deadline`` raises the deadline's error. :meth:`progressed` resets the
    budget, but only after ``reset_after`` bytes arrived since the last failure: a server
    trickling a byte now and then does not earn endless retries.
    """

    def __init__(self, policy: RetryPolicy, what: str, *, cancel: threading.Event | None = None,
                 deadline: Deadline | None = None, reset_after: int = 1 << 20,
                 sleep: Callable[[float], Any] | None = None) -> None:
        self.policy, self.what, self.cancel, self.deadline = policy, what, cancel, deadline
        self.reset_after, self._sleep = reset_after, sleep
        self.attempt = self.pauses = self._since_failure = 0

    def progressed(self, n: int) -> None:
        """Count ``n`` bytes received; reset the budget once enough arrived."""
        self._since_failure += n
        if self._since_failure >= self.reset_after:
            self.attempt = 0

    def pause(self, reason: str, retry_after: float | None = None) -> bool:
        """Wait before the next attempt; False when giving up (see the class docstring)."""
        delay = self.policy.delay(self.attempt, retry_after)
        if delay is None:
            return False
        if self.deadline is not None:
            left = self.deadline.remaining()
            if left is not None and delay >= left:
                raise self.deadline.error(f"last problem: {reason}")
        self.attempt += 1
        self.pauses += 1
        self._since_failure = 0
        log.info("gen_nb: %s: %s; retry %d/%d in %.2f s", self.what, reason, self.attempt,
                 self.policy.retries, delay)
        if self._sleep is not None:
            self._sleep(delay)
        elif self.cancel is not None:
            self.cancel.wait(delay)
        else:
            time.sleep(delay)
        return True


def may_retry(method: str, *, status: int | None = None, error: BaseException | None = None,
              keyed: bool = False, single_use: bool = False) -> bool:
    """Whether a failed attempt may be repeated (pure; see the module docstring for the rules).

    >>> may_retry("GET", status=503), may_retry("POST", status=503), may_retry("GET", status=404)
    (True, False, False)
    """
    method = method.upper()
    if method in IDEMPOTENT_METHODS and not single_use:
        if error is not None:
            return isinstance(error, NETWORK_ERRORS)
        return status in RETRY_STATUSES
    if keyed or single_use:
        return error is None and status in KEYED_RETRY_STATUSES
    return False


# --- key scoping and sessions ---------------------------------------------------------------------

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

    def __init__(self, timeouts: tuple[float, float]) -> None:
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


def _session(timeouts: tuple[float, float], pool_size: int) -> _Session:
    session = _Session(timeouts)
    adapter = requests.adapters.HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size,
                                            max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def api_session(settings: Settings, *, pool_size: int = POOL_SIZE) -> requests.Session:
    """A session for the GEN API: JSON accept header, scoped key, default timeouts.

    >>> from gen_nb.api.settings import resolve_settings
    >>> s = api_session(resolve_settings(api_key="gen_pat_x", env={}))
    >>> "gen_pat_x" in repr(s)
    False
    """
    session = _session(settings.timeouts, pool_size)
    session.headers["Accept"] = "application/json"
    if settings.api_key:
        session.auth = ScopedKeyAuth(settings.api_origin, settings.api_key)
    return session


def public_session(*, pool_size: int = POOL_SIZE,
                   timeouts: tuple[float, float] = (10.0, 60.0)) -> requests.Session:
    """A key-less session for the CDN and stream destinations (pooled, no retry adapter).

    >>> public_session().auth is None
    True
    """
    return _session(timeouts, pool_size)


# --- sending --------------------------------------------------------------------------------------

def network_error(exc: BaseException, url: str, *, check: str = "") -> NetworkError:
    """A :class:`NetworkError` naming the host, what went wrong and what to check."""
    host = requests.utils.urlparse(url).netloc.rpartition("@")[2] or redact_url(url)
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


def send(session: requests.Session, method: str, url: str, *, retrying: Retrying,
         timeout: tuple[float, float], single_use: bool = False, check: str = "",
         **kwargs: Any) -> requests.Response:
    """Send a request, repeating it as :func:`may_retry` and ``retrying`` allow.

    Returns the last response (error statuses are returned, not raised: map them with
    :func:`gen_nb.api.errors.error_from_response`); the body is streamed (``stream=True``).
    Connection failures that are not retried raise :class:`NetworkError` (``check`` is added
    to its message); the deadline of ``retrying`` bounds every attempt and wait.
    """
    headers: Mapping[str, str] = kwargs.get("headers") or {}
    keyed = any(k.lower() == "idempotency-key" for k in headers)
    deadline = retrying.deadline
    while True:
        if deadline is not None:
            deadline.check()
        per_try = (timeout[0], deadline.read_timeout(timeout[1]) if deadline else timeout[1])
        try:
            response = session.request(method, url, timeout=per_try, stream=True, **kwargs)
        except requests.RequestException as exc:
            if may_retry(method, error=exc, keyed=keyed, single_use=single_use) \
                    and retrying.pause(type(exc).__name__):
                continue
            if deadline is not None:
                deadline.check(type(exc).__name__)
            raise network_error(exc, url, check=check) from exc
        status = response.status_code
        if may_retry(method, status=status, keyed=keyed, single_use=single_use):
            wait = parse_retry_after(response.headers.get("Retry-After"))
            if retrying.pause(f"HTTP {status}", wait):
                response.close()
                continue
        return response
