"""Regenerate the sandbox's committed sample media, byte-identically.

The files under ``gen_nb/sandbox/media/`` look like what GEN makes: vertical 9:16 social-video
renders (H.264 + AAC MP4s, each a title card with its own title, colours, a story-style
progress bar, a bouncing call to action and a short synthesized jingle) with first-frame JPEG
thumbnails, and the layer outputs a render is built from: a speech-like voiceover MP3 per
engine style, vertical b-roll clips without audio (with thumbnails), and a background image
(JPEG and PNG). A brand-kit ZIP and a tiny safetensors file stand in for uploads.
``catalog.json`` describes all of them (the same data as :data:`CARDS`, :data:`ENGINE_THEMES`,
:data:`LAYER_SAMPLES` and :func:`catalog`), and ``SHA256SUMS`` records every generated file.

Everything is made from fixed sources: the ffmpeg binary that the pinned ``imageio-ffmpeg``
ships (``pip install gen_nb[media]``), the committed font ``media/fonts/Poppins-Bold.ttf``
(SIL Open Font License, ``media/fonts/OFL.txt``) passed to drawtext as an explicit
``fontfile`` (the machine's fonts are never consulted), and audio synthesized here in pure
Python with IEEE-754 basic arithmetic only (no libm, no numpy, no unseeded randomness). ffmpeg
runs with bit-exact flags, one thread and its CPU-specific code paths switched off
(``-cpuflags 0``, x264 ``asm=0``), so every run on every machine with that ffmpeg build (the
pinned imageio-ffmpeg's Linux x86-64 binary, as in CI) writes the same bytes. Any other
build makes equally valid media with other bytes: ``--check`` then says which version it ran.

Run::

    python -m gen_nb.sandbox.make_media            # rewrite gen_nb/sandbox/media/
    python -m gen_nb.sandbox.make_media --check    # regenerate into a temp dir and compare

Both print every file with its size. Errors: ``RuntimeError`` if imageio-ffmpeg is missing or
ffmpeg fails.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import math
import shutil
import struct
import subprocess
import sys
import tempfile
import wave
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MEDIA_DIR = Path(__file__).with_name("media")
FONT_FILE = MEDIA_DIR / "fonts" / "Poppins-Bold.ttf"
# The committed SHA256SUMS were made with this imageio-ffmpeg (ffmpeg n9.0.2, Linux x86-64);
# the media extra pins it. Another ffmpeg build encodes other (equally valid) bytes.
IMAGEIO_FFMPEG_VERSION = "0.8.1"
CATALOG_FORMAT = 1

WIDTH, HEIGHT, FPS = 360, 640, 25
CARD_SECONDS = 3.0
BROLL_SECONDS = 3.0
VOICE_SECONDS = 3.0
MUSIC_RATE = 22050
VOICE_RATE = 16000
WORKSPACE_HANDLE = "@brightside.studio"

BITEXACT = ["-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact",
            "-map_metadata", "-1", "-threads", "1"]
X264 = ["-c:v", "libx264", "-preset", "veryfast", "-x264-params", "asm=0", "-pix_fmt",
        "yuv420p", "-profile:v", "baseline", "-movflags", "+faststart"]
AAC = ["-c:a", "aac", "-b:a", "24k", "-ac", "1", "-ar", str(MUSIC_RATE)]
MP3 = ["-c:a", "libmp3lame", "-b:a", "24k", "-ac", "1", "-ar", str(VOICE_RATE),
       "-id3v2_version", "0", "-write_xing", "0"]
JPEG_QUALITY = "8"  # mjpeg -q:v (2 best … 31 worst)


# --- what is made ------------------------------------------------------------------------------
@dataclass(frozen=True)
class EngineTheme:
    """One engine's look and sound: its badge, call to action, music and voice."""

    slug: str                 # matches the sandbox world's engine slug
    title: str
    badge: str                # the pill above every title of this engine
    voiceover: str            # its voiceover layer sample (file name)
    bpm: int
    chords: tuple[tuple[int, ...], ...]   # MIDI notes, two beats each, looped
    pluck: tuple[float, ...]  # harmonic amplitudes of the melody instrument
    kick: float               # kick drum level (0: none)
    voice_f0: float           # the voiceover's pitch (Hz)
    voice_formants: float     # formant scale (1.0 ≈ adult male, 1.17 ≈ adult female)
    voice_text: str           # what the voiceover "says" (its syllables drive the synthesis)


@dataclass(frozen=True)
class Card:
    """One render clip: a 9:16 title card with its own title and colour scheme."""

    stem: str                 # file stem: ``<stem>.mp4`` and ``<stem>.jpg``
    engine: str               # EngineTheme.slug
    title: str
    subtitle: str
    cta: str                  # the bouncing call-to-action pill
    top: str                  # background gradient, top-left colour
    bottom: str               # background gradient, bottom-right colour
    text: str                 # title and subtitle colour
    accent: str               # badge, underline, CTA pill and progress bar colour
    accent_text: str          # text colour on the accent
    transpose: int = 0        # the jingle's key, in semitones from the engine's

    @property
    def video(self) -> str:
        return f"{self.stem}.mp4"

    @property
    def thumbnail(self) -> str:
        return f"{self.stem}.jpg"


@dataclass(frozen=True)
class LayerSample:
    """A layer output sample (voiceover, b-roll, background) or another uploadable file."""

    file: str
    kind: str                 # content resource type: video | audio | image | zip | safe_tensors
    layer: str | None         # voiceover | broll | background | None (not a layer output)
    title: str
    engine: str | None = None
    duration: float | None = None
    width: int | None = None
    height: int | None = None
    thumbnail: str | None = None


