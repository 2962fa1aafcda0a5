"""The GET a transfer sends: ``session.get(url, stream=True)`` without the work it never needs.

Measured on the benchmark machine (benchmarks/README.md, "Many files"): with 16 threads
sharing one interpreter on 2 cores, a 64 KiB download is bound by the interpreter, and
``Session.request`` spent most of it on things a CDN GET does not use: merging the session's
settings and cookie jars into every request, looking for ``.netrc`` credentials, walking the
whole environment for proxy settings, re-parsing the URL in the adapter, building timeout
objects and extracting cookies from the answer. :func:`lean_get` keeps what matters —

* the session's own adapter and connection pool (connections are shared with everything else
  the session sends), its headers, its TLS settings (``get_connection_with_tls_context``),
  proxies and CA bundles from the environment;
* requests' exception types (ConnectionError, ConnectTimeout, ReadTimeout, SSLError);
* a ``requests.Response`` that streams (``raw`` is urllib3's response);

— and steps aside for plain ``session.get`` whenever the skipped work could matter: the
session holds cookies, auth, hooks or params; ``.netrc`` names the host; the answer is a
redirect (requests follows it and re-checks what goes where). With a proxy or a client
certificate, or an adapter that is not requests' own (patched by ``responses``, replaced by
``requests-mock``, subclassed), it goes through ``adapter.send``.

:class:`EnvironmentCache` stands in for ``Session.merge_environment_settings`` on the shared
transfer session: the answer is remembered per origin for as long as the variables that
decide it are unchanged (read at most every 0.5 s; answers kept at most ``ENV_SECONDS``, so
system proxy settings on macOS and Windows are seen too).
"""

from __future__ import annotations

import os
import re
import time
import weakref
from collections.abc import Callable, Mapping
from typing import Any, TypeGuard

import requests
import requests.adapters
import requests.utils
import urllib3
from requests.structures import CaseInsensitiveDict

__all__ = ["ENV_SECONDS", "EnvironmentCache", "lean_get"]

ENV_SECONDS = 30.0
_ENV_NAMES = ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy",
              "ALL_PROXY", "no_proxy", "NO_PROXY", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")


class EnvironmentCache:
    """``Session.merge_environment_settings``, remembered (see the module docstring)."""

    def __init__(self, merge: Callable[..., dict[str, Any]]) -> None:
        self._merge = merge
        self._seen: dict[tuple[Any, ...], tuple[float, dict[str, Any]]] = {}
        self._env: tuple[str | None, ...] = ()
        self._env_read = float("-inf")

    def _environment(self, now: float) -> tuple[str | None, ...]:
        """The variables that decide proxies and CA bundles (read at most every 0.5 s)."""
        if now - self._env_read > 0.5:
            self._env = tuple(os.environ.get(name) for name in _ENV_NAMES)
            self._env_read = now
        return self._env

    def __call__(self, url: str, proxies: Any, stream: Any, verify: Any,
                 cert: Any) -> dict[str, Any]:
        if proxies or cert is not None or verify not in (None, True):
            return self._merge(url, proxies, stream, verify, cert)
        now = time.monotonic()
        key = (_origin(url), stream, verify, self._environment(now))
        seen = self._seen.get(key)
        if seen is None or now - seen[0] > ENV_SECONDS:
            if len(self._seen) > 256:
                self._seen.clear()
            seen = self._seen[key] = (now, self._merge(url, proxies, stream, verify, cert))
        settings = seen[1]
        return {**settings, "proxies": dict(settings["proxies"])}



def _origin(url: str) -> str:
    """``scheme://netloc`` of a URL, by string search (a cache key; urlsplit costs more)."""
    start, end = url.find("//") + 2, len(url)
    for mark in "/?#":
        at = url.find(mark, start)
        if 0 <= at < end:
            end = at
    return url[:end]


_netrc_seen: dict[str, tuple[float, bool]] = {}


def _netrc_names(url: str) -> bool:
    """Whether ``.netrc`` has credentials for the URL's host (looked up every ENV_SECONDS)."""
    key, now = _origin(url), time.monotonic()
    seen = _netrc_seen.get(key)
    if seen is None or now - seen[0] > ENV_SECONDS:
        seen = _netrc_seen[key] = (now, requests.utils.get_netrc_auth(url) is not None)
    return seen[1]


def _plain(session: requests.Session, url: str) -> bool:
    """Whether a GET of ``url`` needs none of Session.request's per-request work."""
    return (not session.cookies and session.auth is None and not session.params
            and not any(session.hooks.values())
            and not (session.trust_env and _netrc_names(url)))


def lean_get(session: requests.Session, url: str, headers: Mapping[str, str],
             timeout: tuple[float, float]) -> requests.Response:
    """``session.get(url, headers=headers, stream=True, timeout=timeout)``, leaner (see the
    module docstring); raises what requests raises."""
    if not _plain(session, url):
        return session.get(url, headers=headers, stream=True, timeout=timeout)
    prepared = _prepare(session, url, headers)
    address = prepared.url or url
    settings = session.merge_environment_settings(address, {}, True, None, None)
    adapter = session.get_adapter(address)
    proxies = settings["proxies"]
    if settings["cert"] or (proxies and requests.utils.select_proxy(address, proxies)) or \
            not _stock(adapter):
        prepared.headers = CaseInsensitiveDict(prepared.headers)   # its own, to change
        response = adapter.send(prepared, stream=True, timeout=timeout,
                                verify=settings["verify"], cert=settings["cert"],
                                proxies=proxies)
    else:
        response = _direct(adapter, prepared, settings["verify"], timeout)
    if response.is_redirect:           # requests follows it (and re-checks who gets what)
        response.close()
        return session.get(url, headers=headers, stream=True, timeout=timeout)
    return response


