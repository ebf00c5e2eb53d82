"""Accuracy per condition level (e.g. per coherence), with binomial standard errors."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnbook.analysis.arrays import as_numpy
from rnnbook.analysis.evaluation import Evaluation
from rnnbook.analysis.results import Result

_LEVEL_RTOL = 1e-6  # conditions are often float32: 0.7 is stored as 0.69999999


@dataclass(frozen=True, eq=False)
class ConditionAccuracy(Result):
    """Accuracy at each level of one condition.

    key:      the condition (e.g. ``"coherence"``); absolute: whether levels are |values|.
    levels:   [K] the distinct levels, sorted.
    accuracy: [K] fraction correct at each level; n_trials: [K] trials per level.
    sem:      [K] binomial standard error, sqrt(p (1 - p) / n).
    trial_levels, trial_correct: [B] each trial's level and correctness (for :meth:`pooled`).
    """

    key: str
    absolute: bool
    levels: np.ndarray
    accuracy: np.ndarray
    n_trials: np.ndarray
    sem: np.ndarray
    trial_levels: np.ndarray
    trial_correct: np.ndarray

    def pooled(self, min_level: float) -> float:
        """Accuracy over all trials whose level is >= ``min_level`` (float32-tolerant)."""
        tolerance = _LEVEL_RTOL * max(1.0, abs(min_level))
        selected = self.trial_levels >= min_level - tolerance
        if not selected.any():
            raise ValueError(
                f"no trial has {self.key} >= {min_level}: the largest level is {self.levels[-1]}"
            )
        return float(self.trial_correct[selected].mean())

    def at(self, level: float) -> float:
        """Accuracy at one level (float32-tolerant)."""
        close = np.isclose(self.levels, level, rtol=_LEVEL_RTOL, atol=1e-12)
        if not close.any():
            levels = self.levels.tolist()
            raise ValueError(f"no trial has {self.key} = {level}: levels are {levels}")
        return float(self.accuracy[close.argmax()])

    def summary(self) -> str:
        rows = [f"{'|' + self.key + '|' if self.absolute else self.key:>12}  accuracy      n"]
        for level, acc, sem, n in zip(
            self.levels, self.accuracy, self.sem, self.n_trials, strict=True
        ):
            rows.append(f"{level:>12.4g}  {acc:.3f}±{sem:.3f}  {n:>5d}")
        return "\n".join(rows)


def accuracy_by_condition(
    evaluation: Evaluation, key: str = "coherence", *, absolute: bool = True
) -> ConditionAccuracy:
    """Fraction correct at each distinct value of ``evaluation.trials.conditions[key]``.

    With ``absolute=True`` levels are the absolute values (a signed coherence of +c and -c pool
    into level c).
    """
    if evaluation.correct is None:
        raise ValueError("accuracy_by_condition needs an evaluation of a task with choices")
    if key not in evaluation.trials.conditions:
        raise ValueError(
            f"no condition {key!r} in these trials: have {sorted(evaluation.trials.conditions)}"
        )
    values = as_numpy(evaluation.trials.conditions[key])  # [B]
    trial_levels = np.abs(values) if absolute else values
    trial_correct = as_numpy(evaluation.correct).astype(bool)  # [B]
    levels, inverse, counts = np.unique(trial_levels, return_inverse=True, return_counts=True)
    accuracy = np.bincount(inverse, weights=trial_correct) / counts
    return ConditionAccuracy(
        key=key,
        absolute=absolute,
        levels=levels,
        accuracy=accuracy,
        n_trials=counts,
        sem=np.sqrt(accuracy * (1 - accuracy) / counts),
        trial_levels=trial_levels,
        trial_correct=trial_correct,
    )
