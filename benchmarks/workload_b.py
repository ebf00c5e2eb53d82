"""Workload B (integration size, seed 002): N = 500, T = 7000 steps, batch 32, tanh, MSE.

The recurrence is fixed (random, spectral radius 1.5); only the input and output weights
train. Trials are the integration study's (``rnnbook.tasks.pulse``: a pulse on one input
channel, whose duration the network reports after 4.5 s). Measurements, each in its own process:
``rnnbook`` (``rnnbook.training.train``) and ``textbook`` (``benchmarks.textbook``, the same
initial weights and trial tensors). Both report every step's wall time, so that the drift
over consecutive steps in one process shows, and the median after a warm-up.
"""

from __future__ import annotations

import os

import torch

from benchmarks.flops import training_step_flops
from benchmarks.isolated import child_main
from benchmarks.textbook import TextbookIntegrator, train_textbook
from benchmarks.timing import StepTimer, drift, summarise
from rnnbook.models import ModelConfig, RateRNN
from rnnbook.runtime import threads_for
from rnnbook.tasks.pulse import PulseIntegration, PulseIntegrationConfig
from rnnbook.training import LOSSES, TrainConfig, train

SEED, BATCH, N_REC = 0, 32, 500
FULL = {"n_steps": 7000, "warmup": 3, "measured": 20}
QUICK = {"n_steps": 700, "warmup": 1, "measured": 5}
ONE_THREAD = {"warmup": 2, "measured": 5}  # shorter: one thread only shows the slow-down


def pulse_task(n_steps: int) -> PulseIntegration:
    """The integration study's task (seed 002) with its 7000 ms trial cut into ``n_steps``
    steps: dt = 1 ms for the full workload, 10 ms for ``--quick``."""
    return PulseIntegration(PulseIntegrationConfig(dt=7000.0 / n_steps))


def model_config(n_steps: int = FULL["n_steps"]) -> ModelConfig:
    return ModelConfig(
        n_in=1,
        n_out=1,
        n_rec=N_REC,
        dt=7000.0 / n_steps,
        tau=100.0,
        activation="tanh",
        spectral_radius=1.5,
        train_recurrent=False,
    )


def _result(timer: StepTimer, sizes: dict, threads: int) -> dict:
    times = timer.step_times[sizes["warmup"] :]
    flops = training_step_flops(
        batch=BATCH, n_steps=sizes["n_steps"], n_rec=N_REC, n_in=1, n_out=1, train_recurrent=False
    )
    return {
        "step": summarise(times, 0),
        "step_times_s": times,
        "drift": drift(times),
        "flops_per_step": flops,
        "threads": threads,
        "sizes": sizes,
    }


def measure_rnnbook(quick: bool) -> dict:
    return _measure_rnnbook(QUICK if quick else FULL)


def measure_rnnbook_1thread(quick: bool) -> dict:
    """``measure_rnnbook`` with one torch thread (``RNNBOOK_THREADS=1``), fewer steps."""
    os.environ["RNNBOOK_THREADS"] = "1"
    return _measure_rnnbook(QUICK if quick else {**FULL, **ONE_THREAD})


def _measure_rnnbook(sizes: dict) -> dict:
    n_train = sizes["warmup"] + sizes["measured"] + 1  # intervals between step ends
    model = RateRNN(model_config(sizes["n_steps"]), seed=SEED)
    config = TrainConfig(
        n_steps=n_train, batch_size=BATCH, loss="mse", eval_every=n_train, eval_batch_size=2
    )
    timer = StepTimer()
    task = pulse_task(sizes["n_steps"])
    train(model, task, config, seed=SEED, callbacks=[timer], progress=False)
    return _result(timer, sizes, threads_for(N_REC))


def measure_textbook(quick: bool) -> dict:
    sizes = QUICK if quick else FULL
    n_train = sizes["warmup"] + sizes["measured"] + 1
    model = TextbookIntegrator(RateRNN(model_config(sizes["n_steps"]), seed=SEED))
    timer = StepTimer()
    task = pulse_task(sizes["n_steps"])
    train_textbook(
        model,
        task,
        LOSSES["mse"],
        n_steps=n_train,
        batch_size=BATCH,
        seed=SEED,
        on_step_end=timer.on_step_end,
    )
    return _result(timer, sizes, torch.get_num_threads())


if __name__ == "__main__":
    child_main(
        {
            "rnnbook": measure_rnnbook,
            "rnnbook_1thread": measure_rnnbook_1thread,
            "textbook": measure_textbook,
        }
    )
