"""Likelihoods of the error mixture models and their maximisation (used by ``mixtures``).

Every model is a mixture density ``p_i(theta)`` for trial i, linear in its weights. A model
gives, at its natural parameters theta [P], the density ``p`` [n], its gradient ``dp``
[n, P] and its Hessian ``d2p`` [n, P, P] in closed form; :func:`log_likelihood` turns them
into ``log L = sum log p``, its gradient ``sum dp / p`` and its Hessian
``sum d2p / p - dp dp^T / p^2`` (the negative of the observed information).

With ``VM(e; kappa) = exp(kappa cos e) / (2 pi I_0(kappa))``, ``A = I_1 / I_0`` and
``A' = 1 - A / kappa - A^2``: ``dVM / dkappa = VM (cos e - A)`` and
``d2VM / dkappa2 = VM ((cos e - A)^2 - A')``. For the wrapped normal, each term
``g = phi(z) / sigma``, ``z = (e + 2 pi k) / sigma``, has ``dg / dsigma = g (z^2 - 1) / sigma``
and ``d2g / dsigma2 = g (z^4 - 5 z^2 + 2) / sigma^2``.

Everything is numpy float64 without BLAS calls on [n]-sized arrays, so fits stay fast beside
a training process (a threaded BLAS slows a hundredfold on a busy machine).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

UNIFORM = 1 / (2 * math.pi)  # the uniform density on the circle
SIGMA_MAX = 2 * math.pi  # the largest SD of a wrapped normal searched (rad)
_TINY = 1e-300  # floor of a density, so that log p stays finite
_MAX_STEPS = 300  # of one ascent
_GTOL = 1e-10  # converged when every |d log L / d u| <= _GTOL (1 + |log L|)


def von_mises_terms(cos_e: np.ndarray, kappa: float):
    """VM, dVM/dkappa and d2VM/dkappa2 at errors with cosines ``cos_e`` (any shape)."""
    a = special.i1e(kappa) / special.i0e(kappa)
    slope = 1 - a / kappa - a**2  # A'(kappa)
    f = np.exp(kappa * (cos_e - 1)) / (2 * math.pi * special.i0e(kappa))
    d = cos_e - a
    return f, f * d, f * (d**2 - slope)


def zhang_luck_terms(theta: np.ndarray, cos_e: np.ndarray):
    """p, dp, d2p of ``w VM(e; kappa) + (1 - w) / 2pi``; theta = (w, kappa), cos_e: [n]."""
    w, kappa = theta
    return _weighted_terms(w, *von_mises_terms(cos_e, kappa))


def wrapped_normal_terms(theta: np.ndarray, errors: np.ndarray):
    """p, dp, d2p of ``w WN(e; sigma) + (1 - w) / 2pi``; theta = (w, sigma), errors [n] in
    (-pi, pi]. The wrap sum keeps |k| <= 1 + 4 sigma / pi: every term left out has
    |z| >= 8 + 3 pi / sigma (relative size < 1e-14). NaN beyond ``SIGMA_MAX`` (a fit never
    goes there: the wrapped normal is then uniform to 1e-8)."""
    w, sigma = theta
    if not sigma <= SIGMA_MAX:
        nan = np.full(len(errors), np.nan)
        return nan, np.stack([nan, nan], axis=1), np.stack([np.stack([nan, nan], axis=1)] * 2, 1)
    k = 1 + math.ceil(4 * sigma / math.pi)
    wraps = 2 * math.pi * np.arange(-k, k + 1)
    z = (errors[:, None] + wraps) / sigma  # [n, K]
    g = np.exp(-0.5 * z**2) / (math.sqrt(2 * math.pi) * sigma)
    f, df = g.sum(axis=1), (g * (z**2 - 1)).sum(axis=1) / sigma
    d2f = (g * (z**4 - 5 * z**2 + 2)).sum(axis=1) / sigma**2
    return _weighted_terms(w, f, df, d2f)


def _weighted_terms(w: float, f: np.ndarray, df: np.ndarray, d2f: np.ndarray):
    """p, dp, d2p of ``w f + (1 - w) / 2pi`` in (w, s) from f and its s-derivatives [n]."""
    p = w * f + (1 - w) * UNIFORM
    dp = np.stack([f - UNIFORM, w * df], axis=1)
    d2p = np.zeros((len(p), 2, 2))
    d2p[:, 0, 1] = d2p[:, 1, 0] = df
    d2p[:, 1, 1] = w * d2f
    return p, dp, d2p


def swap_terms(theta: np.ndarray, cos_target: np.ndarray, cos_nontarget: np.ndarray):
    """p, dp, d2p of the swap model. theta = (kappa, p_target, p_nontarget), or (kappa,
    p_target) when there are no non-targets; cos_target: [n], cos_nontarget: [n, m] the
    cosines of each report's offsets from its target and non-targets."""
    kappa, p_t = theta[0], theta[1]
    m = cos_nontarget.shape[1]
    p_n = theta[2] if m else 0.0
    f, df, d2f = von_mises_terms(cos_target, kappa)
    if m:
        g, dg, d2g = (x.mean(axis=1) for x in von_mises_terms(cos_nontarget, kappa))
    else:
        g = dg = d2g = np.zeros_like(f)
    p = p_t * f + p_n * g + (1 - p_t - p_n) * UNIFORM
    size = len(theta)
    dp = np.stack([p_t * df + p_n * dg, f - UNIFORM, g - UNIFORM], axis=1)[:, :size]
    d2p = np.zeros((len(p), 3, 3))
    d2p[:, 0, 0] = p_t * d2f + p_n * d2g
    d2p[:, 0, 1] = d2p[:, 1, 0] = df
    d2p[:, 0, 2] = d2p[:, 2, 0] = dg
    return p, dp, d2p[:, :size, :size]


