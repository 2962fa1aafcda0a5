"""Writing a stream into object storage through fsspec (``s3://``, ``gs://``, ``az://``,
``memory://``, ``file://`` …), with bounded memory and a check after the upload.

The filesystem's own writer does the multipart upload (``block_size`` bytes per part: memory
stays at about one part). The object appears under its name only when complete: the file is
opened with ``autocommit=False`` where the filesystem supports it and committed after the last
byte; on any error it is discarded (an S3 multipart upload is aborted). An object whose
announced size fits in one part is gathered in memory (at most that part) and written with
one ``pipe_file`` — one PUT on S3, where the writer would spend four requests (create, part,
complete and the check) — and is just as whole-or-nothing.

Afterwards :func:`verify` compares the stored size, and the store's checksum where it gives
one: an S3 ETag is the MD5 of the object (one part) or the MD5 of the parts' MD5s with ``-N``,
which :class:`PartDigests` computes while the bytes go by (the PUT's own answer carries it, so
a one-PUT object needs no extra request). An ETag that is not such an MD5 (S3 with SSE-KMS, some
other stores) is not taken as a mismatch: the object is then read back and its sha256
compared. ``reread=True`` always reads it back.

fsspec and the storage libraries (s3fs, gcsfs, adlfs) are optional extras, imported here only
when such a destination is used.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import re
from dataclasses import dataclass, field
from typing import Any

from gen_nb.api.errors import IntegrityError, TransferError, UsageError
from gen_nb.api.redact import redact_url

__all__ = ["ObjectTarget", "PartDigests", "is_object_url", "open_target", "verify"]

DEFAULT_BLOCK = 8 << 20
_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
_EXTRAS = {"s3": "s3", "s3a": "s3", "gs": "gcs", "gcs": "gcs", "az": "azure", "abfs": "azure",
           "abfss": "azure", "adl": "azure"}


def is_object_url(value: Any) -> bool:
    """An fsspec URL (``scheme://…``) that is not plain http(s)."""
    return isinstance(value, str) and bool(_URL.match(value)) and \
        not value.lower().startswith(("http://", "https://"))


def _fsspec() -> Any:
    try:
        return importlib.import_module("fsspec")
    except ImportError as exc:
        raise UsageError("Streaming to an fsspec URL needs fsspec: pip install 'gen_nb[storage]' "
                         "(and 'gen_nb[s3]', '[gcs]' or '[azure]' for those stores).") from exc


@dataclass
class ObjectTarget:
    """An object to write: its filesystem, path and the URL shown in messages."""

    fs: Any
    path: str
    shown: str
    block_size: int = DEFAULT_BLOCK


def open_target(url: str, storage_options: dict[str, Any] | None = None,
                block_size: int = DEFAULT_BLOCK) -> ObjectTarget:
    """Resolve ``url`` to a filesystem and path (UsageError naming the missing extra)."""
    fsspec = _fsspec()
    scheme = url.split("://", 1)[0].lower()
    try:
        fs, path = fsspec.core.url_to_fs(url, **(storage_options or {}))
    except ImportError as exc:
        extra = _EXTRAS.get(scheme, "storage")
        raise UsageError(f"{scheme}:// destinations need their fsspec driver: pip install "
                         f"'gen_nb[{extra}]' ({exc}).") from exc
    except (ValueError, TypeError) as exc:
        raise UsageError(f"Cannot use {redact_url(url)} as a destination: {exc}") from exc
    return ObjectTarget(fs, path, redact_url(url), block_size)


class PartDigests:
    """MD5 of the whole stream and of each ``block_size`` part (for S3-style ETags)."""

    def __init__(self, block_size: int) -> None:
        self.block_size = block_size
        self.whole = hashlib.md5(usedforsecurity=False)
        self._part = hashlib.md5(usedforsecurity=False)
        self._in_part = 0
        self.parts: list[bytes] = []

    def update(self, view: memoryview) -> None:
        self.whole.update(view)
        while view:
            take = min(len(view), self.block_size - self._in_part)
            self._part.update(view[:take])
            self._in_part += take
            view = view[take:]
            if self._in_part == self.block_size:
                self._close_part()

    def _close_part(self) -> None:
        self.parts.append(self._part.digest())
        self._part, self._in_part = hashlib.md5(usedforsecurity=False), 0

    def etags(self) -> set[str]:
        """The ETags an S3-compatible store may report for these bytes."""
        parts = list(self.parts)
        if self._in_part:
            parts.append(self._part.digest())
        found = {self.whole.hexdigest()}
        if parts:
            found.add(hashlib.md5(b"".join(parts), usedforsecurity=False).hexdigest()
                      + f"-{len(parts)}")
        return found


@dataclass
class ObjectWriter:
    """Bytes into one object: ``write`` pieces, then ``finish`` (commit) or ``abandon``."""

    target: ObjectTarget
    size: int | None = None   # announced by the source: one part or less goes as one PUT
    digests: PartDigests = field(init=False)
    handle: Any = field(init=False, default=None)
    autocommit: bool = field(init=False, default=True)
    gathered: bytearray | None = field(init=False, default=None)
    answer: Any = field(init=False, default=None)   # what pipe_file returned (S3: with ETag)

    def __post_init__(self) -> None:
        self.digests = PartDigests(self.target.block_size)

    def open(self) -> None:
        fs, path = self.target.fs, self.target.path
        if self.size is not None and self.size <= self.target.block_size and \
                hasattr(fs, "pipe_file"):
            self.gathered = bytearray()
            self._make_parent()
            return
        self._make_parent()
        try:
            self.handle = fs.open(path, "wb", block_size=self.target.block_size,
                                  autocommit=False)
            self.autocommit = False
        except (TypeError, NotImplementedError, ValueError):
            self.handle = fs.open(path, "wb", block_size=self.target.block_size)

    def _make_parent(self) -> None:
        fs, path = self.target.fs, self.target.path
        parent = path.rsplit("/", 1)[0] if "/" in path else ""
        protocols = fs.protocol if isinstance(fs.protocol, tuple | list) else (fs.protocol,)
        if parent and {"file", "local"} & set(protocols):
            # local folders are made; buckets never are (a typo must not create one)
            with contextlib.suppress(OSError):
                fs.makedirs(parent, exist_ok=True)

    def write(self, view: memoryview) -> None:
        self.digests.update(view)
        if self.gathered is not None:
            if len(self.gathered) + len(view) > self.target.block_size:
                raise TransferError(f"{self.target.shown}: the source sent more than the "
                                    f"{self.size:,} bytes it announced.")
            self.gathered += view
            return
        while view:
            written = self.handle.write(view)
            if written is None or written >= len(view):
                return
            view = view[written:]

    def finish(self) -> None:
        if self.gathered is not None:
            self.answer = self.target.fs.pipe_file(self.target.path, bytes(self.gathered))
            self.gathered = None
            return
        self.handle.close()
        if not self.autocommit:
            self.handle.commit()

    def abandon(self) -> None:
        """Drop what was written (abort a multipart upload); the name gets nothing."""
        self.gathered = None        # (a one-PUT object was never sent)
        if self.handle is None:
            return
        discard = getattr(self.handle, "discard", None)
        try:
            if discard is not None and not self.autocommit:
                discard()
            elif not self.handle.closed:
                self.handle.close()
                self.target.fs.rm(self.target.path)
        except Exception:   # nothing more we can do; the error that got us here is raised
            pass


def _etag_of(info: dict[str, Any]) -> str | None:
    for key in ("ETag", "etag", "e_tag"):
        value = info.get(key)
        if isinstance(value, str) and value.strip('"'):
            return value.strip('"').lower()
    return None


def verify(writer: ObjectWriter, size: int, sha256: str, reread: bool = False) -> str | None:
    """Check the stored object against what was sent; returns the store's ETag (if any).

    IntegrityError when the stored size differs, or when the object read back has another
    sha256 (read back with ``reread``, or when its ETag is not an MD5 of the bytes sent).
    """
    target = writer.target
    answered = _etag_of(writer.answer) if isinstance(writer.answer, dict) else None
    etag: str | None = answered
    if answered is not None and answered in writer.digests.etags():
        pass                  # the PUT's answer names these very bytes: nothing to ask
    else:
        try:
            info = target.fs.info(target.path)
        except Exception as exc:
            raise TransferError(f"The upload to {target.shown} finished but the object cannot "
                                f"be read back ({type(exc).__name__}: {exc}).") from exc
        stored = info.get("size")
        if stored is not None and stored != size:
            raise IntegrityError(f"{target.shown} holds {stored:,} bytes after the upload, not "
                                 f"{size:,}; upload it again.")
        etag = _etag_of(info)
        if etag and re.fullmatch(r"[0-9a-f]{32}(-\d+)?", etag) and \
                etag not in writer.digests.etags():
            reread = True     # not an MD5 of ours (SSE-KMS…) or other bytes: read it back
    if reread:
        digest = hashlib.sha256()
        with target.fs.open(target.path, "rb", block_size=target.block_size) as handle:
            while chunk := handle.read(target.block_size):
                digest.update(chunk)
        if digest.hexdigest() != sha256:
            raise IntegrityError(f"{target.shown}: reading the object back gives sha256 "
                                 f"{digest.hexdigest()}, not {sha256}; upload it again.")
    return etag
