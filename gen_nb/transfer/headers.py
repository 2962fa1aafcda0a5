"""Pure helpers for HTTP headers and URLs used by transfers (no I/O).

>>> parse_content_range("bytes 0-99/1000")
ContentRange(start=0, end=99, total=1000)
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass

from requests.structures import CaseInsensitiveDict
from urllib3 import HTTPHeaderDict

from gen_nb.api.redact import split_query

__all__ = [
    "ContentRange",
    "content_length",
    "header",
    "parse_content_range",
    "query_digest",
    "server_digests",
    "split_url",
    "strong_validator",
]


def split_url(url: str) -> tuple[str, str | None]:
    """(URL without query and fragment, sha256 of the query or None).

    Sidecars store this pair so that a presigned query string never lands on disk, yet a
    different query can still be told apart.
    """
    base, query = split_query(url)                 # never keeps user:password@
    return base, query_digest(query)


def query_digest(query: str) -> str | None:
    return hashlib.sha256(query.encode("utf-8")).hexdigest() if query else None


def header(headers: Mapping[str, str], name: str) -> str | None:
    """Case-insensitive header lookup for plain dicts (requests' own mapping is already)."""
    if isinstance(headers, HTTPHeaderDict):   # urllib3's: a miss without a KeyError inside
        return headers[name] if name in headers else None  # noqa: SIM401
    value = headers.get(name)
    if value is not None or isinstance(headers, CaseInsensitiveDict):
        return value
    lower = name.lower()
    for key, val in headers.items():
        if key.lower() == lower:
            return val
    return None


@dataclass(frozen=True)
class ContentRange:
    """A parsed ``Content-Range``: ``start``/``end`` (inclusive) are None for ``bytes */N``."""

    start: int | None
    end: int | None
    total: int | None


_CONTENT_RANGE = re.compile(r"^\s*bytes\s+(?:(\d+)-(\d+)|\*)\s*/\s*(\d+|\*)\s*$", re.I)


def parse_content_range(value: str | None) -> ContentRange | None:
    """Parse ``bytes 0-99/1000``, ``bytes */1000`` or ``bytes 0-99/*``; None if malformed.

    >>> parse_content_range("bytes 0-99/1000")
    ContentRange(start=0, end=99, total=1000)
    >>> parse_content_range("bytes */1000").total, parse_content_range("junk")
    (1000, None)
    """
    match = _CONTENT_RANGE.match(value or "")
    if not match:
        return None
    start, end, total = match.groups()
    if start is not None and int(end) < int(start):
        return None
    return ContentRange(
        start=int(start) if start is not None else None,
        end=int(end) if end is not None else None,
        total=int(total) if total != "*" else None,
    )


def _identity(headers: Mapping[str, str]) -> bool:
    encoding = (header(headers, "Content-Encoding") or "identity").strip().lower()
    return encoding in ("", "identity")


def content_length(headers: Mapping[str, str]) -> int | None:
    """Content-Length when it describes the bytes we will write (no content coding)."""
    value = header(headers, "Content-Length")
    if value is None or not _identity(headers):
        return None
    try:
        number = int(value.strip())
    except ValueError:
        return None
    return number if number >= 0 else None


def strong_validator(etag: str | None, last_modified: str | None) -> str | None:
    """What to send in ``If-Range``: a strong ETag, else Last-Modified, else None.

    Weak ETags (``W/"…"``) may not be used in If-Range (RFC 9110 §13.1.5).

    >>> strong_validator('W/"x"', "Tue, 01 Jan 2030 00:00:00 GMT")
    'Tue, 01 Jan 2030 00:00:00 GMT'
    """
    if etag and not etag.strip().startswith("W/"):
        return etag.strip()
    return last_modified.strip() if last_modified else None


def _b64_hex(value: str, size: int) -> str | None:
    text = value.strip().strip(":").strip()
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) == size:
        return raw.hex()
    if re.fullmatch(r"[0-9a-fA-F]+", text) and len(text) == 2 * size:
        return text.lower()
    return None


def _digest_items(value: str) -> list[tuple[str, str]]:
    items = []
    for part in value.split(","):
        name, sep, val = part.partition("=")
        if sep:
            items.append((name.strip().lower(), val.strip()))
    return items


def server_digests(headers: Mapping[str, str], status: int = 200) -> dict[str, str]:
    """Checksums of the *whole* file the server vouches for, as hex: keys ``sha256``, ``md5``.

    Reads ``Repr-Digest`` (RFC 9530), ``Digest`` (RFC 3230), ``x-amz-checksum-sha256``,
    ``x-goog-hash`` and, on a full (200) answer only, ``Content-MD5``. ``Content-Digest`` is
    ignored: on a 206 it describes the part, not the file.

    >>> server_digests({"Repr-Digest": "sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:"})
    {'sha256': 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'}
    """
    found: dict[str, str] = {}
    sources = [header(headers, "Repr-Digest"), header(headers, "Digest"),
               header(headers, "x-goog-hash")]
    for value in sources:
        for name, val in _digest_items(value or ""):
            if name in ("sha-256", "sha256"):
                found.setdefault("sha256", _b64_hex(val, 32) or "")
            elif name == "md5":
                found.setdefault("md5", _b64_hex(val, 16) or "")
    amz = header(headers, "x-amz-checksum-sha256")
    if amz and "-" not in amz:
        found.setdefault("sha256", _b64_hex(amz, 32) or "")
    md5 = header(headers, "Content-MD5")
    if md5 and status == 200:
        found.setdefault("md5", _b64_hex(md5, 16) or "")
    return {k: v for k, v in found.items() if v}
