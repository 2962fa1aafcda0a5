"""LayerPicker: the layer outputs of a render as a table, one picked to preview and download.

>>> from gen_nb.widgets import LayerPicker
>>> picker = LayerPicker(client, render)            # doctest: +SKIP
>>> picker.set_item(another_render)                 # doctest: +SKIP
>>> picker.select(0); picker.download.click()       # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import ipywidgets as w

from gen_nb.widgets import fragments
from gen_nb.widgets.panel import Callbacks, Message, Panel, show_error, show_message
from gen_nb.widgets.preview import Preview
from gen_nb.widgets.text import layer_label
from gen_nb.widgets.transfer import DownloadButton

if TYPE_CHECKING:
    from gen_nb.api.settings import TransferOptions

__all__ = ["LayerPicker"]


class LayerPicker(Panel):
    """Table of a render's layer outputs (``client.layers(render)``), a Dropdown to pick one,
    and a :class:`Preview` and :class:`DownloadButton` for the picked layer.

    ``set_item(render)`` loads another render; ``.value`` is the picked LayerOutput;
    ``select(index_or_layer)`` and ``on_select(cb)`` as on the other pickers.
    """

    _fallback = "use gen_nb.layers_frame(client.layers(render))"

    def __init__(self, client: Any = None, item: Any = None, *, dest: Any = None,
                 options: TransferOptions | None = None) -> None:
        super().__init__()
        self._client = client
        self.item: Any = None
        self.layers: list[Any] = []
        self._select_callbacks = Callbacks()
        self._loading = False
        self.table = w.HTML()
        self.choices = w.Dropdown(description="Layer", options=[], value=None,
                                  layout=w.Layout(width="100%"))
        self.message = Message()
        self.preview = Preview()
        self.download = DownloadButton(dest=dest, options=options)
        self.choices.observe(self._on_choice, names="value")
        self.children = [self.table, self.choices, self.message, self.preview, self.download]
        if item is not None:
            self.set_item(item)

    def _summary(self) -> str:
        if self.item is None:
            return "no render"
        picked = f", picked {self.value.name!r}" if self.value is not None else ""
        render_id = getattr(self.item, "id", self.item)
        return f"render {render_id}: {len(self.layers)} layers{picked}"

    def _details(self) -> list[str]:
        return [layer_label(layer) for layer in self.layers[:8]]

    @property
    def value(self) -> Any:
        """The picked LayerOutput, or None."""
        index = self.choices.value
        return None if index is None else self.layers[index]

    def set_item(self, item: Any) -> None:
        """Show the layer outputs of render ``item`` (a Render or a render id; None clears)."""
        self.item = item
        show_message(self.message, "")
        self.layers = layers = self._load(item)
        try:
            self.table.value = fragments.layers_table(layers) if layers else ""
        except Exception as exc:
            self.table.value = ""
            show_error(self.message, exc)
        if item is not None and not layers and not self.message.value:
            show_message(self.message, "this render has no layer outputs")
        self._loading = True
        try:
            self.choices.options = [(layer_label(layer), i) for i, layer in enumerate(layers)]
            self.choices.value = 0 if layers else None
        finally:
            self._loading = False
        self._apply(self.value)

    def _load(self, item: Any) -> list[Any]:
        """``client.layers(item)`` (a render's own ``.layers`` without a client); errors show."""
        if item is None:
            return []
        try:
            if self._client is None:
                return list(getattr(item, "layers", ()))
            return list(self._client.layers(item))
        except Exception as exc:
            show_error(self.message, exc)
            return []

    def select(self, layer: Any) -> None:
        """Pick a layer by index, layer id or LayerOutput (fires on_select)."""
        if isinstance(layer, int):
            index = layer
        else:
            wanted = getattr(layer, "layer_id", layer)
            index = next(i for i, lo in enumerate(self.layers) if lo.layer_id == str(wanted))
        self.choices.value = index

    def on_select(self, callback: Callable[[Any], Any], remove: bool = False) -> None:
        """Call ``callback(layer_output_or_None)`` when the picked layer changes."""
        self._select_callbacks.register(callback, remove)

    def _on_choice(self, change: dict[str, Any]) -> None:
        if self._loading:
            return
        self._apply(self.value if change["new"] is not None else None)

    def _apply(self, layer: Any) -> None:
        self.preview.set_item(layer)
        self.download.set_item(layer)
        self._select_callbacks(layer)
