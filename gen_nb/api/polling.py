"""Polling: the pace of status checks and the loop shared by ``wait`` and ``wait_post``."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Literal, TypeVar

__all__ = ["poll", "poll_delays"]

T = TypeVar("T")
Outcome = Literal["done", "timeout", "cancelled"]

FIRST_DELAY = 2.0
MAX_DELAY = 10.0
GROWTH = 1.5


def poll_delays(interval: float | None = None, *, first: float = FIRST_DELAY,
                maximum: float = MAX_DELAY, growth: float = GROWTH) -> Iterator[float]:
    """Seconds between polls: ``interval`` every time if given, else 2 s growing to 10 s.

    GEN documents polling every 2–10 s for video renders.

    >>> import itertools; list(itertools.islice(poll_delays(), 6))
    [2.0, 3.0, 4.5, 6.75, 10.0, 10.0]
    """
    delay = first
    while True:
        if interval is not None:
            yield max(0.0, float(interval))
            continue
        yield delay
        delay = min(maximum, delay * growth)


def poll(
    fetch: Callable[[], T],
    *,
    done: Callable[[T], bool],
    status: Callable[[T], object],
    timeout: float | None,
    interval: float | None = None,
    on_update: Callable[[T], None] | None = None,
    cancel: threading.Event | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> tuple[T, Outcome]:
    """Call ``fetch`` until ``done``, the timeout, or ``cancel`` is set; return (last, outcome).

    ``on_update`` gets the fetched value whenever ``status`` of it changes (the first fetch
    counts as a change). Waiting happens on ``cancel`` (or a private Event), so setting it wakes
    the loop at once.
    """
    stopper = cancel if cancel is not None else threading.Event()
    deadline = None if timeout is None else clock() + max(0.0, timeout)
    delays = poll_delays(interval)
    last_status: object = object()
    while True:
        value = fetch()
        if on_update is not None and status(value) != last_status:
            on_update(value)
        last_status = status(value)
        if done(value):
            return value, "done"
        if stopper.is_set():
            return value, "cancelled"
        remaining = None if deadline is None else deadline - clock()
        if remaining is not None and remaining <= 0:
            return value, "timeout"
        delay = next(delays)
        if stopper.wait(delay if remaining is None else min(delay, remaining)):
            return value, "cancelled"
