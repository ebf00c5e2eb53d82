"""Fixed and slow points of a network's noise-free dynamics at a constant input.

A fixed point ``x*`` of ``dx/dt = F(x, u)`` at a constant input ``u`` is a zero of the speed

    q(x) = 1/2 |tau * F(x, u)|^2        (state units squared: tau dx/dt is the state's pull)

:func:`find_fixed_points` minimises ``q`` from many initial states at once (Adam on a copy
of the states), polishes each point with damped Newton (Levenberg-Marquardt) steps that take
true zeros to machine precision, keeps the points with ``q < tol_q``, drops outliers and
duplicates, and linearises the dynamics there: the Jacobian ``dF/dx`` (per ms), its
eigenvalues and the point's stability (every real part below minus a small tolerance; the
kinds stable, marginal, saddle and source: :mod:`~rnnbook.analysis.fixed_point_result`).
Local minima of ``q`` above ``tol_q`` are *slow points*; ``keep_slow=True`` keeps them too.

The search never changes the model: it runs on a detached float64 copy. It needs only the
:class:`Dynamics` interface. After Sussillo & Barak (2013) and Golub & Sussillo's
FixedPointFinder (2018), whose defaults (relative outlier distance 10, unique tolerance 1e-3)
it keeps.
"""

from __future__ import annotations

import copy
import os
from typing import Any, Protocol

import torch

from rnnbook.analysis.fixed_point_result import (
    MARGINAL_RTOL,
    FixedPoints,
    eigenvalue_tolerance,
)
from rnnbook.runtime import torch_threads


