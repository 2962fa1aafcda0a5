"""A Dask LocalCluster with worker processes on 127.0.0.1, one per test session."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from typing import Any

import pytest


def worker_pids(client: Any) -> dict[str, int]:
    """Each worker's address → the pid of its process."""
    return dict(client.run(os.getpid))


@pytest.fixture(scope="session")
def dask_cluster() -> Iterator[Any]:
    """A ``distributed.Client`` on 2 worker processes × 4 threads (nannies restart a killed
    worker). Missing ``distributed`` fails in CI and skips elsewhere."""
    if importlib.util.find_spec("distributed") is None:
        if os.environ.get("CI"):
            pytest.fail("distributed is missing: it is in the test extra (gen_nb[dask])")
        pytest.skip("distributed is not installed")
    import distributed

    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=4, processes=True,
                                       host="127.0.0.1", dashboard_address=None)
    client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()
