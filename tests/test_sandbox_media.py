"""The committed sandbox media look like GEN's output and are what make_media makes.

Checksums, the catalog (file and Python constant agree), 9:16 dimensions read from the MP4
``tkhd``/sample entry and the JPEG SOF / PNG IHDR headers, codecs, durations, the size budget,
text that fits and contrasts, and a byte-identical regeneration. Header parsing is done here
with ``struct``; the tests that need ffmpeg skip without imageio-ffmpeg, except under CI
(``CI`` set), where a missing ffmpeg fails.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import platform
import re
import struct
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import pytest

from gen_nb.sandbox import make_media
from gen_nb.sandbox.media_kit import audio, cards, ffmpeg, speech, title_cards, typography

MEDIA = Path(make_media.MEDIA_DIR)
ROOT = Path(__file__).resolve().parents[1]
LISTED_BUDGET = 600 * 1024          # what tests/test_sandbox.py allows for the listed files
FOLDER_BUDGET = 1_500_000           # the whole media folder, font included
CARDS = make_media.CARDS
BROLLS = [s for s in make_media.LAYER_SAMPLES if s.layer == "broll"]


def _needs_ffmpeg() -> None:
    if not os.environ.get("CI"):  # CI installs the media extra: there a missing ffmpeg fails
        pytest.importorskip("imageio_ffmpeg")


def _sums() -> dict[str, str]:
    sums = {}
    for line in (MEDIA / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split("  ")
        sums[name] = digest
    return sums


# --- tiny header parsers -----------------------------------------------------------------------
def _boxes(data: bytes, start: int = 0, end: int | None = None) -> Iterator[tuple[str, int, int]]:
    """(type, payload start, box end) of the ISO-BMFF boxes in data[start:end]."""
    end = len(data) if end is None else end
    at = start
    while at + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, at)
        header = 8
        if size == 1:
            (size,) = struct.unpack_from(">Q", data, at + 8)
            header = 16
        elif size == 0:
            size = end - at
        assert size >= header, f"bad box size at {at}"
        yield kind.decode("latin-1"), at + header, at + size
        at += size


def _child(data: bytes, start: int, end: int, kind: str) -> tuple[int, int]:
    for found, payload, box_end in _boxes(data, start, end):
        if found == kind:
            return payload, box_end
    raise AssertionError(f"no {kind} box")


def mp4_info(path: Path) -> dict[str, Any]:
    """Top-level box order, duration, and per track: handler, codec, tkhd and entry size."""
    data = path.read_bytes()
    top = [kind for kind, _, _ in _boxes(data)]
    moov = _child(data, 0, len(data), "moov")
    mvhd, _ = _child(data, *moov, "mvhd")
    version = data[mvhd]
    if version == 1:
        timescale, duration = struct.unpack_from(">IQ", data, mvhd + 20)
    else:
        timescale, duration = struct.unpack_from(">II", data, mvhd + 12)
    tracks = []
    for kind, payload, end in _boxes(data, *moov):
        if kind != "trak":
            continue
        tkhd, _ = _child(data, payload, end, "tkhd")
        offset = tkhd + (88 if data[tkhd] == 1 else 76)  # width, height: 16.16 fixed point
        width, height = (v >> 16 for v in struct.unpack_from(">II", data, offset))
        mdia = _child(data, payload, end, "mdia")
        hdlr, _ = _child(data, *mdia, "hdlr")
        handler = data[hdlr + 8:hdlr + 12].decode("latin-1")
        stbl = _child(data, *_child(data, *mdia, "minf"), "stbl")
        stsd, stsd_end = _child(data, *stbl, "stsd")
        entry = stsd + 8
        (codec,) = struct.unpack_from(">4s", data, entry + 4)
        track = {"handler": handler, "codec": codec.decode("latin-1"),
                 "width": width, "height": height}
        if track["codec"] == "avc1":
            track["entry_size"] = struct.unpack_from(">HH", data, entry + 32)
            avcc, _ = _child(data, entry + 86, stsd_end, "avcC")
            track["profile"] = data[avcc + 1]
        tracks.append(track)
    return {"top": top, "duration": duration / timescale, "tracks": tracks}


def jpeg_size(path: Path) -> tuple[int, int]:
    """(width, height) from a JPEG's start-of-frame marker."""
    data = path.read_bytes()
    assert data[:2] == b"\xff\xd8", f"{path.name} is not a JPEG"
    at = 2
    while at < len(data):
        assert data[at] == 0xFF, f"lost in the markers of {path.name}"
        marker = data[at + 1]
        (length,) = struct.unpack_from(">H", data, at + 2)
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack_from(">HH", data, at + 5)
            return width, height
        at += 2 + length
    raise AssertionError(f"no SOF in {path.name}")


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack_from(">II", data, 16)
    return width, height