# A URL that requests' prepare_url would return unchanged: lower-case http(s) scheme and host,
# a path, only characters it never quotes, and no "%" (it would re-quote escapes).
_PLAIN_URL = re.compile(r"https?://[a-z0-9.\-]+(?::[0-9]{1,5})?/[A-Za-z0-9\-._~!$&'()*+,;=:@/]*"
                        r"(?:\?[A-Za-z0-9\-._~!$&'()*+,;=:@/?]+)?")
_merged: dict[tuple[Any, ...], CaseInsensitiveDict[str | bytes]] = {}


def _prepare(session: requests.Session, url: str,
             headers: Mapping[str, str]) -> requests.PreparedRequest:
    """A GET PreparedRequest as ``session.prepare_request`` would make it for a session
    without cookies, auth or params; its headers are shared between requests (read only)."""
    prepared = requests.PreparedRequest()
    prepared.method = "GET"
    if _PLAIN_URL.fullmatch(url):
        prepared.url = url
    else:
        prepared.prepare_url(url, None)
    key = (tuple(session.headers.items()), tuple(headers.items()))
    merged = _merged.get(key)
    if merged is None:
        merged = CaseInsensitiveDict[str | bytes](session.headers)
        merged.update(headers)
        if len(_merged) > 64:
            _merged.clear()
        _merged[key] = merged
    prepared.headers = merged
    prepared.hooks = {"response": []}
    return prepared


def _stock(adapter: Any) -> TypeGuard[requests.adapters.HTTPAdapter]:
    """requests' own HTTPAdapter, not patched (``responses``), replaced (``requests-mock``)
    or subclassed: only then may :func:`_direct` stand in for its ``send``."""
    send = getattr(type(adapter), "send", None)
    return type(adapter) is requests.adapters.HTTPAdapter and \
        getattr(send, "__module__", "") == "requests.adapters" and \
        getattr(send, "__qualname__", "") == "HTTPAdapter.send"


def _direct(adapter: requests.adapters.HTTPAdapter, prepared: requests.PreparedRequest,
            verify: Any, timeout: tuple[float, float]) -> requests.Response:
    """``adapter.send`` for a GET without proxy or client certificate: the adapter's own
    connection pool (``get_connection_with_tls_context``: its TLS settings; remembered per
    origin), urllib3's public ``urlopen``, and the adapter's exception mapping — without its
    per-request URL re-parsing, timeout objects and cookie extraction. ``headers`` is
    urllib3's own case-insensitive HTTPHeaderDict (requests would copy it)."""
    for attempt in (1, 2):
        pool = _POOLS.get(adapter, prepared, verify, fresh=attempt == 2)
        try:
            raw = pool.urlopen("GET", prepared.path_url,
                               headers=prepared.headers,  # type: ignore[arg-type]  # urllib3#3072
                               redirect=False, assert_same_host=False, preload_content=False,
                               decode_content=False, retries=False,
                               timeout=urllib3.Timeout(connect=timeout[0], read=timeout[1]))
            break
        except urllib3.exceptions.ClosedPoolError:   # evicted by the pool manager: again
            if attempt == 2:
                raise requests.ConnectionError("connection pool closed",
                                               request=prepared) from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise _as_requests_error(exc, prepared) from exc
    response = requests.Response()
    response.status_code, response.reason = raw.status, raw.reason or ""
    response.headers = raw.headers  # type: ignore[assignment]
    response.raw, response.url = raw, prepared.url or ""
    response.request, response.connection = prepared, adapter
    return response


class _PoolCache:
    """``adapter.get_connection_with_tls_context`` per adapter, origin and ``verify``,
    remembered (~15 µs a request: URL parsing, pool-key normalising, the manager's lock).
    A pool the manager closed since raises ClosedPoolError before anything is sent, and
    :func:`_direct` asks again with ``fresh``."""

    def __init__(self) -> None:
        self._by_adapter: weakref.WeakKeyDictionary[Any, dict[tuple[str, Any], Any]] = \
            weakref.WeakKeyDictionary()

    def get(self, adapter: requests.adapters.HTTPAdapter, prepared: requests.PreparedRequest,
            verify: Any, *, fresh: bool = False) -> Any:
        how = verify if isinstance(verify, bool | str) else id(verify)
        key = (_origin(prepared.url or ""), how)
        pools = self._by_adapter.setdefault(adapter, {})
        pool = None if fresh else pools.get(key)
        if pool is None:
            pool = adapter.get_connection_with_tls_context(prepared, verify, proxies=None,
                                                           cert=None)
            if len(pools) > 64:
                pools.clear()
            pools[key] = pool
        return pool


_POOLS = _PoolCache()




def _as_requests_error(exc: BaseException,
                       prepared: requests.PreparedRequest) -> requests.RequestException:
    """What ``HTTPAdapter.send`` raises for this urllib3 / socket error."""
    errors = urllib3.exceptions
    if isinstance(exc, errors.NewConnectionError):
        return requests.ConnectionError(exc, request=prepared)
    if isinstance(exc, errors.ConnectTimeoutError):
        return requests.ConnectTimeout(exc, request=prepared)
    if isinstance(exc, errors.ReadTimeoutError):
        return requests.ReadTimeout(exc, request=prepared)
    if isinstance(exc, errors.SSLError):
        return requests.exceptions.SSLError(exc, request=prepared)
    return requests.ConnectionError(exc, request=prepared)
