"""What seed 003's working-memory page needs beyond the package's general parts.

- :func:`vwm_spec`: the source study's network (``RNNMemoryModel``) on multi-item delayed
  estimation, as a run spec to vary (the original's sizes by default);
- :func:`decoded_angles`: run a network on trials and decode every slot's angle over the
  decode window (``analysis.slot_angles``);
- :func:`decode_rates`: the rates the units send, averaged over each trial's decode window;
- :func:`snr_readouts`: seed 003's SNR trials, one identical trial repeated per set size, and
  slot 0's readout over the decode window (for ``analysis.readout_snr``);
- :func:`dn_rates`: seed 003's divisive-normalisation trials, item 1 alone, item 2 alone and
  both (for ``analysis.divisive_normalisation``);
- :func:`delay_fixed_points`: fixed points at zero input, searched from the delay-period
  states of set-size-1 trials at evenly spaced angles.

Every function that draws takes its generator; the networks run with their spike noise on, as
the original's analyses do.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from rnnbook.analysis import find_fixed_points, sample_states, slot_angles
from rnnbook.models import ModelConfig
from rnnbook.runs import RunSpec
from rnnbook.runtime import threads_for, torch_threads
from rnnbook.tasks import DelayedEstimation, DelayedEstimationConfig
from rnnbook.training import Penalty, TrainConfig


def vwm_spec(
    *,
    n_rec: int = 256,
    n_slots: int = 10,
    dt: float = 10.0,
    noise: str = "spike_gamma",
    spike_noise_factor: float = 0.05,
    loss: str = "l2",
    rate_penalty: float = 1e-5,
    n_steps: int = 50_000,
    batch_size: int = 512,
    lr: float = 1e-4,
    lr_plateau_factor: float | None = 0.5,
    lr_plateau_patience: int = 400,
    early_stop_patience: int | None = 600,
    noise_stages: int | None = None,
    eval_every: int = 50,
    seed: int = 0,
) -> RunSpec:
    """Seed 003's working-memory network (spec ``seed003.md`` §3.1-3.4): delayed estimation of
    up to ``n_slots`` items (set sizes 1 .. n_slots), the positive input code, 20 / 500 / 1000 /
    500 ms at ``dt``; ``n_rec`` units, half excitatory (Dale), taus log-uniform on [50, 300] ms
    sorted per population, non-negative inputs, the 60 Hz saturating rates, spike-count noise
    ``noise`` (factor ``spike_noise_factor``) on the sent rates. Training: ``loss`` plus
    ``rate_penalty`` times the mean rate (L1), Adam at ``lr``, the lr scaled by
    ``lr_plateau_factor`` (None: never) after ``lr_plateau_patience`` steps without a better
    validation loss, stopped after ``early_stop_patience`` (None: never), ``noise_stages``
    stages of the noise curriculum (None: none), validated every ``eval_every`` steps."""
    task_config = DelayedEstimationConfig(
        dt=dt, n_slots=n_slots, set_sizes=tuple(range(1, n_slots + 1))
    )
    model_config = ModelConfig(
        n_rec=n_rec,
        tau=(50.0, 300.0),
        sort_taus=True,
        recurrence="dale",
        e_frac=0.5,
        activation="saturating",
        rate_max=60.0,
        input_weights="nonnegative",
        noise=noise,
        spike_noise_factor=spike_noise_factor,
    )
    penalties = [Penalty("rate_l1", rate_penalty)] if rate_penalty > 0 else []
    train_config = TrainConfig(
        n_steps=n_steps,
        batch_size=batch_size,
        optimizer="adam",
        lr=lr,
        loss=loss,
        penalties=penalties,
        lr_plateau_factor=lr_plateau_factor,
        lr_plateau_patience=lr_plateau_patience,
        early_stop_patience=early_stop_patience,
        noise_stages=noise_stages,
        eval_every=eval_every,
        eval_batch_size=batch_size,
    )
    return RunSpec("delayed_estimation", task_config, model_config, train_config, seed=seed)


def _run(model, trials, generator):
    """The model's Rollout on the trials, without gradients, at the thread count training
    uses for its size (two threads make a 64-unit network's steps 40x slower on a busy
    2-core machine: their per-step work is too small to share)."""
    with torch.no_grad(), torch_threads(threads_for(model.config.n_rec)):
        return model(trials.inputs, generator=generator)


def decoded_angles(model, trials, *, generator: torch.Generator):
    """Run ``model`` on ``trials``; returns (decoded angle per slot [B, M] as a numpy array,
    the Rollout). Each slot's (cos, sin) readout is averaged over the decode window, then
    ``atan2`` (seed 003's decoding)."""
    rollout = _run(model, trials, generator)
    decode = _decode_steps(trials)
    return slot_angles(rollout.outputs[:, decode].numpy()), rollout


def _decode_steps(trials) -> torch.Tensor:
    """The decode window's steps, one window for every trial (fixed durations)."""
    window = trials.periods["decode"]
    if not torch.equal(window, window[:1].expand_as(window)):
        raise ValueError("decode windows differ between trials: want fixed period durations")
    return window[0]


def decode_rates(rollout, trials) -> np.ndarray:
    """[B, N] the rates the units send, averaged over each trial's decode window."""
    return rollout.rates[:, _decode_steps(trials)].mean(dim=1).numpy()


def snr_readouts(model, task: DelayedEstimation, set_sizes, *, n_repetitions: int, generator):
    """Seed 003's SNR trials: per set size n, one trial (slot 0 and n - 1 other random slots,
    random angles) repeated ``n_repetitions`` times without sensory noise, so only the
    network's noise differs. Returns a list of slot 0's (cos, sin) readout over the decode
    window, [R, T_decode, 2] per set size."""
    m = task.config.n_slots
    readouts = []
    for n in set_sizes:
        if not 1 <= n <= m:
            raise ValueError(f"set_sizes holds {n!r}: want set sizes in [1, n_slots = {m}]")
        others = torch.randperm(m - 1, generator=generator)[: n - 1] + 1
        presence = torch.zeros(m, dtype=torch.bool)
        presence[0], presence[others] = True, True
        angles = (2 * torch.rand(m, generator=generator) - 1) * math.pi
        trials = task.trials_for(
            angles.expand(n_repetitions, -1), presence.expand(n_repetitions, -1)
        )
        rollout = _run(model, trials, generator)
        readouts.append(rollout.outputs[:, _decode_steps(trials), 0:2].numpy())
    return readouts


def dn_rates(model, task: DelayedEstimation, n_trials: int, *, generator):
    """Seed 003's divisive-normalisation trials: ``n_trials`` random angle pairs, shown as
    slot 0 alone, slot 1 alone and both (no sensory noise). Returns the decode-window rates
    (r1, r2, r12), [B, N] each."""
    m = task.config.n_slots
    if m < 2:
        raise ValueError(f"DelayedEstimationConfig.n_slots = {m}: want >= 2 for two items")
    angles = (2 * torch.rand(n_trials, m, generator=generator) - 1) * math.pi
    rates = []
    for shown in ([0], [1], [0, 1]):
        presence = torch.zeros(n_trials, m, dtype=torch.bool)
        presence[:, shown] = True
        trials = task.trials_for(angles, presence)
        rates.append(decode_rates(_run(model, trials, generator), trials))
    return tuple(rates)


def delay_fixed_points(
    model, task: DelayedEstimation, *, n_angles: int, n_starts: int, generator, **search
):
    """Fixed points at zero input (seed 003's ``fixedpoint.py``), searched from ``n_starts``
    states drawn from the delay period of ``n_angles`` set-size-1 trials in slot 0 at angles
    evenly spaced on the circle; ``search``: options of ``find_fixed_points`` (``keep_slow``,
    ``tol_q``, ...). Returns (FixedPoints, the trials, their Rollout)."""
    angles = torch.zeros(n_angles, task.config.n_slots)
    angles[:, 0] = torch.linspace(-math.pi, math.pi, n_angles + 1)[:-1]
    presence = torch.zeros_like(angles, dtype=torch.bool)
    presence[:, 0] = True
    trials = task.trials_for(angles, presence)
    rollout = _run(model, trials, generator)
    starts = sample_states(
        rollout.states, n_starts, generator=generator, mask=trials.periods["delay"]
    )
    points = find_fixed_points(model, torch.zeros(task.n_in), starts, **search)
    return points, trials, rollout
