"""Neural analyses of a multi-item working-memory network (seed 003's ``snr_analysis``,
``dn_analysis`` and ``mixed_selectivity``), as pure functions of readouts and rates.

- :func:`readout_snr`: the signal-to-noise ratio of one slot's decoded (cos, sin) readout over
  repetitions of one identical trial, per set size, per time step and time-averaged.
- :func:`divisive_normalisation`: per trial, the least-squares weights of
  ``r_12 ~ w_1 r_1 + w_2 r_2`` across units; 1 is linear superposition, [0, 1] normalisation.
- :func:`mixed_selectivity`: each unit's vector strength to each slot's angle, and its
  inverse participation ratio over slots (:func:`inverse_participation_ratio`).

Rates are time-averaged over the decode window first (``rates[:, window].mean(1)``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rnnbook.analysis.arrays import as_numpy
from rnnbook.analysis.circular import (
    check_array,
    check_finite,
    check_presence,
    check_set_sizes,
)
from rnnbook.analysis.results import Result


@dataclass(frozen=True, eq=False)
class ReadoutSNR(Result):
    """SNR of a decoded (cos, sin) readout ``D`` by set size; axis 0 indexes the set size.

    set_sizes:                [S] the set sizes.
    signal:                   [S, 2] ``s = mean of D`` over repetitions and decode steps.
    noise_covariance:         [S, 2, 2] covariance (ddof 1) of ``D - s`` over every
                              (repetition, step): the noise of one time step's readout.
    time_averaged_covariance: [S, 2, 2] covariance (ddof 1) of ``mean_t D - s`` over
                              repetitions: the noise of the time-averaged readout.
    n_repetitions, n_steps:   [S] the repetitions and decode steps behind each.
    """

    set_sizes: np.ndarray
    signal: np.ndarray
    noise_covariance: np.ndarray
    time_averaged_covariance: np.ndarray
    n_repetitions: np.ndarray
    n_steps: np.ndarray

    @property
    def snr(self) -> np.ndarray:
        """[S] ``|s|^2 / trace(noise_covariance)``: the original's SNR1 (per time step)."""
        return _power(self.signal) / np.trace(self.noise_covariance, axis1=1, axis2=2)

    @property
    def snr_time_averaged(self) -> np.ndarray:
        """[S] ``|s|^2 / trace(time_averaged_covariance)``: the original's SNR2."""
        return _power(self.signal) / np.trace(self.time_averaged_covariance, axis1=1, axis2=2)

    @property
    def snr_db(self) -> np.ndarray:
        """[S] ``10 log10(snr)``, decibels."""
        return 10 * np.log10(self.snr)

    @property
    def snr_time_averaged_db(self) -> np.ndarray:
        """[S] ``10 log10(snr_time_averaged)``, decibels."""
        return 10 * np.log10(self.snr_time_averaged)

    def summary(self) -> str:
        rows = [
            f"  set size {s}: SNR {a:.2f} dB per step, {b:.2f} dB time-averaged"
            for s, a, b in zip(self.set_sizes, self.snr_db, self.snr_time_averaged_db, strict=True)
        ]
        return "\n".join(["Readout SNR by set size:", *rows])


