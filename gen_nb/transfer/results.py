"""What transfers return: small frozen dataclasses (``gen_nb.frames`` turns lists into tables)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

__all__ = ["DownloadResult", "StreamResult", "TransferResult", "TransferStatus"]

TransferStatus = Literal["done", "skipped", "failed", "cancelled"]


@dataclass(frozen=True)
class DownloadResult:
    """A finished (or skipped) download.

    ``path`` the final file; ``url`` the source (query shown as ``?…``); ``bytes`` the file's
    size; ``resumed_from`` how many bytes an earlier attempt had already left on disk (0 for a
    fresh download); ``sha256`` of the whole file; ``seconds`` this call took; ``skipped``
    True when the file was already complete; ``segments`` ranges used (1 = single stream);
    ``attempts`` GET requests that carried body bytes (more than 1 = resumed within the call);
    ``size_verified`` False when the server never said how large the file is (the bytes were
    taken as they came: nothing could tell a cut-short body from a complete one).
    """

    path: Path
    url: str
    bytes: int
    resumed_from: int
    sha256: str
    seconds: float
    skipped: bool = False
    segments: int = 1
    attempts: int = 1
    size_verified: bool = True


@dataclass(frozen=True)
class TransferResult:
    """One item of :func:`gen_nb.download_many`: never raises, says what happened.

    ``status`` is done / skipped / failed / cancelled; ``error`` the message when it failed.
    """

    src: str
    status: TransferStatus
    path: Path | None
    bytes: int
    sha256: str | None
    seconds: float
    error: str | None = None


@dataclass(frozen=True)
class StreamResult:
    """A finished :func:`gen_nb.stream_to`: ``dest`` has its query shown as ``?…``.

    ``status`` is the destination's HTTP status (0 for a file object or an fsspec URL),
    ``etag`` the destination's ETag; ``source_etag`` / ``source_last_modified`` are the
    source's validators (what the export manifest records).
    """

    src: str
    dest: str
    bytes: int
    sha256: str
    status: int
    seconds: float
    etag: str | None = None
    source_etag: str | None = None
    source_last_modified: str | None = None
