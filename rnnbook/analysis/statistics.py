"""Descriptive statistics of analysis results: the correlation of two quantities over
networks, and the roughness of trajectories."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from rnnbook.analysis.arrays import as_numpy
from rnnbook.analysis.results import Result


@dataclass(frozen=True)
class Correlation(Result):
    """Correlation of two quantities over ``n`` networks: Pearson ``r`` and Spearman ``rho``,
    each with its two-sided p-value."""

    r: float
    p: float
    rho: float
    p_rho: float
    n: int


def correlation(x, y) -> Correlation:
    """Pearson and Spearman correlation of ``x`` [n] and ``y`` [n]."""
    x, y = as_numpy(x), as_numpy(y)
    if x.shape != y.shape or x.ndim != 1 or len(x) < 3:
        raise ValueError(f"correlation takes two [n] arrays, n >= 3; got {x.shape}, {y.shape}")
    pearson, spearman = stats.pearsonr(x, y), stats.spearmanr(x, y)
    return Correlation(
        r=float(pearson.statistic),
        p=float(pearson.pvalue),
        rho=float(spearman.statistic),
        p_rho=float(spearman.pvalue),
        n=len(x),
    )


def roughness(z) -> float:
    """How jagged trajectories ``z`` [C, T, k] are: the mean squared second difference along
    T over the mean squared first difference. Scale-free; 0 for straight lines traversed at a
    constant speed, ``4 sin^2(w dt / 2)`` for a circle at angular step ``w dt``, and 3 in
    expectation for independent noise at each step."""
    z = as_numpy(z)
    if z.ndim != 3 or z.shape[1] < 3:
        raise ValueError(f"roughness takes trajectories [C, T >= 3, k]; got shape {z.shape}")
    step = np.mean(np.diff(z, axis=1) ** 2)
    if step == 0:
        raise ValueError("roughness of trajectories that never move is undefined")
    return float(np.mean(np.diff(z, n=2, axis=1) ** 2) / step)
