"""The GEN client: :func:`connect` and :class:`Client`.

One ``requests`` session per client (made by :mod:`gen_nb._http`, which keeps the key on the API
host), typed errors from :func:`gen_nb.errors.error_from_response` only, frozen models from
:mod:`gen_nb.models`. Engines, renders and content resources live in :mod:`gen_nb._catalog`,
publishing in :mod:`gen_nb._publishing`; this module holds the plumbing and generations.

>>> import gen_nb
>>> client = gen_nb.connect(quiet=True)            # no key → the local sandbox  # doctest: +SKIP
>>> r = client.renders(status="completed")[0]      # doctest: +SKIP
>>> client.wait(client.start_render(r.engine_id, r.cell_id).id, poll_interval=0.5)  # doctest: +SKIP
"""

from __future__ import annotations

import atexit
import dataclasses
import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any

import requests

from gen_nb import _http
from gen_nb._catalog import CatalogMixin
from gen_nb._polling import poll
from gen_nb._publishing import PublishingMixin
from gen_nb.config import Settings, resolve_settings
from gen_nb.errors import ConfigError, RenderFailed, WaitTimeout, error_from_response
from gen_nb.models import Generation

__all__ = ["Client", "connect"]

log = logging.getLogger("gen_nb")


class Client(CatalogMixin, PublishingMixin):
    """A connection to the GEN API (or to the local sandbox). Build it with :func:`connect`.

    ``settings`` are frozen and never show the key; ``sandbox`` is the sandbox handle the client
    talks to (None for the real API). Use it as a context manager or call :meth:`close`.

    >>> from gen_nb import sandbox
    >>> with sandbox.start() as sb, connect(sandbox=sb) as client:   # doctest: +SKIP
    ...     print(client.generation(client.renders()[0].id).status)
    """

    def __init__(self, settings: Settings | None = None, *, sandbox: Any = None,
                 sleep: Callable[[float], None] | None = None,
                 _on_close: Callable[[], None] | None = None) -> None:
        self.settings = settings if settings is not None else resolve_settings()
        self.sandbox = sandbox
        self._sleep = sleep or time.sleep
        self._policy = _http.RetryPolicy(retries=self.settings.retries, sleep=self._sleep)
        self._session = _http.api_session(self.settings)
        self._on_close = _on_close
        self._closed = False
        self._platform_rules: list[Any] | None = None

    # --- housekeeping ---------------------------------------------------------------------------

    @property
    def is_sandbox(self) -> bool:
        """True when this client talks to a gen_nb sandbox rather than to GEN."""
        key = self.settings.api_key or ""
        return self.sandbox is not None or key.startswith("gen_pat_sandbox_")

    def __repr__(self) -> str:
        where = " sandbox" if self.is_sandbox else ""
        return (f"<gen_nb.Client {self.settings.base_url} agent={self.settings.agent_id!r}"
                f"{where}{' closed' if self._closed else ''}>")

    __str__ = __repr__

    def close(self) -> None:
        """Close the HTTP session, and stop the sandbox if this client started it."""
        if self._closed:
            return
        self._closed = True
        self._session.close()
        if self._on_close is not None:
            self._on_close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # --- plumbing -------------------------------------------------------------------------------

    def _url(self, path: str) -> str:
        return self.settings.base_url + "/" + path.lstrip("/")

    def _engine_path(self, *parts: object) -> str:
        return "/".join([self.settings.engine_prefix, *(str(p) for p in parts)])

    def _request(self, method: str, path: str, *, subject: str, agent: bool = False,
                 params: Mapping[str, Any] | None = None, json: Any = None,
                 headers: Mapping[str, str] | None = None,
                 single_use: bool = False) -> requests.Response:
        """Send one API request (with retries); raise the mapped error for an error status."""
        query = {k: v for k, v in (params or {}).items() if v is not None}
        if agent:
            query = {"agent_id": self.settings.require_agent_id(subject), **query}
        check = ("Is the sandbox still running?" if self.is_sandbox else
                 f"The API base URL is {self.settings.base_url} (GEN_API_BASE_URL).")
        response = _http.retrying(
            self._session, method, self._url(path), policy=self._policy, single_use=single_use,
            check=check, params=query or None, json=json, headers=dict(headers or {}),
        )
        if not response.ok:
            raise self._error(response, subject, method)
        return response

    def _error(self, response: requests.Response, subject: str, method: str) -> Exception:
        """The mapped error, with any echo of our key removed from the body first."""
        body = response.content
        key = (self.settings.api_key or "").encode()
        if key and key in body:
            body = body.replace(key, b"***")
        return error_from_response(response.status_code, body, response.headers,
                                   subject=subject, method=method, url=response.url)

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        """Like :meth:`_request`, returning the decoded JSON body (None when the body is empty)."""
        response = self._request(method, path, **kwargs)
        if response.status_code == 204 or not response.content.strip():
            return None
        try:
            return response.json()
        except ValueError:
            raise self._error(response, kwargs["subject"], method) from None

    # --- generations ----------------------------------------------------------------------------

    def generation(self, generation_id: str | int) -> Generation:
        """The current state of a generation (a render or any other job). Needs no agent id.

        Raises NotFoundError for an unknown id. Example: ``client.generation(56789).status``.
        """
        data = self._json("GET", f"generations/{generation_id}",
                          subject=f"generation {generation_id}")
        return Generation.from_api(data or {})

    def wait(self, generation_id: str | int, *, timeout: float | None = 600.0,
             poll_interval: float | None = None,
             on_update: Callable[[Generation], None] | None = None,
             cancel: threading.Event | None = None,
             raise_on_failure: bool = True) -> Generation:
        """Poll a generation until it is completed, failed or stopped, and return it.

        Polls every 2 s growing to 10 s (GEN's documented pace) unless ``poll_interval`` is
        given. ``on_update(generation)`` runs on every status change. Setting ``cancel`` stops
        waiting at once and returns the latest state (the render goes on). Raises
        :class:`WaitTimeout` after ``timeout`` seconds and :class:`RenderFailed` when it ends
        failed or stopped (unless ``raise_on_failure=False``).

        >>> g = client.wait(gen.id, poll_interval=0.5, on_update=print)  # doctest: +SKIP
        """
        last, outcome = poll(lambda: self.generation(generation_id), done=lambda g: g.done,
                             status=lambda g: g.status, timeout=timeout,
                             interval=poll_interval, on_update=on_update, cancel=cancel)
        if outcome == "timeout":
            raise WaitTimeout(last, timeout or 0.0)
        if raise_on_failure and last.status in ("failed", "stopped"):
            raise RenderFailed(last)
        return last

    def stop(self, generation_id: str | int) -> Generation:
        """Stop a running generation. Raises JobCannotBeStoppedError if it has finished."""
        data = self._json("POST", f"generations/{generation_id}/stop",
                          subject=f"stopping generation {generation_id}")
        return Generation.from_api(data or {"id": generation_id, "status": "stopped"})

    def continue_generation(self, generation_id: str | int) -> Generation:
        """Continue a paused or stopped generation (``POST /generations/{id}/continue``)."""
        data = self._json("POST", f"generations/{generation_id}/continue",
                          subject=f"continuing generation {generation_id}")
        return Generation.from_api(data or {"id": generation_id, "status": "pending"})

    def start_render(self, engine_id: str | int, cell_id: str | int, *,
                     idempotency_key: str | None = None) -> Generation:
        """Start rendering the ``final_video`` cell ``cell_id`` of engine ``engine_id``.

        Costs credits (InsufficientCreditsError when there are none). Sends ``agent_id`` in the
        query and the body and an ``Idempotency-Key`` (a new uuid4 unless given: repeating a
        call with the same key within 24 h returns the same generation and charges nothing).
        Returns the pending generation; follow it with :meth:`wait`.

        >>> r = client.renders()[0]                                    # doctest: +SKIP
        >>> client.wait(client.start_render(r.engine_id, r.cell_id).id)  # doctest: +SKIP
        """
        subject = f"rendering cell {cell_id} of engine {engine_id}"
        agent = self.settings.require_agent_id(subject)
        data = self._json("POST", self._engine_path(engine_id, "cells", cell_id, "render"),
                          subject=subject, agent=True, json={"agent_id": agent},
                          headers={"Idempotency-Key": idempotency_key or str(uuid.uuid4())})
        return Generation.from_api(data or {})


