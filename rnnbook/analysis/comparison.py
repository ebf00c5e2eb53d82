"""Comparisons between models over seeds: intervals, paired tests and corrections.

A comparison between two training conditions is a comparison between two samples of networks
(one number per seed). ``compare_means`` gives the mean difference with a percentile-bootstrap
interval and a permutation p-value; ``mean_ci`` the interval of one condition's mean. Where two
conditions are tested on the same trials, ``mcnemar`` is the exact paired test of their
per-trial correctness. ``holm`` adjusts a family of p-values, ``min_detectable_r`` says how
large a correlation ``n`` pairs can detect, and ``correlation_ci`` bootstraps Pearson's r.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from rnnbook.analysis.arrays import as_numpy
from rnnbook.analysis.results import Result


@dataclass(frozen=True)
class Estimate(Result):
    """A statistic with its ``confidence`` interval [``low``, ``high``] from ``n`` values."""

    mean: float
    low: float
    high: float
    n: int
    confidence: float


@dataclass(frozen=True)
class Difference(Result):
    """``diff`` = mean(a) - mean(b), its percentile-bootstrap interval [``low``, ``high``] and
    the two-sided permutation p-value (sign flips of the pairs when ``paired``)."""

    diff: float
    low: float
    high: float
    p_value: float
    n_a: int
    n_b: int
    paired: bool
    confidence: float

    @property
    def detected(self) -> bool:
        """True when the interval excludes 0 and the permutation p-value is below
        1 - ``confidence``: a difference this sample supports. Both are asked for because at a
        handful of networks the bootstrap interval alone is too narrow (with 2 networks
        against 2 it excludes 0 whenever the groups do not overlap, while no permutation
        p-value can be below 1/3)."""
        return (self.low > 0 or self.high < 0) and self.p_value < 1 - self.confidence


@dataclass(frozen=True)
class PairedTest(Result):
    """Exact McNemar test of two classifiers on the same trials: ``n_a_only`` trials only A
    got right, ``n_b_only`` only B; ``diff`` = accuracy(A) - accuracy(B) over ``n`` trials."""

    n_a_only: int
    n_b_only: int
    diff: float
    p_value: float
    n: int


def _sample(values, name: str, minimum: int = 2) -> np.ndarray:
    x = np.asarray(as_numpy(values), dtype=float).ravel()
    if len(x) < minimum:
        raise ValueError(f"{name} needs at least {minimum} values, got {len(x)}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} has values that are not finite: {x.tolist()}")
    return x


def _check_confidence(confidence: float) -> float:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    return float(confidence)


def _interval(boot: np.ndarray, confidence: float) -> tuple[float, float]:
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(boot, [tail, 100 - tail])
    return float(low), float(high)


def mean_ci(values, *, confidence: float = 0.95, n_boot: int = 10_000, seed: int = 0) -> Estimate:
    """The mean of ``values`` (one per network) with its percentile-bootstrap interval."""
    x = _sample(values, "mean_ci(values)")
    confidence = _check_confidence(confidence)
    rng = np.random.default_rng(seed)
    boot = x[rng.integers(0, len(x), size=(n_boot, len(x)))].mean(axis=1)
    low, high = _interval(boot, confidence)
    return Estimate(float(x.mean()), low, high, len(x), confidence)


def compare_means(
    a,
    b,
    *,
    paired: bool = False,
    confidence: float = 0.95,
    n_boot: int = 10_000,
    seed: int = 0,
) -> Difference:
    """mean(a) - mean(b) over networks, with a percentile-bootstrap interval and a two-sided
    permutation p-value.

    ``paired``: ``a[i]`` and ``b[i]`` belong together (the same seed, the same test trials);
    the pairs' differences are resampled, and the p-value flips their signs. Unpaired: each
    sample is resampled on its own, and the p-value permutes the group labels.
    """
    x, y = _sample(a, "compare_means(a)"), _sample(b, "compare_means(b)")
    confidence = _check_confidence(confidence)
    rng = np.random.default_rng(seed)
    diff = float(x.mean() - y.mean())
    if paired:
        if len(x) != len(y):
            raise ValueError(f"paired samples need equal lengths, got {len(x)} and {len(y)}")
        d = x - y
        boot = d[rng.integers(0, len(d), size=(n_boot, len(d)))].mean(axis=1)
        signs = rng.choice([-1.0, 1.0], size=(n_boot, len(d)))
        null = np.abs((signs * d).mean(axis=1))
    else:
        boot = x[rng.integers(0, len(x), size=(n_boot, len(x)))].mean(axis=1) - y[
            rng.integers(0, len(y), size=(n_boot, len(y)))
        ].mean(axis=1)
        pooled = np.concatenate([x, y])
        order = np.argsort(rng.random((n_boot, len(pooled))), axis=1)
        shuffled = pooled[order]
        null = np.abs(shuffled[:, : len(x)].mean(axis=1) - shuffled[:, len(x) :].mean(axis=1))
    low, high = _interval(boot, confidence)
    # the observed statistic counts as one permutation, so p is never 0
    p_value = float((1 + np.sum(null >= abs(diff) - 1e-12)) / (1 + n_boot))
    return Difference(diff, low, high, p_value, len(x), len(y), paired, confidence)


def mcnemar(correct_a, correct_b) -> PairedTest:
    """Exact McNemar test: do classifiers A and B differ in accuracy on the same trials?

    ``correct_a``, ``correct_b``: per-trial correctness [n] (bools or 0/1) on the same trials.
    The p-value is the two-sided binomial test of the discordant trials against 1/2.
    """
    a = np.asarray(as_numpy(correct_a)).ravel()
    b = np.asarray(as_numpy(correct_b)).ravel()
    if a.shape != b.shape or len(a) == 0:
        raise ValueError(
            f"mcnemar takes two [n] arrays of the same trials; got {a.shape}, {b.shape}"
        )
    if not (np.isin(a, (0, 1)).all() and np.isin(b, (0, 1)).all()):
        raise ValueError("mcnemar takes per-trial correctness: bools or 0/1")
    a, b = a.astype(bool), b.astype(bool)
    n_a_only, n_b_only = int(np.sum(a & ~b)), int(np.sum(~a & b))
    discordant = n_a_only + n_b_only
    p_value = 1.0 if discordant == 0 else stats.binomtest(n_a_only, discordant, 0.5).pvalue
    return PairedTest(n_a_only, n_b_only, float(a.mean() - b.mean()), float(p_value), len(a))


def holm(p_values) -> np.ndarray:
    """Holm-Bonferroni adjusted p-values, in the order given (each capped at 1)."""
    p = np.asarray(as_numpy(p_values), dtype=float).ravel()
    if np.any((p < 0) | (p > 1)) or not np.all(np.isfinite(p)):
        raise ValueError(f"holm takes p-values in [0, 1], got {p.tolist()}")
    m = len(p)
    order = np.argsort(p)
    adjusted = np.maximum.accumulate(np.minimum(1.0, (m - np.arange(m)) * p[order]))
    out = np.empty(m)
    out[order] = adjusted
    return out


def min_detectable_r(n: int, *, alpha: float = 0.05, power: float = 0.8) -> float:
    """The smallest |Pearson r| that ``n`` pairs detect with probability ``power`` in a
    two-sided test at level ``alpha`` (Fisher's z approximation)."""
    if not isinstance(n, (int, np.integer)) or n < 4:
        raise ValueError(f"min_detectable_r needs n >= 4 pairs, got {n!r}")
    if not (0 < alpha < 1 and 0 < power < 1):
        raise ValueError(f"alpha and power must be in (0, 1), got {alpha!r}, {power!r}")
    z = (stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)) / math.sqrt(n - 3)
    return float(math.tanh(z))


def correlation_ci(
    x, y, *, confidence: float = 0.95, n_boot: int = 10_000, seed: int = 0
) -> Estimate:
    """Pearson r of ``x`` and ``y`` [n] with its percentile-bootstrap interval over pairs."""
    x, y = _sample(x, "correlation_ci(x)", 4), _sample(y, "correlation_ci(y)", 4)
    if len(x) != len(y):
        raise ValueError(f"correlation_ci takes two [n] arrays; got {len(x)} and {len(y)}")
    confidence = _check_confidence(confidence)
    rng = np.random.default_rng(seed)
    index = rng.integers(0, len(x), size=(n_boot, len(x)))
    xs, ys = x[index], y[index]
    xs = xs - xs.mean(axis=1, keepdims=True)
    ys = ys - ys.mean(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        boot = (xs * ys).sum(axis=1) / np.sqrt((xs**2).sum(axis=1) * (ys**2).sum(axis=1))
    boot = boot[np.isfinite(boot)]  # resamples of one repeated pair have no r
    low, high = _interval(boot, confidence)
    return Estimate(float(np.corrcoef(x, y)[0, 1]), low, high, len(x), confidence)
