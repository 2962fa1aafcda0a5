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
``fontfile`` (the machine's fonts are never consulted), and audio synthesized in pure Python
with IEEE-754 basic arithmetic only (no libm, no numpy, no unseeded randomness). ffmpeg runs
with bit-exact flags, one thread and its CPU-specific code paths switched off (``-cpuflags
0``, x264 ``asm=0``), so every run on every machine with that ffmpeg build (the pinned
imageio-ffmpeg's Linux x86-64 binary, as in CI) writes the same bytes. Any other build makes
equally valid media with other bytes: ``--check`` then says which version it ran.

The work is done by the ``media_kit`` package (one module per thing: cards, typography,
audio, speech, ffmpeg, scenes, title_cards, catalog, build); this module is its command line.

Run::

    python -m gen_nb.sandbox.make_media            # rewrite gen_nb/sandbox/media/
    python -m gen_nb.sandbox.make_media --check    # regenerate into a temp dir and compare

Both print every file with its size. Errors: ``RuntimeError`` if imageio-ffmpeg is missing or
ffmpeg fails.
"""

from __future__ import annotations

import sys

from .media_kit.build import check, generate, main
from .media_kit.cards import CARDS, ENGINE_THEMES, LAYER_SAMPLES, MEDIA_DIR, OTHER_SAMPLES
from .media_kit.catalog import catalog, catalog_bytes, media_files
from .media_kit.ffmpeg import IMAGEIO_FFMPEG_VERSION

__all__ = ["CARDS", "ENGINE_THEMES", "IMAGEIO_FFMPEG_VERSION", "LAYER_SAMPLES", "MEDIA_DIR",
           "OTHER_SAMPLES", "catalog", "catalog_bytes", "check", "generate", "main",
           "media_files"]

if __name__ == "__main__":
    sys.exit(main())
