"""Helpers shared by the transfer tests (plain functions; fixtures live in each module)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

MiB = 1 << 20


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(MiB), b""):
            digest.update(block)
    return digest.hexdigest()


def leftovers(folder: Path) -> list[str]:
    """Names of gen_nb's temp files (``.part``, ``.part.json``, ``.lock``) in ``folder``."""
    return sorted(p.name for p in folder.iterdir()
                  if p.name.endswith((".part", ".part.json", ".lock")))


def cdn_gets(sb: Any, path_part: str) -> list[Any]:
    """The CDN GET records for URLs containing ``path_part``."""
    return [r for r in sb.requests if r.server == "cdn" and r.method == "GET"
            and path_part in r.path]


def header_of(record: Any, name: str) -> str | None:
    for key, value in record.headers.items():
        if key.lower() == name.lower():
            return str(value)
    return None


def url_path(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).path


def can_mount_tmpfs() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0 and Path("/proc/mounts").exists()
