"""Gradient attribution: how backpropagation through time assigns credit to the units.

:func:`collect_gradients` re-runs a trained network step by step (noise-free, through autograd,
never the trainer) and collects the *total* BPTT adjoints of a loss ``L``:

    grad_rates[b, t]  = dL/dr_t    the rate r_t = f(x_t) the unit sends at step t (the
                                   readout's y_t and the recurrence of step t + 1 read it);
                                   seed 000's ``grad_h`` (its hidden state h_t is the rate)
    grad_states[b, t] = dL/dx_t    the state after step t's input; with no leak (alpha = 1)
                                   x_t = W r_{t-1} + W_in u_t + b is seed 000's pre-activation,
                                   so this is its ``grad_u``
    grad_inputs[b, t] = dL/du_t    input saliency

where "total" means through every later step, as ``torch.autograd.grad`` with respect to the
intermediate tensors gives it. :func:`credit_metrics` turns them into seed 000's metrics
(``experiments/ei_gradient/src/metrics.py``) per population (excitatory, inhibitory): timecourses
of the raw L2 norm, the per-unit RMS, the mean |g| (of dL/dr and of dL/dx), the cosine between
a population's rate vector and its own gradient; per unit the summed and mean |g| ("backprop
weight") and the diagonal empirical Fisher mean (dL/dr)^2; their population means and Gini
coefficients; the mean |g| in the fixation and decision periods; and the input saliency map.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields

import torch

from rnnbook.analysis.results import Result

EPS = 1e-12  # in the cosine's denominator, as the original
POPULATIONS = ("E", "I")


@dataclass(frozen=True, eq=False)
class Gradients(Result):
    """What :func:`collect_gradients` returns; tensors [B, T, ...] on the CPU.

    rates, states:             [B, T, N] r_t and x_t of the noise-free rollout.
    inputs:                    [B, T, n_in] the inputs u_t.
    grad_rates, grad_states:   [B, T, N] dL/dr_t and dL/dx_t (total adjoints; module docstring).
    grad_inputs:               [B, T, n_in] dL/du_t.
    excitatory:                [N] bool, the excitatory units (all True without Dale's law).
    loss:                      the loss L of the rollout.
    """

    rates: torch.Tensor
    states: torch.Tensor
    inputs: torch.Tensor
    grad_rates: torch.Tensor
    grad_states: torch.Tensor
    grad_inputs: torch.Tensor
    excitatory: torch.Tensor
    loss: float


def collect_gradients(model, inputs, loss: Callable, *, h0=None) -> Gradients:
    """The BPTT adjoints of ``loss`` for ``model`` (a ``RateRNN``) on ``inputs [B, T, n_in]``.

    loss: ``loss(outputs [B, T, n_out], rates [B, T, N]) -> scalar tensor``, e.g. the task
          loss of the trials the inputs come from. The rollout is noise-free (the model's noise
          is not drawn); ``h0 [B, N]`` is the initial state (zeros if None). The model is not
          changed and no parameter gradient is accumulated.
    """
    inputs = torch.as_tensor(inputs)
    if inputs.ndim != 3 or inputs.shape[-1] != model.config.n_in or 0 in inputs.shape:
        raise ValueError(
            f"inputs must be [B, T, n_in = {model.config.n_in}] with B, T >= 1; got "
            f"{tuple(inputs.shape)}"
        )
    dtype = next(model.parameters()).dtype
    u = inputs.to(dtype).detach().requires_grad_(True)
    x = u.new_zeros(len(u), model.config.n_rec) if h0 is None else torch.as_tensor(h0).to(u)
    with torch.enable_grad():
        states, rates = _unrolled(model, u, x)
        weights = model.effective_weights()
        r = torch.stack(rates, dim=1)  # [B, T, N]
        outputs = r @ weights.readout.T + weights.readout_bias
        value = loss(outputs, r)
        grads = torch.autograd.grad(value, [*rates, *states, u])
    n = len(rates)
    signs = getattr(model.recurrence, "signs", None)
    excitatory = torch.ones(model.config.n_rec, dtype=torch.bool) if signs is None else signs > 0
    return Gradients(
        rates=r.detach().cpu(),
        states=torch.stack(states, dim=1).detach().cpu(),
        inputs=inputs.detach().cpu(),
        grad_rates=torch.stack(grads[:n], dim=1).cpu(),
        grad_states=torch.stack(grads[n : 2 * n], dim=1).cpu(),
        grad_inputs=grads[-1].cpu(),
        excitatory=excitatory.detach().cpu(),
        loss=float(value.detach()),
    )


def _unrolled(model, u, x):
    """The states x_t and rates r_t = f(x_t), t = 0 .. T-1, as lists of graph nodes: the
    Euler step of ``RateRNN.forward``, x_t = x_{t-1} + dt * velocity(x_{t-1}, u_t), with the
    rate r_{t-1} the recurrence reads being the very node the readout read."""
    states, rates = [], []
    r = model.activation(x)
    for t in range(u.shape[1]):
        x = x + model.config.dt * model.velocity(x, u[:, t], rates=r)
        r = model.activation(x)
        states.append(x)
        rates.append(r)
    return states, rates


def gini(values) -> float:
    """The Gini coefficient of non-negative ``values [n]``: 0 when all are equal, (n - 1) / n
    when one holds everything. ``2 sum_k k x_(k) / (n sum x) - (n + 1) / n``, x sorted
    ascending, k = 1 .. n (the original's formula); 0 for an all-zero vector."""
    x = torch.as_tensor(values, dtype=torch.float64).reshape(-1)
    if len(x) == 0 or not torch.isfinite(x).all() or (x < 0).any():
        raise ValueError(f"gini: values must be finite, non-negative and non-empty; got {x}")
    total = x.sum()
    if total == 0:
        return 0.0
    n = len(x)
    k = torch.arange(1, n + 1, dtype=torch.float64)
    return float(2 * (k * x.sort().values).sum() / (n * total) - (n + 1) / n)


def cosine(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Cosine of the angle between ``a`` and ``b`` along the last axis (EPS in the
    denominator, so a zero vector gives 0)."""
    return (a * b).sum(-1) / (a.norm(dim=-1) * b.norm(dim=-1) + EPS)


@dataclass(frozen=True, eq=False)
class CreditMetrics(Result):
    """Seed 000's gradient-attribution metrics of one :class:`Gradients` (spec section 0.7).

    Timecourses, dicts by population "E" / "I" of [T] tensors, each a mean over trials:
        l2:       |g_t[pop]|_2 (raw L2 norm over the population's units; grows with its size)
        rms:      sqrt(mean_{i in pop} g^2) (per-unit RMS: compares populations of any size)
        mean_abs: mean_{i in pop} |g|;  mean_abs_state: the same of dL/dx_t
        cos:      cos(r_t[pop], g_t[pop]), a population's rates against its own gradient
    Per unit, [N] tensors: wbp_sum = sum_{t,b} |g|, wbp_mean = mean_{t,b} |g|,
        fisher = mean_{t,b} g^2 (diagonal empirical Fisher w.r.t. the rates).
    summary: {"E": {...}, "I": {...}}: mean and Gini of wbp_sum, wbp_mean and fisher over the
        population's units, and fixation / decision: per unit the mean |g| over the steps of
        the period, then the mean over the population's units (NaN without a period).
    saliency: [n_in, T] mean_b |dL/du|; saliency_fixation, saliency_decision: [n_in, T] the
        mean over the trials in that period at each step (NaN where none is).
    excitatory: [N] bool.
    """

    l2: dict
    rms: dict
    mean_abs: dict
    mean_abs_state: dict
    cos: dict
    wbp_sum: torch.Tensor
    wbp_mean: torch.Tensor
    fisher: torch.Tensor
    summary: dict
    saliency: torch.Tensor
    saliency_fixation: torch.Tensor
    saliency_decision: torch.Tensor
    excitatory: torch.Tensor


def credit_metrics(gradients: Gradients, *, fixation=None, decision=None) -> CreditMetrics:
    """Seed 000's metrics of ``gradients``; ``fixation``, ``decision``: [B, T] masks of the
    periods (e.g. ``trials.periods["fixation"]``), or None."""
    g, h = gradients.grad_rates.double(), gradients.rates.double()
    gu = gradients.grad_states.double()
    pops = {"E": gradients.excitatory, "I": ~gradients.excitatory}
    masks = {"fixation": fixation, "decision": decision}
    for name, mask in masks.items():
        if mask is not None and tuple(torch.as_tensor(mask).shape) != tuple(g.shape[:2]):
            raise ValueError(f"{name} must be a [B, T] = {tuple(g.shape[:2])} mask")
    per_pop = {
        "l2": {p: g[..., m].norm(dim=-1).mean(0) for p, m in pops.items()},
        "rms": {p: g[..., m].square().mean(-1).sqrt().mean(0) for p, m in pops.items()},
        "mean_abs": {p: g[..., m].abs().mean(-1).mean(0) for p, m in pops.items()},
        "mean_abs_state": {p: gu[..., m].abs().mean(-1).mean(0) for p, m in pops.items()},
        "cos": {p: cosine(h[..., m], g[..., m]).mean(0) for p, m in pops.items()},
    }
    per_unit = {
        "wbp_sum": g.abs().sum((0, 1)),
        "wbp_mean": g.abs().mean((0, 1)),
        "fisher": g.square().mean((0, 1)),
    }
    summary = {p: _population_summary(per_unit, g, m, masks) for p, m in pops.items()}
    gx = gradients.grad_inputs.double().abs()  # [B, T, n_in]
    return CreditMetrics(
        **per_pop,
        **per_unit,
        summary=summary,
        saliency=gx.mean(0).T,
        saliency_fixation=_masked_mean_over_trials(gx, fixation).T,
        saliency_decision=_masked_mean_over_trials(gx, decision).T,
        excitatory=gradients.excitatory,
    )


def _population_summary(per_unit: dict, g: torch.Tensor, units, masks: dict) -> dict:
    """Mean and Gini of each per-unit measure over ``units``, and the period averages."""
    out = {}
    for name, values in per_unit.items():
        picked = values[units]
        out[f"{name}_mean"] = float(picked.mean()) if len(picked) else float("nan")
        out[f"{name}_gini"] = gini(picked) if len(picked) else float("nan")
    for period, mask in masks.items():
        out[period] = _period_mean_abs(g[..., units], mask)
    return out


def _period_mean_abs(g: torch.Tensor, mask) -> float:
    """Per unit the mean |g| over the (b, t) in ``mask``, then the mean over the units."""
    if mask is None or g.shape[-1] == 0:
        return float("nan")
    m = torch.as_tensor(mask, dtype=torch.bool)
    if not m.any():
        return float("nan")
    return float(g[m].abs().mean(0).mean())


def _masked_mean_over_trials(values: torch.Tensor, mask) -> torch.Tensor:
    """[T, C]: at each step, the mean of ``values [B, T, C]`` over the trials in ``mask [B, T]``
    (weights), NaN at a step with none."""
    if mask is None:
        return torch.full(values.shape[1:], float("nan"), dtype=values.dtype)
    w = torch.as_tensor(mask).to(values.dtype)[..., None]  # [B, T, 1]
    return (values * w).sum(0) / w.sum(0).where(w.sum(0) > 0, torch.tensor(float("nan")))


def mean_credit(metrics) -> CreditMetrics:
    """The elementwise mean of several :class:`CreditMetrics` of one network (e.g. one per
    batch of trials): every timecourse, per-unit measure, summary number and saliency map."""
    metrics = list(metrics)
    if not metrics:
        raise ValueError("mean_credit: no metrics to average")

    def mean(values):
        first = values[0]
        if isinstance(first, dict):
            return {k: mean([v[k] for v in values]) for k in first}
        if isinstance(first, torch.Tensor) and first.dtype != torch.bool:
            return torch.stack(values).mean(0)
        if isinstance(first, float):
            return sum(values) / len(values)
        return first  # the excitatory mask: the same network throughout

    return CreditMetrics(
        **{f.name: mean([getattr(m, f.name) for m in metrics]) for f in fields(CreditMetrics)}
    )
