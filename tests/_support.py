"""Small helpers shared by several test modules (not fixtures: those live in conftest.py)."""

from __future__ import annotations

import copy
import json
import os
import socket
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

# the session runs as on a platform without fcntl, xattrs, fadvise, pwrite, O_NOFOLLOW (conftest.py)
SIMULATED = os.environ.get("GEN_NB_SIMULATE_PLATFORM") == "portable"

# a copy of the spec's gen-api-examples.json, so the tests run on a clean clone
EXAMPLES_PATH = Path(__file__).parent / "data" / "gen-api-examples.json"
EXAMPLES: dict[str, Any] = json.loads(EXAMPLES_PATH.read_text())


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now (for a server that cannot take port 0 itself)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ex(name: str) -> Any:
    """A fresh deep copy of one documented payload."""
    return copy.deepcopy(EXAMPLES[name])


def stringify_ids(value: Any) -> Any:
    """The OpenAPI variant of a payload: every integer id (``id``, ``*_id``) a string."""
    if isinstance(value, dict):
        return {k: (str(v) if (k == "id" or k.endswith("_id")) and isinstance(v, int)
                    else stringify_ids(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [stringify_ids(v) for v in value]
    return value


def query(call: Any) -> dict[str, str]:
    """The query parameters of a request recorded by ``responses``."""
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(call.request.url).query))


def body(call: Any) -> Any:
    """The JSON body of a request recorded by ``responses``."""
    return json.loads(call.request.body)


class HtmlCollector(HTMLParser):
    """Start tags (with attributes) and text of a piece of HTML, as a browser would parse it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse_html(markup: str) -> HtmlCollector:
    parser = HtmlCollector()
    parser.feed(markup)
    parser.close()
    return parser


@contextmanager
def private_sandbox(**options: Any) -> Iterator[tuple[Any, Any]]:
    """A sandbox of the test's own and a client bound to it (for tests that delete, publish or
    render, so the session sandbox keeps its seed data); both stopped at the end."""
    import gen_nb
    from gen_nb import sandbox

    with sandbox.start(**options) as handle, \
            gen_nb.connect(sandbox=handle, quiet=True) as client:
        yield handle, client
