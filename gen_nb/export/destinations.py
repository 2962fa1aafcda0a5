"""Where an export goes: a local folder or any fsspec URL, each with its manifest.

Both kinds answer the same questions: which records does the manifest hold, is a recorded
file still there and unchanged, and where does a path go. A local folder keeps
``gen_nb-manifest.jsonl`` appended line by line (:mod:`gen_nb.transfer.manifest`); an object
store cannot append, so its manifest is read once, kept in memory and written back whole at
checkpoints (every few seconds while files arrive, and at the end — also after a failure or a
cancel). What is "still there" is decided without one request per file: one listing of the
destination gives the sizes (and, on S3, the ETags recorded at upload); on a local disk the
file's sha256 is compared with the record's (``verify="sha256"``, the default) or only its size
(``verify="size"``).
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path, PurePosixPath
from typing import Any

from gen_nb.api.errors import TransferError, UsageError
from gen_nb.api.redact import redact_url
from gen_nb.transfer.hashing import hash_file
from gen_nb.transfer.manifest import MANIFEST_NAME, Manifest, Record, manifest_for
from gen_nb.transfer.object_store import is_object_url

__all__ = ["Destination", "LocalDestination", "ObjectDestination", "open_destination"]

CHECKPOINT_SECONDS = 5.0
VERIFY = ("sha256", "size")


class Destination:
    """What the export runner needs from a destination (see the module docstring)."""

    shown: str
    local: bool

    def records(self) -> dict[str, Record]:  # pragma: no cover - interface
        raise NotImplementedError

    def unchanged(self, record: Record, verify: str) -> bool:  # pragma: no cover
        raise NotImplementedError

    def exists(self, path: str) -> bool:  # pragma: no cover
        raise NotImplementedError

    def add(self, record: Record) -> None:  # pragma: no cover
        raise NotImplementedError

    def close(self) -> None:
        """Write anything still pending (the object store's manifest)."""


class LocalDestination(Destination):
    """A folder on this machine (or a shared disk workers see at the same path)."""

    local = True

    def __init__(self, root: Path) -> None:
        self.root = Path(os.path.abspath(root))
        self.shown = str(self.root)
        self.manifest: Manifest = manifest_for(self.root)

    def records(self) -> dict[str, Record]:
        return {r.path: r for r in self.manifest.records()}

    def path_of(self, relative: str) -> Path:
        return self.root.joinpath(*PurePosixPath(relative).parts)

    def exists(self, path: str) -> bool:
        return os.path.lexists(self.path_of(path))

    def unchanged(self, record: Record, verify: str) -> bool:
        target = self.path_of(record.path)
        if target.is_symlink() or not target.is_file() or target.stat().st_size != record.size:
            return False
        return verify == "size" or hash_file(target)["sha256"] == record.sha256

    def add(self, record: Record) -> None:
        self.manifest.add(record)


class ObjectDestination(Destination):
    """An fsspec URL (``s3://bucket/prefix``, ``memory://…``): the manifest kept in memory."""

    local = False

    def __init__(self, url: str, storage_options: dict[str, Any] | None = None) -> None:
        from gen_nb.transfer.object_store import open_target

        target = open_target(url.rstrip("/") + "/" + MANIFEST_NAME, storage_options)
        self.fs, self.url = target.fs, url.rstrip("/")
        self.manifest_path = target.path
        self.root = target.path.rsplit("/", 1)[0]
        self.shown = redact_url(self.url)
        self.storage_options = dict(storage_options or {})
        self._records = self._read_manifest()
        self._listing: dict[str, dict[str, Any]] | None = None
        self._dirty = False
        self._saved_at = time.monotonic()
        self._lock = threading.Lock()

    def _read_manifest(self) -> dict[str, Record]:
        try:
            text = self.fs.cat(self.manifest_path).decode("utf-8", "replace")
        except FileNotFoundError:
            return {}
        except Exception as exc:
            raise TransferError(f"Cannot read the manifest of {self.shown} "
                                f"({type(exc).__name__}: {exc}); check storage_options=.") from exc
        found: dict[str, Record] = {}
        for line in text.splitlines():
            record = Record.from_json(line)
            if record is not None:
                found.pop(record.path, None)
                found[record.path] = record
        return found

    def records(self) -> dict[str, Record]:
        with self._lock:
            return dict(self._records)

    def url_of(self, path: str) -> str:
        return f"{self.url}/{path}"

    def _listed(self) -> dict[str, dict[str, Any]]:
        """One listing of everything under the destination: path → info (size, ETag)."""
        if self._listing is None:
            try:
                found = self.fs.find(self.root, detail=True)
            except FileNotFoundError:
                found = {}
            prefix = self.root.rstrip("/") + "/"
            self._listing = {k[len(prefix):] if k.startswith(prefix) else k.lstrip("/"): v
                             for k, v in dict(found).items()}
        return self._listing

    def exists(self, path: str) -> bool:
        return path in self._listed()

    def unchanged(self, record: Record, verify: str) -> bool:
        info = self._listed().get(record.path)
        if info is None or info.get("size") != record.size:
            return False
        stored = record.dest_etag
        etag = str(info.get("ETag") or info.get("etag") or "").strip('"').lower()
        return not (stored and etag and stored != etag)

    def add(self, record: Record) -> None:
        with self._lock:
            self._records.pop(record.path, None)
            self._records[record.path] = record
            self._dirty = True
            due = time.monotonic() - self._saved_at >= CHECKPOINT_SECONDS
        if due:
            self.flush()

    def flush(self) -> None:
        """Write the manifest back whole (one PUT; readers see the old or the new one)."""
        with self._lock:
            if not self._dirty:
                return
            lines = "".join(r.to_json() + "\n" for r in self._records.values())
            self._dirty, self._saved_at = False, time.monotonic()
        try:
            self.fs.pipe(self.manifest_path, lines.encode("utf-8"))
        except Exception as exc:
            with self._lock:
                self._dirty = True
            raise TransferError(f"Cannot write the manifest of {self.shown} "
                                f"({type(exc).__name__}: {exc}).") from exc

    def close(self) -> None:
        self.flush()


def open_destination(dest: Any, storage_options: dict[str, Any] | None) -> Destination:
    """A local folder (a path, or a ``file://`` URL) or an object store (any fsspec URL)."""
    if isinstance(dest, str) and dest.startswith("file://"):
        return LocalDestination(Path(dest[len("file://"):]))
    if is_object_url(dest):
        return ObjectDestination(str(dest), storage_options)
    if isinstance(dest, str | os.PathLike):
        if storage_options:
            raise UsageError("storage_options= only applies to fsspec URLs (s3://…).")
        return LocalDestination(Path(os.fspath(dest)).expanduser())
    raise UsageError(f"dest= must be a folder or an fsspec URL (s3://bucket/prefix), not "
                     f"{type(dest).__name__}.")
