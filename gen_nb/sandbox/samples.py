"""The committed sample media, as the seeded world uses them: read from ``media/catalog.json``.

Each render card (``render_*.mp4`` + its ``.jpg``) has a title, a call to action and an engine
style; each engine style has its voiceover, its b-roll clip and a background. The seeded world
gives every row one card, so a render shows the title its row says. ``make_media`` writes the
catalog; the servers only read it (never importing the media kit or ffmpeg).

>>> card("render_a").title
'3 tips to stop scrolling'
>>> style("launch-teasers").broll
('broll_a.mp4', 'broll_a.jpg')
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any

from .blobs import MEDIA_DIR

BACKGROUNDS = {"launch-teasers": "background.jpg", "weekly-tips": "background.png",
               "recipe-shorts": "background.png"}  # bokeh, sunrise, sunrise


@dataclass(frozen=True)
class CardSample:
    """A render clip of the catalog: ``stem.mp4`` with the thumbnail ``stem.jpg``."""

    stem: str
    engine: str
    title: str
    cta: str


@dataclass(frozen=True)
class EngineStyle:
    """What an engine style's layer outputs use: (file, thumbnail) pairs and file names."""

    slug: str
    title: str
    voiceover: str
    broll: tuple[str, str | None]
    background: str
    cards: tuple[str, ...]


@functools.lru_cache(maxsize=1)
def _catalog() -> dict[str, Any]:
    return json.loads((MEDIA_DIR / "catalog.json").read_text(encoding="utf-8"))


def card(stem: str) -> CardSample:
    """The render card ``stem`` (KeyError if the catalog has none)."""
    for item in _catalog()["cards"]:
        if item["stem"] == stem:
            return CardSample(item["stem"], item["engine"], item["title"], item["cta"])
    raise KeyError(stem)


def style(slug: str) -> EngineStyle:
    """The engine style ``slug``: its title, voiceover, b-roll, background and cards."""
    for item in _catalog()["engines"]:
        if item["slug"] == slug:
            broll = next(s for s in _catalog()["layers"]
                         if s["layer"] == "broll" and s["engine"] == slug)
            return EngineStyle(slug, item["title"], item["voiceover"],
                               (broll["file"], broll["thumbnail"]), BACKGROUNDS[slug],
                               tuple(item["cards"]))
    raise KeyError(slug)
