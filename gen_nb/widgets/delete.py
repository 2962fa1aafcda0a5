"""DeleteButton: a dry run first, then a second explicit "Confirm delete" click.

The first click asks ``client.delete_resource(id, dry_run=True)`` and lists what would be
destroyed (and the warning that posts using the URL will break); the button turns into a red
"Confirm delete" next to a Cancel. Only that second click deletes
(``delete_resource(id, confirm=True)``, which handles GEN's 428 two-phase flow), then the
``on_deleted`` callbacks run so views can refresh.

>>> from gen_nb.widgets import DeleteButton
>>> button = DeleteButton(client, render)          # doctest: +SKIP
>>> button.click(); button.wait()                  # dry run  # doctest: +SKIP
>>> button.confirm(); button.wait()                # deletes  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets as w

from gen_nb.widgets.panel import Message, WorkerPanel, set_visible, show_error, show_message
from gen_nb.widgets.text import plan_lines, resource_id_of

__all__ = ["DeleteButton", "TwoClickDelete"]


class TwoClickDelete(WorkerPanel):
    """The shape of every delete panel: a first button that only asks (a dry run), then
    "Confirm delete" and Cancel in its place, the plan listed below and a message.

    Subclasses build their first button, call :meth:`_controls` with it and implement
    ``_dry_run``, ``_delete`` and ``back_out``.
    """

    def _controls(self, first: w.Button) -> None:
        self.button = first
        self.confirm_button = w.Button(description="Confirm delete", icon="trash",
                                       button_style="danger", layout=w.Layout(width="auto"),
                                       tooltip="Deletes permanently: this cannot be undone")
        self.cancel_button = w.Button(description="Cancel")
        self.plan_box = w.VBox(layout=w.Layout(width="100%"))
        self.message = Message()
        self.button.on_click(lambda _b: self._dry_run())
        self.confirm_button.on_click(lambda _b: self._delete())
        self.cancel_button.on_click(lambda _b: self.back_out())
        self.children = [w.HBox([self.button, self.confirm_button, self.cancel_button],
                                layout=w.Layout(flex_flow="row wrap")),
                         self.plan_box, self.message]

    def click(self) -> None:
        """The first click: a dry run listing what would be destroyed."""
        self.button.click()

    def confirm(self) -> None:
        """The second, explicit click: delete permanently what the dry run listed."""
        self.confirm_button.click()

    def back_out(self) -> None:
        raise NotImplementedError

    def _asking(self, on: bool) -> None:
        set_visible(self.button, not on)
        set_visible(self.confirm_button, on)
        set_visible(self.cancel_button, on)

    def _dry_run(self) -> None:
        raise NotImplementedError

    def _delete(self) -> None:
        raise NotImplementedError


class DeleteButton(TwoClickDelete):
    """Two-click permanent delete of a render's stored file (or any content resource).

    ``click()`` = first click (dry run), ``confirm()`` = the second, explicit click,
    ``back_out()`` = Cancel; ``wait(timeout)`` joins the worker. ``.plan`` is the last DeletePlan,
    ``.deleted`` whether the delete happened, ``.error`` the last error.
    """

    _fallback = "use client.delete_resource(id, dry_run=True) then confirm=True"

    def __init__(self, client: Any, item: Any = None) -> None:
        super().__init__()
        self._client = client
        self._init_worker("delete")
        self.plan: Any = None
        self.deleted = False
        self._controls(w.Button(description="Delete…", icon="trash", button_style="warning",
                                tooltip="Shows what would be deleted; deletes nothing yet"))
        self.item: Any = None
        self.set_item(item)

    def _summary(self) -> str:
        state = "deleted" if self.deleted else ("confirming" if self.plan else "idle")
        return f"resource {self.resource_id or '–'} ({state})"

    # -- public API ------------------------------------------------------------------------------
    @property
    def resource_id(self) -> str | None:
        return resource_id_of(self.item)

    def set_item(self, item: Any) -> None:
        """Point at another render / layer output / resource (or its id); forgets any pending
        confirmation (a plan is only ever confirmed for the item it was made for). The same
        render again after its delete (refreshed, now without a file) keeps the result."""
        if self.deleted and item is not None and _key(item) == _key(self.item):
            self.item = item
            return
        self.item = item
        self.deleted = False
        self.back_out()
        if item is not None and self.resource_id is None:
            show_message(self.message, _nothing_text(item))
        self.button.disabled = self.resource_id is None

    def back_out(self) -> None:
        """Cancel: forget the plan, show the first button again."""
        self.plan = None
        self.plan_box.children = []
        show_message(self.message, "")
        self._asking(False)

    def on_deleted(self, callback: Callable[[Any], Any], remove: bool = False) -> None:
        """Call ``callback(plan)`` after a successful delete (the same as ``on_done``)."""
        self.on_done(callback, remove)

    # -- internals -------------------------------------------------------------------------------
    def _busy(self, text: str) -> None:
        show_message(self.message, text)
        for button in (self.button, self.confirm_button, self.cancel_button):
            button.disabled = True

    def _idle(self) -> None:
        for button in (self.button, self.confirm_button, self.cancel_button):
            button.disabled = False
        self.button.disabled = self.resource_id is None or self.deleted

    def _dry_run(self) -> None:
        rid = self.resource_id
        if rid is None or self._worker.running:
            return
        self._busy("checking what would be deleted…")
        self._worker.start(lambda _c: self._client.delete_resource(rid, dry_run=True),
                           self._show_plan, self._failed)

    def _show_plan(self, plan: Any) -> None:
        if str(plan.resource_id) != self.resource_id:  # the item changed meanwhile: stale
            self._idle()
            return
        self.plan = plan
        self._idle()
        self.plan_box.children = [self._line(text) for text in plan_lines(plan)]
        show_message(self.message, "Deleting is permanent. Click “Confirm delete” to go ahead.",
                     bad=True)
        self._asking(True)

    def _delete(self) -> None:
        plan = self.plan  # delete exactly what the user was shown, once
        if plan is None or plan.deleted or self.deleted or self._worker.running:
            return
        rid = str(plan.resource_id)
        self._busy("deleting…")
        self._worker.start(
            lambda _c: self._client.delete_resource(rid, confirm=True, plan=plan),
            self._finished, self._failed)

    def _finished(self, plan: Any) -> None:
        self.deleted = True
        self.plan = plan
        self._idle()
        set_visible(self.confirm_button, False)
        set_visible(self.cancel_button, False)
        set_visible(self.button, True)
        self.plan_box.children = [self._line(text) for text in plan_lines(plan)]
        name = f" ({plan.file_name})" if getattr(plan, "file_name", None) else ""
        show_message(self.message, f"Deleted content resource {plan.resource_id}{name}. Its URL "
                     "now answers 404; the list shows it as “file deleted”.", good=True)
        self._done_callbacks(plan)

    def _failed(self, exc: BaseException) -> None:
        larger = getattr(exc, "plan", None)
        if larger is not None and self.plan is not None and \
                str(larger.resource_id) == self.resource_id:
            self._ask_again(larger)     # the server's plan goes further: show it, ask again
            return
        self._idle()
        show_error(self.message, exc)

    def _ask_again(self, server_plan: Any) -> None:
        self.plan = server_plan
        self._idle()
        self.plan_box.children = [self._line(text) for text in plan_lines(server_plan)]
        show_message(self.message, "GEN says this delete destroys more than shown before (the "
                     "list above). Nothing was deleted. Click “Confirm delete” again to delete "
                     "all of it, or Cancel.", bad=True)
        self._asking(True)

    @staticmethod
    def _line(text: str) -> Message:
        return Message(text, "warn" if text.startswith("⚠") else "info")


def _key(item: Any) -> str:
    return str(getattr(item, "id", item))


def _nothing_text(item: Any) -> str:
    status = getattr(item, "status", None)
    if status == "completed":
        return "Nothing to delete: this render has no stored file (it was deleted already)."
    if status in ("pending", "processing"):
        return f"Nothing to delete yet: the render is {status} and has no file."
    return "Nothing to delete: this has no stored file."
