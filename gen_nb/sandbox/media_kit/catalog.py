"""``media/catalog.json``: every render card and sample file as plain data, and the list of
files a regeneration writes.

The sandbox's seeded world reads the committed JSON (it never imports this kit); this module
is where that JSON comes from, so the two always agree (a test checks it).

>>> catalog()["engines"][0]["slug"]
'launch-teasers'
>>> "render_a.mp4" in media_files()
True
"""

from __future__ import annotations

import json
from typing import Any

from .cards import (
    CARD_SECONDS,
    CARDS,
    ENGINE_THEMES,
    FPS,
    HEIGHT,
    LAYER_SAMPLES,
    OTHER_SAMPLES,
    WIDTH,
    LayerSample,
    theme,
)
from .ffmpeg import IMAGEIO_FFMPEG_VERSION

CATALOG_FORMAT = 1


def _sample(s: LayerSample) -> dict[str, Any]:
    return {"file": s.file, "kind": s.kind, "layer": s.layer, "title": s.title,
            "engine": s.engine, "duration": s.duration, "width": s.width,
            "height": s.height, "thumbnail": s.thumbnail}


def catalog() -> dict[str, Any]:
    """The content of ``catalog.json``: every render card and sample file, as plain data."""
    return {
        "format": CATALOG_FORMAT,
        "made_with": {"imageio-ffmpeg": IMAGEIO_FFMPEG_VERSION,
                      "font": "fonts/Poppins-Bold.ttf (SIL OFL 1.1, fonts/OFL.txt)"},
        "engines": [{"slug": t.slug, "title": t.title, "badge": t.badge,
                     "voiceover": t.voiceover,
                     "cards": [c.stem for c in CARDS if c.engine == t.slug]}
                    for t in ENGINE_THEMES],
        "cards": [{"stem": c.stem, "video": c.video, "thumbnail": c.thumbnail,
                   "engine": c.engine, "title": c.title, "subtitle": c.subtitle,
                   "cta": c.cta, "badge": theme(c.engine).badge,
                   "colors": {"background": [c.top, c.bottom], "text": c.text,
                              "accent": c.accent, "accent_text": c.accent_text},
                   "duration": CARD_SECONDS, "width": WIDTH, "height": HEIGHT, "fps": FPS,
                   "video_codec": "h264", "audio_codec": "aac"} for c in CARDS],
        "layers": [_sample(s) for s in LAYER_SAMPLES],
        "other": [_sample(s) for s in OTHER_SAMPLES],
    }


def catalog_bytes() -> bytes:
    """``catalog.json`` exactly as it is committed (UTF-8, two-space indent, final newline)."""
    return (json.dumps(catalog(), indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def media_files() -> list[str]:
    """Every file a regeneration writes, SHA256SUMS excluded, sorted."""
    names = {"catalog.json"}
    for card in CARDS:
        names |= {card.video, card.thumbnail}
    for s in (*LAYER_SAMPLES, *OTHER_SAMPLES):
        names.add(s.file)
        if s.thumbnail:
            names.add(s.thumbnail)
    return sorted(names)


def describe(name: str) -> str:
    """One line about a sample file, from the catalog."""
    for card in CARDS:
        if name == card.video:
            return f"{WIDTH}x{HEIGHT} {CARD_SECONDS:g} s H.264+AAC  {card.title}"
        if name == card.thumbnail:
            return f"{WIDTH}x{HEIGHT} JPEG  thumbnail of {card.video}"
    for s in (*LAYER_SAMPLES, *OTHER_SAMPLES):
        if name == s.file:
            dims = f"{s.width}x{s.height} " if s.width else ""
            length = f"{s.duration:g} s " if s.duration else ""
            return f"{dims}{length}{s.kind}  {s.title}"
        if name == s.thumbnail:
            return f"{s.width}x{s.height} JPEG  thumbnail of {s.file}"
    return "catalog of the samples" if name == "catalog.json" else ""
