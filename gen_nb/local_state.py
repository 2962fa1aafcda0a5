"""What is on *your* side for each render: downloaded (verified, where), exported (where),
published (post URLs), its file deleted.

Read from gen_nb's own records, never guessed from file names:

* downloads and exports: the ``gen_nb-manifest.jsonl`` of each folder or export destination
  (:mod:`gen_nb.transfer.manifest`), matched by render id or by source URL. A local copy is
  *verified* when the file is there with the recorded size (``verify="sha256"`` hashes it
  too: slower, exact);
* posts: ``gen_nb-posts.jsonl`` (written by :func:`record_post` when gen_nb publishes: post id,
  render id, media URL), brought up to date with ``client.posts()`` when a client is given;
  a post from the API that names the render's URL (``media_url`` / ``media_urls``) counts too;
* deleted: the ids you pass (what this session deleted) — and a completed render that GEN
  lists without a file is reported as ``file_missing``.

Pure reads: nothing is downloaded, nothing is sent but one ``client.posts()``.

>>> import gen_nb
>>> from gen_nb.local_state import local_state
>>> client = gen_nb.connect()                                   # doctest: +SKIP
>>> states = local_state(client.renders(), ["downloads"], client=client)   # doctest: +SKIP
>>> states["56004"].marks                                       # doctest: +SKIP
'downloaded · published'
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["POSTS_LOG", "LocalCopy", "LocalState", "PublishedPost", "local_state", "record_post"]

log = logging.getLogger("gen_nb")

POSTS_LOG = "gen_nb-posts.jsonl"
"""The post log gen_nb keeps beside its download manifest (one JSON object per line)."""


@dataclass(frozen=True)
class LocalCopy:
    """One file gen_nb wrote for a render: ``where`` (a local path or a storage URL),
    ``size``, ``sha256``, and whether it is still there unchanged (``verified``)."""

    where: str
    size: int
    sha256: str
    verified: bool
    kind: str = "render"


@dataclass(frozen=True)
class PublishedPost:
    """A post of the render: its id, one-word state and the live post URLs."""

    post_id: str
    state: str
    urls: tuple[str, ...] = ()


@dataclass(frozen=True)
class LocalState:
    """Everything known locally about one render (see the module docstring)."""

    render_id: str
    downloaded: tuple[LocalCopy, ...] = ()
    exported: tuple[LocalCopy, ...] = ()
    posts: tuple[PublishedPost, ...] = ()
    deleted: bool = False
    file_missing: bool = False

    @property
    def is_downloaded(self) -> bool:
        return any(copy.verified for copy in self.downloaded)

    @property
    def is_exported(self) -> bool:
        return bool(self.exported)

    @property
    def published(self) -> tuple[str, ...]:
        """The post URLs (live posts only)."""
        return tuple(url for post in self.posts for url in post.urls)

    @property
    def marks(self) -> str:
        """A few words for a label: ``'downloaded · exported · published'``."""
        words = []
        if self.deleted:
            words.append("file deleted")
        if self.is_downloaded:
            words.append("downloaded")
        elif self.downloaded:
            words.append("download changed")
        if self.exported:
            words.append("exported")
        if any(post.state == "published" for post in self.posts):
            words.append("published")
        elif self.posts:
            words.append(f"post {self.posts[-1].state}")
        return " · ".join(words)


def local_state(renders: Iterable[Any], folders: Iterable[Any] | None = None, *,
                exports: Iterable[Any] = (), client: Any = None, posts: Any = None,
                deleted: Iterable[str] = (), verify: str = "size",
                storage_options: dict[str, Any] | None = None) -> dict[str, LocalState]:
    """The local state of each render, by render id (see the module docstring).

    ``folders``: download folders (default: ``GEN_NB_DOWNLOAD_DIR`` or ``./downloads``);
    their post logs are read too. ``exports``: export destinations (folders or fsspec URLs,
    with ``storage_options``). ``client``: asks ``client.posts()`` for the posts' state;
    ``posts``: those posts already fetched. ``deleted``: render ids known deleted.
    ``verify``: "size" (default) or "sha256". A folder that cannot be read counts as empty.
    """
    items = list(renders)
    folder_list = _folders(folders)
    downloads = _copies_by_render(items, [_local_records(f, verify) for f in folder_list])
    exported = _copies_by_render(items, [_export_records(d, storage_options)
                                         for d in exports])
    logged = [entry for folder in folder_list for entry in _read_posts_log(folder)]
    live = list(posts) if posts is not None else _fetch_posts(client, logged)
    by_render = _posts_by_render(items, logged, live)
    gone = {str(i) for i in deleted}
    return {r.id: LocalState(
        r.id, downloads.get(r.id, ()), exported.get(r.id, ()), by_render.get(r.id, ()),
        r.id in gone, r.status == "completed" and not getattr(r, "url", None))
        for r in items}


def record_post(folder: Any, render: Any, post: Any) -> None:
    """Append one line to ``<folder>/gen_nb-posts.jsonl``: which render a post carries
    (never a key or a signed query). Errors are logged, never raised: a post is not undone
    because its note could not be written."""
    from gen_nb.api.redact import strip_url

    url = getattr(render, "url", render if isinstance(render, str) else None)
    entry = {"post_id": str(post.id), "render_id": getattr(render, "id", None),
             "media_url": strip_url(url) if url else None,
             "platforms": list(getattr(post, "platforms", ()) or ()),
             "urls": [s.post_url for s in getattr(post, "platforms_status", ()) if s.post_url],
             "state": getattr(post, "state", None),
             "at": _dt.datetime.now(_dt.UTC).isoformat()}
    path = Path(os.fspath(folder)) / POSTS_LOG
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry, ensure_ascii=False) + "\n")
    except OSError as exc:
        log.info("could not note post %s in %s: %s", post.id, path, exc)


# --- downloads and exports ----------------------------------------------------------------------

def _folders(folders: Iterable[Any] | None) -> list[Path]:
    if folders is None:
        from gen_nb.api.settings import download_dir

        return [download_dir()]
    return [Path(os.fspath(f)).expanduser() for f in folders]


def _local_records(folder: Path, verify: str) -> list[tuple[Any, LocalCopy]]:
    from gen_nb.transfer.manifest import Manifest

    try:
        records = Manifest(folder).records() if folder.is_dir() else []
    except OSError:
        return []
    return [(rec, _local_copy(folder, rec, verify)) for rec in records]


def _local_copy(folder: Path, record: Any, verify: str) -> LocalCopy:
    from gen_nb.transfer.hashing import hash_file

    path = folder / record.path
    try:
        ok = path.is_file() and not path.is_symlink() and path.stat().st_size == record.size
        if ok and verify == "sha256":
            ok = hash_file(path)["sha256"] == record.sha256
    except OSError:
        ok = False
    return LocalCopy(str(path.resolve()), record.size, record.sha256, ok, record.kind)


def _export_records(dest: Any, storage_options: dict[str, Any] | None
                    ) -> list[tuple[Any, LocalCopy]]:
    from gen_nb.export.destinations import open_destination

    try:
        destination = open_destination(dest, storage_options)
        try:
            records = list(destination.records().values())
            where = getattr(destination, "url_of", None)
            return [(rec, LocalCopy(where(rec.path) if where else str(Path(dest) / rec.path),
                                    rec.size, rec.sha256, destination.exists(rec.path),
                                    rec.kind)) for rec in records]
        finally:
            destination.close()
    except Exception as exc:  # an unreachable store counts as "nothing exported there"
        log.info("could not read the export manifest of %s: %s", dest, exc)
        return []


def _copies_by_render(renders: list[Any], sources: list[list[tuple[Any, LocalCopy]]]
                      ) -> dict[str, tuple[LocalCopy, ...]]:
    from gen_nb.api.redact import strip_url

    by_url = {strip_url(r.url): r.id for r in renders if getattr(r, "url", None)}
    found: dict[str, list[LocalCopy]] = {}
    for records in sources:
        for record, copy in records:
            if record.layer_id:
                continue  # a layer output of the render, not the render's video
            rid = record.render_id if record.render_id else by_url.get(record.source_url)
            if rid is not None:
                found.setdefault(str(rid), []).append(copy)
    return {rid: tuple(copies) for rid, copies in found.items()}


# --- posts --------------------------------------------------------------------------------------

def _read_posts_log(folder: Path) -> list[dict[str, Any]]:
    try:
        text = (folder / POSTS_LOG).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    entries = []
    for line in text.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("post_id"):
            entries.append(entry)
    return entries


def _fetch_posts(client: Any, logged: list[dict[str, Any]]) -> list[Any]:
    if client is None or not logged:
        return []
    try:
        return list(client.posts())
    except Exception as exc:  # the local log still says what was posted
        log.info("could not read posts: %s", exc)
        return []


def _media_of(post: Any) -> set[str]:
    urls = set(getattr(post, "media_urls", ()) or ())
    single = getattr(post, "media_url", None)
    return urls | ({single} if single else set())


def _posts_by_render(renders: list[Any], logged: list[dict[str, Any]], live: list[Any]
                     ) -> dict[str, tuple[PublishedPost, ...]]:
    from gen_nb.api.redact import strip_url

    live_by_id = {str(p.id): p for p in live}
    by_url = {strip_url(r.url): r.id for r in renders if getattr(r, "url", None)}
    found: dict[str, dict[str, PublishedPost]] = {}
    for entry in logged:
        rid = entry.get("render_id") or by_url.get(entry.get("media_url") or "")
        if rid:
            post = live_by_id.get(str(entry["post_id"]))
            found.setdefault(str(rid), {})[str(entry["post_id"])] = _published(entry, post)
    for post in live:
        for url in _media_of(post):
            rid = by_url.get(strip_url(url))
            if rid:
                found.setdefault(rid, {})[str(post.id)] = _published({}, post)
    return {rid: tuple(posts.values()) for rid, posts in found.items()}


def _published(entry: Mapping[str, Any], post: Any) -> PublishedPost:
    if post is None:
        urls = tuple(u for u in entry.get("urls") or () if isinstance(u, str))
        return PublishedPost(str(entry["post_id"]), str(entry.get("state") or "accepted"), urls)
    urls = tuple(s.post_url for s in post.platforms_status if s.post_url)
    return PublishedPost(str(post.id), post.state, urls)