ENGINE_THEMES: tuple[EngineTheme, ...] = (
    EngineTheme("launch-teasers", "Launch teasers", "PRODUCT DROP",
                "voiceover_launch-teasers.mp3", 120,
                ((57, 60, 64), (53, 57, 60), (48, 55, 60), (55, 59, 62)),
                (1.0, 0.5, 0.33, 0.25, 0.2), 0.9, 104.0, 1.0,
                "Meet Aurora. Our lightest earbuds yet, this Friday."),
    EngineTheme("recipe-shorts", "Recipe shorts", "60-SECOND RECIPE",
                "voiceover_recipe-shorts.mp3", 104,
                ((60, 64, 67), (53, 57, 60), (55, 59, 62), (60, 64, 67)),
                (1.0, 0.62, 0.3, 0.14), 0.45, 196.0, 1.17,
                "One pan, one pot of pasta, ready in sixty seconds."),
    EngineTheme("weekly-tips", "Weekly tips", "WEEKLY TIPS",
                "voiceover_weekly-tips.mp3", 84,
                ((53, 57, 60, 64), (52, 55, 59, 62), (50, 53, 57, 60), (55, 59, 62, 65)),
                (1.0, 0.22, 0.06), 0.5, 142.0, 1.06,
                "Three tips to stop scrolling, and take your evening back."),
)

CARDS: tuple[Card, ...] = (
    Card("render_a", "weekly-tips", "3 tips to stop scrolling", "Tip 1: turn on grayscale",
         "Follow for tip 2", "#4338CA", "#9333EA", "#FFFFFF", "#FDE047", "#2E1065", 0),
    Card("render_b", "recipe-shorts", "One-pan pasta in 60 s", "Fewer dishes, more flavour",
         "Save this recipe", "#EA580C", "#BE123C", "#FFFFFF", "#FEF3C7", "#7C2D12", 0),
    Card("render_aurora_earbuds", "launch-teasers", "Meet Aurora: our lightest earbuds yet",
         "Launching March 14", "Set a reminder", "#0F172A", "#4C1D95", "#FFFFFF", "#5EEAD4",
         "#042F2E", 0),
    Card("render_drop_friday", "launch-teasers", "Drop 02 lands this Friday",
         "Only 500 pieces", "Turn on alerts", "#111827", "#9D174D", "#FFFFFF", "#F472B6",
         "#500724", 3),
    Card("render_rebuilt_from_scratch", "launch-teasers", "We rebuilt it from scratch",
         "Here's what changed", "Watch part 2", "#18181B", "#3F3F46", "#FAFAFA", "#FACC15",
         "#1C1917", -2),
    Card("render_banana_pancakes", "recipe-shorts", "3-ingredient banana pancakes",
         "No flour, no sugar", "Save this recipe", "#FDE68A", "#FB923C", "#431407", "#7C2D12",
         "#FFF7ED", 2),
    Card("render_crispy_chickpeas", "recipe-shorts", "Crispy chickpeas, no oil",
         "Air fryer, 12 minutes", "Comment 'recipe'", "#BE185D", "#9F1239", "#FFFFFF",
         "#FDE68A", "#831843", 5),
    Card("render_iced_matcha", "recipe-shorts", "Café-style iced matcha at home",
         "2 ingredients, 1 minute", "Share with a friend", "#D9F99D", "#65A30D", "#1A2E05",
         "#1A2E05", "#ECFCCB", -3),
    Card("render_two_minute_rule", "weekly-tips", "The 2-minute rule, explained",
         "Small tasks, done now", "Follow for more", "#0F766E", "#115E59", "#FFFFFF",
         "#FDBA74", "#431407", 2),
    Card("render_plan_your_week", "weekly-tips", "Plan your week in 10 minutes",
         "Your Monday reset", "Save for Sunday", "#1E3A8A", "#0369A1", "#FFFFFF", "#FCD34D",
         "#422006", -4),
)

LAYER_SAMPLES: tuple[LayerSample, ...] = (
    LayerSample("voiceover.mp3", "audio", "voiceover", "Narrator voiceover", None,
                VOICE_SECONDS),
    *(LayerSample(t.voiceover, "audio", "voiceover", f"{t.title} voiceover", t.slug,
                  VOICE_SECONDS) for t in ENGINE_THEMES),
    LayerSample("broll_a.mp4", "video", "broll", "Bokeh city lights", "launch-teasers",
                BROLL_SECONDS, WIDTH, HEIGHT, "broll_a.jpg"),
    LayerSample("broll_b.mp4", "video", "broll", "Sunrise over the hills", "weekly-tips",
                BROLL_SECONDS, WIDTH, HEIGHT, "broll_b.jpg"),
    LayerSample("broll_c.mp4", "video", "broll", "Fizzy bubbles", "recipe-shorts",
                BROLL_SECONDS, WIDTH, HEIGHT, "broll_c.jpg"),
    LayerSample("background.jpg", "image", "background", "Bokeh background", None,
                None, WIDTH, HEIGHT),
    LayerSample("background.png", "image", "background", "Sunrise background", None,
                None, WIDTH, HEIGHT),
)
OTHER_SAMPLES: tuple[LayerSample, ...] = (
    LayerSample("brand-kit.zip", "zip", None, "Brand kit"),
    LayerSample("style-lora.safetensors", "safe_tensors", None, "Style LoRA"),
)
NARRATOR = EngineTheme("narrator", "Narrator", "", "voiceover.mp3", 0, (), (), 0.0, 124.0, 1.03,
                       "Welcome back. Here is the video you asked for.")


def theme(slug: str) -> EngineTheme:
    """The engine theme with this slug (KeyError if there is none)."""
    for item in ENGINE_THEMES:
        if item.slug == slug:
            return item
    raise KeyError(slug)


def catalog() -> dict[str, Any]:
    """The content of ``catalog.json``: every render card and sample file, as plain data."""
    def sample(s: LayerSample) -> dict[str, Any]:
        return {"file": s.file, "kind": s.kind, "layer": s.layer, "title": s.title,
                "engine": s.engine, "duration": s.duration, "width": s.width,
                "height": s.height, "thumbnail": s.thumbnail}

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
        "layers": [sample(s) for s in LAYER_SAMPLES],
        "other": [sample(s) for s in OTHER_SAMPLES],
    }


def media_files() -> list[str]:
    """Every file :func:`generate` writes, SHA256SUMS excluded, sorted."""
    names = {"catalog.json"}
    for card in CARDS:
        names |= {card.video, card.thumbnail}
    for s in (*LAYER_SAMPLES, *OTHER_SAMPLES):
        names.add(s.file)
        if s.thumbnail:
            names.add(s.thumbnail)
    return sorted(names)


