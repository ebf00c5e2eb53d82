"""Whole runs in worker processes, one torch thread each.

Each worker calls ``rnnbook.runs.fit``, which stores its run in the cache as soon as it is
trained: a run that fails, or a batch that is killed, loses no finished run. Workers start with
``spawn`` (safe with torch's threads; a script that calls ``fit_many`` needs the usual
``if __name__ == "__main__":`` guard) and with one thread: ``OMP_NUM_THREADS`` and
``MKL_NUM_THREADS`` are in their environment before they import torch, and ``RNNBOOK_THREADS``
makes ``train()`` keep to one thread. A small network (``threads_for(n_rec) == 1``) so gets
exactly the numbers of training it alone.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import torch
from tqdm import tqdm

from rnnbook.runs import Run, RunSpec, fit, load_run
from rnnbook.training.many.failures import failure_line

_ONE_THREAD = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "RNNBOOK_THREADS": "1"}


def _init_worker() -> None:
    os.environ.update(_ONE_THREAD)
    torch.set_num_threads(1)


def _fit_one(spec: RunSpec, cache_dir: str) -> str:
    return str(fit(spec, cache_dir=cache_dir, progress=False).path)


def _fit_stack(specs: list[RunSpec], cache_dir: str) -> tuple[list[str], list[str]]:
    from rnnbook.training.many.stacked import fit_stacked

    runs, failures = fit_stacked(specs, cache_dir=Path(cache_dir), progress=False)
    return [str(run.path) for run in runs.values()], failures


@contextmanager
def _environment(values: dict[str, str]):
    """Set environment variables for the processes started in the body, then restore them."""
    previous = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextmanager
def worker_futures(function, calls: list[tuple], workers: int):
    """The futures of ``function(*args)`` for each of ``calls``, run in ``min(workers,
    len(calls))`` spawned one-thread processes (shut down on exit, pending calls cancelled)."""
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(min(workers, len(calls)), context, initializer=_init_worker)
    try:
        with _environment(_ONE_THREAD):  # workers start on submit and inherit it
            futures = [pool.submit(function, *args) for args in calls]
        yield futures
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def fit_processes(
    specs: list[RunSpec], *, cache_dir: Path, workers: int, progress: bool = True
) -> tuple[dict[str, Run], list[str]]:
    """Train ``specs`` in ``workers`` one-thread processes.

    Returns (key -> Run of each trained run, one line per run that failed); the failures are
    collected after every other run has finished.
    """
    runs, failures = {}, []
    calls = [(spec, str(cache_dir)) for spec in specs]
    with worker_futures(_fit_one, calls, workers) as futures:
        spec_of = dict(zip(futures, specs, strict=True))
        done = as_completed(futures)
        for future in tqdm(done, total=len(futures), disable=not progress, desc="runs"):
            spec = spec_of[future]
            try:
                runs[spec.key()] = replace(load_run(future.result()), cached=False)
            except Exception as error:  # reported together once all others have finished
                failures.append(failure_line(spec, error))
    return runs, failures


def fit_stacks_in_processes(
    specs: list[RunSpec], *, cache_dir: Path, workers: int, progress: bool = True
) -> tuple[dict[str, Run], list[str]]:
    """Split ``specs`` into ``workers`` stacks, each trained in its own one-thread process.

    On a multi-core CPU this multiplies the speed of stacking by the number of cores.
    """
    chunks = [specs[i::workers] for i in range(workers) if specs[i::workers]]
    runs, failures = {}, []
    calls = [(chunk, str(cache_dir)) for chunk in chunks]
    with worker_futures(_fit_stack, calls, workers) as futures:
        chunk_of = dict(zip(futures, chunks, strict=True))
        for future in tqdm(as_completed(futures), total=len(futures), disable=not progress):
            try:
                paths, lines = future.result()
            except Exception as error:  # the whole stack failed: name each of its runs
                lines, paths = [failure_line(spec, error) for spec in chunk_of[future]], []
            failures += lines
            for path in paths:
                run = replace(load_run(path), cached=False)
                runs[run.spec.key()] = run
    return runs, failures
