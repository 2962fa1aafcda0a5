"""``gen-nb app`` in headless Chromium, as someone who does not code would use it: the dashboard
without code or tutorial prose, on the sandbox (no key), a render picked and downloaded, and the
save link fetched by the browser and compared byte for byte with the file the app wrote; the
CDN link answers the same bytes. Screenshots: wide, and narrow (a phone-width window)."""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from _support import free_port
from lab_driver import require, screenshot, select_option_containing, wait_for_url
from page_checks import browser_root, check_messages, download_and_fetch

START_SECONDS = 150.0


@dataclass
class App:
    url: str
    folder: Path
    process: subprocess.Popen[bytes]


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(30)
    if os.name == "posix":
        with contextlib.suppress(ProcessLookupError):  # anything of its group still left
            os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, chromium_path: Any) -> Iterator[App]:
    require("voila", "pip install voila (the lab extra)")
    where = tmp_path_factory.mktemp("app")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GEN_")}  # no key: sandbox
    log = where / "app.log"
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "gen_nb", "app", "--port", str(port)],
                                   cwd=where, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=os.name == "posix")
    try:
        wait_for_url(process, f"http://127.0.0.1:{port}/", log, timeout=START_SECONDS)
        yield App(f"http://127.0.0.1:{port}/", where / "gen-nb-app", process)
    finally:
        _stop(process)


def _open(page: Any, app: App) -> Any:
    page.goto(app.url, timeout=120_000)
    page.locator(".gen-nb-browser").first.wait_for(state="visible", timeout=180_000)
    return browser_root(page)


def test_app_shows_the_dashboard_without_code_and_saves_a_download(app: App, page: Any) -> None:
    root = _open(page, app)
    text = page.locator("body").inner_text()
    assert "import gen_nb" not in text and "RenderBrowser(" not in text, "code on the page"
    assert "sandbox" in text.lower(), "the app should say it shows the sandbox"
    label = select_option_containing(root, "· completed · #")  # a render, not the filter
    screenshot(page, "app-1-picked")
    answer = download_and_fetch(page, root, app.folder / "downloads")
    assert answer["type"] and answer["type"].startswith("video/"), (label, answer)
    remote = answer["remote"]
    assert remote and remote.startswith("http://127.0.0.1:")
    with urllib.request.urlopen(remote, timeout=30) as r:   # the CDN URL, the second way
        assert hashlib.sha256(r.read()).hexdigest() == answer["sha256"]
    check_messages(page)
    screenshot(page, "app-2-downloaded")


def test_app_in_a_narrow_window(app: App, browser: Any) -> None:
    context = browser.new_context(viewport={"width": 400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        root = _open(page, app)
        tabs = root.locator(".lm-TabBar-tab, .p-TabBar-tab")
        assert tabs.count() >= 4
        assert page.evaluate("document.documentElement.scrollWidth") <= 400 + 1, \
            "the app scrolls sideways in a 400 px window"
        check_messages(page)
        screenshot(page, "app-3-narrow")
    finally:
        context.close()
