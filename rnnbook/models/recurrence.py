"""Recurrent weight modules. Each exposes ``effective_weight() -> [n_rec, n_rec]`` (post, pre).

Raw parameters stay unconstrained; a constraint lives in how ``effective_weight`` maps them.
"""

from __future__ import annotations

import torch
from torch import nn

from rnnbook.models.init import gaussian, scale_to_radius


class DenseRecurrence(nn.Module):
    """Unconstrained recurrent weights, initialised Gaussian at a given spectral radius."""

    def __init__(self, n_rec: int, *, spectral_radius: float, generator: torch.Generator):
        super().__init__()
        w = gaussian(n_rec, n_rec, generator=generator)
        self.weight = nn.Parameter(scale_to_radius(w, spectral_radius))

    def effective_weight(self) -> torch.Tensor:
        return self.weight
