"""Helpers for driving ipywidgets without a kernel (see shared testing notes)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import ipywidgets
from ipywidgets.widgets.widget import _instances


def click(button: ipywidgets.Button) -> None:
    """Exactly what the front end sends when the button is clicked."""
    button._handle_custom_msg({"event": "click"}, [])


def all_states(root: ipywidgets.Widget) -> Iterator[tuple[ipywidgets.Widget, dict[str, Any]]]:
    """Every widget reachable from root (children, layout, style …) with its synced state."""
    seen: set[str] = set()
    stack = [root]
    while stack:
        widget = stack.pop()
        if widget.model_id in seen:
            continue
        seen.add(widget.model_id)
        state = widget.get_state()
        yield widget, state
        pending: list[Any] = [state]
        while pending:
            value = pending.pop()
            if isinstance(value, dict):
                pending.extend(value.values())
            elif isinstance(value, list | tuple):
                pending.extend(value)
            elif isinstance(value, str) and value.startswith("IPY_MODEL_"):
                stack.append(_instances[value[10:]])


def html_values(root: ipywidgets.Widget) -> list[str]:
    """The values of every HTML widget under root."""
    return [s["value"] for wd, s in all_states(root) if isinstance(wd, ipywidgets.HTML)]
