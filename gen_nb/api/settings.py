"""Settings of a gen_nb client, resolved explicit argument → environment → default.

Resolution happens when a client is built (:func:`resolve_settings`, called by
``gen_nb.connect()``), never at import. The environment variables:

==========================  =====================================================================
``GEN_API_KEY``             personal access token (``gen_pat_…``) or a JWT (sent as Bearer)
``GEN_AGENT_ID``            the agent whose engines, resources and posts are used
``GEN_API_BASE_URL``        default ``https://api.gen.pro/v1``
``GEN_ENGINE_PREFIX``       ``vidsheet`` (default, newer API) or ``autocontentengine`` (older)
``GEN_NB_ENGINE_IDS``       comma-separated engine ids, when the API cannot list engines
``GEN_NB_TIMEOUT``          read timeout of API requests in seconds (default 30)
``GEN_NB_RETRIES``          retries of idempotent requests (default 4)
``GEN_NB_DOWNLOAD_DIR``     default download folder (default ``./downloads``)
``GEN_NB_DISABLE_PROGRESS`` any of 1/true/yes/on turns progress bars off
==========================  =====================================================================

The key never appears in a repr or str of :class:`Settings`.

>>> s = resolve_settings(api_key="gen_pat_abc", agent_id="7", env={})
>>> s.base_url, s.engine_prefix, "gen_pat_abc" in repr(s)
('https://api.gen.pro/v1', 'vidsheet', False)
"""

from __future__ import annotations

import math
import os
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from gen_nb.errors import ConfigError

__all__ = [
    "DEFAULT_BASE_URL",
    "ENGINE_PREFIXES",
    "Settings",
    "mask_key",
    "origin_of",
    "resolve_settings",
]

DEFAULT_BASE_URL = "https://api.gen.pro/v1"
ENGINE_PREFIXES = ("vidsheet", "autocontentengine")
DEFAULT_TIMEOUT = 30.0
DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_RETRIES = 4
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"", "0", "false", "no", "off"})
_DEFAULT_PORTS = {"http": 80, "https": 443}


def mask_key(key: str | None) -> str | None:
    """A printable stand-in for an API key: ``gen_pat_***``, ``***`` or None (no key)."""
    if not key:
        return None
    return "gen_pat_***" if key.startswith("gen_pat_") else "***"


def origin_of(url: str) -> tuple[str, str, int]:
    """``(scheme, host, port)`` of a URL, lower-cased, with the scheme's default port filled in.

    >>> origin_of("HTTPS://API.gen.pro/v1")
    ('https', 'api.gen.pro', 443)
    """
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    return scheme, (parts.hostname or "").lower(), port or _DEFAULT_PORTS.get(scheme, 0)


@dataclass(frozen=True)
class Settings:
    """Everything a client needs, already validated. Build it with :func:`resolve_settings`.

    ``api_key`` is excluded from repr and comparisons' output; ``repr`` shows only whether a key
    is set (``gen_pat_***``).
    """

    api_key: str | None = field(default=None, repr=False)
    agent_id: str | None = None
    base_url: str = DEFAULT_BASE_URL
    engine_prefix: str = "vidsheet"
    engine_ids: tuple[str, ...] = ()
    timeout: float = DEFAULT_TIMEOUT
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    retries: int = DEFAULT_RETRIES
    download_dir: Path | None = None
    disable_progress: bool = False

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{f.name}={getattr(self, f.name)!r}" for f in fields(self) if f.name != "api_key")
        return f"Settings(api_key={mask_key(self.api_key)!r}, {shown})"

    __str__ = __repr__

    @property
    def api_origin(self) -> tuple[str, str, int]:
        """``(scheme, host, port)`` of the API: the only origin the key is ever sent to."""
        return origin_of(self.base_url)

    @property
    def api_host(self) -> str:
        """``host[:port]`` of the API, for messages."""
        return urllib.parse.urlsplit(self.base_url).netloc

    @property
    def timeouts(self) -> tuple[float, float]:
        """``(connect, read)`` timeouts for requests."""
        return (min(self.connect_timeout, self.timeout), self.timeout)

    def require_agent_id(self, what: str = "this call") -> str:
        """The agent id, or a :class:`ConfigError` saying how to set it."""
        if self.agent_id:
            return self.agent_id
        raise ConfigError(
            f"{what} needs an agent id, and none is set. Set GEN_AGENT_ID (or pass agent_id= "
            "to gen_nb.connect()) to the id of your GEN agent; the agent's page in GEN shows it."
        )


# --- resolution ---------------------------------------------------------------------------------

def _pick(explicit: Any, env: Mapping[str, str], name: str) -> Any:
    """The explicit value when given, else the non-empty environment value, else None."""
    if explicit is not None:
        return explicit
    value = env.get(name, "").strip()
    return value or None


