"""The GEN API side of gen_nb: one :class:`Client`, its transport, typed errors, models, settings.

Modules, from the bottom up:

==================  ==========================================================================
``redact``          keeping keys and signed URL parts out of everything shown, logged or stored
``errors``          the exception tree and the one response → exception mapper
``settings``        :class:`Settings` (the client's) and :class:`TransferOptions`; every env var
``transport``       the one network core: sessions with key scoping, retry rules and pacing,
                    deadlines (shared with :mod:`gen_nb.transfer`)
``connection``      the one place that reaches into urllib3's private attributes (fast body
                    reads, pooled-connection release, socket access for cancel and timeouts)
``models``          frozen dataclasses parsed tolerantly from API answers
``calls``           one API call: path building (ids validated and encoded), bounded reading
``catalog``         engines, renders, layers, remotion jobs
``resources``       content resources and the delete bound to the plan shown
``post_rules``      platform rules checked locally before posting
``post_requests``   request bodies and headers of the publishing endpoints
``publishing``      posts and the legacy TikTok job
``polling``         the pace of status checks (``wait``, ``wait_post``)
``shared_sandbox``  the process-wide sandbox ``connect()`` starts without a key
``client``          :class:`Client` and :func:`connect`
==================  ==========================================================================
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = ["Client", "GenError", "Settings", "TransferOptions", "connect"]

_EXPORTS = {"Client": "client", "connect": "client", "GenError": "errors",
            "Settings": "settings", "TransferOptions": "settings"}

if TYPE_CHECKING:  # pragma: no cover
    from gen_nb.api.client import Client, connect
    from gen_nb.api.errors import GenError
    from gen_nb.api.settings import Settings, TransferOptions


def __getattr__(name: str) -> Any:
    """Load the entry points on first use (importing gen_nb.api.errors stays light)."""
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"gen_nb.api.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'gen_nb.api' has no attribute {name!r}")
