"""Pure decisions for transfers: what to do, never doing it (pooch's ``download_action`` style).

Nothing here touches the network or the disk. The I/O modules ask these functions what a file
name should be, where bytes go, whether to resume, restart, skip or fail, and how to split a
file into ranges, then act on the answer. That keeps every rule testable in microseconds.

>>> file_name_for("https://cdn.example/a/..%2F..%2Fetc%2Fpasswd")
'_.._etc_passwd'
>>> classify_response(100, 206, {"Content-Range": "bytes 100-199/200"}).kind
'body'
"""

from __future__ import annotations

import functools
import re
import unicodedata
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from gen_nb.api.transport import RETRY_STATUSES
from gen_nb.transfer.headers import content_length, header, parse_content_range, split_url

__all__ = [
    "DEFAULT_FILE_NAME",
    "Answer",
    "ResumePlan",
    "Target",
    "classify_response",
    "decide_existing",
    "file_name_for",
    "piece_ranges",
    "plan_resume",
    "resolve_target",
    "retryable_status",
    "sanitize_file_name",
    "split_ranges",
    "unique_paths",
]

DEFAULT_FILE_NAME = "download.bin"
MAX_NAME_BYTES = 200
_TEMP_SUFFIXES = (".part", ".part.json", ".lock")
_WINDOWS_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL"}
    | {f"COM{i}" for i in range(1, 10)}
    | {f"LPT{i}" for i in range(1, 10)}
)
_UNSAFE_CHARS = re.compile(r'[/\\<>:"|?*]')


# --- names and places -----------------------------------------------------------------------------

def sanitize_file_name(name: str | None, default: str = DEFAULT_FILE_NAME) -> str:
    """A file name that is safe on every common file system and can never leave its folder.

    Path separators (``/`` and ``\\``) and characters Windows forbids become ``_``; control
    and format characters are dropped; leading dots and spaces and trailing dots and spaces
    are stripped (so ``..`` and ``.bashrc`` cannot be produced); Windows device names get a
    ``_`` prefix; names ending like gen_nb's own temp files (``.part``, ``.lock``) get a
    trailing ``_``; the result is cut to 200 UTF-8 bytes keeping the extension. An empty
    result becomes ``default``. Percent-decoding is the caller's job (see
    :func:`file_name_for`), done exactly once, so ``%2F`` arrives here as ``/``.

    >>> [sanitize_file_name(n) for n in ("../../etc/passwd", " CON.mp4", "..")]
    ['_.._etc_passwd', '_CON.mp4', 'download.bin']
    """
    text = unicodedata.normalize("NFC", name or "")
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf", "Cs"))
    text = _UNSAFE_CHARS.sub("_", text)
    text = text.lstrip(". ").rstrip(". ")
    if not text:
        return default
    stem = text.split(".", 1)[0]
    if stem.upper() in _WINDOWS_RESERVED:
        text = "_" + text
    if text.lower().endswith(_TEMP_SUFFIXES):
        text += "_"
    return _cut_to_bytes(text, MAX_NAME_BYTES)


def _cut_to_bytes(name: str, limit: int) -> str:
    if len(name.encode("utf-8")) <= limit:
        return name
    stem, dot, ext = name.rpartition(".")
    if not dot or len(ext) > 16:
        stem, ext = name, ""
    suffix = f".{ext}" if ext else ""
    room = limit - len(suffix.encode("utf-8"))
    cut = stem.encode("utf-8")[:room].decode("utf-8", "ignore").rstrip(". ")
    return (cut or "download") + suffix


def file_name_for(url: str, hint: str | None = None) -> str:
    """The sanitised file name for a download: the resource's own name, else the URL's.

    The URL path's last segment is percent-decoded once, then sanitised.

    >>> file_name_for("https://cdn.example/outputs/My%20Clip.mp4?sig=x")
    'My Clip.mp4'
    >>> file_name_for("https://cdn.example/a/..%2F..%2Fetc%2Fpasswd")
    '_.._etc_passwd'
    """
    if hint and hint.strip():
        return sanitize_file_name(hint)
    path = urllib.parse.urlsplit(url).path
    segment = path.rsplit("/", 1)[-1]
    return sanitize_file_name(urllib.parse.unquote(segment))


