"""The render clips: one vertical title card per :data:`~.cards.CARDS` entry.

A card is a gradient in its own colours with two soft circles drifting behind the text, a
story-style progress bar, the workspace handle, the engine's badge, the title (fitted into
balanced lines) over an underline, the subtitle, and a bouncing call to action, over the
engine's jingle. :func:`card_layout` says where everything goes; :func:`make_card` draws it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .audio import music, wav_bytes
from .cards import CARD_SECONDS, FPS, HEIGHT, MUSIC_RATE, WIDTH, WORKSPACE_HANDLE, Card, theme
from .ffmpeg import AAC, BITEXACT, X264, FilterGraph, run, thumbnail
from .scenes import disc_rgba, gradient, raw_input
from .typography import contrast, ff_color, fit_text, font_metrics, mix

MARGIN = 28
TITLE_SIZES = (54, 50, 46, 42, 38, 34)
SUBTITLE_SIZES = (21, 19, 17)


def card_layout(card: Card) -> dict[str, Any]:
    """Where everything of a card goes (pixels, at WIDTH×HEIGHT); used by the drawing and tests."""
    metrics = font_metrics()
    size, lines = fit_text(card.title, WIDTH - 2 * MARGIN, TITLE_SIZES, 3)
    sub_size, sub_lines = fit_text(card.subtitle, WIDTH - 2 * MARGIN - 8, SUBTITLE_SIZES, 2)
    cap = 0.7 * size                      # cap height of Poppins ≈ 0.7 em
    line_h = round(size * 1.12)
    block = cap + line_h * (len(lines) - 1)
    first = round(HEIGHT * 0.44 - block / 2 + cap)   # first baseline; block centred at 44 %
    baselines = [first + i * line_h for i in range(len(lines))]
    underline = baselines[-1] + round(size * 0.42)
    sub_h = round(sub_size * 1.3)
    sub_first = underline + 8 + round(sub_size * 1.25)
    widths = [metrics.width(line, size) for line in lines]
    return {"title_size": size, "title_lines": lines, "title_baselines": baselines,
            "title_widths": widths, "underline_y": underline,
            "subtitle_size": sub_size, "subtitle_lines": sub_lines,
            "subtitle_baselines": [sub_first + i * sub_h for i in range(len(sub_lines))],
            "badge_baseline": 132, "cta_baseline": HEIGHT - 92,
            "handle_baseline": HEIGHT - 150}


def _decor(card: Card) -> list[tuple[int, str, float, int, int, float, float]]:
    """(size, colour, peak alpha, x, y, vx, vy) of a card's two background circles."""
    glow = mix(card.accent, card.top, 0.25)
    soft = mix(card.bottom, "#FFFFFF", 0.35)
    return [(240, glow, 0.22, WIDTH - 140, 40, -6.0, 4.0),
            (200, soft, 0.2, -70, HEIGHT - 330, 6.0, -4.0)]


def _background(g: FilterGraph, card: Card, work: Path) -> list[str]:
    """The gradient, the drifting circles and the progress bar; returns the extra inputs."""
    inputs: list[str] = []
    # gradients: every point inside the frame and seed=0, or the filter picks random ones
    gradient(g, CARD_SECONDS, (ff_color(card.top), ff_color(card.bottom)), (WIDTH - 1, HEIGHT - 1))
    # two big soft circles drifting slowly behind the text: depth, and motion
    for i, (size, color, peak, x, y, vx, vy) in enumerate(_decor(card), start=1):
        inputs += raw_input(work, f"{card.stem}_decor{i}.rgba", disc_rgba(size, color, peak),
                            (size, size))
        g.overlay(f"{i}:v", f"{x}{vx:+g}*t", f"{y}{vy:+g}*t")
    # the story progress bar: a track, and a fill sliding in from the left, clipped by it
    bar_w = WIDTH - 28
    g.source("track", f"color=c={ff_color(mix(card.top, '#FFFFFF', 0.35))}:s={bar_w}x4:"
                      f"r={FPS}:d={CARD_SECONDS:g},format=rgb24")
    g.source("fill", f"color=c={ff_color(card.accent)}:s={bar_w}x4:r={FPS}:"
                     f"d={CARD_SECONDS:g},format=rgb24")
    g.parts.append(f"[track][fill]overlay=x='-{bar_w}+{bar_w}*(t+{1 / FPS:g})/{CARD_SECONDS:g}'"
                   ":y=0:eval=frame:format=rgb[bar]")
    g.overlay("bar", "14", "18")
    return inputs


def _texts(g: FilterGraph, card: Card) -> None:
    """Handle, badge, title, underline, subtitle and the bouncing call to action."""
    t, lay = theme(card.engine), card_layout(card)
    g.text(WORKSPACE_HANDLE, 15, ff_color(card.text, 0.92), "14", "48")
    g.text(t.badge, 14, ff_color(card.accent_text), "(w-text_w)/2", str(lay["badge_baseline"]),
           f"box=1:boxcolor={ff_color(card.accent)}:boxborderw=9|16")
    light = contrast(card.text, "#000000") > contrast(card.text, "#FFFFFF")
    shadow = "shadowcolor=0x000000@0.28:shadowx=0:shadowy=3" if light else ""
    for line, base in zip(lay["title_lines"], lay["title_baselines"], strict=True):
        g.text(line, lay["title_size"], ff_color(card.text), "(w-text_w)/2", str(base), shadow)
    g.chain(f"drawbox=x={(WIDTH - 56) // 2}:y={lay['underline_y']}:w=56:h=6:"
            f"color={ff_color(card.accent)}:t=fill")
    for line, base in zip(lay["subtitle_lines"], lay["subtitle_baselines"], strict=True):
        g.text(line, lay["subtitle_size"], ff_color(card.text, 0.9), "(w-text_w)/2", str(base))
    # the call to action bounces (a triangle wave: 5 px, twice a second)
    cta_y = f"{lay['cta_baseline']}-5*abs(mod(t*2,2)-1)"
    g.text(card.cta, 18, ff_color(card.accent_text), "(w-text_w)/2", cta_y,
           f"box=1:boxcolor={ff_color(card.accent)}:boxborderw=12|22")


def make_card(out: Path, card: Card, work: Path) -> None:
    """Write ``card.video`` (H.264 + AAC) and its first-frame thumbnail into ``out``."""
    t = theme(card.engine)
    (work / f"{card.stem}.wav").write_bytes(wav_bytes(music(t, card.transpose), MUSIC_RATE))
    g = FilterGraph(work, card.stem)
    inputs = ["-i", f"{card.stem}.wav", *_background(g, card, work)]
    _texts(g, card)
    run([*inputs, "-filter_complex", g.build(), "-map", f"[{g.label}]", "-map", "0:a",
         "-t", f"{CARD_SECONDS:g}", *X264, "-crf", "30", *AAC, *BITEXACT,
         str(out / card.video)], work)
    thumbnail(out / card.video, work)
