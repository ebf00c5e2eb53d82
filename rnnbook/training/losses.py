"""Masked losses (registry ``LOSSES``). Only the steps (and channels) the task's mask weights
count.

Each entry is a :class:`Loss`: the function and the kind of targets it needs (a key of
``rnnbook.tasks.base.TARGET_KINDS``), which ``train()`` checks against the task's declared
``target_kind``: ``cross_entropy`` needs class indices, ``mse`` regression values.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

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


@dataclass(frozen=True)
class Loss:
    """A registered loss: ``loss(outputs, targets, mask) -> scalar`` and the ``targets`` kind it
    needs (``"classes"``: [B, T] class indices; ``"values"``: [B, T, n_out])."""

    function: Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]
    targets: str

    def __call__(self, outputs: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor):
        return self.function(outputs, targets, mask)


LOSSES = {
    "cross_entropy": Loss(masked_cross_entropy, targets="classes"),
    "mse": Loss(masked_mse, targets="values"),
}


def losses_for(target_kind: str) -> tuple[str, ...]:
    """The names of the losses that fit targets of ``target_kind``."""
    return tuple(name for name, loss in LOSSES.items() if loss.targets == target_kind)
