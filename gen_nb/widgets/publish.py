"""PublishPanel: post a render by URL, rules checked before anything is sent, status followed.

Platforms come from ``client.platforms()``; caption and title counters turn red past a selected
platform's limit; every rule violation (``client.check_post``) is listed and the Publish button
stays disabled while there are any. Publish runs ``client.publish`` then ``client.wait_post`` in a
worker thread and shows accepted → publishing → published | failed, with the post's link.

>>> from gen_nb.widgets import PublishPanel
>>> panel = PublishPanel(client, render)                       # doctest: +SKIP
>>> panel.platform_boxes["tiktok"].value = True                # doctest: +SKIP
>>> panel.caption.value = "New video"; panel.click(); panel.wait()   # doctest: +SKIP
"""

from __future__ import annotations

import datetime as _dt
import threading
from typing import Any

import ipywidgets as w

from gen_nb.api.errors import WaitTimeout
from gen_nb.widgets import fragments
from gen_nb.widgets.panel import Message, WorkerPanel, set_visible, show_error, show_message
from gen_nb.widgets.text import counter_text, form_words, post_state_text, url_of

__all__ = ["PublishPanel", "note_post", "platform_checkboxes"]

SCHEDULES = (("Now", "now"), ("Next available slot", "next_available"),
             ("At a time…", "specific_time"))


