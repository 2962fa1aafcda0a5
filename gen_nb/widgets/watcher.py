"""RenderWatcher: the live status of one render (generation) with elapsed time, Stop, Start.

``set_item(render)`` (or a Generation, or an id) points it at a render and, unless
``autostart=False``, watches at once: ``client.wait(id, on_update=…, cancel=…)`` runs in a
worker thread, a light ticker refreshes the elapsed time once a second. Watching costs nothing;
a new (paid) render of the same engine and cell only starts on a click (or ``start()``). Stop
asks the server to stop the generation (``client.stop(id)``).

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

from gen_nb.widgets import fragments
from gen_nb.widgets.panel import (
    Callbacks,
    Message,
    WorkerPanel,
    set_visible,
    show_error,
    show_message,
)
from gen_nb.widgets.text import status_text

PHASE_PERCENT = {"pending": 10.0, "processing": 55.0, "completed": 100.0, "failed": 100.0,
                 "stopped": 100.0}
PHASE_STYLE = {"completed": "success", "failed": "danger", "stopped": "warning"}

__all__ = ["RenderWatcher"]


class RenderWatcher(WorkerPanel):
    """Live status of one render (generation): pending → processing → completed / failed.

    ``item``: a Render (its engine and cell allow "Start render" for a new take), a Generation
    or a generation id; with only ``engine_id`` and ``cell_id`` a click starts a new, paid
    render first. ``stop()`` stops the generation on the server, ``stop_watching()`` only stops
    following it; ``wait(timeout)`` joins the worker; ``.statuses`` lists the statuses seen,
    ``.generation`` the latest state, ``.error`` the last error.
    """

    item: Any
    generation_id: str | None
    generation: Any
    statuses: list[str]
    engine_id: Any
    cell_id: Any
    _can_start: bool

    _fallback = "use client.wait(generation_id, on_update=print)"

    def __init__(self, client: Any, item: Any = None, *, engine_id: str | int | None = None,
                 cell_id: str | int | None = None, timeout: float | None = 600.0,
                 poll_interval: float | None = None, autostart: bool = True) -> None:
        super().__init__()
        self._client = client
        self.timeout, self.poll_interval, self.autostart = timeout, poll_interval, autostart
        self._init_worker("watch")
        self._lock = threading.Lock()
        self._started_at: float | None = None
        self._stopped: Any = None
        self._final = False
        self._started_callbacks = Callbacks()
        self.start_button = w.Button(icon="play", button_style="primary")
        self.stop_button = w.Button(description="Stop", icon="stop", button_style="danger",
                                    disabled=True)
        self.badge = w.HTML()
        self.bar = w.FloatProgress(value=0.0, min=0.0, max=100.0,
                                   layout=w.Layout(flex="1 1 8em", min_width="6em", width="auto"))
        self.status = Message()
        self.question = Message()
        self.confirm_button = w.Button(description="Start render (spends credits)",
                                       icon="play", button_style="danger",
                                       layout=w.Layout(width="auto"))
        self.back_button = w.Button(description="Cancel")
        self.confirm_box = w.VBox([self.question, w.HBox([self.confirm_button,
                                                          self.back_button])])
        set_visible(self.confirm_box, False)
        self.start_button.on_click(lambda _b: self.start())
        self.stop_button.on_click(lambda _b: self.stop())
        self._asked: tuple[Any, ...] | None = None   # what the question on screen is about
        self.confirm_button.on_click(lambda _b: self._confirmed())
        self.back_button.on_click(lambda _b: self._hide_question())
        self.children = [w.HBox([self.start_button, self.stop_button, self.badge, self.bar],
                                layout=w.Layout(flex_flow="row wrap", width="100%",
                                                align_items="center")),
                         self.status, self.confirm_box]
        self._point_at(item, engine_id, cell_id)
        if self.generation_id is not None and autostart:
            self.start()

    def _summary(self) -> str:
        if self.generation_id is None:
            return f"engine {self.engine_id}, cell {self.cell_id} (not started)"
        state = self.generation.status if self.generation is not None else "unknown"
        return f"generation {self.generation_id} ({state})"

    def _details(self) -> list[str]:
        return [" → ".join(self.statuses)] if self.statuses else []

    # -- public API ------------------------------------------------------------------------------
    def set_item(self, item: Any) -> None:
        """Follow this render / generation / id instead (None: nothing).

        The previous one is no longer followed (it goes on on the server); the same render
        again keeps the watch going. Watches at once unless ``autostart=False``.
        """
        new_id = None if item is None else str(getattr(item, "id", item))
        if new_id is not None and new_id == self.generation_id and (self.running
                                                                    or self.statuses):
            self.item = item
            return
        with self._lock:
            self._worker.abandon()
            self._point_at(item)
        if new_id is not None and self.autostart:
            self.start()

    def start(self, confirmed: bool = False) -> None:
        """Watch the generation; starts a new render first when there is none (or it ended).

        A new render spends credits on the real API: the first call only asks (with the last
        take's cost when GEN gave one); ``start(confirmed=True)`` — the "Start render (spends
        credits)" button — starts it. The sandbox starts at once and says so.
        """
        if self._worker.running:
            return
        new = self._can_start and (self.generation_id is None or bool(
            self.generation is not None and self.generation.done))
        if new and not confirmed and not self._free:
            self._ask_first()
            return
        self._hide_question()
        if new:
            self.generation_id, self.generation, self.statuses = None, None, []
        self._stopped, self._final = None, False
        self._started_at = time.monotonic()
        self.start_button.disabled = True
        self.stop_button.disabled = False
        self.bar.value, self.bar.bar_style = 2.0, "info"
        sandbox = " on the sandbox: no credits are spent" if self._free else ""
        show_message(self.status, f"Starting a new render{sandbox}…" if new else "Watching…")
        if self._worker.start(self._work, self._finished, self._failed):
            threading.Thread(target=self._tick, args=(self._worker.thread,),
                             name="gen_nb-watch-tick", daemon=True).start()

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
        self._worker.cancel()

    def stop_watching(self) -> None:
        """Stop following the status (the render itself goes on)."""
        self._worker.cancel()

    def on_started(self, callback: Any, remove: bool = False) -> None:
        """Call ``callback(generation)`` when a new render has been started (in the worker)."""
        self._started_callbacks.register(callback, remove)

    @property
    def _free(self) -> bool:
        return bool(getattr(self._client, "is_sandbox", False))

    def _ask_first(self) -> None:
        cost = getattr(self.generation, "execution_cost", None)
        price = (f" The last take cost {cost:g} credits." if isinstance(cost, int | float)
                 else " GEN does not say in advance how many credits it takes.")
        what = getattr(self.item, "title", None) or f"cell {self.cell_id}"
        show_message(self.question, f"Start a new take of “{what}” (engine {self.engine_id})? "
                     f"This spends GEN credits.{price}", warn=True)
        self._asked = self._asked_key()
        set_visible(self.confirm_box, True)

    def _asked_key(self) -> tuple[Any, ...]:
        return (self.engine_id, self.cell_id, self.generation_id)

    def _confirmed(self) -> None:
        """The "Start render (spends credits)" click: only for the take the question named
        (a question that was withdrawn or is about another render starts nothing)."""
        if self._asked is not None and self._asked == self._asked_key():
            self.start(confirmed=True)

    def _hide_question(self) -> None:
        self._asked = None
        set_visible(self.confirm_box, False)
        self.question.clear()

    # -- internals -------------------------------------------------------------------------------
    def _point_at(self, item: Any, engine_id: Any = None, cell_id: Any = None) -> None:
        """Forget the last render's state and show ``item``'s (nothing watched yet)."""
        self.item = item
        self.generation_id = None if item is None else str(getattr(item, "id", item))
        self.engine_id = engine_id if engine_id is not None else getattr(item, "engine_id", None)
        self.cell_id = cell_id if cell_id is not None else getattr(item, "cell_id", None)
        self._can_start = self.engine_id is not None and self.cell_id is not None
        self.statuses = []
        self.generation = None
        self._final = True  # until start(): the ticker has nothing to show
        self.badge.value = ""
        self.bar.value, self.bar.bar_style = 0.0, ""
        show_message(self.status, "" if item is not None or self._can_start else
                     "Pick a render to follow it here, or to start a new take of it.")
        self._hide_question()
        self._end()

    def _work(self, cancel: threading.Event) -> Any:
        def update(generation: Any) -> None:
            if self._worker.is_current(cancel):  # an abandoned watch shows nothing more
                self._on_update(generation)

        if self.generation_id is None:  # start() decided a new render is wanted
            generation = self._client.start_render(self.engine_id, self.cell_id)
            self.generation_id = generation.id
            update(generation)
            self._started_callbacks(generation)
        return self._client.wait(self.generation_id, timeout=self.timeout,
                                 poll_interval=self.poll_interval, on_update=update,
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
            self.badge.value = fragments.badge(generation.status)
        except Exception as exc:
            show_error(self.status, exc)
            return
        self.bar.value = PHASE_PERCENT.get(generation.status, self.bar.value)
        self.bar.bar_style = PHASE_STYLE.get(generation.status, "info")
        reason = generation.failed_reason if generation.status == "failed" else None
        text = f"#{generation.id} {status_text(generation.status, self._elapsed(), reason)}"
        if final and not generation.done:
            text += " · stopped watching (the render goes on)"
        show_message(self.status, text, bad=generation.status in ("failed", "stopped"),
                     good=generation.status == "completed")

    def _tick(self, thread: threading.Thread | None) -> None:
        while thread is not None and thread is self._worker.thread and thread.is_alive():
            thread.join(1.0)
            with self._lock:
                if (thread is self._worker.thread and not self._final
                        and self.generation is not None and not self.generation.done):
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
