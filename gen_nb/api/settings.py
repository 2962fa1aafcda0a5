"""Every setting of gen_nb, resolved explicit argument → environment → default, in one place.

Two value objects: :class:`Settings` (what a client needs; built by :func:`resolve_settings`
when ``gen_nb.connect()`` runs, never at import) and :class:`TransferOptions` (the knobs of
``download``, ``download_many`` and ``stream_to``; built by :meth:`TransferOptions.resolve`
when a transfer starts). Both read the environment through :data:`ENVIRONMENT`, the table of
every variable gen_nb knows, with one rule for numbers and one for booleans
(``1/true/yes/on`` and ``0/false/no/off``; anything else is a :class:`ConfigError` naming the
variable). The key never appears in a repr or str.

>>> s = resolve_settings(api_key="gen_pat_abc", agent_id="7", env={})
>>> s.base_url, s.engine_prefix, "gen_pat_abc" in repr(s)
('https://api.gen.pro/v1', 'vidsheet', False)
>>> TransferOptions.resolve(env={"GEN_NB_DISABLE_PROGRESS": "yes"}).progress
False
"""

from __future__ import annotations

import dataclasses
import math
import os
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from gen_nb.api.errors import ConfigError

__all__ = [
    "DEFAULT_BASE_URL",
    "ENGINE_PREFIXES",
    "ENVIRONMENT",
    "EnvVar",
    "Settings",
    "TransferOptions",
    "download_dir",
    "mask_key",
    "origin_of",
    "parse_flag",
    "resolve_settings",
]

DEFAULT_BASE_URL = "https://api.gen.pro/v1"
ENGINE_PREFIXES = ("vidsheet", "autocontentengine")
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class EnvVar:
    """One environment variable: its name, what it sets and its default (for the docs)."""

    name: str
    doc: str
    default: str = ""


ENVIRONMENT: tuple[EnvVar, ...] = (
    EnvVar("GEN_API_KEY", "personal access token (gen_pat_…) or a JWT; none → the sandbox"),
    EnvVar("GEN_AGENT_ID", "the agent whose engines, resources and posts are used"),
    EnvVar("GEN_API_BASE_URL", "API base URL", DEFAULT_BASE_URL),
    EnvVar("GEN_ENGINE_PREFIX", "vidsheet (newer API) or autocontentengine (older)", "vidsheet"),
    EnvVar("GEN_NB_ENGINE_IDS", "comma-separated engine ids, for APIs without the engine list"),
    EnvVar("GEN_NB_TIMEOUT", "read timeout of one API request, seconds", "30"),
    EnvVar("GEN_NB_RETRIES", "retries of an idempotent API request", "4"),
    EnvVar("GEN_NB_DEADLINE", "total time budget of one API call, seconds", "120"),
    EnvVar("GEN_NB_CONCURRENCY", "engines fetched at once when listing renders", "8"),
    EnvVar("GEN_NB_DOWNLOAD_DIR", "default download folder", "./downloads"),
    EnvVar("GEN_NB_DISABLE_PROGRESS", "yes: no default progress bar", "no"),
    EnvVar("GEN_NB_FSYNC", "no: skip flushing downloads to disk before the move", "yes"),
    EnvVar("GEN_NB_MIN_RATE", "bytes/s a transfer may not stay below (sets its deadline)",
           str(256 << 10)),
    EnvVar("GEN_NB_MAX_UNKNOWN_SIZE", "largest body without a known length, bytes",
           str(4 << 30)),
)
_KNOWN = {v.name for v in ENVIRONMENT}


# --- parsing (one rule each) ----------------------------------------------------------------------

def _source(explicit: Any, arg: str, var: str) -> str:
    return f"{arg}=" if explicit is not None else f"the environment variable {var}"


def _pick(explicit: Any, env: Mapping[str, str], name: str) -> Any:
    """The explicit value when given, else the non-empty environment value, else None."""
    assert name in _KNOWN, name
    if explicit is not None:
        return explicit
    value = env.get(name, "").strip()
    return value or None


def parse_flag(value: Any, source: str, default: bool = False) -> bool:
    """A boolean setting: True/False, or 1/0, true/false, yes/no, on/off (any case).

    >>> parse_flag("Yes", "x"), parse_flag(None, "x", default=True)
    (True, True)
    """
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    raise ConfigError(f"{source} must be one of 1/0, true/false, yes/no, on/off; not {value!r}.")


def _number(value: Any, source: str, *, default: float, minimum: float,
            integer: bool = False) -> float:
    if value is None:
        return default
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        number = math.nan
    if not math.isfinite(number) or number < minimum or (integer and not number.is_integer()):
        kind = "a whole number" if integer else "a number"
        raise ConfigError(f"{source} must be {kind} ≥ {minimum:g}, not {value!r}.")
    return number


def _setting(explicit: Any, env: Mapping[str, str], arg: str, var: str, *,
             default: float, minimum: float, integer: bool = False) -> float:
    return _number(_pick(explicit, env, var), _source(explicit, arg, var), default=default,
                   minimum=minimum, integer=integer)


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


