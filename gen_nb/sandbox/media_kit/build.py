"""Writing the whole media folder, checking it against the committed checksums, and the
command line (``python -m gen_nb.sandbox.make_media [--check] [--out DIR]``).

:func:`generate` makes every file of :func:`~.catalog.media_files` into a folder and writes
``SHA256SUMS``; :func:`main` either rewrites ``gen_nb/sandbox/media/`` or (``--check``)
regenerates into a temp dir and says whether the bytes match the committed ones.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import struct
import tempfile
import zipfile
from collections.abc import Iterable
from pathlib import Path

from .audio import wav_bytes
from .cards import CARDS, ENGINE_THEMES, FONT_FILE, MEDIA_DIR, NARRATOR, VOICE_RATE, VOICE_SECONDS
from .catalog import catalog_bytes, describe, media_files
from .ffmpeg import BITEXACT, IMAGEIO_FFMPEG_VERSION, MP3, imageio_ffmpeg_version, run
from .scenes import SCENES, make_backgrounds, make_broll
from .speech import voice
from .title_cards import make_card

DESCRIPTION = "Regenerate the sandbox's committed sample media, byte-identically."


def _voiceovers(out: Path, work: Path) -> None:
    for t in (NARRATOR, *ENGINE_THEMES):
        wav = f"{Path(t.voiceover).stem}.wav"
        (work / wav).write_bytes(wav_bytes(voice(t), VOICE_RATE))
        run(["-i", wav, "-t", f"{VOICE_SECONDS:g}", *MP3, *BITEXACT, str(out / t.voiceover)],
            work)


# --- the non-media samples (unchanged since the first sandbox) ------------------------------------
def _zip(out: Path, work: Path) -> None:
    # the kit's logo is the original 320×180 RGB test pattern, so the ZIP keeps its bytes
    run(["-f", "lavfi", "-i", "rgbtestsrc=size=320x180", "-frames:v", "1", *BITEXACT,
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


# --- generate, check, report --------------------------------------------------------------------
def _make_everything(out: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="gen_nb-media-") as tmp:
        work = Path(tmp)
        shutil.copyfile(FONT_FILE, work / "font.ttf")
        for card in CARDS:
            make_card(out, card, work)
        for name in SCENES:
            make_broll(out, name, work)
        make_backgrounds(out, work)
        _voiceovers(out, work)
        _zip(out, work)
    _safetensors(out)
    (out / "catalog.json").write_bytes(catalog_bytes())


def _remove_stale(out: Path, names: list[str]) -> None:
    """Delete files an earlier SHA256SUMS listed that this run no longer makes."""
    old = out / "SHA256SUMS"
    if not old.is_file():
        return
    for line in old.read_text().splitlines():
        stale = line.partition("  ")[2]
        if stale and stale not in names and "/" not in stale and (out / stale).is_file():
            (out / stale).unlink()


def generate(out: Path) -> dict[str, str]:
    """Write every sample file into ``out``; return {file name: sha256}, sorted by name.

    Files that an earlier run listed in ``out/SHA256SUMS`` but this run no longer makes are
    removed; nothing else in ``out`` (such as ``fonts/``) is touched. RuntimeError if
    imageio-ffmpeg is missing or ffmpeg fails.
    """
    out.mkdir(parents=True, exist_ok=True)
    _make_everything(out)
    names = media_files()
    _remove_stale(out, names)
    sums = {name: hashlib.sha256((out / name).read_bytes()).hexdigest() for name in names}
    (out / "SHA256SUMS").write_text("".join(f"{digest}  {name}\n"
                                            for name, digest in sums.items()))
    return sums


def report(folder: Path, names: Iterable[str]) -> str:
    """Every file with its size and what it is, and the total."""
    lines, total = [], 0
    for name in names:
        size = (folder / name).stat().st_size
        total += size
        lines.append(f"  {name:<36}{size:>8,} B  {describe(name)}")
    lines.append(f"  {'total':<36}{total:>8,} B")
    return "\n".join(lines)


def committed_sums() -> dict[str, str]:
    """{file name: sha256} from the committed ``media/SHA256SUMS``."""
    sums = {}
    for line in (MEDIA_DIR / "SHA256SUMS").read_text().splitlines():
        digest, _, name = line.partition("  ")
        sums[name] = digest
    return sums


def check() -> int:
    """Regenerate into a temp dir and compare with the committed files; the exit status."""
    with tempfile.TemporaryDirectory() as tmp:
        fresh = generate(Path(tmp))
        print(report(Path(tmp), fresh))
    committed = committed_sums()
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


def main(argv: list[str] | None = None) -> int:
    """Command line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(description=DESCRIPTION)
    parser.add_argument("--check", action="store_true",
                        help="regenerate into a temp dir and compare with the committed files")
    parser.add_argument("--out", type=Path, default=MEDIA_DIR, help="output folder")
    args = parser.parse_args(argv)
    if args.check:
        return check()
    sums = generate(args.out)
    print(report(args.out, sums))
    print(f"wrote {len(sums)} files and SHA256SUMS to {args.out}")
    return 0
