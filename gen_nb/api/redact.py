"""Keeping secrets out of everything gen_nb shows, logs or stores: the one place for it.

* :func:`redact` masks API keys in text: ``gen_pat_…`` tokens, JWTs, ``Bearer …`` and
  ``X-API-Key: …`` values, and any secret passed in, also where a server echoed it back
  JSON-escaped (``\\u0073k-…``), percent-encoded (``gen%5Fpat%5F…``) or HTML-escaped.
* :func:`scrub` does the same inside decoded JSON (every string, keys included).
* :func:`redact_url` is the one URL redactor: no ``user:password@``, no fragment, and of the
  query only the parameters known to be harmless (``agent_id``, ``page``, …); the rest
  becomes ``…``, so a presigned URL's signature never reaches a message, log line, result or
  file.

>>> redact("echo: gen_pat_abc123")
'echo: gen_pat_***'
>>> redact_url("https://u:pw@cdn.example/a.mp4?X-Amz-Signature=abc&page=2#x")
'https://cdn.example/a.mp4?page=2&…'
"""

from __future__ import annotations

import html
import json
import re
import urllib.parse
from collections.abc import Iterable
from typing import Any

__all__ = ["MASK", "SAFE_QUERY_NAMES", "redact", "redact_url", "scrub", "split_query",
           "strip_url"]

MASK = "***"
SAFE_QUERY_NAMES = frozenset({"agent_id", "page", "type", "project_id", "start_date",
                              "end_date", "status"})

_TOKEN = re.compile(r"gen_pat_[A-Za-z0-9_\-]+")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]+")
_LABELLED = (
    re.compile(r"(?i)(x-api-key['\"]?\s*[:=]\s*['\"]?)[^\s'\",}&]+"),
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/\-]+=*"),
    re.compile(r"(?i)([?&](?:api_key|apikey|access_token|token|confirm_token)=)[^&#\s'\"]+"),
)
_UNICODE_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
_PERCENT = re.compile(r"%[0-9a-fA-F]{2}")


def _variants(secret: str) -> set[str]:
    """The ways a server may echo ``secret``: as is, JSON-, percent- or HTML-escaped."""
    return {secret, json.dumps(secret)[1:-1], urllib.parse.quote(secret, safe=""),
            urllib.parse.quote(secret), html.escape(secret, quote=True)} - {""}


def _unescape(text: str) -> str:
    """Undo the escapes an echo may hide a key behind (``\\uXXXX``, ``%XX``, ``&#…;``)."""
    if "\\u" in text:
        text = _UNICODE_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
    if "%" in text and _PERCENT.search(text):
        text = urllib.parse.unquote(text)
    if "&" in text:
        text = html.unescape(text)
    return text


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """``text`` with API keys and the given ``secrets`` masked (see the module docstring).

    When an escaped echo of a secret is found, the text is shown unescaped (then masked), so
    no spelling of the key survives.

    >>> redact('{"error": "bad key \\\\u0067en_pat_x1"}')
    '{"error": "bad key gen_pat_***"}'
    """
    wanted = [s for s in secrets if s]
    plain = _unescape(text)
    if plain != text and (_TOKEN.search(plain) or any(s in plain for s in wanted)):
        text = plain
    for secret in wanted:
        for variant in sorted(_variants(secret), key=len, reverse=True):
            text = text.replace(variant, MASK)
    text = _TOKEN.sub("gen_pat_" + MASK, text)
    text = _JWT.sub(MASK, text)
    for pattern in _LABELLED:
        text = pattern.sub(lambda m: m.group(1) + MASK, text)
    return text


def scrub(value: Any, secrets: Iterable[str | None] = ()) -> Any:
    """A copy of decoded JSON with every string (and dict key) passed through :func:`redact`."""
    wanted = tuple(s for s in secrets if s)
    if isinstance(value, str):
        return redact(value, wanted)
    if isinstance(value, dict):
        return {scrub(k, wanted): scrub(v, wanted) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v, wanted) for v in value]
    return value


def redact_url(url: Any) -> str:
    """A URL safe to show, log or store (see the module docstring); "" for no URL.

    Anything that does not parse as a URL is passed through :func:`redact` instead.

    >>> redact_url("https://api.gen.pro/v1/x?agent_id=7&confirm_token=tok_1")
    'https://api.gen.pro/v1/x?agent_id=7&…'
    """
    if not url:
        return ""
    text = str(url)
    if "?" not in text and _PLAIN_URL.fullmatch(text):   # nothing to drop: no parse needed
        return redact(text)
    try:
        parts = urllib.parse.urlsplit(text)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return redact(text)
    if not parts.scheme:
        return redact(text)
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc = f"{netloc}:{port}"
    pairs = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    kept = [f"{k}={urllib.parse.quote(v, safe='-_.:,')}" for k, v in pairs
            if k in SAFE_QUERY_NAMES]
    if parts.query and (len(kept) < len(pairs) or not pairs):
        kept.append("…")
    query = "&".join(kept)
    shown = urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", ""))
    return redact(shown + (f"?{query}" if query else ""))


# A URL that urlsplit would take apart without changing a character: lower-case http(s)
# scheme and host (no user info), an optional port, a path without white space, "@", "\\"
# or "#", an optional query, no fragment. Every download's URL is parsed here several times
# (records, results, messages); for these a string split gives the same answer faster.
_PLAIN_URL = re.compile(r"https?://[a-z0-9.\-]+(?::[0-9]{1,5})?(?:/[^\s?#@\\]*)?"
                        r"(?:\?[^\s#]*)?")


def split_query(url: str) -> tuple[str, str]:
    """(the URL without userinfo, query and fragment, its query string) — one parse.

    >>> split_query("HTTPS://u:pw@cdn.example/a.mp4?sig=1#t")
    ('https://cdn.example/a.mp4', 'sig=1')
    """
    if _PLAIN_URL.fullmatch(url):
        base, _, query = url.partition("?")
        return base, query
    parts = urllib.parse.urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2]
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", "")), parts.query


def strip_url(url: str) -> str:
    """The URL without userinfo, query and fragment (what a record may keep of a source)."""
    return split_query(url)[0]
