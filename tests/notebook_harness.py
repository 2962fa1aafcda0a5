"""The notebook harness: execute a notebook of notebooks/ against a sandbox and read the result.

The session fixture ``notebook_run`` (tests/conftest.py) is built on it.
Each notebook runs once per session, in its own sandbox on the default (demo) world, as a class
would see it (a notebook that deletes or publishes cannot change what the next one sees), in a
temp copy of notebooks/, with a python3 kernel that is exactly this interpreter (the repo's
.venv). Per-notebook assertions reuse that run:

    def test_download_notebook_lands_the_file(notebook_run: NotebookRunner) -> None:
        run = notebook_run("02_download.ipynb")
        assert any(run.download_dir.iterdir())
        assert "sha256:" in run.text_output()
        states = run.widget_states()          # model id → {"model_name": ..., "state": {...}}
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(p.name for p in NOTEBOOK_DIR.glob("*.ipynb"))
CELL_TIMEOUT = 120
MAX_EXECUTED_BYTES = 200_000
WIDGET_STATE_MIME = "application/vnd.jupyter.widget-state+json"
MEDIA_MIMES = ("video/", "audio/", "image/")



@dataclass
class NotebookRun:
    """One executed notebook: the result, where it ran, and the sandbox it talked to."""

    name: str
    nb: nbformat.NotebookNode
    workdir: Path
    download_dir: Path
    sandbox: Any
    saved_path: Path

    def outputs(self) -> list[nbformat.NotebookNode]:
        """Every output of every code cell, in order."""
        return code_outputs(self.nb)

    def text_output(self) -> str:
        """All stream text and text/plain + text/html results joined, for substring checks."""
        parts: list[str] = []
        for out in self.outputs():
            if out.output_type == "stream":
                parts.append(out.text)
            data = out.get("data", {})
            parts.extend(str(data[mime]) for mime in ("text/plain", "text/html") if mime in data)
        return "\n".join(parts)

    def widget_states(self) -> dict[str, dict[str, Any]]:
        """Saved widget models: model id → {"model_name", "model_module", "state", ...}."""
        saved = self.nb.metadata.get("widgets", {}).get(WIDGET_STATE_MIME, {})
        return dict(saved.get("state", {}))

    def widgets_named(self, model_name: str) -> list[dict[str, Any]]:
        """States of the saved widgets of one kind, e.g. "ButtonModel" or "FloatProgressModel"."""
        return [m["state"] for m in self.widget_states().values()
                if m.get("model_name") == model_name]


NotebookRunner = Callable[[str], NotebookRun]


def code_outputs(nb: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    """Every output of every code cell, in order."""
    return [out for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs]


def python3_kernel_manager(spec_dir: Path) -> AsyncKernelManager:
    """A KernelManager whose only "python3" kernel is this interpreter (no user-level override).

    Its connection file goes in ``spec_dir`` too: left to itself jupyter_client makes one with
    ``tempfile.mkstemp`` in the system temp folder, and nbclient's shutdown left every one of
    them behind (one per notebook run)."""
    kernel = spec_dir / "python3"
    kernel.mkdir(parents=True, exist_ok=True)
    (kernel / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (gen_nb test)",
        "language": "python",
    }))
    specs = KernelSpecManager(kernel_dirs=[str(spec_dir)], ensure_native_kernel=False)
    return AsyncKernelManager(kernel_name="python3", kernel_spec_manager=specs,
                              connection_file=str(spec_dir / "connection.json"))


def kernel_env(sandbox: Any, download_dir: Path) -> dict[str, str]:
    """This process's environment minus any GEN settings, plus the given sandbox's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GEN_")}
    env.update({
        "GEN_API_BASE_URL": sandbox.api_base,
        "GEN_API_KEY": sandbox.api_key,
        "GEN_AGENT_ID": str(sandbox.agent_id),
        "GEN_NB_DOWNLOAD_DIR": str(download_dir),
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    })
    return env


def execute_notebook(name: str, workdir: Path, sandbox: Any) -> NotebookRun:
    """Copy notebooks/ into workdir and run ``name`` there against ``sandbox``, which must
    serve the default (demo) world: notebooks are checked against what a class sees."""
    if sandbox.world_name != "demo":
        raise ValueError(f"notebooks run on the demo world, not {sandbox.world_name!r}")
    shutil.copytree(NOTEBOOK_DIR, workdir / "notebooks", ignore=shutil.ignore_patterns(
        ".ipynb_checkpoints", "executed-*"))
    cwd = workdir / "notebooks"
    download_dir = workdir / "downloads"
    download_dir.mkdir()
    nb = nbformat.read(cwd / name, as_version=4)
    client = NotebookClient(
        nb, km=python3_kernel_manager(workdir / "kernels"), timeout=CELL_TIMEOUT,
        kernel_name="python3", allow_errors=True, record_timing=False,
        resources={"metadata": {"path": str(cwd)}},
    )
    client.execute(env=kernel_env(sandbox, download_dir))
    saved = workdir / f"executed-{name}"
    nbformat.write(nb, saved)
    return NotebookRun(name, nb, cwd, download_dir, sandbox, saved)


def error_report(nb: nbformat.NotebookNode) -> list[str]:
    """One line per error output: cell index, exception name and message."""
    errors = []
    for index, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.output_type == "error":
                errors.append(f"cell {index}: {out.ename}: {out.evalue}")
    return errors


def embedded_media(nb: nbformat.NotebookNode) -> list[str]:
    """Outputs that carry media bytes (base64 images/video/audio, data: URIs in HTML)."""
    found = []
    for out in code_outputs(nb):
        for mime, value in out.get("data", {}).items():
            if mime.startswith(MEDIA_MIMES):
                found.append(mime)
            elif "html" in mime and ";base64," in str(value):
                found.append(f"{mime} with a base64 data: URI")
    return found


