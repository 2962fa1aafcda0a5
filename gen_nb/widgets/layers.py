"""LayerPicker: the layer outputs of a render as a table, one picked to preview and download.

>>> from gen_nb.widgets import LayerPicker
>>> picker = LayerPicker(client, render)            # doctest: +SKIP
>>> picker.select(0); picker.download.click()       # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets as w

from gen_nb.widgets import _html
from gen_nb.widgets._base import Callbacks, Panel, show_error, show_message
from gen_nb.widgets._format import layer_label
from gen_nb.widgets.preview import Preview
from gen_nb.widgets.transfer import DownloadButton

__all__ = ["LayerPicker"]


class LayerPicker(Panel):
    """Table of a render's layer outputs (``client.layers(render)``), a Dropdown to pick one,
    and a :class:`Preview` and :class:`DownloadButton` for the picked layer.

    ``set_render(render)`` loads another render; ``.value`` is the picked LayerOutput;
    ``select(index_or_layer)`` and ``on_select(cb)`` as on the other pickers.
    """

    _fallback = "use gen_nb.layers_frame(client.layers(render))"

    def __init__(self, client: Any = None, render: Any = None, *, dest: Any = None) -> None:
        super().__init__()
        self._client = client
        self.render: Any = None
        self.layers: list[Any] = []
        self._select_callbacks = Callbacks()
        self._loading = False
        self.table = w.HTML()
        self.choices = w.Dropdown(description="Layer", options=[], value=None,
                                  layout=w.Layout(width="100%"))
        self.message = w.Label()
        self.preview = Preview()
        self.download = DownloadButton(dest=dest)
        self.choices.observe(self._on_choice, names="value")
        self.children = [self.table, self.choices, self.message, self.preview, self.download]
        if render is not None:
            self.set_render(render)

    def _summary(self) -> str:
        if self.render is None:
            return "no render"
        picked = f", picked {self.value.name!r}" if self.value is not None else ""
        render_id = getattr(self.render, "id", self.render)
        return f"render {render_id}: {len(self.layers)} layers{picked}"

    @property
    def value(self) -> Any:
        """The picked LayerOutput, or None."""
        index = self.choices.value
        return None if index is None else self.layers[index]

    def set_render(self, render: Any) -> None:
        """Show the layer outputs of ``render`` (a Render or a render id; None clears)."""
        self.render = render
        layers: list[Any] = []
        show_message(self.message, "")
        if render is not None:
            try:
                layers = (list(self._client.layers(render)) if self._client is not None
                          else list(getattr(render, "layers", ())))
            except Exception as exc:
                show_error(self.message, exc)
        self.layers = layers
        try:
            self.table.value = _html.layers_table(layers) if layers else ""
        except Exception as exc:
            self.table.value = ""
            show_error(self.message, exc)
        if render is not None and not layers and not self.message.value:
            show_message(self.message, "this render has no layer outputs")
        self._loading = True
        try:
            self.choices.options = [(layer_label(layer), i) for i, layer in enumerate(layers)]
            self.choices.value = 0 if layers else None
        finally:
            self._loading = False
        self._apply(self.value)

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
        self.preview.show(layer)
        self.download.set_source(layer)
        self._select_callbacks(layer)
