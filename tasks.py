#!/usr/bin/env python3
"""Set up and run gen_nb's everyday tasks with nothing but Python 3.11+.

    python3 tasks.py lab      # set up, then JupyterLab on notebooks/ (sandbox when no GEN_API_KEY)
    python3 tasks.py app      # set up, then the dashboard as a web app (Voila), on 127.0.0.1
    python3 tasks.py test     # set up, then ruff and the whole pytest suite (extra args → pytest)
    python3 tasks.py bench    # set up, then benchmarks/run.py (extra args → the script)
    python3 tasks.py media    # regenerate the sandbox media: python -m gen_nb.sandbox.make_media

"Set up" means: create ``.venv`` with ``python -m venv`` if it is missing, ``pip install -e
".[test]"`` into it (skipped while pyproject.toml is unchanged: a stamp file in .venv remembers
its hash), and install the Debian packages a task needs (chromium for the browser test, nginx-light
and aria2 for benchmarks) with apt-get when they are missing and we are root. Without root, it
prints the command to run instead and carries on. Nothing is registered outside the repository.

This file uses the standard library only: it has to run before anything is installed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
VENV_BIN = VENV / "bin"
VENV_PYTHON = VENV_BIN / "python"
STAMP = VENV / ".gen_nb-install.json"
MIN_PYTHON = (3, 11)

# Debian package → a file that proves it is installed.
DEBIAN_PACKAGES = {
    "chromium": Path("/usr/bin/chromium"),
    "nginx-light": Path("/usr/sbin/nginx"),
    "aria2": Path("/usr/bin/aria2c"),
}
TASK_DEBIAN_PACKAGES = {
    "lab": (),
    "app": (),
    "test": ("chromium", "nginx-light"),
    "bench": ("nginx-light", "aria2"),
    "media": (),
}
TASK_EXTRAS = {"lab": ("lab",), "app": ("lab",), "test": ("test", "media"),
               "bench": ("test",), "media": ("media",)}
PYTEST_NO_TESTS = 5
# Run a second time as on a platform without fcntl, xattrs, pwrite, … (see tests/conftest.py).
PORTABLE_TESTS = ("tests/test_portability.py", "tests/test_download.py",
                  "tests/test_download_faults.py", "tests/test_download_segmented.py",
                  "tests/test_download_many.py", "tests/test_stream.py",
                  "tests/test_transfer_sidecar_lock.py", "tests/test_transfer_small.py",
                  "tests/test_transfer_lean.py", "tests/test_transfer_pools.py",
                  "tests/test_transfer_connections.py")


def say(message: str) -> None:
    """Print one progress line, marked as ours."""
    print(f"[tasks.py] {message}", flush=True)


def run(cmd: Sequence[str | os.PathLike[str]], env: dict[str, str] | None = None) -> int:
    """Run a command in the repository folder, echoing it first; return its exit status."""
    say("$ " + shlex.join(str(c) for c in cmd))
    return subprocess.call([str(c) for c in cmd], cwd=ROOT, env=env)


def check(cmd: Sequence[str | os.PathLike[str]], env: dict[str, str] | None = None) -> None:
    """Run a command and stop the task with its status if it fails."""
    status = run(cmd, env)
    if status != 0:
        say(f"command failed with exit status {status}")
        raise SystemExit(status)


def check_quietly(cmd: Sequence[str | os.PathLike[str]], log: Path) -> None:
    """Run a command with its output in ``log`` (pip's warnings are noise before the URL);
    on failure print the log's end and stop the task with the command's status."""
    say("$ " + shlex.join(str(c) for c in cmd) + f"  (output: {log.relative_to(ROOT)})")
    with log.open("wb") as out:
        status = subprocess.call([str(c) for c in cmd], cwd=ROOT, stdout=out,
                                 stderr=subprocess.STDOUT)
    if status != 0:
        print(log.read_text("utf-8", "replace")[-6000:], file=sys.stderr)
        say(f"command failed with exit status {status}; the whole output is in {log}")
        raise SystemExit(status)


def is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def apt_install(packages: Sequence[str]) -> None:
    """Install Debian packages (root only), after one ``apt-get update``."""
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    check(["apt-get", "update"], env=env)
    check(["apt-get", "install", "-y", *packages], env=env)


def ensure_debian_packages(packages: Sequence[str]) -> None:
    """Install the missing ones through apt-get when root; otherwise say how to."""
    missing = [name for name in packages if not DEBIAN_PACKAGES[name].exists()]
    if not missing:
        return
    if is_root() and shutil.which("apt-get"):
        say(f"installing Debian packages: {' '.join(missing)}")
        apt_install(missing)
        return
    say(
        f"missing Debian packages: {' '.join(missing)}. Install them with:\n"
        f"    sudo apt-get update && sudo apt-get install -y {' '.join(missing)}\n"
        "Carrying on: tests that need them are skipped (and fail when CI is set)."
    )


def venv_works() -> bool:
    """True when .venv has a Python that starts and a pip it can import."""
    if not os.access(VENV_PYTHON, os.X_OK):
        return False
    probe = [str(VENV_PYTHON), "-c", "import pip, sys; sys.exit(sys.version_info < (3, 11))"]
    return subprocess.call(probe, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) == 0


def ensure_venv_module() -> None:
    """Debian splits ``ensurepip`` into python3.X-venv: install it when it is missing."""
    if subprocess.call([sys.executable, "-c", "import ensurepip"], stderr=subprocess.DEVNULL) == 0:
        return
    package = f"python3.{sys.version_info.minor}-venv"
    if is_root() and shutil.which("apt-get"):
        say(f"{sys.executable} cannot create venvs; installing {package}")
        apt_install([package])
        return
    say(f"{sys.executable} cannot create venvs. Run: sudo apt-get install -y {package}")
    raise SystemExit(1)


def ensure_venv() -> None:
    """Create .venv with this interpreter unless a working one is there."""
    if venv_works():
        return
    if VENV.exists():
        say(f"{VENV} is broken; recreating it")
        shutil.rmtree(VENV)
    ensure_venv_module()
    check([sys.executable, "-m", "venv", VENV])
    STAMP.unlink(missing_ok=True)


def project_hash() -> str:
    """Hash of what decides the install: pyproject.toml and the venv's Python."""
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes())
    digest.update(os.path.realpath(VENV_PYTHON).encode())
    return digest.hexdigest()


