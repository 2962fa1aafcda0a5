"""The one place gen_nb reaches into urllib3's and http.client's private attributes.

Three measured wins need them (benchmarks/README.md):

* **fast body reads** — reading a plain (identity, not chunked) body with ``readinto1``
  straight from the socket's buffered reader into reused buffers, instead of one new ``bytes``
  per piece: faster than curl on the benchmark machine;
* **connection reuse after a fast read** — urllib3 only returns a connection to its pool when
  *it* read the body; after a fast read of exactly ``Content-Length`` bytes,
  :meth:`FastBody.release` tells http.client and urllib3 the body is done, so the next request
  to the same host reuses the connection (one TCP + TLS handshake per host, not per file);
* **the socket** — to break a read blocked on a stalled connection when a cancel Event is set
  (:func:`shutdown`), and to shrink a read timeout to what is left of a deadline
  (:func:`set_read_timeout`).

Every function degrades to the public path when the attributes are not there (another urllib3):
:func:`fast_body` returns None and callers use ``response.raw.read1``; :func:`shutdown` and
:func:`set_read_timeout` return False. :func:`missing` lists what is absent — a test fails
loudly on it, so an urllib3 upgrade that removes them is noticed, not silently slower.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Callable
from typing import Any

import requests

__all__ = ["FastBody", "fast_body", "missing", "set_read_timeout", "shutdown", "socket_of"]


def _parts(response: requests.Response) -> tuple[Any, Any, Any]:
    """(urllib3 response, http.client response, buffered socket reader) or Nones."""
    raw = getattr(response, "raw", None)
    fp = getattr(raw, "_fp", None)
    return raw, fp, getattr(fp, "fp", None)


class FastBody:
    """``readinto(view) -> n`` straight from the socket's buffered reader (0 = end of body).

    ``remaining`` is what is left of ``Content-Length`` (None when the body is
    close-delimited). At most one ``recv`` per call, so a slow link still reports progress.
    """

    def __init__(self, response: requests.Response, readinto1: Callable[[Any], int],
                 length: int | None) -> None:
        self._response, self._readinto1 = response, readinto1
        self.remaining = length

    def readinto(self, view: memoryview) -> int:
        """Read some bytes into ``view``. ``ConnectionError`` when the body ends early."""
        left = self.remaining
        if left is not None:
            if left == 0:
                return 0
            if len(view) > left:
                view = view[:left]
        n: int = self._readinto1(view)
        if left is not None:
            if n == 0:
                raise ConnectionError(f"the connection closed {left} bytes before the end")
            self.remaining = left - n
        return n

    def release(self) -> bool:
        """After the whole body was read: return the connection to urllib3's pool.

        True when it went back; False when it cannot be reused (the body was not read to its
        end, has no length, or the server said ``Connection: close``): closing the response
        then closes it.
        """
        raw, fp, _ = _parts(self._response)
        if self.remaining != 0 or fp is None or getattr(fp, "will_close", True):
            return False
        close_conn = getattr(fp, "_close_conn", None)
        release = getattr(raw, "release_conn", None)
        if close_conn is None or release is None:
            return False
        fp.length = 0
        close_conn()       # http.client: this response is finished, the socket stays open
        release()          # urllib3: the connection goes back to the pool
        with contextlib.suppress(AttributeError):
            self._response._content_consumed = True  # requests: nothing left to drain
        return True


def fast_body(response: requests.Response) -> FastBody | None:
    """A :class:`FastBody` for a plain body, or None (content coding, chunked, unknown shape)."""
    _, fp, buffered = _parts(response)
    encoding = (response.headers.get("Content-Encoding") or "identity").strip().lower()
    readinto1 = getattr(buffered, "readinto1", None)
    if encoding not in ("", "identity") or fp is None or readinto1 is None \
            or getattr(fp, "chunked", True):
        return None
    length = getattr(fp, "length", None)
    return FastBody(response, readinto1, length if isinstance(length, int) else None)


def socket_of(response: requests.Response) -> socket.socket | None:
    """The socket a streamed response is read from, when it can be found."""
    raw, _, buffered = _parts(response)
    sock = getattr(getattr(raw, "_connection", None), "sock", None)
    if sock is None:
        sock = getattr(getattr(buffered, "raw", None), "_sock", None)
    return sock if isinstance(sock, socket.socket) else None


def shutdown(response: requests.Response) -> bool:
    """Shut the response's socket down (a blocked read then returns at once)."""
    sock = socket_of(response)
    if sock is None:
        return False
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    return True


def set_read_timeout(response: requests.Response, seconds: float) -> bool:
    """Make the next reads of this response time out after ``seconds`` (urllib3 sets the
    timeout again for the next request on the same connection)."""
    sock = socket_of(response)
    if sock is None:
        return False
    with contextlib.suppress(OSError):
        sock.settimeout(max(0.001, seconds))
        return True
    return False


def missing(response: requests.Response) -> list[str]:
    """The private attributes this module uses that ``response`` does not have (empty: all
    fast paths work). For the test that guards against urllib3 changes."""
    raw, fp, buffered = _parts(response)
    checks = {
        "requests.Response.raw": raw is not None,
        "urllib3 HTTPResponse._fp": fp is not None,
        "http.client HTTPResponse.fp": buffered is not None,
        "buffered reader .readinto1": hasattr(buffered, "readinto1"),
        "http.client HTTPResponse.length": hasattr(fp, "length"),
        "http.client HTTPResponse.chunked": hasattr(fp, "chunked"),
        "http.client HTTPResponse.will_close": hasattr(fp, "will_close"),
        "http.client HTTPResponse._close_conn": hasattr(fp, "_close_conn"),
        "urllib3 HTTPResponse.release_conn": hasattr(raw, "release_conn"),
        "urllib3 HTTPResponse._connection.sock": socket_of(response) is not None,
    }
    return [name for name, ok in checks.items() if not ok]
