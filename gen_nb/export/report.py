"""What an export says it did: one :class:`ExportResult` per file, and the whole report."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["ExportReport", "ExportResult", "ExportStatus"]

ExportStatus = Literal["done", "skipped", "failed", "cancelled", "planned"]


@dataclass(frozen=True)
class ExportResult:
    """One file of an export. ``status``: done (moved now), skipped (already there, unchanged),
    failed (``error`` says why), cancelled, or planned (a dry run). ``path`` is relative to
    the destination; ``bytes`` moved or, for a dry run, to move (None when unknown)."""

    src: str
    status: ExportStatus
    path: str
    kind: str
    render_id: str
    layer_id: str | None = None
    bytes: int | None = None
    sha256: str | None = None
    seconds: float = 0.0
    error: str | None = None


@dataclass(frozen=True)
class ExportReport:
    """Everything an export did: ``results`` (one per file, in planning order), ``dest``,
    ``manifest`` (where the record lives), ``dry_run``, ``seconds``. Iterate it, take
    ``len()``, or ``gen_nb.transfers_frame(report)`` for a table."""

    results: tuple[ExportResult, ...]
    dest: str
    manifest: str
    dry_run: bool = False
    seconds: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, results: list[ExportResult], dest: str, manifest: str, dry_run: bool,
           seconds: float) -> ExportReport:
        counts: dict[str, int] = dict(Counter(str(r.status) for r in results))
        return cls(tuple(results), dest, manifest, dry_run, seconds, counts)

    def __iter__(self) -> Iterator[ExportResult]:
        return iter(self.results)

    def __len__(self) -> int:
        return len(self.results)

    @property
    def bytes(self) -> int:
        """Bytes moved (or, for a dry run, to move) in all."""
        return sum(r.bytes or 0 for r in self.results if r.status in ("done", "planned"))

    @property
    def ok(self) -> bool:
        """No file failed or was cancelled."""
        return not (self.counts.get("failed") or self.counts.get("cancelled"))

    def summary(self) -> str:
        """One line: ``12 files → s3://b/gen/: 3 done, 9 skipped (1.2 MB moved) in 4.1 s``."""
        parts = ", ".join(f"{n} {status}" for status, n in sorted(self.counts.items()))
        verb = "would move" if self.dry_run else "moved"
        size = _size(self.bytes)
        return (f"{len(self.results)} files → {self.dest}: {parts or 'nothing to do'} "
                f"({size} {verb}) in {self.seconds:.1f} s")

    def to_json(self) -> str:
        """The report for scripts (``gen-nb export --json``)."""
        return json.dumps({"dest": self.dest, "manifest": self.manifest,
                           "dry_run": self.dry_run, "seconds": round(self.seconds, 3),
                           "counts": self.counts, "bytes": self.bytes,
                           "results": [dataclasses.asdict(r) for r in self.results]})

    def __repr__(self) -> str:
        return f"<ExportReport {self.summary()}>"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(self.summary())


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{n} B"  # pragma: no cover
