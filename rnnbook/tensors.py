"""Small tensor helpers shared by training and analysis (which never import each other)."""

from __future__ import annotations

import torch


def class_centroids(states: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """[n_classes, N] mean state of each class present in ``labels`` (in increasing label order).

    states: [B, N] (e.g. the rates at the last time step); labels: [B] class indices.
    """
    classes, index = torch.unique(labels, return_inverse=True)
    sums = states.new_zeros(len(classes), states.shape[-1]).index_add_(0, index, states)
    counts = torch.bincount(index, minlength=len(classes)).to(states.dtype)
    return sums / counts[:, None]