# --- colours and contrast ----------------------------------------------------------------------
def _rgb(color: str) -> tuple[int, int, int]:
    value = int(color.lstrip("#"), 16)
    return value >> 16, (value >> 8) & 255, value & 255


def _ff(color: str, alpha: float | None = None) -> str:
    """``#RRGGBB`` as an ffmpeg colour (``0xRRGGBB[@alpha]``)."""
    return "0x" + color.lstrip("#").upper() + ("" if alpha is None else f"@{alpha:g}")


def _mix(a: str, b: str, amount: float) -> str:
    """``a`` moved ``amount`` (0..1) of the way towards ``b``."""
    mixed = (round(x + (y - x) * amount) for x, y in zip(_rgb(a), _rgb(b), strict=True))
    return "#" + "".join(f"{v:02X}" for v in mixed)


def contrast(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two ``#RRGGBB`` colours (1 … 21)."""
    def luminance(color: str) -> float:
        channels = []
        for v in _rgb(color):
            s = v / 255
            channels.append(s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4)
        return 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2]

    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


# --- font metrics and text layout --------------------------------------------------------------
class FontMetrics:
    """Advance widths and vertical metrics read from a TrueType file (cmap 4/12, hmtx)."""

    def __init__(self, data: bytes) -> None:
        tables = {}
        (count,) = struct.unpack_from(">H", data, 4)
        for i in range(count):
            tag, _, offset, length = struct.unpack_from(">4sIII", data, 12 + 16 * i)
            tables[tag.decode("latin-1")] = (offset, length)
        head, hhea = tables["head"][0], tables["hhea"][0]
        (self.units,) = struct.unpack_from(">H", data, head + 18)
        self.ascent, self.descent, _ = struct.unpack_from(">hhh", data, hhea + 4)
        (metrics,) = struct.unpack_from(">H", data, hhea + 34)
        hmtx = tables["hmtx"][0]
        self.advances = [struct.unpack_from(">H", data, hmtx + 4 * i)[0] for i in range(metrics)]
        self.cmap = self._cmap(data, tables["cmap"][0])

    @staticmethod
    def _cmap(data: bytes, base: int) -> dict[int, int]:
        (count,) = struct.unpack_from(">H", data, base + 2)
        subtables = {}
        for i in range(count):
            platform, encoding, offset = struct.unpack_from(">HHI", data, base + 4 + 8 * i)
            subtables[(platform, encoding)] = base + offset
        mapping: dict[int, int] = {}
        if (3, 10) in subtables:
            at = subtables[(3, 10)]
            (groups,) = struct.unpack_from(">I", data, at + 12)
            for g in range(groups):
                start, end, glyph = struct.unpack_from(">III", data, at + 16 + 12 * g)
                for code in range(start, end + 1):
                    mapping[code] = glyph + code - start
            return mapping
        at = subtables[(3, 1)]
        segments = struct.unpack_from(">H", data, at + 6)[0] // 2
        ends = struct.unpack_from(f">{segments}H", data, at + 14)
        starts = struct.unpack_from(f">{segments}H", data, at + 16 + 2 * segments)
        deltas = struct.unpack_from(f">{segments}h", data, at + 16 + 4 * segments)
        ranges_at = at + 16 + 6 * segments
        ranges = struct.unpack_from(f">{segments}H", data, ranges_at)
        for s, (start, end, delta, rng) in enumerate(zip(starts, ends, deltas, ranges,
                                                         strict=True)):
            for code in range(start, end + 1):
                if code == 0xFFFF:
                    continue
                if rng == 0:
                    glyph = (code + delta) & 0xFFFF
                else:
                    where = ranges_at + 2 * s + rng + 2 * (code - start)
                    glyph = struct.unpack_from(">H", data, where)[0]
                    glyph = (glyph + delta) & 0xFFFF if glyph else 0
                if glyph:
                    mapping[code] = glyph
        return mapping

    def has(self, char: str) -> bool:
        return ord(char) in self.cmap

    def width(self, text: str, size: float) -> float:
        """Advance width of ``text`` at ``size`` px (no kerning: a slight overestimate)."""
        last = self.advances[-1]
        total = 0
        for char in text:
            glyph = self.cmap.get(ord(char), 0)
            total += self.advances[glyph] if glyph < len(self.advances) else last
        return total * size / self.units


_METRICS: FontMetrics | None = None


def font_metrics() -> FontMetrics:
    """The metrics of the committed font (read once)."""
    global _METRICS
    if _METRICS is None:
        _METRICS = FontMetrics(FONT_FILE.read_bytes())
    return _METRICS


def _split(words: list[str], lines: int) -> Iterable[list[str]]:
    """Every way to cut ``words`` into ``lines`` non-empty consecutive groups."""
    if lines == 1:
        yield [" ".join(words)]
        return
    for cut in range(1, len(words) - lines + 2):
        for rest in _split(words[cut:], lines - 1):
            yield [" ".join(words[:cut]), *rest]


def fit_text(text: str, max_width: float, sizes: Sequence[int],
             max_lines: int) -> tuple[int, list[str]]:
    """The largest size (from ``sizes``) at which ``text`` fits in ``max_lines`` balanced
    lines no wider than ``max_width``; returns (size, lines). ValueError if none fits."""
    metrics, words = font_metrics(), text.split()
    for size in sorted(sizes, reverse=True):
        for count in range(1, min(max_lines, len(words)) + 1):
            options = list(_split(words, count))
            best = min(options, key=lambda ls: max(metrics.width(line, size) for line in ls))
            if max(metrics.width(line, size) for line in best) <= max_width:
                return size, best
    raise ValueError(f"{text!r} does not fit in {max_lines} lines of {max_width} px")


# --- deterministic audio synthesis (basic IEEE arithmetic only) ------------------------------
PI = 3.141592653589793
TWO_PI = 6.283185307179586
SEMITONE = 1.0594630943592953  # 2 ** (1 / 12)
TABLE_SIZE = 4096