class Dynamics(Protocol):
    """What the finder needs of a model (``RateRNN`` has it).

    config:     any object with ``n_rec``, and ``tau`` (ms, a number or an [n_rec] tensor)
                unless the model itself has a ``tau`` attribute (``RateRNN.tau``), which wins.
    velocity:   ``(x [K, n_rec], inputs [K, n_in]) -> dx/dt [K, n_rec]`` per ms, noise-free,
                differentiable in ``x``, each row depending only on its own state and input.
    activation: optional; the rate nonlinearity ``r = f(x)``, elementwise. When present the
                result also holds each point's rates and slopes ``f'(x)``.
    """

    config: Any

    def velocity(self, x: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor: ...


def find_fixed_points(
    model: Dynamics,
    inputs,
    initial_states,
    *,
    n_iter: int = 500,
    lr: float = 0.05,
    n_newton: int = 30,
    tol_q: float = 1e-10,
    tol_unique: float = 1e-3,
    outlier_distance: float | None = 10.0,
    keep_slow: bool = False,
    marginal_rtol: float = MARGINAL_RTOL,
    dtype: torch.dtype = torch.float64,
) -> FixedPoints:
    """Fixed points of ``model`` at constant ``inputs``, searched from ``initial_states``.

    inputs:           [n_in] one input for every start, or [K, n_in] one per start.
    initial_states:   [K, N] starting states (e.g. from :func:`sample_states`).
    n_iter, lr:       Adam steps on q (all starts at once; stops early once every start is
                      below ``tol_q`` or no longer improving) and their learning rate.
    n_newton:         at most this many Levenberg-Marquardt steps after Adam (0: none).
    tol_q:            keep points with q < tol_q (state units squared; see the module).
    tol_unique:       points closer than this (Euclidean) are one; the lowest q is kept.
    outlier_distance: drop points farther from the starts' centroid than this many times the
                      starts' mean distance to it (None: keep all). A strong input can pull
                      its fixed point far beyond the trajectories: use None to see it.
    keep_slow:        also keep the minima of q above ``tol_q`` (slow points; ``is_fixed``).
                      These include every local minimum of q, however fast: select the truly
                      slow ones by q, e.g. ``points[points.q < 1e-4]``.
    marginal_rtol:    a real part within this times the point's largest |eigenvalue| of zero
                      counts as zero (marginal; see ``fixed_point_result``).
    dtype:            the precision of the search (the model is copied in it).

    Returns a :class:`FixedPoints` on the CPU, sorted by q.
    """
    net = _detached_copy(model, dtype)
    device = _device(net)
    x0, u = _starts_and_inputs(model.config.n_rec, initial_states, inputs, device, dtype)
    tau = getattr(net, "tau", None)  # the model's, e.g. per-unit; else its config's
    tau = torch.as_tensor(model.config.tau if tau is None else tau, dtype=dtype, device=device)

    def pull(x, u):  # tau dx/dt: [..., N]
        return tau * net.velocity(x, u)

    with torch_threads(_threads()), torch.enable_grad():
        x, alive = _adam(pull, x0, u, n_iter=n_iter, lr=lr, tol_q=tol_q, tol_unique=tol_unique)
        x, u = x[alive], u[alive]
        index = _unique(x, u, _speed(pull, x, u), tol_unique)  # polish each basin once
        x, q, u = _newton(pull, x[index], u[index], n_steps=n_newton, tol_unique=tol_unique)
        keep = torch.ones_like(q, dtype=torch.bool) if keep_slow else q < tol_q
        if outlier_distance is not None:
            keep &= _within(x, x0, outlier_distance)
        index = keep.nonzero().squeeze(1)
        index = index[_unique(x[index], u[index], q[index], tol_unique)]
        found = (x[index], q[index], u[index])
        return _linearise(net, pull, *found, tau, len(x0), tol_q, marginal_rtol)


def _starts_and_inputs(n_rec: int, initial_states, inputs, device, dtype):
    """The starts [K, N] and one input per start [K, n_in], checked."""
    x0 = torch.as_tensor(initial_states).to(device, dtype)
    if x0.ndim != 2 or x0.shape[1] != n_rec or len(x0) == 0:
        raise ValueError(f"initial_states must be [K, {n_rec}]; got {x0.shape}")
    u = torch.as_tensor(inputs).to(device, dtype)
    u = u.expand(len(x0), -1) if u.ndim == 1 else u
    if len(u) != len(x0):
        raise ValueError(f"inputs [K, n_in] must have K = {len(x0)} rows; got {tuple(u.shape)}")
    return x0, u


def sample_states(
    states, n: int, *, generator: torch.Generator, noise: float = 0.0, mask=None
) -> torch.Tensor:
    """``n`` initial states drawn (with replacement) from trajectories ``states [B, T, N]``.

    mask:  [B, T] bool, the (trial, step) pairs to draw from (default: all).
    noise: standard deviation of Gaussian noise added to each drawn state.
    Returns [n, N].
    """
    states = torch.as_tensor(states)
    flat = states.reshape(-1, states.shape[-1])  # [B * T, N]
    if mask is not None:
        flat = flat[torch.as_tensor(mask, dtype=torch.bool).reshape(-1)]
    if len(flat) == 0:
        raise ValueError("no states to sample from (empty trajectories or mask)")
    picked = flat[torch.randint(len(flat), (n,), generator=generator)]
    if noise > 0:
        picked = picked + noise * torch.randn(picked.shape, generator=generator).to(picked)
    return picked


def _detached_copy(model, dtype: torch.dtype):
    """A copy of ``model`` in ``dtype`` whose tensors need no gradient (the model is untouched)."""
    net = copy.deepcopy(model)
    if isinstance(net, torch.nn.Module):
        net.requires_grad_(False).to(dtype)
    return net


def _threads() -> int:
    """One torch thread (``RNNBOOK_THREADS`` overrides): the search's matrices are small and
    shrink as starts converge; on 2 busy cores two threads took 3-10x the CPU time of one."""
    return int(os.environ.get("RNNBOOK_THREADS") or 1)


def _device(net) -> torch.device:
    tensors = [*net.parameters(), *net.buffers()] if isinstance(net, torch.nn.Module) else []
    return tensors[0].device if tensors else torch.device("cpu")


def _speed(pull, x, u) -> torch.Tensor:
    """[K] q = 1/2 |tau dx/dt|^2."""
    return 0.5 * pull(x, u).square().sum(dim=-1)


def _adam(pull, x0, u, *, n_iter: int, lr: float, tol_q: float, tol_unique: float):
    """Minimise q from every start at once with Adam. Every 50 steps a start leaves the
    active set when its q is below ``tol_q`` or improved by less than 1% (it is done), or when
    it is within ``tol_unique`` of an active start of lower q (it is dropped).
    Returns the states [K, N] and a mask [K] of those not dropped."""
    x, alive = x0.clone(), torch.ones(len(x0), dtype=torch.bool, device=x0.device)
    ids, xa, ua = torch.arange(len(x0), device=x0.device), x0.clone(), u
    m, v = torch.zeros_like(xa), torch.zeros_like(xa)  # Adam's moment estimates
    q_checked = torch.full((len(x0),), torch.inf, dtype=x0.dtype, device=x0.device)
    for step in range(1, n_iter + 1):
        xa.requires_grad_(True)
        q = _speed(pull, xa, ua)
        (grad,) = torch.autograd.grad(q.sum(), xa)
        xa, q = xa.detach(), q.detach()
        if step % 50 == 0:
            x[ids] = xa
            first = torch.zeros_like(alive[ids])
            first[_unique(xa, ua, q, tol_unique)] = True
            alive[ids[~first]] = False
            going = first & (q >= tol_q) & (q < 0.99 * q_checked)
            ids, xa, ua, m, v = ids[going], xa[going], ua[going], m[going], v[going]
            grad, q_checked = grad[going], q[going]
            if len(ids) == 0:
                break
        m.lerp_(grad, 0.1)
        v.lerp_(grad.square(), 0.001)
        xa -= lr * (m / (1 - 0.9**step)) / ((v / (1 - 0.999**step)).sqrt() + 1e-8)
    x[ids] = xa
    return x, alive


def _jacobians(pull, x, u) -> torch.Tensor:
    """[K, N, N] d pull / dx at each row of x [K, N] (rows of ``pull`` are independent)."""
    n = x.shape[1]
    chunk = max(1, 2**24 // n**2)  # points per backward pass: at most 2^24 Jacobian entries
    parts = []
    for xc, uc in zip(x.split(chunk), u.split(chunk), strict=True):
        xc = xc.detach().requires_grad_(True)
        rows = torch.eye(n, dtype=x.dtype, device=x.device)[:, None, :].expand(n, len(xc), n)
        (grad,) = torch.autograd.grad(pull(xc, uc), xc, rows, is_grads_batched=True)
        parts.append(grad.transpose(0, 1))  # [k, N (row i), N]
    return torch.cat(parts)


def _newton(pull, x, u, *, n_steps: int, tol_unique: float):
    """Levenberg-Marquardt on pull(x) = 0, point by point: a step is kept only if q drops;
    a point stops once its steps reach round-off (or its damping blows up), and points that
    meet (within ``tol_unique``) are merged. Returns the points [P, N], q [P] and inputs."""
    q = _speed(pull, x, u)
    damping = torch.full_like(q, 1e-3)
    jac = _jacobians(pull, x, u) if n_steps and len(x) else None  # [K, N, N]
    active = torch.ones(len(x), dtype=torch.bool, device=x.device)
    for _ in range(n_steps):
        idx = active.nonzero().squeeze(1)
        if len(idx) == 0:
            break
        step = _damped_step(jac[idx], pull(x[idx], u[idx]), damping[idx])  # [A, N]
        x_new = x[idx] - step
        q_new = _speed(pull, x_new, u[idx])
        better = q_new < q[idx]
        stalled = better & (q_new > (1 - 1e-10) * q[idx])  # at a minimum of q above 0
        fresh = torch.zeros_like(active)
        fresh[idx[better]] = True
        x[fresh], q[fresh] = x_new[better], q_new[better]
        damping[idx] = torch.where(better, damping[idx] / 10, damping[idx] * 10)
        tiny = step.norm(dim=1) <= 1e-13 * (1 + x[idx].norm(dim=1))
        active[idx[tiny | stalled | (q[idx] == 0) | (damping[idx] > 1e10)]] = False
        keep = _unique(x, u, q, tol_unique)
        x, q, u, damping, jac, active, fresh = (
            t[keep] for t in (x, q, u, damping, jac, active, fresh)
        )
        fresh &= active  # moved and still going: a new Jacobian
        if fresh.any():
            jac[fresh] = _jacobians(pull, x[fresh], u[fresh])
    return x, q, u


def _damped_step(jac, f, damping):
    """(J^T J + d * mean diag(J^T J) I)^-1 J^T f for each row: [A, N]."""
    jtj = jac.transpose(1, 2) @ jac  # [A, N, N]
    scale = (damping * jtj.diagonal(dim1=1, dim2=2).mean(dim=1)).clamp_min(1e-300)
    jtj.diagonal(dim1=1, dim2=2).add_(scale[:, None])
    return torch.linalg.solve(jtj, (jac.transpose(1, 2) @ f[..., None]).squeeze(-1))


def _within(x, x0, scale: float) -> torch.Tensor:
    """[K] bool: x no farther from the centroid of x0 than ``scale`` mean distances of x0."""
    centroid = x0.mean(dim=0)
    spread = (x0 - centroid).norm(dim=1).mean()
    if spread == 0:  # one start (or all equal): no scale to judge by
        return torch.ones(len(x), dtype=torch.bool, device=x.device)
    return (x - centroid).norm(dim=1) <= scale * spread


def _unique(x, u, q, tol: float) -> torch.Tensor:
    """Indices (by increasing q) of the points kept when each point within ``tol`` of one of
    lower q, at the same input (within ``tol``), is merged into it."""
    order = q.argsort()
    xu = torch.cat([x, u], dim=1)[order]
    distance = torch.cdist(xu, xu)  # [K, K]
    kept = torch.ones(len(x), dtype=torch.bool, device=x.device)
    for i in range(len(x)):
        if kept[i]:
            kept[i + 1 :] &= distance[i, i + 1 :] >= tol
    return order[kept]


def _linearise(net, pull, x, q, u, tau, n_initial: int, tol_q: float, rtol: float) -> FixedPoints:
    n = x.shape[1]
    jac = _jacobians(pull, x, u) if len(x) else x.new_zeros(0, n, n)
    jacobian = jac / tau.expand(n)[:, None]  # d(dx/dt)/dx, per ms: row i divided by tau_i
    eigvals = torch.linalg.eigvals(jacobian)
    eigvals = eigvals.gather(1, eigvals.real.argsort(dim=1, descending=True))
    rates = gains = None
    if callable(getattr(net, "activation", None)):  # elementwise: f'(x) is a gradient
        x_ = x.detach().requires_grad_(True)
        rates = net.activation(x_)
        (gains,) = torch.autograd.grad(rates.sum(), x_) if len(x) else (torch.zeros_like(x),)

    def cpu(t):
        return None if t is None else t.detach().cpu()

    return FixedPoints(
        x=cpu(x),
        q=cpu(q),
        jacobian=cpu(jacobian),
        eigvals=cpu(eigvals),
        is_stable=cpu((eigvals.real < -eigenvalue_tolerance(eigvals, rtol)).all(dim=1)),
        inputs=cpu(u),
        n_initial=n_initial,
        tol_q=tol_q,
        rates=cpu(rates),
        gains=cpu(gains),
        marginal_rtol=rtol,
    )
