"""Psychometric curves: a logistic fit of choice against a signed stimulus.

    P(choice = 1 | s) = 1 / (1 + exp(-(b0 + b1 s)))

fitted by maximum likelihood (Newton's method, i.e. IRLS) with a tiny ridge penalty so that
near-separable data (a network that is never wrong) still gives a finite, steep slope. The
slope ``b1`` measures sensitivity; the bias, or point of subjective equality, ``-b0 / b1`` is
the stimulus at which both choices are equally likely. Standard errors come from the inverse
Fisher information (the delta method for the bias).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnbook.analysis.arrays import as_numpy
from rnnbook.analysis.evaluation import Evaluation
from rnnbook.analysis.logistic import newton_logistic
from rnnbook.analysis.results import Result

Z95 = 1.959963984540054  # two-sided 95% normal quantile
_RIDGE = 1e-6  # penalty per trial on the standardised coefficients


@dataclass(frozen=True, eq=False)
class Psychometric(Result):
    """A fitted logistic psychometric curve and the data it was fitted to.

    slope, intercept: b1 and b0 of the logistic; bias: -b0 / b1 in stimulus units.
    *_se:             standard errors (inverse Fisher information; delta method for the bias).
    covariance:       [2, 2] covariance of (intercept, slope).
    levels:           [K] the distinct stimulus values, sorted.
    p_choice:         [K] fraction of trials choosing 1 at each level; n_trials: [K] their count.
    n:                the total number of trials.
    """

    slope: float
    bias: float
    intercept: float
    slope_se: float
    bias_se: float
    intercept_se: float
    covariance: np.ndarray
    levels: np.ndarray
    p_choice: np.ndarray
    n_trials: np.ndarray
    n: int

    @property
    def slope_ci(self) -> tuple[float, float]:
        """95% normal confidence interval of the slope."""
        return (self.slope - Z95 * self.slope_se, self.slope + Z95 * self.slope_se)

    @property
    def bias_ci(self) -> tuple[float, float]:
        """95% normal confidence interval of the bias (point of subjective equality)."""
        return (self.bias - Z95 * self.bias_se, self.bias + Z95 * self.bias_se)

    @property
    def p_choice_sem(self) -> np.ndarray:
        """[K] binomial standard error of ``p_choice``."""
        p = self.p_choice
        return np.sqrt(p * (1 - p) / self.n_trials)

    def predict(self, stimulus) -> np.ndarray:
        """The fitted P(choice = 1) at ``stimulus`` (any shape)."""
        s = as_numpy(stimulus)
        return 1.0 / (1.0 + np.exp(-(self.intercept + self.slope * s)))

    def summary(self) -> str:
        lo, hi = self.bias_ci
        return (
            f"Psychometric fit on {self.n} trials at {len(self.levels)} levels: "
            f"slope {self.slope:.3g} ± {self.slope_se:.2g}, "
            f"bias {self.bias:.3g} ± {self.bias_se:.2g} (95% CI {lo:.3g} to {hi:.3g})"
        )


def fit_psychometric(stimulus, choices) -> Psychometric:
    """Fit the logistic psychometric curve by maximum likelihood.

    stimulus: [B] signed stimulus (e.g. coherence); choices: [B] 0/1. numpy or torch.
    Raises ValueError when all choices are the same or there are fewer than two stimulus levels.
    """
    s, y = _check_data(as_numpy(stimulus), as_numpy(choices))
    centre, scale = s.mean(), s.std()
    x = np.stack([np.ones_like(s), (s - centre) / scale], axis=1)  # [B, 2] standardised
    beta_std, hessian = newton_logistic(x, y, ridge=_RIDGE * len(y))
    # back to stimulus units: b0 = a0 - a1 centre / scale, b1 = a1 / scale
    to_raw = np.array([[1.0, -centre / scale], [0.0, 1.0 / scale]])
    b0, b1 = to_raw @ beta_std
    cov = to_raw @ np.linalg.inv(hessian) @ to_raw.T
    grad_bias = np.array([-1.0 / b1, b0 / b1**2])  # d(-b0/b1) / d(b0, b1)
    levels, inverse, counts = np.unique(s, return_inverse=True, return_counts=True)
    return Psychometric(
        slope=float(b1),
        bias=float(-b0 / b1),
        intercept=float(b0),
        slope_se=float(np.sqrt(cov[1, 1])),
        bias_se=float(np.sqrt(grad_bias @ cov @ grad_bias)),
        intercept_se=float(np.sqrt(cov[0, 0])),
        covariance=cov,
        levels=levels,
        p_choice=np.bincount(inverse, weights=y) / counts,
        n_trials=counts,
        n=len(y),
    )


def psychometric(evaluation: Evaluation, key: str = "coherence") -> Psychometric:
    """Fit the psychometric curve of an evaluation: its choices against ``conditions[key]``."""
    if evaluation.choices is None:
        raise ValueError("psychometric needs an evaluation of a task with choices")
    if key not in evaluation.trials.conditions:
        raise ValueError(
            f"no condition {key!r} in these trials: have {sorted(evaluation.trials.conditions)}"
        )
    return fit_psychometric(evaluation.trials.conditions[key], evaluation.choices)


def _check_data(s: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if s.ndim != 1 or s.shape != y.shape:
        raise ValueError(
            f"stimulus and choices must both be [B]; got shapes {s.shape} and {y.shape}"
        )
    if not np.all(np.isfinite(s)):
        raise ValueError("stimulus contains NaN or inf")
    if not np.all((y == 0) | (y == 1)):
        raise ValueError(f"choices must be 0 or 1; got values {np.unique(y)[:5]}")
    if np.all(y == y[0]):
        raise ValueError(
            f"all {len(y)} choices are {int(y[0])}: a psychometric curve needs both choices"
        )
    if len(np.unique(s)) < 2:
        raise ValueError("fewer than 2 distinct stimulus values: the slope is not identifiable")
    return s, y
