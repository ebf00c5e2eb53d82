"""Workload A (2AFC size): N = 128, T = 100 steps, batch 64, sigma_rec = 0.1, Dale, Adam 1e-3.

Measurements (each in its own process, ``python -m benchmarks.workload_a IMPL``):
- ``rnnbook``: ``rnnbook.training.train`` on ``PerceptualDecision`` (cross-entropy on the
  decision period);
- ``textbook``: ``benchmarks.textbook`` on the same trial tensors, same initial weights,
  same loss, Adam and clipping;
- ``rnnbook_psychrnn_task``: rnnbook trained on PsychRNN's own task and loss (MSE), so that
  its accuracy compares with PsychRNN's (``benchmarks.psychrnn_a``) on one task.
Speed is the median wall time of a training step after a warm-up; accuracy is measured after
training on fresh trials of the task it was trained on, with one evaluation function.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass

import torch

from benchmarks.flops import training_step_flops
from benchmarks.isolated import child_main
from benchmarks.textbook import TextbookRNN, train_textbook
from benchmarks.timing import StepTimer, summarise
from rnnbook.models import ModelConfig, RateRNN
from rnnbook.runtime import threads_for
from rnnbook.tasks import PerceptualDecision, PerceptualDecisionConfig, Task, Trials
from rnnbook.training import LOSSES, TrainConfig, train

SEED, EVAL_SEED = 0, 12345
BATCH, N_REC = 64, 128
# dt = 20 ms: 10 + 75 + 15 = 100 steps
TASK_CONFIG = PerceptualDecisionConfig(
    dt=20.0, fixation_ms=200.0, stimulus_ms=1500.0, decision_ms=300.0
)
MODEL_CONFIG = ModelConfig(
    n_rec=N_REC,
    sigma_rec=0.1,
    recurrence="dale",
    input_weights="nonnegative",
    readout_weights="nonnegative",
).for_task(PerceptualDecision(TASK_CONFIG))
FLOPS = training_step_flops(batch=BATCH, n_steps=100, n_rec=N_REC, n_in=2, n_out=2)


@dataclass(frozen=True)
class Sizes:
    steps: int = 300  # training steps of every implementation
    warmup: int = 20  # first steps left out of the timing
    eval_trials: int = 1024  # fresh trials for the accuracy (16 of PsychRNN's batches of 64)


def sizes(quick: bool) -> Sizes:
    return Sizes(steps=30, warmup=5, eval_trials=128) if quick else Sizes()


@torch.no_grad()
def accuracy(forward, task: Task, n_trials: int) -> float:
    """Fraction correct of ``forward(inputs [B, T, n_in]) -> outputs`` on fresh trials."""
    trials: Trials = task.sample(n_trials, generator=torch.Generator().manual_seed(EVAL_SEED))
    outputs = forward(trials.inputs)
    if hasattr(task, "accuracy"):
        return task.accuracy(outputs, trials)
    return (task.choices(outputs, trials) == task.correct_choices(trials)).float().mean().item()


def _train_rnnbook(task: Task, loss: str, quick: bool) -> dict:
    size = sizes(quick)
    model = RateRNN(MODEL_CONFIG, seed=SEED)
    config = TrainConfig(
        n_steps=size.steps,
        batch_size=BATCH,
        lr=1e-3,
        loss=loss,
        eval_every=size.steps,
        eval_batch_size=BATCH,
    )
    timer = StepTimer()
    history = train(model, task, config, seed=SEED, callbacks=[timer], progress=False)
    noise = torch.Generator().manual_seed(EVAL_SEED)
    return {
        "step": summarise(timer.step_times, size.warmup),
        "accuracy": accuracy(lambda x: model(x, generator=noise).outputs, task, size.eval_trials),
        "final_loss": history.loss[-1],
        "threads": threads_for(N_REC),
        "sizes": asdict(size),
        "flops_per_step": FLOPS,
    }


def measure_rnnbook(quick: bool) -> dict:
    return _train_rnnbook(PerceptualDecision(TASK_CONFIG), "cross_entropy", quick)


def measure_rnnbook_1thread(quick: bool) -> dict:
    """``measure_rnnbook`` with one torch thread (``RNNBOOK_THREADS=1``)."""
    os.environ["RNNBOOK_THREADS"] = "1"
    return measure_rnnbook(quick)


def measure_rnnbook_psychrnn_task(quick: bool) -> dict:
    from benchmarks.psychrnn_task import PsychRNNPerceptual

    return _train_rnnbook(PsychRNNPerceptual(), "mse", quick)


def measure_textbook(quick: bool) -> dict:
    size = sizes(quick)
    task = PerceptualDecision(TASK_CONFIG)
    model = TextbookRNN(RateRNN(MODEL_CONFIG, seed=SEED))
    timer = StepTimer()
    losses = train_textbook(
        model,
        task,
        LOSSES["cross_entropy"],
        n_steps=size.steps,
        batch_size=BATCH,
        seed=SEED,
        on_step_end=timer.on_step_end,
    )
    noise = torch.Generator().manual_seed(EVAL_SEED)
    return {
        "step": summarise(timer.step_times, size.warmup),
        "accuracy": accuracy(lambda x: model(x, noise), task, size.eval_trials),
        "final_loss": losses[-1],
        "threads": torch.get_num_threads(),
        "sizes": asdict(size),
        "flops_per_step": FLOPS,
    }


MEASUREMENTS = {
    "rnnbook": measure_rnnbook,
    "rnnbook_1thread": measure_rnnbook_1thread,
    "textbook": measure_textbook,
    "rnnbook_psychrnn_task": measure_rnnbook_psychrnn_task,
}

if __name__ == "__main__":
    child_main(MEASUREMENTS)
