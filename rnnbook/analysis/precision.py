"""Precision of a regression task: the masked mean squared error of each trial.

:func:`precision_by_duration` runs a pulse-integration network on one trial per pulse
duration and measures each trial's masked MSE (the source's *precision*: lower is better).
The network runs on one thread: a few trials of a small network are fastest there, and a
second thread that waits for a busy core made them 30 times slower on a shared 2-core machine.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from rnnbook.analysis.arrays import as_numpy
from rnnbook.analysis.evaluation import run_trials
from rnnbook.analysis.results import Result
from rnnbook.runtime import torch_threads
from rnnbook.tasks.pulse import PulseIntegration

DURATIONS = (50.0, 150.0, 300.0)  # the source's test durations (ms)


@dataclass(frozen=True, eq=False)
class DurationPrecision(Result):
    """One network's trials at given pulse durations, and its error on each.

    durations: [D] pulse durations (ms); mse: [D] masked MSE of each trial (lower is better).
    times: [T] start of each step (ms); inputs, targets, outputs, mask: [D, T] (one channel).
    """

    durations: np.ndarray
    mse: np.ndarray
    times: np.ndarray
    inputs: np.ndarray
    targets: np.ndarray
    outputs: np.ndarray
    mask: np.ndarray

    @property
    def mean(self) -> float:
        """The source's precision: the MSE averaged over the durations."""
        return float(self.mse.mean())


def masked_mse_per_trial(outputs, targets, mask) -> np.ndarray:
    """[B] mean squared error of each trial over its masked steps.

    outputs, targets: [B, T, n_out]; mask: [B, T] (weights, broadcast over channels).
    """
    err = (as_numpy(outputs) - as_numpy(targets)) ** 2  # [B, T, n_out]
    weights = as_numpy(mask)[..., None]
    return (weights * err).sum(axis=(1, 2)) / (weights.sum(axis=(1, 2)) * err.shape[-1])


@torch.no_grad()
def precision_by_duration(
    model: torch.nn.Module,
    task: PulseIntegration,
    durations: Sequence[float] = DURATIONS,
    *,
    onset_ms: float | None = None,
    seed: int = 0,
) -> DurationPrecision:
    """Run ``model`` on one trial per duration (pulse at ``onset_ms``, default the middle of
    the task's onset range) and measure its masked MSE on each. Noise, if the model has any,
    comes from the ``test_noise`` stream of ``seed``."""
    trials = task.trials_at(durations, onset_ms=onset_ms)
    with torch_threads(1):
        outputs = run_trials(model, trials, seed=seed).outputs.cpu()  # [D, T, 1]
    return DurationPrecision(
        durations=as_numpy(trials.conditions["duration"]),
        mse=masked_mse_per_trial(outputs, trials.targets, trials.mask),
        times=as_numpy(trials.times),
        inputs=as_numpy(trials.inputs[..., 0]),
        targets=as_numpy(trials.targets[..., 0]),
        outputs=as_numpy(outputs[..., 0]),
        mask=as_numpy(trials.mask),
    )
