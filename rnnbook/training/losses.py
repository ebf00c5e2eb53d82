"""Masked losses. Only the steps (and channels) the task's mask weights count."""

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


def class_centroids(states: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """[n_classes, N] mean state of each class present in ``labels`` (in increasing label order).

    states: [B, N] (e.g. the rates at the last time step); labels: [B] class indices.
    """
    classes, index = torch.unique(labels, return_inverse=True)
    sums = states.new_zeros(len(classes), states.shape[-1]).index_add_(0, index, states)
    counts = torch.bincount(index, minlength=len(classes)).to(states.dtype)
    return sums / counts[:, None]


def centroid_margin_penalty(
    states: torch.Tensor, labels: torch.Tensor, margin: float
) -> torch.Tensor:
    """Adaptive contrastive gating's separation term: ReLU(margin - ||mu_0 - mu_1||).

    The class centroids ``mu_k`` of ``states [B, N]`` are pushed at least ``margin`` apart;
    with more than two classes present, the mean over all pairs. Zero when fewer than two
    classes are in the batch.
    """
    centroids = class_centroids(states, labels)
    if len(centroids) < 2:
        return states.sum() * 0.0
    distances = torch.pdist(centroids)
    return torch.relu(margin - distances).mean()


LOSSES = {"cross_entropy": masked_cross_entropy, "mse": masked_mse}
