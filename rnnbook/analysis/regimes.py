"""A network's activity in two regimes, and their principal axes: spontaneous (no input, from
a fixed initial state) and memory (the response period after a pulse).

The source compares the input weights with the spontaneous axes and the readout weights with
the memory axes (``rnnbook.analysis.weights.participation_ratio``). Each run draws its noise,
if the model has any, from the ``test_noise`` stream of ``seed``, on one thread (see
:mod:`rnnbook.analysis.precision`).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from rnnbook.analysis.evaluation import model_device, noise_generator, run_trials
from rnnbook.analysis.pca import PCA, windowed_pca
from rnnbook.analysis.precision import DURATIONS
from rnnbook.runtime import torch_threads
from rnnbook.tasks.pulse import PulseIntegration


@torch.no_grad()
def spontaneous_rates(
    model: torch.nn.Module, *, duration_ms: float = 10_000.0, h0: float = 0.1, seed: int = 0
) -> torch.Tensor:
    """[1, T, n_rec] the rates of ``model`` without input, from the state ``h0`` in every unit
    (the source starts at 0.1: at 0 a network without biases stays silent)."""
    cfg, device = model.config, model_device(model)
    inputs = torch.zeros(1, round(duration_ms / cfg.dt), cfg.n_in, device=device)
    x0 = torch.full((1, cfg.n_rec), float(h0), device=device)
    with torch_threads(1):
        return model(inputs, x0, generator=noise_generator(seed, device)).rates.cpu()


def spontaneous_pca(
    model: torch.nn.Module,
    *,
    duration_ms: float = 10_000.0,
    window_ms: tuple[float, float] = (5_000.0, 10_000.0),
    h0: float = 0.1,
    seed: int = 0,
) -> PCA:
    """PCA of the spontaneous activity (:func:`spontaneous_rates`) in ``window_ms``, after the
    transient from ``h0`` (the source's axes for the input weights)."""
    rates = spontaneous_rates(model, duration_ms=duration_ms, h0=h0, seed=seed)
    return windowed_pca(rates, dt=model.config.dt, window_ms=window_ms)


@torch.no_grad()
def memory_rates(
    model: torch.nn.Module,
    task: PulseIntegration,
    durations: Sequence[float] = DURATIONS,
    *,
    seed: int = 0,
) -> torch.Tensor:
    """[D, T, n_rec] the rates on one trial per pulse duration (pulse in the middle of the
    onset range)."""
    with torch_threads(1):
        return run_trials(model, task.trials_at(durations), seed=seed).rates.cpu()


def memory_pca(
    model: torch.nn.Module,
    task: PulseIntegration,
    durations: Sequence[float] = DURATIONS,
    *,
    window_ms: tuple[float, float] | None = None,
    seed: int = 0,
) -> PCA:
    """PCA of the rates in the memory period (default: the response period, from the task's
    ``cost_onset_ms`` to the end), averaged over the ``durations`` (the source's axes for the
    readout weights)."""
    cfg = task.config
    window = (cfg.cost_onset_ms, cfg.trial_ms) if window_ms is None else window_ms
    rates = memory_rates(model, task, durations, seed=seed)
    return windowed_pca(rates, dt=task.dt, window_ms=window)
