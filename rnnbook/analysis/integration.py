"""Analyses of pulse-integration networks: precision, weight alignment, participation ratios.

- :func:`precision_by_duration`: the masked MSE of one trial per pulse duration (the source's
  *precision*: lower is better).
- :func:`weight_correlation`: the cosine between the input and the readout weight vectors.
- :func:`windowed_pca`: PCA of firing rates within a time window, the covariance averaged over
  conditions (each condition centred on its own mean); :func:`spontaneous_pca` and
  :func:`memory_pca` apply it to the two activity regimes the source compares.
- :func:`participation_ratio`: over how many principal components a weight vector is spread,
  ``(sum c_i^2)^2 / sum c_i^4`` for its projections ``c_i``; the source's signed variant
  ``(sum c_i)^2 / sum c_i^2`` is returned beside it.
- :func:`at_dt`: the same network simulated with another time step.
- :func:`correlation`: Pearson and Spearman correlation of two quantities over networks.

None of these plots or changes the model. The functions that run a network run it on one
thread: a few trials of a small network are fastest there, and a second thread that waits for a
busy core made them 30 times slower on a shared 2-core machine.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from scipy import stats

from rnnbook.analysis._arrays import as_numpy
from rnnbook.analysis.pca import PCA, pca
from rnnbook.runtime import torch_threads
from rnnbook.seeding import Seeds
from rnnbook.tasks.pulse import PulseIntegration

DURATIONS = (50.0, 150.0, 300.0)  # the source's test durations (ms)


@dataclass(frozen=True, eq=False)
class DurationPrecision:
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
    comes from this call's own generator (``seed``)."""
    trials = task.trials_at(durations, onset_ms=onset_ms)
    device = next(model.parameters()).device
    gen = Seeds.from_seed(seed).generator("noise", device)
    with torch_threads(1):
        outputs = model(trials.inputs.to(device), generator=gen).outputs.cpu()  # [D, T, 1]
    return DurationPrecision(
        durations=as_numpy(trials.conditions["duration"]),
        mse=masked_mse_per_trial(outputs, trials.targets, trials.mask),
        times=as_numpy(trials.times),
        inputs=as_numpy(trials.inputs[..., 0]),
        targets=as_numpy(trials.targets[..., 0]),
        outputs=as_numpy(outputs[..., 0]),
        mask=as_numpy(trials.mask),
    )


def at_dt(model: torch.nn.Module, dt: float) -> torch.nn.Module:
    """The same continuous-time network (a copy, same weights) simulated with time step ``dt``
    (ms). The model itself is not changed."""
    with torch_threads(1):
        copy = type(model)(dataclasses.replace(model.config, dt=dt))
    copy.load_state_dict(model.state_dict())
    return copy.to(next(model.parameters()).device)


def input_weight(model: torch.nn.Module, channel: int = 0) -> np.ndarray:
    """[n_rec] the input weights of input ``channel`` (the source's ``I``)."""
    return as_numpy(model.input.effective_weight()[:, channel])


def readout_weight(model: torch.nn.Module, channel: int = 0) -> np.ndarray:
    """[n_rec] the readout weights of output ``channel`` (the source's ``w``)."""
    return as_numpy(model.readout.effective_weight()[channel])


def weight_correlation(model: torch.nn.Module) -> float:
    """The cosine between the input and readout weight vectors (``I . w / |I| |w|``), in
    [-1, 1]: the source's *weight correlation* (no mean is subtracted)."""
    i, w = input_weight(model), readout_weight(model)
    return float(i @ w / (np.linalg.norm(i) * np.linalg.norm(w)))


@dataclass(frozen=True, eq=False)
class Participation:
    """How a vector spreads over a set of orthonormal components.

    coefficients: [k] its projections ``c_i`` on the components.
    ratio:        ``(sum c_i^2)^2 / sum c_i^4``, in [1, k]: 1 on one component, k spread evenly
                  over k (the standard participation ratio of the weights ``c_i^2``).
    signed_ratio: the source's ``(sum c_i)^2 / sum c_i^2``, in [0, k]: it depends on the
                  arbitrary sign of each component, and cancelling terms make it small.
    captured:     fraction of the vector's squared norm inside the components' span.
    """

    coefficients: np.ndarray
    ratio: float
    signed_ratio: float
    captured: float


def participation_ratio(vector, components) -> Participation:
    """Participation of ``vector`` [N] in ``components`` [k, N] (orthonormal rows, e.g.
    ``PCA.components``)."""
    v, comps = as_numpy(vector), as_numpy(components)
    if comps.ndim != 2 or v.shape != comps.shape[1:]:
        raise ValueError(
            f"participation_ratio takes vector [N] and components [k, N]; "
            f"got {v.shape} and {comps.shape}"
        )
    c = comps @ v  # [k]
    power = c**2
    return Participation(
        coefficients=c,
        ratio=float(power.sum() ** 2 / (power**2).sum()),
        signed_ratio=float(c.sum() ** 2 / power.sum()),
        captured=float(power.sum() / (v @ v)),
    )


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


@torch.no_grad()
def spontaneous_rates(
    model: torch.nn.Module, *, duration_ms: float = 10_000.0, h0: float = 0.1
) -> torch.Tensor:
    """[1, T, n_rec] the rates of ``model`` without input, from the state ``h0`` in every unit
    (the source starts at 0.1: at 0 a network without biases stays silent)."""
    cfg = model.config
    device = next(model.parameters()).device
    inputs = torch.zeros(1, round(duration_ms / cfg.dt), cfg.n_in, device=device)
    x0 = torch.full((1, cfg.n_rec), float(h0), device=device)
    with torch_threads(1):
        return model(inputs, x0).rates.cpu()


def spontaneous_pca(
    model: torch.nn.Module,
    *,
    duration_ms: float = 10_000.0,
    window_ms: tuple[float, float] = (5_000.0, 10_000.0),
    h0: float = 0.1,
) -> PCA:
    """PCA of the spontaneous activity (:func:`spontaneous_rates`) in ``window_ms``, after the
    transient from ``h0`` (the source's axes for the input weights)."""
    rates = spontaneous_rates(model, duration_ms=duration_ms, h0=h0)
    return windowed_pca(rates, dt=model.config.dt, window_ms=window_ms)


@torch.no_grad()
def memory_rates(
    model: torch.nn.Module, task: PulseIntegration, durations: Sequence[float] = DURATIONS
) -> torch.Tensor:
    """[D, T, n_rec] the rates on one trial per pulse duration (pulse in the middle of the
    onset range)."""
    trials = task.trials_at(durations)
    device = next(model.parameters()).device
    with torch_threads(1):
        return model(trials.inputs.to(device)).rates.cpu()


def memory_pca(
    model: torch.nn.Module,
    task: PulseIntegration,
    durations: Sequence[float] = DURATIONS,
    *,
    window_ms: tuple[float, float] | None = None,
) -> PCA:
    """PCA of the rates in the memory period (default: the response period, from the task's
    ``cost_onset_ms`` to the end), averaged over the ``durations`` (the source's axes for the
    readout weights)."""
    cfg = task.config
    window = (cfg.cost_onset_ms, cfg.trial_ms) if window_ms is None else window_ms
    return windowed_pca(memory_rates(model, task, durations), dt=task.dt, window_ms=window)


@dataclass(frozen=True)
class Correlation:
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
