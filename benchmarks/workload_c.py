"""Workload C: 20 seeds of workload A trained for a fixed number of steps, at N = 128 and 32.

``rnnbook.training.many.fit_many(specs, method=...)`` with ``"serial"`` (one run after another),
``"processes"`` (two worker processes, one thread each) and, at N = 32, ``"stacked"`` (on a
CPU with two workers: two one-thread processes, each training 10 of the networks as one
batched model). Each measurement runs in its own process with a fresh
temporary cache, so every run trains; the figure is network-steps per second of wall time
for the whole call (worker start-up, trial sampling, the two evaluations and storing
included). ``python -m benchmarks.workload_c METHOD:N``.
"""

from __future__ import annotations

import dataclasses
import tempfile
import time

from benchmarks.flops import training_step_flops
from benchmarks.isolated import child_main
from benchmarks.workload_a import BATCH, MODEL_CONFIG, TASK_CONFIG
from rnnbook.runs import RunSpec
from rnnbook.training import TrainConfig

N_SEEDS, WORKERS = 20, 2
STEPS = {128: 150, 32: 300}  # training steps per network (full run)
QUICK_SEEDS, QUICK_STEPS = 4, 10
CASES = ("serial:128", "processes:128", "serial:32", "processes:32", "stacked:32")


def specs(n_rec: int, n_seeds: int, n_steps: int) -> list[RunSpec]:
    """``n_seeds`` runs of workload A at ``n_rec`` units, evaluated only at start and end."""
    model = dataclasses.replace(MODEL_CONFIG, n_rec=n_rec)
    train = TrainConfig(
        n_steps=n_steps, batch_size=BATCH, lr=1e-3, eval_every=n_steps, eval_batch_size=BATCH
    )
    return [
        RunSpec("perceptual_decision", TASK_CONFIG, model, train, seed=seed)
        for seed in range(n_seeds)
    ]


def measure(case: str, quick: bool) -> dict:
    from rnnbook.training.many import fit_many

    method, n_rec = case.split(":")[0], int(case.split(":")[1])
    n_seeds, n_steps = (QUICK_SEEDS, QUICK_STEPS) if quick else (N_SEEDS, STEPS[n_rec])
    todo = specs(n_rec, n_seeds, n_steps)
    with tempfile.TemporaryDirectory(prefix="rnnbook-bench-") as cache_dir:
        start = time.perf_counter()
        runs = fit_many(todo, cache_dir=cache_dir, workers=WORKERS, method=method, progress=False)
        wall = time.perf_counter() - start
    network_steps = n_seeds * n_steps
    return {
        "method": method,
        "n_rec": n_rec,
        "n_seeds": n_seeds,
        "n_steps": n_steps,
        "workers": 1 if method == "serial" else WORKERS,  # stacked: one stack per worker
        "wall_s": wall,
        "network_steps_per_s": network_steps / wall,
        "flops_per_network_step": training_step_flops(
            batch=BATCH, n_steps=100, n_rec=n_rec, n_in=2, n_out=2
        ),
        "loaded_from_cache": sum(run.cached for run in runs),
        "final_accuracy_mean": sum(r.history.eval_accuracy[-1] for r in runs) / len(runs),
    }


if __name__ == "__main__":
    child_main({case: (lambda quick, case=case: measure(case, quick)) for case in CASES})