def readout_snr(readouts: Sequence, set_sizes) -> ReadoutSNR:
    """The SNR of a slot's decoded readout at each set size, as seed 003 defines it.

    readouts: S arrays ``D`` [R, T, 2] (or one array [S, R, T, 2]): the (cos, sin) readout of
    one slot over the T decode steps of R >= 2 repetitions of one identical trial (same angles,
    only the network's noise differs), e.g. ``outputs[:, decode, 0:2]``; set_sizes: [S].

    Signal ``s = mean_{r,t} D`` [2]; noise ``D - s`` over all (r, t), and ``mean_t D - s`` over
    r for the time-averaged readout; noise power = trace of the noise covariance (ddof 1);
    ``SNR = |s|^2 / power`` (dB: ``10 log10``). Readout units cancel.
    """
    sizes = check_set_sizes(set_sizes)
    arrays = [_readout(i, d) for i, d in enumerate(readouts)]
    if len(arrays) != len(sizes):
        raise ValueError(
            f"readouts holds {len(arrays)} arrays: want one per set size, {len(sizes)}"
        )
    signal = np.stack([d.mean(axis=(0, 1)) for d in arrays])  # [S, 2]
    noise = [d - s for d, s in zip(arrays, signal, strict=True)]  # S x [R, T, 2]
    return ReadoutSNR(
        set_sizes=sizes,
        signal=signal,
        noise_covariance=np.stack([np.cov(e.reshape(-1, 2), rowvar=False) for e in noise]),
        time_averaged_covariance=np.stack([np.cov(e.mean(axis=1), rowvar=False) for e in noise]),
        n_repetitions=np.array([d.shape[0] for d in arrays]),
        n_steps=np.array([d.shape[1] for d in arrays]),
    )


def _readout(index: int, readout) -> np.ndarray:
    d = check_array(f"readouts[{index}]", readout, "[R >= 2, T >= 1, 2] (cos, sin)", ndim=3)
    if d.shape[0] < 2 or d.shape[1] < 1 or d.shape[2] != 2:
        raise ValueError(f"readouts[{index}] has shape {d.shape}: want [R >= 2, T >= 1, 2]")
    return d


def _power(signal: np.ndarray) -> np.ndarray:
    return (signal**2).sum(axis=-1)


@dataclass(frozen=True, eq=False)
class DivisiveNormalisation(Result):
    """Per-trial weights of ``r_12 ~ w_1 r_1 + w_2 r_2`` across ``n_units`` units.

    w1, w2:    [B] least-squares weights (no intercept): 1 and 1 for linear superposition.
    r_squared: [B] ``1 - |r_12 - fit|^2 / |r_12|^2``, in [0, 1]: the uncentred R^2 of a
               regression without intercept (NaN when r_12 is all 0).
    """

    w1: np.ndarray
    w2: np.ndarray
    r_squared: np.ndarray
    n_units: int

    @property
    def in_region(self) -> np.ndarray:
        """[B] whether ``0 <= w1, w2 <= 1``: the normalisation (sublinear) region."""
        w = np.stack([self.w1, self.w2])
        return np.all((w >= 0) & (w <= 1), axis=0)

    @property
    def fraction_in_region(self) -> float:
        return float(self.in_region.mean())

    def summary(self) -> str:
        return (
            f"Divisive normalisation over {len(self.w1)} trials, {self.n_units} units: median "
            f"w1 {np.median(self.w1):.3f}, w2 {np.median(self.w2):.3f}, median R^2 "
            f"{np.nanmedian(self.r_squared):.3f}, {self.fraction_in_region:.0%} in [0, 1]^2"
        )


def divisive_normalisation(r1, r2, r12) -> DivisiveNormalisation:
    """Regress, per trial, the rates to two items on the rates to each item alone.

    r1, r2, r12: [B, N] time-averaged rates of N >= 2 units on trial b with only item 1, only
    item 2, and both items (same angles); any unit. Solves ``r12[b] ~ w1 r1[b] + w2 r2[b]`` by
    the normal equations, across units, without intercept (seed 003's ``dn_analysis``).
    """
    a, b, y = (
        check_array(name, x, "[B, N] rates", ndim=2)
        for name, x in (("r1", r1), ("r2", r2), ("r12", r12))
    )
    if not a.shape == b.shape == y.shape or a.shape[1] < 2:
        raise ValueError(
            f"r1, r2, r12 have shapes {a.shape}, {b.shape}, {y.shape}: want [B, N >= 2] each"
        )
    x = np.stack([a, b], axis=1)  # [B, 2, N]
    gram = x @ x.transpose(0, 2, 1)  # [B, 2, 2]
    singular = np.linalg.det(gram) <= 1e-12 * gram[:, 0, 0] * gram[:, 1, 1]
    if singular.any():
        trial = int(np.argmax(singular))
        raise ValueError(
            f"r1[{trial}] and r2[{trial}] are collinear (or zero): the weights are not "
            "determined; want rates to the two items that differ across units"
        )
    w = np.linalg.solve(gram, x @ y[:, :, None])[..., 0]  # [B, 2]
    residual = y - (w[:, :, None] * x).sum(axis=1)
    total = (y**2).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        r_squared = np.where(total > 0, 1 - (residual**2).sum(axis=1) / total, np.nan)
    return DivisiveNormalisation(w1=w[:, 0], w2=w[:, 1], r_squared=r_squared, n_units=a.shape[1])


