"""Start a private JupyterLab / Notebook 7 / Voila server and drive its notebooks from Playwright.

``start_lab(workdir, sandbox)`` runs ``python -m jupyterlab`` from this interpreter (the repo's
.venv, so the python3 kernel is the venv's) on 127.0.0.1 port 0 with a random token and private
Jupyter folders; the kernels it starts see only the given sandbox. ``start_lab(...,
app="notebook")`` runs Notebook 7 the same way; ``start_voila(workdir, sandbox, notebook)``
serves one notebook with Voila, configured to serve downloaded media
(``--VoilaConfiguration.file_allowlist``, see :data:`VOILA_FILE_ALLOWLIST`). The page helpers
wrap the recipe in shared testing.md: open, wait for the kernel's Idle, Run All Cells from the
Run menu, wait for real widget DOM, screenshot.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from _support import free_port
from notebook_harness import kernel_env

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK_DIR = ROOT / "notebooks"
ARTIFACTS = ROOT / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
START_TIMEOUT = 120.0
RUN_TIMEOUT_MS = 180_000
WIDGET_SELECTOR = ".jupyter-widgets"
# True once every non-empty code cell of the shown notebook has an execution count "[n]".
ALL_CELLS_RAN_JS = r"""() => {
    const cells = [...document.querySelectorAll(
        '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell')]
        .filter(c => c.querySelector('.cm-content')?.textContent.trim());
    return cells.length > 0 && cells.every(
        c => /\[\d+\]/.test(c.querySelector('.jp-InputArea-prompt')?.textContent ?? ''));
}"""
LAB_SETTINGS = {
    # Lab asks "get notified about Jupyter news?" in a toast unless told not to fetch news.
    "apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False},
    # Without this Lab asks which kernel to start, even for a notebook naming python3.
    # windowingMode "none": every cell stays in the DOM, so waits and queries see all of them.
    "notebook-extension:tracker": {"autoStartDefaultKernel": True, "windowingMode": "none"},
}


@dataclass
class LabServer:
    """A running JupyterLab: where it listens, what it serves, which sandbox its kernels use."""

    url: str
    token: str
    root: Path
    download_dir: Path
    sandbox: Any
    process: subprocess.Popen[bytes]
    log_path: Path
    settings_dir: str = ""

    app: str = "lab"

    def notebook_url(self, relative_path: str) -> str:
        """Lab with only this notebook open (``reset`` drops tabs restored from a workspace);
        Notebook 7's page for it; Voila's one page."""
        if self.app == "notebook":
            return f"{self.url}/notebooks/{relative_path}?token={self.token}"
        if self.app == "voila":
            return f"{self.url}/"
        return f"{self.url}/lab/tree/{relative_path}?reset&token={self.token}"

    def set_theme(self, name: str) -> None:
        """The Lab theme the next page load uses ("JupyterLab Light" / "JupyterLab Dark")."""
        folder = Path(self.settings_dir) / "@jupyterlab" / "apputils-extension"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "themes.jupyterlab-settings").write_text(json.dumps({"theme": name}))

    def end_sessions(self, relative_path: str) -> None:
        """Shut down any kernel session the server holds for that notebook."""
        for session in self.api("sessions"):
            if session.get("path") == relative_path:
                self.api(f"sessions/{session['id']}", method="DELETE")

    def api(self, path: str, method: str = "GET") -> Any:
        """Call the server's REST API; returns the decoded JSON (None for an empty body)."""
        request = urllib.request.Request(
            f"{self.url}/api/{path}", method=method,
            headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def stop(self) -> None:
        """Shut its kernels down through the API, then stop the server (kill if it hangs)."""
        if self.process.poll() is None:
            try:
                for kernel in self.api("kernels") if self.app != "voila" else []:
                    self.api(f"kernels/{kernel['id']}", method="DELETE")
            except (OSError, ValueError):
                pass
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.log_path, ARTIFACTS / f"jupyter{self.app}.log")


def _private_dirs(workdir: Path) -> dict[str, str]:
    """Jupyter's config/data/runtime/settings/workspaces folders, all inside workdir."""
    names = {
        "JUPYTER_CONFIG_DIR": "config", "JUPYTER_DATA_DIR": "data",
        "JUPYTER_RUNTIME_DIR": "runtime", "JUPYTERLAB_SETTINGS_DIR": "settings",
        "JUPYTERLAB_WORKSPACES_DIR": "workspaces",
    }
    paths = {var: workdir / name for var, name in names.items()}
    for path in paths.values():
        path.mkdir(parents=True, exist_ok=True)
    settings = paths["JUPYTERLAB_SETTINGS_DIR"] / "@jupyterlab"
    for name, values in LAB_SETTINGS.items():
        extension, plugin = name.split(":")
        (settings / extension).mkdir(parents=True, exist_ok=True)
        (settings / extension / f"{plugin}.jupyterlab-settings").write_text(json.dumps(values))
    return {var: str(path) for var, path in paths.items()}