def unique_paths(paths: Iterable[str], keys: Iterable[str]) -> list[str]:
    """Make paths (or bare file names) unique in one batch: a second *different* source (key)
    for a path gets ``name-2.ext`` in the same folder; an equal key keeps its path.

    Case-insensitive (two names differing only in case collide on macOS and Windows).

    >>> unique_paths(["a/x.mp4", "a/X.mp4", "a/x.mp4"], ["1", "2", "1"])
    ['a/x.mp4', 'a/X-2.mp4', 'a/x.mp4']
    >>> unique_paths(["a.mp4", "a.mp4"], ["u1", "u2"])
    ['a.mp4', 'a-2.mp4']
    """
    owner: dict[str, str] = {}
    by_key: dict[str, str] = {}
    tried: dict[str, int] = {}    # per wanted path, the last number tried: a batch of 1,000
    out: list[str] = []           # "voiceover.mp3" stays linear, not 500,000 tries
    for path, key in zip(paths, keys, strict=True):
        if key in by_key:
            out.append(by_key[key])
            continue
        candidate, number = path, tried.get(path.lower(), 1)
        if number > 1:
            candidate = _numbered(path, number)
        while owner.get(candidate.lower(), key) != key:
            number += 1
            candidate = _numbered(path, number)
        tried[path.lower()] = number
        owner[candidate.lower()] = key
        by_key[key] = candidate
        out.append(candidate)
    return out


def _numbered(path: str, number: int) -> str:
    """``a/x.mp4`` → ``a/x-<number>.mp4`` (``x`` → ``x-<number>`` without an extension)."""
    folder, _, name = path.rpartition("/")
    stem, dot, ext = name.rpartition(".")
    name = f"{stem}-{number}.{ext}" if dot and stem else f"{name}-{number}"
    return f"{folder}/{name}" if folder else name


@dataclass(frozen=True)
class Target:
    """Where a download's bytes go: the final file and its companions in the same folder."""

    path: Path

    @functools.cached_property
    def part(self) -> Path:
        """The partial file the bytes are written to before ``os.replace``."""
        return self.path.with_name(self.path.name + ".part")

    @functools.cached_property
    def sidecar(self) -> Path:
        """The small JSON file that makes the ``.part`` resumable by a later process."""
        return self.path.with_name(self.path.name + ".part.json")

    @functools.cached_property
    def lock(self) -> Path:
        """The lock file that keeps two writers apart."""
        return self.path.with_name(self.path.name + ".lock")


def resolve_target(dest: str | Path | None, name: str, *, dest_is_dir: bool,
                   default_dir: str | Path, dest_is_file: bool = False) -> Target:
    """The final path for a download.

    ``dest`` None → ``default_dir/name``. A folder is: an existing folder, a path ending in a
    separator, or a path whose last part has no extension (``"exports"``) and is not an
    existing file. Anything else (``"out/clip.mp4"``) is the file path the user chose.

    >>> resolve_target(None, "a.mp4", dest_is_dir=False, default_dir="downloads").path
    PosixPath('downloads/a.mp4')
    >>> resolve_target("exports", "a.mp4", dest_is_dir=False, default_dir="d").path
    PosixPath('exports/a.mp4')
    >>> resolve_target("out/clip.mp4", "a.mp4", dest_is_dir=False, default_dir="d").path
    PosixPath('out/clip.mp4')
    """
    if dest is None:
        return Target(Path(default_dir).expanduser() / name)
    text = str(dest)
    path = Path(text).expanduser()
    if dest_is_dir or text.endswith(("/", "\\")) or (not path.suffix and not dest_is_file):
        return Target(path / name)
    return Target(path)


def retryable_status(status: int) -> bool:
    """Statuses worth another try after a pause (rate limits, gateway and server hiccups)."""
    return status in RETRY_STATUSES


# --- what a response means ------------------------------------------------------------------------

AnswerKind = Literal["body", "complete", "restart", "retry", "fail"]


@dataclass(frozen=True)
class Answer:
    """What a response to a (possibly ranged) GET means for the file on disk.

    ``body``: write the body starting at ``offset`` (0 with a 200: truncate first);
    ``complete``: the file on disk is already whole (416 with a matching size);
    ``restart``: discard what is on disk and ask again from byte 0;
    ``retry``: pause and ask again (429/5xx); ``fail``: give up (404, 403, …).
    """

    kind: AnswerKind
    offset: int = 0
    total: int | None = None
    etag: str | None = None
    last_modified: str | None = None
    reason: str = ""