def _sin(x: float) -> float:
    """sin(x) from a Taylor polynomial: no libm, so the same bits on every machine."""
    x -= TWO_PI * round(x / TWO_PI)
    if x > PI / 2:
        x = PI - x
    elif x < -PI / 2:
        x = -PI - x
    x2, term, total = x * x, x, x
    for n in range(1, 10):
        term *= -x2 / ((2 * n) * (2 * n + 1))
        total += term
    return total


def _cos(x: float) -> float:
    return _sin(x + PI / 2)


def _exp(x: float) -> float:
    """exp(x) for moderate x, by squaring a Taylor series (basic arithmetic only)."""
    halvings = 0
    while abs(x) > 0.125:
        x /= 2
        halvings += 1
    term, total = 1.0, 1.0
    for n in range(1, 12):
        term *= x / n
        total += term
    for _ in range(halvings):
        total *= total
    return total


_TABLE: list[float] = []


def _sine_table() -> list[float]:
    if not _TABLE:
        _TABLE.extend(_sin(TWO_PI * i / TABLE_SIZE) for i in range(TABLE_SIZE))
    return _TABLE


def _midi_hz(note: int) -> float:
    freq = 440.0
    for _ in range(abs(note - 69)):
        freq = freq * SEMITONE if note > 69 else freq / SEMITONE
    return freq


class _Noise:
    """A 32-bit LCG: white noise in [-1, 1) that is the same everywhere."""

    def __init__(self, seed: int) -> None:
        self.state = seed & 0xFFFFFFFF

    def __call__(self) -> float:
        self.state = (self.state * 1664525 + 1013904223) & 0xFFFFFFFF
        return self.state / 2147483648.0 - 1.0


def _tone(out: list[float], rate: int, start: float, length: float, freq: float, amp: float,
          harmonics: Sequence[float], attack: float, decay: float) -> None:
    """Add a note: summed harmonics, linear attack, exponential decay, 15 ms release."""
    table, mask = _sine_table(), TABLE_SIZE - 1
    first = int(start * rate)
    count = min(int(length * rate), len(out) - first)
    attack_n, release_n = max(1, int(attack * rate)), int(0.015 * rate)
    keep = 1.0 - decay / rate
    step = freq * TABLE_SIZE / rate
    parts = [(h + 1, a) for h, a in enumerate(harmonics) if freq * (h + 1) < rate * 0.45]
    env, phase = 0.0, 0.0
    for i in range(count):
        if i < attack_n:
            env = (i + 1) / attack_n
        else:
            env *= keep
        gain = env * amp
        if i > count - release_n:
            gain *= (count - i) / release_n
        idx = int(phase)
        value = 0.0
        for mult, a in parts:
            value += a * table[(idx * mult) & mask]
        out[first + i] += gain * value
        phase += step
        if phase >= TABLE_SIZE:
            phase -= TABLE_SIZE


def _kick(out: list[float], rate: int, start: float, amp: float) -> None:
    table, mask = _sine_table(), TABLE_SIZE - 1
    first, phase, env, sweep = int(start * rate), 0.0, 1.0, 1.0
    for i in range(min(int(0.25 * rate), len(out) - first)):
        freq = 45.0 + 110.0 * sweep
        out[first + i] += amp * env * table[int(phase) & mask]
        phase += freq * TABLE_SIZE / rate
        sweep *= 1.0 - 40.0 / rate
        env *= 1.0 - 14.0 / rate


def _hat(out: list[float], rate: int, start: float, amp: float, noise: _Noise) -> None:
    first, env, last = int(start * rate), 1.0, 0.0
    for i in range(min(int(0.06 * rate), len(out) - first)):
        value = noise()
        out[first + i] += amp * env * (value - last)   # a first difference: bright noise
        last = value
        env *= 1.0 - 70.0 / rate


def _finish(samples: list[float], peak: float) -> list[float]:
    """Normalise to ``peak`` and fade the first 10 ms and the last 120 ms."""
    top = max(abs(s) for s in samples) or 1.0
    n, fade_in, fade_out = len(samples), len(samples) // 300, len(samples) // 25
    out = []
    for i, s in enumerate(samples):
        g = peak / top
        if i < fade_in:
            g *= i / fade_in
        if i >= n - fade_out:
            g *= (n - 1 - i) / fade_out
        out.append(s * g)
    return out