def lab_env(workdir: Path, sandbox: Any, download_dir: Path) -> dict[str, str]:
    """The server's (and so its kernels') environment: private Jupyter dirs, this sandbox only."""
    env = {k: v for k, v in kernel_env(sandbox, download_dir).items()
           if not k.startswith("JUPYTER")}
    env.update(_private_dirs(workdir))
    env.update({
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        "JUPYTER_PATH": str(Path(sys.prefix) / "share" / "jupyter"),
    })
    return env


def lab_command(root: Path, token: str, app: str = "lab") -> list[str]:
    module = "jupyterlab" if app == "lab" else "notebook"
    extra = ["--LabApp.news_url=None",
             "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"] if app == "lab" \
        else []
    return [
        sys.executable, "-m", module, "--no-browser", "--allow-root",
        "--ip=127.0.0.1", "--port=0", "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
        "--ServerApp.terminals_enabled=False", *extra,
    ]


def _served_root(workdir: Path) -> tuple[Path, Path]:
    """A temp copy of notebooks/ with a downloads/ folder inside (so the files route reaches
    the downloaded files)."""
    root = workdir / "root"
    shutil.copytree(NOTEBOOK_DIR, root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    download_dir = root / "downloads"
    download_dir.mkdir(exist_ok=True)
    return root, download_dir


def start_lab(workdir: Path, sandbox: Any, app: str = "lab") -> LabServer:
    """Copy notebooks/ to workdir/root and serve it with JupyterLab (or Notebook 7 with
    ``app="notebook"``); returns once the API answers."""
    root, download_dir = _served_root(workdir)
    env = lab_env(workdir, sandbox, download_dir)
    log_path = workdir / f"jupyter{app}.log"
    token = secrets.token_hex(24)
    with log_path.open("wb") as log:
        process = subprocess.Popen(lab_command(root, token, app), env=env, cwd=root,
                                   stdout=log, stderr=subprocess.STDOUT)
    server = LabServer("", token, root, download_dir, sandbox, process, log_path,
                       env["JUPYTERLAB_SETTINGS_DIR"], app)
    try:
        server.url = _wait_until_ready(process, Path(env["JUPYTER_RUNTIME_DIR"]), log_path)
    except BaseException:
        server.stop()
        raise
    return server


VOILA_FILE_ALLOWLIST = r"['.*\.(mp4|mp3|jpg|jpeg|png|webm|wav)']"
"""What a Voila user needs so the save links work: Voila serves ``voila/files/…`` only for
allowlisted names (otherwise 403 "File not allowlisted")."""


def voila_command(notebook: Path, port: int) -> list[str]:
    return [sys.executable, "-m", "voila", str(notebook), "--no-browser", f"--port={port}",
            "--Voila.ip=127.0.0.1", f"--VoilaConfiguration.file_allowlist={VOILA_FILE_ALLOWLIST}",
            "--VoilaConfiguration.show_tracebacks=True"]


def start_voila(workdir: Path, sandbox: Any, notebook: str) -> LabServer:
    """Serve ``notebook`` (of a temp copy of notebooks/) with Voila; returns once it answers."""
    root, download_dir = _served_root(workdir)
    env = lab_env(workdir, sandbox, download_dir)
    log_path = workdir / "voila.log"
    port = free_port()
    with log_path.open("wb") as log:
        process = subprocess.Popen(voila_command(root / notebook, port), env=env, cwd=root,
                                   stdout=log, stderr=subprocess.STDOUT)
    server = LabServer(f"http://127.0.0.1:{port}", "", root, download_dir, sandbox, process,
                       log_path, env["JUPYTERLAB_SETTINGS_DIR"], "voila")
    try:
        wait_for_url(process, f"{server.url}/voila/static/", log_path)
    except BaseException:
        server.stop()
        raise
    return server


def wait_for_url(process: subprocess.Popen[bytes], url: str, log_path: Path,
                 timeout: float = START_TIMEOUT) -> None:
    """Return once ``url`` answers (any status); RuntimeError with the end of the server's
    log when the process exits first, or when ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}:\n"
                               + log_path.read_text(errors="replace")[-4000:])
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except urllib.error.HTTPError:
            return  # it answers (an error status is an answer)
        except (OSError, urllib.error.URLError):
            time.sleep(0.25)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


def _wait_until_ready(process: subprocess.Popen[bytes], runtime_dir: Path,
                      log_path: Path) -> str:
    """Poll the server's runtime file, then its API; fail fast if the process dies."""
    deadline = time.monotonic() + START_TIMEOUT
    info_file = runtime_dir / f"jpserver-{process.pid}.json"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"jupyter lab exited with {process.returncode}:\n"
                               + log_path.read_text(errors="replace")[-4000:])
        if info_file.exists():
            try:
                info = json.loads(info_file.read_text())
                url = f"http://127.0.0.1:{info['port']}"
                with urllib.request.urlopen(f"{url}/api/status?token={info['token']}",
                                            timeout=5):
                    return url
            except (OSError, ValueError, KeyError, urllib.error.URLError):
                pass
        time.sleep(0.25)
    raise RuntimeError(f"jupyter lab did not answer within {START_TIMEOUT:.0f} s:\n"
                       + log_path.read_text(errors="replace")[-4000:])


