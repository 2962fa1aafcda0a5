"""gen_nb: GEN (gen.pro) renders, native in Jupyter.

``import gen_nb`` is cheap: it creates no client, thread or server and imports neither requests,
pandas, ipywidgets nor IPython. Names below load on first use.

>>> import gen_nb
>>> client = gen_nb.connect()          # no key → the local sandbox  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING, Any

# Library logging stays silent unless the application configures it.
logging.getLogger("gen_nb").addHandler(logging.NullHandler())

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    "Client": "gen_nb.api.client",
    "connect": "gen_nb.api.client",
    "GenError": "gen_nb.api.errors",
    "TransferOptions": "gen_nb.api.settings",
    "download": "gen_nb.transfer",
    "download_many": "gen_nb.transfer",
    "stream_to": "gen_nb.transfer",
    "renders_frame": "gen_nb.frames",
    "layers_frame": "gen_nb.frames",
    "resources_frame": "gen_nb.frames",
    "transfers_frame": "gen_nb.frames",
    "show": "gen_nb.display",
}
_SUBMODULES = ("api", "sandbox", "transfer", "export", "frames", "display", "widgets", "cli")

__all__ = [
    "Client",
    "GenError",
    "TransferOptions",
    "__version__",
    "api",
    "cli",
    "connect",
    "display",
    "download",
    "download_many",
    "export",
    "frames",
    "layers_frame",
    "renders_frame",
    "resources_frame",
    "sandbox",
    "show",
    "stream_to",
    "transfer",
    "transfers_frame",
    "widgets",
]

if TYPE_CHECKING:  # pragma: no cover
    from gen_nb.api.client import Client, connect
    from gen_nb.api.errors import GenError
    from gen_nb.api.settings import TransferOptions
    from gen_nb.display import show
    from gen_nb.export import export
    from gen_nb.frames import layers_frame, renders_frame, resources_frame, transfers_frame
    from gen_nb.transfer import download, download_many, stream_to


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f"gen_nb.{name}")
    raise AttributeError(f"module 'gen_nb' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
