"""Cross-entropy against soft targets: the task loss of seed 004's session tasks.

The session tasks (reversal learning, two-stage, probabilistic reward) give at each trial a
distribution over the actions (``target_kind = "values"``: [B, T, n_out], each step summing to
1); the network's logits are scored by the cross-entropy

    L = mean_{b, t} [ -sum_k target_k log softmax(logits)_k ]        (nats)

over the masked steps (seed 004's ``L_task``, its negative log-likelihood, NLL). With one-hot
targets it is the ordinary cross-entropy; a constant logit (equal probabilities) scores ln 2 on
any two-class target.
"""

from __future__ import annotations

import torch


def masked_soft_cross_entropy(
    outputs: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor
) -> torch.Tensor:
    """Mean soft-target cross-entropy (nats) over masked steps.

    outputs: [B, T, n_out] logits; targets: [B, T, n_out] probabilities (each step sums to 1);
    mask: [B, T] weights (a [B, T, n_out] mask is read on its first channel).
    """
    if mask.dim() == outputs.dim():
        mask = mask[..., 0]
    per_step = -(targets * torch.log_softmax(outputs, dim=-1)).sum(-1)  # [B, T]
    return (per_step * mask).sum() / mask.sum().clamp_min(1e-12)
