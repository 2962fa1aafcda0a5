"""Every notebook in notebooks/ runs top to bottom against the sandbox, with no configuration.

Each runs once per session (the ``notebook_run`` fixture in tests/conftest.py), in its own
sandbox; tests/test_notebook_outputs.py checks what each one shows on the same run.
"""

from __future__ import annotations

import base64
from pathlib import Path

import nbformat
import pytest
from notebook_harness import (
    MAX_EXECUTED_BYTES,
    NOTEBOOKS,
    NotebookRunner,
    embedded_media,
    error_report,
    python3_kernel_manager,
)

pytestmark = pytest.mark.notebooks


@pytest.mark.skipif(not NOTEBOOKS, reason="notebooks/ has no notebooks yet")
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_clean(notebook_run: NotebookRunner, name: str) -> None:
    run = notebook_run(name)
    assert not error_report(run.nb), "\n".join(error_report(run.nb))
    assert run.outputs(), f"{name} produced no output at all"


@pytest.mark.skipif(not NOTEBOOKS, reason="notebooks/ has no notebooks yet")
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_executed_notebook_stays_small(notebook_run: NotebookRunner, name: str) -> None:
    run = notebook_run(name)
    assert not embedded_media(run.nb), f"{name} embeds media: {embedded_media(run.nb)}"
    size = run.saved_path.stat().st_size
    assert size < MAX_EXECUTED_BYTES, f"{name} is {size} bytes once executed"


def test_embedded_media_detector_sees_base64() -> None:
    """The size check above can fail: a base64 <video> or a PNG output is reported."""
    clip = base64.b64encode(b"\0" * 64).decode()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(outputs=[
        nbformat.v4.new_output("display_data", data={"image/png": clip}),
        nbformat.v4.new_output("display_data", data={
            "text/html": f'<video src="data:video/mp4;base64,{clip}"></video>'}),
        nbformat.v4.new_output("display_data", data={"text/html": '<video src="http://x/a.mp4">'}),
    ])])
    assert embedded_media(nb) == ["image/png", "text/html with a base64 data: URI"]


def test_kernel_connection_files_stay_in_the_work_folder(tmp_path: Path) -> None:
    """A notebook run leaves nothing in the system temp folder: the kernel's connection file
    (which jupyter_client would otherwise make there with mkstemp, and nbclient left behind
    once per notebook) lives beside the kernel spec, inside the test's own folder."""
    manager = python3_kernel_manager(tmp_path / "kernels")
    assert Path(manager.connection_file).resolve().is_relative_to(tmp_path.resolve())