def classify_response(requested: int, status: int, headers: Mapping[str, str],
                      known_total: int | None = None, known_etag: str | None = None,
                      end: int | None = None, known_last_modified: str | None = None) -> Answer:
    """Decide what a GET answer means when ``requested`` bytes are already on disk.

    ``end`` is the exclusive end of a bounded range request (segments), else None.
    A 200 always means "the body is the whole file from byte 0" — never spliced onto a
    partial file. A 206 is used only when its Content-Range starts exactly at ``requested``
    (and ends at ``end``), its total is a number equal to the known total, and — when bytes
    are kept from earlier — it carries the same validators as recorded (the ETag, else
    Last-Modified): a server that ignores If-Range cannot make gen_nb splice two versions.

    >>> classify_response(10, 200, {"Content-Length": "50"}).offset
    0
    >>> classify_response(50, 416, {"Content-Range": "bytes */50"}).kind
    'complete'
    >>> classify_response(10, 206, {"Content-Range": "bytes 10-49/50", "ETag": '"b"'},
    ...                   known_etag='"a"').kind
    'restart'
    >>> classify_response(10, 206, {"Content-Range": "bytes 10-49/*"}).kind
    'restart'
    """
    etag, modified = header(headers, "ETag"), header(headers, "Last-Modified")
    if status == 206:
        answer = _classify_partial(requested, headers, known_total, end, etag, modified)
        if answer.kind == "body" and requested:
            return _same_version(answer, known_etag, known_last_modified)
        return answer
    if status == 200:
        why = "the server ignored Range (or the file changed): starting over" if requested \
            else ""
        return Answer("body", 0, content_length(headers), etag, modified, why)
    if status == 416:
        cr = parse_content_range(header(headers, "Content-Range"))
        total = cr.total if cr else None
        if requested and total == requested and known_total in (None, requested):
            return Answer("complete", requested, total, etag, modified, "already complete")
        return Answer("restart", 0, total, etag, modified,
                      f"the server cannot serve bytes from {requested} (416): starting over")
    if retryable_status(status):
        return Answer("retry", requested, known_total, etag, modified, f"HTTP {status}")
    return Answer("fail", requested, known_total, etag, modified, f"HTTP {status}")


def _same_version(answer: Answer, known_etag: str | None,
                  known_last_modified: str | None) -> Answer:
    """A resumed 206 must carry the validators recorded when the first bytes came."""
    def _norm(value: str | None) -> str | None:
        return value.strip() if value else None

    if known_etag and _norm(answer.etag) != _norm(known_etag):
        why = "the answer has no ETag" if not answer.etag else "the file changed (new ETag)"
        return Answer("restart", 0, answer.total, answer.etag, answer.last_modified,
                      f"{why}: starting over")
    if not known_etag and known_last_modified and \
            _norm(answer.last_modified) != _norm(known_last_modified):
        why = "no Last-Modified" if not answer.last_modified else "a new Last-Modified"
        return Answer("restart", 0, answer.total, answer.etag, answer.last_modified,
                      f"the answer has {why}: starting over")
    return answer


def _classify_partial(requested: int, headers: Mapping[str, str], known_total: int | None,
                      end: int | None, etag: str | None, modified: str | None) -> Answer:
    cr = parse_content_range(header(headers, "Content-Range"))
    if cr is None or cr.start is None or cr.end is None:
        return Answer("restart", 0, None, etag, modified, "a 206 without a usable Content-Range")
    if cr.total is None:
        return Answer("restart", 0, None, etag, modified,
                      "a 206 whose Content-Range does not say the file's size")
    if cr.start != requested:
        return Answer("restart", 0, cr.total, etag, modified,
                      f"asked for bytes from {requested}, got {cr.start}")
    if cr.end >= cr.total:
        return Answer("restart", 0, cr.total, etag, modified,
                      "a 206 whose range runs past the file's size")
    length = content_length(headers)
    if length is not None and length != cr.end - cr.start + 1:
        return Answer("restart", 0, cr.total, etag, modified,
                      "Content-Length does not match Content-Range")
    wanted_end = end if end is not None else cr.total
    if cr.end + 1 != wanted_end:
        return Answer("restart", 0, cr.total, etag, modified,
                      f"asked for bytes up to {wanted_end - 1}, got {cr.end}")
    if known_total is not None and cr.total != known_total:
        return Answer("restart", 0, cr.total, etag, modified,
                      f"the file's size changed ({known_total} → {cr.total})")
    return Answer("body", requested, cr.total, etag, modified)


# --- resuming, skipping, splitting ----------------------------------------------------------------

@dataclass(frozen=True)
class ResumePlan:
    """Where to start: ``offset`` bytes of the ``.part`` are kept (0 = start over)."""

    offset: int
    reason: str


