"""A Dask client for sweeps: on a cluster object (e.g. dask-jobqueue's ``SLURMCluster``), on a
scheduler's address, or on a new local cluster of one-thread worker processes."""

from __future__ import annotations

import logging
import os
from contextlib import contextmanager

# the environment of a one-thread worker (each worker runs one network on one core)
ONE_THREAD = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "RNNBOOK_THREADS": "1"}


def check_workers(workers) -> int:
    """``workers`` (an integer >= 1), or the number of cores when None."""
    if workers is None:
        return os.cpu_count() or 1
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"sweep workers = {workers!r} is not allowed: want an integer >= 1")
    return workers


@contextmanager
def dask_client(*, address: str | None = None, cluster=None, workers: int | None = None):
    """A ``distributed.Client``: on ``cluster`` (any Dask cluster object, e.g. a dask-jobqueue
    one), on the scheduler at ``address``, or on a new ``LocalCluster`` of ``workers`` one-thread
    worker processes (closed on exit). Prints the Dask dashboard's address."""
    from distributed import Client, LocalCluster

    if cluster is not None and address is not None:
        raise ValueError("sweep: give address= or cluster=, not both")
    owned = None
    if cluster is None and address is None:
        owned = LocalCluster(
            n_workers=check_workers(workers),
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            silence_logs=logging.ERROR,
            env=ONE_THREAD,
        )
    target = owned or cluster or address
    try:
        client = Client(target)
    except OSError as error:
        if owned is not None:
            owned.close()
        raise ValueError(
            f"sweep: cannot reach the Dask scheduler at {address!r}: {error}"
        ) from None
    print(f"Dask dashboard: {client.dashboard_link}", flush=True)
    try:
        yield client
    finally:
        client.close()
        if owned is not None:
            owned.close()
