"""The sidecar (``<name>.part.json``) that makes a ``.part`` resumable, and the completion note.

The sidecar is small JSON written next to the ``.part`` before the first byte::

    {"version": 1, "url": "https://cdn…/clip.mp4", "query_sha256": null,
     "etag": "\\"abc\\"", "last_modified": "…", "total": 1048576,
     "digests": {"sha256": "…"}, "segments": null}

The URL is stored without its query (a presigned query is a secret); ``query_sha256`` tells a
different query apart. ``segments`` (segmented downloads only) lists ``[start, end, done]``
per range: bytes ``start … start+done-1`` are on disk. Sidecars are replaced atomically
(write a temp file, ``os.replace``) so a crash never leaves half a sidecar.

When a download finishes, gen_nb leaves a *completion note* on the file itself (the extended
attribute ``user.gen_nb``: URL, validator, size, sha256, mtime) when the file system supports
it, so a later call can tell "the same file, skip it" from "a different file, don't clobber
it" and report the sha256 without re-reading the file. Without xattrs it falls back to sizes.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from gen_nb.transfer.headers import split_url, strong_validator

__all__ = ["CompletionNote", "Sidecar", "read_note", "write_note"]

log = logging.getLogger("gen_nb")
SIDECAR_VERSION = 1
NOTE_ATTR = "user.gen_nb"


@dataclass
class Sidecar:
    """What a ``.part`` is: its source, validator, total size and (segmented) progress."""

    url: str
    query_sha256: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    total: int | None = None
    digests: dict[str, str] = field(default_factory=dict)
    segments: list[list[int]] | None = None
    version: int = SIDECAR_VERSION

    @classmethod
    def for_url(cls, url: str, **fields: Any) -> Sidecar:
        base, query = split_url(url)
        return cls(url=base, query_sha256=query, **fields)

    @property
    def source(self) -> tuple[str, str | None]:
        return self.url, self.query_sha256

    @property
    def validator(self) -> str | None:
        """The If-Range value: strong ETag, else Last-Modified."""
        return strong_validator(self.etag, self.last_modified)

    @property
    def segments_done(self) -> int:
        return sum(done for _, _, done in self.segments or ())

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Sidecar | None:
        """Parse a sidecar; None when it is not one we understand (it is then ignored)."""
        try:
            data = json.loads(text)
        except ValueError:
            return None
        if not isinstance(data, dict) or data.get("version") != SIDECAR_VERSION:
            return None
        fields: dict[str, Any] = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        try:
            sidecar = cls(**fields)
        except TypeError:
            return None
        if not isinstance(sidecar.url, str) or not _valid_segments(sidecar.segments):
            return None
        sidecar.digests = dict(sidecar.digests or {})
        return sidecar

    def save(self, path: Path) -> None:
        """Write atomically (temp file + ``os.replace``)."""
        tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
        tmp.write_text(self.to_json(), encoding="utf-8")
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path) -> Sidecar | None:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None
        return cls.from_json(text)


def _valid_segments(segments: Any) -> bool:
    if segments is None:
        return True
    if not isinstance(segments, list):
        return False
    for item in segments:
        if not (isinstance(item, list) and len(item) == 3
                and all(isinstance(x, int) for x in item)):
            return False
        start, end, done = item
        if not (0 <= start <= end and 0 <= done <= end - start):
            return False
    return True


def remove_quietly(*paths: Path) -> None:
    """Delete files that may not exist."""
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


@dataclass(frozen=True)
class CompletionNote:
    """What gen_nb knows about a file it finished writing."""

    url: str
    query_sha256: str | None
    validator: str | None
    size: int
    sha256: str
    mtime_ns: int


def write_note(path: Path, url: str, validator: str | None, sha256: str) -> None:
    """Attach a :class:`CompletionNote` to ``path`` (best effort: skipped without xattrs)."""
    try:
        st = os.stat(path)
        base, query = split_url(url)
        note = CompletionNote(base, query, validator, st.st_size, sha256, st.st_mtime_ns)
        os.setxattr(path, NOTE_ATTR, json.dumps(asdict(note)).encode("utf-8"))
    except (OSError, AttributeError) as exc:
        log.debug("gen_nb: no completion note on %s (%s)", path, exc)


def read_note(path: Path) -> CompletionNote | None:
    """The note on ``path`` if present and still describing the file (same size and mtime)."""
    try:
        raw = os.getxattr(path, NOTE_ATTR)
        st = os.stat(path)
        note = CompletionNote(**json.loads(raw.decode("utf-8")))
    except (OSError, AttributeError, ValueError, TypeError):
        return None
    if note.size != st.st_size or note.mtime_ns != st.st_mtime_ns:
        return None
    return note
