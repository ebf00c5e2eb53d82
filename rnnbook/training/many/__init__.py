"""Many networks at once: ``fit_many(specs) -> list[Run]``, each an ordinary cached run.

    runs = fit_many([replace(spec, seed=s) for s in range(8)])  # trained once, then loaded

Methods (``method=``):

- ``"processes"``: worker processes with one torch thread each, each calling
  ``rnnbook.runs.fit``. Each run is exactly the run ``fit`` trains alone (same code, same seed,
  one thread: bit for bit for n_rec <= 64, where ``train()`` uses one thread too).
- ``"stacked"``: the K networks as one batched model in this process, on CUDA if there is one
  (``stacked.py``). Each member samples its own trials and noise from its own generators and
  has its own clipping and optimiser state, through the same training step as ``train()``
  (``training.step``), so it equals training it alone up to float rounding. Members must
  share the architecture; they may differ in seed, task config, lr, weight decay, clipping,
  time constants and noise (``stackable.py``).
- ``"serial"``: one ``fit`` after another.
- ``"auto"``: ``auto_method`` (below).

Runs already in the cache are loaded, never retrained; duplicate specs train once (and share
one ``Run``). A run that fails is reported once all others are stored: ``EnsembleError``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import torch

from rnnbook.provenance import note_run
from rnnbook.runs import Run, RunSpec, default_cache_dir, fit, is_stored, load_run
from rnnbook.training.many.failures import EnsembleError, failure_line
from rnnbook.training.many.processes import fit_processes, fit_stacks_in_processes
from rnnbook.training.many.stackable import check_stackable, stack_problem
from rnnbook.training.many.stacked import fit_stacked

METHODS = ("auto", "processes", "stacked", "serial")
STACK_UP_TO = 64  # n_rec up to which stacking beats worker processes on 2 cores (measured)


def fit_many(
    specs: Sequence[RunSpec],
    *,
    cache_dir: Path | str | None = None,
    workers: int | None = None,
    method: str = "auto",
    progress: bool = True,
) -> list[Run]:
    """The trained run of each of ``specs``, in order, each stored in the run cache.

    ``workers``: processes for ``method="processes"`` (default: ``os.cpu_count()``); on a CPU,
    ``method="stacked"`` with ``workers > 1`` and at least two runs per worker trains one stack
    per worker process.
    Raises ``EnsembleError`` listing the runs that failed, after storing all the others;
    ``ValueError`` naming the field when ``method="stacked"`` cannot train ``specs`` together.
    """
    if method not in METHODS:
        raise ValueError(f"fit_many(method={method!r}): choose one of {', '.join(METHODS)}")
    workers = (os.cpu_count() or 1) if workers is None else workers
    if workers < 1:
        raise ValueError(f"fit_many(workers={workers!r}): needs at least 1")
    specs = list(specs)
    if method == "stacked" and specs:
        check_stackable(specs)
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    unique = {spec.key(): spec for spec in specs}
    runs = {key: load_run(cache_dir / key) for key in unique if is_stored(cache_dir / key)}
    todo = [spec for key, spec in unique.items() if key not in runs]
    method = auto_method(todo, workers) if method == "auto" else method
    trained, failures = _TRAINERS[method](todo, cache_dir, workers, progress) if todo else ({}, [])
    runs.update(trained)
    for key in runs:
        note_run(key, trained=key in trained)
    if failures:
        raise EnsembleError(failures, len(todo))
    return [runs[key] for key in (spec.key() for spec in specs)]


def auto_method(specs: Sequence[RunSpec], workers: int) -> str:
    """The method ``fit_many(method="auto")`` uses for the runs ``specs`` still to train.

    - one run: ``"serial"``;
    - several runs that can stack (``stack_problem``), of n_rec <= ``STACK_UP_TO`` or on CUDA:
      ``"stacked"``. Small networks are bound by per-op overhead, which one batched op pays
      once for K networks; a GPU needs many networks per op to be busy at all;
    - else ``"processes"`` with more than one worker (one-thread processes scale with cores),
      else ``"serial"``.

    Measured on 2 shared cores (2AFC task, T = 40, batch 64, 8 seeds; seconds for the whole
    call, pool start-up of ~2.7 s included): 100 steps at n_rec = 32: serial 3.1, stacked 1.6,
    processes 4.2; 400 steps at n_rec = 32: serial 13.0, stacked 6.5, processes 8.7; 200 steps
    at n_rec = 64: serial 8.4, stacked 5.9, processes 7.1; at n_rec = 128 stacking on one
    thread is no faster than serial (13.7 s each) and processes win for long runs.
    """
    specs = list(specs)
    if len(specs) < 2:
        return "serial"
    small = all(spec.model_config.n_rec <= STACK_UP_TO for spec in specs)
    if (small or torch.cuda.is_available()) and stack_problem(specs) is None:
        return "stacked"
    return "processes" if workers > 1 else "serial"


def _serial(specs, cache_dir, workers, progress) -> tuple[dict[str, Run], list[str]]:
    runs, failures = {}, []
    for spec in specs:
        try:
            runs[spec.key()] = fit(spec, cache_dir=cache_dir, progress=progress)
        except Exception as error:  # reported together once all others have finished
            failures.append(failure_line(spec, error))
    return runs, failures


def _processes(specs, cache_dir, workers, progress):
    return fit_processes(specs, cache_dir=cache_dir, workers=workers, progress=progress)


def _stacked(specs, cache_dir, workers, progress):
    if workers > 1 and len(specs) >= 2 * workers and not torch.cuda.is_available():
        return fit_stacks_in_processes(
            specs, cache_dir=cache_dir, workers=workers, progress=progress
        )
    return fit_stacked(specs, cache_dir=cache_dir, progress=progress)


_TRAINERS = {"serial": _serial, "processes": _processes, "stacked": _stacked}

__all__ = ["METHODS", "EnsembleError", "auto_method", "fit_many"]
