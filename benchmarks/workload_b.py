"""Workload B (integration size, seed 002): N = 500, T = 7000 steps, batch 32, tanh, MSE.

The recurrence is fixed (random, spectral radius 1.5); only the input and output weights
train. Trials are synthetic (``PulseIntegration``: a pulse on one input channel, whose
duration the network reports after 4.5 s). Measurements, each in its own process:
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
from rnnbook.tasks import Task, TaskConfig, Trials
from rnnbook.training import LOSSES, TrainConfig, train

SEED, BATCH, N_REC = 0, 32, 500
FULL = {"n_steps": 7000, "warmup": 3, "measured": 20}
QUICK = {"n_steps": 700, "warmup": 1, "measured": 5}
ONE_THREAD = {"warmup": 2, "measured": 5}  # shorter: one thread only shows the slow-down


class PulseIntegration(Task):
    """One input pulse (amplitude 2, onset 3000 +- 1000 ms, duration 150 +- 100 ms at dt = 1 ms,
    all scaled by ``n_steps / 7000``); after 4500 ms the target is the pulse's duration / 250 ms.

    inputs [B, T, 1]; targets [B, T, 1]; mask [B, T] (1 from 4500 ms on).
    """

    name = "pulse_integration"

    def __init__(self, n_steps: int):
        super().__init__(TaskConfig(dt=1.0))
        self.n_steps = n_steps

    @property
    def n_in(self) -> int:
        return 1

    @property
    def n_out(self) -> int:
        return 1

    def sample(self, batch_size: int, *, generator: torch.Generator) -> Trials:
        scale = self.n_steps / 7000
        uniform = torch.rand(2, batch_size, 1, generator=generator) * 2 - 1  # [2, B, 1]
        onset = (3000 + 1000 * uniform[0]) * scale
        duration = (150 + 100 * uniform[1]) * scale
        t = torch.arange(self.n_steps)[None, :]  # [1, T]
        pulse = 2.0 * ((t >= onset) & (t < onset + duration)).float()  # [B, T]
        mask = (t >= 4500 * scale).float().expand(batch_size, -1)
        targets = (duration / (250 * scale)).expand(-1, self.n_steps)
        return Trials(inputs=pulse[..., None], targets=targets[..., None], mask=mask, dt=1.0)


def model_config() -> ModelConfig:
    return ModelConfig(
        n_in=1,
        n_out=1,
        n_rec=N_REC,
        dt=1.0,
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
    model = RateRNN(model_config(), seed=SEED)
    config = TrainConfig(
        n_steps=n_train, batch_size=BATCH, loss="mse", eval_every=n_train, eval_batch_size=2
    )
    timer = StepTimer()
    task = PulseIntegration(sizes["n_steps"])
    train(model, task, config, seed=SEED, callbacks=[timer], progress=False)
    return _result(timer, sizes, threads_for(N_REC))


def measure_textbook(quick: bool) -> dict:
    sizes = QUICK if quick else FULL
    n_train = sizes["warmup"] + sizes["measured"] + 1
    model = TextbookIntegrator(RateRNN(model_config(), seed=SEED))
    timer = StepTimer()
    task = PulseIntegration(sizes["n_steps"])
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
