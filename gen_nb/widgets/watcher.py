"""RenderWatcher: start a render or watch a generation, live status with elapsed time, Stop.

``client.wait(id, on_update=…, cancel=…)`` runs in a worker thread; a light ticker refreshes
the elapsed time once a second while it runs. Stop asks the server to stop the generation
(``client.stop(id)``).

>>> from gen_nb.widgets import RenderWatcher
>>> watcher = RenderWatcher(client, engine_id=r.engine_id, cell_id=r.cell_id)   # doctest: +SKIP
>>> watcher.start(); watcher.wait(); watcher.statuses                         # doctest: +SKIP
['pending', 'processing', 'completed']
"""

from __future__ import annotations

import datetime as _dt
import threading
import time
from typing import Any

import ipywidgets as w

from gen_nb.widgets import _html
from gen_nb.widgets._base import JobPanel, show_error, show_message
from gen_nb.widgets._format import status_text

__all__ = ["RenderWatcher"]


class RenderWatcher(JobPanel):
    """Live status of one render (generation): pending → processing → completed / failed.

    With ``generation_id`` it watches at once (unless ``autostart=False``); with ``engine_id``
    and ``cell_id`` a "Start render" click (or ``start()``) starts a new, paid render first.
    ``stop()`` stops the generation on the server; ``wait(timeout)`` joins the worker;
    ``.statuses`` lists the statuses seen, ``.generation`` the latest state, ``.error`` the last
    error.
    """

    _fallback = "use client.wait(generation_id, on_update=print)"

    def __init__(self, client: Any, generation_id: str | int | None = None,
                 engine_id: str | int | None = None, cell_id: str | int | None = None, *,
                 timeout: float | None = 600.0, poll_interval: float | None = None,
                 autostart: bool = True) -> None:
        super().__init__()
        self._client = client
        self.generation_id = None if generation_id is None else str(generation_id)
        self.engine_id, self.cell_id = engine_id, cell_id
        self.timeout, self.poll_interval = timeout, poll_interval
        self.statuses: list[str] = []
        self.generation: Any = None
        self._init_job("watch")
        self._started_at: float | None = None
        self._stopped: Any = None
        self._final = False
        self._lock = threading.Lock()
        self._can_start = engine_id is not None and cell_id is not None
        self.start_button = w.Button(
            description="Start render" if self._can_start and generation_id is None else "Watch",
            icon="play", button_style="primary",
            disabled=not (self._can_start or generation_id is not None))
        self.stop_button = w.Button(description="Stop", icon="stop", button_style="danger",
                                    disabled=True)
        self.badge = w.HTML()
        self.status = w.Label()
        self.start_button.on_click(lambda _b: self.start())
        self.stop_button.on_click(lambda _b: self.stop())
        self.children = [w.HBox([self.start_button, self.stop_button, self.badge,
                                 self.status])]
        if generation_id is not None and autostart:
            self.start()

    def _summary(self) -> str:
        if self.generation_id is None:
            return f"engine {self.engine_id}, cell {self.cell_id} (not started)"
        state = self.generation.status if self.generation is not None else "unknown"
        return f"generation {self.generation_id} ({state})"

    # -- public API ------------------------------------------------------------------------------
    @property
    def error(self) -> BaseException | None:
        return self._job.error

    @property
    def running(self) -> bool:
        return self._job.running

    def start(self) -> None:
        """Watch the generation; starts a new render first when there is none (or it ended)."""
        if self._job.running:
            return
        new = self._can_start and (self.generation_id is None or bool(
            self.generation is not None and self.generation.done))
        if new:
            self.generation_id, self.generation, self.statuses = None, None, []
        self._stopped, self._final = None, False
        self._started_at = time.monotonic()
        self.start_button.disabled = True
        self.stop_button.disabled = False
        show_message(self.status, "starting a render…" if new else "watching…")
        if self._job.start(self._work, self._finished, self._failed):
            threading.Thread(target=self._tick, name="gen_nb-watch-tick", daemon=True).start()

    def stop(self) -> None:
        """Stop the generation on the server (errors show in the widget)."""
        if self.generation_id is None:
            return
        try:
            generation = self._client.stop(self.generation_id)
        except Exception as exc:
            show_error(self.status, exc)
            return
        self._stopped = generation
        self._on_update(generation)
        self._job.cancel()

    def stop_watching(self) -> None:
        """Stop following the status (the render itself goes on)."""
        self._job.cancel()

    # -- internals -------------------------------------------------------------------------------
    def _work(self, cancel: threading.Event) -> Any:
        if self.generation_id is None:  # start() decided a new render is wanted
            generation = self._client.start_render(self.engine_id, self.cell_id)
            self.generation_id = generation.id
            self._on_update(generation)
        return self._client.wait(self.generation_id, timeout=self.timeout,
                                 poll_interval=self.poll_interval, on_update=self._on_update,
                                 cancel=cancel, raise_on_failure=False)

    def _elapsed(self) -> float | None:
        created = getattr(self.generation, "created_at", None)
        updated = getattr(self.generation, "updated_at", None)
        if created is not None:
            if self.generation.done and updated is None:
                return None
            end = updated if self.generation.done else _dt.datetime.now(_dt.UTC)
            return max(0.0, (end - created).total_seconds())
        return None if self._started_at is None else time.monotonic() - self._started_at

    def _on_update(self, generation: Any) -> None:
        self.generation = generation
        if not self.statuses or self.statuses[-1] != generation.status:
            self.statuses.append(generation.status)
        self._show()

    def _show(self, *, final: bool = False) -> None:
        generation = self.generation
        if generation is None:
            return
        try:
            self.badge.value = _html.badge(generation.status)
        except Exception as exc:
            show_error(self.status, exc)
            return
        reason = generation.failed_reason if generation.status == "failed" else None
        text = f"#{generation.id} {status_text(generation.status, self._elapsed(), reason)}"
        if final and not generation.done:
            text += " · stopped watching (the render goes on)"
        show_message(self.status, text, bad=generation.status in ("failed", "stopped"),
                     good=generation.status == "completed")

    def _tick(self) -> None:
        while not self._job.wait(1.0):
            with self._lock:
                if not self._final and self.generation is not None and not self.generation.done:
                    self._show()

    def _finished(self, generation: Any) -> None:
        if self._stopped is not None and not generation.done:
            generation = self._stopped
        with self._lock:
            self._final = True
            self._on_update(generation)
            self._show(final=True)
        self._end()
        if generation.done:
            self._done_callbacks(generation)

    def _failed(self, exc: BaseException) -> None:
        with self._lock:
            self._final = True
            show_error(self.status, exc)
        self._end()

    def _end(self) -> None:
        self.stop_button.disabled = True
        self.start_button.disabled = not (self._can_start or self.generation_id)
        done = self.generation is not None and self.generation.done
        self.start_button.description = (
            "Start render" if self._can_start and (done or self.generation_id is None)
            else "Watch")
