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
from gen_nb.widgets.panel import Callbacks, Message, Panel, set_visible, show_error, show_message
from gen_nb.widgets.text import caption_text, url_of

NOTHING_YET = "Pick a render in the list or the gallery above to see it here."

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
        self.caption = w.Label(layout=w.Layout(max_width="100%"))
        self.html = w.HTML()
        self.play_button = w.Button(description="Play", icon="play", disabled=True,
                                    tooltip="Load and show the player (nothing loads before)")
        self.play_button.on_click(lambda _b: self.play())
        self.message = Message()
        self._play_callbacks = Callbacks()
        self.children = [self.caption, self.html, self.play_button, self.message]
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
        set_visible(self.play_button, item is not None)
        if item is None:
            self.html.value = ""
            self.play_button.disabled = True
            show_message(self.message, NOTHING_YET)
            return
        try:
            self.html.value = fragments.thumbnail(item)
        except Exception as exc:
            self.html.value = ""
            show_error(self.message, exc)
        has_url = bool(url_of(item))
        self.play_button.disabled = not has_url
        if not has_url:
            show_message(self.message, _why_nothing_plays(item), warn=True)

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


def _why_nothing_plays(item: Any) -> str:
    """Why there is no media URL, in the item's own terms."""
    status = getattr(item, "status", None)
    if status in ("pending", "processing"):
        return ("Still rendering: nothing to play yet. Open the Status tab to follow it; it "
                "can be played once it is completed.")
    if status in ("failed", "stopped"):
        reason = getattr(item, "failed_reason", None)
        return f"This render {status}{': ' + reason if reason else ''}; it has no video."
    if status == "completed":
        return ("This render's file was deleted (or GEN no longer keeps it): there is nothing "
                "to play. Start a new take from the Status tab to make it again.")
    return "This has no media URL, so there is nothing to play."
