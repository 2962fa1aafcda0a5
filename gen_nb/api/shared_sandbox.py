"""The process-wide sandbox that ``gen_nb.connect()`` starts when there is no key.

One sandbox per process, started on first need (in background threads) and stopped when the
last client using it closes, or at interpreter exit.
"""

from __future__ import annotations

import atexit
import threading
from typing import Any

__all__ = ["SHARED", "SharedSandbox"]


class SharedSandbox:
    """Reference-counted handle to one lazily started sandbox."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._handle: Any = None
        self._users = 0
        self._hooked = False

    def acquire(self) -> Any:
        """The running sandbox (started now if needed); call :meth:`release` when done."""
        with self._lock:
            if self._handle is None:
                from gen_nb import sandbox

                self._handle = sandbox.start()
                if not self._hooked:
                    atexit.register(self._stop_at_exit)
                    self._hooked = True
            self._users += 1
            return self._handle

    def release(self) -> None:
        """One user fewer; the last one stops the sandbox."""
        with self._lock:
            self._users -= 1
            if self._users > 0 or self._handle is None:
                return
            handle, self._handle, self._users = self._handle, None, 0
        handle.stop()

    def _stop_at_exit(self) -> None:
        with self._lock:
            handle, self._handle = self._handle, None
        if handle is not None:
            handle.stop()


SHARED = SharedSandbox()
