"""The b-roll clips and backgrounds (bokeh lights, a sunrise over hills, rising bubbles), and
the raw RGBA shapes they and the title cards are drawn from.

Shapes are computed in Python (basic arithmetic and an exactly rounded ``sqrt``) and fed to
ffmpeg as ``rawvideo`` inputs that its overlay filter moves over a gradient, frame by frame.

>>> len(disc_rgba(4, "#FFFFFF", 1.0)) == 4 * 4 * 4
True
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from .audio import TWO_PI, sin
from .cards import BROLL_SECONDS, FPS, HEIGHT, WIDTH
from .ffmpeg import BITEXACT, JPEG_QUALITY, X264, FilterGraph, run, thumbnail
from .typography import rgb


def _smooth(edge0: float, edge1: float, x: float) -> float:
    """0 below ``edge0``, 1 above ``edge1``, a smooth step between."""
    if x <= edge0:
        return 0.0
    if x >= edge1:
        return 1.0
    t = (x - edge0) / (edge1 - edge0)
    return t * t * (3.0 - 2.0 * t)


def disc_rgba(size: int, color: str, peak: float, ring: float = 0.0) -> bytes:
    """A soft disc (bokeh light or bubble), ``size``×``size`` RGBA, straight alpha."""
    r, g, b = rgb(color)
    radius, centre = size / 2 - 1, (size - 1) / 2
    out = bytearray()
    for y in range(size):
        for x in range(size):
            dx, dy = x - centre, y - centre
            dist = math.sqrt(dx * dx + dy * dy)   # sqrt is exactly rounded in IEEE 754
            body = 1.0 - _smooth(radius * 0.72, radius, dist)
            rim = ring * _smooth(radius * 0.55, radius * 0.85, dist) * body
            alpha = peak * (body * (1.0 - ring * 0.8) + rim)
            out += bytes((r, g, b, max(0, min(255, round(alpha * 255)))))
    return bytes(out)


def hills_rgba(width: int, height: int, color: str, base: float,
               waves: Sequence[tuple[float, float, float]]) -> bytes:
    """A hill silhouette: solid ``color`` below a ridge of summed sines, anti-aliased."""
    r, g, b = rgb(color)
    ridge = [base + sum(a * sin(TWO_PI * x / period + shift) for a, period, shift in waves)
             for x in range(width)]
    out = bytearray()
    for y in range(height):
        for x in range(width):
            cover = max(0.0, min(1.0, y + 1.0 - ridge[x]))
            out += bytes((r, g, b, round(cover * 255)))
    return bytes(out)


# --- b-roll and backgrounds ----------------------------------------------------------------------
BOKEH = [  # (size, colour, peak alpha, x0, y0, vx, vy) — px and px/s
    (150, "#FFC857", 0.8, 40, 120, 4, -10), (96, "#FF6B9A", 0.85, 250, 80, -3, -14),
    (128, "#5BC0FF", 0.75, 200, 330, 5, -12), (70, "#FFE29A", 0.9, 60, 420, 2, -18),
    (110, "#B388FF", 0.75, 150, 520, -4, -9), (60, "#FF9F43", 0.9, 290, 470, -2, -20),
    (84, "#FF6B9A", 0.8, 10, 250, 6, -15), (140, "#FFC857", 0.7, 230, 560, -5, -8),
    (44, "#FFFFFF", 0.8, 300, 200, -3, -22), (52, "#5BC0FF", 0.85, 110, 30, 3, -16),
]
BUBBLES = [  # (size, x, y0, speed px/s, sway px)
    (34, 40, 500, 90, 6), (22, 90, 300, 120, 4), (52, 150, 620, 70, 8), (18, 210, 150, 140, 3),
    (30, 260, 420, 100, 5), (26, 310, 560, 110, 4), (44, 120, 90, 80, 7), (16, 330, 240, 150, 3),
    (28, 20, 180, 105, 5), (40, 230, 700, 85, 6), (20, 180, 380, 130, 3), (36, 290, 40, 95, 6),
    (24, 60, 650, 125, 4), (48, 270, 260, 75, 8), (18, 130, 470, 145, 3), (30, 200, 560, 100, 5),
]
HILLS = [  # (colour, ridge height, waves, pan px/s)
    ("#7B5A8E", 430.0, ((16.0, 210.0, 0.3), (9.0, 97.0, 1.1)), 6),
    ("#553E78", 476.0, ((20.0, 260.0, 2.0), (8.0, 71.0, 0.4)), 14),
    ("#2E2452", 538.0, ((24.0, 330.0, 4.1), (6.0, 53.0, 2.2)), 26),
]


def raw_input(work: Path, name: str, data: bytes, size: tuple[int, int]) -> list[str]:
    """Write ``data`` (RGBA of ``size``) into the work folder; the ffmpeg input options."""
    (work / name).write_bytes(data)
    return ["-f", "rawvideo", "-pixel_format", "rgba", "-video_size", f"{size[0]}x{size[1]}",
            "-i", name]


def gradient(g: FilterGraph, seconds: float, colors: Sequence[str], end: tuple[int, int]) -> None:
    """The graph's first input ``v0``: a still linear gradient through ``colors`` (ffmpeg's
    0xRRGGBB) from the top-left corner to ``end``, ``seconds`` long."""
    stops = ":".join(f"c{i}={color}" for i, color in enumerate(colors))
    g.source("v0", f"gradients=s={WIDTH}x{HEIGHT}:r={FPS}:d={seconds:g}:{stops}:x0=0:y0=0:"
                   f"x1={end[0]}:y1={end[1]}:n={len(colors)}:speed=0:seed=0,format=rgb24")


def _bokeh_scene(work: Path, seconds: float) -> tuple[list[str], FilterGraph]:
    """Out-of-focus city lights drifting up over a night gradient."""
    inputs: list[str] = []
    g = FilterGraph(work, "bokeh")
    gradient(g, seconds, ("0x0B1030", "0x3A1C5C"), (WIDTH // 2, HEIGHT - 1))
    for i, (size, color, peak, x0, y0, vx, vy) in enumerate(BOKEH):
        inputs += raw_input(work, f"bokeh_{i}.rgba", disc_rgba(size, color, peak, ring=0.25),
                            (size, size))
        g.overlay(f"{i}:v", f"{x0}{vx:+g}*t", f"{y0}{vy:+g}*t")
    return inputs, g


def _sunrise_scene(work: Path, seconds: float) -> tuple[list[str], FilterGraph]:
    """A sun rising behind three layers of hills panning at their own speeds."""
    inputs: list[str] = []
    g = FilterGraph(work, "sunrise")
    gradient(g, seconds, ("0x27346A", "0xC86B85", "0xFFB36B"), (0, HEIGHT - 140))
    inputs += raw_input(work, "sun.rgba", disc_rgba(120, "#FFF1C1", 1.0), (120, 120))
    g.overlay("0:v", "120", "380-22*t")
    wide = WIDTH + 120
    for i, (color, base, waves, pan) in enumerate(HILLS, start=1):
        top = int(base - 40)
        data = hills_rgba(wide, HEIGHT - top, color, base - top, waves)
        inputs += raw_input(work, f"hill_{i}.rgba", data, (wide, HEIGHT - top))
        g.overlay(f"{i}:v", f"-{pan}*t", str(top))
    return inputs, g


def _bubbles_scene(work: Path, seconds: float) -> tuple[list[str], FilterGraph]:
    """Bubbles rising and swaying over a warm amber gradient."""
    inputs: list[str] = []
    g = FilterGraph(work, "bubbles")
    gradient(g, seconds, ("0xF59E0B", "0xB45309"), (WIDTH // 3, HEIGHT - 1))
    for i, (size, x, y0, speed, sway) in enumerate(BUBBLES):
        inputs += raw_input(work, f"bubble_{i}.rgba",
                            disc_rgba(size, "#FFFBEB", 0.8, ring=0.85), (size, size))
        span = HEIGHT + 2 * size
        g.overlay(f"{i}:v", f"{x}+{sway}*abs(mod(t*1.5+{i / 7:.3f},2)-1)",
                  f"mod({y0}-{speed}*t+{span * 4},{span})-{size}")
    return inputs, g


# b-roll file stem → (scene, x264 crf)
SCENES = {"broll_a": (_bokeh_scene, 28), "broll_b": (_sunrise_scene, 30),
          "broll_c": (_bubbles_scene, 34)}


def make_broll(out: Path, name: str, work: Path) -> None:
    """Write b-roll ``name`` (a silent H.264 clip) and its thumbnail into ``out``."""
    scene, crf = SCENES[name]
    inputs, g = scene(work, BROLL_SECONDS)
    run([*inputs, "-filter_complex", g.build(), "-map", f"[{g.label}]",
         "-t", f"{BROLL_SECONDS:g}", *X264, "-crf", str(crf), "-an", *BITEXACT,
         str(out / f"{name}.mp4")], work)
    thumbnail(out / f"{name}.mp4", work)


def make_backgrounds(out: Path, work: Path) -> None:
    """Write the first frames of the bokeh and sunrise scenes: background.jpg and .png."""
    inputs, g = _bokeh_scene(work, 1 / FPS)
    run([*inputs, "-filter_complex", g.build("format=yuvj420p"), "-map", f"[{g.label}]",
         "-frames:v", "1", "-q:v", JPEG_QUALITY, *BITEXACT, str(out / "background.jpg")], work)
    inputs, g = _sunrise_scene(work, 1 / FPS)
    run([*inputs, "-filter_complex", g.build("format=rgb24"), "-map", f"[{g.label}]",
         "-frames:v", "1", "-pred", "mixed", *BITEXACT, str(out / "background.png")], work)