class PublishPanel(WorkerPanel):
    """Publish the item (a Render, resource or URL) to the ticked platforms.

    ``click()`` publishes (same as the button), ``wait(timeout)`` joins the worker, ``cancel()``
    stops following the post (the post itself goes on); ``.post`` is the last Post seen,
    ``.violations`` the current rule violations, ``.error`` the last error.
    """

    _fallback = "use client.publish(render, platforms=[…]) and client.wait_post(post.id)"

    def __init__(self, client: Any, item: Any = None, *, wait_timeout: float = 300.0,
                 log_folder: Any = None) -> None:
        super().__init__()
        self._client = client
        self.item: Any = item
        self.wait_timeout = wait_timeout
        self.log_folder = log_folder
        self.post: Any = None
        self.violations: list[str] = []
        self._touched = False
        self._rules: dict[str, Any] = {}
        self._init_worker("publish")
        self._build()
        self._load_platforms()
        self._update()

    # -- layout ----------------------------------------------------------------------------------
    def _build(self) -> None:
        self.platform_boxes: dict[str, w.Checkbox] = {}
        self.platform_row = w.HBox(layout=w.Layout(flex_flow="row wrap", width="100%"))
        self.caption = w.Textarea(description="Caption", continuous_update=True,
                                  layout=w.Layout(width="100%", height="80px"))
        self.title = w.Text(description="Title", continuous_update=True,
                            placeholder="needed by YouTube",
                            layout=w.Layout(width="100%"))
        self.caption_counter, self.title_counter = Message(), Message()
        self.schedule = w.ToggleButtons(description="When", options=SCHEDULES, value="now",
                                        style={"button_width": "auto"})
        self.when = w.DatetimePicker(description="Time")
        self.violation_box = w.VBox(layout=w.Layout(width="100%"))
        self.publish_button = w.Button(description="Publish", icon="paper-plane",
                                       button_style="success", disabled=True)
        self.status = Message()
        self.links = w.HTML()
        for widget in (self.caption, self.title, self.schedule, self.when):
            widget.observe(self._on_change, names="value")
        self.publish_button.on_click(lambda _b: self._start())
        self.children = [self.platform_row, self.caption, self.caption_counter, self.title,
                         self.title_counter, self.schedule, self.when, self.violation_box,
                         self.publish_button, self.status, self.links]

    def _load_platforms(self) -> None:
        for rule, box in platform_checkboxes(self._client, self.status):
            self._rules[rule.platform] = rule
            box.observe(self._on_change, names="value")
            self.platform_boxes[rule.platform] = box
        self.platform_row.children = list(self.platform_boxes.values())

    def _summary(self) -> str:
        target = getattr(self.item, "id", None) or ("a URL" if self.item else "nothing")
        state = self.post.state if self.post is not None else "not sent"
        return f"{target} → {', '.join(self.selected_platforms) or 'no platform'} ({state})"

    # -- public API ------------------------------------------------------------------------------
    @property
    def selected_platforms(self) -> list[str]:
        return [name for name, box in self.platform_boxes.items() if box.value]

    def set_item(self, item: Any) -> None:
        """Post this render (or resource / URL; None: nothing) instead; re-checks the rules."""
        self.item = item
        self._update()

    def click(self) -> None:
        """Same as clicking Publish (does nothing while there are violations)."""
        self.publish_button.click()

    def cancel(self) -> None:
        """Stop following the post's status (the post itself is not cancelled)."""
        self._worker.cancel()

    # -- checks ----------------------------------------------------------------------------------
    def _on_change(self, _change: dict[str, Any]) -> None:
        self._touched = True
        self._update()

    def _scheduled_time(self) -> _dt.datetime | None:
        return self.when.value if self.schedule.value == "specific_time" else None

    def _update(self) -> None:
        platforms = [self._rules[name] for name in self.selected_platforms]
        labels = [(r.label or r.platform) for r in platforms]
        text, over = counter_text("Caption", len(self.caption.value),
                                  list(zip(labels, [r.max_text for r in platforms], strict=True)))
        show_message(self.caption_counter, text, bad=over)
        text, over = counter_text("Title", len(self.title.value),
                                  list(zip(labels, [r.max_title for r in platforms],
                                           strict=True)))
        show_message(self.title_counter, text, bad=over)
        set_visible(self.when, self.schedule.value == "specific_time")
        self.violations = [form_words(v) for v in self._check()]
        self.violation_box.children = [self._violation_label(v, self._touched)
                                       for v in self.violations]
        self.publish_button.disabled = bool(self.violations) or self._worker.running

    def _check(self) -> list[str]:
        problems = []
        status = getattr(self.item, "status", "completed")
        if self.item is None:
            problems.append("Select a render to publish.")
        elif status != "completed":
            problems.append(f"Render {self.item.id} is {status}; only a completed render "
                            "can be posted.")
        if not self.selected_platforms:
            problems.append("Tick at least one platform.")
            return problems
        try:
            problems += self._client.check_post(
                self.selected_platforms, description=self.caption.value,
                title=self.title.value or None, media_url=url_of(self.item))
        except Exception as exc:
            problems.append(show_error(self.status, exc))
        if self.schedule.value == "specific_time" and self.when.value is None:
            problems.append("Pick the time to publish at (or choose Now / Next available).")
        return problems

    @staticmethod
    def _violation_label(text: str, touched: bool) -> Message:
        """A rule to meet: a neutral to-do until the form is touched, then red."""
        return Message(f"✗ {text}", "bad") if touched else Message(f"To publish: {text}")

    # -- publishing ------------------------------------------------------------------------------
    def _start(self) -> None:
        self._update()
        if self.violations or self._worker.running:
            return
        self.post = None
        self.links.value = ""
        show_message(self.status, "sending…")
        self.publish_button.disabled = True
        item, platforms = self.item, self.selected_platforms  # what was checked and shown
        fields = dict(description=self.caption.value, title=self.title.value or None,
                      schedule_type=self.schedule.value, scheduled_time=self._scheduled_time())
        self._worker.start(lambda cancel: self._work(item, platforms, fields, cancel),
                           self._finished, self._failed)

    def _work(self, item: Any, platforms: list[str], fields: dict[str, Any],
              cancel: threading.Event) -> Any:
        post = self._client.publish(item, platforms, **fields)
        self._sent_item = item
        note_post(self.log_folder, item, post)
        self._on_post(post)
        return self._client.wait_post(post.id, timeout=self.wait_timeout,
                                      on_update=self._on_post, cancel=cancel)

    def _on_post(self, post: Any) -> None:
        self.post = post
        show_message(self.status, f"post {post.id}: {post_state_text(post)}")

    def _finished(self, post: Any) -> None:
        self._on_post(post)
        note_post(self.log_folder, getattr(self, "_sent_item", self.item), post)
        self.publish_button.disabled = bool(self.violations)
        state = post.state
        show_message(self.status, f"post {post.id}: {post_state_text(post)}",
                     bad=state == "failed", good=state == "published")
        links = [fragments.link(s.post_url, f"{s.platform}: {s.post_url}")
                 for s in post.platforms_status if s.post_url]
        self.links.value = "<br>".join(links)
        if post.done:
            self._done_callbacks(post)

    def _failed(self, exc: BaseException) -> None:
        self.publish_button.disabled = bool(self.violations)
        if isinstance(exc, WaitTimeout) and self.post is not None:
            show_message(self.status, f"post {self.post.id} is still {self.post.state}; "
                                      f"check later with client.post({self.post.id!r})")
            return
        show_error(self.status, exc)


def platform_checkboxes(client: Any, message: Message) -> list[tuple[Any, w.Checkbox]]:
    """One unticked checkbox per platform GEN offers, with its rules (``client.platforms()``,
    cached by the client); none, and the reason in ``message``, when they cannot be read."""
    try:
        rules = client.platforms()
    except Exception as exc:
        show_error(message, exc)
        return []
    return [(rule, w.Checkbox(description=rule.label or rule.platform, value=False,
                              indent=False, layout=w.Layout(width="auto", margin="0 1.6em 0 0")))
            for rule in rules]


def note_post(folder: Any, item: Any, post: Any) -> None:
    """Remember which render the post carries (the picker's "published" mark)."""
    from gen_nb.api.settings import download_dir
    from gen_nb.local_state import record_post

    record_post(folder if folder is not None else download_dir(), item, post)