def read_stamp() -> dict[str, object]:
    try:
        stamp = json.loads(STAMP.read_text())
    except (OSError, ValueError):
        return {}
    return stamp if isinstance(stamp, dict) else {}


def plan_install(stamp: dict[str, object], current: str, wanted: Sequence[str]) -> list[str]:
    """Extras to install now, or [] when the stamp says the venv is up to date.

    >>> plan_install({"hash": "h", "extras": ["test"]}, "h", ["test"])
    []
    >>> plan_install({"hash": "old", "extras": ["media", "test"]}, "h", ["test"])
    ['media', 'test']
    """
    extras = stamp.get("extras")
    installed = [str(e) for e in extras] if isinstance(extras, list) else []
    if stamp.get("hash") == current and set(wanted) <= set(installed):
        return []
    return sorted(set(wanted) | set(installed))


def ensure_installed(extras: Sequence[str]) -> None:
    """pip install -e ".[extras]" into .venv unless pyproject.toml is unchanged since last time."""
    current = project_hash()
    todo = plan_install(read_stamp(), current, extras)
    if not todo:
        return
    pip = [VENV_PYTHON, "-m", "pip", "--disable-pip-version-check", "--no-input", "-q"]
    say(f"installing gen_nb[{','.join(todo)}] into .venv (pip output only on errors)")
    check_quietly([*pip, "install", "-e", f".[{','.join(todo)}]"], VENV / "pip-install.log")
    STAMP.write_text(json.dumps({"hash": current, "extras": todo}))


def setup(task: str) -> None:
    """Everything a task needs before it runs."""
    if sys.version_info < MIN_PYTHON:
        say(f"gen_nb needs Python >= 3.11; this is {sys.version.split()[0]} ({sys.executable})")
        raise SystemExit(1)
    ensure_venv()
    ensure_installed(TASK_EXTRAS[task])
    ensure_debian_packages(TASK_DEBIAN_PACKAGES[task])


def venv_env() -> dict[str, str]:
    """The environment for commands run from the venv: its bin first, its kernels first."""
    env = dict(os.environ)
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(VENV)
    jupyter_path = [str(VENV / "share" / "jupyter"), env.get("JUPYTER_PATH", "")]
    env["JUPYTER_PATH"] = os.pathsep.join(p for p in jupyter_path if p)
    env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    return env


LAB_SETTINGS = {"@jupyterlab/apputils-extension:notification": {"fetchNews": "false",
                                                                  "checkForUpdates": False}}
# Outputs never reach the tracked notebooks: the server strips them when it saves one (the
# notebook in the browser keeps them). Written into .venv by the lab task.
SERVER_CONFIG = """\
import pathlib

TRACKED = {p.name for p in pathlib.Path(%r).glob("*.ipynb")}


def strip_outputs(model, path, contents_manager, **kwargs):
    if model.get("type") != "notebook" or pathlib.PurePath(path).name not in TRACKED:
        return
    for cell in model["content"].get("cells", []):
        if cell.get("cell_type") == "code":
            cell["outputs"], cell["execution_count"] = [], None
    model["content"].get("metadata", {}).pop("widgets", None)


c.ContentsManager.pre_save_hook = strip_outputs
"""


def _lab_files() -> Path:
    """The news toast off (a settings override of this venv's lab) and the save hook."""
    overrides = VENV / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    overrides.parent.mkdir(parents=True, exist_ok=True)
    overrides.write_text(json.dumps(LAB_SETTINGS, indent=2))
    config = VENV / "etc" / "gen_nb" / "jupyter_server_config.py"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(SERVER_CONFIG % str(ROOT / "notebooks"))
    return config


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_ready(process: subprocess.Popen[bytes], url: str, log: Path) -> bool:
    import time
    import urllib.request

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            say(f"JupyterLab stopped at once (exit {process.returncode}); its log: {log}")
            return False
        try:
            with urllib.request.urlopen(url, timeout=2):
                return True
        except OSError:
            time.sleep(0.3)
    say(f"JupyterLab did not answer within 120 s; its log: {log}")
    return False


