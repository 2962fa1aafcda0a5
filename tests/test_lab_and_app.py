"""The lab task's own settings (no news toast, tracked notebooks saved without outputs) and
``gen-nb app`` (the dashboard on Voila, bound to 127.0.0.1)."""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import time
import types
import urllib.request
from pathlib import Path

import pytest
from _support import free_port

ROOT = Path(__file__).resolve().parents[1]


def _tasks() -> types.ModuleType:
    spec = importlib.util.spec_from_file_location("tasks_under_test", ROOT / "tasks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _hook(notebooks: Path) -> object:
    config = types.SimpleNamespace(ContentsManager=types.SimpleNamespace())
    exec(_tasks().SERVER_CONFIG % str(notebooks), {"c": config})
    return config.ContentsManager.pre_save_hook


def _model(outputs: bool = True) -> dict:
    cell = {"cell_type": "code", "source": "1", "outputs": [{"output_type": "stream"}] if
            outputs else [], "execution_count": 3 if outputs else None}
    return {"type": "notebook", "content": {"cells": [cell], "metadata": {"widgets": {}}}}


def test_tracked_notebooks_are_saved_without_outputs(tmp_path: Path) -> None:
    (tmp_path / "00_tour.ipynb").write_text("{}")
    hook = _hook(tmp_path)
    tracked, mine = _model(), _model()
    hook(tracked, "00_tour.ipynb", None)
    hook(mine, "my_analysis.ipynb", None)
    cell = tracked["content"]["cells"][0]
    assert cell["outputs"] == [] and cell["execution_count"] is None
    assert "widgets" not in tracked["content"]["metadata"]
    assert mine["content"]["cells"][0]["outputs"], "a user's own notebook keeps its outputs"


def test_the_lab_turns_the_news_toast_off() -> None:
    settings = _tasks().LAB_SETTINGS["@jupyterlab/apputils-extension:notification"]
    assert settings["fetchNews"] == "false"


@pytest.mark.timeout(180)
def test_the_app_serves_the_dashboard_on_localhost(tmp_path: Path) -> None:
    if importlib.util.find_spec("voila") is None:
        if os.environ.get("CI"):
            pytest.fail("voila is missing: it is in the test extra")
        pytest.skip("voila is not installed")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GEN_")}
    process = subprocess.Popen([sys.executable, "-m", "gen_nb", "app", "--port", str(port)],
                               cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True,
                               start_new_session=os.name == "posix")
    try:
        page = ""
        deadline = time.monotonic() + 150
        while time.monotonic() < deadline and process.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30) as r:
                    page = r.read().decode()
                break
            except OSError:
                time.sleep(0.5)
        assert "application/vnd.jupyter.widget-view+json" in page, page[-2000:]
        assert "Sandbox:" in page and "GEN renders" in page
        assert "import gen_nb" not in page, "the app shows outputs, never code"
        assert (tmp_path / "gen-nb-app" / "downloads").is_dir()
        process.terminate()  # SIGTERM, as a service manager would stop it
        process.wait(60)
        if os.name == "posix":
            assert not _group_alive(process.pid, 40), "the Voila server outlived gen-nb app"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(30)
        if os.name == "posix" and _group_alive(process.pid, 0):
            os.killpg(process.pid, signal.SIGKILL)


def _group_alive(pgid: int, seconds: float) -> bool:
    """Whether any process of the group is left after waiting up to ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        if time.monotonic() >= deadline:
            return True
        time.sleep(0.2)
