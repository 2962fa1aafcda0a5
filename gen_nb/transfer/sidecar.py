"""The sidecar (``<name>.part.json``) that makes a ``.part`` resumable, and the completion note.

The sidecar is small JSON written next to the ``.part`` before the first byte::

    {"version": 1, "url": "https://cdn…/clip.mp4", "query_sha256": null,
     "etag": "\\"abc\\"", "last_modified": "…", "total": 1048576,
     "digests": {"sha256": "…"}, "segments": null}

The URL is stored without its query (a presigned query is a secret); ``query_sha256`` tells a
different query apart. ``segments`` (segmented downloads only) lists ``[start, end, done]``
per range: bytes ``start … start+done-1`` are on disk. Sidecars are replaced atomically
(write a temp file, ``os.replace``) so a crash never leaves half a sidecar.

When the download is complete the sidecar goes, and the finished file gets its line in the
folder's provenance record (:mod:`gen_nb.transfer.manifest`). Sidecars are written through
:func:`gen_nb.transfer.files.replace_file`, so a link planted under the name is never followed.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from gen_nb.transfer.files import read_record, replace_file
from gen_nb.transfer.headers import split_url, strong_validator

__all__ = ["Sidecar"]

SIDECAR_VERSION = 1
MAX_SIDECAR_BYTES = 1 << 20


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
        sidecar = read_record(cls, text, SIDECAR_VERSION)
        if sidecar is None or not _valid_fields(sidecar) or \
                not _valid_segments(sidecar.segments):
            return None
        return sidecar

    def save(self, path: Path) -> None:
        """Write atomically (a fresh temp file + ``os.replace``; links are never followed)."""
        replace_file(path, self.to_json().encode("utf-8"))

    @classmethod
    def load(cls, path: Path) -> Sidecar | None:
        """The sidecar at ``path``; None when absent, a link, too large or not ours."""
        try:
            if path.is_symlink() or path.stat().st_size > MAX_SIDECAR_BYTES:
                return None
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None
        return cls.from_json(text)


def _valid_fields(sidecar: Sidecar) -> bool:
    texts = (sidecar.query_sha256, sidecar.etag, sidecar.last_modified)
    total = sidecar.total
    return (isinstance(sidecar.url, str) and all(t is None or isinstance(t, str) for t in texts)
            and (total is None or (isinstance(total, int) and not isinstance(total, bool)
                                   and total >= 0))
            and isinstance(sidecar.digests, dict)
            and all(isinstance(k, str) and isinstance(v, str)
                    for k, v in sidecar.digests.items()))


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
