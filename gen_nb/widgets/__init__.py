"""ipywidgets for GEN renders: pick, preview, download, stream, publish, delete, watch.

Each widget works alone; :class:`RenderBrowser` composes them all, one tab per entry of
``browser.TABS``. Every panel takes the current render (or layer output, resource, URL) through
one method, ``set_item(item)``. Widgets are thin: a click calls one gen_nb function (long ones
in a worker thread with a Cancel) and shows the result; every error shows in the widget as a
message, never a traceback.

Where widgets cannot render (a terminal, plain IPython) each shows a short text instead: what
it holds and which gen_nb function does the same (see :class:`~gen_nb.widgets.panel.Panel`).

Modules: ``browser`` (the dashboard and its tab table), ``picker`` (RenderPicker, Gallery:
filters over a list or a gallery, pick one, tick several), ``preview``, ``transfer``
(DownloadButton, StreamPanel), ``publish``, ``layers``, ``delete``, ``watcher``, ``life``
(RenderLife: started → downloaded / streamed), ``bulk`` and ``bulk_post`` (actions on the
selection, whose core calls are in ``actions``); ``views`` (the anywidget module: GalleryView,
SaveLink; ``gen_nb.js`` + ``gen_nb.css``), ``panel`` (what they share, Message), ``text``
(pure strings), ``fragments`` (HTML).

>>> import gen_nb
>>> from gen_nb.widgets import RenderBrowser
>>> RenderBrowser(gen_nb.connect())              # doctest: +SKIP
"""

from __future__ import annotations

from gen_nb.widgets.browser import RenderBrowser
from gen_nb.widgets.bulk import BulkPanel
from gen_nb.widgets.delete import DeleteButton
from gen_nb.widgets.layers import LayerPicker
from gen_nb.widgets.life import RenderLife
from gen_nb.widgets.picker import Gallery, RenderPicker, UnknownRender
from gen_nb.widgets.preview import Preview
from gen_nb.widgets.publish import PublishPanel
from gen_nb.widgets.transfer import DownloadButton, StreamPanel
from gen_nb.widgets.views import SaveLink
from gen_nb.widgets.watcher import RenderWatcher

__all__ = [
    "BulkPanel",
    "DeleteButton",
    "DownloadButton",
    "Gallery",
    "LayerPicker",
    "Preview",
    "PublishPanel",
    "RenderBrowser",
    "RenderLife",
    "RenderPicker",
    "RenderWatcher",
    "SaveLink",
    "StreamPanel",
    "UnknownRender",
]