def log_likelihood(p: np.ndarray, dp: np.ndarray, d2p: np.ndarray):
    """``log L`` (a number), its gradient [P] and Hessian [P, P] from a model's terms."""
    p = np.maximum(p, _TINY)
    score = dp / p[:, None]  # [n, P]
    # einsum, not a BLAS product: a threaded BLAS is slow on a busy machine
    hessian = np.einsum("nij->ij", d2p / p[:, None, None]) - np.einsum("ni,nj->ij", score, score)
    return float(np.log(p).sum()), score.sum(axis=0), hessian


def maximise(terms, natural, starts) -> tuple[np.ndarray, float, np.ndarray]:
    """Maximise ``log L`` of ``terms(theta)`` over unconstrained u from each start; keep the best.

    terms: theta [P] -> (p, dp, d2p); natural: u [P] -> (theta [P], d theta / d u [P, P]);
    starts: points u [P]. Returns the best theta [P], log L there and its Hessian [P, P].
    """
    best = max((_ascend(terms, natural, np.array(s, dtype=float)) for s in starts),
               key=lambda fit: fit[1])  # fmt: skip
    theta = natural(best[0])[0]
    value, _, hessian = log_likelihood(*terms(theta))
    return theta, value, hessian


def _ascend(terms, natural, u: np.ndarray) -> tuple[np.ndarray, float]:
    """Levenberg-Marquardt ascent of log L from u: damped Newton steps on the curvature
    ``J^T (-H) J`` (exact at an interior optimum), the damping raised after a step that
    fails to increase log L and lowered after one that succeeds. Returns (u, log L)."""
    value, gradient, curvature = _in_free(terms, natural, u)
    damping = 1e-3
    for _ in range(_MAX_STEPS if gradient is not None else 0):  # none from a start at -inf
        if np.max(np.abs(gradient)) <= _GTOL * (1 + abs(value)) or damping > 1e12:
            break
        scale = np.diag(np.abs(np.diag(curvature)) + 1e-12)
        try:
            step = np.linalg.solve(curvature + damping * scale, gradient)
        except np.linalg.LinAlgError:
            damping *= 4
            continue
        trial = _in_free(terms, natural, u + step)
        if trial[0] > value:
            u, (value, gradient, curvature) = u + step, trial
            damping = max(damping / 3, 1e-12)
        else:
            damping *= 4
    return u, value


def _in_free(terms, natural, u: np.ndarray):
    """log L at u, its gradient [P] and the curvature ``J^T (-H) J`` [P, P] in u."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        theta, jacobian = natural(u)
        value, gradient, hessian = log_likelihood(*terms(theta))
    if not (np.isfinite(value) and np.all(np.isfinite(hessian))):
        return -np.inf, None, None
    return value, jacobian.T @ gradient, -jacobian.T @ hessian @ jacobian


def covariance(hessian: np.ndarray) -> np.ndarray:
    """The inverse observed information ``(-H)^-1`` from the Hessian [P, P] of log L; NaN
    when -H is not positive definite (e.g. a parameter that the data do not determine)."""
    try:
        np.linalg.cholesky(-hessian)
    except np.linalg.LinAlgError:
        return np.full_like(hessian, np.nan)
    return np.linalg.inv(-hessian)


def weight_and_scale(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """u = (logit w, log s) -> theta = (w, s) and its Jacobian [2, 2]."""
    w, s = special.expit(u[0]), np.exp(u[1])
    return np.array([w, s]), np.diag([w * (1 - w), s])


def swap_parameters(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """u = (log kappa, logits of p_target[, p_nontarget] against p_uniform) -> theta =
    (kappa, p_target[, p_nontarget]) and its Jacobian [P, P]."""
    kappa = np.exp(u[0])
    weights = special.softmax(np.append(u[1:], 0.0))[:-1]
    jacobian = np.zeros((len(u), len(u)))
    jacobian[0, 0] = kappa
    jacobian[1:, 1:] = np.diag(weights) - np.outer(weights, weights)
    return np.concatenate([[kappa], weights]), jacobian
