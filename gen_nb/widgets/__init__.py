"""ipywidgets for GEN renders: pick, preview, download, stream, publish, delete, watch.

Each widget works alone; :class:`RenderBrowser` composes them all. Widgets are thin: a click
calls one gen_nb function (long ones in a worker thread with a Cancel) and shows the result;
every error shows in the widget as a message, never a traceback.

Where widgets cannot render (a terminal, plain IPython) each shows a helpful text instead; when
ipywidgets is not installed at all, the same names are text-only stand-ins (see ``_fallback``).

>>> import gen_nb
>>> from gen_nb.widgets import RenderBrowser
>>> RenderBrowser(gen_nb.connect())              # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__all__ = [
    "HAVE_IPYWIDGETS",
    "DeleteButton",
    "DownloadButton",
    "Gallery",
    "LayerPicker",
    "Preview",
    "PublishPanel",
    "RenderBrowser",
    "RenderPicker",
    "RenderWatcher",
    "StreamPanel",
]

try:
    import ipywidgets as _ipywidgets  # noqa: F401
except ImportError:  # pragma: no cover - exercised in a subprocess test
    HAVE_IPYWIDGETS = False
else:
    HAVE_IPYWIDGETS = True

if TYPE_CHECKING or HAVE_IPYWIDGETS:
    from gen_nb.widgets.browser import RenderBrowser
    from gen_nb.widgets.delete import DeleteButton
    from gen_nb.widgets.layers import LayerPicker
    from gen_nb.widgets.picker import Gallery, RenderPicker
    from gen_nb.widgets.preview import Preview
    from gen_nb.widgets.publish import PublishPanel
    from gen_nb.widgets.transfer import DownloadButton, StreamPanel
    from gen_nb.widgets.watcher import RenderWatcher
else:  # pragma: no cover - text-only stand-ins with the same names
    from gen_nb.widgets._fallback import (
        DeleteButton,
        DownloadButton,
        Gallery,
        LayerPicker,
        Preview,
        PublishPanel,
        RenderBrowser,
        RenderPicker,
        RenderWatcher,
        StreamPanel,
    )