def screenshot(page: Any, name: str) -> Path:
    """Save a full-page PNG to test-artifacts/screenshots/<name>.png and return its path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / (re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") + ".png")
    page.screenshot(path=str(path), full_page=True)
    return path


def kernel_state(lab: LabServer, relative_path: str) -> str | None:
    """The execution state of the kernel the server runs for that notebook, if any."""
    for session in lab.api("sessions"):
        if session.get("path") == relative_path and session.get("kernel"):
            return str(session["kernel"].get("execution_state"))
    return None


def wait_for_kernel_idle(page: Any, lab: LabServer, relative_path: str,
                         timeout_s: float = 120.0) -> None:
    """Wait until the notebook has a running kernel that is idle, on the server and in the page
    (Lab's status bar; Notebook 7 has none)."""
    deadline = time.monotonic() + timeout_s
    while kernel_state(lab, relative_path) != "idle":
        if time.monotonic() > deadline:
            raise TimeoutError(f"no idle kernel for {relative_path} after {timeout_s:.0f} s")
        time.sleep(0.25)
    if lab.app == "lab":
        page.locator("#jp-main-statusbar", has_text="Idle").wait_for(timeout=timeout_s * 1000)


def open_notebook(page: Any, lab: LabServer, relative_path: str) -> None:
    """Open a notebook in Lab on a fresh kernel and wait until that kernel is Idle."""
    lab.end_sessions(relative_path)
    page.goto(lab.notebook_url(relative_path))
    page.locator(".jp-NotebookPanel .jp-Notebook").first.wait_for(timeout=90_000)
    wait_for_kernel_idle(page, lab, relative_path)


def run_all_cells(page: Any, lab: LabServer, relative_path: str,
                  timeout_ms: int = RUN_TIMEOUT_MS) -> None:
    """Run menu → Run All Cells, then wait until every code cell has run and the kernel idles."""
    page.locator(".lm-MenuBar-item", has_text=re.compile(r"^Run$")).first.click()
    page.locator(".lm-Menu-item:visible", has_text="Run All Cells").first.click()
    page.wait_for_function(ALL_CELLS_RAN_JS, timeout=timeout_ms)
    wait_for_kernel_idle(page, lab, relative_path, timeout_ms / 1000)


def wait_for_widgets(page: Any, selector: str = WIDGET_SELECTOR, timeout_ms: int = 60_000) -> Any:
    """Wait until real widget DOM (not a text repr) is visible; returns the first match."""
    widget = page.locator(f".jp-OutputArea-output {selector}").first
    widget.wait_for(state="visible", timeout=timeout_ms)
    return widget


def stderr_outputs(page: Any) -> list[str]:
    """Text of every error output shown in the notebook (tracebacks), for failure messages."""
    return page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
                        ).all_inner_texts()


def open_tab(root: Any, title: str) -> Any:
    """Click the ipywidgets Tab title ``title`` inside ``root``; returns the shown contents."""
    root.locator(".widget-tab .lm-TabBar-tab", has_text=re.compile(f"^{re.escape(title)}$")
                 ).first.click()
    panel = root.locator(".widget-tab-contents > .widget-box:visible").first
    panel.wait_for(state="visible")
    return panel


def select_option_containing(root: Any, text: str) -> str:
    """In the ipywidgets Select/Dropdown in ``root`` that offers it, choose the option containing
    ``text``; returns the option's label (ipywidgets shows spaces as no-break spaces)."""
    option = root.page.locator("option", has_text=text)
    select = root.locator(".widget-select select, .widget-dropdown select").filter(
        has=option).first
    label = select.locator("option", has_text=text).first.inner_text()
    select.select_option(label=label)
    return label


def wait_for_full_bar(page: Any, root: Any, style: str = "success",
                      timeout_ms: int = 60_000) -> None:
    """Wait until the first progress bar in ``root`` is at 100% with bar_style ``style``."""
    bar = root.locator(".widget-hprogress .progress-bar").first
    bar.wait_for(state="attached", timeout=timeout_ms)
    page.wait_for_function(
        "([bar, cls]) => bar.style.width === '100%' && bar.classList.contains(cls)",
        arg=[bar.element_handle(), f"progress-bar-{style}"], timeout=timeout_ms)


def unavailable(reason: str) -> None:
    """Skip locally; fail under CI, where the browser test must run."""
    if os.environ.get("CI"):
        pytest.fail(f"browser test cannot run in CI: {reason}", pytrace=False)
    pytest.skip(reason)


def require(module: str, how: str) -> None:
    """The front end ``module`` (notebook, voila) must be importable: skip locally, fail in CI."""
    import importlib.util

    if importlib.util.find_spec(module) is None:
        unavailable(f"{module} is not installed: {how}")