def _base_url(value: str | None, source: str) -> str:
    url = (value or DEFAULT_BASE_URL).strip().rstrip("/")
    parts = urllib.parse.urlsplit(url)
    problem = None
    if parts.scheme not in ("http", "https"):
        problem = "it must start with https:// (or http:// for a local sandbox)"
    elif not parts.hostname:
        problem = "it has no host name"
    elif parts.query or parts.fragment:
        problem = "it must not contain a query (?…) or fragment (#…)"
    else:
        try:
            parts.port  # noqa: B018 - raises ValueError on a bad port
        except ValueError:
            problem = "its port is not a number between 0 and 65535"
    if problem:
        raise ConfigError(
            f"The API base URL {url!r} (from {source}) is malformed: {problem}. "
            f"Use e.g. {DEFAULT_BASE_URL!r}, or unset GEN_API_BASE_URL for the default.")
    return url


def _prefix(value: str | None, source: str) -> str:
    prefix = (value or "vidsheet").strip().strip("/").lower()
    if prefix not in ENGINE_PREFIXES:
        raise ConfigError(
            f"Unknown engine prefix {value!r} (from {source}): use 'vidsheet' (newer API) or "
            "'autocontentengine' (older API) for engine_prefix= / GEN_ENGINE_PREFIX.")
    return prefix


def _engine_ids(value: str | int | Iterable[Any] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, int):
        value = [value]
    items = value.split(",") if isinstance(value, str) else [str(v) for v in value]
    return tuple(dict.fromkeys(item.strip() for item in items if str(item).strip()))


def _number(value: Any, source: str, *, default: float, minimum: float) -> float:
    if value is None:
        return default
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number) or number < minimum:
        raise ConfigError(f"{source} must be a number ≥ {minimum:g}, not {value!r}.")
    return number


def _flag(value: Any, source: str) -> bool:
    if isinstance(value, bool) or value is None:
        return bool(value)
    text = str(value).strip().lower()
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    raise ConfigError(f"{source} must be one of 1/0, true/false, yes/no, on/off; not {value!r}.")


def _source(explicit: Any, arg: str, var: str) -> str:
    return f"{arg}=" if explicit is not None else f"the environment variable {var}"


def resolve_settings(
    api_key: str | None = None,
    *,
    agent_id: str | int | None = None,
    base_url: str | None = None,
    engine_prefix: str | None = None,
    engine_ids: str | int | Iterable[Any] | None = None,
    timeout: float | None = None,
    retries: int | None = None,
    download_dir: str | os.PathLike[str] | None = None,
    disable_progress: bool | None = None,
    env: Mapping[str, str] | None = None,
) -> Settings:
    """Resolve settings: explicit argument → environment (``env``: ``os.environ``) → default.

    Raises :class:`ConfigError` naming the argument and the variable when a value is malformed
    (a base URL without scheme or host, an unknown engine prefix, a non-numeric timeout).
    A key without an agent id is fine here; agent-scoped calls raise later.

    >>> resolve_settings(env={"GEN_ENGINE_PREFIX": "autocontentengine"}).engine_prefix
    'autocontentengine'
    """
    env = os.environ if env is None else env
    key = _pick(api_key, env, "GEN_API_KEY")
    agent = _pick(None if agent_id is None else str(agent_id), env, "GEN_AGENT_ID")
    url = _pick(base_url, env, "GEN_API_BASE_URL")
    prefix = _pick(engine_prefix, env, "GEN_ENGINE_PREFIX")
    read_timeout = _number(_pick(timeout, env, "GEN_NB_TIMEOUT"),
                           _source(timeout, "timeout", "GEN_NB_TIMEOUT"),
                           default=DEFAULT_TIMEOUT, minimum=0.001)
    retry_count = _number(_pick(retries, env, "GEN_NB_RETRIES"),
                          _source(retries, "retries", "GEN_NB_RETRIES"),
                          default=DEFAULT_RETRIES, minimum=0)
    folder = _pick(download_dir, env, "GEN_NB_DOWNLOAD_DIR")
    return Settings(
        api_key=str(key).strip() if key else None,
        agent_id=str(agent).strip() if agent else None,
        base_url=_base_url(url, _source(base_url, "base_url", "GEN_API_BASE_URL")),
        engine_prefix=_prefix(prefix, _source(engine_prefix, "engine_prefix",
                                              "GEN_ENGINE_PREFIX")),
        engine_ids=_engine_ids(_pick(engine_ids, env, "GEN_NB_ENGINE_IDS")),
        timeout=read_timeout,
        retries=int(retry_count),
        download_dir=Path(folder).expanduser() if folder else None,
        disable_progress=_flag(_pick(disable_progress, env, "GEN_NB_DISABLE_PROGRESS"),
                               _source(disable_progress, "disable_progress",
                                       "GEN_NB_DISABLE_PROGRESS")),
    )
