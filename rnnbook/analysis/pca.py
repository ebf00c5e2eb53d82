"""Principal component analysis, of plain data and of population trajectories.

:func:`pca` is plain PCA by SVD of the centred data; :func:`windowed_pca` fits it on the
rates of several conditions within a time window, each condition centred on its own mean;
:func:`trajectory_pca` averages the network's activity over trials of each condition level,
fits the PCA on those mean trajectories (optionally within a time window) and projects the
whole trajectories. Each component's sign is fixed so that its largest-magnitude loading is
positive.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from rnnbook.analysis.arrays import as_numpy
from rnnbook.analysis.evaluation import Evaluation
from rnnbook.analysis.results import Result


@dataclass(frozen=True, eq=False)
class PCA(Result):
    """Principal components of data [M, N].

    components:               [k, N] orthonormal rows, in order of variance explained.
    mean:                     [N] the mean that was subtracted.
    explained_variance:       [k] variance along each component (M - 1 normalisation).
    explained_variance_ratio: [k] fraction of the data's total variance.
    """

    components: np.ndarray
    mean: np.ndarray
    explained_variance: np.ndarray
    explained_variance_ratio: np.ndarray

    def project(self, x) -> np.ndarray:
        """Coordinates of ``x`` [..., N] on the components: [..., k]."""
        return (as_numpy(x) - self.mean) @ self.components.T

    def reconstruct(self, z) -> np.ndarray:
        """Back from coordinates [..., k] to the data space [..., N]."""
        return as_numpy(z) @ self.components + self.mean


def pca(data, n_components: int) -> PCA:
    """PCA of ``data`` [M, N] (samples by features; numpy or torch) by SVD."""
    x = as_numpy(data)
    if x.ndim != 2:
        raise ValueError(f"pca takes data [M, N]; got shape {x.shape}")
    if not 1 <= n_components <= min(x.shape):
        raise ValueError(f"n_components = {n_components} must be in [1, {min(x.shape)}]")
    mean = x.mean(axis=0)
    _, singular, vt = np.linalg.svd(x - mean, full_matrices=False)
    components = vt[:n_components]
    largest = components[np.arange(n_components), np.abs(components).argmax(axis=1)]
    components = components * np.sign(largest)[:, None]
    variance = singular**2 / max(len(x) - 1, 1)
    total = variance.sum()
    ratio = variance[:n_components] / total if total > 0 else np.zeros(n_components)
    return PCA(components, mean, variance[:n_components], ratio)


def windowed_pca(rates, *, dt: float, window_ms: tuple[float, float], n_components=None) -> PCA:
    """PCA of ``rates`` [C, T, N] (one trajectory per condition) over the steps whose start
    time lies in ``[window_ms[0], window_ms[1])``, each condition centred on its own mean in
    the window: the covariance is the average of the conditions' covariances (the source's
    ``pca_trials``). ``n_components``: default all, ``min(C * W, N)``."""
    x = as_numpy(rates)
    if x.ndim != 3:
        raise ValueError(f"windowed_pca takes rates [C, T, N]; got shape {x.shape}")
    start, stop = (int(np.ceil(t / dt - 1e-9)) for t in window_ms)
    if not 0 <= start < stop <= x.shape[1]:
        raise ValueError(
            f"window_ms = {window_ms!r} is out of range: allowed within [0, {x.shape[1] * dt}] ms"
        )
    window = x[:, start:stop]  # [C, W, N]
    centred = (window - window.mean(axis=1, keepdims=True)).reshape(-1, x.shape[2])
    k = min(centred.shape) if n_components is None else n_components
    return pca(centred, k)


def components_for_variance(fitted: PCA, level: float = 0.9) -> int:
    """How many of ``fitted``'s leading components explain at least ``level`` of the variance."""
    cumulative = np.cumsum(fitted.explained_variance_ratio)
    return int(min(np.searchsorted(cumulative, level - 1e-12) + 1, len(cumulative)))


@dataclass(frozen=True, eq=False)
class TrajectoryPCA(Result):
    """Condition-averaged trajectories in principal-component coordinates.

    key:         the condition that defines the groups (e.g. ``"coherence"``).
    levels:      [C] its distinct (signed) values, sorted.
    projections: [C, T, k] the mean trajectory of each level, projected.
    times:       [T] time of each step in ms.
    window:      (start_step, stop_step) the PCA was fitted on, or None for all steps.
    pca:         the fitted :class:`PCA` (components [k, N], mean [N]).
    """

    key: str
    levels: np.ndarray
    projections: np.ndarray
    times: np.ndarray
    window: tuple[int, int] | None
    pca: PCA

    @property
    def components(self) -> np.ndarray:
        """[k, N]"""
        return self.pca.components

    @property
    def mean(self) -> np.ndarray:
        """[N]"""
        return self.pca.mean

    @property
    def explained_variance_ratio(self) -> np.ndarray:
        """[k] fraction of the variance of the fitted (condition-averaged) data."""
        return self.pca.explained_variance_ratio

    def project(self, x) -> np.ndarray:
        """Project activity ``x`` [..., N] (e.g. single-trial rates [B, T, N]) to [..., k]."""
        return self.pca.project(x)


def condition_means(activity: torch.Tensor, values: torch.Tensor):
    """Average ``activity`` [B, T, N] over trials sharing each value of ``values`` [B].

    Returns the sorted distinct values [C] and the mean trajectories [C, T, N] (numpy).
    """
    levels, inverse, counts = torch.unique(values, return_inverse=True, return_counts=True)
    sums = torch.zeros(len(levels), *activity.shape[1:], dtype=torch.float64)
    sums.index_add_(0, inverse.cpu(), activity.detach().cpu().double())
    return as_numpy(levels), (sums / counts.cpu()[:, None, None]).numpy()


def trajectory_pca(
    evaluation: Evaluation,
    key: str = "coherence",
    *,
    n_components: int = 3,
    use: str = "rates",
    window: tuple[int, int] | None = None,
) -> TrajectoryPCA:
    """PCA of the trajectories of ``evaluation.rollout.<use>`` averaged per level of ``key``.

    use:    ``"rates"`` or ``"states"`` ([B, T, n_rec] either way).
    window: fit the PCA only on steps ``start_step <= t < stop_step``; the projections always
            cover every step. Trials shorter than the batch's T are averaged as they ran.
    """
    if use not in ("rates", "states"):
        raise ValueError(f"use = {use!r}: choose 'rates' or 'states'")
    if key not in evaluation.trials.conditions:
        raise ValueError(
            f"no condition {key!r} in these trials: have {sorted(evaluation.trials.conditions)}"
        )
    activity = getattr(evaluation.rollout, use)  # [B, T, N]
    n_steps = activity.shape[1]
    levels, means = condition_means(activity, evaluation.trials.conditions[key])  # [C, T, N]
    start, stop = (0, n_steps) if window is None else window
    if not 0 <= start < stop <= n_steps:
        raise ValueError(f"window = {window!r} must satisfy 0 <= start < stop <= {n_steps}")
    fitted = pca(means[:, start:stop].reshape(-1, means.shape[-1]), n_components)
    return TrajectoryPCA(
        key=key,
        levels=levels,
        projections=fitted.project(means),
        times=np.arange(n_steps) * evaluation.trials.dt,
        window=None if window is None else (int(start), int(stop)),
        pca=fitted,
    )
