"""The two views stock ipywidgets cannot carry, as one small anywidget module.

``gen_nb.js`` (an ES module) and ``gen_nb.css`` ship inside the package: no CDN, no build step,
no JupyterLab-only API, so they run wherever anywidget runs (JupyterLab, Notebook 7, Voila, VS
Code). Python only syncs plain data:

* :class:`GalleryView` — one page of tiles (id, title, thumbnail URL, status badge, local
  marks), the current render and the checked ones. A page turn is one message each way; the
  tiles are drawn in the browser (a grid that fits a 370 px panel or a wide screen).
* :class:`SaveLink` — files the browser can save: the link is built in the page from its own
  base URL and the notebook's folder (Jupyter's files route, Voila's ``voila/files``), so it
  works behind JupyterHub and for a remote kernel, plus the file's own URL as a second way.
  No bytes pass through the kernel.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import anywidget
import traitlets as t

from gen_nb.media import format_bytes, safe_url

__all__ = ["GalleryView", "SaveLink", "save_entry"]

_HERE = Path(__file__).parent
_ESM = (_HERE / "gen_nb.js").read_text(encoding="utf-8")
_CSS = (_HERE / "gen_nb.css").read_text(encoding="utf-8")


class _View(anywidget.AnyWidget):
    _esm = _ESM
    _css = _CSS
    view = t.Unicode("gallery").tag(sync=True)


class GalleryView(_View):
    """One page of render tiles; ``current`` and ``checked`` are render ids (see the module
    docstring). The tiles are plain dicts built by :func:`gen_nb.widgets.text.tile_of`."""

    tiles = t.List(t.Dict()).tag(sync=True)
    current = t.Unicode("").tag(sync=True)
    checked = t.List(t.Unicode()).tag(sync=True)
    page = t.Int(0).tag(sync=True)
    pages = t.Int(1).tag(sync=True)
    caption = t.Unicode("").tag(sync=True)
    empty = t.Unicode("No render matches the filters.").tag(sync=True)

    def __repr__(self) -> str:
        return f"GalleryView(page {self.page + 1} of {self.pages}, {len(self.tiles)} tiles)"


class SaveLink(_View):
    """Links that save files to the user's computer through the files route of the page
    they are shown in (built in the browser), each with its size and its own URL."""

    view = t.Unicode("save").tag(sync=True)
    files = t.List(t.Dict()).tag(sync=True)
    note = t.Unicode("").tag(sync=True)

    def set_files(self, paths: list[Any], remotes: list[str | None] | None = None, *,
                  cwd: Any = None) -> None:
        """Offer these local files (with the URL each came from, when known)."""
        remotes = remotes or [None] * len(paths)
        self.files = [save_entry(p, r, cwd=cwd) for p, r in zip(paths, remotes, strict=True)]

    def __repr__(self) -> str:
        return f"SaveLink({', '.join(f['name'] for f in self.files) or 'no file'})"


def save_entry(path: Any, remote: str | None = None, *, cwd: Any = None) -> dict[str, str]:
    """What :class:`SaveLink` needs for one file: its path relative to the kernel's folder (the
    notebook's; "" when on another drive), name, size and its http(s) URL (or "")."""
    target = Path(os.path.abspath(os.fspath(path)))
    base = os.path.abspath(os.fspath(cwd) if cwd is not None else os.getcwd())
    try:
        rel = Path(os.path.relpath(target, base)).as_posix()
    except ValueError:  # another drive (Windows): no files route reaches it
        rel = ""
    try:
        size = format_bytes(target.stat().st_size)
    except OSError:
        size = "?"
    return {"rel": rel, "name": target.name, "size": size, "where": str(target),
            "remote": safe_url(remote) or ""}
