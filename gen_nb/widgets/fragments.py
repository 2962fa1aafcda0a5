"""HTML fragments for the widgets: the one door to gen_nb.display / gen_nb.frames.

Widgets never build HTML from API strings: every fragment comes from the display helpers
(which escape every string and only let safe URLs through). This module only picks the helper.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any


def _display() -> Any:
    from gen_nb import display

    return display


def thumbnail(item: Any) -> str:
    """The thumbnail <img> of a render / layer output / resource (a URL, never bytes)."""
    return _display().thumbnail_html(item)


def player(item: Any) -> str:
    """A ``<video preload="none">`` / ``<audio>`` / ``<img>`` player for the item's URL."""
    return _display().player_html(item)


def message(text: str, kind: str = "info", detail: str | None = None) -> str:
    """A wrapping status message (escaped), details collapsed."""
    return _display().message_html(text, kind, detail)


def report(columns: list[str], rows: list[list[Any]]) -> str:
    """A small escaped table of a bulk action's outcome, one row per item."""
    return _display().report_html(columns, rows)


def badge(status: str | None) -> str:
    """A small coloured status badge."""
    return _display().status_badge_html(status)


def link(url: str | None, text: str | None = None) -> str:
    """A new-tab link to an http(s) URL, text escaped; "" for any other URL."""
    return _display().link_html(url, text)


def file_link(path: str | Path) -> str:
    """A link to a downloaded file through the relative path Jupyter serves (or, when it
    cannot serve it, the reason as text)."""
    return _display().file_link_html(path)


def layers_table(layers: Sequence[Any]) -> str:
    """The layer outputs of a render as a small HTML table (escaped, thumbnails as URLs)."""
    from gen_nb import frames

    table = frames.layers_frame(list(layers))[list(LAYER_TABLE_COLUMNS)]
    return frames.frame_html(table, max_rows=100, thumb_width=64)


LAYER_TABLE_COLUMNS = ("position", "name", "kind", "status", "thumbnail_url", "url",
                       "duration_seconds")