def download_dir(env: Mapping[str, str] | None = None) -> Path:
    """``$GEN_NB_DOWNLOAD_DIR``, else ``./downloads`` (read when called)."""
    folder = _pick(None, os.environ if env is None else env, "GEN_NB_DOWNLOAD_DIR")
    return Path(folder).expanduser() if folder else Path("downloads")


# --- the client's settings ------------------------------------------------------------------

@dataclass(frozen=True)
class Settings:
    """Everything a client needs, already validated. Build it with :func:`resolve_settings`.

    ``repr`` shows only whether a key is set (``gen_pat_***``).
    """

    api_key: str | None = field(default=None, repr=False)
    agent_id: str | None = None
    base_url: str = DEFAULT_BASE_URL
    engine_prefix: str = "vidsheet"
    engine_ids: tuple[str, ...] = ()
    timeout: float = 30.0
    connect_timeout: float = 10.0
    retries: int = 4
    deadline: float = 120.0
    concurrency: int = 8
    max_answer_bytes: int = 64 << 20

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


def _base_url(value: str | None, source: str) -> str:
    url = (value or DEFAULT_BASE_URL).strip().rstrip("/")
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
        bad_port = False
    except ValueError:
        parts, bad_port = urllib.parse.urlsplit("x:"), True
    problem = None
    if bad_port:
        problem = "its port is not a number between 0 and 65535"
    elif parts.scheme not in ("http", "https"):
        problem = "it must start with https:// (or http:// for a local sandbox)"
    elif not parts.hostname:
        problem = "it has no host name"
    elif parts.query or parts.fragment or "@" in parts.netloc:
        problem = "it must not contain user:password@, a query (?…) or a fragment (#…)"
    if problem:
        shown = url if "@" not in url else "(a URL with user info)"
        raise ConfigError(
            f"The API base URL {shown!r} (from {source}) is malformed: {problem}. "
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


def _api_key(value: Any, source: str) -> str | None:
    """The key, checked: header-safe printable ASCII without spaces. Never quoted in errors."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ConfigError(f"The API key (from {source}) must be a string, not "
                          f"{type(value).__name__}.")
    key = value.strip()
    rest = key[7:].strip() if key.lower().startswith("bearer ") else key
    bad = next((ch for ch in rest if not (33 <= ord(ch) <= 126)), None)
    if bad is not None:
        what = {"\r": "a carriage return", "\n": "a line break", " ": "a space",
                "\t": "a tab"}.get(bad, "a non-ASCII or control character")
        raise ConfigError(
            f"The API key (from {source}) contains {what}, which an HTTP header cannot carry; "
            "it was probably pasted with extra text. Copy the token again from GEN "
            "(it looks like gen_pat_…) and set GEN_API_KEY to exactly that.")
    return key or None


def resolve_settings(
    api_key: str | None = None,
    *,
    agent_id: str | int | None = None,
    base_url: str | None = None,
    engine_prefix: str | None = None,
    engine_ids: str | int | Iterable[Any] | None = None,
    timeout: float | None = None,
    retries: int | None = None,
    deadline: float | None = None,
    concurrency: int | None = None,
    env: Mapping[str, str] | None = None,
) -> Settings:
    """Resolve settings: explicit argument → environment (``env``: ``os.environ``) → default.

    Raises :class:`ConfigError` naming the argument and the variable when a value is malformed
    (a base URL without scheme or host, an unknown engine prefix, a non-numeric timeout, a key
    with spaces or line breaks). A key without an agent id is fine here; agent-scoped calls
    raise later.

    >>> resolve_settings(env={"GEN_ENGINE_PREFIX": "autocontentengine"}).engine_prefix
    'autocontentengine'
    """
    env = os.environ if env is None else env
    agent = _pick(None if agent_id is None else str(agent_id), env, "GEN_AGENT_ID")
    prefix = _pick(engine_prefix, env, "GEN_ENGINE_PREFIX")
    return Settings(
        api_key=_api_key(_pick(api_key, env, "GEN_API_KEY"),
                         _source(api_key, "api_key", "GEN_API_KEY")),
        agent_id=str(agent).strip() if agent else None,
        base_url=_base_url(_pick(base_url, env, "GEN_API_BASE_URL"),
                           _source(base_url, "base_url", "GEN_API_BASE_URL")),
        engine_prefix=_prefix(prefix, _source(engine_prefix, "engine_prefix",
                                              "GEN_ENGINE_PREFIX")),
        engine_ids=_engine_ids(_pick(engine_ids, env, "GEN_NB_ENGINE_IDS")),
        timeout=_setting(timeout, env, "timeout", "GEN_NB_TIMEOUT", default=30.0,
                         minimum=0.001),
        retries=int(_setting(retries, env, "retries", "GEN_NB_RETRIES", default=4, minimum=0,
                             integer=True)),
        deadline=_setting(deadline, env, "deadline", "GEN_NB_DEADLINE", default=120.0,
                          minimum=0.001),
        concurrency=int(_setting(concurrency, env, "concurrency", "GEN_NB_CONCURRENCY",
                                 default=8, minimum=1, integer=True)),
    )


# --- transfer options ---------------------------------------------------------------------

@dataclass(frozen=True)
class TransferOptions:
    """How ``download``, ``download_many`` and ``stream_to`` move bytes (one object for all).

    ``timeout``: (connect, read) seconds per request. ``retries``: attempts after a failure.
    ``chunk_size``: bytes per read buffer. ``fsync``: flush to disk before the final move.
    ``lock_timeout``: seconds to wait for another download of the same file (None: forever).
    ``progress``: show the default bar when no progress sink is given. ``overwrite``: replace
    a different file under the final name. ``segments``: parallel ranges for one file.
    ``min_rate`` (bytes/s) and ``deadline_floor`` (s) give each transfer a total deadline of
    ``deadline_floor + size / min_rate`` (``deadline`` sets it outright). ``stall_window`` (s)
    and ``stall_bytes``: a read that brings fewer bytes than that within the window counts as
    stalled. ``max_unknown_size``: the cap for a body whose length the server does not say.

    >>> TransferOptions().replace(retries=2).retries
    2
    """

    timeout: tuple[float, float] = (10.0, 60.0)
    retries: int = 5
    chunk_size: int = 1 << 20
    fsync: bool = True
    lock_timeout: float | None = 60.0
    progress: bool = True
    overwrite: bool = False
    segments: int = 1
    min_rate: float = float(256 << 10)
    deadline_floor: float = 120.0
    deadline: float | None = None
    stall_window: float = 30.0
    stall_bytes: int = 16 << 10
    max_unknown_size: int = 4 << 30

    def __post_init__(self) -> None:
        timeout = self.timeout
        if isinstance(timeout, int | float) and not isinstance(timeout, bool):
            timeout = (float(timeout), float(timeout))
        try:
            pair = (float(timeout[0]), float(timeout[1]))
        except (TypeError, ValueError, IndexError):
            raise ConfigError(f"timeout= must be seconds or (connect, read) seconds, not "
                              f"{self.timeout!r}.") from None
        if not all(math.isfinite(t) and t > 0 for t in pair):
            raise ConfigError(f"timeout= must be positive seconds, not {self.timeout!r}.")
        object.__setattr__(self, "timeout", pair)
        for name, minimum in _MINIMUMS.items():
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)
                                      or not math.isfinite(value) or value < minimum):
                raise ConfigError(f"{name}= must be a number ≥ {minimum:g}, not {value!r}.")

    def replace(self, **changes: Any) -> TransferOptions:
        """A copy with some fields changed; ConfigError naming an unknown field."""
        unknown = sorted(set(changes) - _FIELDS)
        if unknown:
            raise ConfigError(f"Unknown transfer option(s) {', '.join(unknown)}; the options "
                              f"are {', '.join(sorted(_FIELDS))}.")
        return dataclasses.replace(self, **changes) if changes else self

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> TransferOptions:
        """The defaults, with GEN_NB_DISABLE_PROGRESS / FSYNC / MIN_RATE / MAX_UNKNOWN_SIZE."""
        env = os.environ if env is None else env
        return cls(
            progress=not parse_flag(_pick(None, env, "GEN_NB_DISABLE_PROGRESS"),
                                    "the environment variable GEN_NB_DISABLE_PROGRESS"),
            fsync=parse_flag(_pick(None, env, "GEN_NB_FSYNC"),
                             "the environment variable GEN_NB_FSYNC", default=True),
            min_rate=_setting(None, env, "min_rate", "GEN_NB_MIN_RATE",
                              default=float(256 << 10), minimum=1),
            max_unknown_size=int(_setting(None, env, "max_unknown_size",
                                          "GEN_NB_MAX_UNKNOWN_SIZE", default=4 << 30,
                                          minimum=0, integer=True)),
        )

    @classmethod
    def resolve(cls, options: TransferOptions | None = None, *,
                env: Mapping[str, str] | None = None, **changes: Any) -> TransferOptions:
        """``options`` (else :meth:`from_env`) with keyword ``changes`` applied."""
        base = options if options is not None else cls.from_env(env)
        if not isinstance(base, TransferOptions):
            raise ConfigError(f"options= must be a gen_nb.TransferOptions, not "
                              f"{type(base).__name__}.")
        return base.replace(**changes)

    def deadline_for(self, size: int | None) -> float:
        """Seconds a transfer of ``size`` bytes may take in all (see the class docstring)."""
        if self.deadline is not None:
            return float(self.deadline)
        return self.deadline_floor + (size or 0) / self.min_rate


_FIELDS = frozenset(f.name for f in fields(TransferOptions))
_MINIMUMS: dict[str, float] = {
    "retries": 0, "chunk_size": 1024, "lock_timeout": 0, "segments": 1, "min_rate": 1,
    "deadline_floor": 0.001, "deadline": 0.001, "stall_window": 0.01, "stall_bytes": 1,
    "max_unknown_size": 0,
}
