"""What transfers reuse from one file to the next: byte buffers and helper threads.

Measured on the benchmark machine (benchmarks/README.md, "Many files"): before these pools a
64 KiB download spent ~1.4 ms of its ~4 ms of CPU allocating and zeroing three fresh 1 MiB
buffers, and started (and joined) a thread of its own.

* :data:`BUFFERS` — a :class:`BufferPool`: ``take(size)`` hands out a buffer (a reused one
  when one of that size is free), ``give(view)`` returns it. At most ``KEEP_BYTES`` are kept
  while idle, so a burst of parallel downloads does not pin its memory for good.
* :data:`HELPERS` — :class:`Helpers`: ``start(job)`` runs ``job()`` on a parked helper thread
  (a new one only when none is free); a helper that finds no work for ``IDLE_SECONDS`` exits.

Both are process-wide and thread-safe; a forked child starts with empty ones.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable

__all__ = ["BUFFERS", "HELPERS", "BufferPool", "Helpers"]

KEEP_BYTES = 8 << 20
IDLE_SECONDS = 10.0


class BufferPool:
    """Reusable ``bytearray`` buffers, by size (see the module docstring)."""

    def __init__(self, keep_bytes: int = KEEP_BYTES) -> None:
        self.keep_bytes = keep_bytes
        self.reset()

    def reset(self) -> None:
        """Forget every buffer (also used in a forked child)."""
        self._free: dict[int, list[memoryview]] = {}
        self._kept = 0
        self._lock = threading.Lock()

    def take(self, size: int) -> memoryview:
        """A buffer of exactly ``size`` bytes (its old contents are not cleared)."""
        with self._lock:
            free = self._free.get(size)
            if free:
                self._kept -= size
                return free.pop()
        return memoryview(bytearray(size))

    def give(self, view: memoryview) -> None:
        """Return a buffer from :meth:`take` (the whole view, not a slice of it)."""
        size = view.nbytes
        with self._lock:
            if self._kept + size <= self.keep_bytes:
                self._free.setdefault(size, []).append(view)
                self._kept += size

    @property
    def kept(self) -> int:
        """Bytes held while idle (for tests)."""
        return self._kept


class Helpers:
    """Parked helper threads that run jobs one at a time each (see the module docstring).

    ``_idle`` counts parked helpers nobody has claimed yet: :meth:`start` claims one (or
    starts a thread) and queues the job; a helper that times out leaves only while an
    unclaimed helper remains, so a claimed job always finds a thread.
    """

    def __init__(self, idle_seconds: float = IDLE_SECONDS) -> None:
        self.idle_seconds = idle_seconds
        self.reset()

    def reset(self) -> None:
        """Forget every helper (also used in a forked child, where they do not exist)."""
        self._jobs: queue.SimpleQueue[tuple[Callable[[], None], threading.Event]] = \
            queue.SimpleQueue()
        self._idle = 0
        self._threads = 0
        self._lock = threading.Lock()

    def start(self, job: Callable[[], None]) -> threading.Event:
        """Run ``job()`` on a helper; the returned Event is set when it has returned."""
        done = threading.Event()
        with self._lock:
            spawn = self._idle == 0
            if spawn:
                self._threads += 1
            else:
                self._idle -= 1
            self._jobs.put((job, done))
        if spawn:
            threading.Thread(target=self._serve, name="gen_nb-hash", daemon=True).start()
        return done

    @property
    def threads(self) -> int:
        """How many helper threads exist (for tests)."""
        return self._threads

    def _serve(self) -> None:
        while True:
            try:
                job, done = self._jobs.get(timeout=self.idle_seconds)
            except queue.Empty:
                with self._lock:
                    if self._idle > 0:
                        self._idle -= 1
                        self._threads -= 1
                        return
                continue
            try:
                job()
            except Exception:   # a job reports its own errors; the helper carries on
                pass
            finally:
                done.set()
                with self._lock:
                    self._idle += 1


BUFFERS = BufferPool()
HELPERS = Helpers()


def _after_fork_in_child() -> None:
    BUFFERS.reset()
    HELPERS.reset()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
