"""The leaky Euler scan with a hand-written backward pass through time.

    r_t = f(x_t),   x_{t+1} = lerp(x_t, r_t @ w_t + drive_t, alpha)
    states[t] = x_{t+1},   rates[t] = r_{t+1} = f(states[t])

Autograd records about eight small ops per time step and replays them one by one. This
backward runs three or four small ones per step on data still in cache (the matmul, f' from
the rates kept by the forward pass, the leak and one fused multiply-add), carrying the
gradient already scaled as the drive's, and computes the recurrent weight gradient for all
steps in one large matmul at the end.

The scan returns the rates it computed anyway, so the model needs no second pass of ``f`` over
[T, B, N] (nor autograd one of f' backwards): a gradient on them enters the backward pass as
the bias of the per-step matmul, at no extra op.

``alpha`` is a number, or a tensor broadcasting against the states (per-unit time constants:
``[N]``; a stack: ``[K, 1, 1]`` or ``[K, 1, N]``), in the same Euler step. The rate function is
a ``models.rates`` object (or its registered name).
"""

from __future__ import annotations

import torch

from rnnbook.models.rates import as_rate_function

_BULK = 1 << 23  # up to this many state entries, f' is computed for all steps in one op


def rate_step(f, x, out, raw, keep, value):
    """``r_t`` into ``out``: f(x_t), or ``keep_t * f(x_t) + value_t`` under an intervention
    (then f(x_t) itself goes into ``raw``). ``f`` is a rate function object."""
    if keep is None:
        return f.into(x, out)
    return torch.addcmul(value, f.into(x, raw), keep, out=out)


def edit_at(raw, keep, value, t):
    """The intervention's (raw, keep, value) rows of step ``t``; all None without one."""
    if keep is None:
        return None, None, None
    return raw[t], keep[t], value[t]


