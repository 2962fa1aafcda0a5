"""Portability: no POSIX-only module at import time; the portable fallbacks really run."""

from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest
from _support import SIMULATED

POSIX_ONLY = {"fcntl", "termios", "pwd", "grp", "resource", "posix", "tty", "pty", "crypt",
              "syslog", "msvcrt", "winreg"}
PACKAGE = Path(__file__).parents[1] / "gen_nb"


def _module_level_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in tree.body:            # module level only: imports inside functions are lazy
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


def test_no_module_imports_a_platform_only_module_at_load_time() -> None:
    found = {str(p.relative_to(PACKAGE)): sorted(_module_level_imports(p) & POSIX_ONLY)
             for p in PACKAGE.rglob("*.py")}
    assert {k: v for k, v in found.items() if v} == {}


@pytest.mark.skipif(not SIMULATED, reason="runs in the simulated-platform pass of tasks.py test")
def test_the_simulation_is_in_force() -> None:
    from gen_nb.transfer.lock import kernel_locking

    assert kernel_locking() is None
    assert not any(hasattr(os, n) for n in ("setxattr", "posix_fallocate", "pwrite", "preadv",
                                            "O_NOFOLLOW"))


def test_download_works_with_the_fallbacks_this_session_has(sb, download_dir: Path) -> None:
    """Runs in both passes: with the POSIX extras, and (simulated) without them."""
    from gen_nb import download

    url = sb.large_media_url(3 << 20, "portable.bin", seed=5)
    first = download(url, download_dir, segments=4)
    assert first.sha256 == sb.media_sha256(url)
    assert download(url, download_dir).skipped
