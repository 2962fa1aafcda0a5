"""How a body misbehaves under a fault: cut the connection, stall, or trickle at a rate.

A response body is passed through :func:`shape_body` with a list of :class:`BodyRule` s (built
by the knobs, see ``knobs``); a request body is wrapped in :class:`DroppingInput`. Waits use
the sandbox's stop event, so ``stop()`` never hangs on a stalled or paced body.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any


def kill_connection(sock: socket.socket | None) -> None:
    """Shut the client connection down (the client sees EOF / a short read)."""
    if sock is None:
        return
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


class SandboxDrop(ConnectionAbortedError):
    """Raised inside the server to abandon a response after a drop fault."""


class BodyRule:
    """One way a response body misbehaves, consulted by ``shape_body`` piece by piece."""

    def begin(self) -> None:
        """The body starts now (before its first byte)."""

    def limit(self, sent: int) -> int | None:
        """An offset beyond ``sent`` where the next piece must end, or None."""
        return None

    def before(self, sent: int, size: int) -> None:
        """Called before bytes ``[sent, sent + size)`` go out (may wait or raise)."""

    def due(self, sent: int) -> bool:
        """Whether the rule acts once ``sent`` bytes are out."""
        return False

    def act(self) -> None:
        """Do what the rule does at its offset (may wait, or raise SandboxDrop)."""


class Drop(BodyRule):
    """Close the connection after ``after`` body bytes (the client sees a short read)."""

    def __init__(self, after: int, sock: socket.socket | None) -> None:
        self.after, self.sock = after, sock

    def limit(self, sent: int) -> int | None:
        return self.after if sent < self.after else None

    def due(self, sent: int) -> bool:
        return sent >= self.after

    def act(self) -> None:
        kill_connection(self.sock)
        raise SandboxDrop(f"sandbox fault: drop_after={self.after}")


class Stall(BodyRule):
    """Pause ``seconds`` once, after ``after`` body bytes (abandoned if the sandbox stops)."""

    def __init__(self, after: int, seconds: float, stop: threading.Event) -> None:
        self.after, self.seconds, self.stop, self.done = after, seconds, stop, False

    def limit(self, sent: int) -> int | None:
        return self.after if not self.done and sent < self.after else None

    def due(self, sent: int) -> bool:
        return not self.done and sent >= self.after

    def act(self) -> None:
        self.done = True
        if self.stop.wait(self.seconds):
            raise SandboxDrop("sandbox stopping")


class Rate(BodyRule):
    """Cap the body at ``rate`` bytes per second, in pieces of ≥ 1 KiB, ≥ 20 a second."""

    def __init__(self, rate: float, stop: threading.Event) -> None:
        self.rate, self.stop = rate, stop
        self.piece = max(1024, int(rate / 20))
        self.started = time.monotonic()

    def begin(self) -> None:
        self.started = time.monotonic()

    def limit(self, sent: int) -> int | None:
        return sent + self.piece

    def before(self, sent: int, size: int) -> None:
        delay = self.started + (sent + size) / self.rate - time.monotonic()
        if delay > 0 and self.stop.wait(delay):
            raise SandboxDrop("sandbox stopping")


def _act(rules: list[BodyRule], sent: int) -> None:
    for rule in rules:
        if rule.due(sent):
            rule.act()


def _pieces(chunk: bytes, rules: list[BodyRule], sent: int) -> Iterator[bytes]:
    """``chunk`` cut at every rule's next limit (each piece ends at most at one)."""
    while chunk:
        cut = len(chunk)
        for rule in rules:
            limit = rule.limit(sent)
            if limit is not None:
                cut = min(cut, limit - sent)
        piece, chunk = chunk[:cut], chunk[cut:]
        yield piece
        sent += len(piece)


def shape_body(body: Iterable[bytes], rules: list[BodyRule],
               count: Callable[[int], None]) -> Iterator[bytes]:
    """Yield ``body`` with ``rules`` applied, reporting bytes sent to ``count``; always closes
    ``body``. A rule due at offset 0 acts right after the headers went out."""
    sent = 0
    try:
        for rule in rules:
            rule.begin()
        if any(rule.due(0) for rule in rules):
            yield b""  # send the headers first
            _act(rules, 0)
        for chunk in body:
            for piece in _pieces(chunk, rules, sent):
                for rule in rules:
                    rule.before(sent, len(piece))
                count(len(piece))
                yield piece
                sent += len(piece)
                _act(rules, sent)
    finally:
        close = getattr(body, "close", None)
        if close is not None:
            close()


class DroppingInput:
    """A request body reader that kills the connection after ``limit`` bytes."""

    def __init__(self, stream: Any, limit: int, sock: socket.socket | None) -> None:
        self._stream, self._left, self._sock = stream, limit, sock

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes; SandboxDrop (and a dead connection) once the limit is hit."""
        if self._left <= 0:
            kill_connection(self._sock)
            raise SandboxDrop("sandbox fault: drop_after on the request body")
        want = self._left if size is None or size < 0 else min(size, self._left)
        data = self._stream.read(want)
        self._left -= len(data)
        return data