def laid_out_as(grad: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """``grad`` in the memory layout of ``like`` (copied only if it is not)."""
    return grad if grad.stride() == like.stride() else torch.empty_like(like).copy_(grad)


def complement(alpha):
    """1 - alpha; for a tensor computed in float64 and rounded once, as for a number."""
    if isinstance(alpha, torch.Tensor):
        return (1 - alpha.double()).to(alpha.dtype)
    return 1 - alpha


def scaled_add(y: torch.Tensor, x: torch.Tensor, scale) -> torch.Tensor:
    """y + scale * x, for a number or a tensor ``scale`` (per-unit alpha)."""
    if isinstance(scale, torch.Tensor):
        return torch.addcmul(y, x, scale)
    return torch.add(y, x, alpha=scale)


def edit_grads(total, grad_rates, raw, needs_keep: bool, needs_value: bool):
    """The gradients of an intervention's ``keep`` and ``value`` [T + 1, N] from ``total``, the
    gradient of r_0 .. r_T through the recurrence [T + 1, B, N], plus the rates' own gradient."""
    if grad_rates is not None:
        total[1:] += grad_rates
    grad_value = total.sum(1) if needs_value else None
    grad_keep = (total * raw).sum(1) if needs_keep else None
    return grad_keep, grad_value


class _LeakyScan(torch.autograd.Function):
    @staticmethod
    def forward(ctx, drive, x0, w_t, alpha, f, keep=None, value=None):
        n_steps = drive.shape[0]
        states = torch.empty_like(drive)  # [T, B, N]: x_{t+1}, laid out as the drive
        # [T + 1, B, N]: r_t = f(x_t), r_0 from x0; kept for the backward pass
        rates = _steps_like(drive, n_steps + 1)
        raw = None if keep is None else torch.empty_like(rates)  # f(x_t) before the intervention
        x = x0
        w_t = w_t.contiguous()  # a transposed view makes MKL's small GEMMs 1.4x slower (N=500)
        step = torch.addmm if w_t.dim() == 2 else torch.baddbmm  # stacked: w_t [K, N, N]
        drives, xs, rs = drive.unbind(0), states.unbind(0), rates.unbind(0)  # no indexing per step
        if keep is None:
            for t in range(n_steps):
                x = torch.lerp(x, step(drives[t], f.into(x, rs[t]), w_t), alpha, out=xs[t])
            f.into(x, rs[n_steps])
        else:
            for t in range(n_steps):
                r = rate_step(f, x, rs[t], *edit_at(raw, keep, value, t))
                x = torch.lerp(x, step(drives[t], r, w_t), alpha, out=xs[t])
            rate_step(f, x, rs[n_steps], *edit_at(raw, keep, value, n_steps))
        alpha_saved = alpha if isinstance(alpha, torch.Tensor) else None
        ctx.save_for_backward(x0, w_t, states, rates, raw, keep, alpha_saved)
        ctx.alpha, ctx.f = (None if alpha_saved is not None else alpha), f
        ctx.set_materialize_grads(False)  # an output no loss reads gets None, not a zero tensor
        return states, rates[1:]

    @staticmethod
    def backward(ctx, grad_states, grad_rates):
        x0, w_t, states, rates, raw, keep, alpha_saved = ctx.saved_tensors
        alpha = ctx.alpha if alpha_saved is None else alpha_saved
        n_steps, f = states.shape[0], ctx.f
        pre = rates if raw is None else raw  # f(x_t), t = 0..T
        # alpha W, alpha of the presynaptic unit (the one whose gradient each row gives)
        w_back = (w_t.transpose(-1, -2) * alpha).contiguous()  # [(K,) N_post, N_pre]
        # the direct gradients, per step (None: no loss reads them)
        g_s = None if grad_states is None else laid_out_as(grad_states, states).unbind(0)
        g_r = None if grad_rates is None else laid_out_as(grad_rates, states).unbind(0)
        grad_drive = torch.empty_like(states)
        outs = grad_drive.unbind(0)
        # f'(x_t) times the intervention's keep factor: dr_t/dx_t; small problems in one op,
        # large ones per step while the rates are in cache
        if rates.numel() <= _BULK or keep is not None:
            gains = f.derivative(pre)
            if keep is not None:
                gains.mul_(keep[:, None])
            gains = gains.unbind(0)
        else:
            gains = _PerStep(f, pre.unbind(0))
        # d_t = alpha dL/dx_t = dL/ddrive_{t-1}, carried backwards straight into grad_drive:
        #   d_t = (1 - alpha) d_{t+1} + f'(x_t) (d_{t+1} alpha W + alpha dL/dr_t) + alpha dL/dx_t
        decay = complement(alpha)
        d = outs[-1].copy_(g_s[-1]) if g_s is not None else outs[-1].zero_()
        if g_r is not None:  # rates[T - 1] = r_T depends on x_T directly
            d.addcmul_(g_r[-1], gains[n_steps])
        d.mul_(alpha)
        for t in range(n_steps - 1, 0, -1):
            carried = d * decay if g_s is None else scaled_add(d * decay, g_s[t - 1], alpha)
            back = d @ w_back if g_r is None else _matmul_add(g_r[t - 1], d, w_back, alpha)
            d = torch.addcmul(carried, back, gains[t], out=outs[t - 1])
        grad_x0 = None
        if ctx.needs_input_grad[1]:  # x_0 feeds the first step only through the leak and r_0
            grad_x0 = torch.addcmul(d * decay, d @ w_back, gains[0]).div_(alpha)
        r_fed = rates[:-1]  # r_0 .. r_{T-1}, the rates the recurrence used
        grad_w_t = None
        if ctx.needs_input_grad[2] and w_t.dim() == 2:
            n = states.shape[-1]
            grad_w_t = r_fed.reshape(-1, n).T @ grad_drive.reshape(-1, n)
        elif ctx.needs_input_grad[2]:  # stacked: sum over t of [K, N, B] @ [K, B, N]
            grad_w_t = _stacked_weight_grad(r_fed, grad_drive)
        grad_keep = grad_value = None
        if ctx.needs_input_grad[5] or ctx.needs_input_grad[6]:  # differentiable interventions
            total = torch.zeros_like(rates)  # dL/dr_t for t = 0..T: through W and directly
            torch.matmul(grad_drive, w_t.transpose(-1, -2), out=total[:-1])
            grad_keep, grad_value = edit_grads(total, grad_rates, raw, *ctx.needs_input_grad[5:7])
        return grad_drive, grad_x0, grad_w_t, None, None, grad_keep, grad_value


class _PerStep:
    """f'(x_t) computed when step t asks for it (``gains[t]``), while r_t is in cache."""

    def __init__(self, f, rates: tuple[torch.Tensor, ...]):
        self.f, self.rates = f, rates

    def __getitem__(self, t: int) -> torch.Tensor:
        return self.f.derivative(self.rates[t])


def _matmul_add(bias: torch.Tensor, a: torch.Tensor, w: torch.Tensor, scale) -> torch.Tensor:
    """scale * bias + a @ w, batched for stacked networks (scale: a number or a tensor)."""
    if isinstance(scale, torch.Tensor):
        bias, scale = bias * scale, 1.0
    if w.dim() == 2:
        return torch.addmm(bias, a, w, beta=scale)
    return torch.baddbmm(bias, a, w, beta=scale)


def _steps_like(drive: torch.Tensor, n_steps: int) -> torch.Tensor:
    """An empty [n_steps, ...] tensor laid out as ``drive``: time-major, or for a stack whose
    drive is a member-major [K, T, B, N] tensor seen as [T, K, B, N], member-major too."""
    if drive.dim() == 4 and drive.stride(1) > drive.stride(0):
        k, b, n = drive.shape[1:]
        return drive.new_empty((k, n_steps, b, n)).transpose(0, 1)
    return drive.new_empty((n_steps, *drive.shape[1:]))


def _stacked_weight_grad(rates: torch.Tensor, grad_drive: torch.Tensor) -> torch.Tensor:
    """sum_t rates[t, k].T @ grad_drive[t, k] for each member k: [T, K, B, N] -> [K, N, N].

    Member-major tensors are one matmul per member, read in place. Time-major ones, up to
    n = b, one [N, N] product per (t, k) read in place: less memory traffic than copying both
    member-major.
    """
    t, k, b, n = rates.shape
    member_major = rates.stride(1) > rates.stride(0) and grad_drive.stride(1) > grad_drive.stride(0)
    if n <= b and not member_major:
        pairs = (rates.reshape(t * k, b, n).transpose(1, 2), grad_drive.reshape(t * k, b, n))
        return torch.bmm(*pairs).view(t, k, n, n).sum(0)
    members = [x.transpose(0, 1).reshape(k, t * b, n) for x in (rates, grad_drive)]
    return members[0].transpose(1, 2) @ members[1]


def leaky_scan(
    drive: torch.Tensor,
    x0: torch.Tensor,
    w_t: torch.Tensor,
    alpha: float | torch.Tensor,
    activation,
    keep: torch.Tensor | None = None,
    value: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Euler-integrate the leaky RNN over ``drive [T, B, N]`` from ``x0 [B, N]``.

    w_t: [N, N] the transposed recurrent weight (pre, post); alpha: a number, or per unit [N];
    activation: a ``models.rates`` rate function or its registered name. Returns
    ``(states, rates)``, both [T, B, N]: ``states[t] = x_{t+1}`` and ``rates[t] = f(states[t])``.
    Stacked networks: drive [T, K, B, N], x0 [K, B, N], w_t [K, N, N], alpha a number or
    [K, 1, 1] or [K, 1, N].

    An intervention on the rates (``models.interventions``): ``r_t = keep[t] * f(x_t) +
    value[t]`` for t = 0..T (keep, value: [T + 1, N], both given or both None; not for stacked
    networks), both in what the recurrence feeds back and in the rates returned
    (``rates[t] = r_{t+1}``). Both may require grad (saliency).
    """
    x0 = x0.expand_as(drive[0]).contiguous()
    f = as_rate_function(activation)
    return _LeakyScan.apply(drive, x0, w_t, alpha, f, keep, value)
