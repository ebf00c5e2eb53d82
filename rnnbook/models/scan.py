"""The leaky Euler scan with a hand-written backward pass through time.

    x_{t+1} = lerp(x_t, f(x_t) @ w_t + drive_t, alpha),     states[t] = x_{t+1}

Autograd records about eight small ops per time step and replays them one by one. This
backward runs four or five small ones per step on data still in cache (the matmul, f' from
the rates kept by the forward pass, one add and one fused multiply-add) and computes the
recurrent weight gradient for all steps in one large matmul at the end.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

_ACTIVATIONS = {"relu": torch.relu, "tanh": torch.tanh, "softplus": F.softplus}
# the same functions writing into a given tensor (no allocation per step)
_ACTIVATIONS_OUT = {
    "relu": lambda x, out: torch.clamp_min(x, 0.0, out=out),
    "tanh": lambda x, out: torch.tanh(x, out=out),
    "softplus": lambda x, out: out.copy_(F.softplus(x)),
}


def _derivative(name: str, r: torch.Tensor) -> torch.Tensor:
    """f'(x) from the rates r = f(x) alone."""
    if name == "relu":
        return (r > 0).to(r.dtype)
    if name == "tanh":
        return 1 - r * r
    return -torch.expm1(-r)  # softplus: sigmoid(x) = 1 - exp(-softplus(x))


_BULK = 1 << 23  # up to this many state entries, f' is computed for all steps in one op


class _LeakyScan(torch.autograd.Function):
    @staticmethod
    def forward(ctx, drive, x0, w_t, alpha: float, activation: str, keep=None, value=None):
        f = _ACTIVATIONS_OUT[activation]
        states = torch.empty_like(drive)  # [T, B, N]: x_{t+1}
        rates = torch.empty_like(drive)  # [T, B, N]: r_t = f(x_t), kept for the backward pass
        raw = None if keep is None else torch.empty_like(drive)  # f(x_t) before the intervention
        x = x0
        step = torch.addmm if w_t.dim() == 2 else torch.baddbmm  # stacked: w_t [K, N, N]
        for t in range(drive.shape[0]):
            if raw is None:
                r = f(x, rates[t])
            else:  # an intervention: r_t = keep_t * f(x_t) + value_t
                r = torch.addcmul(value[t], f(x, raw[t]), keep[t], out=rates[t])
            x = torch.lerp(x, step(drive[t], r, w_t), alpha, out=states[t])
        ctx.save_for_backward(x0, w_t, states, rates, raw, keep)
        ctx.alpha, ctx.activation = alpha, activation
        return states

    @staticmethod
    def backward(ctx, grad_states):
        x0, w_t, states, rates, raw, keep = ctx.saved_tensors
        alpha, n_steps, activation = ctx.alpha, states.shape[0], ctx.activation
        # f' at x_t, times the intervention's keep factor (dr_t/dx_t = keep_t f'(x_t))
        pre = rates if raw is None else raw
        w_alpha = w_t.transpose(-1, -2) * alpha  # alpha W: [(K,) N_post, N_pre]
        grad_states = grad_states.contiguous()
        # a_t = dL/dx_t, carried backwards; dL/ddrive_{t-1} = alpha a_t (scaled once at the end)
        grad_drive = torch.empty_like(states)
        a = grad_drive[-1].copy_(grad_states[-1])
        # small problems: f' in one op; large ones: per step, while the rates are in cache
        gains = None
        if rates.numel() <= _BULK or keep is not None:
            gains = _derivative(activation, pre)
            if keep is not None:
                gains.mul_(keep[:, None])
        for t in range(n_steps - 1, -1, -1):
            gain = gains[t] if gains is not None else _derivative(activation, pre[t])
            carried = grad_states[t - 1].add(a, alpha=1 - alpha) if t > 0 else a * (1 - alpha)
            out = grad_drive[t - 1] if t > 0 else None
            a = torch.addcmul(carried, a @ w_alpha, gain, out=out)
        grad_x0 = a if ctx.needs_input_grad[1] else None
        grad_drive.mul_(alpha)
        grad_w_t = None
        if ctx.needs_input_grad[2] and w_t.dim() == 2:
            n = states.shape[-1]
            grad_w_t = rates.reshape(-1, n).T @ grad_drive.reshape(-1, n)
        elif ctx.needs_input_grad[2]:  # stacked: [T, K, B, N] -> per member [K, T*B, N]
            k, n = states.shape[1], states.shape[-1]
            members = [t.transpose(0, 1).reshape(k, -1, n) for t in (rates, grad_drive)]
            grad_w_t = members[0].transpose(1, 2) @ members[1]
        grad_keep = grad_value = None
        if ctx.needs_input_grad[5] or ctx.needs_input_grad[6]:  # differentiable interventions
            grad_rates = grad_drive @ w_t.transpose(-1, -2)  # dL/dr_t, [T, B, N]
            grad_value = grad_rates.sum(1) if ctx.needs_input_grad[6] else None
            grad_keep = (grad_rates * raw).sum(1) if ctx.needs_input_grad[5] else None
        return grad_drive, grad_x0, grad_w_t, None, None, grad_keep, grad_value


def leaky_scan(
    drive: torch.Tensor,
    x0: torch.Tensor,
    w_t: torch.Tensor,
    alpha: float,
    activation: str,
    keep: torch.Tensor | None = None,
    value: torch.Tensor | None = None,
) -> torch.Tensor:
    """Euler-integrate the leaky RNN over ``drive [T, B, N]`` from ``x0 [B, N]``.

    w_t: [N, N] the transposed recurrent weight (pre, post). Returns states [T, B, N].
    Stacked networks: drive [T, K, B, N], x0 [K, B, N], w_t [K, N, N].

    An intervention on the rates (``models.interventions``): the rate that step t feeds back
    is ``keep[t] * f(x_t) + value[t]`` (keep, value: [T, N], both given or both None; not for
    stacked networks). Both may require grad (saliency).
    """
    x0 = x0.expand_as(drive[0]).contiguous()
    return _LeakyScan.apply(drive, x0, w_t, alpha, activation, keep, value)
