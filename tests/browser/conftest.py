"""JupyterLab in headless Debian chromium, driven by Playwright, against a private gen_nb sandbox.

Fixtures:
- ``lab``: a JupyterLab server (127.0.0.1, port 0, token, private config/runtime/settings dirs)
  whose root is a temp copy of notebooks/ and whose kernels talk to the session's own sandbox
  (GEN_API_BASE_URL/GEN_API_KEY/GEN_AGENT_ID) and download into ``lab.download_dir``
  (``<root>/downloads``, so Lab can link the finished files).
- ``page``: a fresh browser page; a screenshot lands in test-artifacts/screenshots/ when the
  test ends (``<test>-failed.png`` or ``<test>-final.png``).
Helpers live in ``tests/browser/lab_driver.py`` (open a notebook, run all cells, wait for widgets,
``require`` a front end).

Where /usr/bin/chromium, playwright, notebook or voila is missing the tests skip, except under
CI (``CI`` set), where they fail: CI must never pass by not running the browser test.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lab_driver import SCREENSHOTS, LabServer, screenshot, start_lab, unavailable

# --doctest-modules would import this file a second time as a module named "conftest",
# which clashes with the other conftest.py (pytest 9); it has no doctests
collect_ignore = ["conftest.py"]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]



def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything under tests/browser/ carries the ``browser`` marker (``-m "not browser"``)."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Remember each phase's report on the item, so fixtures can tell a failed test."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    if not CHROMIUM.exists():
        unavailable(f"{CHROMIUM} is missing: apt-get install -y chromium")
    return CHROMIUM


@pytest.fixture(scope="session")
def browser(chromium_path: Path) -> Iterator[Any]:
    """Headless Debian chromium (never a browser downloaded by playwright)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright is not installed: pip install -e '.[test]'")
    args = [*CHROMIUM_ARGS, *(["--no-sandbox"] if os.geteuid() == 0 else [])]
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)  # the artifacts show this run only
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(chromium_path), headless=True, args=args)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="session")
def lab_sandbox() -> Iterator[Any]:
    """The browser tests' own sandbox: quick renders and publishing, no other test's faults."""
    from gen_nb import sandbox

    handle = sandbox.start(render_seconds=2.0, publish_seconds=1.0)
    try:
        yield handle
    finally:
        handle.stop()


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory, lab_sandbox: Any,
        chromium_path: Path) -> Iterator[LabServer]:
    """A running JupyterLab on a temp copy of notebooks/, stopped (with its kernels) at the end."""
    server = start_lab(tmp_path_factory.mktemp("lab"), lab_sandbox)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture()
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh page (1400×1000); screenshot at the end, named after the test and its outcome."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    new_page = context.new_page()
    new_page.set_default_timeout(30_000)
    try:
        yield new_page
    finally:
        report = getattr(request.node, "report_call", None)
        outcome = "failed" if report is None or report.failed else "final"
        screenshot(new_page, f"{request.node.name}-{outcome}")
        context.close()
