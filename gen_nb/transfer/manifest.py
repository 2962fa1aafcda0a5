"""The provenance record: ``gen_nb-manifest.jsonl`` in the destination folder.

One JSON object per line, one line per file gen_nb finished writing there (a download or an
export), the newest line for a path winning::

    {"version": 1, "path": "render_56068.mp4", "size": 61954, "sha256": "2cb5…",
     "source_url": "https://cdn.gen.pro/outputs/render_56068.mp4", "query_sha256": null,
     "etag": "\\"a1b2\\"", "last_modified": "…", "kind": "render", "render_id": "56068",
     "layer_id": null, "engine_id": "812", "title": "One-pan pasta", "exported_at": "…Z"}

It is a plain file, so it travels with the folder (copied, synced, zipped) and works on every
file system — unlike an extended attribute. It never holds a secret: ``source_url`` has no
user info, query or fragment; ``query_sha256`` tells a different (signed) query apart.
A file is "already there" only when it matches its record here (size and sha256) — see
:mod:`gen_nb.transfer.downloader`. The export manifest (:mod:`gen_nb.export`) is the same
format. Lines are appended with one ``write`` each (``O_APPEND``), so parallel writers in
threads or processes do not interleave; unreadable lines are skipped.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import threading
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from gen_nb.api.redact import strip_url
from gen_nb.transfer.files import open_owned, read_record
from gen_nb.transfer.headers import query_digest

__all__ = ["MANIFEST_NAME", "Manifest", "Record", "manifest_for", "record_for"]

MANIFEST_NAME = "gen_nb-manifest.jsonl"
VERSION = 1


@dataclass(frozen=True)
class Record:
    """What gen_nb knows about one file it finished writing (see the module docstring)."""

    path: str
    size: int
    sha256: str
    source_url: str
    query_sha256: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    kind: str = "file"
    render_id: str | None = None
    layer_id: str | None = None
    engine_id: str | None = None
    title: str | None = None
    exported_at: str = ""
    version: int = VERSION

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, line: str) -> Record | None:
        """The record on one line, or None for a line that is not one we understand."""
        record = read_record(cls, line, VERSION)
        ok = record is not None and isinstance(record.path, str) and \
            isinstance(record.size, int) and isinstance(record.sha256, str) and \
            isinstance(record.source_url, str)
        return record if ok else None

    def same_source(self, url: str) -> bool:
        """Whether this record came from ``url`` (same address; same query, by hash)."""
        return self.source_url == strip_url(url) and self.query_sha256 == _query_hash(url)


def _query_hash(url: str) -> str | None:
    return query_digest(url.partition("?")[2].partition("#")[0])


def now_iso() -> str:
    return _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def record_for(path: str, url: str, size: int, sha256: str, *, etag: str | None,
               last_modified: str | None, about: dict[str, Any] | None = None) -> Record:
    """A record for a file just finished: secrets stripped from the URL, the time stamped."""
    about = about or {}
    return Record(path=PurePosixPath(path).as_posix(), size=size, sha256=sha256,
                  source_url=strip_url(url), query_sha256=_query_hash(url), etag=etag,
                  last_modified=last_modified, kind=str(about.get("kind") or "file"),
                  render_id=about.get("render_id"), layer_id=about.get("layer_id"),
                  engine_id=about.get("engine_id"), title=about.get("title"),
                  exported_at=now_iso())


class Manifest:
    """The manifest of one local folder: read incrementally, appended safely (thread-safe)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / MANIFEST_NAME
        self._records: dict[str, Record] = {}
        self._offset = 0
        self._identity: tuple[int, int] | None = None
        self._lock = threading.Lock()

    def get(self, relative: str) -> Record | None:
        """The newest record for a path relative to the folder, or None."""
        with self._lock:
            self._refresh()
            return self._records.get(PurePosixPath(relative).as_posix())

    def records(self) -> list[Record]:
        """The newest record of every path, in the order the paths were first written."""
        with self._lock:
            self._refresh()
            return list(self._records.values())

    def add(self, record: Record) -> None:
        """Append one record (a single ``write``, so parallel writers never interleave)."""
        line = (record.to_json() + "\n").encode("utf-8")
        with self._lock:
            fd = open_owned(self.path, append=True)
            try:
                os.write(fd, line)
            finally:
                os.close(fd)

    def _refresh(self) -> None:
        """Read what was appended since the last read (all of it if the file was replaced)."""
        try:
            info = os.stat(self.path)
        except OSError:
            self._records, self._offset, self._identity = {}, 0, None
            return
        identity = (info.st_dev, info.st_ino)
        if identity != self._identity or info.st_size < self._offset:
            self._records, self._offset, self._identity = {}, 0, identity
        if info.st_size == self._offset:
            return
        with open(self.path, "rb") as fh:
            fh.seek(self._offset)
            data = fh.read()
        complete = data.rfind(b"\n") + 1      # a line still being written waits
        for line in data[:complete].decode("utf-8", "replace").splitlines():
            record = Record.from_json(line)
            if record is not None:
                self._records.pop(record.path, None)
                self._records[record.path] = record
        self._offset += complete


_manifests: dict[Path, Manifest] = {}
_manifests_lock = threading.Lock()


def manifest_for(folder: Path) -> Manifest:
    """The (process-wide, cached) manifest of a folder."""
    key = Path(os.path.abspath(folder))
    with _manifests_lock:
        found = _manifests.get(key)
        if found is None:
            found = _manifests[key] = Manifest(key)
        return found
