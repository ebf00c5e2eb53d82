"""The gated leaky scan (``MultiplicativeGate``) with a hand-written backward through time.

    r_t = f(x_t),  c_t = r_t @ w_t,  s_t = sigmoid(gate_drive_t + r_t @ wg_t)
    x_{t+1} = lerp(x_t, drive_t + s_t * c_t, alpha),     states[t] = x_{t+1}, rates[t] = r_{t+1}

The forward keeps r, c and s; the backward runs six small ops per step and computes the
gradients of both recurrent weights in one large matmul each. As ``leaky_scan``, it returns
the rates too, and a gradient on them enters the per-step matmul as its bias.
"""

from __future__ import annotations

import torch

from rnnbook.models.rates import as_rate_function
from rnnbook.models.scan import (
    complement,
    edit_at,
    edit_grads,
    laid_out_as,
    rate_step,
    scaled_add,
)


class _GatedScan(torch.autograd.Function):
    @staticmethod
    def forward(ctx, drive, gate_drive, x0, w_t, wg_t, alpha, f, keep, value):
        n_steps = drive.shape[0]
        states = torch.empty_like(drive)  # [T, B, N]
        currents, gates = torch.empty_like(drive), torch.empty_like(drive)
        rates = drive.new_empty((n_steps + 1, *drive.shape[1:]))  # r_0 .. r_T
        raw = None if keep is None else torch.empty_like(rates)  # f(x_t) before the intervention
        x = x0
        w_t, wg_t = w_t.contiguous(), wg_t.contiguous()  # transposed views slow small GEMMs
        for t in range(n_steps):
            r = rate_step(f, x, rates[t], *edit_at(raw, keep, value, t))
            c = torch.mm(r, w_t, out=currents[t])
            s = torch.sigmoid(torch.addmm(gate_drive[t], r, wg_t), out=gates[t])
            x = torch.lerp(x, torch.addcmul(drive[t], s, c), alpha, out=states[t])
        rate_step(f, x, rates[n_steps], *edit_at(raw, keep, value, n_steps))
        alpha_saved = alpha if isinstance(alpha, torch.Tensor) else None
        ctx.save_for_backward(w_t, wg_t, states, rates, currents, gates, raw, keep, alpha_saved)
        ctx.alpha, ctx.f = (None if alpha_saved is not None else alpha), f
        ctx.set_materialize_grads(False)  # an output no loss reads gets None, not a zero tensor
        return states, rates[1:]

    @staticmethod
    def backward(ctx, grad_states, grad_rates):
        w_t, wg_t, states, rates, currents, gates, raw, keep, alpha_saved = ctx.saved_tensors
        alpha = ctx.alpha if alpha_saved is None else alpha_saved
        n_steps = states.shape[0]
        grad_states = None if grad_states is None else laid_out_as(grad_states, states)
        grad_rates = None if grad_rates is None else laid_out_as(grad_rates, states)
        # dr_t/dx_t = f'(x_t) (from the rates), times keep_t under an intervention: [T + 1, B, N]
        gains = ctx.f.derivative(rates if raw is None else raw)
        if keep is not None:
            gains.mul_(keep[:, None])
        # dL/dc_t = alpha a s_t; dL/dz_t = alpha a c_t s_t (1 - s_t); fold alpha (of the
        # postsynaptic unit) into the weights
        slope = currents * gates * (1 - gates)
        w_alpha, wg_alpha = (w_t * alpha).T.contiguous(), (wg_t * alpha).T.contiguous()
        decay = complement(alpha)
        adjoint = torch.empty_like(states)  # a_{t+1} = dL/dx_{t+1}
        a = adjoint[-1].copy_(grad_states[-1]) if grad_states is not None else adjoint[-1].zero_()
        if grad_rates is not None:
            a.addcmul_(grad_rates[-1], gains[n_steps])
        for t in range(n_steps - 1, -1, -1):
            if grad_rates is not None and t > 0:  # dL/dr_t's direct part as the matmul's bias
                through_w = torch.addmm(grad_rates[t - 1], a * gates[t], w_alpha)
            else:
                through_w = torch.mm(a * gates[t], w_alpha)
            back = torch.addmm(through_w, a * slope[t], wg_alpha)
            if t > 0 and grad_states is not None:
                carried = scaled_add(grad_states[t - 1], a, decay)
            else:
                carried = a * decay
            a = torch.addcmul(carried, back, gains[t], out=adjoint[t - 1] if t > 0 else None)
        grad_x0 = a if ctx.needs_input_grad[2] else None
        grad_drive = adjoint.mul_(alpha)  # dL/ddrive_t = alpha a_{t+1}
        grad_gate = grad_drive * slope
        n = states.shape[-1]
        flat_rates = rates[:-1].reshape(-1, n).T
        grad_w_t = (
            flat_rates @ (grad_drive * gates).reshape(-1, n) if ctx.needs_input_grad[3] else None
        )
        grad_wg_t = flat_rates @ grad_gate.reshape(-1, n) if ctx.needs_input_grad[4] else None
        grad_keep = grad_value = None
        if ctx.needs_input_grad[7] or ctx.needs_input_grad[8]:  # differentiable interventions
            total = torch.zeros_like(rates)  # dL/dr_t, t = 0..T: current, gate and directly
            torch.addmm(
                grad_gate.reshape(-1, n) @ wg_t.T,
                (grad_drive * gates).reshape(-1, n),
                w_t.T,
                out=total[:-1].view(-1, n),
            )
            grad_keep, grad_value = edit_grads(total, grad_rates, raw, *ctx.needs_input_grad[7:9])
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
    drive, gate_drive, x0, w_t, wg_t, alpha, activation, keep=None, value=None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Euler-integrate the gated leaky RNN; drive, gate_drive: [T, B, N]; x0: [B, N];
    w_t, wg_t: [N, N] transposed recurrent and gate weights (pre, post); alpha: a number or
    per unit [N]; activation: a rate function or its name. Returns
    ``(states, rates)``, both [T, B, N], as ``leaky_scan``.

    keep, value: [T + 1, N] or None, an intervention on the rates as in ``leaky_scan``."""
    x0 = x0.expand_as(drive[0]).contiguous()
    f = as_rate_function(activation)
    return _GatedScan.apply(drive, gate_drive, x0, w_t, wg_t, alpha, f, keep, value)