MP2_L3_KBPS = (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)
MP2_RATES = (22050, 24000, 16000)


def mp3_info(path: Path) -> dict[str, Any]:
    """Walk an MPEG-2 layer III stream frame by frame: rate, channels, duration."""
    data = path.read_bytes()
    at, frames, rates, modes = 0, 0, set(), set()
    while at + 4 <= len(data):
        (header,) = struct.unpack_from(">I", data, at)
        assert header >> 21 == 0x7FF, f"no frame sync at {at} in {path.name}"
        assert (header >> 19) & 3 == 0b10 and (header >> 17) & 3 == 0b01, "not MPEG-2 layer III"
        kbps = MP2_L3_KBPS[(header >> 12) & 15]
        rate = MP2_RATES[(header >> 10) & 3]
        padding = (header >> 9) & 1
        rates.add(rate)
        modes.add((header >> 6) & 3)
        at += 72 * kbps * 1000 // rate + padding
        frames += 1
    assert at == len(data), f"{path.name} ends inside a frame"
    (rate,) = rates
    return {"rate": rate, "mono": modes == {3}, "duration": frames * 576 / rate}


# --- the files -----------------------------------------------------------------------------------
def test_every_listed_file_matches_its_hash() -> None:
    sums = _sums()
    assert list(sums) == sorted(sums) == make_media.media_files()
    for name, digest in sums.items():
        assert hashlib.sha256((MEDIA / name).read_bytes()).hexdigest() == digest, name


def test_no_stray_files_in_the_media_folder() -> None:
    top = {p.name for p in MEDIA.iterdir() if p.is_file()}
    assert top == {*_sums(), "SHA256SUMS"}
    fonts = {p.name for p in (MEDIA / "fonts").iterdir()}
    assert fonts == {"Poppins-Bold.ttf", "OFL.txt", "README.md"}
    assert "SIL OPEN FONT LICENSE Version 1.1" in (MEDIA / "fonts" / "OFL.txt").read_text()


def test_size_budget() -> None:
    listed = sum((MEDIA / name).stat().st_size for name in _sums())
    folder = sum(p.stat().st_size for p in MEDIA.rglob("*") if p.is_file())
    assert listed <= LISTED_BUDGET, listed
    assert folder <= FOLDER_BUDGET, folder


def test_package_data_ships_every_media_file() -> None:
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"]["gen_nb"]
    package = ROOT / "gen_nb"
    for path in MEDIA.rglob("*"):
        if path.is_file():
            rel = path.relative_to(package).as_posix()
            assert any(fnmatch(rel, p) and rel.count("/") == p.count("/") for p in patterns), rel


def test_media_extra_pins_the_ffmpeg_that_made_the_media() -> None:
    extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]["media"]
    assert f"imageio-ffmpeg=={make_media.IMAGEIO_FFMPEG_VERSION}" in extra


# --- the catalog ---------------------------------------------------------------------------------
def test_catalog_json_is_the_python_catalog() -> None:
    raw = (MEDIA / "catalog.json").read_bytes()
    assert raw == make_media.catalog_bytes()
    assert json.loads(raw) == make_media.catalog()


def test_catalog_describes_distinct_render_cards_for_three_engines() -> None:
    catalog = make_media.catalog()
    cards, engines = catalog["cards"], catalog["engines"]
    assert len(cards) >= 8 and {"render_a", "render_b"} <= {c["stem"] for c in cards}
    assert len({c["stem"] for c in cards}) == len({c["title"] for c in cards}) == len(cards)
    schemes = {(c["colors"]["background"][0], c["colors"]["background"][1], c["colors"]["accent"])
               for c in cards}
    assert len(schemes) == len(cards), "every card has its own colour scheme"
    assert len(engines) == 3
    for engine in engines:
        assert len(engine["cards"]) >= 2
        assert (MEDIA / engine["voiceover"]).is_file()
    assert {c["engine"] for c in cards} == {e["slug"] for e in engines}
    for card in cards:
        assert card["video"] == card["stem"] + ".mp4" and card["thumbnail"] == card["stem"] + ".jpg"
        assert (MEDIA / card["video"]).is_file() and (MEDIA / card["thumbnail"]).is_file()
        assert card["width"] * 16 == card["height"] * 9
        for color in (*card["colors"]["background"], card["colors"]["text"],
                      card["colors"]["accent"], card["colors"]["accent_text"]):
            assert re.fullmatch(r"#[0-9A-F]{6}", color), color


