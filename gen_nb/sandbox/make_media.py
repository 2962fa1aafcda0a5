"""Regenerate the sandbox's committed sample media, byte-identically.

The files under ``gen_nb/sandbox/media/`` are small, real, browser-playable media (H.264 MP4s
with and without AAC audio, JPEG first-frame thumbnails, an MP3 voiceover, a JPEG and a PNG
background, a ZIP and a tiny safetensors file). They are produced by the ffmpeg binary that the
``imageio-ffmpeg`` package ships (``pip install gen_nb[media]``), with bit-exact flags, one
thread and fixed sources, so every run writes the same bytes. ``SHA256SUMS`` records them.

Run::

    python -m gen_nb.sandbox.make_media            # rewrite gen_nb/sandbox/media/
    python -m gen_nb.sandbox.make_media --check    # regenerate into a temp dir and compare

Errors: ``RuntimeError`` if imageio-ffmpeg is missing or ffmpeg fails.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import struct
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

MEDIA_DIR = Path(__file__).with_name("media")
BITEXACT = ["-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact",
            "-map_metadata", "-1", "-threads", "1"]
X264 = ["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-profile:v",
        "baseline", "-movflags", "+faststart"]
AAC = ["-c:a", "aac", "-b:a", "48k", "-ac", "1"]

# name -> (video lavfi source, audio lavfi source or None, crf)
VIDEOS: dict[str, tuple[str, str | None, int]] = {
    "render_a.mp4": ("testsrc2=size=320x240:rate=25", "sine=frequency=440:sample_rate=44100", 28),
    "render_b.mp4": ("testsrc2=size=320x240:rate=25,hue=h=140:s=1.4",
                     "sine=frequency=523:sample_rate=44100", 28),
    "broll_a.mp4": ("testsrc=size=320x240:rate=25", None, 28),
    "broll_b.mp4": ("mandelbrot=size=320x240:rate=25", None, 30),
}
GRADIENT = ("gradients=size=640x360:c0=0x1d3557:c1=0xe63946:c2=0xf1faee:x0=0:y0=0:"
            "x1=639:y1=359:nb_colors=3:speed=0")


def ffmpeg_exe() -> str:
    """Path of imageio-ffmpeg's ffmpeg binary. Raises RuntimeError if it is not installed."""
    try:
        import imageio_ffmpeg
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise RuntimeError("imageio-ffmpeg is needed: pip install 'gen_nb[media]'") from exc
    return imageio_ffmpeg.get_ffmpeg_exe()


def _run(args: list[str]) -> None:
    cmd = [ffmpeg_exe(), "-v", "error", "-nostdin", "-y", "-filter_threads", "1", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"ffmpeg failed ({proc.returncode}): {proc.stderr.strip()}")


def _video(out: Path, name: str) -> None:
    src, audio, crf = VIDEOS[name]
    args = ["-f", "lavfi", "-i", src]
    if audio:
        args += ["-f", "lavfi", "-i", audio]
    args += ["-t", "2", *X264, "-crf", str(crf)]
    args += AAC if audio else ["-an"]
    _run([*args, *BITEXACT, str(out / name)])
    thumb = out / name.replace(".mp4", ".jpg")
    _run(["-i", str(out / name), "-frames:v", "1", "-q:v", "5", *BITEXACT, str(thumb)])


def _audio_and_images(out: Path) -> None:
    _run(["-f", "lavfi", "-i", "sine=frequency=330:sample_rate=22050:duration=2", "-ac", "1",
          "-c:a", "libmp3lame", "-b:a", "32k", "-id3v2_version", "0", "-write_xing", "0",
          *BITEXACT, str(out / "voiceover.mp3")])
    _run(["-f", "lavfi", "-i", GRADIENT, "-frames:v", "1", "-q:v", "5", *BITEXACT,
          str(out / "background.jpg")])
    _run(["-f", "lavfi", "-i", "rgbtestsrc=size=320x180", "-frames:v", "1", *BITEXACT,
          str(out / "background.png")])


def _zip(out: Path) -> None:
    info = zipfile.ZipInfo("brand-kit/README.txt", date_time=(2026, 3, 1, 12, 0, 0))
    info.external_attr = 0o644 << 16
    png = zipfile.ZipInfo("brand-kit/logo.png", date_time=(2026, 3, 1, 12, 0, 0))
    png.external_attr = 0o644 << 16
    with zipfile.ZipFile(out / "brand-kit.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(info, "GEN sandbox brand kit: colours #1d3557 #e63946 #f1faee\n")
        zf.writestr(png, (out / "background.png").read_bytes())


def _safetensors(out: Path) -> None:
    data = struct.pack("<8f", *[i / 8 for i in range(8)])
    header = {"__metadata__": {"format": "pt"},
              "lora.weight": {"dtype": "F32", "shape": [2, 4], "data_offsets": [0, len(data)]}}
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    (out / "style-lora.safetensors").write_bytes(struct.pack("<Q", len(raw)) + raw + data)


def generate(out: Path) -> dict[str, str]:
    """Write every sample file into ``out``; return {file name: sha256}."""
    out.mkdir(parents=True, exist_ok=True)
    for name in VIDEOS:
        _video(out, name)
    _audio_and_images(out)
    _zip(out)
    _safetensors(out)
    sums = {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(out.iterdir()) if p.name != "SHA256SUMS"}
    lines = "".join(f"{digest}  {name}\n" for name, digest in sums.items())
    (out / "SHA256SUMS").write_text(lines)
    return sums


def main(argv: list[str] | None = None) -> int:
    """Command line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="regenerate into a temp dir and compare with the committed files")
    parser.add_argument("--out", type=Path, default=MEDIA_DIR, help="output folder")
    args = parser.parse_args(argv)
    if not args.check:
        sums = generate(args.out)
        print(f"wrote {len(sums)} files to {args.out}")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        fresh = generate(Path(tmp))
    committed = (MEDIA_DIR / "SHA256SUMS").read_text()
    same = committed == "".join(f"{d}  {n}\n" for n, d in fresh.items())
    print("media are byte-identical" if same else "media DIFFER from a fresh run")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