def task_lab(extra: Sequence[str]) -> int:
    """JupyterLab on notebooks/, bound to 127.0.0.1, kernel from .venv; prints the URL last."""
    import secrets

    port, token = _free_port(), secrets.token_hex(16)
    log = VENV / "jupyter-lab.log"
    cmd = [str(VENV_BIN / "jupyter"), "lab", "notebooks/", "--ip", "127.0.0.1",
           f"--port={port}", f"--IdentityProvider.token={token}", "--no-browser",
           f"--config={_lab_files()}", *(["--allow-root"] if is_root() else []), *extra]
    note = ("the notebooks use your GEN account (GEN_API_KEY)" if os.environ.get("GEN_API_KEY")
            else "no GEN_API_KEY: the notebooks use the local gen_nb sandbox")
    say(f"starting JupyterLab ({note}); its log goes to {log.relative_to(ROOT)}")
    with log.open("ab") as out:
        process = subprocess.Popen(cmd, cwd=ROOT, env=venv_env(), stdout=out, stderr=out)
    url = f"http://127.0.0.1:{port}/lab?token={token}"
    try:
        if not _wait_until_ready(process, f"http://127.0.0.1:{port}/api?token={token}", log):
            process.terminate()
            return 1
        print(f"\nJupyterLab is ready — open this URL in your browser:\n\n    {url}\n\n"
              "(Ctrl-C stops it.)", flush=True)
        return process.wait()
    except KeyboardInterrupt:
        process.terminate()
        process.wait(30)
        return 0


def _pytest(args: Sequence[str], env: dict[str, str]) -> int:
    status = run([VENV_BIN / "pytest", *args], env=env)
    if status == PYTEST_NO_TESTS:
        say("pytest collected no tests for these arguments; treating that as success")
        return 0
    return status


def task_test(extra: Sequence[str]) -> int:
    """ruff, mypy, pytest (tests and the package's doctests), then the transfer
    tests again on a simulated platform without POSIX extras (only when no arguments narrow
    the run); all run, the first failure decides the exit status."""
    ruff = run([VENV_BIN / "ruff", "check", "."], env=venv_env())
    mypy = run([VENV_BIN / "mypy"], env=venv_env())
    tests = _pytest(extra, venv_env())
    portable = 0
    if not extra:
        say("again, as on a platform without fcntl, xattrs, fadvise, pwrite, O_NOFOLLOW")
        portable = _pytest(["-q", *PORTABLE_TESTS],
                           {**venv_env(), "GEN_NB_SIMULATE_PLATFORM": "portable"})
    if ruff != 0:
        say("ruff reported problems (see above)")
    if mypy != 0:
        say("mypy reported problems (see above)")
    return ruff or mypy or tests or portable


BENCHMARKS = {  # name → script in benchmarks/ (each prints its table and PASS/FAIL rows)
    "transfer": "run.py", "many": "bench_many.py", "listing": "bench_listing.py",
    "models": "bench_models.py", "frames": "bench_frames.py", "export": "bench_export.py",
    "dashboard": "bench_dashboard.py", "sandbox": "bench_sandbox.py",
}


def task_bench(extra: Sequence[str]) -> int:
    """Every benchmark in turn, or one: ``bench many --rounds 5`` (the rest goes to it)."""
    if extra and extra[0] in BENCHMARKS:
        chosen, rest = [extra[0]], list(extra[1:])
    elif extra and not extra[0].startswith("-"):
        say(f"no benchmark {extra[0]!r}; they are: {', '.join(BENCHMARKS)}")
        return 2
    else:
        chosen, rest = list(BENCHMARKS), list(extra)
    status = 0
    for name in chosen:
        status = run([VENV_PYTHON, f"benchmarks/{BENCHMARKS[name]}", *rest],
                     env=venv_env()) or status
    return status


def task_media(extra: Sequence[str]) -> int:
    return run([VENV_PYTHON, "-m", "gen_nb.sandbox.make_media", *extra], env=venv_env())


def task_app(extra: Sequence[str]) -> int:
    """The dashboard as a web app (Voila) for people who don't code: ``gen-nb app``."""
    return run([VENV_BIN / "gen-nb", "app", *extra], env=venv_env())


TASKS = {"lab": task_lab, "app": task_app, "test": task_test, "bench": task_bench,
         "media": task_media}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python3 tasks.py",
        description="Set up .venv (and Debian packages when root), then run a gen_nb task.",
    )
    parser.add_argument("task", choices=sorted(TASKS), help="lab | app | test | bench | media")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="passed on to the task's command")
    options = parser.parse_args(argv)
    setup(options.task)
    return TASKS[options.task](options.args)


if __name__ == "__main__":
    raise SystemExit(main())
