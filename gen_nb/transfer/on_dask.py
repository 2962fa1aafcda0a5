"""Running many transfers on a Dask cluster, with live byte progress and a cancel that reaches
running transfers.

``download_many`` and ``export`` hand :func:`run_on_dask` a list of jobs, one per file:
``(index, fn, args)``; a worker runs ``fn(*args, sink, cancel)`` (see :func:`remote_call`),
where ``sink`` takes the transfer's :class:`~gen_nb.transfer.progress.ProgressState` and
``cancel`` is a ``threading.Event``.

* Progress: a worker logs each file's byte count as an event on a topic of this run
  (``Worker.log_event``, at most four times a second per file, always at the end); the driver
  subscribes to the topic (``Client.subscribe_topic``) and sums the counts into the one
  :class:`~gen_nb.transfer.aggregate.Aggregate`, so the bar moves while files are in flight.
* Cancel: the driver sets a ``distributed.Event`` of this run; every running task watches it
  (five times a second) and sets its transfer's cancel, which stops within a fraction of a
  second (a local ``.part`` is kept). Jobs not started yet are cancelled before they run.
* A worker that dies mid-file: Dask runs the task again elsewhere (``retries=2``); on a shared
  disk it resumes from the ``.part`` and its sidecar (the kernel released the dead process's
  lock).

``distributed`` is imported only here, and only when a Dask client is passed (the optional
extra ``gen_nb[dask]``).
"""

from __future__ import annotations

import asyncio
import importlib
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from gen_nb.api.errors import UsageError
from gen_nb.transfer.aggregate import Aggregate

__all__ = ["TASK_RETRIES", "dask_client", "distributed_module", "is_dask", "remote_call",
           "run_on_dask"]

PUBLISH_EVERY = 0.25
WATCH_EVERY = 0.2
TASK_RETRIES = 2
FINAL_PHASES = ("done", "failed", "cancelled")

Job = tuple[int, Callable[..., Any], tuple[Any, ...]]
OnDone = Callable[[int, Any], "tuple[Callable[..., Any], tuple[Any, ...]] | None"]


def distributed_module() -> Any:
    """``distributed``, or a UsageError saying how to install it."""
    try:
        return importlib.import_module("distributed")
    except ImportError as exc:
        raise UsageError("Running on Dask needs distributed: pip install 'gen_nb[dask]'.") from exc


def is_dask(executor: Any) -> bool:
    """Whether ``executor`` is a ``distributed.Client`` or its ``get_executor()`` (checked
    without importing distributed)."""
    for obj in (executor, getattr(executor, "_client", None)):
        if obj is not None and type(obj).__module__.split(".")[0] == "distributed":
            return True
    return False


def dask_client(executor: Any) -> Any:
    """The ``distributed.Client`` behind ``executor`` (a Client or its ``get_executor()``)."""
    distributed = distributed_module()
    if isinstance(executor, distributed.Client):
        return executor
    inner = getattr(executor, "_client", None)
    if isinstance(inner, distributed.Client):
        return inner
    raise UsageError(f"executor= must be a distributed.Client (or client.get_executor()), not "
                     f"{type(executor).__name__}.")


def remote_call(fn: Callable[..., Any], args: tuple[Any, ...], topic: str, cancel_name: str,
                index: int) -> Any:
    """The task a worker runs: ``fn(*args, sink, cancel)``, reporting progress on ``topic``
    and watching the run's cancel Event."""
    distributed = distributed_module()
    worker = distributed.get_worker()
    # the client is resolved here: the watching thread has no worker context to find it
    remote_cancel = distributed.Event(cancel_name, client=distributed.get_client())
    cancel, stop = threading.Event(), threading.Event()

    def watch() -> None:
        while not stop.wait(WATCH_EVERY):
            if remote_cancel.is_set():
                cancel.set()
                return

    if remote_cancel.is_set():
        cancel.set()            # cancelled before this one began: it reports so at once
    watcher = threading.Thread(target=watch, name="gen_nb-dask-cancel", daemon=True)
    watcher.start()
    last = [0.0]

    def sink(state: Any) -> None:
        now = time.monotonic()
        if now - last[0] >= PUBLISH_EVERY or state.phase in FINAL_PHASES:
            last[0] = now
            worker.log_event(topic, [index, state.done, state.total])

    try:
        return fn(*args, sink, cancel)
    finally:
        stop.set()
        watcher.join(1)


def _heard(aggregate: Aggregate) -> Callable[[Any], None]:
    """The topic's handler (on the client's event loop): one file's count."""
    def heard(event: Any) -> None:
        try:
            index, done, total = event[1]
            aggregate.item(int(index), int(done), None if total is None else int(total))
        except (TypeError, ValueError, IndexError):  # not one of ours: ignored
            return
    return heard


def run_on_dask(executor: Any, jobs: Sequence[Job], aggregate: Aggregate,
                cancel: threading.Event | None, on_done: OnDone) -> None:
    """Run every job on the cluster. ``on_done(index, outcome)`` sees each job's return value
    (or the exception when the task itself failed ``TASK_RETRIES + 1`` times) and may hand
    back ``(fn, args)`` to run for the same index again."""
    distributed = distributed_module()
    client = dask_client(executor)
    run = uuid.uuid4().hex[:12]
    topic, cancel_name = f"gen_nb-progress-{run}", f"gen_nb-cancel-{run}"
    remote_cancel = distributed.Event(cancel_name, client=client)
    client.subscribe_topic(topic, _heard(aggregate))

    def submit(index: int, fn: Callable[..., Any], args: tuple[Any, ...]) -> Any:
        key = f"gen_nb-{run}-{index}-{uuid.uuid4().hex[:6]}"
        return client.submit(remote_call, fn, args, topic, cancel_name, index, pure=False,
                             retries=TASK_RETRIES, key=key)

    futures = {submit(*job): job[0] for job in jobs}
    try:
        while futures:
            try:
                done, _ = distributed.wait(list(futures), timeout=0.2,
                                           return_when="FIRST_COMPLETED")
            except TimeoutError:    # none finished in this 0.2 s: look at cancel, wait again
                done = set()
            for future in done:
                index = futures.pop(future)
                again = on_done(index, _outcome(future))
                if again is not None:
                    futures[submit(index, *again)] = index
            if cancel is not None and cancel.is_set() and not remote_cancel.is_set():
                remote_cancel.set()
    finally:
        client.unsubscribe_topic(topic)


def _outcome(future: Any) -> Any:
    """The task's value, or its exception (a worker lost more than TASK_RETRIES times, …);
    a task cancelled before it ran gives a CancelledError."""
    try:
        return future.result()
    except (Exception, asyncio.CancelledError) as exc:  # handed to on_done, never lost
        return exc