@dataclass(frozen=True, eq=False)
class MixedSelectivity(Result):
    """Tuning of each unit to each item slot; axis 0 indexes the unit.

    strength: [N, M] vector strength ``R_ik`` of unit i to slot k's angle, in [0, 1].
    ipr:      [N] inverse participation ratio over slots, in [1/M, 1] (NaN for an untuned
              unit): 1/M tuned to one slot, 1 equally tuned to all.
    n_trials: [M] trials on which each slot held an item.
    """

    strength: np.ndarray
    ipr: np.ndarray
    n_trials: np.ndarray

    def summary(self) -> str:
        n, m = self.strength.shape
        return (
            f"Mixed selectivity of {n} units over {m} slots: median IPR "
            f"{np.nanmedian(self.ipr):.3f} (1/M = {1 / m:.3f} one slot, 1 all slots)"
        )


def inverse_participation_ratio(strength) -> np.ndarray:
    """``(sum_k R_k)^2 / (M sum_k R_k^2)`` over the last axis of strength [..., M] (R >= 0):
    1/M when one R_k is non-zero, 1 when all are equal; NaN when all are 0. Returns [...]."""
    r = check_array("strength", strength, "[..., M] vector strengths >= 0")
    if r.ndim == 0 or r.shape[-1] == 0 or np.any(r < 0):
        raise ValueError(f"strength has shape {r.shape}, min {r.min()}: want [..., M >= 1] >= 0")
    squares = (r**2).sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(squares > 0, r.sum(axis=-1) ** 2 / (r.shape[-1] * squares), np.nan)


def mixed_selectivity(rates, angles, presence) -> MixedSelectivity:
    """Vector strength of every unit to every slot's angle, and its IPR over slots.

    rates: [B, N] time-averaged rates (>= 0, any unit); angles: [B, M] item angle per slot,
    radians (absent slots ignored); presence: [B, M] 0/1. Seed 003 uses set-size-1 trials.
    ``R_ik = |sum_b r_bi exp(j theta_bk)| / sum_b r_bi`` over the trials b where slot k holds
    an item (0 for a unit silent on all of them).
    """
    r = check_array("rates", rates, "[B, N] rates >= 0", ndim=2)
    if np.any(r < 0):
        raise ValueError(f"rates holds {r.min()}: want rates >= 0 (a vector strength)")
    theta = as_numpy(angles)
    if theta.ndim != 2 or theta.shape[0] != r.shape[0] or theta.shape[1] == 0:
        raise ValueError(f"angles has shape {theta.shape}: want [B = {r.shape[0]}, M >= 1]")
    shown = check_presence("presence", presence, theta.shape).astype(float)
    theta = np.where(shown > 0, theta, 0.0)
    check_finite("angles (where present)", theta)
    n_trials = shown.sum(axis=0)
    if np.any(n_trials == 0):
        slot = int(np.argmin(n_trials))
        raise ValueError(f"presence[:, {slot}] is all 0: want every slot present on some trial")
    resultant = np.abs(r.T @ (shown * np.exp(1j * theta)))  # [N, M]
    total = r.T @ shown  # [N, M]
    with np.errstate(divide="ignore", invalid="ignore"):
        strength = np.where(total > 0, resultant / total, 0.0)
    return MixedSelectivity(
        strength=strength, ipr=inverse_participation_ratio(strength), n_trials=n_trials.astype(int)
    )