def test_catalog_keeps_the_legacy_sample_names() -> None:
    catalog = make_media.catalog()
    kinds = {s["file"]: s["kind"] for s in (*catalog["layers"], *catalog["other"])}
    kinds |= {c["video"]: "video" for c in catalog["cards"]}
    for name, kind in {"render_a.mp4": "video", "render_b.mp4": "video", "broll_a.mp4": "video",
                       "broll_b.mp4": "video", "voiceover.mp3": "audio",
                       "background.jpg": "image", "background.png": "image",
                       "brand-kit.zip": "zip",
                       "style-lora.safetensors": "safe_tensors"}.items():
        assert kinds[name] == kind
    for thumb in ("render_a.jpg", "render_b.jpg", "broll_a.jpg", "broll_b.jpg"):
        assert thumb in _sums()
    layers = {s["layer"] for s in catalog["layers"]}
    assert layers == {"voiceover", "broll", "background"}


# --- what the files are ------------------------------------------------------------------------
@pytest.mark.parametrize("card", CARDS, ids=lambda c: c.stem)
def test_render_clip_is_vertical_h264_baseline_with_aac(card: cards.Card) -> None:
    info = mp4_info(MEDIA / card.video)
    assert info["top"].index("moov") < info["top"].index("mdat"), "+faststart"
    handlers = {t["handler"]: t for t in info["tracks"]}
    assert set(handlers) == {"vide", "soun"}
    video = handlers["vide"]
    assert video["codec"] == "avc1" and video["profile"] == 66          # H.264 baseline
    assert (video["width"], video["height"]) == (cards.WIDTH, cards.HEIGHT)
    assert video["entry_size"] == (cards.WIDTH, cards.HEIGHT)
    assert video["width"] * 16 == video["height"] * 9
    assert handlers["soun"]["codec"] == "mp4a"
    assert abs(info["duration"] - cards.CARD_SECONDS) < 0.15
    assert jpeg_size(MEDIA / card.thumbnail) == (cards.WIDTH, cards.HEIGHT)


@pytest.mark.parametrize("sample", BROLLS, ids=lambda s: s.file)
def test_broll_is_vertical_video_without_audio(sample: cards.LayerSample) -> None:
    info = mp4_info(MEDIA / sample.file)
    assert [t["handler"] for t in info["tracks"]] == ["vide"]
    video = info["tracks"][0]
    assert video["codec"] == "avc1" and video["profile"] == 66
    assert (video["width"], video["height"]) == (sample.width, sample.height)
    assert video["width"] * 16 == video["height"] * 9
    assert sample.duration is not None and abs(info["duration"] - sample.duration) < 0.15
    assert sample.thumbnail and jpeg_size(MEDIA / sample.thumbnail) == (sample.width,
                                                                        sample.height)


def test_backgrounds_are_vertical_images() -> None:
    w, h = cards.WIDTH, cards.HEIGHT
    assert jpeg_size(MEDIA / "background.jpg") == (w, h)
    assert png_size(MEDIA / "background.png") == (w, h)


@pytest.mark.parametrize("name", [s.file for s in make_media.LAYER_SAMPLES if s.kind == "audio"])
def test_voiceover_is_a_bare_mono_mp3_of_the_catalog_length(name: str) -> None:
    info = mp3_info(MEDIA / name)                  # also proves: no ID3 tag, no Xing frame
    assert info["rate"] == cards.VOICE_RATE and info["mono"]
    assert abs(info["duration"] - cards.VOICE_SECONDS) < 0.2


def test_voiceovers_differ_per_style() -> None:
    voices = [s.file for s in make_media.LAYER_SAMPLES if s.layer == "voiceover"]
    assert len(voices) == len(cards.ENGINE_THEMES) + 1
    assert len({(MEDIA / v).read_bytes() for v in voices}) == len(voices)


def test_ffmpeg_reads_every_clip_as_browser_playable() -> None:
    _needs_ffmpeg()
    exe = ffmpeg.ffmpeg_exe()
    for card in CARDS[:3]:
        proc = subprocess.run([exe, "-hide_banner", "-i", str(MEDIA / card.video)],
                              capture_output=True, text=True, timeout=60, check=False)
        assert re.search(r"Video: h264 \(Constrained Baseline\).*yuv420p.*360x640", proc.stderr)
        assert "Audio: aac (LC)" in proc.stderr and "mono" in proc.stderr


