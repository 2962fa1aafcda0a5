"""How many ``download_many`` items run at once when gen_nb owns the threads.

All ``max_workers`` start together, so connection set-ups (TCP and TLS, a far CDN's first
round trip) overlap. While the items are short (their mean wall time under ``SHORT_ITEM``
seconds) the governor then tries half as many: on the 2-core benchmark machine, 16 threads
downloading 64 KiB files from a near server spent ~40 % more CPU per file than 4 and
finished later (every system call hands the interpreter lock to another thread: two context
switches; benchmarks/README.md, "Many files"). A try is kept when the rate of finished items
stays within ``KEEP`` of what it was, and undone otherwise (the governor then rests for
``REST`` windows, twice as long after each undone try); items that take longer — a latency-
or bandwidth-bound server, where concurrency is what makes a batch fast — bring back every
worker at once. Connections stay pooled meanwhile, so a worker brought back costs no new
handshake.

Rates are measured over windows of at least ``WINDOW`` seconds and twice the current limit
of finished items. ``limit`` never goes below ``min(LEAST, max_workers)``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

__all__ = ["Governor"]


class Governor:
    """The current concurrency ``limit`` of one batch; :meth:`observe` each finished item."""

    SHORT_ITEM = 0.05
    WINDOW = 0.1
    KEEP = 0.9
    LEAST = 4
    REST = 8

    def __init__(self, most: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.most, self._clock = most, clock
        self._limit = most
        self._least = min(self.LEAST, most)
        self._trial: tuple[int, float] | None = None     # (limit before, its rate)
        self._rest, self._next_rest = 0, self.REST
        self._count, self._item_seconds, self._since = 0, 0.0, clock()
        self._lock = threading.Lock()

    @property
    def limit(self) -> int:
        return self._limit

    def observe(self, seconds: float) -> None:
        """One item finished after ``seconds`` of wall time."""
        with self._lock:
            self._count += 1
            self._item_seconds += seconds
            now = self._clock()
            elapsed = now - self._since
            if elapsed < self.WINDOW or self._count < 2 * self._limit:
                return
            rate = self._count / elapsed
            short = self._item_seconds / self._count < self.SHORT_ITEM
            self._count, self._item_seconds, self._since = 0, 0.0, now
            self._decide(rate, short)

    def _decide(self, rate: float, short: bool) -> None:
        if not short:
            self._limit, self._trial, self._rest = self.most, None, 0
            return
        if self._trial is not None:
            before, before_rate = self._trial
            self._trial = None
            if rate < self.KEEP * before_rate:        # concurrency was buying speed
                self._limit, self._rest = before, self._next_rest
                self._next_rest = min(64 * self.REST, 2 * self._next_rest)
                return
        if self._rest:
            self._rest -= 1
        elif self._limit > self._least:
            self._trial = (self._limit, rate)
            self._limit = max(self._least, self._limit // 2)
