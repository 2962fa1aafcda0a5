"""The Sandbox handle: what ``gen_nb.sandbox.start()`` returns (addresses, key, faults, world)."""

from __future__ import annotations

import logging
import secrets
import shutil
import tempfile
import threading
import time
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from . import wire
from .api import ApiApp
from .blobs import BlobStore
from .cdn import CdnApp
from .faults import Fault, FaultRegistry
from .instrument import Instrumented
from .knobs import knob_table
from .log import RequestLog, RequestRecord
from .seed import WORLDS, seeded_world
from .servers import Servers
from .storage import StorageApp, StoredObject
from .world import World

logger = logging.getLogger("gen_nb")
NAMES = ("api", "cdn", "storage")
PRESIGN_QUERY = ("X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=SANDBOX%2F{day}%2F"
                 "us-east-1%2Fs3%2Faws4_request&X-Amz-Date={day}T{hms}Z&X-Amz-Expires=3600"
                 "&X-Amz-SignedHeaders=host&X-Amz-Signature=")  # dated when the sandbox started


class Sandbox:
    """A running (or ready to run) local GEN emulator. Use ``gen_nb.sandbox.start()``.

    ``world`` picks the seeded workspace: ``"demo"`` (the default: what ``gen_nb.connect()``,
    the notebooks and the app show) or ``"hostile"`` (tests: the demo plus XSS, odd unicode and
    a NUL byte in titles and file names). Its times count back from ``seeded_at`` (epoch
    seconds; default: when ``start()`` runs). Uploads to the storage server go to a temp
    folder under ``storage_dir`` (default: the system temp dir; e.g. ``/dev/shm`` for
    benchmarks), deleted by ``stop()``; ``bucket_url(key)`` is where to send them.
    ``fault_header=True`` (tests only) makes every server honour the per-request
    ``X-Sandbox-Fault`` header; by default it is ignored (and the request log says so).

    Example::

        from gen_nb import sandbox
        with sandbox.start(render_seconds=1) as sb:
            print(sb.api_base, sb.agent_id, sb.bucket_url("exports/render.mp4"))
    """

    def __init__(self, port: int = 0, host: str = "127.0.0.1", *, render_seconds: float = 6.0,
                 publish_seconds: float = 3.0, seed: int = 0, credits: int = 10_000,
                 api_key: str | None = None, agent_id: str = "1024", cdn_port: int = 0,
                 storage_port: int = 0, storage_dir: str | Path | None = None,
                 fault_header: bool = False, world: str = "demo",
                 seeded_at: float | None = None) -> None:
        if world not in WORLDS:
            raise ValueError(f"unknown sandbox world {world!r}; the worlds are "
                             f"{', '.join(WORLDS)}")
        self.host, self.seed, self._storage_dir = host, seed, storage_dir
        self._ports = {"api": port, "cdn": cdn_port, "storage": storage_port}
        self.api_key = api_key or f"gen_pat_sandbox_{secrets.token_hex(12)}"
        self.agent_id = str(agent_id)
        self.fault_header = bool(fault_header)
        self.blobs = BlobStore()
        self.log = RequestLog(self.api_key)
        self.faults = FaultRegistry()
        self._stop = threading.Event()
        self._servers = Servers(host, self.api_key)
        self._origins: dict[str, str] = {}
        self._tmp: Path | None = None
        self._started = time.gmtime()
        self._settings: dict[str, Any] = {
            "render_seconds": render_seconds, "publish_seconds": publish_seconds,
            "credits": credits, "world": world, "seeded_at": seeded_at}
        self.world: World | None = None
        self.cdn: CdnApp | None = None
        self.storage: StorageApp | None = None

    # lifecycle ---------------------------------------------------------------------------
    def start(self) -> Sandbox:
        """Bind the three servers, build the seeded world and serve. Returns self."""
        if self._servers.bound:
            return self
        self._stop.clear()
        self._started = time.gmtime()
        self._tmp = Path(tempfile.mkdtemp(prefix="gen_nb_sandbox_", dir=self._storage_dir))
        self.cdn = CdnApp(self.blobs)
        self.storage = StorageApp(self._tmp, secrets.token_hex(16), self.api_key)
        apps: dict[str, Any] = {"cdn": self.cdn, "storage": self.storage}
        try:
            for name in NAMES:
                self._origins[name] = self._servers.bind(name, self._ports[name],
                                                         self._instrumented(name, apps))
            self.world = seeded_world(seed=self.seed, blobs=self.blobs, cdn_base=self.cdn_base,
                                      site=self.url, agent_id=self.agent_id, **self._settings)
            apps["api"] = ApiApp(self.world, self.api_key)
        except BaseException:
            self.stop()
            raise
        self._servers.serve()
        logger.info("sandbox started at %s (cdn %s)", self.url, self.cdn_base)
        return self

    def _instrumented(self, name: str, apps: dict[str, Any]) -> Instrumented:
        """Server ``name``'s app (looked up per request: the API app exists only once the
        world, which needs the CDN's address, is built), wrapped in the log and faults."""
        def late_app(environ: dict[str, Any], start_response: Any) -> Any:
            return apps[name](environ, start_response)

        return Instrumented(late_app, name, self.log, self.faults, self._stop,
                            fault_header=self.fault_header)

    def stop(self) -> None:
        """Stop serving, drop open connections, delete stored uploads. Idempotent."""
        self._servers.stop()  # connections first: a stalled answer must not finish instead
        self._stop.set()
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self._servers.bound else "stopped"
        api = self._origins.get("api", "-")
        return f"<Sandbox {state} api={api!r} agent_id={self.agent_id!r}>"

    @property
    def world_name(self) -> str:
        """Which seeded workspace this sandbox serves: "demo" or "hostile"."""
        return str(self._settings["world"])

    # addresses ---------------------------------------------------------------------------
    def _origin(self, name: str) -> str:
        """Origin of a server (still known after stop(); RuntimeError before start())."""
        try:
            return self._origins[name]
        except KeyError:
            raise RuntimeError("the sandbox was never started; call start() first") from None

    @property
    def url(self) -> str:
        """API origin, e.g. ``http://127.0.0.1:41234``."""
        return self._origin("api")

    @property
    def api_base(self) -> str:
        """``url + "/v1"``."""
        return self.url + "/v1"

    @property
    def cdn_base(self) -> str:
        """CDN origin (another port, so another host for key scoping)."""
        return self._origin("cdn")

    @property
    def storage_base(self) -> str:
        """Storage origin (S3-presigned-URL-like)."""
        return self._origin("storage")

    # CDN objects -------------------------------------------------------------------------
    def _cdn_path(self, url: str) -> str:
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}" != self.cdn_base:
            raise ValueError(f"not a URL of this sandbox's CDN ({self.cdn_base}): {url}")
        return unquote(parts.path)  # blobs are keyed by the decoded path, as werkzeug routes

    def large_media_url(self, size: int, name: str = "big.bin", seed: int = 0) -> str:
        """CDN URL of ``size`` deterministic bytes generated on the fly (never stored)."""
        if size < 0:
            raise ValueError("size must be >= 0")
        path = f"/large/{seed}-{size}/{name}"
        if self.blobs.get(path) is None:
            self.blobs.add_generated(path, size, seed)
        return f"{self.cdn_base}/large/{seed}-{size}/{quote(name)}"

    def media_sha256(self, url: str) -> str:
        """sha256 hex of what the CDN serves at ``url`` now. KeyError if it answers 404."""
        return self.blobs.sha256(self._cdn_path(url))

    def mutate(self, url: str) -> None:
        """Change the object's bytes (same size) and its ETag/Last-Modified."""
        self.blobs.mutate(self._cdn_path(url))

    def redirect_url(self, target_url: str) -> str:
        """A CDN URL that answers 302 to ``target_url``."""
        assert self.cdn is not None
        return self.cdn_base + self.cdn.add_redirect(target_url)

    # storage -----------------------------------------------------------------------------
    def storage_url(self, key: str = "out.mp4", bucket: str = "sandbox-bucket",
                    method: str = "PUT") -> str:
        """A presigned-style URL for ``method`` on ``bucket/key`` of the storage server.

        PUT and POST share a signature (upload), as do GET and HEAD (read); DELETE has its own.
        ValueError for any other method.
        """
        assert self.storage is not None
        sig = self.storage.signature(method, bucket, key)
        query = PRESIGN_QUERY.format(day=time.strftime("%Y%m%d", self._started),
                                     hms=time.strftime("%H%M%S", self._started))
        return f"{self.storage_base}/{quote(bucket)}/{quote(key)}?{query}{sig}"

    def storage_put_url(self, key: str = "out.mp4", bucket: str = "sandbox-bucket") -> str:
        """A presigned-style PUT URL for ``bucket/key`` (``storage_url(key, bucket, "PUT")``)."""
        return self.storage_url(key, bucket, "PUT")

    def storage_object(self, key: str) -> StoredObject | None:
        """What the storage server received for ``key`` (or ``bucket/key``), or None."""
        assert self.storage is not None
        return self.storage.get(key)

    def bucket_url(self, key: str = "out.mp4", method: str = "PUT") -> str:
        """A stream destination on the sandbox's own bucket: a presigned-style URL for
        ``method`` (PUT to upload, the default; GET to read back) on ``sandbox-bucket/key``.

        Hand it to ``gen_nb.stream_to(render, url)`` or the Stream tab; afterwards
        :meth:`bucket_object` says what arrived. ValueError for a method the storage does
        not answer. Example::

            url = sb.bucket_url("exports/render.mp4")   # → http://127.0.0.1:…/sandbox-bucket/…
        """
        return self.storage_url(key, "sandbox-bucket", method)

    def bucket_object(self, key: str) -> StoredObject | None:
        """What arrived in the sandbox's bucket at ``key`` (size, sha256, content type,
        headers, ``read_bytes()``), or None if nothing did."""
        return self.storage_object(key)

    def bucket_keys(self) -> list[str]:
        """The keys in the sandbox's bucket, sorted."""
        assert self.storage is not None
        return self.storage.keys("sandbox-bucket")

    # request log and faults --------------------------------------------------------------
    @property
    def requests(self) -> list[RequestRecord]:
        """Every request seen by the three servers, oldest first (key values redacted)."""
        return self.log.records()

    def clear_log(self) -> None:
        """Forget the request log."""
        self.log.clear()

    def inject(self, server: str | None = "cdn", path: str | None = None,
               method: str | None = None, times: int | None = None, **knobs: Any) -> Fault:
        """Make matching requests misbehave.

        ``server`` is "api", "cdn", "storage" or None (all). ``path`` is a prefix, or an
        fnmatch pattern if it contains ``* ? [``. ``times`` limits the fault to the next N
        matching requests. ValueError on unknown knobs.
        Example: ``sb.inject("cdn", path="/outputs/", drop_after=65536, times=1)``.
        The knobs (from ``gen_nb.sandbox.knobs.KNOBS``):
        """
        return self.faults.inject(server, path, method, times, knobs)

    inject.__doc__ = (inject.__doc__ or "").rstrip() + "\n\n" + knob_table(" " * 8) + "\n"

    def clear_faults(self) -> None:
        """Remove every injected fault."""
        self.faults.clear()

    # world -------------------------------------------------------------------------------
    def _world(self) -> World:
        if self.world is None:
            raise RuntimeError("the sandbox was never started; call start() first")
        return self.world

    @property
    def seed_data(self) -> MappingProxyType[str, Any]:
        """Read-only snapshot of the world (engines, generations, resources, posts, …)."""
        return MappingProxyType(wire.snapshot(self._world()))

    @property
    def credits(self) -> int:
        """Remaining render credits (settable; 0 makes renders fail with 422)."""
        return int(self._world().credits)

    @credits.setter
    def credits(self, value: int) -> None:
        self._world().credits = int(value)

    @property
    def render_seconds(self) -> float:
        """How long a started render takes (settable)."""
        return float(self._world().render_seconds)

    @render_seconds.setter
    def render_seconds(self, value: float) -> None:
        self._world().render_seconds = float(value)

    @property
    def publish_seconds(self) -> float:
        """How long a post takes to publish (settable)."""
        return float(self._world().publish_seconds)

    @publish_seconds.setter
    def publish_seconds(self, value: float) -> None:
        self._world().publish_seconds = float(value)

    @property
    def confirm_ttl(self) -> float:
        """Seconds a two-phase delete's confirm_token stays valid (settable; default 300)."""
        return float(self._world().confirm_ttl)

    @confirm_ttl.setter
    def confirm_ttl(self, value: float) -> None:
        self._world().confirm_ttl = float(value)

    def fail_next_renders(self, count: int = 1, reason: str = "Render failed in the sandbox"
                          ) -> None:
        """Make the next ``count`` renders started through the API end ``failed``."""
        world = self._world()
        with world.lock:
            world.fail_next.extend([reason] * count)

    @property
    def delete_status(self) -> int | None:
        """Status of a plain DELETE: 200 (empty body), 204, or None to alternate (default)."""
        return self._world().delete_status

    @delete_status.setter
    def delete_status(self, value: int | None) -> None:
        if value not in (None, 200, 204):
            raise ValueError("delete_status must be 200, 204 or None")
        self._world().delete_status = value