def plan_resume(part_size: int | None, sidecar_source: tuple[str, str | None] | None,
                url: str, sidecar_total: int | None, sidecar_validator: str | None) -> ResumePlan:
    """Whether an existing ``.part`` (``part_size`` bytes, None if absent) may be continued.

    Continuing needs a sidecar naming the same URL (the query may differ only when there is
    a validator, because ``If-Range`` then protects against a changed file), a strong
    validator (ETag or Last-Modified) and a size not above the recorded total.

    >>> plan_resume(100, ("https://c/x", None), "https://c/x", 200, '"e"')
    ResumePlan(offset=100, reason='resuming from byte 100')
    >>> plan_resume(100, None, "https://c/x", None, None).offset
    0
    """
    if not part_size:
        return ResumePlan(0, "new download")
    if sidecar_source is None:
        return ResumePlan(0, "a .part without a sidecar (origin unknown): starting over")
    base, query = split_url(url)
    if sidecar_source[0] != base:
        return ResumePlan(0, "the .part belongs to a different URL: starting over")
    if sidecar_validator is None:
        return ResumePlan(0, "no ETag or Last-Modified to make resuming safe: starting over")
    if sidecar_total is not None and part_size > sidecar_total:
        return ResumePlan(0, "the .part is larger than the file: starting over")
    if sidecar_source[1] != query:
        return ResumePlan(part_size, f"resuming from byte {part_size} (new query, same file)")
    return ResumePlan(part_size, f"resuming from byte {part_size}")


def split_ranges(start: int, total: int, count: int, min_size: int = 1 << 20
                 ) -> list[tuple[int, int]]:
    """Split ``[start, total)`` into at most ``count`` nearly equal ranges (end exclusive).

    >>> split_ranges(0, 10, 3, min_size=1)
    [(0, 4), (4, 7), (7, 10)]
    >>> split_ranges(0, 10, 4, min_size=6)
    [(0, 10)]
    """
    size = total - start
    if size <= 0:
        return []
    count = max(1, min(count, size // max(1, min_size)))
    step, extra = divmod(size, count)
    ranges, at = [], start
    for index in range(count):
        length = step + (1 if index < extra else 0)
        ranges.append((at, at + length))
        at += length
    return ranges


def piece_ranges(start: int, total: int, workers: int, min_size: int = 1 << 20,
                 max_size: int = 32 << 20) -> list[tuple[int, int]]:
    """Pieces of ``[start, total)`` for ``workers`` parallel connections.

    About four pieces per worker, each between ``min_size`` and ``max_size``, fetched in
    order: the written prefix of the file then grows steadily, so it can be hashed while
    the rest is still downloading, and a slow connection holds up only one small piece.

    >>> len(piece_ranges(0, 1 << 30, 4)), piece_ranges(0, 3 << 20, 4)[0]
    (32, (0, 1048576))
    """
    size = total - start
    if size <= 0:
        return []
    piece = max(min_size, min(max_size, size // (max(1, workers) * 4)))
    return split_ranges(start, total, -(-size // piece), min_size=1)


ExistingAction = Literal["skip", "download", "conflict"]


def decide_existing(size: int, sha256: str | None, record_size: int | None,
                    record_sha256: str | None, same_source: bool, remote_total: int | None,
                    remote_validator: str | None, record_validator: str | None,
                    server_sha256: str | None, overwrite: bool) -> tuple[ExistingAction, str]:
    """What to do about a file already under the final name (a regular file, not a link).

    "Already there" needs proof, never size alone: the file matches gen_nb's own record of it
    (size and sha256, from this source, and the server still has that version), or its sha256
    equals a digest the server vouches for. Anything else is a different file: ``conflict``,
    or ``download`` with ``overwrite``. ``sha256`` is the file's (None when not computed).

    >>> decide_existing(10, "ab", 10, "ab", True, 10, '"a"', '"a"', None, False)[0]
    'skip'
    >>> decide_existing(10, "ab", None, None, False, 10, '"a"', None, None, False)[0]
    'conflict'
    """
    if server_sha256 and sha256 == server_sha256:
        return "skip", "already there (its sha256 matches the server's digest)"
    recorded = record_sha256 is not None and same_source and record_size == size \
        and sha256 == record_sha256
    if recorded and remote_total in (None, size) and remote_validator == record_validator:
        return "skip", "already downloaded (matches gen_nb's record: size and sha256)"
    if overwrite:
        return "download", "replacing the file under that name (overwrite=True)"
    if recorded:
        return "conflict", "the file on disk is an older version of this URL"
    if record_sha256 is not None and same_source:
        return "conflict", "the file on disk changed since gen_nb wrote it"
    what = f"{size} bytes on disk, {remote_total} on the server" if remote_total is not None \
        else "nothing proves it is this download"
    return "conflict", f"a file gen_nb cannot vouch for is already there ({what})"
