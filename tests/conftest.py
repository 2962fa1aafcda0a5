"""Shared fixtures: one sandbox per test session, a client bound to it, a clean environment.

With ``GEN_NB_SIMULATE_PLATFORM=portable`` the session runs as on a platform without the
POSIX/Linux extras gen_nb uses when present (Windows, macOS): no ``fcntl`` (locks fall back to
exclusive lock files), no ``setxattr``, ``posix_fadvise``, ``posix_fallocate``, ``pwrite``,
``preadv`` or ``O_NOFOLLOW``. ``python3 tasks.py test`` runs the transfer tests that way too.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from _dask import dask_cluster  # noqa: F401  (the Dask fixture, for every test module)
from _moto import moto  # noqa: F401  (the S3 server fixture, for every test module)
from _support import SIMULATED

_POSIX_EXTRAS = ("setxattr", "getxattr", "posix_fadvise", "posix_fallocate", "pwrite", "preadv",
                 "O_NOFOLLOW")


def pytest_configure(config: pytest.Config) -> None:
    if not SIMULATED:
        return
    sys.modules["fcntl"] = None  # type: ignore[assignment]  # import fcntl → ImportError
    for name in _POSIX_EXTRAS:
        if hasattr(os, name):
            delattr(os, name)


def pytest_report_header(config: pytest.Config) -> str | None:
    return "simulated platform: no fcntl, xattrs, fadvise, fallocate, pwrite, preadv, " \
        "O_NOFOLLOW" if SIMULATED else None

# --doctest-modules would import this file a second time as a module named "conftest",
# which clashes with the other conftest.py (pytest 9); it has no doctests
collect_ignore = ["conftest.py"]

_GEN_VARS = ("GEN_API_KEY", "GEN_AGENT_ID", "GEN_API_BASE_URL", "GEN_ENGINE_PREFIX")


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test sees the developer's GEN settings; downloads go to a temp folder."""
    for name in list(os.environ):
        if name in _GEN_VARS or name.startswith("GEN_NB_"):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GEN_NB_DOWNLOAD_DIR", str(tmp_path / "downloads"))
    monkeypatch.setenv("GEN_NB_DISABLE_PROGRESS", "1")


@pytest.fixture(scope="session")
def sandbox() -> Iterator[object]:
    """The real emulator on 127.0.0.1 (three ports: API, CDN, storage), shared by the session.

    It runs the *hostile* world: the demo workspace plus an ``<img onerror>`` engine title,
    hook and upload name, odd unicode and a NUL byte (``seed_data["xss"]`` is the XSS string),
    so every test that shows API text also tests its escaping.
    """
    from gen_nb import sandbox as sandbox_mod

    handle = sandbox_mod.start(render_seconds=3.0, publish_seconds=2.0, world="hostile")
    try:
        yield handle
    finally:
        handle.stop()


@pytest.fixture()
def fresh_sandbox(sandbox: object) -> Iterator[object]:
    """The session sandbox with no faults injected and an empty request log."""
    sandbox.clear_faults()  # type: ignore[attr-defined]
    sandbox.clear_log()  # type: ignore[attr-defined]
    yield sandbox
    sandbox.clear_faults()  # type: ignore[attr-defined]


@pytest.fixture()
def sb(fresh_sandbox: object) -> object:
    """Short name for ``fresh_sandbox`` (the transfer tests use it everywhere)."""
    return fresh_sandbox


@pytest.fixture()
def fast_transfer_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Transfer retries back off for 10 ms instead of seconds (fault tests retry a lot)."""
    monkeypatch.setattr("gen_nb.transfer.remote.BACKOFF", 0.01)


@pytest.fixture()
def client(fresh_sandbox: object) -> Iterator[object]:
    """A client bound to the session sandbox (fresh each test, quiet)."""
    import gen_nb

    with gen_nb.connect(sandbox=fresh_sandbox, quiet=True) as c:
        yield c


@pytest.fixture()
def download_dir(tmp_path: Path) -> Path:
    path = tmp_path / "downloads"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture(scope="session")
def notebook_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """``notebook_run(name)`` executes notebooks/<name> once per session, in its own sandbox
    (the default demo world: what a class sees)."""
    from notebook_harness import NotebookRun, execute_notebook

    from gen_nb import sandbox as sandbox_mod

    runs: dict[str, NotebookRun] = {}

    def run(name: str) -> NotebookRun:
        if name not in runs:
            handle = sandbox_mod.start(render_seconds=3.0, publish_seconds=2.0)
            try:
                runs[name] = execute_notebook(name, tmp_path_factory.mktemp("nb"), handle)
            except BaseException:
                handle.stop()
                raise
        return runs[name]

    yield run
    for finished in runs.values():
        finished.sandbox.stop()  # type: ignore[attr-defined]
