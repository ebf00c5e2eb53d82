"""The gated leaky scan (``MultiplicativeGate``) with a hand-written backward through time.

    r_t = f(x_t),  c_t = r_t @ w_t,  s_t = sigmoid(gate_drive_t + r_t @ wg_t)
    x_{t+1} = lerp(x_t, drive_t + s_t * c_t, alpha),     states[t] = x_{t+1}

The forward keeps r, c and s; the backward runs six small ops per step and computes the
gradients of both recurrent weights in one large matmul each.
"""

from __future__ import annotations

import torch

from rnnbook.models.scan import _ACTIVATIONS_OUT, _derivative


class _GatedScan(torch.autograd.Function):
    @staticmethod
    def forward(ctx, drive, gate_drive, x0, w_t, wg_t, alpha: float, activation: str, keep, value):
        f = _ACTIVATIONS_OUT[activation]
        states, rates = torch.empty_like(drive), torch.empty_like(drive)  # [T, B, N]
        currents, gates = torch.empty_like(drive), torch.empty_like(drive)
        raw = None if keep is None else torch.empty_like(drive)  # f(x_t) before the intervention
        x = x0
        for t in range(drive.shape[0]):
            if raw is None:
                r = f(x, rates[t])
            else:  # an intervention: r_t = keep_t * f(x_t) + value_t
                r = torch.addcmul(value[t], f(x, raw[t]), keep[t], out=rates[t])
            c = torch.mm(r, w_t, out=currents[t])
            s = torch.sigmoid(torch.addmm(gate_drive[t], r, wg_t), out=gates[t])
            x = torch.lerp(x, torch.addcmul(drive[t], s, c), alpha, out=states[t])
        ctx.save_for_backward(w_t, wg_t, rates, currents, gates, raw, keep)
        ctx.alpha, ctx.activation = alpha, activation
        return states

    @staticmethod
    def backward(ctx, grad_states):
        w_t, wg_t, rates, currents, gates, raw, keep = ctx.saved_tensors
        alpha, n_steps = ctx.alpha, rates.shape[0]
        grad_states = grad_states.contiguous()
        # dr_t/dx_t = f'(x_t) (from the rates), times keep_t under an intervention
        gains = _derivative(ctx.activation, rates if raw is None else raw)  # [T, B, N]
        if keep is not None:
            gains.mul_(keep[:, None])
        # dL/dc_t = alpha a s_t; dL/dz_t = alpha a c_t s_t (1 - s_t); fold alpha into the weights
        slope = currents * gates * (1 - gates)
        w_alpha, wg_alpha = w_t.T * alpha, wg_t.T * alpha
        adjoint = torch.empty_like(rates)  # a_{t+1} = dL/dx_{t+1}
        a = adjoint[-1].copy_(grad_states[-1])
        for t in range(n_steps - 1, -1, -1):
            back = torch.addmm(torch.mm(a * gates[t], w_alpha), a * slope[t], wg_alpha)
            carried = grad_states[t - 1].add(a, alpha=1 - alpha) if t > 0 else a * (1 - alpha)
            a = torch.addcmul(carried, back, gains[t], out=adjoint[t - 1] if t > 0 else None)
        grad_x0 = a if ctx.needs_input_grad[2] else None
        grad_drive = adjoint.mul_(alpha)  # dL/ddrive_t = alpha a_{t+1}
        grad_gate = grad_drive * slope
        n = rates.shape[-1]
        flat_rates = rates.reshape(-1, n).T
        grad_w_t = (
            flat_rates @ (grad_drive * gates).reshape(-1, n) if ctx.needs_input_grad[3] else None
        )
        grad_wg_t = flat_rates @ grad_gate.reshape(-1, n) if ctx.needs_input_grad[4] else None
        grad_keep = grad_value = None
        if ctx.needs_input_grad[7] or ctx.needs_input_grad[8]:  # differentiable interventions
            grad_rates = torch.addmm(  # dL/dr_t through the current and the gate: [T, B, N]
                (grad_gate.reshape(-1, n) @ wg_t.T), (grad_drive * gates).reshape(-1, n), w_t.T
            ).view_as(rates)
            grad_value = grad_rates.sum(1) if ctx.needs_input_grad[8] else None
            grad_keep = (grad_rates * raw).sum(1) if ctx.needs_input_grad[7] else None
        return (
            grad_drive,
            grad_gate,
            grad_x0,
            grad_w_t,
            grad_wg_t,
            None,
            None,
            grad_keep,
            grad_value,
        )


def gated_scan(
    drive, gate_drive, x0, w_t, wg_t, alpha: float, activation: str, keep=None, value=None
) -> torch.Tensor:
    """Euler-integrate the gated leaky RNN; drive, gate_drive: [T, B, N]; x0: [B, N];
    w_t, wg_t: [N, N] transposed recurrent and gate weights (pre, post). Returns [T, B, N].

    keep, value: [T, N] or None, an intervention on the rates as in ``leaky_scan``."""
    x0 = x0.expand_as(drive[0]).contiguous()
    return _GatedScan.apply(drive, gate_drive, x0, w_t, wg_t, alpha, activation, keep, value)
