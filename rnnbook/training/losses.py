"""Masked losses (registry ``LOSSES``). Only the steps (and channels) the task's mask weights
count."""

from __future__ import annotations

import torch
from torch.nn import functional as F


def masked_cross_entropy(
    outputs: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor
) -> torch.Tensor:
    """Mean cross-entropy over masked steps.

    outputs: [B, T, n_out] logits; targets: [B, T] class indices; mask: [B, T] weights.
    """
    per_step = F.cross_entropy(outputs.transpose(1, 2), targets, reduction="none")  # [B, T]
    return (per_step * mask).sum() / mask.sum().clamp_min(1e-12)


def masked_mse(outputs: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean squared error over masked entries.

    outputs, targets: [B, T, n_out]; mask: [B, T] (broadcast over channels) or [B, T, n_out].
    """
    if mask.dim() == outputs.dim() - 1:
        mask = mask[..., None].expand_as(outputs)
    return (mask * (outputs - targets) ** 2).sum() / mask.sum().clamp_min(1e-12)


LOSSES = {"cross_entropy": masked_cross_entropy, "mse": masked_mse}
