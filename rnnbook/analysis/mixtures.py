"""Mixture models of delayed-estimation errors, fitted by maximum likelihood.

Errors ``e`` are radians (``wrap(target - report)``, :mod:`rnnbook.analysis.circular`);
``VM(e; kappa) = exp(kappa cos e) / (2 pi I_0(kappa))``.

- :func:`fit_zhang_luck`: ``w VM(e; kappa) + (1 - w) / 2pi`` (Zhang & Luck 2008, Nature
  453:233); the guess rate is ``1 - w`` and the SD of the memory component
  ``sqrt(-2 ln(I_1(kappa) / I_0(kappa)))``.
- :func:`fit_gaussian_uniform`: ``w WN(e; sigma) + (1 - w) / 2pi`` with WN the wrapped normal
  (seed 003's Gaussian + uniform, made a density on the circle).
- :func:`fit_swap_model`: Bays, Catalao & Husain (2009, J Vis 9(10):7), for reports ``x``,
  targets ``t`` and ``m`` non-targets ``phi_j`` (the other items shown):
  ``p_target VM(x - t) + p_nontarget (1/m) sum_j VM(x - phi_j) + p_uniform / 2pi``.
  With m = 0 it is Zhang & Luck (``p_nontarget`` fixed at 0). Seed 003 has no swap model.

Each fit maximises the log-likelihood by damped Newton (Levenberg-Marquardt) steps over
unconstrained parameters (log kappa or log sigma, logits of the weights) from a grid of starts
(JV10_fit's for the swap model: kappa in {1, 10, 100}, p_nontarget and p_uniform in
{0.01, 0.1, 0.4}) and keeps the best; the likelihoods and their closed-form derivatives are in
:mod:`rnnbook.analysis.wm_likelihood`. Standard errors are the inverse observed information
(the Hessian of -log L in the natural parameters: weights, kappa or sigma). Near a bound (a
weight near 0 or 1) the normal approximation fails: use
:func:`rnnbook.analysis.wm_bootstrap.bootstrap_fit` there. :func:`reports_by_set_size` turns a
network's decoded slots into the swap model's reports, targets and non-targets.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial

import numpy as np

from rnnbook.analysis import wm_likelihood as likelihood
from rnnbook.analysis.arrays import as_numpy
from rnnbook.analysis.circular import (
    check_array,
    check_finite,
    check_presence,
    von_mises_resultant,
    von_mises_sd,
    wrap_angle,
)
from rnnbook.analysis.results import Result

_KAPPAS, _WEIGHTS, _SIGMAS = (1.0, 10.0, 100.0), (0.3, 0.6, 0.9), (0.1, 0.5, 1.5)
_SMALL_WEIGHTS = (0.01, 0.1, 0.4)  # JV10_fit's starts of p_nontarget and p_uniform


class _Criteria:
    """AIC and BIC of a fit with ``log_likelihood``, ``n`` and ``n_params``."""

    @property
    def aic(self) -> float:
        """``2 k - 2 log L``."""
        return 2 * self.n_params - 2 * self.log_likelihood

    @property
    def bic(self) -> float:
        """``k ln n - 2 log L``."""
        return self.n_params * math.log(self.n) - 2 * self.log_likelihood

    def _se(self, index: int) -> float:
        return float(np.sqrt(self.covariance[index, index]))


class _MemoryAndGuesses(_Criteria):
    """A memory component of weight ``w`` (the covariance's first parameter) plus uniform
    guesses: two parameters."""

    n_params = 2

    @property
    def w_se(self) -> float:
        return self._se(0)

    @property
    def guess_rate(self) -> float:
        """``1 - w``, the weight of the uniform component."""
        return 1.0 - self.w


@dataclass(frozen=True, eq=False)
class ZhangLuckFit(_MemoryAndGuesses, Result):
    """``w VM(e; kappa) + (1 - w) / 2pi`` fitted to ``n`` errors.

    w: weight of the memory component; kappa: its concentration (1 / radians^2).
    covariance: [2, 2] of (w, kappa), the inverse observed information (NaN when the Hessian is
    not positive definite). log_likelihood: natural log, at the optimum.
    """

    w: float
    kappa: float
    covariance: np.ndarray
    log_likelihood: float
    n: int

    @property
    def kappa_se(self) -> float:
        return self._se(1)

    @property
    def sd(self) -> float:
        """Circular SD of the memory component, ``sqrt(-2 ln(I_1(kappa) / I_0(kappa)))``, rad."""
        return float(von_mises_sd(self.kappa))

    @property
    def sd_se(self) -> float:
        """Standard error of ``sd`` by the delta method."""
        return abs(_sd_slope(self.kappa)) * self.kappa_se

    def parameters(self) -> dict[str, float]:
        """The fitted numbers by name (what :func:`bootstrap_fit` resamples)."""
        return {"w": self.w, "kappa": self.kappa, "sd": self.sd}

    def summary(self) -> str:
        return (
            f"Zhang-Luck fit on {self.n} errors: w {self.w:.3f} ± {self.w_se:.3f}, "
            f"kappa {self.kappa:.3g} ± {self.kappa_se:.2g} (SD {self.sd:.3f} rad), "
            f"log L {self.log_likelihood:.1f}"
        )


@dataclass(frozen=True, eq=False)
class GaussianUniformFit(_MemoryAndGuesses, Result):
    """``w WN(e; sigma) + (1 - w) / 2pi`` fitted to ``n`` errors (WN: wrapped normal).

    w: weight of the memory component; sigma: its SD, radians.
    covariance: [2, 2] of (w, sigma). log_likelihood: natural log, at the optimum.
    """

    w: float
    sigma: float
    covariance: np.ndarray
    log_likelihood: float
    n: int

    @property
    def sigma_se(self) -> float:
        return self._se(1)

    def parameters(self) -> dict[str, float]:
        """The fitted numbers by name (what :func:`bootstrap_fit` resamples)."""
        return {"w": self.w, "sigma": self.sigma}

    def summary(self) -> str:
        return (
            f"Gaussian + uniform fit on {self.n} errors: w {self.w:.3f} ± {self.w_se:.3f}, "
            f"sigma {self.sigma:.3f} ± {self.sigma_se:.3f} rad, log L {self.log_likelihood:.1f}"
        )


@dataclass(frozen=True, eq=False)
class SwapModelFit(_Criteria, Result):
    """Bays et al. (2009) swap model fitted to ``n`` reports with ``n_nontargets`` each.

    kappa: concentration of the target and non-target components (1 / radians^2).
    p_target, p_nontarget, p_uniform: the mixture weights (summing to 1); p_nontarget is the
    swap rate, fixed at 0 when n_nontargets = 0.
    covariance: [3, 3] of (kappa, p_target, p_nontarget); its p_nontarget row and column are 0
    when that weight is fixed. log_likelihood: natural log, at the optimum.
    """

    kappa: float
    p_target: float
    p_nontarget: float
    p_uniform: float
    covariance: np.ndarray
    log_likelihood: float
    n: int
    n_nontargets: int

    @property
    def n_params(self) -> int:
        return 3 if self.n_nontargets else 2

    @property
    def kappa_se(self) -> float:
        return self._se(0)

    @property
    def p_target_se(self) -> float:
        return self._se(1)

    @property
    def p_nontarget_se(self) -> float:
        return self._se(2)

    @property
    def p_uniform_se(self) -> float:
        """From ``p_uniform = 1 - p_target - p_nontarget``."""
        return float(np.sqrt(self.covariance[1:, 1:].sum()))

    @property
    def sd(self) -> float:
        """Circular SD of the von Mises components, radians."""
        return float(von_mises_sd(self.kappa))

    def parameters(self) -> dict[str, float]:
        """The fitted numbers by name (what :func:`bootstrap_fit` resamples)."""
        names = ("kappa", "p_target", "p_nontarget", "p_uniform")
        return {name: getattr(self, name) for name in names}

    def summary(self) -> str:
        return (
            f"Swap model fit on {self.n} reports ({self.n_nontargets} non-targets each): "
            f"kappa {self.kappa:.3g} ± {self.kappa_se:.2g}, p_target {self.p_target:.3f}, "
            f"p_nontarget {self.p_nontarget:.3f} ± {self.p_nontarget_se:.3f}, "
            f"p_uniform {self.p_uniform:.3f}, log L {self.log_likelihood:.1f}"
        )


def fit_zhang_luck(errors) -> ZhangLuckFit:
    """Fit ``w VM(e; kappa) + (1 - w) / 2pi`` to errors [n] (radians) by maximum likelihood."""
    e = check_array("errors", errors, "[n] angle errors in radians", ndim=1)
    cos_e = np.cos(e)
    starts = [(_logit(w), math.log(k)) for k in _KAPPAS for w in _WEIGHTS]
    theta, log_l, hessian = likelihood.maximise(
        partial(likelihood.zhang_luck_terms, cos_e=cos_e),
        likelihood.weight_and_scale,
        starts,
    )
    return ZhangLuckFit(
        w=float(theta[0]),
        kappa=float(theta[1]),
        covariance=likelihood.covariance(hessian),
        log_likelihood=log_l,
        n=len(e),
    )


def fit_gaussian_uniform(errors) -> GaussianUniformFit:
    """Fit ``w WN(e; sigma) + (1 - w) / 2pi`` to errors [n] (radians) by maximum likelihood;
    WN is the normal wrapped onto the circle."""
    e = wrap_angle(check_array("errors", errors, "[n] angle errors in radians", ndim=1))
    starts = [(_logit(w), math.log(s)) for s in _SIGMAS for w in _WEIGHTS]
    theta, log_l, hessian = likelihood.maximise(
        partial(likelihood.wrapped_normal_terms, errors=e),
        likelihood.weight_and_scale,
        starts,
    )
    return GaussianUniformFit(
        w=float(theta[0]),
        sigma=float(theta[1]),
        covariance=likelihood.covariance(hessian),
        log_likelihood=log_l,
        n=len(e),
    )


def fit_swap_model(reports, targets, nontargets) -> SwapModelFit:
    """Fit the Bays et al. (2009) swap model by maximum likelihood.

    reports, targets: [n] reported and true angle of each probed item (radians);
    nontargets: [n, m] the true angles of the other m items shown on each trial (m >= 0; fit
    each set size on its own). With m = 0 the model is Zhang & Luck's.
    """
    x = check_array("reports", reports, "[n] reported angles in radians", ndim=1)
    t = check_array("targets", targets, "[n] target angles in radians", ndim=1)
    phi = check_array("nontargets", nontargets, "[n, m] non-target angles in radians", ndim=2)
    if t.shape != x.shape or len(phi) != len(x):
        raise ValueError(
            f"reports, targets and nontargets have shapes {x.shape}, {t.shape}, {phi.shape}: "
            "want [n], [n] and [n, m]"
        )
    m = phi.shape[1]
    cos_t, cos_n = np.cos(x - t), np.cos(x[:, None] - phi)
    pairs = [(n, u) for n in (_SMALL_WEIGHTS if m else (0.0,)) for u in _SMALL_WEIGHTS]
    starts = [(math.log(k), *_swap_logits(n, u, m)) for k in _KAPPAS for n, u in pairs]
    theta, log_l, hessian = likelihood.maximise(
        partial(likelihood.swap_terms, cos_target=cos_t, cos_nontarget=cos_n),
        likelihood.swap_parameters,
        starts,
    )
    covariance = np.zeros((3, 3))
    covariance[: len(theta), : len(theta)] = likelihood.covariance(hessian)
    p_nontarget = float(theta[2]) if m else 0.0
    return SwapModelFit(
        kappa=float(theta[0]),
        p_target=float(theta[1]),
        p_nontarget=p_nontarget,
        p_uniform=max(0.0, 1.0 - float(theta[1]) - p_nontarget),  # >= 0 despite rounding
        covariance=covariance,
        log_likelihood=log_l,
        n=len(x),
        n_nontargets=m,
    )


def reports_by_set_size(angles, decoded, presence) -> dict[int, tuple[np.ndarray, ...]]:
    """The swap model's data per set size s: ``{s: (reports [n], targets [n], nontargets
    [n, s - 1])}``, one row per item shown, its non-targets the other items of its trial.

    angles, decoded: [B, M] true and decoded angle per slot (radians; absent slots ignored);
    presence: [B, M] 0/1. Fit each with ``fit_swap_model(*data[s])``.
    """
    a, d = as_numpy(angles), as_numpy(decoded)
    if a.ndim != 2 or d.shape != a.shape:
        raise ValueError(f"angles and decoded have shapes {a.shape}, {d.shape}: want [B, M] both")
    shown = check_presence("presence", presence, a.shape)
    sizes = shown.sum(axis=1)
    data = {}
    for s in np.unique(sizes[sizes > 0]).tolist():
        rows = sizes == s
        targets = check_finite("angles", a[rows][shown[rows]]).reshape(-1, s)  # [trials, s]
        reports = check_finite("decoded", d[rows][shown[rows]]).reshape(-1, s)
        others = np.array([[k for k in range(s) if k != j] for j in range(s)], dtype=int)
        nontargets = targets[:, others.reshape(s, s - 1)].reshape(targets.size, s - 1)
        data[s] = (reports.reshape(-1), targets.reshape(-1), nontargets)
    return data


def _swap_logits(p_nontarget: float, p_uniform: float, m: int) -> tuple[float, ...]:
    """The logits of a swap-model start against p_uniform (no p_nontarget when m = 0)."""
    p_target = 1 - p_nontarget - p_uniform
    if not m:
        return (math.log(p_target / p_uniform),)
    return math.log(p_target / p_uniform), math.log(p_nontarget / p_uniform)


def _sd_slope(kappa: float) -> float:
    """d sd / d kappa for ``sd = sqrt(-2 ln A)``: ``-A' / (A sd)``, ``A' = 1 - A / kappa - A^2``."""
    a = float(von_mises_resultant(kappa))
    return -(1 - a / kappa - a**2) / (a * float(von_mises_sd(kappa)))


def _logit(p: float) -> float:
    return math.log(p / (1 - p))
