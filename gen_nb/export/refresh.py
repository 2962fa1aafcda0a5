"""Fresh URLs for files whose URL expired mid-export (a re-signed or rotated CDN link).

The driver asks the API for the render (or layer) again, checks that the new URL serves the
same object — the size and validators the kept ``.part`` was started with — and sends the
file again, which then resumes. A different object is not spliced: the file fails with a
message saying why.
"""

from __future__ import annotations

import dataclasses
import threading
from typing import Any

from gen_nb.export.destinations import Destination, LocalDestination
from gen_nb.export.runner import Plan
from gen_nb.export.selection import ExportItem

__all__ = ["Refresher"]

MAX_REFRESHES = 1


class Refresher:
    """Gets fresh URLs through ``client`` (None: no client, no refresh)."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self._tries: dict[str, int] = {}
        self._lock = threading.Lock()

    def fresh_plan(self, plan: Plan, dest: Destination) -> tuple[Plan | None, str | None]:
        """(the plan with a fresh URL, None) or (None, why not — None when simply unable)."""
        with self._lock:
            tries = self._tries.get(plan.item.key, 0)
            self._tries[plan.item.key] = tries + 1
        if self.client is None or tries >= MAX_REFRESHES:
            return None, None
        try:
            url = self._url_of(plan.item)
        except Exception as exc:
            return None, f"The URL expired and asking GEN for a fresh one failed: {exc}"
        if not url or url == plan.item.url:
            return None, "The URL expired and GEN gives no fresher one; export it again later."
        problem = self._changed(plan, url, dest)
        if problem:
            return None, problem
        # its .part is there now: the new plan must look (absent=False) to resume from it
        return dataclasses.replace(plan, item=dataclasses.replace(plan.item, url=url),
                                   absent=False), None

    def _url_of(self, item: ExportItem) -> str | None:
        render = self.client.render(item.render_id, engine_id=item.engine_id)
        if item.kind == "render":
            return render.url
        layer = next((lo for lo in self.client.layers(render) if lo.layer_id == item.layer_id),
                     None)
        return layer.url if layer is not None else None

    @staticmethod
    def _changed(plan: Plan, url: str, dest: Destination) -> str | None:
        """Why the fresh URL is not the same object as the kept .part (None: it is)."""
        if not isinstance(dest, LocalDestination):
            return None       # a stream keeps nothing: the fresh URL simply starts over
        from gen_nb.api.settings import TransferOptions
        from gen_nb.transfer.headers import strong_validator
        from gen_nb.transfer.plan import Target
        from gen_nb.transfer.remote import probe, shared_session
        from gen_nb.transfer.sidecar import Sidecar

        target = Target(dest.path_of(plan.path))
        kept = Sidecar.load(target.sidecar)
        if kept is None:
            return None
        remote = probe(shared_session(), url, TransferOptions(), cancel=None,
                       what=f"Checking the fresh URL of {plan.path}")
        fresh_validator = strong_validator(remote.etag, remote.last_modified)
        if (kept.total is not None and remote.total != kept.total) or \
                (kept.validator and fresh_validator and kept.validator != fresh_validator):
            return (f"The URL of {plan.path} expired, and the fresh URL serves a different file "
                    f"(size {remote.total} vs {kept.total}, or other validators); the partial "
                    "file was not resumed. Export again to fetch the new version.")
        return None
