"""The kit that makes the sandbox's sample media (``python -m gen_nb.sandbox.make_media``).

One module per thing it holds, imports pointing down the list:

- ``cards``: what is made — engine themes, render cards, layer samples, sizes and rates;
- ``typography``: colours and contrast, the committed font's metrics, fitting a title;
- ``audio``: deterministic synthesis (sin/exp without libm, noise, notes, the card jingle);
- ``speech``: the voiceovers (formant synthesis of each theme's sentence);
- ``ffmpeg``: running the pinned ffmpeg bit-exactly, and its filter graphs;
- ``scenes``: b-roll clips and backgrounds, and the RGBA shapes they are drawn from;
- ``title_cards``: the render clips (card layout and drawing);
- ``catalog``: ``catalog.json`` and the list of files;
- ``build``: writing the folder, ``SHA256SUMS``, ``--check`` and the command line.

Nothing here runs at import, and the sandbox's servers never import it: they read the
committed files and ``catalog.json``.
"""
