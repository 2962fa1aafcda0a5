"""``gen-nb app``: the dashboard as a web app for people who don't code (Voila).

It serves ``dashboard.ipynb`` (shipped in this package: one title, the sandbox notice when it
applies, the :class:`~gen_nb.widgets.RenderBrowser`) with Voila, which runs the notebook and
shows only its outputs, never its code. It binds to 127.0.0.1; with ``GEN_API_KEY`` (and
``GEN_AGENT_ID``) it shows the real workspace, without one the local sandbox. Downloads land in
``gen-nb-app/downloads/`` under the folder it was started in, and Voila is told to serve media
files from there, so the dashboard's "save" links work in the browser.

Voila is in the ``gen_nb[lab]`` extra (``pip install 'gen_nb[lab]'``).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

__all__ = ["FILE_ALLOWLIST", "app_command", "prepare_folder", "serve_app"]

NOTEBOOK = Path(__file__).with_name("dashboard.ipynb")
FILE_ALLOWLIST = r".*\.(mp4|m4v|mov|webm|mp3|m4a|wav|ogg|jpg|jpeg|png|webp|gif)"


def prepare_folder(where: Path | None = None) -> Path:
    """``gen-nb-app/`` (with the dashboard and a ``downloads/`` folder), created if needed."""
    folder = (where or Path.cwd()) / "gen-nb-app"
    (folder / "downloads").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(NOTEBOOK, folder / "dashboard.ipynb")
    return folder


def app_command(folder: Path, port: int) -> list[str]:
    """The Voila command line: one notebook, 127.0.0.1, media files allowed, no browser."""
    return [sys.executable, "-m", "voila", str(folder / "dashboard.ipynb"), "--no-browser",
            f"--port={port}", "--Voila.ip=127.0.0.1",
            f"--VoilaConfiguration.file_allowlist=['{FILE_ALLOWLIST}']",
            "--VoilaConfiguration.show_tracebacks=False"]


def _ready(url: str, process: subprocess.Popen[bytes], seconds: float = 120) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return True
        except OSError:
            time.sleep(0.3)
    return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _tail(log: Path, limit: int = 2000) -> str:
    try:
        return log.read_text("utf-8", "replace")[-limit:]
    except OSError:
        return ""


def serve_app(port: int = 8866, *, where: Path | None = None) -> int:
    """Run the app until Ctrl-C (or SIGTERM); prints its URL when it answers.

    Returns an exit status. Voila's log goes to ``gen-nb-app/voila.log`` (a pipe nobody reads
    would fill up and stall the server); the Voila process is stopped however this one ends.
    """
    if importlib.util.find_spec("voila") is None:
        print("gen-nb: the app needs Voila: pip install 'gen_nb[lab]'", file=sys.stderr)
        return 3
    folder = prepare_folder(where)
    mode = "your GEN workspace" if os.environ.get("GEN_API_KEY") else "the local sandbox " \
        "(set GEN_API_KEY for your workspace)"
    print(f"gen-nb: starting the app on {mode}; downloads go to {folder / 'downloads'}",
          file=sys.stderr, flush=True)
    log = folder / "voila.log"
    with open(log, "wb") as log_file:
        process = subprocess.Popen(app_command(folder, port), cwd=folder,
                                   stdout=log_file, stderr=subprocess.STDOUT)
    previous = signal.getsignal(signal.SIGTERM)

    def on_term(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    url = f"http://127.0.0.1:{port}/"
    try:
        if not _ready(url, process):
            print(f"gen-nb: the app did not start (log: {log}).\n{_tail(log)}", file=sys.stderr)
            return 1
        print(f"\nThe GEN dashboard is ready — open {url}\n(Ctrl-C stops it.)", flush=True)
        return process.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)
        _stop(process)
