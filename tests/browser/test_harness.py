"""The browser harness itself works: Lab starts on the venv kernel with the test sandbox's
settings, ipywidgets render as real DOM, a click in the page reaches the kernel and back, and
every DOM helper the tour test relies on (tabs, select, checkbox, progress bar) finds its target.
"""

from __future__ import annotations

import sys
from typing import Any

import nbformat
from lab_driver import (
    LabServer,
    open_notebook,
    open_tab,
    run_all_cells,
    screenshot,
    select_option_containing,
    stderr_outputs,
    wait_for_full_bar,
    wait_for_widgets,
)

ENV_CELL = """\
import os, sys
print("kernel python:", sys.executable)
print("api base:", os.environ["GEN_API_BASE_URL"])
print("downloads:", os.environ["GEN_NB_DOWNLOAD_DIR"])"""

CLICK_CELL = """\
import ipywidgets as widgets
slider = widgets.IntSlider(value=3, min=0, max=10, description="n")
button = widgets.Button(description="Bump")
label = widgets.Label(value="clicks: 0")
def bump(_):
    slider.value += 1
    label.value = f"clicks: {slider.value - 3}"
button.on_click(bump)
widgets.VBox([slider, button, label])"""

TABS_CELL = """\
choices = widgets.Select(options=["first · #1", "second · #2"], description="Render")
box = widgets.Checkbox(description="TikTok", value=False, indent=False)
bar = widgets.FloatProgress(value=100.0, min=0.0, max=100.0, bar_style="success")
echo = widgets.Label(value="nothing yet")
choices.observe(lambda c: setattr(echo, "value", f"picked {c['new']}"), names="value")
box.observe(lambda c: setattr(echo, "value", f"ticked {c['new']}"), names="value")
tabs = widgets.Tab(children=[widgets.VBox([choices]), widgets.VBox([box, bar])],
                   titles=["Pick", "Send"])
widgets.VBox([tabs, echo])"""


def write_scratch_notebook(lab: LabServer) -> str:
    """A small widget notebook inside Lab's root; returns its path relative to the root."""
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(c) for c in (ENV_CELL, CLICK_CELL, TABS_CELL)])
    nb.metadata["kernelspec"] = {
        "name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    path = lab.root / "scratch" / "harness.ipynb"
    path.parent.mkdir(exist_ok=True)
    nbformat.write(nb, path)
    return "scratch/harness.ipynb"


def test_harness_widgets_render(lab: LabServer, page: Any, lab_sandbox: Any) -> None:
    notebook = write_scratch_notebook(lab)
    open_notebook(page, lab, notebook)
    run_all_cells(page, lab, notebook)
    assert not stderr_outputs(page), stderr_outputs(page)

    text = "\n".join(page.locator(".jp-OutputArea-output").all_inner_texts())
    assert f"kernel python: {sys.executable}" in text
    assert f"api base: {lab_sandbox.api_base}" in text
    assert f"downloads: {lab.download_dir}" in text
    assert "VBox(children=" not in text, "widgets rendered as their text repr"

    wait_for_widgets(page, ".widget-vbox")
    slider = page.locator(".jp-OutputArea-output .widget-slider").first
    assert slider.is_visible()
    page.get_by_role("button", name="Bump").click()
    page.get_by_text("clicks: 1", exact=True).wait_for()
    assert slider.locator(".widget-readout").inner_text().strip() == "4"


def test_harness_helpers_find_tabs_select_checkbox_and_bar(
        lab: LabServer, page: Any) -> None:
    notebook = write_scratch_notebook(lab)
    open_notebook(page, lab, notebook)
    run_all_cells(page, lab, notebook)
    root = page.locator(".jp-OutputArea-output .widget-vbox",
                        has=page.locator(".widget-tab")).first
    wait_for_widgets(page, ".widget-tab")

    assert select_option_containing(root, "#2").replace("\xa0", " ") == "second · #2"
    page.get_by_text("picked second · #2", exact=True).wait_for()

    send = open_tab(root, "Send")
    send.locator(".widget-checkbox", has_text="TikTok").locator("input").check()
    page.get_by_text("ticked True", exact=True).wait_for()
    wait_for_full_bar(page, send)
    print("screenshot:", screenshot(page, "harness-widgets-after-clicks"))
