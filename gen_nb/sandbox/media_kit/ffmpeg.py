"""Running the pinned ffmpeg bit-exactly, and building its filter graphs.

Every run uses the ffmpeg binary the pinned ``imageio-ffmpeg`` ships, with bit-exact flags, one
thread and its CPU-specific code paths switched off (``-cpuflags 0``, x264 ``asm=0``), so every
run on every machine with that build writes the same bytes. Another build makes equally valid
media with other bytes.

>>> g = FilterGraph(Path("."), "demo")
>>> g.source("v0", "color=c=black:s=8x8")
>>> g.build()
'color=c=black:s=8x8[v0];[v0]format=yuv420p[v1]'
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from .cards import MUSIC_RATE, VOICE_RATE

# The committed SHA256SUMS were made with this imageio-ffmpeg (ffmpeg n9.0.2, Linux x86-64);
# the media extra pins it. Another ffmpeg build encodes other (equally valid) bytes.
IMAGEIO_FFMPEG_VERSION = "0.8.1"

BITEXACT = ["-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact",
            "-map_metadata", "-1", "-threads", "1"]
X264 = ["-c:v", "libx264", "-preset", "veryfast", "-x264-params", "asm=0", "-pix_fmt",
        "yuv420p", "-profile:v", "baseline", "-movflags", "+faststart"]
AAC = ["-c:a", "aac", "-b:a", "24k", "-ac", "1", "-ar", str(MUSIC_RATE)]
MP3 = ["-c:a", "libmp3lame", "-b:a", "24k", "-ac", "1", "-ar", str(VOICE_RATE),
       "-id3v2_version", "0", "-write_xing", "0"]
JPEG_QUALITY = "8"  # mjpeg -q:v (2 best … 31 worst)


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


def run(args: list[str], cwd: Path) -> None:
    """Run ffmpeg in ``cwd`` (filter graphs name their files relative to it: no escaping)."""
    cmd = [ffmpeg_exe(), "-v", "error", "-nostdin", "-y", "-cpuflags", "0",
           "-filter_threads", "1", "-filter_complex_threads", "1", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=cwd)
    if proc.returncode != 0:
        raise RuntimeError(f"ffmpeg failed ({proc.returncode}): {proc.stderr.strip()}")


def thumbnail(video: Path, work: Path) -> None:
    """Write the first frame of ``video`` beside it as a JPEG (same stem)."""
    run(["-i", str(video), "-frames:v", "1", "-q:v", JPEG_QUALITY, *BITEXACT,
         str(video.with_suffix(".jpg"))], work)


class FilterGraph:
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
        """Apply ``filters`` to the main video."""
        new = self._next()
        self.parts.append(f"[{self.label}]{filters}[{new}]")
        self.label = new

    def source(self, label: str, spec: str) -> None:
        """Add a source filter whose output is called ``label``."""
        self.parts.append(f"{spec}[{label}]")

    def overlay(self, other: str, x: str, y: str) -> None:
        """Draw stream ``other`` over the main video at (``x``, ``y``), evaluated per frame."""
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
        """The whole graph, ending in ``final`` (the output pixel format)."""
        self.chain(final)
        return ";".join(self.parts)