def music(t: EngineTheme, transpose: int, seconds: float = CARD_SECONDS) -> list[float]:
    """The jingle of a card: chords, an arpeggiated melody, kick and hats, at MUSIC_RATE."""
    rate, out = MUSIC_RATE, [0.0] * int(seconds * MUSIC_RATE)
    beat, noise = 60.0 / t.bpm, _Noise(t.bpm * 7919 + transpose + 100)
    beats = int(seconds / beat) + 1
    for b in range(0, beats, 2):
        chord = [n + transpose for n in t.chords[(b // 2) % len(t.chords)]]
        for note in chord:   # the pad: soft, slow attack, two harmonics
            _tone(out, rate, b * beat, 2 * beat, _midi_hz(note), 0.07, (1.0, 0.2), 0.12, 0.6)
        _tone(out, rate, b * beat, 2 * beat, _midi_hz(chord[0] - 12), 0.16, (1.0, 0.35),
              0.01, 1.5)   # bass
        pattern = (0, 1, 2, len(chord) - 1, 2, 1, 0, 2)
        for k, pick in enumerate(pattern):   # eighth-note arpeggio an octave up
            note = chord[pick % len(chord)] + 12
            _tone(out, rate, b * beat + k * beat / 2, beat / 2, _midi_hz(note), 0.13,
                  t.pluck, 0.004, 7.0)
    for b in range(beats):
        if t.kick and (b % 2 == 0 or t.bpm >= 110):
            _kick(out, rate, b * beat, 0.55 * t.kick)
        _hat(out, rate, b * beat + beat / 2, 0.05, noise)
    return _finish(out, 0.7)


VOWELS = {"a": (730.0, 1090.0, 2440.0), "e": (530.0, 1840.0, 2480.0),
          "i": (300.0, 2200.0, 2950.0), "o": (570.0, 840.0, 2410.0),
          "u": (330.0, 1000.0, 2250.0), "y": (300.0, 2100.0, 2900.0)}
FRICATIVES = {"s": 5200.0, "z": 5000.0, "c": 4800.0, "x": 4500.0, "f": 3800.0, "v": 3500.0,
              "h": 1800.0, "j": 2600.0}
PLOSIVES = {"t": 3600.0, "d": 3000.0, "k": 2200.0, "g": 2000.0, "p": 1200.0, "b": 1000.0,
            "q": 2200.0}
NASALS = {"m": (280.0, 1100.0, 2300.0), "n": (280.0, 1700.0, 2600.0)}
GLIDES = {"l": (360.0, 1300.0, 2700.0), "r": (420.0, 1300.0, 1700.0),
          "w": (300.0, 700.0, 2200.0)}


def _phonemes(text: str) -> list[tuple[str, str, float]]:
    """Letters → (class, letter, seconds): a crude reading that keeps the rhythm of speech."""
    out: list[tuple[str, str, float]] = []
    for char in text.lower():
        if char in VOWELS:
            out.append(("vowel", char, 0.095))
        elif char in FRICATIVES:
            out.append(("fric", char, 0.075))
        elif char in PLOSIVES:
            out.append(("stop", char, 0.06))
        elif char in NASALS:
            out.append(("nasal", char, 0.06))
        elif char in GLIDES:
            out.append(("glide", char, 0.05))
        elif char in ".!?":
            out.append(("pause", char, 0.3))
        elif char in ",;:":
            out.append(("pause", char, 0.18))
        elif char == " ":
            out.append(("pause", char, 0.06))
    return out


def voice(t: EngineTheme, seconds: float = VOICE_SECONDS) -> list[float]:
    """Speech-like audio for ``t.voice_text``: a glottal pulse train through three formant
    resonators (cascade, Klatt-style), noise for fricatives and bursts, a falling pitch
    contour with a lift on every word's first vowel. VOICE_RATE samples, ``seconds`` long."""
    rate, total = VOICE_RATE, int(seconds * VOICE_RATE)
    plan = _phonemes(t.voice_text)
    while plan and plan[-1][0] == "pause":
        plan.pop()
    speech = seconds - 0.25
    scale = speech / sum(d for _, _, d in plan)
    # per-sample targets, phoneme by phoneme
    segments: list[tuple[int, int, str, str, bool]] = []
    at, new_word = int(0.1 * rate), True
    for cls, char, dur in plan:
        n = max(1, int(dur * scale * rate))
        segments.append((at, n, cls, char, new_word and cls == "vowel"))
        if cls == "vowel":
            new_word = False
        if cls == "pause":
            new_word = True
        at += n
    noise = _Noise(int(t.voice_f0 * 1000))
    out, hiss = [0.0] * total, [0.0] * total
    formants = list(VOWELS["e"])
    f_scale = t.voice_formants
    state = [[0.0, 0.0] for _ in range(4)]
    voiced_amp = noise_amp = 0.0
    phase, block = 0.0, 32
    coeffs: list[tuple[float, float, float]] = []
    noise_freq = 4000.0
    seg_index = 0
    lift = 0.0
    for start in range(0, total, block):
        while seg_index + 1 < len(segments) and segments[seg_index + 1][0] <= start:
            seg_index += 1
        seg = segments[seg_index] if segments and start >= segments[0][0] else None
        target_v, target_n, target_f = 0.0, 0.0, formants
        if seg and start < seg[0] + seg[1]:
            _, length, cls, char, stressed = seg
            pos = (start - seg[0]) / length
            if cls == "vowel":
                target_v, target_f = 1.0, list(VOWELS[char])
                if stressed:
                    lift = 0.22 * (1.0 - pos)
            elif cls == "fric":
                target_n, noise_freq = 0.5, FRICATIVES[char]
                target_v = 0.25 if char in "zvj" else 0.0
            elif cls == "stop":
                target_n = 0.7 if pos > 0.55 else 0.0
                noise_freq = PLOSIVES[char]
            elif cls == "nasal":
                target_v, target_f = 0.45, list(NASALS[char])
            elif cls == "glide":
                target_v, target_f = 0.7, list(GLIDES[char])
        voiced_amp += (target_v - voiced_amp) * 0.35
        noise_amp += (target_n - noise_amp) * 0.5
        formants = [f + (g - f) * 0.3 for f, g in zip(formants, target_f, strict=True)]
        lift *= 0.97
        progress = start / total
        f0 = t.voice_f0 * (1.08 - 0.2 * progress + lift)
        coeffs = []
        for i, (freq, bandwidth) in enumerate(zip([*formants, noise_freq],
                                                  (80.0, 100.0, 140.0, 1400.0), strict=True)):
            freq = freq * f_scale if i < 3 else freq
            r = _exp(-PI * bandwidth / rate)
            a1, a2 = 2 * r * _cos(TWO_PI * freq / rate), -r * r
            coeffs.append((1.0 - a1 - a2, a1, a2))
        step = f0 / rate
        for i in range(start, min(start + block, total)):
            # glottal flow: a smooth rise for 60 % of the period, a quick close, then its slope
            phase += step
            if phase >= 1.0:
                phase -= 1.0
            if phase < 0.6:
                p = phase / 0.6
                flow = p * p * (3.0 - 2.0 * p)
            elif phase < 0.75:
                p = (phase - 0.6) / 0.15
                flow = 1.0 - p * p
            else:
                flow = 0.0
            x = voiced_amp * flow
            for k in range(3):
                g, a1, a2 = coeffs[k]
                y = g * x + a1 * state[k][0] + a2 * state[k][1]
                state[k][1], state[k][0] = state[k][0], y
                x = y
            g, a1, a2 = coeffs[3]
            burst = g * noise() * noise_amp
            y = burst + a1 * state[3][0] + a2 * state[3][1]
            state[3][1], state[3][0] = state[3][0], y
            out[i] = x
            hiss[i] = y
    # lip radiation (a first difference brightens the flow into a voice), then a compressor
    # (instant attack, 120 ms release, gain ≤ 8) so every syllable is about as loud; the
    # noise of fricatives and bursts goes on top, about 12 dB below the vowels
    radiated, last, env = [], 0.0, 0.0
    release = 1.0 - 1.0 / (0.12 * rate)
    top = max(abs(h) for h in hiss) or 1.0
    for s, h in zip(out, hiss, strict=True):
        value = s - last
        last = s
        env = max(abs(value), env * release)
        value = value * min(8.0, 0.5 / env) if env > 0 else 0.0
        radiated.append(value + 0.13 * h / top)
    return _finish(radiated, 0.85)


def wav_bytes(samples: Sequence[float], rate: int) -> bytes:
    """Mono 16-bit PCM WAV of samples in [-1, 1]."""
    pcm = struct.pack(f"<{len(samples)}h",
                      *(max(-32767, min(32767, round(s * 32767))) for s in samples))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm)
    return buffer.getvalue()


# --- images drawn in Python (raw RGBA, fed to ffmpeg as rawvideo) --------------------------------
def _smooth(edge0: float, edge1: float, x: float) -> float:
    if x <= edge0:
        return 0.0
    if x >= edge1:
        return 1.0
    t = (x - edge0) / (edge1 - edge0)
    return t * t * (3.0 - 2.0 * t)


def disc_rgba(size: int, color: str, peak: float, ring: float = 0.0) -> bytes:
    """A soft disc (bokeh light or bubble), ``size``×``size`` RGBA, straight alpha."""
    r, g, b = _rgb(color)
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
    r, g, b = _rgb(color)
    ridge = [base + sum(a * _sin(TWO_PI * x / period + shift) for a, period, shift in waves)
             for x in range(width)]
    out = bytearray()
    for y in range(height):
        for x in range(width):
            cover = max(0.0, min(1.0, y + 1.0 - ridge[x]))
            out += bytes((r, g, b, round(cover * 255)))
    return bytes(out)


# --- running ffmpeg ------------------------------------------------------------------------------
def ffmpeg_exe() -> str:
    """Path of imageio-ffmpeg's ffmpeg binary. Raises RuntimeError if it is not installed."""
    try:
        import imageio_ffmpeg
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise RuntimeError("imageio-ffmpeg is needed: pip install 'gen_nb[media]'") from exc
    return imageio_ffmpeg.get_ffmpeg_exe()


def imageio_ffmpeg_version() -> str | None:
    """The installed imageio-ffmpeg's version, or None."""
    try:
        import imageio_ffmpeg
    except ImportError:
        return None
    return str(getattr(imageio_ffmpeg, "__version__", "unknown"))


def _run(args: list[str], cwd: Path) -> None:
    """Run ffmpeg in ``cwd`` (filter graphs name their files relative to it: no escaping)."""
    cmd = [ffmpeg_exe(), "-v", "error", "-nostdin", "-y", "-cpuflags", "0",
           "-filter_threads", "1", "-filter_complex_threads", "1", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=cwd)
    if proc.returncode != 0:
        raise RuntimeError(f"ffmpeg failed ({proc.returncode}): {proc.stderr.strip()}")


def _thumbnail(video: Path, work: Path) -> None:
    _run(["-i", str(video), "-frames:v", "1", "-q:v", JPEG_QUALITY, *BITEXACT,
          str(video.with_suffix(".jpg"))], work)


class _Graph:
    """Builds a filter_complex chain over one main video label."""

    def __init__(self, work: Path, prefix: str) -> None:
        self.work, self.prefix, self.texts = work, prefix, 0
        self.parts: list[str] = []
        self.label = "v0"
        self.count = 0

    def _next(self) -> str:
        self.count += 1
        return f"v{self.count}"

    def chain(self, filters: str) -> None:
        new = self._next()
        self.parts.append(f"[{self.label}]{filters}[{new}]")
        self.label = new

    def source(self, label: str, spec: str) -> None:
        self.parts.append(f"{spec}[{label}]")

    def overlay(self, other: str, x: str, y: str) -> None:
        new = self._next()
        self.parts.append(f"[{self.label}][{other}]overlay=x='{x}':y='{y}':eval=frame:"
                          f"format=rgb[{new}]")
        self.label = new

    def text(self, content: str, size: float, color: str, x: str, y: str,
             extra: str = "") -> None:
        """drawtext from a text file in the work folder, with the committed font."""
        self.texts += 1
        name = f"{self.prefix}_{self.texts}.txt"
        (self.work / name).write_text(content, encoding="utf-8")
        self.chain(f"drawtext=fontfile=font.ttf:textfile={name}:expansion=none:"
                   f"fontsize={size:g}:fontcolor={color}:x='{x}':y='{y}':y_align=baseline"
                   + (f":{extra}" if extra else ""))

    def build(self, final: str = "format=yuv420p") -> str:
        self.chain(final)
        return ";".join(self.parts)


# --- render cards ---------------------------------------------------------------------------------
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
    glow = _mix(card.accent, card.top, 0.25)
    soft = _mix(card.bottom, "#FFFFFF", 0.35)
    return [(240, glow, 0.22, WIDTH - 140, 40, -6.0, 4.0),
            (200, soft, 0.2, -70, HEIGHT - 330, 6.0, -4.0)]


def _card(out: Path, card: Card, work: Path) -> None:
    t, lay = theme(card.engine), card_layout(card)
    (work / f"{card.stem}.wav").write_bytes(wav_bytes(music(t, card.transpose), MUSIC_RATE))
    inputs = ["-i", f"{card.stem}.wav"]
    g = _Graph(work, card.stem)
    # gradients: every point inside the frame and seed=0, or the filter picks random ones
    g.source("v0", f"gradients=s={WIDTH}x{HEIGHT}:r={FPS}:d={CARD_SECONDS:g}:c0={_ff(card.top)}:"
                   f"c1={_ff(card.bottom)}:x0=0:y0=0:x1={WIDTH - 1}:y1={HEIGHT - 1}:n=2:speed=0:"
                   "seed=0,format=rgb24")
    # two big soft circles drifting slowly behind the text: depth, and motion
    for i, (size, color, peak, x, y, vx, vy) in enumerate(_decor(card), start=1):
        inputs += _raw_input(work, f"{card.stem}_decor{i}.rgba", disc_rgba(size, color, peak),
                             (size, size))
        g.overlay(f"{i}:v", f"{x}{vx:+g}*t", f"{y}{vy:+g}*t")
    # the story progress bar: a track, and a fill sliding in from the left, clipped by it
    bar_w = WIDTH - 28
    g.source("track", f"color=c={_ff(_mix(card.top, '#FFFFFF', 0.35))}:s={bar_w}x4:r={FPS}:"
                      f"d={CARD_SECONDS:g},format=rgb24")
    g.source("fill", f"color=c={_ff(card.accent)}:s={bar_w}x4:r={FPS}:d={CARD_SECONDS:g},"
                     "format=rgb24")
    g.parts.append(f"[track][fill]overlay=x='-{bar_w}+{bar_w}*(t+{1 / FPS:g})/{CARD_SECONDS:g}'"
                   ":y=0:eval=frame:format=rgb[bar]")
    g.overlay("bar", "14", "18")
    # handle (top left, like a story) and the engine's badge
    g.text(WORKSPACE_HANDLE, 15, _ff(card.text, 0.92), "14", "48")
    g.text(t.badge, 14, _ff(card.accent_text), "(w-text_w)/2", str(lay["badge_baseline"]),
           f"box=1:boxcolor={_ff(card.accent)}:boxborderw=9|16")
    light = contrast(card.text, "#000000") > contrast(card.text, "#FFFFFF")
    shadow = "shadowcolor=0x000000@0.28:shadowx=0:shadowy=3" if light else ""
    for line, base in zip(lay["title_lines"], lay["title_baselines"], strict=True):
        g.text(line, lay["title_size"], _ff(card.text), "(w-text_w)/2", str(base), shadow)
    g.chain(f"drawbox=x={(WIDTH - 56) // 2}:y={lay['underline_y']}:w=56:h=6:"
            f"color={_ff(card.accent)}:t=fill")
    for line, base in zip(lay["subtitle_lines"], lay["subtitle_baselines"], strict=True):
        g.text(line, lay["subtitle_size"], _ff(card.text, 0.9), "(w-text_w)/2", str(base))
    # the call to action bounces (a triangle wave: 5 px, twice a second)
    cta_y = f"{lay['cta_baseline']}-5*abs(mod(t*2,2)-1)"
    g.text(card.cta, 18, _ff(card.accent_text), "(w-text_w)/2", cta_y,
           f"box=1:boxcolor={_ff(card.accent)}:boxborderw=12|22")
    graph = g.build()
    _run([*inputs, "-filter_complex", graph, "-map", f"[{g.label}]", "-map", "0:a",
          "-t", f"{CARD_SECONDS:g}", *X264, "-crf", "30", *AAC, *BITEXACT,
          str(out / card.video)], work)
    _thumbnail(out / card.video, work)


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


def _raw_input(work: Path, name: str, data: bytes, size: tuple[int, int]) -> list[str]:
    (work / name).write_bytes(data)
    return ["-f", "rawvideo", "-pixel_format", "rgba", "-video_size", f"{size[0]}x{size[1]}",
            "-i", name]


def _bokeh_scene(work: Path, seconds: float) -> tuple[list[str], _Graph]:
    inputs: list[str] = []
    g = _Graph(work, "bokeh")
    g.source("v0", f"gradients=s={WIDTH}x{HEIGHT}:r={FPS}:d={seconds:g}:c0=0x0B1030:"
                   f"c1=0x3A1C5C:x0=0:y0=0:x1={WIDTH // 2}:y1={HEIGHT - 1}:n=2:speed=0:seed=0,"
                   "format=rgb24")
    for i, (size, color, peak, x0, y0, vx, vy) in enumerate(BOKEH):
        inputs += _raw_input(work, f"bokeh_{i}.rgba", disc_rgba(size, color, peak, ring=0.25),
                             (size, size))
        g.overlay(f"{i}:v", f"{x0}{vx:+g}*t", f"{y0}{vy:+g}*t")
    return inputs, g


def _sunrise_scene(work: Path, seconds: float) -> tuple[list[str], _Graph]:
    inputs: list[str] = []
    g = _Graph(work, "sunrise")
    g.source("v0", f"gradients=s={WIDTH}x{HEIGHT}:r={FPS}:d={seconds:g}:c0=0x27346A:"
                   f"c1=0xC86B85:c2=0xFFB36B:x0=0:y0=0:x1=0:y1={HEIGHT - 140}:n=3:speed=0:seed=0,"
                   "format=rgb24")
    inputs += _raw_input(work, "sun.rgba", disc_rgba(120, "#FFF1C1", 1.0), (120, 120))
    g.overlay("0:v", "120", "380-22*t")
    wide = WIDTH + 120
    for i, (color, base, waves, pan) in enumerate(HILLS, start=1):
        top = int(base - 40)
        data = hills_rgba(wide, HEIGHT - top, color, base - top, waves)
        inputs += _raw_input(work, f"hill_{i}.rgba", data, (wide, HEIGHT - top))
        g.overlay(f"{i}:v", f"-{pan}*t", str(top))
    return inputs, g


def _bubbles_scene(work: Path, seconds: float) -> tuple[list[str], _Graph]:
    inputs: list[str] = []
    g = _Graph(work, "bubbles")
    g.source("v0", f"gradients=s={WIDTH}x{HEIGHT}:r={FPS}:d={seconds:g}:c0=0xF59E0B:"
                   f"c1=0xB45309:x0=0:y0=0:x1={WIDTH // 3}:y1={HEIGHT - 1}:n=2:speed=0:seed=0,"
                   "format=rgb24")
    for i, (size, x, y0, speed, sway) in enumerate(BUBBLES):
        inputs += _raw_input(work, f"bubble_{i}.rgba",
                             disc_rgba(size, "#FFFBEB", 0.8, ring=0.85), (size, size))
        span = HEIGHT + 2 * size
        g.overlay(f"{i}:v", f"{x}+{sway}*abs(mod(t*1.5+{i / 7:.3f},2)-1)",
                  f"mod({y0}-{speed}*t+{span * 4},{span})-{size}")
    return inputs, g


# b-roll file stem → (scene, x264 crf)
SCENES = {"broll_a": (_bokeh_scene, 28), "broll_b": (_sunrise_scene, 30),
          "broll_c": (_bubbles_scene, 34)}


def _broll(out: Path, name: str, work: Path) -> None:
    scene, crf = SCENES[name]
    inputs, g = scene(work, BROLL_SECONDS)
    _run([*inputs, "-filter_complex", g.build(), "-map", f"[{g.label}]",
          "-t", f"{BROLL_SECONDS:g}", *X264, "-crf", str(crf), "-an", *BITEXACT,
          str(out / f"{name}.mp4")], work)
    _thumbnail(out / f"{name}.mp4", work)


def _backgrounds(out: Path, work: Path) -> None:
    inputs, g = _bokeh_scene(work, 1 / FPS)
    _run([*inputs, "-filter_complex", g.build("format=yuvj420p"), "-map", f"[{g.label}]",
          "-frames:v", "1", "-q:v", JPEG_QUALITY, *BITEXACT, str(out / "background.jpg")], work)
    inputs, g = _sunrise_scene(work, 1 / FPS)
    _run([*inputs, "-filter_complex", g.build("format=rgb24"), "-map", f"[{g.label}]",
          "-frames:v", "1", "-pred", "mixed", *BITEXACT, str(out / "background.png")], work)


def _voiceovers(out: Path, work: Path) -> None:
    for t in (NARRATOR, *ENGINE_THEMES):
        wav = f"{Path(t.voiceover).stem}.wav"
        (work / wav).write_bytes(wav_bytes(voice(t), VOICE_RATE))
        _run(["-i", wav, "-t", f"{VOICE_SECONDS:g}", *MP3, *BITEXACT, str(out / t.voiceover)],
             work)


# --- the non-media samples (unchanged since the first sandbox) ------------------------------------
def _zip(out: Path, work: Path) -> None:
    # the kit's logo is the original 320×180 RGB test pattern, so the ZIP keeps its bytes
    _run(["-f", "lavfi", "-i", "rgbtestsrc=size=320x180", "-frames:v", "1", *BITEXACT,
          "logo.png"], work)
    info = zipfile.ZipInfo("brand-kit/README.txt", date_time=(2026, 3, 1, 12, 0, 0))
    info.external_attr = 0o644 << 16
    png = zipfile.ZipInfo("brand-kit/logo.png", date_time=(2026, 3, 1, 12, 0, 0))
    png.external_attr = 0o644 << 16
    with zipfile.ZipFile(out / "brand-kit.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(info, "GEN sandbox brand kit: colours #1d3557 #e63946 #f1faee\n")
        zf.writestr(png, (work / "logo.png").read_bytes())


def _safetensors(out: Path) -> None:
    data = struct.pack("<8f", *[i / 8 for i in range(8)])
    header = {"__metadata__": {"format": "pt"},
              "lora.weight": {"dtype": "F32", "shape": [2, 4], "data_offsets": [0, len(data)]}}
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    (out / "style-lora.safetensors").write_bytes(struct.pack("<Q", len(raw)) + raw + data)


def catalog_bytes() -> bytes:
    return (json.dumps(catalog(), indent=2, ensure_ascii=False) + "\n").encode("utf-8")


# --- generate, check, report --------------------------------------------------------------------
def generate(out: Path) -> dict[str, str]:
    """Write every sample file into ``out``; return {file name: sha256}, sorted by name.

    Files that an earlier run listed in ``out/SHA256SUMS`` but this run no longer makes are
    removed; nothing else in ``out`` (such as ``fonts/``) is touched.
    """
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="gen_nb-media-") as tmp:
        work = Path(tmp)
        shutil.copyfile(FONT_FILE, work / "font.ttf")
        for card in CARDS:
            _card(out, card, work)
        for name in SCENES:
            _broll(out, name, work)
        _backgrounds(out, work)
        _voiceovers(out, work)
        _zip(out, work)
    _safetensors(out)
    (out / "catalog.json").write_bytes(catalog_bytes())
    names = media_files()
    old = out / "SHA256SUMS"
    if old.is_file():
        for line in old.read_text().splitlines():
            stale = line.partition("  ")[2]
            if stale and stale not in names and "/" not in stale and (out / stale).is_file():
                (out / stale).unlink()
    sums = {name: hashlib.sha256((out / name).read_bytes()).hexdigest() for name in names}
    old.write_text("".join(f"{digest}  {name}\n" for name, digest in sums.items()))
    return sums


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


def report(folder: Path, names: Iterable[str]) -> str:
    """Every file with its size and what it is, and the total."""
    lines, total = [], 0
    for name in names:
        size = (folder / name).stat().st_size
        total += size
        lines.append(f"  {name:<36}{size:>8,} B  {describe(name)}")
    lines.append(f"  {'total':<36}{total:>8,} B")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="regenerate into a temp dir and compare with the committed files")
    parser.add_argument("--out", type=Path, default=MEDIA_DIR, help="output folder")
    args = parser.parse_args(argv)
    if not args.check:
        sums = generate(args.out)
        print(report(args.out, sums))
        print(f"wrote {len(sums)} files and SHA256SUMS to {args.out}")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        fresh = generate(Path(tmp))
        print(report(Path(tmp), fresh))
    committed = {}
    for line in (MEDIA_DIR / "SHA256SUMS").read_text().splitlines():
        digest, _, name = line.partition("  ")
        committed[name] = digest
    differ = sorted(n for n in set(fresh) | set(committed) if fresh.get(n) != committed.get(n))
    if not differ:
        print("media are byte-identical")
        return 0
    print("media DIFFER from a fresh run: " + ", ".join(differ))
    version = imageio_ffmpeg_version()
    if version != IMAGEIO_FFMPEG_VERSION:
        print(f"(the committed media were made with imageio-ffmpeg {IMAGEIO_FFMPEG_VERSION}; "
              f"this is {version})")
    return 1


if __name__ == "__main__":
    sys.exit(main())
