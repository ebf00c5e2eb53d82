"""Logistic regression by maximum likelihood: Newton's method (IRLS) with step halving and an
optional ridge penalty. The psychometric fit and the two-step stay regression both use it."""

from __future__ import annotations

import numpy as np

MAX_ITER = 100


def newton_logistic(x: np.ndarray, y: np.ndarray, *, ridge: float = 0.0):
    """Maximise the (ridge-penalised) logistic log-likelihood of ``y`` [N] (0/1) on the design
    ``x`` [N, K] by Newton's method with step halving (every iteration raises the likelihood).

    Returns the coefficients [K] and the Hessian of the penalised negative log-likelihood
    [K, K] at the optimum (the observed Fisher information: its inverse is the covariance).
    """
    beta = np.zeros(x.shape[1])
    penalty = ridge * np.eye(x.shape[1])
    objective = penalised_nll(x, y, beta, ridge)
    for _ in range(MAX_ITER):
        p = 1.0 / (1.0 + np.exp(-(x @ beta)))
        gradient = x.T @ (p - y) + ridge * beta
        hessian = (x * (p * (1 - p))[:, None]).T @ x + penalty
        step = np.linalg.solve(hessian, gradient)
        t = 1.0
        while (new := penalised_nll(x, y, beta - t * step, ridge)) > objective and t > 1e-8:
            t /= 2
        beta, objective = beta - t * step, new
        if np.max(np.abs(t * step)) < 1e-10:
            break
    p = 1.0 / (1.0 + np.exp(-(x @ beta)))
    return beta, (x * (p * (1 - p))[:, None]).T @ x + penalty


def penalised_nll(x: np.ndarray, y: np.ndarray, beta: np.ndarray, ridge: float) -> float:
    """The negative log-likelihood of ``beta`` plus ``ridge / 2 |beta|^2``."""
    eta = x @ beta
    return float(np.sum(np.logaddexp(0.0, eta) - y * eta) + 0.5 * ridge * beta @ beta)
