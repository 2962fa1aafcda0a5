"""Preview: the thumbnail first, the player only when "Play" is clicked (nothing loads before).

The player is ``<video preload="none" poster=… controls>`` (no autoplay, no loop) pointing at the
CDN URL, an ``<audio>`` for audio layers or an ``<img>`` for images; bytes never pass through
the kernel.

>>> from gen_nb.widgets import Preview
>>> preview = Preview()
>>> preview.set_item("https://cdn.gen.pro/outputs/x.mp4")   # doctest: +SKIP
>>> preview.play()                                       # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets as w

from gen_nb.api.redact import redact_url
from gen_nb.widgets import fragments
from gen_nb.widgets.panel import Callbacks, Panel, show_error, show_message
from gen_nb.widgets.text import caption_text, url_of

__all__ = ["Preview"]


class Preview(Panel):
    """Thumbnail of a render / layer output / resource / URL, and a Play button.

    ``set_item(item)`` shows the thumbnail; ``play()`` (or a click on Play) swaps in the player.
    """

    _fallback = "use gen_nb.show(render) in a notebook"

    def __init__(self, item: Any = None) -> None:
        super().__init__()
        self.item: Any = None
        self.playing = False
        self.caption = w.Label()
        self.html = w.HTML()
        self.play_button = w.Button(description="Play", icon="play", disabled=True,
                                    tooltip="Load and show the player (nothing loads before)")
        self.play_button.on_click(lambda _b: self.play())
        self.message = w.Label()
        self._play_callbacks = Callbacks()
        self.children = [self.caption, self.html, w.HBox([self.play_button, self.message])]
        if item is not None:
            self.set_item(item)

    def _summary(self) -> str:
        if self.item is None:
            return "nothing shown"
        what = getattr(self.item, "id", None) or getattr(self.item, "name", None) or "a URL"
        return f"{'playing' if self.playing else 'thumbnail of'} {what}"

    def _details(self) -> list[str]:
        if self.item is None:
            return []
        return [self.caption.value, f"media: {redact_url(url_of(self.item)) or '–'}"]

    def set_item(self, item: Any) -> None:
        """Show ``item``'s thumbnail (Render, LayerOutput, ContentResource, URL; None clears)."""
        self.item, self.playing = item, False
        show_message(self.message, "")
        self.caption.value = caption_text(item)
        if item is None:
            self.html.value = ""
            self.play_button.disabled = True
            return
        try:
            self.html.value = fragments.thumbnail(item)
        except Exception as exc:
            self.html.value = ""
            show_error(self.message, exc)
        has_url = bool(url_of(item))
        self.play_button.disabled = not has_url
        if not has_url:
            show_message(self.message, "no media URL yet (the render may still be running)")

    def play(self) -> None:
        """Replace the thumbnail with the player (video/audio/image from the item's URL)."""
        if self.item is None:
            return
        try:
            self.html.value = fragments.player(self.item)
        except Exception as exc:
            show_error(self.message, exc)
            return
        self.playing = True
        self.play_button.disabled = True
        self._play_callbacks(self.item)

    def on_play(self, callback: Callable[[Any], Any], remove: bool = False) -> None:
        """Call ``callback(item)`` when the player is shown."""
        self._play_callbacks.register(callback, remove)
