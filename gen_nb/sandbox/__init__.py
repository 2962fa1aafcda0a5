"""A faithful local GEN emulator: API + public CDN + S3-like storage, with fault injection.

``start()`` runs it in background daemon threads on 127.0.0.1 (three ports: API, CDN, storage)
and returns a :class:`Sandbox` handle; ``serve()`` runs it in the foreground until Ctrl-C
(``gen-nb sandbox``). The sandbox imports nothing else from gen_nb: it plays the server.

It serves a seeded demo workspace (``seed``): three engines whose rows show the committed
title-card renders (``samples`` reads ``media/catalog.json``), times counting back from the
start, renders in every status; the pending and processing ones start moving when polled.
``start(world="hostile")`` adds XSS, odd unicode and a NUL byte for escaping tests. Published
posts link to the sandbox's own page (``post_page``), and ``sb.bucket_url(key)`` is a stream
destination on its storage.

Inside, imports point one way (a test checks the graph has no cycle): ``workspace`` (records)
and ``errors`` → ``world`` (the state) → ``renders``, ``publish``, ``deletion`` → ``timeline``
(the clock), ``seed`` (demo data, with ``samples``), ``wire`` (JSON shapes), ``post_page`` →
``routing``, ``render_api``, ``publishing_api`` → ``api`` (the WSGI app). Beside it: ``blobs``
and ``cdn``, ``storage``; ``knobs`` (the fault knob table), ``shaping``, ``faults``,
``instrument``, ``log``; ``servers`` (the werkzeug servers) and ``handle`` (the
:class:`Sandbox` handle). ``make_media`` and the ``media_kit`` package regenerate the
committed media; nothing else imports them.

Example::

    from gen_nb import sandbox
    with sandbox.start(render_seconds=1) as sb:
        import requests
        r = requests.get(f"{sb.api_base}/vidsheet", params={"agent_id": sb.agent_id},
                         headers={"X-API-Key": sb.api_key})
        print(r.json()[0]["title"])          # Launch teasers
"""

from __future__ import annotations

import sys
import threading
from typing import Any, TextIO

from .faults import Fault
from .handle import Sandbox
from .log import RequestRecord
from .storage import StoredObject

__all__ = ["Fault", "RequestRecord", "Sandbox", "StoredObject", "banner", "serve", "start"]


def start(port: int = 0, render_seconds: float = 6.0, publish_seconds: float = 3.0,
          seed: int = 0, **options: Any) -> Sandbox:
    """Start the sandbox in background threads and return its running handle.

    ``options`` go to :class:`Sandbox` (``host``, ``credits``, ``api_key``, ``agent_id``,
    ``cdn_port``, ``storage_port``, ``storage_dir``, ``world="hostile"`` for the test world,
    ``seeded_at`` to fix the time the seeded world counts back from, and
    ``fault_header=True`` to honour the per-request ``X-Sandbox-Fault`` header, for tests).
    Raises OSError if a port cannot be bound, ValueError for an unknown world.
    Stop it with ``sb.stop()`` or use it as a context manager.
    """
    return Sandbox(port, render_seconds=render_seconds, publish_seconds=publish_seconds,
                   seed=seed, **options).start()


def banner(sb: Sandbox) -> str:
    """The banner ``serve()`` prints: URLs, key, agent id and an example curl."""
    return "\n".join([
        "GEN sandbox running (local emulator; Ctrl-C to stop)",
        f"  API base:     {sb.api_base}",
        f"  CDN base:     {sb.cdn_base}",
        f"  Storage base: {sb.storage_base}",
        f"  Bucket (PUT): {sb.bucket_url('exports/render.mp4')}",
        f"  API key:      {sb.api_key}",
        f"  Agent id:     {sb.agent_id}",
        "  Use it:       export GEN_API_BASE_URL=" + sb.api_base,
        f"                export GEN_API_KEY={sb.api_key} GEN_AGENT_ID={sb.agent_id}",
        f'  Try:          curl -H "X-API-Key: {sb.api_key}" '
        f'"{sb.api_base}/vidsheet?agent_id={sb.agent_id}"',
    ])


def serve(port: int = 0, host: str = "127.0.0.1", *, out: TextIO | None = None,
          stop_event: threading.Event | None = None, **options: Any) -> None:
    """Run the sandbox in the foreground until Ctrl-C (or until ``stop_event`` is set).

    Prints one block with the API base URL, CDN and storage bases, API key, agent id and an
    example curl to ``out`` (stdout by default). ``options`` as for :func:`start`.
    """
    sb = start(port, host=host, **options)
    stream = out or sys.stdout
    print(banner(sb), file=stream, flush=True)
    waiter = stop_event or threading.Event()
    try:
        while not waiter.wait(0.5):
            pass
    except KeyboardInterrupt:
        print("sandbox stopped", file=stream)
    finally:
        sb.stop()
