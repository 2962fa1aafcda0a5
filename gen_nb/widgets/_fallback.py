"""Text-only stand-ins for the widgets, used when ipywidgets cannot be imported.

Same names and the same main calls (``select``, ``show``, ``click``, ``confirm``, ``start``,
``wait``), done synchronously; what a widget would show is their ``repr`` (a terminal or plain
IPython prints it). Errors are kept in ``.error`` and shown in the text, never raised from a
click, as the real widgets do.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from gen_nb.widgets._format import (
    describe,
    error_text,
    format_bytes,
    layer_label,
    plan_lines,
    post_state_text,
    redact_url,
    render_label,
    resource_id_of,
)

log = logging.getLogger("gen_nb")

HINT = "ipywidgets is not installed: pip install 'ipywidgets>=8' for the interactive version"
MAX_LINES = 20


class TextWidget:
    """Base: ``repr`` is the text view; ``.error`` the last error; callbacks like the widgets."""

    _fallback = ""

    def __init__(self) -> None:
        self.error: BaseException | None = None
        self.result: Any = None
        self._callbacks: list[Callable[[Any], Any]] = []

    def _lines(self) -> list[str]:
        return []

    def __repr__(self) -> str:
        head = f"{type(self).__name__} ({HINT}; {self._fallback})"
        lines = [head, *self._lines()]
        if self.error is not None:
            lines.append(f"error: {error_text(self.error)}")
        return "\n".join(lines)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))

    def _run(self, fn: Callable[[], Any]) -> Any:
        self.error = None
        try:
            self.result = fn()
        except Exception as exc:
            self.error = exc
            log.info("%s", error_text(exc))
            return None
        return self.result

    def wait(self, timeout: float | None = None) -> bool:
        return True

    def cancel(self) -> None:
        """Nothing runs in the background here."""


class RenderPicker(TextWidget):
    _fallback = "gen_nb.renders_frame(client) lists them as a DataFrame"

    def __init__(self, source: Any = None, *, engine_ids: Any = None, **_: Any) -> None:
        super().__init__()
        self._client = None if isinstance(source, list | tuple | None) else source
        self._engine_ids = engine_ids
        self.renders: list[Any] = list(source or ()) if self._client is None else []
        self.value: Any = None
        self.refresh()

    def refresh(self) -> list[Any]:
        client = self._client
        if client is not None:
            self.renders = self._run(lambda: client.renders(self._engine_ids)) or []
        return self.renders

    def on_select(self, callback: Callable[[Any], Any], remove: bool = False) -> None:
        if remove:
            self._callbacks.remove(callback)
        else:
            self._callbacks.append(callback)

    def select(self, render_or_id: Any) -> None:
        wanted = str(getattr(render_or_id, "id", render_or_id))
        self.value = next((r for r in self.renders if r.id == wanted), None)
        for callback in self._callbacks:
            callback(self.value)

    def _lines(self) -> list[str]:
        lines = [f"{len(self.renders)} renders"]
        lines += [f"  {render_label(r)}  {r.url or ''}" for r in self.renders[:MAX_LINES]]
        if len(self.renders) > MAX_LINES:
            lines.append(f"  … {len(self.renders) - MAX_LINES} more")
        if self.value is not None:
            lines.append(f"selected: {render_label(self.value)}")
        return lines


class Gallery(RenderPicker):
    pass


class RenderBrowser(RenderPicker):
    _fallback = ("use gen_nb.renders_frame(client) to list renders and "
                 "gen_nb.download(render) to fetch one")


class Preview(TextWidget):
    _fallback = "gen_nb.show(x) shows the same as text"

    def __init__(self, item: Any = None) -> None:
        super().__init__()
        self.item = item

    def show(self, item: Any) -> None:
        self.item = item

    def play(self) -> None:
        """Nothing to play in a terminal; the URL is in the text."""

    def _lines(self) -> list[str]:
        if self.item is None:
            return ["nothing shown"]
        url = self.item if isinstance(self.item, str) else getattr(self.item, "url", None)
        thumb = getattr(self.item, "thumbnail_url", None)
        return [describe(self.item), f"  media: {url or '–'}", f"  thumbnail: {thumb or '–'}"]


class DownloadButton(TextWidget):
    _fallback = "gen_nb.download(src, dest) does the same"

    def __init__(self, src: Any = None, dest: Any = None, **options: Any) -> None:
        super().__init__()
        self.src, self.dest, self.options = src, dest, options

    def set_source(self, src: Any) -> None:
        self.src = src

    def click(self) -> None:
        from gen_nb import transfer

        self._run(lambda: transfer.download(self.src, self.dest, **self.options))

    def _lines(self) -> list[str]:
        if self.result is None:
            return [f"source: {redact_url(getattr(self.src, 'url', self.src))}"]
        return [f"done: {self.result.path} ({format_bytes(self.result.bytes)}, "
                f"sha256 {self.result.sha256})"]


class StreamPanel(TextWidget):
    _fallback = "gen_nb.stream_to(src, url) does the same"

    def __init__(self, src: Any = None, dest: str | None = None, **options: Any) -> None:
        super().__init__()
        self.src, self.dest, self.options = src, dest, options

    def set_source(self, src: Any) -> None:
        self.src = src

    def click(self) -> None:
        from gen_nb import transfer

        self._run(lambda: transfer.stream_to(self.src, self.dest, **self.options))

    def _lines(self) -> list[str]:
        target = f"to {redact_url(self.dest)}"
        if self.result is None:
            return [target]
        return [f"streamed {format_bytes(self.result.bytes)} {target}, HTTP "
                f"{self.result.status}, sha256 {self.result.sha256}"]


class PublishPanel(TextWidget):
    _fallback = "client.publish(render, platforms=[…]) then client.wait_post(post.id)"

    def __init__(self, client: Any, render: Any = None, **_: Any) -> None:
        super().__init__()
        self._client, self.render = client, render

    def set_render(self, render: Any) -> None:
        self.render = render

    def _lines(self) -> list[str]:
        return [f"post: {post_state_text(self.result)}"] if self.result is not None else []


class DeleteButton(TextWidget):
    _fallback = "client.delete_resource(id, dry_run=True), then confirm=True"

    def __init__(self, client: Any, target: Any = None) -> None:
        super().__init__()
        self._client, self.target, self.plan = client, target, None

    def set_target(self, target: Any) -> None:
        self.target, self.plan = target, None

    def _id(self) -> str | None:
        return resource_id_of(self.target)

    def click(self) -> None:
        self.plan = self._run(lambda: self._client.delete_resource(self._id(), dry_run=True))

    def confirm(self) -> None:
        if self.plan is not None:
            self.plan = self._run(lambda: self._client.delete_resource(self._id(), confirm=True))

    def _lines(self) -> list[str]:
        return plan_lines(self.plan) if self.plan is not None else [f"resource {self._id()}"]


class RenderWatcher(TextWidget):
    _fallback = "client.wait(generation_id, on_update=print)"

    def __init__(self, client: Any, generation_id: Any = None, engine_id: Any = None,
                 cell_id: Any = None, **_: Any) -> None:
        super().__init__()
        self._client, self.generation_id = client, generation_id
        self.engine_id, self.cell_id = engine_id, cell_id
        self.statuses: list[str] = []

    def _seen(self, generation: Any) -> None:
        self.statuses.append(generation.status)

    def start(self) -> None:
        def work() -> Any:
            if self.generation_id is None:
                self.generation_id = self._client.start_render(self.engine_id, self.cell_id).id
            return self._client.wait(self.generation_id, on_update=self._seen,
                                     raise_on_failure=False)

        self._run(work)

    def stop(self) -> None:
        self._run(lambda: self._client.stop(self.generation_id))

    def _lines(self) -> list[str]:
        return [f"generation {self.generation_id}: {' → '.join(self.statuses) or 'not started'}"]


class LayerPicker(TextWidget):
    _fallback = "gen_nb.layers_frame(client.layers(render))"

    def __init__(self, client: Any = None, render: Any = None, **_: Any) -> None:
        super().__init__()
        self._client = client
        self.layers: list[Any] = []
        self.set_render(render)

    def set_render(self, render: Any) -> None:
        if render is None:
            self.layers = []
        elif self._client is None:
            self.layers = list(getattr(render, "layers", ()))
        else:
            self.layers = self._run(lambda: list(self._client.layers(render))) or []

    def _lines(self) -> list[str]:
        return [f"  {layer_label(lo)}  {lo.url or ''}" for lo in self.layers[:MAX_LINES]]


__all__ = ["DeleteButton", "DownloadButton", "Gallery", "LayerPicker", "Preview",
           "PublishPanel", "RenderBrowser", "RenderPicker", "RenderWatcher", "StreamPanel"]
