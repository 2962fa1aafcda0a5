"""Running many transfers on a Dask cluster, with live byte progress and a cancel that reaches
running transfers.

``download_many`` and ``export`` hand :func:`run_on_dask` a list of jobs, one per file:
``(index, fn, args)``; a worker runs ``fn(*args, sink, cancel)`` (see :func:`remote_batch`),
where ``sink`` takes the transfer's :class:`~gen_nb.transfer.progress.ProgressState` and
``cancel`` is a ``threading.Event``. Jobs travel in batches, about four per worker thread
(:func:`batches`): a Dask task costs a scheduler round trip and a cancel watcher, which per
64 KiB file made two worker processes half as fast as 16 threads.

* Progress: a worker logs each file's byte count as an event on a topic of this run
  (``Worker.log_event``, at most four times a second per file, always at the end); the driver
  subscribes to the topic (``Client.subscribe_topic``) and sums the counts into the one
  :class:`~gen_nb.transfer.aggregate.Aggregate`, so the bar moves while files are in flight.
* Cancel: the driver sets a ``distributed.Event`` of this run; every running task watches it
  (five times a second) and sets its transfer's cancel, which stops within a fraction of a
  second (a local ``.part`` is kept). Jobs not started yet are cancelled before they run.
* A worker that dies mid-file: Dask runs its task again elsewhere (``retries=2``); on a
  shared disk the file resumes from its ``.part`` and sidecar (the kernel released the dead
  process's lock), and the batch's files already moved are found in place and skipped.

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

__all__ = ["TASK_RETRIES", "batches", "dask_client", "distributed_module", "is_dask",
           "remote_batch", "run_on_dask"]

PUBLISH_EVERY = 0.25
WATCH_EVERY = 0.2
TASK_RETRIES = 2
MAX_BATCH = 64
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


def remote_batch(batch: Sequence[Job], topic: str, cancel_name: str) -> list[tuple[int, Any]]:
    """The task a worker runs: each job's ``fn(*args, sink, cancel)`` in turn, reporting
    progress on ``topic`` and watching the run's cancel Event; ``(index, value or the
    exception)`` per job."""
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
        cancel.set()            # cancelled before these began: they report so at once
    watcher = threading.Thread(target=watch, name="gen_nb-dask-cancel", daemon=True)
    watcher.start()
    out: list[tuple[int, Any]] = []
    try:
        for index, fn, args in batch:
            try:
                out.append((index, fn(*args, _sink(worker, topic, index), cancel)))
            except Exception as exc:     # handed back with the rest, never lost
                out.append((index, exc))
        return out
    finally:
        stop.set()
        watcher.join(1)


def _sink(worker: Any, topic: str, index: int) -> Callable[[Any], None]:
    """One file's progress as events on the topic (at most every PUBLISH_EVERY, and the
    last)."""
    last = [0.0]

    def sink(state: Any) -> None:
        now = time.monotonic()
        if now - last[0] >= PUBLISH_EVERY or state.phase in FINAL_PHASES:
            last[0] = now
            worker.log_event(topic, [index, state.done, state.total])
    return sink


def batches(jobs: Sequence[Job], slots: int) -> list[list[Job]]:
    """Jobs in batches: about four per worker thread (``slots``), so every thread stays busy
    to the end while each Dask task (a scheduler round trip, a cancel watcher) carries many
    small files; at most MAX_BATCH jobs in one.

    >>> [len(b) for b in batches([(i, print, ()) for i in range(10)], 2)]
    [2, 2, 2, 2, 2]
    """
    size = max(1, min(MAX_BATCH, -(-len(jobs) // max(1, 4 * slots))))
    return [list(jobs[i:i + size]) for i in range(0, len(jobs), size)]


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
    """Run every job on the cluster, in :func:`batches` (one Dask task each). ``on_done(index,
    outcome)`` sees each job's return value (or its exception, or the task's when the task
    itself failed ``TASK_RETRIES + 1`` times) and may hand back ``(fn, args)`` to run for the
    same index again."""
    distributed = distributed_module()
    client = dask_client(executor)
    run = uuid.uuid4().hex[:12]
    topic, cancel_name = f"gen_nb-progress-{run}", f"gen_nb-cancel-{run}"
    remote_cancel = distributed.Event(cancel_name, client=client)
    client.subscribe_topic(topic, _heard(aggregate))
    slots = sum(client.nthreads().values()) or 1

    def submit(batch: list[Job]) -> Any:
        key = f"gen_nb-{run}-{batch[0][0]}-{uuid.uuid4().hex[:6]}"
        return client.submit(remote_batch, batch, topic, cancel_name, pure=False,
                             retries=TASK_RETRIES, key=key)

    futures = {submit(batch): batch for batch in batches(jobs, slots)}
    try:
        while futures:
            try:
                done, _ = distributed.wait(list(futures), timeout=0.2,
                                           return_when="FIRST_COMPLETED")
            except TimeoutError:    # none finished in this 0.2 s: look at cancel, wait again
                done = set()
            again: list[Job] = []
            for future in done:
                batch = futures.pop(future)
                outcome = _outcome(future)
                results = outcome if isinstance(outcome, list) else \
                    [(index, outcome) for index, _fn, _args in batch]
                for index, value in results:
                    retry = on_done(index, value)
                    if retry is not None:
                        again.append((index, *retry))
            for job in again:       # (an expired URL, refreshed: one file per task)
                futures[submit([job])] = [job]
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
