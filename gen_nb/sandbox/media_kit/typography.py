"""Text on the title cards: colours and their contrast, the committed font's metrics, and
fitting a title into balanced lines.

The metrics are read from ``media/fonts/Poppins-Bold.ttf`` itself (its ``cmap``, ``hmtx``,
``head`` and ``hhea`` tables), so the layout never depends on the fonts of a machine.

>>> round(contrast("#FFFFFF", "#000000"), 1)
21.0
>>> mix("#000000", "#FFFFFF", 0.5)
'#808080'
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence

from .cards import FONT_FILE


# --- colours and contrast ----------------------------------------------------------------------
def rgb(color: str) -> tuple[int, int, int]:
    """``#RRGGBB`` as (red, green, blue), 0..255 each."""
    value = int(color.lstrip("#"), 16)
    return value >> 16, (value >> 8) & 255, value & 255


def ff_color(color: str, alpha: float | None = None) -> str:
    """``#RRGGBB`` as an ffmpeg colour (``0xRRGGBB[@alpha]``)."""
    return "0x" + color.lstrip("#").upper() + ("" if alpha is None else f"@{alpha:g}")


def mix(a: str, b: str, amount: float) -> str:
    """``a`` moved ``amount`` (0..1) of the way towards ``b``."""
    mixed = (round(x + (y - x) * amount) for x, y in zip(rgb(a), rgb(b), strict=True))
    return "#" + "".join(f"{v:02X}" for v in mixed)


def contrast(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two ``#RRGGBB`` colours (1 … 21)."""
    def luminance(color: str) -> float:
        channels = []
        for v in rgb(color):
            s = v / 255
            channels.append(s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4)
        return 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2]

    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


# --- font metrics ------------------------------------------------------------------------------
def _cmap_groups(data: bytes, at: int) -> dict[int, int]:
    """A format 12 cmap subtable (segmented coverage) as code point → glyph."""
    mapping: dict[int, int] = {}
    (groups,) = struct.unpack_from(">I", data, at + 12)
    for g in range(groups):
        start, end, glyph = struct.unpack_from(">III", data, at + 16 + 12 * g)
        for code in range(start, end + 1):
            mapping[code] = glyph + code - start
    return mapping


def _cmap_segments(data: bytes, at: int) -> dict[int, int]:
    """A format 4 cmap subtable (segment mapping to delta values) as code point → glyph."""
    mapping: dict[int, int] = {}
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
        if (3, 10) in subtables:
            return _cmap_groups(data, subtables[(3, 10)])
        return _cmap_segments(data, subtables[(3, 1)])

    def has(self, char: str) -> bool:
        """Whether the font has a glyph for ``char``."""
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


# --- text layout -------------------------------------------------------------------------------
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
