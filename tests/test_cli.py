"""The gen-nb command: download / stream / sandbox, output and exit codes."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from _transfer_support import MiB, sha256_of

from gen_nb.api.errors import (
    AuthenticationError,
    ConfigError,
    DownloadCancelled,
    IntegrityError,
    NotFoundError,
    TransferError,
)
from gen_nb.cli import exit_code, main


def test_download_a_url(sb: Any, download_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = sb.large_media_url(2 * MiB, "cli.bin")
    assert main(["download", url, "-o", str(download_dir), "--no-progress"]) == 0
    out, err = capsys.readouterr()
    assert out.strip() == str(download_dir / "cli.bin")
    assert "sha256" in err
    assert sha256_of(download_dir / "cli.bin") == sb.media_sha256(url)


def test_download_json_segments_and_skip(sb: Any, download_dir: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    url = sb.large_media_url(3 * MiB, "j.bin")
    assert main(["download", url, "-o", str(download_dir), "--segments", "3", "--json",
                 "--no-progress"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["segments"] == 3 and data["sha256"] == sb.media_sha256(url)
    assert main(["download", url, "-o", str(download_dir), "--json", "--no-progress"]) == 0
    assert json.loads(capsys.readouterr().out)["skipped"] is True


def test_download_a_render_by_id(sb: Any, download_dir: Path, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    import gen_nb

    with gen_nb.connect(sandbox=sb, quiet=True) as client:
        render = next(r for r in client.renders() if r.status == "completed" and r.url)
    monkeypatch.setenv("GEN_API_BASE_URL", sb.api_base)
    monkeypatch.setenv("GEN_API_KEY", sb.api_key)
    monkeypatch.setenv("GEN_AGENT_ID", str(sb.agent_id))
    assert main(["download", render.id, "-o", str(download_dir), "--no-progress"]) == 0
    saved = Path(capsys.readouterr().out.strip())
    assert saved.parent == download_dir and sha256_of(saved) == sb.media_sha256(render.url)
    assert main(["download", "999999999", "-o", str(download_dir), "--no-progress"]) == 4


@pytest.mark.parametrize(("args", "code"), [
    (["download", "{cdn}/large/nope/x.bin"], 4),
    (["download", "{cdn}/large/0-10/x.bin", "--sha256", "0" * 64], 1),   # a wrong digest
    (["download", "{cdn}/large/0-10/x.bin", "--sha256", "00"], 2),       # not a digest
    (["stream", "{cdn}/large/0-10/x.bin", "{storage}/b/k?X-Amz-Signature=bad"], 1),
    (["stream", "{cdn}/large/0-10/x.bin", "{storage}/b/k", "-H", "no colon"], 2),
])
def test_exit_codes(sb: Any, download_dir: Path, args: list[str], code: int,
                    capsys: pytest.CaptureFixture[str]) -> None:
    sb.large_media_url(10, "x.bin")
    before = len(sb.requests)
    argv = [a.format(cdn=sb.cdn_base, storage=sb.storage_base) for a in args]
    assert main([*argv, "--no-progress", *(["-o", str(download_dir)]
                                           if argv[0] == "download" else [])]) == code
    err = capsys.readouterr().err
    assert "gen-nb: error:" in err
    if "00" in argv:
        assert "--sha256 must be a sha256 digest" in err
        assert len(sb.requests) == before                # refused before any request


@pytest.mark.parametrize("argv", [["download"], ["download", "u", "--segments", "0"]])
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2 and "error:" in capsys.readouterr().err


@pytest.mark.parametrize(("exc", "code"), [
    (DownloadCancelled("x"), 130), (KeyboardInterrupt(), 130),
    (NotFoundError(status=404), 4), (AuthenticationError(status=401), 3),
    (ConfigError("no key"), 3), (IntegrityError("bad"), 1), (TransferError("net"), 1),
    (ValueError("bad arg"), 2),
])
def test_exit_code_mapping(exc: BaseException, code: int) -> None:
    assert exit_code(exc) == code


def test_stream_command(sb: Any, capsys: pytest.CaptureFixture[str]) -> None:
    url = sb.large_media_url(MiB, "s.bin")
    assert main(["stream", url, sb.storage_put_url("s.bin"), "--no-progress"]) == 0
    assert capsys.readouterr().out.strip() == "200"
    assert sb.storage_object("s.bin").sha256 == sb.media_sha256(url)


def test_python_dash_m_and_console_script() -> None:
    done = subprocess.run([sys.executable, "-m", "gen_nb", "--help"], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0 and "download" in done.stdout
    script = shutil.which("gen-nb", path=str(Path(sys.executable).parent))
    if script is None:
        pytest.skip("the package is not installed with its console script")
    done = subprocess.run([script, "download", "--help"], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0 and "--segments" in done.stdout


def test_ctrl_c_exits_130_and_the_next_run_resumes(sb: Any, download_dir: Path) -> None:
    url = sb.large_media_url(8 * MiB, "int.bin")
    sb.inject(server="cdn", rate=2 * MiB)
    env = {**os.environ, "GEN_NB_DISABLE_PROGRESS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "gen_nb", "download", url, "-o",
                             str(download_dir)], env=env, stderr=subprocess.PIPE, text=True)
    part = download_dir / "int.bin.part"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (not part.exists() or part.stat().st_size < MiB):
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "run the same command again" in err
    assert part.exists() and not (download_dir / "int.bin").exists()
    sb.clear_faults()
    done = subprocess.run([sys.executable, "-m", "gen_nb", "download", url, "-o",
                           str(download_dir), "--json"], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["resumed_from"] > 0 and result["sha256"] == sb.media_sha256(url)


def test_sandbox_command_serves_until_ctrl_c() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "gen_nb", "sandbox", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert "127.0.0.1" in first + proc.stdout.readline()
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)
    assert proc.returncode == 0


def test_the_progress_bar_goes_to_stderr(sb: Any, download_dir: Path) -> None:
    url = sb.large_media_url(3 * MiB, "bar.bin")
    env = {k: v for k, v in os.environ.items() if k != "GEN_NB_DISABLE_PROGRESS"}
    done = subprocess.run([sys.executable, "-m", "gen_nb", "download", url, "-o",
                           str(download_dir)], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(download_dir / "bar.bin")
    # decimal units, as everywhere in gen_nb (tqdm's convention): 3 MiB is 3.15 MB
    assert "download:" in done.stderr and "B/s" in done.stderr and "3.15M" in done.stderr
