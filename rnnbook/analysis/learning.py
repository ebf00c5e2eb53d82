"""Summary numbers of one training run (seed 000's run summary and LR sweep), pure functions of
its per-step training accuracy (``History.accuracy``), its per-epoch validation accuracy or its
recurrent weights, each a plain number.

- ``steps_to_threshold``: the first step at which the smoothed training accuracy reaches a
  threshold (``steps_to_thr``);
- ``area_under_learning_curve``: the mean training accuracy over the first steps (``aulc_10k``);
- ``effective_nonzero_fraction``: the percentage of weights that are not negligible
  (``eff_nonzero_whh_pct``);
- ``spectral_gap``: the gap between the two largest singular values;
- ``time_to_plateau``: the first epoch after which validation accuracy stops rising.

Steps count from 1, as ``History.step`` does: ``accuracy_per_step[i]`` is step ``i + 1``'s.
(Seed 000 counts its steps from 0 and keeps steps 0 .. 10 000, one step more than
``max_steps = 10 000`` here.)
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch

MEDIAN_FLOOR = 1e-12  # the smallest threshold effective_nonzero_fraction compares with


def _values(values) -> np.ndarray:
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().double().numpy()
    return np.asarray(values, dtype=float).reshape(-1)


def _matrix(weight) -> torch.Tensor:
    return torch.as_tensor(weight).detach().cpu().double()


def steps_to_threshold(
    accuracy_per_step: Sequence[float],
    threshold: float = 0.8,
    beta: float = 0.98,
    max_steps: int = 10_000,
) -> float:
    """The first step (from 1) at which the bias-corrected exponential moving average of the
    per-step training accuracy reaches ``threshold``, among the first ``max_steps`` steps; inf
    if it never does.

    EMA: ``m_t = beta m_{t-1} + (1 - beta) a_t`` from ``m_0 = 0``, corrected as
    ``m_t / (1 - beta^t)``. A NaN accuracy (a task without choices) never reaches it.
    """
    accuracy = _values(accuracy_per_step)[:max_steps]
    smoothed, mean = np.empty_like(accuracy), 0.0
    for i, value in enumerate(accuracy):
        mean = beta * mean + (1.0 - beta) * value
        smoothed[i] = mean / (1.0 - beta ** (i + 1))
    reached = np.flatnonzero(smoothed >= threshold)
    return float(reached[0] + 1) if reached.size else math.inf


def area_under_learning_curve(accuracy_per_step: Sequence[float], max_steps: int = 10_000) -> float:
    """The mean training accuracy over the first ``max_steps`` steps (the area under the
    learning curve per step); NaN without steps."""
    accuracy = _values(accuracy_per_step)[:max_steps]
    return float(accuracy.mean()) if accuracy.size else math.nan


def effective_nonzero_fraction(weight, rel: float = 1e-3) -> float:
    """The percentage (0 .. 100) of the entries of ``weight`` whose magnitude exceeds ``rel``
    times the median magnitude (at least 1e-12): ``100 mean(|W| > rel median|W|)``."""
    magnitude = _matrix(weight).abs().numpy()
    threshold = max(MEDIAN_FLOOR, rel * float(np.median(magnitude)))
    return 100.0 * float((magnitude > threshold).mean())


def spectral_gap(weight) -> float:
    """``s1 - s2``, the gap between the two largest singular values of ``weight`` (``s1`` for a
    matrix with one singular value)."""
    singular = torch.linalg.svdvals(_matrix(weight))
    return float(singular[0] - singular[1]) if len(singular) > 1 else float(singular[0])


def time_to_plateau(acc_hist: Sequence[float], window: int = 2, tol: float = 0.002) -> int:
    """The first epoch index ``t >= window`` (from 0) with ``acc[t] - acc[t - window] < tol``:
    the epoch at which validation accuracy stopped rising; ``len(acc_hist)`` if it never does,
    or if there are at most ``window`` epochs. Steps to plateau: this times the steps per
    epoch."""
    accuracy = _values(acc_hist)
    if len(accuracy) <= window:
        return len(accuracy)
    for t in range(window, len(accuracy)):
        if accuracy[t] - accuracy[t - window] < tol:
            return t
    return len(accuracy)
