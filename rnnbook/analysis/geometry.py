"""Geometry of population states by class: how far apart the class centroids are, relative to
how the states of each class spread around their centroid.

The separation index is the Mahalanobis distance between the class centroids, a multivariate
d' (the d' of the best linear read-out of two Gaussian classes of equal covariance):

    d' = sqrt(dmu^T S_w^-1 dmu),    dmu = mu_1 - mu_0,   S_w the pooled within-class covariance

It does not change with the scale of the activity, nor with directions that carry no class
information (adding pure-noise units leaves it unchanged), unlike the centroid distance over
the summed within-class spread, which shrinks with every noise dimension.

``S_w`` is estimated from the trials' deviations from their class centroids (nu = B - C
degrees of freedom for B trials of C classes):

- when trials outnumber units (nu > N + 1): the pooled covariance (divided by nu), and the
  unbiased estimate of d'^2 for Gaussian classes, ``(nu - N - 1) / nu * D^2 - N (1/n_a +
  1/n_b)``, clipped at 0: the sample D^2 has expectation ``nu / (nu - N - 1) * (d'^2 + N
  (1/n_a + 1/n_b))``, so noise units would raise it;
- otherwise the covariance shrunk toward a multiple of the identity with the Ledoit-Wolf
  intensity (Ledoit & Wolf 2004, as ``sklearn.covariance.ledoit_wolf`` computes it), which
  keeps it invertible; this d' is only a rough estimate (biased, by an amount that depends on
  the covariance), to compare networks measured on the same number of trials. Shrinkage is
  not used when trials suffice because it shrinks the very correlations a d' must account
  for (with 126 noise units beside two correlated ones it removes most of them).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from rnnbook.analysis.results import Result
from rnnbook.tensors import class_centroids


@dataclass
class ClassSeparation(Result):
    """centroids: [C, N] mean state per class (classes in increasing label order);
    distance:  Euclidean distance between the two centroids (mean over pairs for C > 2);
    spread:    root mean squared distance of a state to its own class centroid;
    index:     the Mahalanobis distance between the centroids under the pooled within-class
               covariance, a multivariate d' (module docstring; mean over pairs for C > 2);
    shrinkage: the Ledoit-Wolf shrinkage intensity used, in [0, 1]: 0 when trials
               outnumber units (no shrinkage, bias-corrected d')."""

    centroids: torch.Tensor
    distance: float
    spread: float
    index: float
    shrinkage: float


def class_separation(states: torch.Tensor, labels: torch.Tensor) -> ClassSeparation:
    """Separation of the classes ``labels [B]`` in ``states [B, N]`` (at least two classes).

    The raw ``distance`` grows with the overall scale of the activity; ``index`` (d', see the
    module) does not, which is what makes networks with different rate scales comparable.
    """
    states, labels = torch.as_tensor(states).detach().double(), torch.as_tensor(labels)
    if states.ndim != 2 or labels.shape != states.shape[:1]:
        raise ValueError(f"want states [B, N] and labels [B]; got {states.shape}, {labels.shape}")
    centroids = class_centroids(states, labels)
    if len(centroids) < 2:
        raise ValueError("class_separation needs trials of at least two classes")
    _, index, counts = torch.unique(labels, return_inverse=True, return_counts=True)
    residuals = states - centroids[index]  # [B, N] within-class deviations
    spread = residuals.pow(2).sum(1).mean().sqrt()
    d_prime, shrinkage = _mahalanobis(centroids.numpy(), residuals.numpy(), counts.numpy())
    return ClassSeparation(
        centroids=centroids.float(),
        distance=float(torch.pdist(centroids).mean()),
        spread=float(spread),
        index=d_prime,
        shrinkage=shrinkage,
    )


def _mahalanobis(centroids, residuals, counts) -> tuple[float, float]:
    """Mean pairwise d' of ``centroids [C, N]`` (``counts [C]`` trials each) under the
    within-class covariance of ``residuals [B, N]`` (centred per class), and the shrinkage
    intensity used (module docstring)."""
    n_trials, n = residuals.shape
    dof = n_trials - len(centroids)
    if not residuals.any():  # no spread at all: distinct centroids are infinitely apart
        return float("inf"), 0.0
    if dof > n + 1:
        cov, shrinkage = residuals.T @ residuals / dof, 0.0
    else:
        cov, shrinkage = ledoit_wolf_covariance(residuals)
    pairs = [(a, b) for a in range(len(centroids)) for b in range(a + 1, len(centroids))]
    diffs = np.stack([centroids[b] - centroids[a] for a, b in pairs])  # [pairs, N]
    squared = np.einsum("pn,np->p", diffs, np.linalg.solve(cov, diffs.T))  # D^2 per pair
    if shrinkage == 0.0:  # unbiased for Gaussian classes (module docstring)
        sizes = np.array([1 / counts[a] + 1 / counts[b] for a, b in pairs])
        squared = np.clip((dof - n - 1) / dof * squared - n * sizes, 0.0, None)
    return float(np.sqrt(squared).mean()), float(shrinkage)


def ledoit_wolf_covariance(x: np.ndarray) -> tuple[np.ndarray, float]:
    """The Ledoit-Wolf shrunk covariance [N, N] of centred samples ``x [B, N]`` and its
    shrinkage intensity: ``(1 - s) S + s (tr S / N) I`` with ``S = x^T x / B`` and ``s`` the
    estimated optimal intensity (Ledoit & Wolf 2004; sklearn's ``ledoit_wolf``)."""
    n, p = x.shape
    cov = x.T @ x / n
    mu = np.trace(cov) / p
    squares = x**2
    beta = (np.sum(squares.T @ squares) / n - np.sum(cov**2)) / (p * n)
    delta = (np.sum(cov**2) - 2 * mu * np.trace(cov) + p * mu**2) / p
    shrinkage = float(min(beta, delta) / delta) if beta > 0 and delta > 0 else 0.0
    return (1 - shrinkage) * cov + shrinkage * mu * np.eye(p), shrinkage
