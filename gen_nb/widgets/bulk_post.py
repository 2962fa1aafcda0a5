"""Bulk publish and bulk delete for the dashboard's "Selection" tab (see ``bulk``).

* :class:`BulkPublish` — platforms and a caption for all the selected renders; the rules are
  checked per render before anything is sent (a render that breaks one is listed and not
  sent), then each post is followed to published / failed.
* :class:`BulkDelete` — one dry run per render, ONE confirmation listing every file and what
  breaks, bound to exactly that list: a changed selection drops it, and a larger plan GEN
  wants for any file deletes nothing of that file and is shown and asked again.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as w

from gen_nb.widgets import actions, fragments
from gen_nb.widgets.delete import TwoClickDelete
from gen_nb.widgets.panel import Message, WorkerPanel, show_error, show_message
from gen_nb.widgets.publish import note_post, platform_checkboxes
from gen_nb.widgets.text import form_words, plan_lines, post_state_text

__all__ = ["BulkDelete", "BulkPublish"]


def _ids(renders: list[Any]) -> list[str]:
    return [r.id for r in renders]


class BulkPublish(WorkerPanel):
    """Post every selected render to the ticked platforms (rules checked per render first)."""

    _fallback = "use client.publish(render, platforms) per render"

    def __init__(self, client: Any, *, log_folder: Any = None) -> None:
        super().__init__()
        self._client, self.log_folder = client, log_folder
        self._init_worker("bulk-publish")
        self.item: list[Any] = []
        self.violations: dict[str, list[str]] = {}
        self.boxes: dict[str, w.Checkbox] = {}
        row = w.HBox(layout=w.Layout(flex_flow="row wrap", width="100%"))
        self.caption = w.Textarea(description="Caption", layout=w.Layout(width="100%"))
        self.title = w.Text(description="Title", placeholder="needed by YouTube",
                            layout=w.Layout(width="100%"))
        self.button = w.Button(description="Publish", icon="paper-plane",
                               button_style="success", layout=w.Layout(width="auto"))
        self.message, self.report = Message(), w.HTML()
        self.button.on_click(lambda _b: self._start())
        self._platforms(row)
        self.children = [row, self.caption, self.title, self.button, self.message, self.report]

    def _platforms(self, row: w.HBox) -> None:
        self.boxes = {rule.platform: box
                      for rule, box in platform_checkboxes(self._client, self.message)}
        row.children = list(self.boxes.values())

    @property
    def platforms(self) -> list[str]:
        return [name for name, box in self.boxes.items() if box.value]

    def set_item(self, item: Any) -> None:
        self.item = list(item or [])
        self.button.description = f"Publish ({len(self.item)})"
        self.button.disabled = not self.item or self._worker.running

    def click(self) -> None:
        self.button.click()

    def check(self) -> dict[str, list[str]]:
        """The violations per render id for the current form (nothing is sent)."""
        self.violations = {rid: [form_words(v) for v in found] for rid, found in
                           actions.check_each(self._client, self.item, self.platforms,
                                              description=self.caption.value,
                                              title=self.title.value or None).items()}
        return self.violations

    def _start(self) -> None:
        if self._worker.running or not self.item:
            return
        try:
            problems = self.check()
        except Exception as exc:
            show_error(self.message, exc)
            return
        good = [r for r in self.item if not problems.get(r.id)]
        bad = [(r, problems[r.id]) for r in self.item if problems.get(r.id)]
        self.report.value = fragments.report(
            ["render", "status", "why not sent"],
            [[r.title or r.id, "skipped", "; ".join(v)] for r, v in bad])
        if not good:
            show_message(self.message, "Nothing sent: every selected render breaks a rule "
                         "(listed below). Fix the caption or title, or tick other platforms.",
                         bad=True)
            return
        fields = dict(description=self.caption.value, title=self.title.value or None,
                      schedule_type="now")
        platforms = self.platforms
        show_message(self.message, f"Posting {len(good)} renders ({len(bad)} skipped)…")
        self.button.disabled = True
        self._worker.start(lambda cancel: actions.publish_each(
            self._client, good, platforms, fields, cancel=cancel, on_post=self._note),
            lambda done: self._finished(done, bad), self._failed)

    def _note(self, render: Any, post: Any) -> None:
        note_post(self.log_folder, render, post)

    def _finished(self, done: list[Any], bad: list[Any]) -> None:
        self.button.disabled = not self.item
        rows = [[o.render.title or o.render.id,
                 o.value.state if o.value is not None else "failed",
                 post_state_text(o.value) if o.value is not None and not o.error else o.error]
                for o in done]
        rows += [[r.title or r.id, "skipped", "; ".join(v)] for r, v in bad]
        self.report.value = fragments.report(["render", "status", "post"], rows)
        published = sum(1 for o in done if o.value is not None and o.value.state == "published")
        show_message(self.message, f"{published} of {len(done)} posts published; "
                     f"{len(bad)} renders not sent.", good=published == len(done) and not bad)
        self._done_callbacks(done)

    def _failed(self, exc: BaseException) -> None:
        self.button.disabled = not self.item
        show_error(self.message, exc)


class BulkDelete(TwoClickDelete):
    """Delete the selected renders' files: one confirmation for the whole list shown."""

    _fallback = "use client.delete_resource(id, dry_run=True) per render"

    def __init__(self, client: Any) -> None:
        super().__init__()
        self._client = client
        self._init_worker("bulk-delete")
        self.item: list[Any] = []
        self.plans: list[Any] = []          # the Outcomes shown, exactly what confirm deletes
        self._controls(w.Button(description="Show what would be deleted…", icon="trash",
                                button_style="warning", layout=w.Layout(width="auto")))
        self.back_out()

    def set_item(self, item: Any) -> None:
        """Another selection: any plan shown for the old one is forgotten."""
        new = list(item or [])
        if _ids(new) != _ids(self.item):
            self.back_out()
        self.item = new
        self.button.disabled = not any(r.output_resource_id for r in self.item)

    def back_out(self) -> None:
        self.plans = []
        self.plan_box.children = []
        self.message.clear()
        self._asking(False)

    def _dry_run(self) -> None:
        if self._worker.running or not self.item:
            return
        renders = list(self.item)
        show_message(self.message, f"Checking what deleting {len(renders)} files would "
                     "destroy…")
        self._worker.start(lambda _c: (renders, actions.plan_deletes(self._client, renders)),
                           self._show_plans, lambda exc: show_error(self.message, exc))

    def _show_plans(self, shown: tuple[list[Any], list[Any]]) -> None:
        renders, plans = shown
        if _ids(renders) != _ids(self.item):
            return  # the selection changed meanwhile: this plan is for something else
        self.plans = [o for o in plans if o.value is not None]
        lines = [Message(f"— {o.render.title or o.render.id}: not deleted ({o.error})")
                 for o in plans if o.value is None]
        for outcome in self.plans:
            lines += [Message(text, "warn" if text.startswith("⚠") else "info")
                      for text in plan_lines(outcome.value)]
        self.plan_box.children = lines
        if not self.plans:
            show_message(self.message, "Nothing to delete in this selection.")
            return
        self.confirm_button.description = f"Confirm delete of {len(self.plans)} files"
        show_message(self.message, f"Deleting is permanent: {len(self.plans)} files and "
                     "everything listed above. Click “Confirm delete” to go ahead.", bad=True)
        self._asking(True)

    def _delete(self) -> None:
        plans = list(self.plans)  # exactly the list on screen, once
        if self._worker.running or not plans:
            return
        self.plans = []
        self.confirm_button.disabled = True
        show_message(self.message, f"Deleting {len(plans)} files…")
        self._worker.start(lambda cancel: actions.delete_planned(self._client, plans,
                                                                 cancel=cancel),
                           self._finished, self._failed)

    def _finished(self, done: list[Any]) -> None:
        self.confirm_button.disabled = False
        deleted = [o for o in done if o.error is None]
        again = [actions.BulkOutcome(o.render, o.again) for o in done if o.again is not None]
        self.plan_box.children = [Message(f"{o.render.title or o.render.id}: "
                                          f"{'deleted' if o.error is None else o.error}",
                                          "ok" if o.error is None else "bad") for o in done]
        self._asking(False)
        if again:
            self._ask_again(again)
        text = f"Deleted {len(deleted)} of {len(done)} files."
        show_message(self.message, text + (" GEN wants more confirmed for the rest (above)."
                                           if again else ""), good=len(deleted) == len(done))
        if deleted:
            self._done_callbacks(deleted)

    def _ask_again(self, again: list[Any]) -> None:
        self.plans = again
        lines = [Message(text, "warn") for o in again for text in plan_lines(o.value)]
        self.plan_box.children = [*self.plan_box.children, *lines]
        self.confirm_button.description = f"Confirm delete of {len(again)} more"
        self._asking(True)

    def _failed(self, exc: BaseException) -> None:
        self.confirm_button.disabled = False
        show_error(self.message, exc)
