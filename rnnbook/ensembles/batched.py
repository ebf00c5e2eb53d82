"""The batched math of a stack of K rate RNNs: forward pass, per-member clipping and Adam.

Every tensor has the member axis first (``[K, ...]``). Each function does for every member
what the single-network code does for one: ``RateRNN.forward`` without its noise draws (the
noise comes in as data, drawn per member, see ``stacked.py``), ``clip_grad_norm_`` and
``torch.optim.Adam`` (its single-tensor update, with each member's own lr and weight decay).
"""

from __future__ import annotations

import torch
from torch import nn

from rnnbook.models.scan import leaky_scan

_ACTIVATIONS = {"relu": torch.relu, "tanh": torch.tanh, "softplus": nn.functional.softplus}
_BETA1, _BETA2, _EPS = 0.9, 0.999, 1e-8  # torch.optim.Adam's defaults, as train() uses them


class EffectiveWeights(nn.Module):
    """A RateRNN's effective weights as a forward pass, so ``vmap`` computes them for K members
    (Dale signs, masks and fixed weights included, by the model's own modules)."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self) -> tuple[torch.Tensor, ...]:
        m = self.model
        return (
            m.input.effective_weight(),  # [n_rec, n_in]
            m.recurrence.effective_weight(),  # [n_rec, n_rec] (post, pre)
            m.readout.effective_weight(),  # [n_out, n_rec]
            m.bias,  # [n_rec]
            m.readout_bias,  # [n_out]
        )


def forward(weights, inputs, rec_noise, noise_scale, alpha, activation: str) -> torch.Tensor:
    """Outputs [K, B, T, n_out] of K networks from x0 = 0.

    weights: ``EffectiveWeights`` stacked over K; inputs: [K, B, T, n_in] (input noise added);
    rec_noise: unit normals [K, T, B, n_rec] and noise_scale [K], or both None; alpha: [K, 1, 1].

    At small N a stack is bound by memory traffic over [K, T, B, N] tensors, not by arithmetic,
    so they all stay member-major (each member's block contiguous): the input drive is one
    matmul per member, which the scan reads step by step as a time-major view, writing its
    states and rates in the same layout; the readout is then one matmul per member, in place.
    """
    w_in, w_rec, w_out, bias, readout_bias = weights
    k, b, t, n_in = inputs.shape
    n = w_rec.shape[-1]
    u = inputs.transpose(1, 2).reshape(k, t * b, n_in)  # [K, T*B, n_in], time-major per member
    drive = torch.baddbmm(bias[:, None], u, w_in.transpose(1, 2)).view(k, t, b, n)
    if rec_noise is not None:
        drive = torch.addcmul(drive, rec_noise, noise_scale.view(k, 1, 1, 1))
    drive = drive.transpose(0, 1)  # [T, K, B, N], a view
    x = inputs.new_zeros(k, b, n)
    w_t = w_rec.transpose(1, 2)
    if bool((alpha == alpha.flatten()[0]).all()):  # one alpha: the hand-written backward
        _, rates = leaky_scan(drive, x, w_t, float(alpha.flatten()[0]), activation)
    else:
        act, states = _ACTIVATIONS[activation], []
        for drive_t in drive.unbind(0):  # each [K, B, N]
            x = torch.lerp(x, torch.baddbmm(drive_t, act(x), w_t), alpha)
            states.append(x)
        rates = act(torch.stack(states))  # [T, K, B, N]
    per_member = rates.transpose(0, 1).reshape(k, t * b, n)  # a view: the scan kept the layout
    outputs = torch.baddbmm(readout_bias[:, None], per_member, w_out.transpose(1, 2))
    return outputs.view(k, t, b, -1).transpose(1, 2)  # [K, B, T, n_out]


def _per_member(values: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """[K] -> [K, 1, ...] broadcasting against ``like`` [K, ...]."""
    return values.view(-1, *([1] * (like.dim() - 1)))


@torch.no_grad()
def clip_grad_norms(params: list[torch.Tensor], max_norms: torch.Tensor) -> torch.Tensor:
    """Each member's gradient norm [K] before clipping; scales each member's gradients as
    ``clip_grad_norm_(its params, max_norm)`` would (``max_norms`` [K], inf for no clipping)."""
    norms = torch.stack([torch.linalg.vector_norm(p.grad.flatten(1), dim=1) for p in params])
    total = torch.linalg.vector_norm(norms, dim=0)  # [K]
    coef = (max_norms / (total + 1e-6)).clamp(max=1.0)
    for p in params:
        p.grad.mul_(_per_member(coef, p.grad))
    return total


class MemberAdam:
    """``torch.optim.Adam`` for stacked parameters [K, ...]: each member with its own lr and
    weight decay, and only the members in ``active`` updated (the others stay as they are)."""

    def __init__(self, params: list[torch.Tensor], lr: list[float], weight_decay: list[float]):
        self.params, self.lr, self.step_count = params, lr, 0
        self.weight_decay = torch.tensor(weight_decay, device=params[0].device)
        self.decays = any(w != 0 for w in weight_decay)
        self.exp_avg = [torch.zeros_like(p) for p in params]
        self.exp_avg_sq = [torch.zeros_like(p) for p in params]

    @torch.no_grad()
    def step(self, active: list[bool]) -> None:
        self.step_count += 1
        bias_correction1 = 1 - _BETA1**self.step_count
        bias_correction2_sqrt = (1 - _BETA2**self.step_count) ** 0.5
        neg_step = [
            -lr / bias_correction1 if on else 0.0 for lr, on in zip(self.lr, active, strict=True)
        ]
        like = self.params[0]
        neg_step = torch.tensor(neg_step, dtype=like.dtype, device=like.device)
        keep = torch.tensor(active, device=like.device)
        for p, exp_avg, exp_avg_sq in zip(self.params, self.exp_avg, self.exp_avg_sq, strict=True):
            grad = p.grad
            if self.decays:
                grad = grad + _per_member(self.weight_decay, p) * p
            if not all(active):  # a failed member's gradient may be NaN: keep it out of the state
                grad = torch.where(_per_member(keep, grad), grad, 0.0)
            exp_avg.lerp_(grad, 1 - _BETA1)
            exp_avg_sq.mul_(_BETA2).addcmul_(grad, grad, value=1 - _BETA2)
            denom = (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(_EPS)
            p.add_(_per_member(neg_step, p) * exp_avg / denom)  # = addcdiv_(value=-step)