# --- connect ------------------------------------------------------------------------------------

class _SharedSandbox:
    """One sandbox per process, started on first need and stopped when its last client closes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._handle: Any = None
        self._users = 0

    def acquire(self) -> Any:
        with self._lock:
            if self._handle is None:
                from gen_nb import sandbox

                self._handle = sandbox.start()
                atexit.register(self._stop_at_exit)
            self._users += 1
            return self._handle

    def release(self) -> None:
        with self._lock:
            self._users -= 1
            if self._users <= 0 and self._handle is not None:
                handle, self._handle, self._users = self._handle, None, 0
                handle.stop()

    def _stop_at_exit(self) -> None:
        with self._lock:
            handle, self._handle = self._handle, None
        if handle is not None:
            handle.stop()


_SHARED = _SharedSandbox()


def connect(
    api_key: str | None = None,
    *,
    agent_id: str | int | None = None,
    base_url: str | None = None,
    engine_prefix: str | None = None,
    sandbox: Any = None,
    engine_ids: Any = None,
    timeout: float | None = None,
    retries: int | None = None,
    quiet: bool = False,
) -> Client:
    """Connect to GEN, or to the local sandbox when there is no key.

    Settings come from the arguments, then the environment (``GEN_API_KEY``, ``GEN_AGENT_ID``,
    ``GEN_API_BASE_URL``, ``GEN_ENGINE_PREFIX``, ``GEN_NB_*``), then defaults (timeout 30 s,
    4 retries). With no key anywhere — or ``sandbox=True`` — a sandbox is started in a
    background thread (shared by later ``connect()`` calls, stopped when the last client
    closes) and one line says so unless ``quiet``. ``sandbox=<handle>`` binds to a running
    sandbox; ``sandbox=False`` refuses to fall back (ConfigError when there is no key).

    >>> client = connect(quiet=True)                  # doctest: +SKIP
    >>> client.is_sandbox                             # doctest: +SKIP
    True
    """
    settings = resolve_settings(api_key, agent_id=agent_id, base_url=base_url,
                                engine_prefix=engine_prefix, engine_ids=engine_ids,
                                timeout=timeout, retries=retries)
    if sandbox is None or sandbox is False:
        if settings.api_key:
            return Client(settings)
        if sandbox is False:
            raise ConfigError("No API key: pass api_key= to gen_nb.connect() or set GEN_API_KEY "
                              "(a personal access token, gen_pat_…), or allow the sandbox.")
    if sandbox is None or sandbox is True:
        handle, on_close = _SHARED.acquire(), _SHARED.release
        if not quiet:
            reason = "sandbox=True" if sandbox is True else "no GEN_API_KEY set"
            print(f"gen_nb: {reason} — using the local sandbox at {handle.api_base}")
    else:
        handle, on_close = sandbox, None
    settings = dataclasses.replace(
        settings, api_key=handle.api_key, base_url=str(handle.api_base).rstrip("/"),
        agent_id=str(agent_id) if agent_id is not None else str(handle.agent_id))
    log.info("gen_nb: connected to the sandbox at %s", handle.api_base)
    return Client(settings, sandbox=handle, _on_close=on_close)