# --- layout, text and sound -----------------------------------------------------------------------
@pytest.mark.parametrize("card", CARDS, ids=lambda c: c.stem)
def test_title_card_text_fits_and_contrasts(card: cards.Card) -> None:
    metrics = typography.font_metrics()
    layout = title_cards.card_layout(card)
    usable = cards.WIDTH - 2 * title_cards.MARGIN
    assert 1 <= len(layout["title_lines"]) <= 3 and layout["title_size"] >= 34
    assert " ".join(layout["title_lines"]) == card.title
    for line in layout["title_lines"]:
        assert metrics.width(line, layout["title_size"]) <= usable
    for line in layout["subtitle_lines"]:
        assert metrics.width(line, layout["subtitle_size"]) <= usable
    for text in (card.title, card.subtitle, card.cta, cards.theme(card.engine).badge,
                 cards.WORKSPACE_HANDLE):
        assert all(metrics.has(ch) for ch in text if ch != " "), text
    # everything stacks top to bottom inside the frame, clear of the CTA
    assert layout["badge_baseline"] < layout["title_baselines"][0] - layout["title_size"]
    assert layout["subtitle_baselines"][-1] < layout["handle_baseline"] < layout["cta_baseline"]
    assert layout["cta_baseline"] + 30 < cards.HEIGHT
    # WCAG: large text ≥ 3:1 on both gradient ends, the pills' text ≥ 4.5:1
    assert typography.contrast(card.text, card.top) >= 3.0
    assert typography.contrast(card.text, card.bottom) >= 3.0
    assert typography.contrast(card.accent_text, card.accent) >= 4.5


def test_font_metrics_read_poppins() -> None:
    metrics = typography.font_metrics()
    assert metrics.units == 1000 and metrics.ascent > 0 > metrics.descent
    assert metrics.width("WW", 40) > metrics.width("ii", 40) > 0
    assert metrics.has("é") and not metrics.has("\U0001F600")


def test_fit_text_balances_lines_and_refuses_what_cannot_fit() -> None:
    size, lines = typography.fit_text("Plan your week in 10 minutes", 304, (54, 40), 3)
    assert size == 54 and len(lines) == 3
    with pytest.raises(ValueError):
        typography.fit_text("Supercalifragilisticexpialidocious", 100, (40,), 3)


def test_deterministic_math_matches_libm_closely() -> None:
    for i in range(-50, 50):
        x = i * 0.37
        assert abs(audio.sin(x) - math.sin(x)) < 1e-9
        assert abs(audio.cos(x) - math.cos(x)) < 1e-9
    for x in (-3.0, -0.5, -0.01, 0.0, 0.2, 1.0):
        assert abs(audio.exp(x) - math.exp(x)) < 1e-9 * max(1.0, math.exp(x))
    assert abs(audio.midi_hz(81) - 880.0) < 1e-9
    assert abs(audio.midi_hz(57) - 220.0) < 1e-9


def test_synthesized_audio_is_audible_and_bounded() -> None:
    theme = cards.ENGINE_THEMES[0]
    for samples, rate in ((speech.voice(theme), cards.VOICE_RATE),
                          (audio.music(theme, 0), cards.MUSIC_RATE)):
        assert len(samples) == int(3.0 * rate)
        assert max(abs(s) for s in samples) <= 1.0
        rms = math.sqrt(sum(s * s for s in samples) / len(samples))
        assert rms > 0.05
    wav = audio.wav_bytes([0.0, 0.5, -0.5], 16000)
    assert wav[:4] == b"RIFF" and len(wav) == 44 + 6


# --- regeneration ---------------------------------------------------------------------------------
def test_make_media_check_regenerates_byte_identically(capsys: pytest.CaptureFixture[str]) -> None:
    _needs_ffmpeg()
    build = (ffmpeg.imageio_ffmpeg_version(), sys.platform, platform.machine())
    if build != (make_media.IMAGEIO_FFMPEG_VERSION, "linux", "x86_64") and not os.environ.get("CI"):
        pytest.skip(f"the committed bytes come from imageio-ffmpeg "
                    f"{make_media.IMAGEIO_FFMPEG_VERSION} on linux x86_64, not {build}")
    assert make_media.main(["--check"]) == 0
    out = capsys.readouterr().out
    assert out.rstrip().endswith("media are byte-identical")
    for name in _sums():
        assert re.search(rf"^  {re.escape(name)}\s+[\d,]+ B", out, re.MULTILINE), name
