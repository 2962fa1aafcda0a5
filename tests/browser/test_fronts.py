"""The tour in every front end a marketer uses: JupyterLab Dark (1400 px), JupyterLab with the
file browser open at 800 px (a ~370 px notebook), Notebook 7 and Voila. In each: the dashboard
renders as widgets, a render is picked and downloaded, and the save link — fetched from the
page as the browser would — answers the same bytes as the file on disk; no message is clipped
and every message reaches 4.5:1 contrast.

Screenshots: lab-dark-*, lab-narrow-*, notebook7-*, voila-* in test-artifacts/screenshots/.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from lab_driver import (
    LabServer,
    open_notebook,
    open_tab,
    require,
    run_all_cells,
    screenshot,
    start_lab,
    start_voila,
    stderr_outputs,
    wait_for_widgets,
)
from page_checks import browser_root, check_messages, download_and_fetch, pick
from test_tour import TOUR, close_file_browser, ran_tour


@pytest.fixture()
def render(lab_sandbox: Any) -> Any:
    import gen_nb

    with gen_nb.connect(sandbox=lab_sandbox, quiet=True) as client:
        done = [r for r in client.renders() if r.status == "completed" and r.url]
    return done[-2]


def test_tour_in_jupyterlab_dark(lab: LabServer, page: Any, render: Any) -> None:
    lab.set_theme("JupyterLab Dark")
    try:
        root = ran_tour(page, lab)
        assert page.evaluate("document.body.dataset.jpThemeLight") == "false"
        close_file_browser(page)
        pick(root, render)
        download_and_fetch(page, root, lab.download_dir, render)
        open_tab(root, "Publish").locator(".widget-checkbox input").first.check()
        check_messages(page)
        root.locator(".widget-toggle-button", has_text="Gallery").first.click()
        root.locator(".gen-nb-tile").first.wait_for()
        screenshot(page, "lab-dark-1-gallery-and-messages")
    finally:
        lab.set_theme("JupyterLab Light")


def test_tour_in_narrow_jupyterlab(lab: LabServer, browser: Any, render: Any) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        root = ran_tour(page, lab)  # Lab hides the prompts Run All waits for when narrow
        page.set_viewport_size({"width": 800, "height": 1000})
        page.wait_for_timeout(500)
        assert page.locator(".jp-FileBrowser").first.is_visible(), "the file browser is closed"
        width = root.evaluate("e => e.getBoundingClientRect().width")
        assert width < 500, width
        search = root.locator(".widget-text input").first
        box, view = search.bounding_box(), root.bounding_box()
        assert box["x"] + box["width"] <= view["x"] + view["width"] + 1, "search off-screen"
        clipped_tabs = root.evaluate("""r => [...r.querySelectorAll('.lm-TabBar-tabLabel')]
            .filter(t => t.scrollWidth > t.clientWidth + 1).map(t => t.textContent)""")
        assert not clipped_tabs, clipped_tabs
        pick(root, render)
        download_and_fetch(page, root, lab.download_dir, render)
        check_messages(page)
        screenshot(page, "lab-narrow-1-downloaded")
        root.locator(".widget-toggle-button", has_text="Gallery").first.click()
        root.locator(".gen-nb-tile").first.wait_for()
        columns = root.evaluate("r => getComputedStyle(r.querySelector('.gen-nb-grid'))"
                                ".gridTemplateColumns.split(' ').length")
        assert 1 <= columns <= 3, columns
        tile = root.locator(".gen-nb-tile").first.bounding_box()
        assert tile["x"] + tile["width"] <= view["x"] + view["width"] + 1
        screenshot(page, "lab-narrow-2-gallery")
    finally:
        screenshot(page, "test_tour_in_narrow_jupyterlab-final")
        context.close()


@pytest.fixture(scope="module")
def notebook7(tmp_path_factory: pytest.TempPathFactory, lab_sandbox: Any,
              chromium_path: Any) -> Iterator[LabServer]:
    require("notebook", "pip install notebook (the test extra)")
    server = start_lab(tmp_path_factory.mktemp("nb7"), lab_sandbox, app="notebook")
    try:
        yield server
    finally:
        server.stop()


def test_tour_in_notebook7(notebook7: LabServer, page: Any, render: Any) -> None:
    open_notebook(page, notebook7, TOUR)
    run_all_cells(page, notebook7, TOUR)
    wait_for_widgets(page, ".widget-tab")
    assert not stderr_outputs(page), stderr_outputs(page)
    root = browser_root(page)
    pick(root, render)
    download_and_fetch(page, root, notebook7.download_dir, render)
    check_messages(page)
    screenshot(page, "notebook7-1-downloaded")


@pytest.fixture(scope="module")
def voila(tmp_path_factory: pytest.TempPathFactory, lab_sandbox: Any,
          chromium_path: Any) -> Iterator[LabServer]:
    require("voila", "pip install voila (the test extra)")
    server = start_voila(tmp_path_factory.mktemp("voila"), lab_sandbox, TOUR)
    try:
        yield server
    finally:
        server.stop()


def test_tour_in_voila(voila: LabServer, page: Any, render: Any) -> None:
    page.goto(voila.notebook_url(TOUR), timeout=120_000)
    wait_for_widgets(page, ".widget-tab", timeout_ms=180_000)
    root = browser_root(page)
    root.wait_for(state="visible")
    pick(root, render)
    answer = download_and_fetch(page, root, voila.download_dir, render)
    assert "/voila/files/" in answer["href"]
    check_messages(page)
    screenshot(page, "voila-1-downloaded")
