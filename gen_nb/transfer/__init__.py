"""Moving bytes: resumable, verified downloads; segmented and bulk; streams to storage.

UI-agnostic: progress goes to an injected sink (see :mod:`gen_nb.transfer.progress`); this
package never imports ipywidgets, IPython, pandas or gen_nb.api.client (tqdm only lazily, for the
default console/notebook bar).

>>> import gen_nb
>>> sb = gen_nb.sandbox.start()                                        # doctest: +SKIP
>>> gen_nb.download(sb.large_media_url(2 << 20, "clip.mp4"), "downloads/")  # doctest: +SKIP
DownloadResult(path=PosixPath('downloads/clip.mp4'), ...)
"""

from gen_nb.transfer.bulk import download_many
from gen_nb.transfer.downloader import download
from gen_nb.transfer.progress import ProgressState
from gen_nb.transfer.results import DownloadResult, StreamResult, TransferResult
from gen_nb.transfer.stream import stream_to

__all__ = [
    "DownloadResult",
    "ProgressState",
    "StreamResult",
    "TransferResult",
    "download",
    "download_many",
    "stream_to",
]
