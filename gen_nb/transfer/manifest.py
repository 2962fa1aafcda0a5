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
from dataclasses import dataclass, fields
from pathlib import Path, PurePosixPath
from typing import Any

from gen_nb.transfer.files import open_owned, read_record
from gen_nb.transfer.headers import split_url

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
    dest_etag: str | None = None
    version: int = VERSION

    def to_json(self) -> str:
        # the fields are flat: the instance's own dict, not dataclasses.asdict (~5× dearer)
        return json.dumps({name: self.__dict__[name] for name in _FIELDS},
                          ensure_ascii=False, sort_keys=True)

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
        return (self.source_url, self.query_sha256) == split_url(url)


_FIELDS = tuple(f.name for f in fields(Record))


def now_iso() -> str:
    """The time now in UTC, ``2026-12-01T23:40:00.123456Z``."""
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="microseconds")[:-6] + "Z"


def _posix(path: str) -> str:
    """``path`` as a normalised POSIX path (a bare file name already is one)."""
    if "/" not in path and path not in ("", "."):
        return path
    return PurePosixPath(path).as_posix()


def record_for(path: str, url: str, size: int, sha256: str, *, etag: str | None,
               last_modified: str | None, about: dict[str, Any] | None = None) -> Record:
    """A record for a file just finished: secrets stripped from the URL, the time stamped."""
    about = about or {}
    source, query = split_url(url)
    return Record(path=_posix(path), size=size, sha256=sha256,
                  source_url=source, query_sha256=query, etag=etag,
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
        self._appender = _Appender(self.path)

    def get(self, relative: str) -> Record | None:
        """The newest record for a path relative to the folder, or None."""
        with self._lock:
            self._refresh()
            return self._records.get(_posix(relative))

    def records(self) -> list[Record]:
        """The newest record of every path, in the order the paths were first written."""
        with self._lock:
            self._refresh()
            return list(self._records.values())

    def add(self, record: Record) -> None:
        """Append one record: one ``O_APPEND`` write, so parallel writers (threads or
        processes) never interleave; no lock is held across a system call (one held across
        open and close made 16 threads queue up here)."""
        self._appender.write((record.to_json() + "\n").encode("utf-8"))

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


class _Appender:
    """Appends to a manifest through a descriptor kept open between lines (POSIX): a line
    costs an ``lstat`` and a ``write`` instead of open, fstat, lstat, write and close. The
    ``lstat`` compares the file under the name with the open one: a manifest removed or
    replaced since (a folder deleted between runs) is opened afresh, through
    :func:`~gen_nb.transfer.files.open_owned` (never a link). A descriptor is closed only
    when no thread is writing with it. Elsewhere (Windows, where an open file cannot be
    removed or renamed by others) every line opens and closes the file. At most
    ``KEEP_OPEN`` manifests keep a descriptor (the least recently opened lets go)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None
        self._identity: tuple[int, int] | None = None
        self._users: dict[int, int] = {}          # fd → writers using it now
        self._stale: set[int] = set()
        self._lock = threading.Lock()

    def write(self, line: bytes) -> None:
        if os.name != "posix":
            fd = open_owned(self.path, append=True)
            try:
                os.write(fd, line)
            finally:
                os.close(fd)
            return
        fd = self._take(_identity_of(self.path))
        try:
            os.write(fd, line)
        finally:
            self._give(fd)
        _OPEN.keep(self)

    def let_go(self) -> None:
        """Close the kept descriptor (at once, or when its last writer is done)."""
        with self._lock:
            old, self._fd, self._identity = self._fd, None, None
            if old is not None:
                if self._users.get(old):
                    self._stale.add(old)
                else:
                    os.close(old)

    def _take(self, named: tuple[int, int] | None) -> int:
        with self._lock:
            if self._fd is None or named != self._identity:
                self._reopen()
            fd = self._fd
            assert fd is not None
            self._users[fd] = self._users.get(fd, 0) + 1
            return fd

    def _reopen(self) -> None:
        """(With the lock held.) Open the manifest again; the old descriptor closes when its
        last writer is done."""
        old = self._fd
        fd = open_owned(self.path, append=True)
        info = os.fstat(fd)
        self._fd, self._identity = fd, (info.st_dev, info.st_ino)
        if old is not None:
            if self._users.get(old):
                self._stale.add(old)
            else:
                os.close(old)

    def _give(self, fd: int) -> None:
        with self._lock:
            self._users[fd] -= 1
            if not self._users[fd]:
                del self._users[fd]
                if fd in self._stale:
                    self._stale.discard(fd)
                    os.close(fd)


KEEP_OPEN = 32


class _OpenAppenders:
    """The appenders holding a descriptor, oldest first (module-wide, thread-safe)."""

    def __init__(self) -> None:
        self._order: dict[_Appender, None] = {}
        self._lock = threading.Lock()

    def keep(self, appender: _Appender) -> None:
        if appender in self._order:          # the usual case: no lock needed to see it
            return
        with self._lock:
            if appender in self._order:
                return
            self._order[appender] = None
            extra = [a for a in list(self._order)[:-KEEP_OPEN] if a is not appender]
            for victim in extra:
                del self._order[victim]
        for victim in extra:       # (no lock held: let_go takes the victim's own)
            victim.let_go()


_OPEN = _OpenAppenders()


def _identity_of(path: Path) -> tuple[int, int] | None:
    try:
        info = os.lstat(path)
    except OSError:
        return None
    return info.st_dev, info.st_ino


_by_given: dict[tuple[str, str], Manifest] = {}


def manifest_for(folder: Path) -> Manifest:
    """The (process-wide, cached) manifest of a folder."""
    text = os.fspath(folder)                    # the same text from the same place: no abspath
    given = ("", text) if os.path.isabs(text) else (os.getcwd(), text)
    found = _by_given.get(given)
    if found is not None:
        return found
    key = Path(os.path.abspath(folder))
    with _manifests_lock:
        found = _manifests.get(key)
        if found is None:
            found = _manifests[key] = Manifest(key)
        _by_given[given] = found
        return found
