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
    def forward(ctx, drive, gate_drive, x0, w_t, wg_t, alpha: float, activation: str):
        f = _ACTIVATIONS_OUT[activation]
        states, rates = torch.empty_like(drive), torch.empty_like(drive)  # [T, B, N]
        currents, gates = torch.empty_like(drive), torch.empty_like(drive)
        x = x0
        for t in range(drive.shape[0]):
            r = f(x, rates[t])
            c = torch.mm(r, w_t, out=currents[t])
            s = torch.sigmoid(torch.addmm(gate_drive[t], r, wg_t), out=gates[t])
            x = torch.lerp(x, torch.addcmul(drive[t], s, c), alpha, out=states[t])
        ctx.save_for_backward(w_t, wg_t, rates, currents, gates)
        ctx.alpha, ctx.activation = alpha, activation
        return states

    @staticmethod
    def backward(ctx, grad_states):
        w_t, wg_t, rates, currents, gates = ctx.saved_tensors
        alpha, n_steps = ctx.alpha, rates.shape[0]
        grad_states = grad_states.contiguous()
        gains = _derivative(ctx.activation, rates)  # f'(x_t) from r_t: [T, B, N]
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
        return grad_drive, grad_gate, grad_x0, grad_w_t, grad_wg_t, None, None


def gated_scan(drive, gate_drive, x0, w_t, wg_t, alpha: float, activation: str) -> torch.Tensor:
    """Euler-integrate the gated leaky RNN; drive, gate_drive: [T, B, N]; x0: [B, N];
    w_t, wg_t: [N, N] transposed recurrent and gate weights (pre, post). Returns [T, B, N]."""
    x0 = x0.expand_as(drive[0]).contiguous()
    return _GatedScan.apply(drive, gate_drive, x0, w_t, wg_t, alpha, activation)
