"""Optimisers (registry ``OPTIMIZERS``), chosen by ``TrainConfig.optimizer``.

An optimiser updates K networks at once: every tensor has the member axis first (``[K, ...]``;
a single network is K = 1), each member has its own learning rate and weight decay, and only
the members marked active are updated (a member that diverged keeps its parameters, and its
NaN gradient stays out of the optimiser's state). Single-network and many-network training
use the same code.

    optimizer = OPTIMIZERS["adam"](params, lr=[1e-3] * K, weight_decay=[0.0] * K)
    optimizer.step(grads, active=[True] * K)
"""

from __future__ import annotations

import torch


def per_member(values: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """[K] -> [K, 1, ...] broadcasting against ``like`` [K, ...]."""
    return values.view(-1, *([1] * (like.dim() - 1)))


class Adam:
    """Adam (Kingma & Ba 2015) as ``torch.optim.Adam`` computes it (L2 weight decay added to
    the gradient, bias-corrected moments, eps outside the square root), per member."""

    def __init__(self, params, *, lr, weight_decay, betas=(0.9, 0.999), eps=1e-8):
        self.params, self.lr, self.step_count = list(params), list(lr), 0
        self.beta1, self.beta2, self.eps = betas[0], betas[1], eps
        like = self.params[0]
        self.weight_decay = torch.tensor(weight_decay, dtype=like.dtype, device=like.device)
        self.decays = any(w != 0 for w in weight_decay)
        self.exp_avg = [torch.zeros_like(p) for p in self.params]
        self.exp_avg_sq = [torch.zeros_like(p) for p in self.params]

    @torch.no_grad()
    def step(self, grads: list[torch.Tensor], active: list[bool]) -> None:
        self.step_count += 1
        bias_correction1 = 1 - self.beta1**self.step_count
        bias_correction2_sqrt = (1 - self.beta2**self.step_count) ** 0.5
        like = self.params[0]
        steps = [
            -lr / bias_correction1 if on else 0.0 for lr, on in zip(self.lr, active, strict=True)
        ]
        neg_step = torch.tensor(steps, dtype=like.dtype, device=like.device)
        keep = torch.tensor(active, device=like.device)
        moments = zip(self.params, grads, self.exp_avg, self.exp_avg_sq, strict=True)
        for p, grad, exp_avg, exp_avg_sq in moments:
            if self.decays:
                grad = grad + per_member(self.weight_decay, p) * p
            if not all(active):  # a failed member's gradient may be NaN: keep it out of the state
                grad = torch.where(per_member(keep, grad), grad, 0.0)
            exp_avg.lerp_(grad, 1 - self.beta1)
            exp_avg_sq.mul_(self.beta2).addcmul_(grad, grad, value=1 - self.beta2)
            denom = (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(self.eps)
            p.add_(per_member(neg_step, p) * exp_avg / denom)


OPTIMIZERS = {"adam": Adam}
