"""Response heterogeneity (seed 004): how unequally the units of a rate RNN answer a kick.

From states ``x [B, N]``, one noise-free Euler step without task input,

    x' = x + alpha (W f(x) + b - x),

with a current ``scale`` added to unit j's input. ``resp_j`` measures unit j's response and
``H = Var_j(resp_j)`` (unbiased) how unequal the responses are:

- the finite-difference proxy (seed 004's ``compute_response_heterogeneity``, ``exact=False``):
  ``resp_j = ||f(x' + alpha scale e_j) - f(x)||``, the change of the rates over the step, so it
  includes the unperturbed drift ``f(x') - f(x)``;
- the exact variant (``exact=True``): ``resp_j = ||d f(x') / d I_j|| = alpha |f'(x'_j)|``, the
  Jacobian of the rates after the step with respect to a unit current into j (``scale``
  unused; no drift).

Seed 004's network reads its state h through tanh inside the step (``h' = (1 - alpha) h +
alpha tanh(W h + u + b)``) and perturbs the current inside the tanh; rnnbook's rate RNN has
the current-based form, where a current moves the state x linearly, so here the response is
measured on the rates ``f(x)``, the quantity the readout and the recurrence read (as h is in
the original). With f the identity, W = 0, b = 0 and x = 0, every resp_j of the proxy is
``alpha scale`` and H = 0.
"""

from __future__ import annotations

import torch


def response_heterogeneity(
    x: torch.Tensor, weights, alpha, activation, *, scale: float = 0.1, exact: bool = False
) -> torch.Tensor:
    """[B] H of each state (module docstring), differentiable.

    x: [B, N] states; weights: the effective weights (``recurrent [N, N]``, ``bias [N]``);
    alpha: dt / tau, a number or [N]; activation: the rate function (``f(x)`` and
    ``derivative(r)``, ``rnnbook.models.rates``); scale: the kick's current (state units).
    """
    return unit_responses(x, weights, alpha, activation, scale=scale, exact=exact).var(dim=-1)


def unit_responses(
    x: torch.Tensor, weights, alpha, activation, *, scale: float = 0.1, exact: bool = False
) -> torch.Tensor:
    """[B, N] ``resp_j`` of each state and unit j (arguments: :func:`response_heterogeneity`)."""
    rates = activation(x)
    stepped = x + alpha * (rates @ weights.recurrent.T + weights.bias - x)  # [B, N]
    alpha = torch.as_tensor(alpha, dtype=x.dtype, device=x.device).expand(x.shape[-1])
    if exact:
        return alpha * activation.derivative(activation(stepped)).abs()
    kick = torch.diag(alpha * scale)  # [N (j), N]
    moved = activation(stepped[:, None, :] + kick) - rates[:, None, :]  # [B, N (j), N]
    return moved.norm(dim=-1)
